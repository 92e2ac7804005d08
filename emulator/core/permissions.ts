/**
 * Role permissions (frappe/frappe:frappe/permissions.py [v15]): `get_role_permissions` folds the
 * permlevel-0 DocPerm (or Custom DocPerm) rows of the user's roles; `if_owner` rows only grant on
 * documents the user owns; Administrator may do everything. Child DocTypes are checked through
 * their parent. Not emulated (and said so in README): User Permissions, DocShare, field permlevels.
 */
import type { Doc } from './database.js';
import type { DocTypeMeta } from './meta.js';
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
