/** The records this product puts into a site: shared with the sidecar's records check, so they live in lib/site/records.ts. */
export * from '../../lib/site/records.js';
