/**
 * `site install` / `site uninstall` over the REST API only (so it works on Frappe Cloud, where
 * nobody has a shell). Install checks the site first and writes nothing when a check fails; it
 * then applies the plan in order, remembers in the site what it created and what each changed
 * record looked like before, and stops at the first rejection with the record, Frappe's own
 * message and what was already applied. Uninstall reverses exactly that.
 */
import type { FrappeClient } from '../../lib/frappe/client.js';
import { FrappeApiError } from '../../lib/frappe/errors.js';
import { fetchDoc, grantRow, grantTarget, makePlan, type GrantPlan, type PlanEntry, type RecordPlan } from './plan.js';
import { STATE_DOCTYPE, desiredDigests, type DesiredState, type InstalledProduct } from '../../lib/site/records.js';

/** DocTypes the product reads or extends; without them there is nothing to install into. */
const REQUIRED: Record<string, string> = {
  'CRM Lead': 'Frappe CRM',
  'CRM Deal': 'Frappe CRM',
  'CRM Service Level Agreement': 'Frappe CRM',
  'CRM Lead Status': 'Frappe CRM',
  'FCRM Settings': 'Frappe CRM',
  'HD Ticket': 'Helpdesk',
  'HD Customer': 'Helpdesk',
  Customer: 'ERPNext',
  Contact: 'Frappe',
  'Sales Order': 'ERPNext',
  'Work Order': 'ERPNext (Manufacturing)',
  Item: 'ERPNext',
  Company: 'ERPNext',
  'Notification Log': 'Frappe',
  Address: 'Frappe',
  Country: 'Frappe',
};

/** The role the installer assumed before role files were many (install states of version 1). */
const V1_ROLE = 'Order Companion';

export interface InstallState {
  /** 2 since there may be several roles; a stored version 1 is read as {@link migrateState} says. */
  version: 2;
  installedAt: string;
  /** Records this tool created, in creation order. */
  created: { doctype: string; name: string }[];
  /** Records it changed, with the values it overwrote. */
  modified: { doctype: string; name: string; before: Record<string, unknown> }[];
  /**
   * DocTypes whose standard permissions it copied to Custom DocPerm (uninstall removes there the
   * copies and the rows of `roles`, leaving only rules someone added since).
   */
  customisedPermissions: string[];
  /** Our roles whose Custom DocPerm rows it wrote, each added before its first row is written. */
  roles: string[];
  /** Set when an install ran to the end: what it made match (the sidecar's records check reads it). */
  product?: InstalledProduct;
}

export class InstallRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`Nothing was written; the site is not ready for the install:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = new.target.name;
  }
}

export class InstallFailed extends Error {
  constructor(
    readonly record: string,
    readonly siteMessage: string,
    readonly applied: string[],
  ) {
    super(
      `The site refused ${record}: ${siteMessage}\n` +
        (applied.length ? `Already applied (run install again after fixing, or uninstall):\n${applied.map((a) => `  - ${a}`).join('\n')}` : 'Nothing was applied.'),
    );
    this.name = new.target.name;
  }
}

/**
 * The stored install_state as this version works with it. Version 1 (one role, "Order Companion")
 * had no `roles`: its uninstall took the created Role, else "Order Companion", and so does this.
 */
export function migrateState(raw: unknown): InstallState {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Partial<Omit<InstallState, 'version'>> & { version?: number };
  if (s.version !== 1 && s.version !== 2) {
    throw new InstallRefused([`the site's install state (Order Companion Settings) has version ${String(s.version)}, which this version of the installer does not know: use the release that installed it`]);
  }
  const created = s.created ?? [];
  const roles = s.version === 2 && Array.isArray(s.roles) ? s.roles : created.filter((c) => c.doctype === 'Role').map((c) => c.name);
  return {
    version: 2,
    installedAt: s.installedAt ?? new Date().toISOString(),
    created,
    modified: s.modified ?? [],
    customisedPermissions: s.customisedPermissions ?? [],
    roles: roles.length || s.version === 2 ? roles : [V1_ROLE],
    ...(s.product ? { product: s.product } : {}),
  };
}

