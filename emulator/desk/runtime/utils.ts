/**
 * Small helpers the desk scripts reach through `frappe.utils`, `frappe.datetime`, `frappe.dom`
 * and the `cint`/`flt`/`cstr` globals, with the behaviour of Frappe v15's
 * frappe/public/js/frappe/utils/utils.js, utils/number_format.js, utils/datetime.js and dom.js
 * as far as the preview needs them (number formats "#,###.##"-style, date formats
 * "dd-mm-yyyy"-style, no timezone conversion because the preview's user is in the site's zone).
 */
import $ from 'jquery';
import { __, frappe, provide, win, type Doc } from './globals.js';

export function is_null(v: unknown): boolean {
  return v === null || v === undefined || v === '';
}

export function cstr(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

/** `cint`: parseInt with 0 for garbage (utils.js). */
export function cint(v: unknown, def = 0): number {
  if (v === true) return 1;
  if (v === false) return 0;
  const n = parseInt(String(v ?? ''), 10);
  return Number.isNaN(n) ? def : n;
}

/** `flt`: parseFloat of a number or a formatted string, rounded when a precision is given. */
export function flt(v: unknown, decimals?: number | null): number {
  if (v === null || v === undefined || v === '') return 0;
  let n = typeof v === 'number' ? v : parseFloat(String(v).replace(/,/g, ''));
  if (Number.isNaN(n)) n = 0;
  if (decimals !== undefined && decimals !== null) n = Number(n.toFixed(decimals));
  return n;
}

export function escape_html(txt: unknown): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return cstr(txt).replace(/[&<>"']/g, (c) => map[c]);
}

/** `copy_dict`: a shallow copy (functions, like a `formatter`, are kept by reference). */
export function copy_dict(d: Doc): Doc {
  return { ...d };
}

/** `frappe.run_serially`: each task starts when the previous one (or its promise) is done. */
export function run_serially(tasks: (() => unknown)[]): Promise<unknown> {
  let result: Promise<unknown> = Promise.resolve();
  for (const task of tasks) if (task) result = result.then(() => task());
  return result;
}

/** `frappe.utils.debounce(fn, wait)`: trailing-edge call. */
export function debounce<T extends (...args: any[]) => unknown>(fn: T, wait: number): (...args: Parameters<T>) => void {
  let timer: number | undefined;
  return function (this: unknown, ...args: Parameters<T>) {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      timer = undefined;
      fn.apply(this, args);
    }, wait);
  };
}

/** `frappe.timeout(seconds)`. */
export function timeout(seconds: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, seconds * 1000));
}

/** `frappe.router.slug` (router.js): lower case, spaces to dashes. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/ /g, '-');
}

/** `frappe.scrub`. */
export function scrub(txt: string): string {
  return txt.replace(/ /g, '_').toLowerCase();
}

export function has_words(list: string[], item: string): boolean {
  if (!item) return true;
  if (!list) return false;
  return list.some((w) => item.toLowerCase().includes(w.toLowerCase()));
}

/** `frappe.utils.guess_style` / `guess_colour` (utils.js [v15]). */
export function guess_colour(text: string): string {
  if (text) {
    if (has_words(['Pending', 'Review', 'Medium', 'Not Approved'], text)) return 'orange';
    if (has_words(['Open', 'Urgent', 'High', 'Failed', 'Rejected', 'Error'], text)) return 'red';
    if (has_words(['Closed', 'Finished', 'Converted', 'Completed', 'Complete', 'Confirmed', 'Approved', 'Yes', 'Active', 'Available', 'Paid', 'Success'], text)) return 'green';
    if (has_words(['Submitted'], text)) return 'blue';
  }
  return 'gray';
}

/** `frappe.utils.eval(code, context)`: the expression of a `depends_on: eval:…`. */
export function evaluate(code: string, context: Record<string, unknown>): unknown {
  const names = Object.keys(context);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function(...names, `return ${code.trim().replace(/;$/, '')}`);
  return fn(...names.map((n) => context[n]));
}

/**
 * `frappe.dom.set_style(txt, id)` (frappe/public/js/frappe/dom.js [v15]): a `<style>` with this
 * text appended to `<head>`; one with the same id is replaced, so calling it again is harmless.
 */
