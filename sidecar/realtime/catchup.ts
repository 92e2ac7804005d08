/**
 * Catch-up: Frappe's realtime does not replay what a disconnected client missed
 * (frappe-platform.md §1.7), so after every (re)connect and on a slow timer the sidecar lists what
 * changed since its watermark and feeds it to the same dispatch as realtime events.
 *
 * The watermark is the `modified` of the last version processed, persisted per site and DocType.
 * Listing is `modified >= watermark` ordered by `modified asc, name asc` (always explicit: v15 applies
 * no order without one), paged by moving the watermark forward and skipping the rows already seen at
 * an equal `modified` — so documents changed during a pass are not skipped, and versions seen twice
 * collapse by job id downstream.
 */
import type { FrappeClient } from '../frappe/client.js';
import type { Logger } from '../log.js';

export interface CatchupOptions {
  site: string;
  doctype: string;
  client: FrappeClient;
  logger: Logger;
  getWatermark: () => Promise<string | null>;
  setWatermark: (modified: string) => Promise<void>;
  /** Called for each changed document, in `modified` order; must durably enqueue before returning. */
  onVersion: (name: string, modified: string) => Promise<void>;
  /** @defaultValue 500 */
  pageSize?: number;
}

export interface CatchupResult {
  documents: number;
  pages: number;
  watermark: string | null;
}

/** Frappe's own fallback for an unset datetime (db_query.py `ifnull` fallback). */
export const EPOCH = '0001-01-01 00:00:00';

interface Row {
  name: string;
  modified: string;
}

/**
 * With no watermark yet (first start), begin at the newest `modified` now: the sidecar handles
 * changes from the moment it is installed, not the site's whole history. Null when there are none.
 */
export async function initialWatermark(client: FrappeClient, doctype: string): Promise<string | null> {
  const rows = await client.getList<Row>(doctype, { fields: ['name', 'modified'], orderBy: 'modified desc, name desc', limitPageLength: 1 });
  return rows[0]?.modified ?? null;
}

export async function catchUp(opts: CatchupOptions): Promise<CatchupResult> {
  const pageSize = opts.pageSize ?? 500;
  const stored = await opts.getWatermark();
  if (stored === null) {
    // An empty DocType starts from the beginning of time, so its first documents are not skipped.
    const first = (await initialWatermark(opts.client, opts.doctype)) ?? EPOCH;
    await opts.setWatermark(first);
    return { documents: 0, pages: 1, watermark: first };
  }
  let watermark: string = stored;
  let documents = 0;
  let pages = 0;
  // Rows at exactly `watermark` already handled in this pass (or the last one) are skipped by offset.
  let offsetAtWatermark = 0;
  for (;;) {
    const rows: Row[] = await opts.client.getList<Row>(opts.doctype, {
      fields: ['name', 'modified'],
      filters: [['modified', '>=', watermark]],
      orderBy: 'modified asc, name asc',
      limitStart: offsetAtWatermark,
      limitPageLength: pageSize,
    });
    pages += 1;
    for (const row of rows) {
      await opts.onVersion(row.name, row.modified);
      documents += 1;
    }
    if (!rows.length) break;
    const last: string = rows[rows.length - 1].modified;
    if (last === watermark) offsetAtWatermark += rows.length;
    else {
      offsetAtWatermark = rows.filter((r) => r.modified === last).length;
      watermark = last;
    }
    await opts.setWatermark(watermark);
    if (rows.length < pageSize) break;
  }
  if (documents) opts.logger.info({ site: opts.site, doctype: opts.doctype, documents, pages }, `caught up ${documents} change(s) to ${opts.doctype} on ${opts.site}`);
  return { documents, pages, watermark };
}