function siteMessage(e: unknown): string {
  if (e instanceof FrappeApiError) return [e.excType, ...(e.messages.length ? e.messages : [e.errorMessage ?? e.message])].filter(Boolean).join(': ');
  return e instanceof Error ? e.message : String(e);
}

/**
 * A user's roles as `frappe.get_roles` gives them, through the method any logged-in user may call
 * (frappe/core/doctype/user/user.py `get_roles`, which reads `uid`). The User record is no help:
 * its `roles` are permlevel 1 and stripped for a non-manager (recording `restricted-user-get-self`).
 * Falls back to the User record where the method is missing.
 */
export async function rolesOf(client: FrappeClient, user: string): Promise<string[]> {
  try {
    const roles = await client.call<string[]>('frappe.core.doctype.user.user.get_roles', { uid: user }, 'GET');
    if (Array.isArray(roles)) return roles.map(String);
  } catch (e) {
    if (!(e instanceof FrappeApiError) || ![403, 404].includes(e.status)) throw e;
  }
  const doc = await fetchDoc(client, 'User', user).catch((e) => {
    if (e instanceof FrappeApiError && e.status === 403) return null;
    throw e;
  });
  return ((doc?.roles as { role: string }[]) ?? []).map((r) => r.role);
}

export interface InstallOptions {
  /**
   * The sidecar's API user. Helpdesk shows HD Tickets only to agents (hd_ticket.py
   * `has_permission` / `permission_query`, utils.py `is_agent`), so install makes it one with an
   * HD Agent record (Helpdesk then also gives it the Agent role).
   */
  sidecarUser?: string;
}

/** Checks that need no write: the API user is a System Manager, the apps are there, no field clashes. */
export async function preflight(client: FrappeClient, desired: DesiredState, opts: InstallOptions = {}): Promise<void> {
  const problems: string[] = [];
  const user = await client.call<string>('frappe.auth.get_logged_user', {}, 'GET');
  if (user !== 'Administrator') {
    const roles = await rolesOf(client, String(user));
    if (!roles.includes('System Manager')) {
      // Without the role the remaining checks cannot even read DocType meta.
      throw new InstallRefused([
        `the API user ${user} is not a System Manager: installing DocTypes, custom fields and permissions needs that role (use an administrator's API key for install; the sidecar itself runs with the Order Companion role)`,
      ]);
    }
  }
  if (opts.sidecarUser && !(await fetchDoc(client, 'User', opts.sidecarUser))) {
    problems.push(`the sidecar user ${opts.sidecarUser} (--sidecar-user) does not exist: create that User first (README, "Put it on your site", step 1)`);
  }
  for (const [doctype, app] of Object.entries(REQUIRED)) {
    if (!(await fetchDoc(client, 'DocType', doctype))) problems.push(`DocType ${doctype} is missing: install ${app} on this site first`);
  }
  // A role file may grant on a DocType the list above does not name.
  for (const role of desired.roles) {
    for (const g of role.grants) {
      if (g.parent in REQUIRED || desired.records.some((r) => r.doctype === 'DocType' && r.name === g.parent)) continue;
      if (!(await fetchDoc(client, 'DocType', g.parent))) problems.push(`DocType ${g.parent} is missing (doctypes/roles/${role.file} grants on it): install the app that provides it first`);
    }
  }
  // A field of the same name and another type (standard, or a custom field not ours) cannot be reused.
  const previous = await readState(client).catch(() => null);
  const ours = new Set((previous?.created ?? []).map((c) => `${c.doctype}|${c.name}`));
  const metaCache = new Map<string, Record<string, unknown>[]>();
  for (const r of desired.records.filter((r) => r.doctype === 'Custom Field')) {
    const dt = String(r.doc.dt);
    if (!metaCache.has(dt)) {
      const standard = ((await fetchDoc(client, 'DocType', dt))?.fields as Record<string, unknown>[]) ?? [];
      const custom = await client.getList<Record<string, unknown>>('Custom Field', {
        fields: ['name', 'fieldname', 'fieldtype', 'options'],
        filters: [['dt', '=', dt]],
        orderBy: 'name asc',
        limitPageLength: 0,
      });
      metaCache.set(dt, [...standard, ...custom]);
    }
    const clash = metaCache.get(dt)!.find((f) => f.fieldname === r.doc.fieldname);
    if (!clash) continue;
    // Our own Custom Field from an earlier install: an upgrade may change it (the plan shows how).
    if (ours.has(`Custom Field|${r.name}`)) continue;
    const isCustom = clash.name === r.name;
    if (clash.fieldtype !== r.doc.fieldtype || (r.doc.options && (clash.options ?? null) !== r.doc.options)) {
      problems.push(`${dt} already has a field "${r.doc.fieldname}" of type ${clash.fieldtype}${clash.options ? ` (${clash.options})` : ''}; ours is ${r.doc.fieldtype}${r.doc.options ? ` (${r.doc.options})` : ''}. Rename or remove the existing field first`);
    } else if (!isCustom) {
      problems.push(`${dt} already has a standard field "${r.doc.fieldname}"; a Custom Field of that name cannot be added`);
    }
  }
  if (problems.length) throw new InstallRefused(problems);
}

