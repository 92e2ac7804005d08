/**
 * Catch-up: Frappe's realtime does not replay what a disconnected client missed
 * (frappe/realtime.py emit_via_redis: Redis pub/sub, nothing kept per socket), so after every (re)connect and on a slow timer the sidecar lists what
 * changed since its watermark and feeds it to the same dispatch as realtime events.
 *
 * The watermark is the `(modified, name)` of the last version processed, persisted per site and
 * DocType; listing continues strictly after it, ordered by `modified asc, name asc` (always explicit:
 * v15 applies no order without one). Versions heard both ways collapse by job id downstream.
 * Known limit: a transaction committing after a newer row was already listed carries an older
 * `modified` and is only seen if realtime delivered it; so is a wall-clock hour repeated at a DST
 * fall-back.
 */
import type { FrappeClient } from '../../lib/frappe/client.js';
import type { Logger } from '../../lib/log.js';

export interface CatchupOptions {
  site: string;
  doctype: string;
  client: FrappeClient;
  logger: Logger;
  getWatermark: () => Promise<string | null>;
  setWatermark: (modified: string) => Promise<void>;
  /** Called for each changed document, in `modified` order; must durably enqueue before returning. */
  onVersion?: (name: string, modified: string) => Promise<void>;
  /**
   * Called instead of `onVersion` with each listed page, in `modified` order; must durably enqueue
   * the whole page before returning (one store batch), since the watermark moves past it next.
   */
  onPage?: (versions: Version[]) => Promise<void>;
  /** @defaultValue 500 */
  pageSize?: number;
  /** Checked between pages: a shutdown ends the pass early (the watermark keeps its place). */
  shouldStop?: () => boolean;
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

/** One listed version: a document's name and its `modified`. */
export interface Version {
  name: string;
  modified: string;
}

/** The watermark: the last version processed, `(modified, name)`, so ties on `modified` page exactly. */
export interface Cursor {
  modified: string;
  name: string;
}

export function parseCursor(text: string): Cursor {
  if (text.startsWith('{')) return JSON.parse(text) as Cursor;
  return { modified: text, name: '' }; // an older plain-`modified` watermark
}

export async function catchUp(opts: CatchupOptions): Promise<CatchupResult> {
  const pageSize = opts.pageSize ?? 500;
  const { onVersion } = opts;
  const onPage =
    opts.onPage ??
    (onVersion
      ? async (versions: Version[]) => {
          for (const v of versions) await onVersion(v.name, v.modified);
        }
      : null);
  if (!onPage) throw new Error('catchUp: onPage or onVersion is required');
  const stored = await opts.getWatermark();
  if (stored === null) {
    // First start: from the newest version now (an empty DocType starts from the beginning of
    // time, so its first documents are not skipped).
    const rows = await opts.client.getList<Row>(opts.doctype, { fields: ['name', 'modified'], orderBy: 'modified desc, name desc', limitPageLength: 1 });
    const first: Cursor = rows[0] ? { modified: rows[0].modified, name: String(rows[0].name) } : { modified: EPOCH, name: '' };
    await opts.setWatermark(JSON.stringify(first));
    return { documents: 0, pages: 1, watermark: first.modified };
  }
  let cursor = parseCursor(stored);
  let documents = 0;
  let pages = 0;
  for (;;) {
    // Keyset paging: modified > c.modified OR (modified = c.modified AND name > c.name), written
    // as `modified >= c.modified` AND (`modified > c.modified` OR `name > c.name`) — Frappe ANDs
    // filters with the OR of or_filters. No offsets, so rows saved during the pass cannot shift a
    // page and make us skip one.
    const rows: Row[] = await opts.client.getList<Row>(opts.doctype, {
      fields: ['name', 'modified'],
      filters: [['modified', '>=', cursor.modified]],
      orFilters: [
        ['modified', '>', cursor.modified],
        ['name', '>', cursor.name],
      ],
      orderBy: 'modified asc, name asc',
      limitPageLength: pageSize,
    });
    pages += 1;
    if (!rows.length) break;
    // The page is durable in the job store before the watermark moves past it: a crash in between
    // lists it again, and its job ids (sidecar/realtime/dispatch.ts) collapse what was already added.
    await onPage(rows.map((row) => ({ name: String(row.name), modified: row.modified })));
    documents += rows.length;
    const last = rows[rows.length - 1];
    cursor = { modified: last.modified, name: String(last.name) };
    await opts.setWatermark(JSON.stringify(cursor));
    if (rows.length < pageSize || opts.shouldStop?.()) break;
  }
  if (documents) opts.logger.info({ site: opts.site, doctype: opts.doctype, documents, pages }, `caught up ${documents} change(s) to ${opts.doctype} on ${opts.site}`);
  return { documents, pages, watermark: cursor.modified };
}
