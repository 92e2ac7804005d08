/**
 * Reading one document as `frappe.get_doc(doctype, name)` does, with the caller's permission check;
 * a Single that was never saved reads as a new document holding its defaults.
 */
import type { Doc } from '../database.js';
import { doesNotExist, noPermission } from '../errors.js';
import type { DocTypeMeta } from '../meta.js';
import { hasPermission, type PermType } from '../permissions.js';
import type { Ctx } from './context.js';
import { newDoc } from './defaults.js';
import { requireMeta } from './lookup.js';

/** `frappe.get_doc(doctype, name)` with the caller's read permission (`check_permission("read")`). */
export function getDoc(ctx: Ctx, doctype: string, name: string, ptype: PermType | null = 'read'): Doc {
  const meta = requireMeta(ctx.site, doctype);
  const key = meta.issingle ? doctype : String(name);
  const doc = ctx.site.db.get(doctype, key) ?? (meta.issingle ? emptySingle(ctx, meta) : undefined);
  if (!doc) throw doesNotExist(doctype, String(name));
  if (ptype && !hasPermission(ctx.site, doctype, ptype, ctx.user, doc)) throw noPermission(doctype, ptype);
  return doc;
}

function emptySingle(ctx: Ctx, meta: DocTypeMeta): Doc {
  const doc = newDoc(ctx, meta.name, {});
  doc.name = meta.name;
  return doc;
}