async function readState(client: FrappeClient): Promise<InstallState | null> {
  if (!(await fetchDoc(client, 'DocType', STATE_DOCTYPE))) return null;
  const doc = await fetchDoc(client, STATE_DOCTYPE, STATE_DOCTYPE);
  const text = doc?.install_state;
  return typeof text === 'string' && text ? migrateState(JSON.parse(text)) : null;
}

async function writeState(client: FrappeClient, state: InstallState): Promise<void> {
  await client.update(STATE_DOCTYPE, STATE_DOCTYPE, { install_state: JSON.stringify(state, null, 1) });
}

export interface InstallResult {
  plan: PlanEntry[];
  applied: string[];
  /** What the administrator still has to do, e.g. make the sidecar's user a Helpdesk agent. */
  notes: string[];
}

export const AGENT_NOTE =
  'Helpdesk shows tickets only to agents: make the sidecar\'s API user one (run install again with --sidecar-user <its email>, which adds an HD Agent record for it, or add it under Helpdesk → Agents)';

export async function install(client: FrappeClient, desired: DesiredState, log: (line: string) => void = () => undefined, opts: InstallOptions = {}): Promise<InstallResult> {
  await preflight(client, desired, opts);
  const plan = await makePlan(client, desired);
  const previous = await readState(client);
  const state: InstallState = previous ?? { version: 2, installedAt: new Date().toISOString(), created: [], modified: [], customisedPermissions: [], roles: [] };
  const ourRoles = new Set([...state.roles, ...desired.roles.map((r) => r.name)]);
  const applied: string[] = [];
  let stateStored = previous !== null;
  const remember = async () => {
    if (stateStored) await writeState(client, state);
  };
  // The state's own DocType goes first, so every later step is recorded as it happens: an install
  // cut short (a refusal, a lost connection, Ctrl-C) still leaves uninstall the full picture.
  const ordered = [
    ...plan.filter((e) => e.kind === 'record' && e.record.doctype === 'DocType' && e.record.name === STATE_DOCTYPE),
    ...plan.filter((e) => !(e.kind === 'record' && e.record.doctype === 'DocType' && e.record.name === STATE_DOCTYPE)),
  ];
  for (const entry of ordered) {
    if (entry.action === 'unchanged') continue;
    const label = entry.kind === 'record' ? `${entry.record.doctype} "${entry.record.name}"` : `permissions of ${grantTarget(entry.grant)} for ${entry.role}`;
    try {
      if (entry.kind === 'record') await applyRecord(client, entry, state, remember);
      else await applyGrant(client, entry, ourRoles, state, remember);
      if (!stateStored && (await fetchDoc(client, 'DocType', STATE_DOCTYPE))) stateStored = true;
      await remember();
    } catch (e) {
      await remember().catch(() => undefined);
      throw new InstallFailed(label, siteMessage(e), applied);
    }
    applied.push(`${entry.action === 'create' ? 'created' : 'updated'} ${label}`);
    log(`${entry.action === 'create' ? 'created' : 'updated'}  ${label}`);
  }
  // Every record now matches its file: say so, with each one's digest, for the sidecar's records check.
  state.product = { version: desired.version ?? null, installedAt: new Date().toISOString(), digests: desiredDigests(desired) };
  await remember();
  const notes: string[] = [];
  if (opts.sidecarUser) {
    const label = `HD Agent "${opts.sidecarUser}"`;
    try {
      const done = await ensureAgent(client, opts.sidecarUser, state, remember);
      if (done) {
        applied.push(`${done} ${label}`);
        log(`${done}  ${label}`);
      }
    } catch (e) {
      throw new InstallFailed(label, siteMessage(e), applied);
    }
  } else {
    notes.push(AGENT_NOTE);
    log(`note: ${AGENT_NOTE}`);
  }
  return { plan, applied, notes };
}

