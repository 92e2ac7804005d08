/**
 * Order history in the two Vue UIs (Frappe CRM at /crm, the Helpdesk agent UI at /helpdesk): the
 * history as a dialog's HTML table, and the Fetch round trip. Neither UI has `frappe.realtime`, so
 * the Order Sync Request is followed by polling `frappe.client.get` with a growing interval, bounded
 * by the same queued / running limits as the desk's request.ts.
 *
 * Bundled into a form script that the loaders evaluate with `new Function`: no JS classes here (the
 * CRM loader takes every `class Name` in the script for a controller), and no desk globals.
 */
import type { HistoryRow } from '../../lib/doctypes/order_history_row.gen.js';
import { MESSAGES, escapeHtml, syncedText } from './messages.js';
import type { VueCall, VueCreateDialog, VueToast } from '../vue_ui.js';
import { STATUS_FIELDS, inlineBadge } from './badges.js';
import { ORDER_SYNC_REQUEST, timeouts, type Outcome, type SyncRequest, type Timeouts } from './request.js';

export const GROUP = 'Order History';
export const SHOW_LABEL = 'Show order history';
export const FETCH_LABEL = 'Fetch order history';
export const TABLE_FIELD = 'custom_order_history';

/**
 * Page-level overrides, as in desk (`window.orderCompanion`): the two waits, plus the polling
 * interval these UIs need (first wait, doubled up to the maximum).
 */
export interface VueOverrides {
  responseTimeoutMs?: number;
  runningTimeoutMs?: number;
  pollFirstMs?: number;
  pollMaxMs?: number;
}

export interface Poll {
  firstMs: number;
  maxMs: number;
}

function overrides(): VueOverrides | undefined {
  return (globalThis as { orderCompanion?: VueOverrides }).orderCompanion;
}

export function pollIntervals(o: VueOverrides | undefined = overrides()): Poll {
  return { firstMs: o?.pollFirstMs ?? 500, maxMs: o?.pollMaxMs ?? 4_000 };
}

/** Frappe's `__` where the page has it (CRM does), else the same `{0}` substitution. */
export function tr(text: string, args: unknown[] = []): string {
  if (typeof __ === 'function') return __(text, args);
  return text.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m));
}

/**
 * A history row as the page holds it: the generated type (doctypes/crm_lead_order_item), every
 * field possibly missing, and qty possibly still text in a form that has not saved yet.
 */
export type DeskHistoryRow = Partial<Omit<HistoryRow, 'qty'>> & { qty?: number | string | null };

export const EMPTY_TEXT = 'No order history yet — use Fetch order history.';

const CELL = 'padding:6px 8px;border-bottom:1px solid #ededed;text-align:left;vertical-align:top';
const HEAD = 'padding:6px 8px;border-bottom:1px solid #d9d9d9;text-align:left;font-weight:600;color:#525252;white-space:nowrap';

function qtyText(qty: DeskHistoryRow['qty']): string {
  if (qty == null || qty === '') return '';
  const n = Number(qty);
  return Number.isFinite(n) ? String(Number(n.toFixed(3))) : String(qty);
}

