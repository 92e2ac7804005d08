/**
 * The checks that another document still links to this one (frappe/model/delete_doc.py [v15]
 * `check_if_doc_is_linked`, `check_if_doc_is_dynamically_linked`): a delete is blocked by any
 * linking document, a cancel by submitted ones, with Frappe's LinkExistsError message.
 */
import type { Doc } from '../database.js';
import { FrappeError } from '../errors.js';
import { isTableField, type DocTypeMeta } from '../meta.js';
import type { Ctx } from './context.js';

/** `check_if_doc_is_linked`: a Link from another (non-cancelled) document blocks the delete. */
export function checkNoLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc, method: 'Delete' | 'Cancel' = 'Delete'): void {
  // frappe/hooks.py `ignore_links_on_delete` (Communication, Version, Notification Log, …); the
  // customisation records are the emulator's own shortcut. DocType is not ignored: its DocPerm rows
  // block deleting a Role they name (recording role-delete-linked).
  const ignore = new Set(['Version', 'Communication', 'Notification Log', 'Custom Field', 'Custom DocPerm', 'Property Setter']);
  for (const dtRow of ctx.site.db.scan('DocType')) {
    const other = ctx.site.meta(String(dtRow.name));
    if (!other || other.istable || ignore.has(other.name)) continue;
    const links = linkFieldsTo(ctx, other, meta.name);
    if (!links.length) continue;
    for (const row of ctx.site.db.scan(other.name)) {
      // A cancel is blocked only by submitted documents; a delete by any (delete_doc.py `check_if_doc_is_linked`).
      if (method === 'Cancel' && row.docstatus !== 1) continue;
      if (row.name === doc.name && other.name === meta.name) continue;
      for (const { table, field } of links) {
        const rows = table ? ((row[table] as Doc[]) ?? []) : [row];
        const hit = rows.find((r) => r[field] === doc.name);
        if (hit) throw linkExists(meta.name, String(doc.name), other.name, String(row.name), table ? `at Row: ${hit.idx}` : '');
      }
    }
  }
}

/**
 * `raise_link_exists_exception` (frappe/model/delete_doc.py [v15]): the same "delete or cancel"
 * sentence for a delete and a cancel, links as `/app/Form/<doctype>/<name>`, then the row (or
 * nothing, which leaves a trailing space) — recordings lead-status-delete-linked,
 * so-cancel-linked-by-submitted-wo, customer-delete-dynamic-linked.
 */
function linkExists(doctype: string, name: string, refDoctype: string, refName: string, row: string): FrappeError {
  const message = `Cannot delete or cancel because ${doctype} <a href="/app/Form/${doctype}/${name}">${name}</a> is linked with ${refDoctype === refName ? '' : refDoctype} <a href="/app/Form/${refDoctype}/${refName}">${refName}</a> ${row}`;
  return new FrappeError('LinkExistsError', { message, title: 'Message', excText: message, httpStatus: 417 });
}

/**
 * `check_if_doc_is_dynamically_linked` [v15]: a Dynamic Link field (in a document or in a child
 * row) that names this document blocks its delete — a Contact's links table naming a Customer
 * (recording customer-delete-dynamic-linked), a sync request's reference (restricted-lead-delete-dynamic-linked).
 */
export function checkNoDynamicLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  for (const dtRow of ctx.site.db.scan('DocType')) {
    const other = ctx.site.meta(String(dtRow.name));
    if (!other || other.istable || other.name === 'Version' || other.name === 'Communication') continue;
    const targets: { table?: string; field: string; options: string }[] = [];
    for (const df of other.fields) {
      if (df.fieldtype === 'Dynamic Link' && df.options) targets.push({ field: df.fieldname, options: df.options });
      if (isTableField(df)) {
        for (const cdf of ctx.site.meta(df.options ?? '')?.fields ?? []) {
          if (cdf.fieldtype === 'Dynamic Link' && cdf.options) targets.push({ table: df.fieldname, field: cdf.fieldname, options: cdf.options });
        }
      }
    }
    if (!targets.length) continue;
    for (const row of ctx.site.db.scan(other.name)) {
      if (row.docstatus === 2) continue;
      for (const t of targets) {
        const rows = t.table ? ((row[t.table] as Doc[]) ?? []) : [row];
        const hit = rows.find((r) => r[t.options] === meta.name && String(r[t.field]) === String(doc.name));
        if (hit) throw linkExists(meta.name, String(doc.name), other.name, String(row.name), t.table ? `at Row: ${hit.idx}` : '');
      }
    }
  }
}

function linkFieldsTo(ctx: Ctx, meta: DocTypeMeta, target: string): { table?: string; field: string }[] {
  const out: { table?: string; field: string }[] = [];
  for (const df of meta.fields) {
    if (df.fieldtype === 'Link' && df.options === target) out.push({ field: df.fieldname });
    if (isTableField(df)) {
      const cm = ctx.site.meta(df.options ?? '');
      for (const cdf of cm?.fields ?? []) if (cdf.fieldtype === 'Link' && cdf.options === target) out.push({ table: df.fieldname, field: cdf.fieldname });
    }
  }
  return out;
}
