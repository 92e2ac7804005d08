/**
 * `crm-order-companion site doctor`: can the sidecar work against this site, and if not, what to
 * change. Every check runs on its own (a refused key does not hide a realtime or CRM problem) and
 * says what it found, in words an administrator can act on, without ever printing the key or the
 * secret.
 *
 * Checks:
 *  - connect     REST answers with our key (`frappe.auth.get_logged_user`).
 *  - roles       the API user has Order Companion (or System Manager) and can really read every
 *                DocType the role grants; write/create are judged from its roles' permission rows.
 *  - realtime    one Socket.IO handshake, the way the sidecar dials (frappe-platform.md §1.2–1.3).
 *  - time_zone   the site's System Settings time zone (datetimes on the wire are site-local).
 *  - crm_toggles FCRM Settings toggles that write communication_status behind the SLA engine's back
 *                (crm-helpdesk.md §2.5).
 */
import { io, type Socket } from 'socket.io-client';
import roleFile from '../../doctypes/roles/order_companion.json' with { type: 'json' };
import type { SiteConfig } from '../../sidecar/config/load.js';
import { clientForSite, type FrappeClient } from '../../sidecar/frappe/client.js';
import { redactSecrets } from '../../sidecar/log.js';
import { realtimeHeaders } from '../../sidecar/realtime/subscriber.js';

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
}

/** The role the installer creates for the sidecar's API user. */
export const COMPANION_ROLE = roleFile.role.name;

interface Grant {
  parent: string;
  read?: number;
  write?: number;
  create?: number;
}

const GRANTS: Grant[] = roleFile.grants;

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

interface PermRow {
  role: string;
  permlevel?: number;
  if_owner?: number;
  read?: number;
  write?: number;
  create?: number;
}

/**
 * The permission rows Frappe applies to a DocType: its Custom DocPerms when any exist, else the
 * DocType's own DocPerms (frappe/permissions.py `get_valid_perms` via `get_perms_for`). Null when
 * the API user may not read them (only System Managers can).
 */
async function permissionRows(client: FrappeClient, doctype: string): Promise<PermRow[] | null> {
  try {
    const custom = await client.getList<PermRow>('Custom DocPerm', {
      fields: ['role', 'permlevel', 'if_owner', 'read', 'write', 'create'],
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

async function checkRoles(client: FrappeClient, user: Promise<string>): Promise<DoctorCheck> {
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

  // Frappe shares every user's own User record with them on save (user.py `share_with_self`), so
  // the roles table is normally readable; if it is not, the reads below still tell the story.
  let roles: string[] | null = null;
  try {
    const doc = await client.getDoc<{ roles?: { role: string }[] }>('User', name);
    roles = (doc.roles ?? []).map((r) => r.role);
  } catch (err) {
    notes.push(`its roles could not be read (${frappeReason(err)})`);
  }
  const hasCompanion = admin || (roles?.includes(COMPANION_ROLE) ?? false);
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

  // Reads are proven, not inferred: one row of each DocType the role grants.
  const unreadable: string[] = [];
  const missing: string[] = [];
  await Promise.all(
    GRANTS.filter((g) => g.read).map(async (g) => {
      try {
        await client.call('frappe.client.get_list', { doctype: g.parent, fields: ['name'], limit_page_length: 1 }, 'GET');
      } catch (err) {
        const status = statusOf(err);
        if (status === 403) unreadable.push(g.parent);
        else if (status === 404) missing.push(g.parent);
        else problems.push(`reading ${g.parent} failed: ${frappeReason(err)}`);
      }
    }),
  );
  const order = (list: string[]) => GRANTS.map((g) => g.parent).filter((p) => list.includes(p));
  if (unreadable.length) {
    problems.push(`cannot read ${order(unreadable).join(', ')}`);
    fixes.add(ROLE_FIX);
  }
  if (missing.length) {
    problems.push(`DocType ${order(missing).join(', ')} does not exist on the site`);
    fixes.add('install the app that provides it (ERPNext for Customer/Sales Order/Work Order, Frappe CRM for CRM Lead/Deal, Helpdesk for HD Ticket/HD Customer)');
  }

  // Writes and creates are judged from the roles' permission rows: probing them would mean
  // writing test data into a production site.
  const writes = GRANTS.flatMap((g) => (['write', 'create'] as const).filter((p) => g[p]).map((p) => ({ doctype: g.parent, ptype: p })));
  if (!admin && roles) {
    const userRoles = new Set([...roles, 'All']);
    const lacking: string[] = [];
    let unverifiable = false;
    for (const w of writes) {
      if (missing.includes(w.doctype)) continue;
      const rows = await permissionRows(client, w.doctype);
      if (rows === null) {
        unverifiable = true;
        continue;
      }
      const granted = rows.some((r) => (r.permlevel ?? 0) === 0 && !r.if_owner && userRoles.has(r.role) && r[w.ptype]);
      if (!granted) lacking.push(`${w.ptype} on ${w.doctype}`);
    }
    if (lacking.length) {
      problems.push(`its roles give no ${lacking.join(', ')}`);
      fixes.add(ROLE_FIX);
    }
    if (unverifiable) {
      if (hasCompanion) notes.push(`write/create assumed from the ${COMPANION_ROLE} role (permission rows are not readable by this user)`);
      else notes.push('write/create could not be verified (permission rows are not readable by this user)');
    }
  }

  const held = admin ? 'Administrator' : roles ? (hasCompanion ? COMPANION_ROLE : hasManager ? 'System Manager' : 'no companion role') : 'roles not readable';
  const suffix = notes.length ? `; ${notes.join('; ')}` : '';
  if (problems.length) {
    return { id: 'roles', ok: false, level: 'error', message: `API user ${name} (${held}): ${problems.join('; ')}${suffix}`, fix: [...fixes].join('; ') };
  }
  const readList = GRANTS.filter((g) => g.read).map((g) => g.parent);
  const writeList = writes.map((w) => `${w.ptype} ${w.doctype}`);
  return {
    id: 'roles',
    ok: true,
    level: 'info',
    message: `API user ${name} (${held}) reads ${readList.join(', ')}; may ${writeList.join(', ')}${suffix}`,
  };
}

/** Frappe's handshake refusals (frappe-platform.md §1.2) and transport failures, with their fixes. */
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

function checkRealtime(site: SiteConfig, timeoutMs: number): Promise<DoctorCheck> {
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
    socket.once('connect', () => finish({ id: 'realtime', ok: true, level: 'info', message: `realtime handshake accepted at ${dial}/${site.name}` }));
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
    guard('roles', () => checkRoles(client, user)),
    guard('realtime', () => checkRealtime(site, timeoutMs)),
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
