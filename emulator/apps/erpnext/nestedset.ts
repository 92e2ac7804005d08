/**
 * `frappe.utils.nestedset.NestedSet` for ERPNext's tree DocTypes that the product reads (Company,
 * erpnext/setup/doctype/company/company.py): on insert `update_add_node` gives the node
 * `lft`/`rgt` — a root after the last root (`COALESCE(MAX(rgt), 0) + 1` over rows without a
 * parent), a child at its parent's `rgt`, every later bound moved by 2 — and `update_nsm` stores
 * the parent as `old_parent` ("" for a root; recording company-get). Moving a node to another
 * parent is not modelled.
 */
import type { Doc } from '../../core/database.js';
import { dbSet } from '../../core/db_set.js';
import { registerHook, type Ctx } from '../../core/document.js';

function addNode(ctx: Ctx, doctype: string, parentField: string, doc: Doc): void {
  if (doc.lft) return;
  const rows = ctx.site.db.all(doctype).filter((r) => r.name !== doc.name);
  const parent = doc[parentField] ? ctx.site.db.get(doctype, String(doc[parentField])) : undefined;
  let right: number;
  if (parent) {
    right = Number(parent.rgt ?? 0);
    const meta = ctx.site.meta(doctype);
    for (const row of rows) {
      const values: Doc = {};
      if (Number(row.rgt ?? 0) >= right) values.rgt = Number(row.rgt) + 2;
      if (Number(row.lft ?? 0) >= right) values.lft = Number(row.lft) + 2;
      if (meta && Object.keys(values).length) dbSet(ctx, meta, row, values, { updateModified: false });
    }
  } else {
    right = Math.max(0, ...rows.filter((r) => !r[parentField]).map((r) => Number(r.rgt ?? 0))) + 1;
  }
  doc.lft = right;
  doc.rgt = right + 1;
  doc.old_parent = doc[parentField] ?? '';
}

export function registerNestedSets(): void {
  registerHook('Company', 'before_insert', ({ ctx, doc }) => addNode(ctx, 'Company', 'parent_company', doc));
}