/**
 * An active HD Agent named after `user` (hd_agent.py names the record after its user and gives
 * the user the Agent role when it is first saved; creating one needs create on HD Agent, which
 * System Manager has). Returns what it did, or null when the agent was already there and active.
 */
async function ensureAgent(client: FrappeClient, user: string, state: InstallState, save: () => Promise<void>): Promise<'created' | 'updated' | null> {
  const agent = await fetchDoc(client, 'HD Agent', user);
  if (!agent) {
    if (!state.created.some((c) => c.doctype === 'HD Agent' && c.name === user)) state.created.push({ doctype: 'HD Agent', name: user });
    await save();
    await client.insert('HD Agent', { user, is_active: 1 });
    return 'created';
  }
  if (Number(agent.is_active ?? 0) === 1) return null;
  if (!state.modified.some((m) => m.doctype === 'HD Agent' && m.name === user) && !state.created.some((c) => c.doctype === 'HD Agent' && c.name === user)) {
    state.modified.push({ doctype: 'HD Agent', name: user, before: { is_active: 0 } });
    await save();
  }
  await client.update('HD Agent', user, { is_active: 1 });
  return 'updated';
}

async function applyRecord(client: FrappeClient, entry: RecordPlan, state: InstallState, save: () => Promise<void>): Promise<void> {
  const { record } = entry;
  if (entry.action === 'create') {
    // Recorded before the write: if the answer is lost, uninstall still knows to look for it.
    if (!state.created.some((c) => c.doctype === record.doctype && c.name === record.name)) state.created.push({ doctype: record.doctype, name: record.name });
    await save();
    await client.insert(record.doctype, { ...record.doc, name: record.name });
    return;
  }
  // Keep the value from before our *first* change, so uninstall restores the site's own.
  const known = state.modified.find((m) => m.doctype === record.doctype && m.name === record.name);
  const createdByUs = state.created.some((c) => c.doctype === record.doctype && c.name === record.name);
  if (!known && !createdByUs) {
    const before: Record<string, unknown> = {};
    for (const c of entry.changes) before[c.field] = entry.current?.[c.field] ?? null;
    state.modified.push({ doctype: record.doctype, name: record.name, before });
  } else if (known) {
    for (const c of entry.changes) if (!(c.field in known.before)) known.before[c.field] = entry.current?.[c.field] ?? null;
  }
  await save();
  const patch = Object.fromEntries(entry.changes.map((c) => [c.field, record.doc[c.field]]));
  await client.update(record.doctype, record.name, patch);
}

/** Copy the standard rules that are missing from a DocType's Custom DocPerms (a copy interrupted earlier). */
async function completeCopy(client: FrappeClient, parent: string, ourRoles: Set<string>): Promise<void> {
  const have = await client.getList<Record<string, unknown>>('Custom DocPerm', { fields: ['role', 'permlevel'], filters: [['parent', '=', parent]], orderBy: 'name asc', limitPageLength: 0 });
  const key = (r: Record<string, unknown>) => `${r.role}|${Number(r.permlevel ?? 0)}`;
  const present = new Set(have.map(key));
  const dt = await client.getDoc<{ permissions?: Record<string, unknown>[] }>('DocType', parent);
  for (const p of dt.permissions ?? []) {
    if (ourRoles.has(String(p.role)) || present.has(key(p))) continue;
    const row: Record<string, unknown> = { parent };
    for (const [k, v] of Object.entries(p)) if (!['name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx', 'parentfield', 'parenttype', 'doctype', 'parent'].includes(k) && v !== null) row[k] = v;
    await client.insert('Custom DocPerm', row);
  }
}

