/**
 * Order history on CRM Leads and HD Tickets (docs/architecture.md data flows 1–4; README "Order history").
 *
 * - `order_history.request` (realtime on Order Sync Request): a Queued request is marked Running,
 *   the history of its lead/ticket is rebuilt, and the request ends Done (`orders_synced`, "Synced 1 order") or
 *   Failed (the matching or permission message). Anything else about the request: nothing to do.
 * - `order_history.refresh` (realtime on Sales Order and Work Order): the leads/tickets whose table
 *   names the affected sales order each get one `order_history.rebuild` job, its id bucketed by the
 *   half second the event was heard in, so a burst of edits becomes one rebuild.
 * - `order_history.rebuild`: match, build, and replace `custom_order_history` with one PUT — none
 *   when the rows are already what is there.
 */
import { CompanionError, isPermanent, isRetriable, PermanentError } from '../../../lib/errors.js';
import { redactSecrets } from '../../../lib/log.js';
import { FrappeApiError } from '../../../lib/frappe/errors.js';
import type { FrappeDoc } from '../../../lib/frappe/types.js';
import type { HandlerContext, HandlerRegistry } from '../types.js';
import { jobHandler } from '../../jobs/runner.js';
import { buildHistory, distinctOrders, type HistoryRow } from './history.js';
import { TARGETS, writeHistory } from './table.js';
import { BULK_HANDLER, bulkHandler } from './bulk.js';
import { CRM_LEAD, HD_TICKET, hdCustomersOf, leadsOfCustomerDeals, matchLeadCustomer, matchTicketCustomer, type LeadLike, type TicketLike } from './match.js';

export const ORDER_SYNC_REQUEST = 'Order Sync Request';

export interface SyncResult {
  customer: string;
  rows: HistoryRow[];
  orders: number;
  written: boolean;
}

/**
 * Changes heard within one bucket become one rebuild, run just after the bucket closes (plus a grace
 * for events still being read). Half a second keeps bursts coalesced and leaves room, inside the
 * two seconds a user waits for an open form to show a change, for Frappe's own one-second debounce
 * before the form reloads (model.js `debounced_reload_doc`).
 */
export const REBUILD_BUCKET_MS = 500;
export const REBUILD_GRACE_MS = 100;

function bucketOf(heardAtMs: number): number {
  return Math.floor(heardAtMs / REBUILD_BUCKET_MS);
}

export function rebuildJobId(site: string, doctype: string, name: string, heardAtMs: number): string {
  return `order_history.rebuild|${site}|${doctype}|${name}|${bucketOf(heardAtMs)}`;
}

function isNotFound(err: unknown): boolean {
  return err instanceof FrappeApiError ? err.status === 404 : (err as { status?: number } | null)?.status === 404;
}

function shortReason(err: unknown): string {
  const msg = redactSecrets(err instanceof Error ? err.message : String(err));
  return msg.length > 300 ? `${msg.slice(0, 297)}...` : msg;
}

/**
 * The text a Failed request shows: the error's message only (never a stack), scrubbed of secrets
 * (log.ts `redactSecrets`; FrappeApiError messages are already HTML-stripped). A bug in the sidecar
 * says so instead of showing a bare `TypeError`; a transient error names the attempts spent.
 */
export function failureReason(err: unknown, attempts: number | null): string {
  const known = err instanceof CompanionError || isPermanent(err) || isRetriable(err);
  const base = known ? shortReason(err) : `unexpected error in the order companion service (${err instanceof Error ? err.name : 'error'}): ${shortReason(err)}`;
  return attempts === null ? base : `gave up after ${attempts} attempts: ${base}`;
}

/**
 * Match the customer, build its history, replace the table: at most six calls whatever the number
 * of orders (the lead; its deals if converted; contacts and their links, or customers by name; one
 * listing of orders with their lines; their Work Orders; one PUT, none if unchanged).
 */
export async function syncHistory(ctx: HandlerContext, doctype: string, name: string): Promise<SyncResult> {
  if (!TARGETS[doctype]) throw new PermanentError(`order history is kept on CRM Lead and HD Ticket, not ${doctype}`);
  return ctx.lock(`order_history|${doctype}|${name}`, async () => {
    const doc = await ctx.client.getDoc<Record<string, unknown>>(doctype, name, { signal: ctx.signal });
    const customer =
      doctype === CRM_LEAD
        ? await matchLeadCustomer(ctx, doc as unknown as LeadLike)
        : await matchTicketCustomer(ctx, doc as unknown as TicketLike);
    const rows = await buildHistory(ctx, customer);
    const written = await writeHistory(ctx, doctype, doc, rows);
    const orders = distinctOrders(rows);
    ctx.logger.info(
      { event: 'order_history_synced', doctype, name, customer, rows: rows.length, orders, written },
      `order history of ${doctype} ${name} (Customer ${customer}): ${orders} order(s), ${rows.length} line(s)${written ? '' : ', unchanged'}`,
    );
    return { customer, rows, orders, written };
  });
}