/** The history as an HTML table, one row per line (idx order); every value escaped. */
export function historyTableHtml(rows: readonly DeskHistoryRow[]): string {
  const heads = [tr('Order'), tr('Item'), tr('Qty'), tr('Delivery'), tr('OPS'), tr('Material'), tr('Production'), tr('QA')];
  const sorted = [...rows].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0));
  const body = sorted
    .map((row) => {
      const item = row.item_name && row.item_name !== row.item_code ? `${escapeHtml(row.item_code)}<br><span style="color:#7c7c7c">${escapeHtml(row.item_name)}</span>` : escapeHtml(row.item_code);
      const cells = [
        escapeHtml(row.sales_order),
        item,
        `<span style="font-variant-numeric:tabular-nums">${escapeHtml(qtyText(row.qty))}</span>`,
        `<span style="white-space:nowrap">${escapeHtml(row.delivery_date)}</span>`,
        ...STATUS_FIELDS.map((f) => inlineBadge(row[f])),
      ];
      return `<tr data-order="${escapeHtml(row.sales_order)}">${cells.map((c) => `<td style="${CELL}">${c}</td>`).join('')}</tr>`;
    })
    .join('');
  return (
    `<div style="overflow-x:auto"><table data-order-history="1" style="width:100%;border-collapse:collapse;font-size:13px">` +
    `<thead><tr>${heads.map((h) => `<th style="${HEAD}">${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>`
  );
}

/** Open the history dialog for these rows (or the empty note). */
export function showHistoryDialog(createDialog: VueCreateDialog, rows: readonly DeskHistoryRow[] | null | undefined): void {
  const list = rows ?? [];
  if (!list.length) {
    createDialog({ title: tr('Order History'), message: tr(EMPTY_TEXT) });
    return;
  }
  createDialog({ title: tr('Order History'), size: '5xl', html: historyTableHtml(list) });
}

/** frappe-ui `call` rejects with an Error whose `messages` are the server's own words. */
export function errorText(err: unknown): string {
  const e = err as { messages?: unknown; message?: unknown } | null;
  const messages = Array.isArray(e?.messages) ? e.messages.filter((m) => typeof m === 'string' && m.trim()) : [];
  const text = (messages.length ? messages.join(' ') : typeof e?.message === 'string' ? e.message : '').replace(/<[^>]*>/g, '').trim();
  return text || tr(MESSAGES.sendFailed);
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function finished(r: SyncRequest): boolean {
  return r.status === 'Done' || r.status === 'Failed';
}

/**
 * Poll the request until Done/Failed, or `timeout` when it stays Queued past `queuedMs` (from the
 * start) or Running past `runningMs` (from when it was first seen Running). The interval starts at
 * `firstMs` and doubles up to `maxMs`; the last read lands on the deadline itself, so an answer that
 * came just in time still counts. A failed read is retried; the deadline still bounds the wait.
 */
export async function followRequest(call: VueCall, request: SyncRequest, limits: Timeouts, poll: Poll, now: () => number = Date.now): Promise<Outcome> {
  let latest = request;
  if (finished(latest)) return { kind: 'finished', request: latest };
  const start = now();
  let runningSince: number | null = latest.status === 'Running' ? start : null;
  let interval = poll.firstMs;
  for (;;) {
    const deadline = runningSince !== null ? runningSince + limits.runningMs : start + limits.queuedMs;
    const left = deadline - now();
    await sleepFor(Math.max(0, Math.min(interval, left)));
    interval = Math.min(interval * 2, poll.maxMs);
    try {
      const current = await call<SyncRequest>('frappe.client.get', { doctype: ORDER_SYNC_REQUEST, name: request.name });
      latest = current;
      if (finished(current)) return { kind: 'finished', request: current };
      if (current.status === 'Running' && runningSince === null) {
        runningSince = now(); // picked up: give it the running allowance
        continue;
      }
    } catch {
      // retried on the next tick
    }
    if (now() >= deadline) return { kind: 'timeout', request: latest };
  }
}

export interface FetchEnv {
  call: VueCall;
  toast: VueToast;
  doctype: string;
  name: string;
  /** A reason the document cannot be matched to a customer yet, shown instead of sending a request. */
  cannotFetch?: () => string | null | Promise<string | null>;
  /** After a Done request: e.g. reload the page's document. */
  afterDone?: () => unknown;
}

/** Requests in flight per document: a second click while one runs does nothing. */
const inFlight = new Set<string>();

function info(toast: VueToast, message: string): void {
  if (typeof toast.info === 'function') toast.info(message);
  else toast.success(message);
}

function warning(toast: VueToast, message: string): void {
  if (typeof toast.warning === 'function') toast.warning(message);
  else toast.error(message);
}

/**
 * "Fetching order history…" for as long as the request runs: a loading toast, which stays until
 * dismissed, where the page's toast has one (frappe-ui on vue-sonner); else the info toast, which
 * fades by itself. Returns what ends it.
 */
function showWaiting(toast: VueToast, message: string): () => void {
  if (typeof toast.loading === 'function' && typeof toast.dismiss === 'function') {
    const id = toast.loading(message);
    return () => void toast.dismiss!(id);
  }
  info(toast, message);
  return () => undefined;
}

/** The Fetch round trip: insert an Order Sync Request, follow it, report the outcome as toasts. */
export async function fetchOrderHistory(env: FetchEnv): Promise<void> {
  const key = `${env.doctype}\u0000${env.name}`;
  if (inFlight.has(key)) return;
  inFlight.add(key);
  try {
    let reason: string | null = null;
    try {
      reason = (await env.cannotFetch?.()) ?? null;
    } catch (err) {
      env.toast.error(tr(MESSAGES.couldNotRequest, [errorText(err)]));
      return;
    }
    if (reason) {
      warning(env.toast, reason);
      return;
    }
    const endWaiting = showWaiting(env.toast, tr(MESSAGES.fetching));
    let outcome: Outcome;
    try {
      const request = await env.call<SyncRequest>('frappe.client.insert', {
        doc: { doctype: ORDER_SYNC_REQUEST, reference_doctype: env.doctype, reference_name: env.name },
      });
      outcome = await followRequest(env.call, request, timeouts(overrides()), pollIntervals());
    } catch (err) {
      endWaiting();
      env.toast.error(tr(MESSAGES.couldNotRequest, [errorText(err)]));
      return;
    }
    endWaiting();
    const { request } = outcome;
    if (outcome.kind === 'timeout') {
      warning(env.toast, tr(MESSAGES.notResponding));
      return;
    }
    if (request.status === 'Done') {
      // Worded here from the count, in the user's language; the stored message is the sidecar's log line.
      env.toast.success(syncedText(tr, request.orders_synced));
      try {
        await env.afterDone?.();
      } catch {
        // the page's own reload failing leaves the toast as the answer
      }
      return;
    }
    env.toast.error(request.message || tr(MESSAGES.failed));
  } finally {
    inFlight.delete(key);
  }
}