async function applyGrant(client: FrappeClient, entry: GrantPlan, ourRoles: Set<string>, state: InstallState, save: () => Promise<void>): Promise<void> {
  const { role } = entry;
  const parent = entry.grant.parent;
  // Named before its first row is written: uninstall then takes this role's rows on the DocTypes
  // whose permissions were copied for its own.
  if (!state.roles.includes(role)) {
    state.roles.push(role);
    await save();
  }
  if (entry.copyStandard.length) {
    // Frappe replaces a DocType's DocPerms with its Custom DocPerms as soon as one exists, so the
    // standard rules are copied first (as Role Permissions Manager's setup_custom_perms does).
    // Recorded before the first copy: a copy cut short is finished by the next install, and
    // undone by uninstall.
    if (!state.customisedPermissions.includes(parent)) state.customisedPermissions.push(parent);
    await save();
    for (const row of entry.copyStandard) await client.insert('Custom DocPerm', row);
  } else if (state.customisedPermissions.includes(parent)) {
    // Also the second role granting on a DocType whose copy the first one made: nothing is missing then.
    await completeCopy(client, parent, ourRoles);
  }
  const want = grantRow(entry.grant, role);
  if (entry.existing) {
    const name = String(entry.existing.name);
    const ours = state.customisedPermissions.includes(parent) || state.created.some((c) => c.doctype === 'Custom DocPerm' && c.name === name);
    if (!ours && !state.modified.some((m) => m.doctype === 'Custom DocPerm' && m.name === name)) {
      // A rule for our role that was there before us: keep its flags so uninstall can put them back.
      state.modified.push({ doctype: 'Custom DocPerm', name, before: Object.fromEntries(Object.keys(want).map((k) => [k, entry.existing![k] ?? 0])) });
      await save();
    }
    await client.update('Custom DocPerm', name, want);
    return;
  }
  const created = await client.insert<{ name: string }>('Custom DocPerm', want);
  if (!state.customisedPermissions.includes(parent)) state.created.push({ doctype: 'Custom DocPerm', name: created.name });
}

// ---- uninstall ----------------------------------------------------------------------------

/** After a Custom DocPerm was deleted: save one that is left (its on_update clears the cache), or reset when none is. */
async function clearPermissionCache(client: FrappeClient, parent: string): Promise<void> {
  const left = await client.getList<{ name: string }>('Custom DocPerm', { fields: ['name'], filters: [['parent', '=', parent]], orderBy: 'name asc', limitPageLength: 1 });
  if (left.length) await client.update('Custom DocPerm', left[0].name, {});
  else await client.call('frappe.core.page.permission_manager.permission_manager.reset', { doctype: parent }, 'POST');
}

export interface UninstallResult {
  removed: string[];
  restored: string[];
  kept: string[];
}

/** DocTypes whose rows are data: uninstall refuses to drop them while rows exist, unless told to. */
async function dataRows(client: FrappeClient, state: InstallState): Promise<string[]> {
  const out: string[] = [];
  for (const c of state.created.filter((c) => c.doctype === 'DocType' && c.name !== STATE_DOCTYPE)) {
    const n = await client.getCount(c.name, []);
    if (n > 0) out.push(`${c.name}: ${n} row(s)`);
  }
  return out;
}