/** (parent DocType, name) of every lead/ticket whose history table names one of these orders. */
async function tablesShowing(ctx: HandlerContext, salesOrders: string[]): Promise<[string, string][]> {
  const found: [string, string][] = [];
  for (const [parent, child] of Object.entries(TARGETS)) {
    const rows = await ctx.client.getList<{ parent: string }>(child, {
      parent,
      fields: ['parent'],
      filters: salesOrders.length === 1 ? [['sales_order', '=', salesOrders[0]!]] : [['sales_order', 'in', salesOrders]],
      orderBy: 'parent asc',
      limitPageLength: 0,
      signal: ctx.signal,
    });
    for (const target of new Set(rows.map((r) => String(r.parent)))) found.push([parent, target]);
  }
  return found;
}

/** Histories of the customer a (new) submitted Sales Order belongs to. */
async function tablesOfCustomerOf(ctx: HandlerContext, salesOrder: string): Promise<[string, string][]> {
  const so = await ctx.client.getList<{ customer: string; docstatus: number }>('Sales Order', {
    fields: ['customer', 'docstatus'],
    filters: [['name', '=', salesOrder]],
    orderBy: 'name asc',
    limitPageLength: 1,
    signal: ctx.signal,
  });
  if (!so[0] || so[0].docstatus !== 1) return [];
  const customer = so[0].customer;
  const siblings = await ctx.client.getList<{ name: string }>('Sales Order', {
    filters: [
      ['customer', '=', customer],
      ['docstatus', '=', 1],
      ['name', '!=', salesOrder],
    ],
    orderBy: 'modified desc, name desc',
    limitPageLength: 50,
    signal: ctx.signal,
  });
  const found = siblings.length ? await tablesShowing(ctx, siblings.map((s) => s.name)) : [];
  const add = (parent: string, name: string) => {
    if (!found.some(([p, n]) => p === parent && n === name)) found.push([parent, name]);
  };
  // The explicit links matching starts from (match.ts), followed backwards: leads linked to the
  // customer or converted into a deal for it, and tickets of its HD Customers.
  const linked = await ctx.client.getList<{ name: string }>(CRM_LEAD, {
    filters: [['custom_customer', '=', customer]],
    orderBy: 'name asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  for (const lead of linked) add(CRM_LEAD, lead.name);
  // Through erpnext_customer, which a site may not have (match.ts).
  for (const lead of await leadsOfCustomerDeals(ctx, customer)) add(CRM_LEAD, lead);
  const hdCustomers = await hdCustomersOf(ctx, customer);
  if (hdCustomers.length) {
    const tickets = await ctx.client.getList<{ name: string | number }>(HD_TICKET, {
      filters: [['customer', 'in', hdCustomers]],
      orderBy: 'modified desc',
      limitPageLength: 50,
      signal: ctx.signal,
    });
    for (const t of tickets) add(HD_TICKET, String(t.name));
  }
  return found;
}

/**
 * How long a sync runs before its request is marked Running. Well inside the forms' 15 s wait for
 * a Queued request (desk/order_history/request.ts), so a long sync is never taken for a dead service.
 */
export const RUNNING_MARK_AFTER_MS = 2000;

/**
 * `mark` run once `afterMs` has passed, unless settled first. `settle` stops the timer and waits for
 * a mark already sent, so nothing written after it can be overtaken by the mark; a failed mark is
 * thrown there — the site refusing this request's saves fails the request like any other error.
 */
function lateMark(mark: () => Promise<unknown>, afterMs: number): { settle(): Promise<void> } {
  let sent: Promise<unknown> | null = null;
  const timer = setTimeout(() => {
    sent = mark();
    sent.catch(() => undefined); // observed in settle
  }, afterMs);
  return {
    async settle() {
      clearTimeout(timer);
      if (sent) await sent;
    },
  };
}

export function createOrderHistoryHandlers(): HandlerRegistry {
  return {
    [BULK_HANDLER]: bulkHandler,
    'order_history.request': jobHandler('order_history.request', async (ctx, { name }) => {
      let req: FrappeDoc<{ status?: string; reference_doctype?: string; reference_name?: string }>;
      try {
        req = await ctx.client.getDoc(ORDER_SYNC_REQUEST, name, { signal: ctx.signal });
      } catch (err) {
        if (isNotFound(err)) return void ctx.logger.debug({ name }, `Order Sync Request ${name} is gone; nothing to do`);
        throw err;
      }
      // Queued: ours to run. Running on a retry of this job: we marked it and failed mid-way.
      const resumable = req.status === 'Queued' || (req.status === 'Running' && ctx.attempt > 1);
      if (!resumable) return void ctx.logger.debug({ name, status: req.status }, `Order Sync Request ${name} is ${req.status}; nothing to do`);
      const finish = (patch: Record<string, unknown>) => ctx.client.update(ORDER_SYNC_REQUEST, name, patch, { signal: ctx.signal });
      // Running is written only for a sync still going after RUNNING_MARK_AFTER_MS: the form then
      // waits longer before it says the service is not responding; a quick sync goes straight to
      // Done, one save (and the realtime events it causes) fewer.
      const running = req.status === 'Running' ? null : lateMark(() => finish({ status: 'Running' }), RUNNING_MARK_AFTER_MS);
      try {
        const res = await syncHistory(ctx, String(req.reference_doctype), String(req.reference_name)).then(
          async (r) => (await running?.settle(), r),
          async (err: unknown) => {
            await running?.settle().catch(() => undefined); // the sync's own error is the one to report
            throw err;
          },
        );
        // The forms word what the user reads from orders_synced (desk/order_history/messages.ts
        // syncedText, translatable); `message` is an English line for logs and the list view.
        await finish({ status: 'Done', rows_synced: res.rows.length, orders_synced: res.orders, message: `Synced ${res.orders} ${res.orders === 1 ? 'order' : 'orders'}` });
      } catch (err) {
        // Whatever ends this job for good — a permanent error, the last attempt of a transient one,
        // or an unexpected exception on its last attempt — ends the request Failed with the reason,
        // so the form shows the failure instead of waiting for a service that already answered.
        const permanent = isPermanent(err);
        if (!permanent && ctx.attempt < ctx.job.maxAttempts) throw err;
        const reason = failureReason(err, permanent ? null : ctx.attempt);
        try {
          await finish({ status: 'Failed', rows_synced: 0, orders_synced: 0, message: reason });
        } catch (markErr) {
          ctx.logger.warn({ name, reason, error: shortReason(markErr) }, `Order Sync Request ${name} could not be marked Failed: ${shortReason(markErr)}`);
          throw err;
        }
        ctx.logger.info({ name, reason }, `Order Sync Request ${name} failed: ${reason}`);
        // Marked: a permanent failure is finished work; a transient one still dead-letters for the operator.
        if (!permanent) throw err;
      }
    }),

    'order_history.refresh': jobHandler('order_history.refresh', async (ctx, { doctype, name, heardAtMs: heard }) => {
      let salesOrders: string[];
      if (doctype === 'Sales Order') salesOrders = [name];
      else {
        const rows = await ctx.client.getList<{ sales_order?: string | null }>('Work Order', {
          fields: ['name', 'sales_order'],
          filters: [['name', '=', name]],
          orderBy: 'name asc',
          limitPageLength: 1,
          signal: ctx.signal,
        });
        salesOrders = rows[0]?.sales_order ? [String(rows[0].sales_order)] : [];
      }
      if (!salesOrders.length) return;
      const bucketAt = Number.isFinite(heard) ? heard : Date.now();
      let targets = await tablesShowing(ctx, salesOrders);
      // A new order is in no table yet: the histories to refresh are those already showing its
      // customer's other orders, and leads linked to the customer explicitly.
      if (!targets.length && doctype === 'Sales Order') targets = await tablesOfCustomerOf(ctx, name);
      let queued = 0;
      for (const [parent, target] of targets) {
        const added = await ctx.enqueue({
          id: rebuildJobId(ctx.site, parent, target, bucketAt),
          name: 'order_history.rebuild',
          site: ctx.site,
          data: { doctype: parent, name: target, cause: `${doctype} ${name}` },
          // After the bucket closes (plus a grace for events still being read): every change heard
          // in it is then visible to the one rebuild its id stands for.
          runAtMs: (bucketOf(bucketAt) + 1) * REBUILD_BUCKET_MS + REBUILD_GRACE_MS,
        });
        if (added) queued += 1;
      }
      if (queued) ctx.logger.info({ doctype, name, queued }, `${doctype} ${name} changed: ${queued} order history rebuild(s) queued`);
    }),

    'order_history.rebuild': jobHandler('order_history.rebuild', async (ctx, { doctype, name }) => {
      try {
        await syncHistory(ctx, doctype, name);
      } catch (err) {
        if (isNotFound(err)) return void ctx.logger.info({ doctype, name }, `${doctype} ${name} is gone; no history to rebuild`);
        // No (or no single) customer any more: nothing to refresh; a Fetch reports it to the user.
        if (isPermanent(err)) return void ctx.logger.warn({ doctype, name, reason: shortReason(err) }, `order history of ${doctype} ${name} not rebuilt: ${shortReason(err)}`);
        throw err;
      }
    }),
  };
}
