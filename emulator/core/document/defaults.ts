/**
 * New documents and their defaults (frappe/model/create_new.py [v15]): a field's `default`, a
 * Select's first option, 0 for numbers and [] for tables, both for a fresh document and for what a
 * caller left empty (`update_if_missing`).
 */
import type { Doc } from '../database.js';
import { NUMERIC_FIELDS, isTableField, isValueField, type DocField, type DocTypeMeta } from '../meta.js';
import { cast } from './cast.js';
import type { Ctx } from './context.js';
import { requireMeta } from './lookup.js';

/**
 * `frappe.new_doc` defaults (frappe/model/create_new.py `get_new_doc` [v15]): field `default`
 * (with `Today`, `now`, `__user`), Select → first option, numeric → 0, tables → [].
 */
export function defaultValue(ctx: Ctx, df: DocField): unknown {
  const d = df.default;
  if (d !== undefined && d !== null && d !== '') {
    const text = String(d);
    if (text.toLowerCase() === 'today') return ctx.site.today();
    if (text.toLowerCase() === 'now') return df.fieldtype === 'Time' ? ctx.site.now().slice(11) : ctx.site.now();
    if (text === '__user') return ctx.user;
    if (text.startsWith(':')) return null;
    return cast(df, text);
  }
  // get_static_default_value: a Select defaults to its first option — "" when that is blank.
  if (df.fieldtype === 'Select' && df.options) return df.options.split('\n')[0];
  if (NUMERIC_FIELDS.has(df.fieldtype) && df.fieldtype !== 'Duration') return 0;
  return null;
}

export function newDoc(ctx: Ctx, doctype: string, data: Doc, parent?: { doc: Doc; field: string }): Doc {
  const meta = requireMeta(ctx.site, doctype);
  const doc: Doc = { doctype };
  for (const df of meta.fields) {
    if (isTableField(df)) doc[df.fieldname] = [];
    else if (isValueField(df)) doc[df.fieldname] = defaultValue(ctx, df);
  }
  Object.assign(doc, data);
  if (parent) {
    doc.parent = parent.doc.name ?? null;
    doc.parenttype = parent.doc.doctype;
    doc.parentfield = parent.field;
  }
  doc.doctype = doctype;
  return doc;
}

/** `update_if_missing`: fill what the caller left empty with the DocType's defaults. */
export function setMissingDefaults(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  for (const df of meta.fields) {
    if (isTableField(df)) {
      if (!Array.isArray(doc[df.fieldname])) doc[df.fieldname] = [];
      continue;
    }
    if (!isValueField(df)) continue;
    if (doc[df.fieldname] === undefined || doc[df.fieldname] === null) {
      const v = defaultValue(ctx, df);
      if (v !== null) doc[df.fieldname] = v;
      else if (doc[df.fieldname] === undefined) doc[df.fieldname] = null;
    }
  }
}