export async function uninstall(client: FrappeClient, opts: { dropData?: boolean } = {}, log: (line: string) => void = () => undefined): Promise<UninstallResult> {
  const state = await readState(client);
  if (!state) throw new InstallRefused(['this site has no install state (Order Companion Settings): nothing was installed by this tool, or it was already uninstalled']);
  if (!opts.dropData) {
    const rows = await dataRows(client, state);
    if (rows.length) {
      throw new InstallRefused([`these DocTypes hold data that uninstall would delete — ${rows.join(', ')}. Pass --drop-data to delete it anyway`]);
    }
  }
  const result: UninstallResult = { removed: [], restored: [], kept: [] };
  // Restore what we changed, then remove what we created, newest first.
  for (const m of state.modified) {
    await client.update(m.doctype, m.name, m.before);
    result.restored.push(`${m.doctype} "${m.name}"`);
    log(`restored  ${m.doctype} "${m.name}"`);
  }
  const ourRoles = new Set(state.roles);
  for (const parent of state.customisedPermissions) {
    // Remove the copies of the standard rules and our roles' rules; a rule an administrator added since
    // stays (and keeps this DocType on Custom DocPerms, as they intended) and is named.
    const standard = new Set((((await fetchDoc(client, 'DocType', parent))?.permissions as Record<string, unknown>[]) ?? []).map((p) => `${p.role}|${Number(p.permlevel ?? 0)}`));
    const rows = await client.getList<{ name: string; role: string; permlevel?: number }>('Custom DocPerm', {
      fields: ['name', 'role', 'permlevel'],
      filters: [['parent', '=', parent]],
      orderBy: 'name asc',
      limitPageLength: 0,
    });
    const theirs = rows.filter((r) => !ourRoles.has(r.role) && !standard.has(`${r.role}|${Number(r.permlevel ?? 0)}`));
    // Deleting a Custom DocPerm does not clear the DocType's cached permissions (custom_docperm.py
    // clears them on update only): the deleted rules would stay in force (recording
    // `restricted-insert-after-custom-docperm-delete`). Re-saving the DocType clears them, but a
    // standard DocType cannot be saved outside developer mode, so do what Role Permissions
    // Manager does: "Reset to defaults" (permission_manager.py `reset`: deletes the DocType's Custom
    // DocPerms and clears its cache) when none stays, else save one that stays.
    if (!theirs.length) await client.call('frappe.core.page.permission_manager.permission_manager.reset', { doctype: parent }, 'POST');
    else {
      for (const r of rows) if (!theirs.includes(r)) await client.remove('Custom DocPerm', r.name);
      await client.update('Custom DocPerm', theirs[0].name, {});
    }
    const kept = theirs.length ? ` (left in place: rules added since for ${theirs.map((r) => r.role).join(', ')})` : '';
    result.restored.push(`standard permissions of ${parent}${kept}`);
    log(`restored  standard permissions of ${parent}${kept}`);
  }
  for (const c of [...state.created].reverse()) {
    if (c.doctype === 'DocType' && c.name === STATE_DOCTYPE) continue;
    try {
      const doc = await fetchDoc(client, c.doctype, c.name);
      if (doc) await client.remove(c.doctype, c.name);
      // Our row on a DocType that had Custom DocPerms before us: clear its cached rules as above.
      if (doc && c.doctype === 'Custom DocPerm') await clearPermissionCache(client, String(doc.parent));
      result.removed.push(`${c.doctype} "${c.name}"`);
      log(`removed   ${c.doctype} "${c.name}"`);
    } catch (e) {
      // A record still in use (a lead in status OPEN, a role given to users) stays; say why.
      if (e instanceof FrappeApiError && (e.excType === 'LinkExistsError' || e.status === 417)) {
        result.kept.push(`${c.doctype} "${c.name}": ${siteMessage(e)}`);
        log(`kept      ${c.doctype} "${c.name}" (still in use)`);
        continue;
      }
      throw e;
    }
  }
  if (result.kept.length) {
    // Records still in use stay; so does the state that names them, for a later uninstall.
    state.created = state.created.filter((c) => result.kept.some((k) => k.startsWith(`${c.doctype} "${c.name}"`)) || (c.doctype === 'DocType' && c.name === STATE_DOCTYPE));
    state.modified = [];
    state.customisedPermissions = [];
    state.roles = [];
    await writeState(client, state);
    return result;
  }
  await client.remove('DocType', STATE_DOCTYPE);
  return result;
}
