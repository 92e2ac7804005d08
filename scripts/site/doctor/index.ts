/**
 * `crm-order-companion site doctor`: can the sidecar work against this site, and if not, what to
 * change. Every check runs on its own (a refused key does not hide a realtime or CRM problem) and
 * says what it found, in words an administrator can act on, without ever printing the key or the
 * secret.
 *
 * One file per check (connect.ts, roles.ts with helpdesk_agent.ts, realtime.ts, time_zone.ts,
 * crm_settings.ts); this one runs them and prints the report. Checks:
 *  - connect     REST answers with our key (`frappe.auth.get_logged_user`).
 *  - roles       each of our roles (doctypes/roles/) exists and whether the API user holds it; the
 *                user has Order Companion (or System Manager) and can really read every DocType
 *                that role grants (and those of any other of our roles it holds, e.g. Order
 *                Companion Shop Sync for shop sync); write/create/submit/cancel are judged from
 *                its roles' permission rows.
 *                Its roles come from `frappe.core.doctype.user.user.get_roles` (the User record's
 *                roles are hidden from a non-manager). With Helpdesk, the user must also be a
 *                Helpdesk agent (an HD Agent record or the Agent role), or it sees no ticket.
 *  - realtime    one Socket.IO handshake, the way the sidecar dials,
 *                then the sidecar's readiness probe on that socket (lib/frappe/realtime/probe.ts): the
 *                site is asked for one event and it must arrive — a handshake on another site's
 *                namespace is accepted, yet hears nothing.
 *  - time_zone   the site's System Settings time zone (datetimes on the wire are site-local).
 *  - crm_toggles FCRM Settings toggles that write communication_status behind the SLA engine's back.
 */
import { join } from 'node:path';
import type { SiteConfig } from '../../../lib/config/load.js';
import { clientForSite } from '../../../lib/frappe/client.js';
import { redactSecrets } from '../../../lib/log.js';
import { packageRoot } from '../package_root.js';
import { loadRoles } from '../../../lib/site/records.js';
import { frappeReason } from './client_errors.js';
import { checkConnect } from './connect.js';
import { checkCrmToggles } from './crm_settings.js';
import { checkRealtime } from './realtime.js';
import { checkRoles } from './roles.js';
import { checkTimeZone } from './time_zone.js';
import type { DoctorCheck, DoctorOptions, DoctorReport } from './types.js';

export type { CheckLevel, DoctorCheck, DoctorOptions, DoctorReport } from './types.js';
export { COMPANION_ROLE } from './roles.js';

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
