/**
 * `crm-order-companion site doctor`: can the sidecar work against this site, and if not, what to
 * change. Every check runs on its own (a refused key does not hide a realtime or CRM problem) and
 * says what it found, in words an administrator can act on, without ever printing the key or the
 * secret.
 *
 * Checks:
 *  - connect     REST answers with our key (`frappe.auth.get_logged_user`).
 *  - roles       each of our roles (doctypes/roles/) exists and whether the API user holds it; the
 *                user has Order Companion (or System Manager) and can really read every DocType
 *                that role grants (and those of any other of our roles it holds, e.g. Order
 *                Companion Shop Sync for shop sync); write/create/submit/cancel are judged from
 *                its roles' permission rows.
 *                Its roles come from `frappe.core.doctype.user.user.get_roles` (the User record's
 *                roles are hidden from a non-manager). With Helpdesk, the user must also be a
 *                Helpdesk agent (an HD Agent record or the Agent role), or it sees no ticket.
 *  - realtime    one Socket.IO handshake, the way the sidecar dials (frappe/frappe realtime/middlewares/authenticate.js, then its get_user_info callback),
 *                then the sidecar's readiness probe on that socket (lib/frappe/realtime/probe.ts): the
 *                site is asked for one event and it must arrive — a handshake on another site's
 *                namespace is accepted, yet hears nothing.
 *  - time_zone   the site's System Settings time zone (datetimes on the wire are site-local).
 *  - crm_toggles FCRM Settings toggles that write communication_status behind the SLA engine's back
 *                (frappe/crm crm/fcrm/doctype/fcrm_settings/fcrm_settings.json).
 */
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import roleFile from '../../doctypes/roles/order_companion.json' with { type: 'json' };
import type { SiteConfig } from '../../lib/config/load.js';
import { clientForSite, type FrappeClient } from '../../lib/frappe/client.js';
import { isNoFrappeAnswer } from '../../lib/frappe/errors.js';
import { redactSecrets } from '../../lib/log.js';
import { packageRoot } from './package_root.js';
import { rolesOf } from './install.js';
import { loadRoles, type DesiredRole } from './records.js';
import { realtimeHeaders } from '../../lib/frappe/realtime/subscriber.js';
import { PROBE_METHOD, deafMessage, probeRealtime } from '../../lib/frappe/realtime/probe.js';

export type CheckLevel = 'error' | 'warning' | 'info';

