/**
 * What Frappe CRM's and Helpdesk's SLA engines share (./crm/sla.ts, ./helpdesk/sla.ts): the
 * `frappe.utils` conversions both sources call, the condition context both `get_context`s build
 * (frappe/crm:crm/fcrm/doctype/crm_service_level_agreement/utils.py, frappe/helpdesk:
 * helpdesk/utils.py), the SLA date window of both `get_sla`s, and `Document.has_value_changed`.
 * Each engine keeps what differs: its records, selection, `calc_time`, `calc_elapsed_time` and
 * `apply`.
 *
 * Conventions: documents hold values the way Frappe serialises them (Datetime
 * 'YYYY-MM-DD HH:MM:SS[.ffffff]', Date 'YYYY-MM-DD', Time 'H:MM:SS', Duration seconds, Check
 * 0/1, null when unset). `now` is the site's naive wall clock in microseconds, i.e. what
 * `frappe.utils.now_datetime()` returns in Python.
 */
import { formatDate, formatDatetime, parseDatetime, parseTime, startOfDay, type Micros } from '../core/datetime.js';
import { SAFE_EVAL_BUILTINS } from './safe_eval.js';

export type Doc = Record<string, unknown>;

/** `frappe.utils.get_datetime`: null → now (v15 returns now_datetime() for None). */
export function getDatetime(value: unknown, now: Micros): Micros {
  if (value === null || value === undefined) return now;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const us = parseDatetime(value);
    if (us !== null) return us;
  }
  throw new Error(`not a datetime: ${JSON.stringify(value)}`);
}

/** Time field → seconds (`timedelta.total_seconds()`). */
export function timeSeconds(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const s = parseTime(value);
    if (s !== null) return s;
  }
  throw new Error(`not a time: ${JSON.stringify(value)}`);
}

/** `dict` keyed by a column: later rows overwrite earlier ones, as in the Python loops. */
export function keyBy<T extends Record<string, unknown>>(rows: T[] | null | undefined, key: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const row of rows ?? []) out.set(String(row[key]), row);
  return out;
}

/** `get_holidays`: the midnights of a holiday list's dates (unparseable or empty ones skipped). */
export function holidayMidnights(dates: unknown[]): Set<number> {
  const out = new Set<number>();
  for (const date of dates) {
    const us = typeof date === 'string' ? parseDatetime(date) : null;
    if (us !== null) out.add(startOfDay(us));
  }
  return out;
}

/** `frappe.utils` as `get_safe_globals()` exposes it, reduced to what conditions plausibly use. */
function conditionUtils(now: Micros): Record<string, unknown> {
  const cint = (v: unknown) => {
    const n = typeof v === 'boolean' ? Number(v) : parseFloat(String(v ?? 0));
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  };
  const flt = (v: unknown) => {
    const n = typeof v === 'boolean' ? Number(v) : parseFloat(String(v ?? 0).replace(/,/g, ''));
    return Number.isFinite(n) ? n : 0;
  };
  return {
    now: () => formatDatetime(now),
    now_datetime: () => formatDatetime(now),
    nowdate: () => formatDate(now),
    today: () => formatDate(now),
    getdate: (v?: unknown) => formatDate(v === undefined || v === null ? now : getDatetime(v, now)),
    get_datetime: (v?: unknown) => formatDatetime(getDatetime(v ?? null, now)),
    cint,
    flt,
    cstr: (v: unknown) => (v === null || v === undefined ? '' : String(v)),
  };
}

/** `get_context`: `{doc: doc.as_dict(), frappe: _dict(utils=…)}` plus safe_eval's whitelisted builtins. */
export function conditionNames(doc: Doc, now: Micros): Record<string, unknown> {
  return { ...SAFE_EVAL_BUILTINS, doc: { ...doc }, frappe: { utils: conditionUtils(now) } };
}

/**
 * `start_date <= now` / `end_date >= now` on Date columns against a datetime: MariaDB widens the
 * date to midnight, so an SLA stops matching right after midnight of its end date.
 */
export function inDateWindow(sla: { start_date?: string | null; end_date?: string | null }, now: Micros): boolean {
  const start = sla.start_date ? parseDatetime(sla.start_date) : null;
  const end = sla.end_date ? parseDatetime(sla.end_date) : null;
  if (start !== null && !(start <= now)) return false;
  if (end !== null && !(end >= now)) return false;
  return true;
}

/** `Document.has_value_changed`: compared with the copy loaded before this save. */
export function hasValueChanged(doc: Doc, previous: Doc | null, field: string): boolean {
  return (doc[field] ?? null) !== (previous?.[field] ?? null);
}
