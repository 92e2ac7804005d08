/**
 * Role permissions (frappe/frappe:frappe/permissions.py [v15]): `get_role_permissions` folds the
 * permlevel-0 DocPerm (or Custom DocPerm) rows of the user's roles; `if_owner` rows only grant on
 * documents the user owns; Administrator may do everything. Child DocTypes are checked through
 * their parent. Field permlevels: `get_permlevel_access`, `apply_fieldlevel_read_permissions` and
 * `validate_higher_perm_levels` (frappe/frappe:frappe/model/document.py, base_document.py [v15]).
 * Not emulated (and said so in README): User Permissions, DocShare.
 */
import type { Doc } from './database.js';
import { NO_VALUE_FIELDS, isTableField, type DocField, type DocTypeMeta } from './meta.js';
import type { Site } from './site.js';

export type PermType =
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'submit'
  | 'cancel'
  | 'amend'
  | 'report'
  | 'export'
  | 'import'
  | 'print'
  | 'email'
  | 'share'
  | 'select';

export interface RolePermissions {
  perms: Partial<Record<PermType, boolean>>;
  /** ptypes granted only by `if_owner` rows. */
  ifOwner: Partial<Record<PermType, boolean>>;
}

/**
 * An app's `has_permission` / `permission_query_conditions` hooks (hooks.py) for one DocType,
 * e.g. Helpdesk's HD Ticket (emulator/apps/helpdesk/permissions.ts). `hasPermission` is asked
 * only about a document, after the role rules allowed it (permissions.py `has_controller_permissions`).
 */
export interface PermissionHooks {
  hasPermission?: (site: Site, doc: Doc, user: string, ptype: PermType) => boolean;
  queryConditions?: (site: Site, user: string) => ((doc: Doc) => boolean) | null;
}
const appHooks = new Map<string, PermissionHooks>();
export function registerPermissionHooks(doctype: string, hooks: PermissionHooks): void {
  appHooks.set(doctype, hooks);
}

export function rolePermissions(site: Site, meta: DocTypeMeta, user: string): RolePermissions {
  const roles = new Set(site.rolesOf(user));
  const perms: RolePermissions['perms'] = {};
  const owned: RolePermissions['perms'] = {};
  const unrestricted: RolePermissions['perms'] = {};
  for (const p of meta.permissions) {
    if ((p.permlevel ?? 0) !== 0 || !roles.has(p.role)) continue;
    for (const [k, v] of Object.entries(p)) {
      if (k === 'role' || k === 'permlevel' || k === 'if_owner' || !v) continue;
      const ptype = k as PermType;
      perms[ptype] = true;
      if (p.if_owner) owned[ptype] = true;
      else unrestricted[ptype] = true;
    }
  }
  // `select` is implied by `read` (permissions.py: `if perm.get("read"): perm["select"] = 1`).
  if (perms.read) perms.select = true;
  const ifOwner: RolePermissions['perms'] = {};
  for (const k of Object.keys(owned) as PermType[]) if (!unrestricted[k]) ifOwner[k] = true;
  return { perms, ifOwner };
}

/**
 * `frappe.has_permission(doctype, ptype, doc, user)`. A child DocType is judged by its parent
 * (`parenttype` of the row, or `parentDoctype` when listing).
 */
export function hasPermission(
  site: Site,
  doctype: string,
  ptype: PermType,
  user: string,
  doc?: Doc,
): boolean {
  if (user === 'Administrator') return true;
  const meta = site.meta(doctype);
  if (!meta) return false;
  if (meta.istable && doc?.parenttype) return hasPermission(site, doc.parenttype as string, ptype, user);
  if ((ptype === 'submit' || ptype === 'cancel' || ptype === 'amend') && !meta.is_submittable) return false;
  // user.py `share_with_self`: every user's own User record is shared with them (read, write).
  if (doctype === 'User' && doc?.name === user && (ptype === 'read' || ptype === 'write')) return true;
  const { perms, ifOwner } = rolePermissions(site, meta, user);
  if (!perms[ptype]) return false;
  if (ifOwner[ptype] && doc && doc.owner !== user) return false;
  const hook = appHooks.get(doctype)?.hasPermission;
  if (doc && hook && !hook(site, doc, user, ptype)) return false;
  return true;
}

