/**
 * `Document.db_set` / `frappe.db.set_value` (frappe/frappe:frappe/model/document.py,
 * frappe/database/database.py [v15]): a raw column write — no validation, no controller
 * hooks, no Version, no realtime — that moves `modified`/`modified_by` unless told not to.
 */
import type { Doc } from './database.js';
import type { Ctx } from './document.js';
import type { DocTypeMeta } from './meta.js';

export function dbSet(ctx: Ctx, meta: DocTypeMeta, doc: Doc, values: Doc, opts: { updateModified?: boolean } = {}): void {
  const stored = ctx.site.db.get(meta.name, String(doc.name));
  if (!stored) return;
  Object.assign(doc, values);
  Object.assign(stored, values);
  if (opts.updateModified ?? true) {
    const now = ctx.site.now();
    doc.modified = stored.modified = now;
    doc.modified_by = stored.modified_by = ctx.user;
  }
  ctx.site.db.put(meta.name, String(doc.name), stored);
}
