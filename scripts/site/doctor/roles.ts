/**
 * The roles check: each of our roles (doctypes/roles/) exists and whether the API user holds it; the
 * user has Order Companion (or System Manager) and can really read every DocType that role grants
 * (and those of any other of our roles it holds, e.g. Order Companion Shop Sync for shop sync);
 * write/create/submit/cancel are judged from its roles' permission rows. Its roles come from
 * `frappe.core.doctype.user.user.get_roles` (the User record's roles are hidden from a non-manager).
 */
import roleFile from '../../../doctypes/roles/order_companion.json' with { type: 'json' };
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { rolesOf } from '../install.js';
import { STATE_DOCTYPE, type DesiredRole } from '../../../lib/site/records.js';
import { blockedBy, frappeReason, statusOf } from './client_errors.js';
import { AGENT_FIX, agentStatus } from './helpdesk_agent.js';
import type { DoctorCheck } from './types.js';

/** The role the installer creates for the sidecar's API user (order history); doctypes/roles/ may hold more. */
export const COMPANION_ROLE = roleFile.role.name;

const ROLE_FIX = `give the API user the ${COMPANION_ROLE} role (User → Roles): \`crm-order-companion site install\` creates it with the permissions the sidecar needs`;

/** The ptypes the doctor judges from permission rows instead of trying them (no test data on a production site). */
const WRITE_PTYPES = ['write', 'create', 'submit', 'cancel', 'delete', 'amend'] as const;
type WritePtype = (typeof WRITE_PTYPES)[number];

type PermRow = { role: string; permlevel?: number; if_owner?: number; read?: number } & Partial<Record<WritePtype, number>>;

/**
 * The permission rows Frappe applies to a DocType: its Custom DocPerms when any exist, else the
 * DocType's own DocPerms (frappe/permissions.py `get_valid_perms` via `get_perms_for`). Null when
 * the API user may not read them (only System Managers can).
 */
async function permissionRows(client: FrappeClient, doctype: string): Promise<PermRow[] | null> {
  try {
    const custom = await client.getList<PermRow>('Custom DocPerm', {
      fields: ['role', 'permlevel', 'if_owner', 'read', ...WRITE_PTYPES],
      filters: [['parent', '=', doctype]],
      orderBy: 'name asc',
      limitPageLength: 0,
    });
    if (custom.length) return custom;
    const meta = await client.getDoc<{ permissions?: PermRow[] }>('DocType', doctype);
    return meta.permissions ?? [];
  } catch (err) {
    const status = statusOf(err);
    if (status === 403 || status === 404) return null;
    throw err;
  }
}

/**
 * Whether the Role record exists. Frappe loads the document before it checks the read permission
 * (api `read_doc`: `frappe.get_doc` then `has_permission`), so a 403 means it is there.
 */
async function roleExists(client: FrappeClient, role: string): Promise<boolean | null> {
  try {
    await client.getDoc('Role', role);
    return true;
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return false;
    if (status === 403) return true;
    return null;
  }
}

/** `frappe.get_roles` adds these to everyone (frappe/permissions.py AUTOMATIC_ROLES [v15]); not worth naming. */
const AUTOMATIC_ROLES = new Set(['All', 'Guest', 'Desk User']);

/** What the doctor says each of our roles is for; a role file not named here is described by its `_purpose`. */
const ROLE_USES: Record<string, { enables: string; needed: string }> = {
  'Order Companion': { enables: 'order history, SLAs and email status on leads, deals and tickets', needed: 'always needed' },
  'Order Companion Shop Sync': {
    enables: 'Shopify/Etsy order sync (creates and submits Sales Orders, creates Customers, Contacts and Addresses)',
    needed: 'needed only when shops are configured',
  },
  'Order Companion Operator': { enables: 'signing in to the ops console (/console)', needed: 'for the people who operate the sidecar, not for the API user' },
};

const INSTALL_FIX = (role: string) => `run \`crm-order-companion site install\` with an administrator's key: it creates the ${role} role with its permissions`;