/** Extra row filter some DocTypes add through `permission_query_conditions` hooks. */
export function permissionQueryFilter(site: Site, doctype: string, user: string): ((doc: Doc) => boolean) | null {
  if (user === 'Administrator') return null;
  // frappe/frappe:frappe/desk/doctype/notification_log/notification_log.py
  // `get_permission_query_conditions`: `for_user = <session user>`.
  if (doctype === 'Notification Log') return (doc) => doc.for_user === user;
  const meta = site.meta(doctype);
  if (!meta) return null;
  const conditions: ((doc: Doc) => boolean)[] = [];
  const { ifOwner } = rolePermissions(site, meta, user);
  // db_query.build_match_conditions: an if_owner read restricts the list to own documents.
  if (ifOwner.read) conditions.push((doc) => doc.owner === user);
  // frappe/frappe:frappe/core/doctype/communication/communication.py
  // `get_permission_query_conditions_for_communication` (hooks.py permission_query_conditions):
  // without "Super Email User" or "System Manager", a user sees only the mails of the Email
  // Accounts in their User Emails, and with none (the emulator has no User Email rows) only
  // non-Email Communications: `communication_medium != 'Email'` (SQL: NULL matches neither).
  if (doctype === 'Communication') {
    const roles = new Set(site.rolesOf(user));
    if (!roles.has('Super Email User') && !roles.has('System Manager')) {
      conditions.push((doc) => doc.communication_medium !== null && doc.communication_medium !== undefined && doc.communication_medium !== 'Email');
    }
  }
  const appCondition = appHooks.get(doctype)?.queryConditions?.(site, user);
  if (appCondition) conditions.push(appCondition);
  if (!conditions.length) return null;
  return (doc) => conditions.every((c) => c(doc));
}

/**
 * `Document.get_permlevel_access(permission_type)` (frappe/model/document.py [v15]): the permlevels
 * at which one of the user's roles has `ptype`, from the DocType's rules (Custom DocPerms when any,
 * as `meta.permissions` holds them). `if_owner` does not matter here, and a User record shared with
 * its own user (`share_with_self`) grants permlevel 0 only: recording `restricted-user-get-self`.
 * A child row is judged by its parent's rules (`get_permissions` with `parent_doc`).
 */
export function permlevelAccess(site: Site, meta: DocTypeMeta, user: string, ptype: 'read' | 'write'): Set<number> {
  const roles = new Set(site.rolesOf(user));
  const levels = new Set<number>();
  for (const p of meta.permissions) if (roles.has(p.role) && p[ptype]) levels.add(Number(p.permlevel ?? 0));
  return levels;
}

function highPermlevel(df: DocField): boolean {
  return Number(df.permlevel ?? 0) > 0;
}

/**
 * `Document.apply_fieldlevel_read_permissions` (frappe/model/document.py [v15]), run by
 * `frappe.api.v1.read_doc`, `frappe.client.get` and `frappe.desk.form.load.getdoc`: a copy of `doc`
 * without the values of fields (the document's and its rows') whose permlevel > 0 the user cannot
 * read. A table field becomes `[]` and a value field null (`self.set(fieldname, None)`), so
 * GET /api/resource drops it with the other nulls. Administrator reads everything. Recording
 * `restricted-user-get-self`: a Sales User reading its own User gets `roles: []` and no `user_type`.
 */
export function applyFieldlevelReadPermissions(site: Site, doc: Doc, user: string): Doc {
  if (user === 'Administrator') return doc;
  const meta = site.meta(String(doc.doctype));
  if (!meta) return doc;
  const tables = meta.fields.filter(isTableField).map((tf) => ({ tf, child: site.meta(tf.options ?? '') }));
  const any = meta.fields.some(highPermlevel) || tables.some(({ child }) => child?.fields.some(highPermlevel));
  if (!any) return doc;
  const access = permlevelAccess(site, meta, user, 'read');
  const out: Doc = { ...doc };
  for (const df of meta.fields) {
    if (!highPermlevel(df) || access.has(Number(df.permlevel))) continue;
    out[df.fieldname] = isTableField(df) ? [] : null;
  }
  for (const { tf, child } of tables) {
    const hidden = (child?.fields ?? []).filter((df) => highPermlevel(df) && !access.has(Number(df.permlevel)));
    if (!hidden.length || !Array.isArray(out[tf.fieldname])) continue;
    out[tf.fieldname] = (out[tf.fieldname] as Doc[]).map((row) => {
      const r: Doc = { ...row };
      for (const df of hidden) r[df.fieldname] = null;
      return r;
    });
  }
  return out;
}

/**
 * `Meta.get_permitted_fieldnames` (frappe/model/meta.py [v15]) for the list layer: the value fields
 * the user may read at their permlevel (a child DocType is judged by `parentMeta`'s rules, and has
 * none without one). `DatabaseQuery.apply_fieldlevel_read_permissions` (frappe/model/db_query.py)
 * drops the other requested fields silently and narrows `*` to these. Administrator holds every
 * role, so only levels no rule grants are closed to it; a DocType without rules returns every field.
 */
export function permittedFieldnames(site: Site, meta: DocTypeMeta, user: string, parentMeta?: DocTypeMeta): string[] {
  const values = meta.fields.filter((df) => !NO_VALUE_FIELDS.has(df.fieldtype));
  if (meta.istable && !parentMeta) return [];
  const rules = meta.istable && parentMeta ? parentMeta : meta;
  if (!rules.permissions.length) return values.map((df) => df.fieldname);
  const access = permlevelAccess(site, rules, user, 'read');
  return values.filter((df) => access.has(Number(df.permlevel ?? 0))).map((df) => df.fieldname);
}