export function set_style(txt: string, id?: string): HTMLStyleElement | undefined {
  if (!txt) return undefined;
  const style = document.createElement('style');
  if (id) {
    document.getElementById(id)?.remove();
    style.id = id;
  }
  style.appendChild(document.createTextNode(txt));
  document.head.appendChild(style);
  return style;
}

/** `frappe.dom.remove_script_and_style` (dom.js): formatter output never runs scripts. */
export function remove_script_and_style(txt: string): string {
  const evil = ['script', 'style', 'noscript', 'title', 'meta', 'base', 'head'];
  const doc = new DOMParser().parseFromString(txt, 'text/html');
  let found = !!doc.head.innerHTML;
  for (const tag of evil) {
    for (const el of Array.from(doc.body.getElementsByTagName(tag))) {
      found = true;
      el.remove();
    }
  }
  return found ? doc.body.innerHTML : txt;
}

export function strip_html(txt: unknown): string {
  return cstr(txt).replace(/<[^>]*>/g, '');
}

export function replace_newlines(txt: unknown): string {
  return cstr(txt).replace(/\n/g, '<br>');
}

/** `frappe.utils.icon`: an SVG sprite reference (the preview ships no sprite, so it stays empty). */
export function icon(name: string, size = 'sm'): string {
  return `<svg class="icon icon-${size}" aria-hidden="true"><use href="#icon-${name}"></use></svg>`;
}

// ---- numbers (number_format.js) --------------------------------------------------------

interface NumberFormatInfo {
  decimal_str: string;
  group_sep: string;
  precision: number;
}

function number_format_info(format: string): NumberFormatInfo {
  const info: NumberFormatInfo = { decimal_str: '.', group_sep: ',', precision: 2 };
  if (format === '#.###') return { decimal_str: '', group_sep: '.', precision: 0 };
  if (format === '#,###') return { decimal_str: '', group_sep: ',', precision: 0 };
  if (format.length > 4) {
    info.decimal_str = format.charAt(format.length - 3) === '#' ? '' : format.charAt(format.length - 3);
    info.group_sep = format.charAt(1) === '#' ? '' : format.charAt(1);
    if (format.includes(' ') && !info.group_sep) info.group_sep = ' ';
  }
  const dec = info.decimal_str ? format.split(info.decimal_str)[1] : '';
  info.precision = dec ? dec.length : 0;
  return info;
}

export function get_number_format(): string {
  return frappe.boot?.sysdefaults?.number_format || '#,###.##';
}

/** `format_number(v, format, decimals)`. */
export function format_number(v: unknown, format?: string | null, decimals?: number | null): string {
  const info = number_format_info(format || get_number_format());
  const precision = decimals === undefined || decimals === null ? info.precision : decimals;
  const n = flt(v, precision);
  const negative = n < 0;
  const [whole, part] = Math.abs(n).toFixed(precision).split('.');
  const grouped = info.group_sep ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, info.group_sep) : whole;
  return (negative ? '-' : '') + grouped + (part ? (info.decimal_str || '.') + part : '');
}

export function get_currency_symbol(currency: string | null | undefined): string | null {
  if (!currency) return null;
  const doc = (win.locals[':Currency'] ?? {})[currency];
  return doc?.symbol || currency;
}

/** `format_currency(v, currency, decimals)`: symbol, space, number (or number then symbol when `symbol_on_right`). */
export function format_currency(v: unknown, currency?: string | null, decimals?: number | null): string {
  const doc = currency ? (win.locals[':Currency'] ?? {})[currency] : null;
  const value = format_number(v, doc?.number_format || null, decimals);
  const symbol = get_currency_symbol(currency);
  if (!symbol) return value;
  return doc?.symbol_on_right ? `${value} ${symbol}` : `${symbol} ${value}`;
}

// ---- dates (datetime.js) ----------------------------------------------------------------

function user_date_format(): string {
  return frappe.boot?.sysdefaults?.date_format || 'dd-mm-yyyy';
}

function user_time_format(): string {
  return frappe.boot?.sysdefaults?.time_format || 'HH:mm:ss';
}

function format_date_parts(y: string, m: string, d: string): string {
  return user_date_format().replace('yyyy', y).replace('mm', m).replace('dd', d);
}

function format_time(t: string): string {
  const [h = '00', mi = '00', s = '00'] = t.split(':');
  const sec = s.split('.')[0];
  return user_time_format().replace('HH', h.padStart(2, '0')).replace('mm', mi.padStart(2, '0')).replace('ss', sec.padStart(2, '0'));
}

