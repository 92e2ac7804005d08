/**
 * The checks that another document still links to this one (frappe/model/delete_doc.py [v15]
 * `check_if_doc_is_linked`, `check_if_doc_is_dynamically_linked`): a delete is blocked by any
 * linking document, a cancel by submitted ones, with Frappe's LinkExistsError message.
 */
import type { Doc } from '../database.js';
import { FrappeError } from '../errors.js';
import { isTableField, type DocTypeMeta } from '../meta.js';
import type { Ctx } from './context.js';

/**
 * `check_if_doc_is_linked` → `get_linked_docs` (frappe/model/delete_doc.py [v15]): the Link fields
 * that point at the DocType in `get_link_fields` order (frappe/model/rename_doc.py: the DocFields,
 * then the Custom Fields, then Property Setters), each read from the table that holds it — a child
 * table's row names its parent. The first linking (for a cancel: submitted) document blocks, and
 * the message names no row (recordings role-delete-linked: a DocPerm row; customer-delete-linked-417:
 * the standard Sales Order.customer before the product's CRM Lead custom field). Within the
 * DocFields the database's join order decides, which the source does not fix: the emulator takes
 * its DocTypes in the order they were installed.
 */
export function checkNoLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc, method: 'Delete' | 'Cancel' = 'Delete'): void {
  // frappe/hooks.py `ignore_links_on_delete` (Communication, Version, Notification Log, …); the
  // customisation records are the emulator's own shortcut. DocType is not ignored: its DocPerm rows
  // block deleting a Role they name (recording role-delete-linked).
  const ignore = new Set(['Version', 'Communication', 'Notification Log', 'Custom Field', 'Custom DocPerm', 'Property Setter']);
  const metas = [...ctx.site.db.scan('DocType')].map((r) => ctx.site.meta(String(r.name))).filter((m): m is DocTypeMeta => Boolean(m));
  const fields: { owner: DocTypeMeta; field: string; custom: boolean }[] = [];
  for (const owner of metas) {
    for (const df of owner.fields) if (df.fieldtype === 'Link' && df.options === meta.name) fields.push({ owner, field: df.fieldname, custom: Boolean(df.is_custom_field) });
  }
  const ordered = [...fields.filter((f) => !f.custom), ...fields.filter((f) => f.custom)];
  for (const { owner, field } of ordered) {
    // The parents whose rows hold the field: the DocType itself, or those with a table of it.
    const holders = owner.istable
      ? metas.filter((m) => !m.istable).flatMap((m) => m.fields.filter((tf) => isTableField(tf) && tf.options === owner.name).map((tf) => ({ parent: m, table: tf.fieldname })))
      : [{ parent: owner, table: undefined as string | undefined }];
    const hits: { modified: string; doctype: string; name: string }[] = [];
    for (const { parent, table } of holders) {
      if (ignore.has(parent.name)) continue;
      for (const row of ctx.site.db.scan(parent.name)) {
        // A cancel is blocked only by submitted documents; a delete by any.
        if (method === 'Cancel' && row.docstatus !== 1) continue;
        if (parent.name === meta.name && row.name === doc.name) continue;
        const rows = table ? ((row[table] as Doc[]) ?? []) : [row];
        for (const r of rows) if (r[field] === doc.name) hits.push({ modified: String(r.modified ?? row.modified ?? ''), doctype: parent.name, name: String(row.name) });
      }
    }
    // `frappe.db.get_values(link_dt, {field: name}, …)` orders by its default, "modified" (desc)
    // (frappe/database/database.py `get_values` [v15]): the order modified last is named
    // (customer-delete-linked-417: SAL-ORD-…16, not the older …14 that also links the Customer).
    const first = hits.sort((a, b) => (a.modified < b.modified ? 1 : a.modified > b.modified ? -1 : 0))[0];
    if (first) throw linkExists(meta.name, String(doc.name), first.doctype, first.name, '');
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
    // `select name, docstatus … from tab{parent} where …` has no ORDER BY, so InnoDB answers in
    // primary-key order and names the lowest name first; the emulator keeps insertion order, since
    // for hash names (sync requests) that order is chance either way (see test/recordings/exceptions.ts).
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
