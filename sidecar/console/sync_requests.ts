/**
 * The Order history view's Order Sync Requests: per site the most recent ones (doctypes/
 * order_sync_request — what a desk user's *Fetch Order History* inserts), read over REST with the
 * sidecar's own client for that site in one listing. The page reads the view again after every
 * order_history.* job event, so each site's answer is kept for a short while (10 s): a burst of
 * events costs the site one listing, not one per reload. A request job that finishes on the site
 * (`order_history.request`) has just changed a request, so it ends that site's wait early.
 */
import type { EventEmitter } from 'node:events';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { redactSecrets } from '../../lib/log.js';
import type { OrderSyncRequestView, SiteSyncRequests } from '../../lib/api/views.js';
import type { JobRecord } from '../jobs/types.js';

export const ORDER_SYNC_REQUEST = 'Order Sync Request';
/** Requests listed per site: the newest first. */
export const REQUESTS_LISTED = 50;
/** How long a site's listing is shown before the site is asked again. */
export const REQUESTS_CACHE_MS = 10_000;

const FIELDS = ['name', 'status', 'reference_doctype', 'reference_name', 'creation', 'modified', 'message', 'orders_synced'] as const;
const FINISHED = new Set(['Done', 'Failed']);

type Row = Partial<Record<(typeof FIELDS)[number], unknown>>;

/** Naive `YYYY-MM-DD HH:MM:SS[.ffffff]` (the site's wall clock) → ms, for differences of two such values only. */
function wallMs(value: unknown): number {
  return Date.parse(`${String(value).replace(' ', 'T').slice(0, 23)}Z`);
}

const text = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : String(v));

export function requestView(r: Row): OrderSyncRequestView {
  const status = String(r.status ?? '');
  const took = wallMs(r.modified) - wallMs(r.creation);
  return {
    name: String(r.name),
    status,
    referenceDoctype: String(r.reference_doctype ?? ''),
    referenceName: String(r.reference_name ?? ''),
    creation: String(r.creation ?? ''),
    modified: String(r.modified ?? ''),
    durationMs: FINISHED.has(status) && Number.isFinite(took) ? Math.max(0, took) : null,
    message: text(r.message),
    ordersSynced: typeof r.orders_synced === 'number' ? r.orders_synced : null,
  };
}

export interface SyncRequestReaderOptions {
  sites: { name: string; url: string }[];
  /** The runtime's REST client for a site (sidecar/site/site.ts). */
  clientFor: (site: string) => FrappeClient | undefined;
  /** The runtime's events: a finished `order_history.request` job ends its site's cache. */
  events?: EventEmitter;
  /** @defaultValue {@link REQUESTS_CACHE_MS} */
  cacheMs?: number;
  now?: () => number;
}

export type SyncRequestReader = (site: string) => Promise<SiteSyncRequests>;

export function createSyncRequestReader(opts: SyncRequestReaderOptions): SyncRequestReader {
  const cacheMs = opts.cacheMs ?? REQUESTS_CACHE_MS;
  const now = opts.now ?? Date.now;
  // The answer (or the listing in flight, shared by concurrent reloads) and when it was asked for.
  const cache = new Map<string, { atMs: number; answer: Promise<SiteSyncRequests> }>();
  opts.events?.on('job', (job: JobRecord, outcome: string) => {
    if (job.name === 'order_history.request' && outcome !== 'retried') cache.delete(job.site);
  });

  async function read(site: string, url: string): Promise<SiteSyncRequests> {
    const client = opts.clientFor(site);
    const readAt = new Date(now()).toISOString();
    if (!client) return { site, url, requests: [], error: 'this sidecar has no REST client for the site', readAt: null };
    try {
      const rows = await client.getList<Row>(ORDER_SYNC_REQUEST, { fields: [...FIELDS], orderBy: 'creation desc', limitPageLength: REQUESTS_LISTED });
      return { site, url, requests: rows.map(requestView), error: null, readAt };
    } catch (err) {
      // A failed read is shown as such, and kept as long as an answer is: a site that is down is not asked on every reload.
      return { site, url, requests: [], error: redactSecrets(err instanceof Error ? err.message : String(err)), readAt };
    }
  }

  return (site) => {
    const url = opts.sites.find((s) => s.name === site)?.url ?? '';
    const hit = cache.get(site);
    if (hit && now() - hit.atMs < cacheMs) return hit.answer;
    const answer = read(site, url);
    cache.set(site, { atMs: now(), answer });
    return answer;
  };
}