/** `frappe.datetime.str_to_user(val, only_time, only_date)`: system string → the user's format. */
export function str_to_user(val: unknown, only_time = false, only_date = false): string {
  const s = cstr(val);
  if (!s) return '';
  if (only_time) return format_time(s);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?/.exec(s);
  if (!m) return s;
  const date = format_date_parts(m[1], m[2], m[3]);
  if (only_date || !m[4]) return date;
  return `${date} ${format_time(m[4])}`;
}

/** `frappe.datetime.user_to_str(val, only_time)`: the user's format → system string. */
export function user_to_str(val: unknown, only_time = false): string {
  const s = cstr(val).trim();
  if (!s) return '';
  if (only_time) return s;
  const fmt = user_date_format();
  const [datePart, timePart] = s.split(/\s+/);
  const order = fmt.split(/[^a-z]+/).filter(Boolean);
  const pieces = datePart.split(/[^0-9]+/);
  if (pieces.length !== 3 || order.length !== 3) return s;
  const get = (key: string) => pieces[order.indexOf(key)];
  const date = `${get('yyyy')}-${get('mm').padStart(2, '0')}-${get('dd').padStart(2, '0')}`;
  return timePart ? `${date} ${timePart}` : date;
}

export function now_datetime(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `frappe.utils.get_formatted_duration` (seconds → "1d 2h 3m 4s"). */
export function get_formatted_duration(value: unknown, options: { hide_days?: unknown; hide_seconds?: unknown } = {}): string {
  let secs = Math.round(flt(value));
  if (!secs) return '';
  const parts: string[] = [];
  if (!options.hide_days) {
    const days = Math.floor(secs / 86400);
    if (days) parts.push(`${days}${__('d')}`);
    secs %= 86400;
  }
  const hours = Math.floor(secs / 3600);
  if (hours) parts.push(`${hours}${__('h')}`);
  secs %= 3600;
  const minutes = Math.floor(secs / 60);
  if (minutes) parts.push(`${minutes}${__('m')}`);
  secs %= 60;
  if (secs && !options.hide_seconds) parts.push(`${secs}${__('s')}`);
  return parts.join(' ');
}

// ---- installation ------------------------------------------------------------------------

export function install_utils(): void {
  const utils = provide('frappe.utils');
  Object.assign(utils, {
    escape_html,
    debounce,
    guess_colour,
    guess_style: (text: string, default_style?: string, colour?: boolean) => {
      const c = guess_colour(text);
      if (colour) return c;
      return { orange: 'warning', red: 'danger', green: 'success', blue: 'info' }[c] ?? default_style ?? 'default';
    },
    eval: evaluate,
    icon,
    strip_html,
    replace_newlines,
    get_formatted_duration,
    is_null,
    copy_dict,
    set_title: (title: string) => {
      document.title = strip_html(title);
    },
    get_form_link: (doctype: string, name: string, html = false, display_text: string | null = null) => {
      const route = `/app/${encodeURIComponent(slug(doctype))}/${encodeURIComponent(name)}`;
      return html ? `<a href="${route}">${escape_html(display_text || name)}</a>` : route;
    },
    sleep: (ms: number) => new Promise((r) => window.setTimeout(r, ms)),
  });
  frappe.run_serially = run_serially;
  frappe.timeout = timeout;
  frappe.scrub = scrub;
  provide('frappe.router').slug = slug;
  Object.assign(provide('frappe.datetime'), {
    str_to_user,
    user_to_str,
    now_datetime,
    nowdate: () => now_datetime().slice(0, 10),
    get_today: () => now_datetime().slice(0, 10),
    convert_to_user_tz: (v: string) => v,
  });
  const dom = provide('frappe.dom');
  dom.remove_script_and_style = remove_script_and_style;
  dom.set_style = set_style;
  Object.assign(win, { cint, flt, cstr, is_null, copy_dict, format_number, format_currency, strip_html, in_list: (l: unknown[], v: unknown) => l.includes(v) });
  ($ as any).format = (str: string, args: unknown) => (str ? str.replace(/{(\d+)}/g, (m, n: string) => ((args as any[])[Number(n)] !== undefined ? String((args as any[])[Number(n)]) : m)) : str);
}