export interface DoctorCheck {
  id: string;
  ok: boolean;
  /** `info` for a passing check; the severity of the problem otherwise. */
  level: CheckLevel;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  site: string;
  /** False when any error-level check failed; warnings are shown but do not fail the report. */
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Per REST request and for the realtime handshake. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Our roles (doctypes/roles/*.json). @defaultValue read from the package */
  roles?: DesiredRole[];
  /** How long the realtime check waits for the site's probe event. @defaultValue timeoutMs */
  probeTimeoutMs?: number;
}

/** The role the installer creates for the sidecar's API user (order history); doctypes/roles/ may hold more. */
export const COMPANION_ROLE = roleFile.role.name;

const ROLE_FIX = `give the API user the ${COMPANION_ROLE} role (User → Roles): \`crm-order-companion site install\` creates it with the permissions the sidecar needs`;

// ---- errors as the client throws them ----------------------------------------------------

interface ClientErrorShape {
  name?: string;
  message?: string;
  status?: number;
  excType?: string;
  messages?: string[];
  errorMessage?: string;
}

function asClientError(err: unknown): ClientErrorShape {
  return (err && typeof err === 'object' ? err : { message: String(err) }) as ClientErrorShape;
}

function statusOf(err: unknown): number | undefined {
  const e = asClientError(err);
  return e.name === 'FrappeApiError' ? e.status : undefined;
}

/** Frappe's own words when it gave any, else the client's headline after the arrow. */
function frappeReason(err: unknown): string {
  const e = asClientError(err);
  const said = [...(e.messages ?? []), ...(e.errorMessage ? [e.errorMessage] : [])].join(' | ');
  if (said) return said;
  const msg = e.message ?? String(err);
  const arrow = msg.indexOf('→ ');
  // The doctor makes one attempt on purpose, so the client's retry note says nothing here.
  return (arrow >= 0 ? msg.slice(arrow + 2) : msg).replace(/^no answer: /, '').replace(/ \(gave up after \d+ attempts?\)$/, '');
}

/** Why a request got no usable answer, phrased for the connect check (and reused by others). */
function describeRestFailure(err: unknown, site: SiteConfig): { message: string; fix: string } {
  const e = asClientError(err);
  const status = statusOf(err);
  // Something else answered (or nothing did): the client's sentence says so and what came back.
  if (isNoFrappeAnswer(err)) {
    const sentence = (e.message ?? '').replace(/ \(gave up after \d+ attempts?\)$/, '');
    const cut = sentence.lastIndexOf('; ');
    return {
      message: cut > 0 ? sentence.slice(0, cut) : sentence,
      fix:
        status === undefined
          ? `check that the site URL is right (FRAPPE_URL / "url") and that the site is up and reachable from this host (\`bench start\`, or supervisor/systemd in production)`
          : 'point FRAPPE_URL / "url" at the Frappe site itself (not at a proxy page or another application), and set FRAPPE_SITE / "name" to the site name (the folder under sites/): a bench answers a site name it does not host with an HTML 404',
    };
  }
  if (status === 401) {
    return {
      message: `${site.url} refused the API key/secret (401 ${e.excType ?? 'AuthenticationError'})`,
      fix:
        'generate a new key pair for the API user in Frappe (User → Settings → API Access → Generate Keys; the secret is shown once), ' +
        'then set it as FRAPPE_API_KEY / FRAPPE_API_SECRET (or the site\'s apiKey and secret file/variable in COC_CONFIG)',
    };
  }
  if (e.name === 'FrappeUnavailableError') {
    return {
      message: `no usable answer from ${site.url}: ${frappeReason(err)}`,
      fix: `check that the site URL is right (FRAPPE_URL / "url") and that the site is up and reachable from this host (\`bench start\`, or supervisor/systemd in production)`,
    };
  }
  if (status !== undefined && status >= 200 && status < 300) {
    return {
      message: `${site.url} answered, but not with Frappe's JSON: ${frappeReason(err)}`,
      fix: 'point the URL at the Frappe site itself, not at a proxy login page or another application',
    };
  }
  if (e.name === 'FrappeThrottledError') {
    return { message: `${site.url} is rate limiting us: ${frappeReason(err)}`, fix: 'wait and run the doctor again' };
  }
  return {
    message: `${site.url} answered ${status ?? ''} ${e.excType ?? ''}: ${frappeReason(err)}`.replace(/\s+/g, ' '),
    fix: 'read Frappe\'s message above; the site\'s error log (bench --site <site> show-error-log / Error Log list) has the details',
  };
}

/**
 * For the checks after connect: a refused key or a site that does not answer is the connect
 * check's finding; repeating its whole text under every check would bury the other results.
 */
function blockedBy(err: unknown): string | null {
  const e = asClientError(err);
  if (statusOf(err) === 401) return 'not checked: the API key/secret was refused (see connect)';
  if (isNoFrappeAnswer(err)) return 'not checked: no Frappe site answers at the URL (see connect)';
  if (e.name === 'FrappeUnavailableError' || e.name === 'FrappeThrottledError') return `not checked: the site gave no usable answer (${frappeReason(err)})`;
  return null;
}

// ---- checks ---------------------------------------------------------------------------------

async function checkConnect(site: SiteConfig, user: Promise<string>): Promise<DoctorCheck> {
  try {
    const name = await user;
    return { id: 'connect', ok: true, level: 'info', message: `REST answers at ${site.url} as ${name}` };
  } catch (err) {
    return { id: 'connect', ok: false, level: 'error', ...describeRestFailure(err, site) };
  }
}

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

const AGENT_FIX = (user: string) =>
  `make ${user} a Helpdesk agent: run \`crm-order-companion site install --sidecar-user ${user}\` with an administrator's key (it adds an HD Agent record for it), or add it under Helpdesk → Agents`;

/**
 * Helpdesk's `is_agent` (frappe/helpdesk:helpdesk/utils.py): Administrator, the Agent or Agent
 * Manager role, or an HD Agent record named after the user. The record is looked up the way
 * roleExists does it: Frappe loads it before checking the read permission, so 403 means it is there.
 * Null when it cannot be told.
 */
async function agentStatus(client: FrappeClient, user: string, admin: boolean, roles: string[] | null): Promise<boolean | null> {
  if (admin || roles?.includes('Agent') || roles?.includes('Agent Manager')) return true;
  try {
    await client.getDoc('HD Agent', user);
    return true;
  } catch (err) {
    const status = statusOf(err);
    if (status === 403) return true;
    if (status === 404) return false;
    return null;
  }
}

/** What the doctor says each of our roles is for; a role file not named here is described by its `_purpose`. */
const ROLE_USES: Record<string, { enables: string; needed: string }> = {
  'Order Companion': { enables: 'order history, SLAs and email status on leads, deals and tickets', needed: 'always needed' },
  'Order Companion Shop Sync': {
    enables: 'Shopify/Etsy order sync (creates and submits Sales Orders, creates Customers, Contacts and Addresses)',
    needed: 'needed only when shops are configured',
  },
};

const INSTALL_FIX = (role: string) => `run \`crm-order-companion site install\` with an administrator's key: it creates the ${role} role with its permissions`;

async function checkRoles(client: FrappeClient, user: Promise<string>, ourRoles: DesiredRole[]): Promise<DoctorCheck> {
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
  const grants = checked.flatMap((r) => r.grants.filter((g) => g.permlevel === 0).map((g) => ({ role: r.name, parent: g.parent, flags: g.flags })));
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

/** Frappe's handshake refusals (frappe/frappe realtime/middlewares/authenticate.js) and transport failures, with their fixes. */
function realtimeFix(reason: string, site: SiteConfig, dial: string): string {
  const serverRuns =
    'check that the socketio process runs (`bench start` in development; `bench restart` or `supervisorctl status` in production) ' +
    'and that the web server/proxy forwards /socket.io (with WebSocket upgrade) to it';
  if (reason === 'Invalid namespace') {
    return `the realtime server resolved another site than "${site.name}": set FRAPPE_SITE / "name" to the Frappe site name (the folder under sites/)`;
  }
  if (reason === 'Invalid origin') {
    return `the Origin (the site URL ${site.url}) must have the same host name as the URL dialed (${dial}): set FRAPPE_REALTIME_URL / "realtimeUrl" on the same host, or leave it unset to dial the site URL`;
  }
  if (reason.startsWith('No cookie transmitted')) {
    return 'this v15 realtime server refuses sockets without a Cookie header: make sure no proxy strips the Cookie header on /socket.io';
  }
  if (reason.startsWith('No authentication method')) {
    return 'the Authorization header did not reach the realtime server: make sure the proxy forwards it on /socket.io';
  }
  if (reason.startsWith('Unauthorized')) {
    if (/Unauthorized: Error: (Unauthorized|Forbidden)\b|401|403/.test(reason)) {
      return 'the site refused the API key/secret when the realtime server asked who we are: fix the connect check (User → Settings → API Access → Generate Keys)';
    }
    return (
      `the realtime server calls the site back at the Origin (${site.url}) to learn who we are, and that failed: ` +
      `the Origin must be the site URL the web server answers at, reachable from the realtime server; ${serverRuns}`
    );
  }
  return serverRuns;
}

/** The fix when the handshake is accepted but the site's events do not arrive. */
const NAMESPACE_FIX = (site: SiteConfig) =>
  `set FRAPPE_SITE (or "name" in COC_CONFIG) to the Frappe site's name — the folder under sites/, as in \`bench --site NAME\` — ` +
  `instead of "${site.name}", then run the doctor again`;

/** The handshake passed: does an event this site publishes reach that socket? */
async function checkEvents(socket: Socket, client: FrappeClient, site: SiteConfig, dial: string, timeoutMs: number): Promise<DoctorCheck> {
  let failure: unknown = null;
  const result = await probeRealtime({
    site: site.name,
    listen: (event, fn) => {
      socket.on(event, fn);
      return () => void socket.off(event, fn);
    },
    trigger: () =>
      client.call(PROBE_METHOD, {}, 'POST').catch((err: unknown) => {
        failure = err;
        throw err;
      }),
    timeoutMs,
  });
  const accepted = `realtime handshake accepted at ${dial}/${site.name}`;
  if (result.ok) return { id: 'realtime', ok: true, level: 'info', message: `${accepted}, and an event of this site arrived on it` };
  if (result.deaf) return { id: 'realtime', ok: false, level: 'error', message: `${accepted}, but ${deafMessage(site.name, timeoutMs)}`, fix: NAMESPACE_FIX(site) };
  return {
    id: 'realtime',
    ok: false,
    level: 'error',
    message: `${accepted}; whether this site's events arrive is ${blockedBy(failure) ?? `not checked: asking the site for an event failed (${frappeReason(failure)})`}`,
  };
}

function checkRealtime(site: SiteConfig, client: FrappeClient, timeoutMs: number, probeTimeoutMs: number): Promise<DoctorCheck> {
  const dial = (site.realtimeUrl ?? site.url).replace(/\/+$/, '');
  let socket: Socket | null = null;
  return new Promise<DoctorCheck>((resolve) => {
    const finish = (check: DoctorCheck) => {
      clearTimeout(timer);
      socket?.close();
      resolve(check);
    };
    const timer = setTimeout(
      () =>
        finish({
          id: 'realtime',
          ok: false,
          level: 'error',
          message: `no realtime handshake with ${dial}/${site.name} within ${timeoutMs} ms`,
          fix: realtimeFix('', site, dial),
        }),
      timeoutMs,
    );
    try {
      socket = io(`${dial}/${site.name}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: timeoutMs,
        extraHeaders: realtimeHeaders(site),
      });
    } catch (err) {
      finish({ id: 'realtime', ok: false, level: 'error', message: `cannot dial ${dial}: ${(err as Error).message}`, fix: realtimeFix('', site, dial) });
      return;
    }
    socket.once('connect', () => {
      clearTimeout(timer);
      void checkEvents(socket!, client, site, dial, probeTimeoutMs).then(finish);
    });
    socket.once('connect_error', (err: Error & { description?: unknown }) => {
      // Middleware refusals carry Frappe's text as the message; transport failures say
      // "websocket error" and keep the cause (ECONNREFUSED, a 404 from a proxy) in `description`.
      const cause = err.description instanceof Error ? err.description.message : typeof err.description === 'string' ? err.description : '';
      const reason = err.message || 'connection failed';
      const text = cause && !reason.includes(cause) ? `${reason} (${cause})` : reason;
      finish({
        id: 'realtime',
        ok: false,
        level: 'error',
        message: `realtime handshake with ${dial}/${site.name} refused: ${text}`,
        fix: realtimeFix(reason, site, dial),
      });
    });
  });
}

async function checkTimeZone(client: FrappeClient, site: SiteConfig): Promise<DoctorCheck> {
  try {
    const answer = await client.call<{ time_zone?: string | null }>('frappe.client.get_time_zone', {}, 'GET');
    const tz = answer?.time_zone;
    if (!tz) {
      return {
        id: 'time_zone',
        ok: false,
        level: 'error',
        message: 'the site has no time zone set: its datetimes cannot be placed in time',
        fix: 'set Time Zone in System Settings',
      };
    }
    return { id: 'time_zone', ok: true, level: 'info', message: `site time zone ${tz}` };
  } catch (err) {
    return { id: 'time_zone', ok: false, level: 'error', message: blockedBy(err) ?? `cannot read the time zone: ${describeRestFailure(err, site).message}` };
  }
}

const TOGGLES: { field: 'auto_mark_replied_on_response' | 'auto_reopen_on_new_communication'; label: string }[] = [
  { field: 'auto_mark_replied_on_response', label: 'Mark lead/deal as replied on response' },
  { field: 'auto_reopen_on_new_communication', label: 'Reopen lead/deal on new communication' },
];

async function checkCrmToggles(client: FrappeClient): Promise<DoctorCheck> {
  let settings: Record<string, unknown>;
  try {
    settings = await client.getDoc<Record<string, unknown>>('FCRM Settings', 'FCRM Settings');
  } catch (err) {
    const blocked = blockedBy(err);
    if (blocked) return { id: 'crm_toggles', ok: false, level: 'warning', message: `${blocked}; auto-reply/auto-reopen toggles unknown` };
    const status = statusOf(err);
    const why = status === 404 ? 'Frappe CRM may not be installed' : status === 403 ? 'the API user lacks read access to it' : 'CRM may not be installed or the user lacks access';
    return {
      id: 'crm_toggles',
      ok: false,
      level: 'warning',
      message: `cannot read FCRM Settings (${why}: ${frappeReason(err)}), so its auto-reply/auto-reopen toggles are unchecked`,
      fix: 'run the doctor with a CRM user (Sales User or above), or check CRM → Settings by hand: both toggles must be off',
    };
  }
  const on = TOGGLES.filter((t) => Number(settings[t.field] ?? 0) === 1);
  if (!on.length) {
    return { id: 'crm_toggles', ok: true, level: 'info', message: 'FCRM Settings: auto_mark_replied_on_response and auto_reopen_on_new_communication are off' };
  }
  return {
    id: 'crm_toggles',
    ok: false,
    level: 'warning',
    message:
      `FCRM Settings: ${on.map((t) => `${t.field} ("${t.label}")`).join(' and ')} ${on.length > 1 ? 'are' : 'is'} on. ` +
      'CRM then writes communication_status with frappe.db.set_value, bypassing the SLA engine, ' +
      "and the sidecar's save of the same status would see no change",
    fix: `switch off ${on.map((t) => `"${t.label}"`).join(' and ')} in CRM → Settings; the sidecar sets the status itself through a real save`,
  };
}

// ---- run and print --------------------------------------------------------------------------

/** Never let the key or the secret into the report, whatever an error message carried. */
function scrub(text: string, site: SiteConfig): string {
  let out = redactSecrets(text);
  let secret = '';
  try {
    secret = site.apiSecret();
  } catch {
    /* an unreadable secret file: nothing to scrub */
  }
  for (const s of [secret, site.apiKey]) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

export async function runDoctor(site: SiteConfig, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // One attempt per request: a doctor reports what it sees now instead of backing off for a minute.
  const client = clientForSite(site, { timeoutMs, maxRetries: 0 });
  const user = client.call<string>('frappe.auth.get_logged_user', {}, 'GET').then((u) => {
    if (!u) throw new Error('frappe.auth.get_logged_user answered no user');
    return u;
  });
  user.catch(() => undefined); // reported by the checks that await it

  const guard = (id: string, run: () => Promise<DoctorCheck>): Promise<DoctorCheck> =>
    run().catch((err: unknown) => ({ id, ok: false, level: 'error' as const, message: `check failed: ${frappeReason(err)}` }));

  const checks = await Promise.all([
    guard('connect', () => checkConnect(site, user)),
    guard('roles', async () => checkRoles(client, user, opts.roles ?? loadRoles(join(packageRoot(), 'doctypes')).map((r) => r.role))),
    guard('realtime', () => checkRealtime(site, client, timeoutMs, opts.probeTimeoutMs ?? timeoutMs)),
    guard('time_zone', () => checkTimeZone(client, site)),
    guard('crm_toggles', () => checkCrmToggles(client)),
  ]);
  const clean = checks.map((c) => ({ ...c, message: scrub(c.message, site), ...(c.fix ? { fix: scrub(c.fix, site) } : {}) }));
  return { site: site.name, ok: !clean.some((c) => !c.ok && c.level === 'error'), checks: clean };
}

export function formatDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    const mark = c.ok ? '✓' : c.level === 'error' ? '✗' : '!';
    lines.push(`${mark} ${c.id}: ${c.message}`);
    if (c.fix && !c.ok) lines.push(`    fix: ${c.fix}`);
  }
  const passed = report.checks.filter((c) => c.ok).length;
  const warnings = report.checks.filter((c) => !c.ok && c.level !== 'error').length;
  const errors = report.checks.filter((c) => !c.ok && c.level === 'error').length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  lines.push(
    `${report.site}: ${report.ok ? 'OK' : 'NOT READY'} — ${passed} passed, ${plural(warnings, 'warning')}, ${plural(errors, 'error')}`,
  );
  return lines.join('\n');
}
