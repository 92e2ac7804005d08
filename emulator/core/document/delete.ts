/**
 * Deleting a document as `frappe.delete_doc` does (frappe/model/delete_doc.py [v15]): permission,
 * no submitted documents, `on_trash`, the linked-document checks, winding a naming series back when
 * the newest document of it goes, then `after_delete` and the realtime update.
 */
import type { Doc } from '../database.js';
import { doesNotExist, FrappeError } from '../errors.js';
import type { DocTypeMeta } from '../meta.js';
import { hasPermission } from '../permissions.js';
import type { Ctx, DocFlags } from './context.js';
import { run, type HookArgs } from './hooks.js';
import { notifyUpdate } from './lifecycle.js';
import { checkNoDynamicLinks, checkNoLinks } from './links.js';
import { requireMeta } from './lookup.js';

/** `frappe.delete_doc` (frappe/model/delete_doc.py [v15]). */
export function deleteDoc(ctx: Ctx, doctype: string, name: string, flags: DocFlags = {}): void {
  const meta = requireMeta(ctx.site, doctype);
  const doc = ctx.site.db.get(doctype, name);
  if (!doc) throw doesNotExist(doctype, name);
  if (!flags.ignorePermissions && !hasPermission(ctx.site, doctype, 'delete', ctx.user, doc)) {
    const message = `User not allowed to delete ${doctype}: ${name}`;
    throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
  }
  if (doc.docstatus === 1) {
    // delete_doc.py check_permission_and_not_submitted [v15] (recording so-delete-submitted).
    const message = `${doctype} ${name}: Submitted Record cannot be deleted. You must <a href='https://docs.erpnext.com//docs/user/manual/en/setting-up/articles/delete-submitted-document' target='_blank'> Cancel </a> it first.`;
    throw new FrappeError('ValidationError', { message, title: 'Message', excText: message });
  }
  const args: HookArgs = { ctx, doc, before: doc, meta, action: 'save', flags };
  run('on_trash', args);
  ctx.site.db.remove(doctype, name);
  try {
    checkNoLinks(ctx, meta, doc);
    checkNoDynamicLinks(ctx, meta, doc);
  } catch (err) {
    // delete_doc: a DocType that can be switched off says so instead (recordings role-delete-linked,
    // customer-delete-linked-417), after the link message.
    if (!(err instanceof FrappeError) || err.excType !== 'LinkExistsError' || !meta.fields.some((f) => f.fieldname === 'disabled' || f.fieldname === 'enabled')) throw err;
    const message = `You can disable this ${doctype} instead of deleting it.`;
    throw new FrappeError('LinkExistsError', { message, title: 'Message', excText: message, httpStatus: 417, extraMessages: err.serverMessages });
  }
  revertSeriesIfLast(ctx, meta, doc);
  run('after_delete', args);
  notifyUpdate(ctx, meta, doc);
}

/**
 * `update_naming_series` → `revert_series_if_last` (frappe/model/naming.py [v15]): deleting the
 * newest document of a naming series winds the series back, so its name comes back for the next
 * document (recordings README "Generated names"; rt-restricted-subscriptions).
 */
function revertSeriesIfLast(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const autoname = (meta.autoname ?? '').trim();
  let series: string | null = null;
  if (autoname.startsWith('naming_series:')) series = (doc.naming_series as string) || null;
  else if (autoname && !/^(prompt|field:|hash|autoincrement|format:)/i.test(autoname) && (autoname.includes('#') || autoname.includes('.'))) series = autoname;
  if (!series) return;
  const name = String(doc.name);
  const digits = /(\d+)$/.exec(name);
  if (!digits) return;
  const prefix = name.slice(0, name.length - digits[1]!.length);
  ctx.site.db.revertSeries(prefix, Number(digits[1]));
}