export async function checkRoles(client: FrappeClient, user: Promise<string>, ourRoles: DesiredRole[]): Promise<DoctorCheck> {
  let name: string;
  try {
    name = await user;
  } catch (err) {
    return { id: 'roles', ok: false, level: 'error', message: blockedBy(err) ?? `not checked: the API user is unknown (${frappeReason(err)})` };
  }
  const problems: string[] = [];
  const notes: string[] = [];
  const fixes = new Set<string>();
  const admin = name === 'Administrator';
  const primary = ourRoles.find((r) => r.name === COMPANION_ROLE) ?? ourRoles[0];

  // Not from the User record: its `roles` table is permlevel 1 and comes back empty to a user who
  // is not a System Manager, even on its own record (recording `restricted-user-get-self`).
  let roles: string[] | null = null;
  try {
    roles = (await rolesOf(client, name)).filter((r) => !AUTOMATIC_ROLES.has(r));
  } catch (err) {
    notes.push(`its roles could not be read (${frappeReason(err)})`);
  }
  const holds = (role: string) => admin || (roles?.includes(role) ?? false);
  const hasCompanion = holds(COMPANION_ROLE);
  const hasManager = admin || (roles?.includes('System Manager') ?? false);
  if (roles && !hasCompanion && !hasManager) {
    problems.push(`${name} has neither the ${COMPANION_ROLE} nor the System Manager role (has: ${roles.join(', ') || 'none'})`);
    fixes.add(ROLE_FIX);
  }
  // Frappe lists email Communications only to System Managers and Super Email Users: without one
  // of them the email-direction updater (and its catch-up) would never see a mail.
  if (roles && !hasManager && !roles.includes('Super Email User')) {
    problems.push(`${name} cannot list email Communications (it needs the Super Email User role), so lead statuses would not follow the email conversation`);
    fixes.add('give the API user the Super Email User role (User → Roles)');
  }

  // Each of our roles: is it on the site, does the API user hold it, what does it enable.
  const exists = await Promise.all(ourRoles.map((r) => (holds(r.name) && !admin ? Promise.resolve(true) : roleExists(client, r.name))));
  const summary = ourRoles.map((r, i) => {
    const use = ROLE_USES[r.name] ?? { enables: `the grants of doctypes/roles/${r.file}`, needed: 'needed as its _purpose says' };
    const state = exists[i] === false ? 'not on the site' : holds(r.name) ? 'held' : 'not held';
    return `${r.name} (${state}) enables ${use.enables}, ${use.needed}`;
  });
  ourRoles.forEach((r, i) => {
    if (exists[i] === false && r === primary) {
      problems.push(`the ${r.name} role does not exist on the site`);
      fixes.add(INSTALL_FIX(r.name));
    } else if (exists[i] === false) {
      notes.push(`to use ${r.name}, ${INSTALL_FIX(r.name)}`);
    } else if (exists[i] === null) {
      notes.push(`whether the ${r.name} role exists could not be checked`);
    }
  });

  // The grants checked: the companion role's always (order history needs them whatever roles
  // give them), another role's when the user holds it (then its feature is meant to work).
  const checked = ourRoles.filter((r) => r === primary || (holds(r.name) && exists[ourRoles.indexOf(r)] !== false));
  // Document-level rows only: what a field-level row adds is not visible to a probe.
  // Not the install state's DocType: `site install` makes it, and the console's records check
  // (which is what reads it) says on its card when it is missing or unreadable.
  const grants = checked.flatMap((r) => r.grants.filter((g) => g.permlevel === 0 && g.parent !== STATE_DOCTYPE).map((g) => ({ role: r.name, parent: g.parent, flags: g.flags })));
  const fixFor = (role: string) => (role === primary.name ? ROLE_FIX : INSTALL_FIX(role));
  const parents = [...new Set(grants.map((g) => g.parent))];

  // Reads are proven, not inferred: one row of each DocType the roles grant.
  const unreadable: string[] = [];
  const missing: string[] = [];
  await Promise.all(
    parents
      .filter((p) => grants.some((g) => g.parent === p && g.flags.read))
      .map(async (parent) => {
        try {
          await client.call('frappe.client.get_list', { doctype: parent, fields: ['name'], limit_page_length: 1 }, 'GET');
        } catch (err) {
          const status = statusOf(err);
          if (status === 403) unreadable.push(parent);
          else if (status === 404) missing.push(parent);
          else problems.push(`reading ${parent} failed: ${frappeReason(err)}`);
        }
      }),
  );
  const order = (list: string[]) => parents.filter((p) => list.includes(p));
  if (unreadable.length) {
    problems.push(`cannot read ${order(unreadable).join(', ')}`);
    for (const g of grants) if (unreadable.includes(g.parent)) fixes.add(fixFor(g.role));
  }
  if (missing.length) {
    problems.push(`DocType ${order(missing).join(', ')} does not exist on the site`);
    fixes.add('install the app that provides it (ERPNext for Customer/Sales Order/Work Order, Frappe CRM for CRM Lead/Deal, Helpdesk for HD Ticket/HD Customer)');
  }

  // Helpdesk shows tickets only to agents, whatever the permission rows say.
  if (parents.includes('HD Ticket') && !missing.includes('HD Ticket')) {
    const agent = await agentStatus(client, name, admin, roles);
    if (agent === false) {
      problems.push(`${name} is not a Helpdesk agent, so Helpdesk shows it no ticket (403 on a ticket, an empty list): the ticket SLA sweep would find nothing and ticket emails would fail`);
      fixes.add(AGENT_FIX(name));
    } else if (agent === null) notes.push('whether it is a Helpdesk agent could not be checked');
  }

  // Writes, creates, submits and cancels are judged from the roles' permission rows: probing them
  // would mean writing test data into a production site.
  const writes = grants.flatMap((g) => WRITE_PTYPES.filter((p) => g.flags[p]).map((p) => ({ role: g.role, doctype: g.parent, ptype: p })));
  if (!admin && roles) {
    const userRoles = new Set([...roles, 'All']);
    const lacking: string[] = [];
    let unverifiable = false;
    const rowsOf = new Map<string, Promise<PermRow[] | null>>();
    for (const w of writes) {
      if (missing.includes(w.doctype)) continue;
      if (!rowsOf.has(w.doctype)) rowsOf.set(w.doctype, permissionRows(client, w.doctype));
      const rows = await rowsOf.get(w.doctype)!;
      if (rows === null) {
        unverifiable = true;
        continue;
      }
      const granted = rows.some((r) => (r.permlevel ?? 0) === 0 && !r.if_owner && userRoles.has(r.role) && r[w.ptype]);
      if (!granted) {
        lacking.push(`${w.ptype} on ${w.doctype}`);
        fixes.add(fixFor(w.role));
      }
    }
    if (lacking.length) problems.push(`its roles give no ${lacking.join(', ')}`);
    if (unverifiable) {
      const from = checked.filter((r) => holds(r.name)).map((r) => r.name);
      const what = WRITE_PTYPES.filter((p) => writes.some((w) => w.ptype === p)).join('/');
      if (from.length) notes.push(`${what} assumed from the ${from.join(' and ')} role${from.length > 1 ? 's' : ''} (permission rows are not readable by this user)`);
      else notes.push(`${what} could not be verified (permission rows are not readable by this user)`);
    }
  }

  const ours = ourRoles.filter((r) => holds(r.name)).map((r) => r.name);
  const held = admin ? 'Administrator' : roles ? (ours.length ? ours.join(', ') : hasManager ? 'System Manager' : 'no companion role') : 'roles not readable';
  const suffix = `; our roles: ${summary.join('; ')}${notes.length ? `; ${notes.join('; ')}` : ''}`;
  if (problems.length) {
    return { id: 'roles', ok: false, level: 'error', message: `API user ${name} (${held}): ${problems.join('; ')}${suffix}`, fix: [...fixes].join('; ') };
  }
  const readList = parents.filter((p) => grants.some((g) => g.parent === p && g.flags.read));
  const writeList = writes.map((w) => `${w.ptype} ${w.doctype}`);
  return {
    id: 'roles',
    ok: true,
    level: 'info',
    message: `API user ${name} (${held}) reads ${readList.join(', ')}; may ${writeList.join(', ')}${suffix}`,
  };
}
