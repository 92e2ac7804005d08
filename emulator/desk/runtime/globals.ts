/**
 * The desk preview's global namespace: `window.frappe`, `window.locals`, `window.__`,
 * `window.cur_frm`, `window.$`/`jQuery` — the names Frappe's desk puts on `window`
 * (frappe/public/js/frappe/class.js + frappe/public/js/frappe/provide.js +
 * frappe/public/js/frappe/translate.js [v15]), so a Client Script body run through
 * `new Function` finds them as free variables.
 *
 * Written for the emulator; no Frappe code is copied.
 */
import $ from 'jquery';

/** A document or a docfield as the desk holds it: a plain mutable dict. */
export type Doc = Record<string, any>;
export type DocField = Record<string, any>;

export interface DeskWindow {
  frappe: any;
  locals: Record<string, Record<string, Doc>>;
  cur_frm: any;
  __: (txt: unknown, replace?: unknown, context?: string | null) => any;
  $: JQueryStatic;
  jQuery: JQueryStatic;
  [key: string]: any;
}

export const win = window as unknown as DeskWindow;

win.$ = $;
win.jQuery = $;

/** The page sets `window.frappe = {boot, csrf_token}` before this bundle runs (frappe/www/app.html). */
export const frappe: any = win.frappe && typeof win.frappe === 'object' ? win.frappe : {};
win.frappe = frappe;
frappe.boot ??= {};

/** `locals`: every loaded document, by doctype and name (frappe/public/js/frappe/model/model.js). */
export const locals: Record<string, Record<string, Doc>> = win.locals ?? {};
win.locals = locals;
locals.DocType ??= {};

win.cur_frm = null;

/** `frappe.provide("a.b.c")`: make nested namespaces under `window`. */
export function provide(namespace: string): any {
  let obj: any = win;
  for (const part of namespace.split('.')) {
    obj[part] ??= {};
    obj = obj[part];
  }
  return obj;
}
frappe.provide = provide;

/** `$.format` + `frappe._` (translate.js): `{0}` placeholders filled from a list; no translation table. */
export function format_placeholders(txt: string, args: unknown): string {
  const list = args as Record<number, unknown>;
  return txt.replace(/{(\d+)}/g, (match, n: string) => (typeof list[Number(n)] !== 'undefined' ? String(list[Number(n)]) : match));
}

frappe._messages ??= {};
export function __(txt: unknown, replace?: unknown, context: string | null = null): any {
  if (!txt || typeof txt !== 'string') return txt;
  let out = '';
  if (context) out = frappe._messages[`${txt}:${context}`];
  if (!out) out = frappe._messages[txt] || txt;
  if (replace && typeof replace === 'object') out = format_placeholders(out, replace);
  return out;
}
frappe._ = __;
win.__ = __;

export function set_cur_frm(frm: any): void {
  win.cur_frm = frm;
}
