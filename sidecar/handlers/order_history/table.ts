/**
 * The order-history tables: which child DocType holds each parent's rows, and the one way a table is
 * replaced (a Fetch, a rebuild and a bulk sync all write through writeHistory).
 */
import type { FrappeDoc } from '../../../lib/frappe/types.js';
import type { HandlerContext } from '../types.js';
import { sameRows, type HistoryRow } from './history.js';
import { CRM_LEAD, HD_TICKET } from './match.js';

/** Parent DocType → its table's child DocType (doctypes/crm_lead_order_item, doctypes/hd_ticket_order_item). */
export const TARGETS: Record<string, string> = { [CRM_LEAD]: 'CRM Lead Order Item', [HD_TICKET]: 'HD Ticket Order Item' };

/**
 * Replace the table of `doc` (as just read) by `rows`: one PUT with the `modified` read, none when
 * the rows are already there. Someone saving in between costs a re-read and a second try
 * (check_if_latest, frappe/model/document.py). True when written.
 */
export async function writeHistory(ctx: Pick<HandlerContext, 'client' | 'signal'>, doctype: string, doc: FrappeDoc<Record<string, unknown>>, rows: HistoryRow[]): Promise<boolean> {
  if (sameRows(doc.custom_order_history, rows)) return false;
  const saved = await ctx.client.saveWithLatest<Record<string, unknown>>(
    doctype,
    String(doc.name),
    (latest: FrappeDoc<Record<string, unknown>>) => (sameRows(latest.custom_order_history, rows) ? null : { custom_order_history: rows }),
    { signal: ctx.signal, read: doc },
  );
  return saved !== null;
}

