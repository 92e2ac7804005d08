/**
 * Telling people what the health check found, exactly once per site per day:
 * - a Notification Log per finding per recipient (the desk bell), through the SLA sender
 *   (sla_notify.ts: frappe.client.insert_many with a receipt the companion can read back, done keys
 *   in the job store, one lock per site), keyed by site, day, check and user;
 * - where configured, one email through the site's own mail: `frappe.core.doctype.communication.
 *   email.make` (frappe/frappe:frappe/core/doctype/communication/email.py [v15]) — whitelisted; it
 *   checks `has_permission(doctype, "email", name)` only when a reference document is given, inserts
 *   the Communication with ignore_permissions, and with `send_email` queues it on the site's
 *   outgoing Email Account (Email Queue). No SMTP of ours. Its state is kept in the job store
 *   (`sending` before the call, `sent` after): a run that finds `sending` — the process died or the
 *   answer was lost — looks for the Communication by its subject (one per site and day) before
 *   sending again.
 */
import { describeError, isPermanent } from '../../../lib/errors.js';
import { sendNotifications, type Notification } from '../sla_notify.js';
import type { HandlerContext } from '../types.js';
import type { HealthReport } from './state.js';

export const EMAIL_MAKE = 'frappe.core.doctype.communication.email.make';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function noteKey(site: string, day: string, check: string, user: string): string {
  return `health.notify|${site}|${day}|${check}|${user}`;
}

export function emailSubject(report: Pick<HealthReport, 'site' | 'day' | 'findings'>): string {
  const n = report.findings.length;
  return `Order Companion health check of ${report.site} on ${report.day}: ${n} finding${n === 1 ? '' : 's'}`;
}

function detailsHtml(details: string[]): string {
  return details.length ? `<ul>${details.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '';
}

/** One Notification Log per finding per recipient; answers how many were sent by this call. */
export async function notifyFindings(ctx: HandlerContext, report: HealthReport, recipients: string[], self: () => Promise<string>): Promise<number> {
  const notes: Notification[] = [];
  for (const f of report.findings) {
    for (const user of recipients) {
      notes.push({
        key: noteKey(report.site, report.day, f.check, user),
        user,
        doctype: '',
        name: '',
        subject: `Health check of ${report.site} (${report.day}): ${f.message}`,
        content: `<p>${escapeHtml(f.message)}</p>${detailsHtml(f.details)}`,
      });
    }
  }
  const { sent } = await sendNotifications(ctx, self, notes, 'health check');
  return sent;
}

const emailKey = (site: string, day: string) => `health.email|${site}|${day}`;

/** The day's email, once. True when it is (now or earlier) on the site; false when the site refused it. */
export async function emailFindings(ctx: HandlerContext, report: HealthReport, recipients: string[]): Promise<boolean> {
  const key = emailKey(report.site, report.day);
  const state = await ctx.meta.get(key);
  if (state === 'sent') return true;
  if (state === 'refused') return false;
  const subject = emailSubject(report);
  if (state === 'sending') {
    // Communication's permission query shows mail to System Managers and "Super Email User"
    // (frappe/frappe:frappe/core/doctype/communication/communication.py), which README asks for.
    const found = await ctx.client.getList<{ name: string }>('Communication', {
      fields: ['name'],
      filters: [
        ['subject', '=', subject],
        ['communication_medium', '=', 'Email'],
        ['sent_or_received', '=', 'Sent'],
      ],
      orderBy: 'creation desc',
      limitPageLength: 1,
      signal: ctx.signal,
    });
    if (found.length) {
      await ctx.meta.set(key, 'sent');
      ctx.logger.info({ event: 'health_email_recovered', communication: found[0]!.name }, `the health check email of ${report.site} for ${report.day} was sent before; not sending it again`);
      return true;
    }
  }
  const content = [
    `<p>The daily health check of ${escapeHtml(report.site)} (24 hours to ${escapeHtml(report.to)}, site time) found:</p>`,
    '<ul>',
    ...report.findings.map((f) => `<li>${escapeHtml(f.message)}${detailsHtml(f.details)}</li>`),
    '</ul>',
  ].join('');
  await ctx.meta.set(key, 'sending');
  try {
    await ctx.client.call<{ name: string }>(
      EMAIL_MAKE,
      { recipients: recipients.join(', '), subject, content, communication_medium: 'Email', sent_or_received: 'Sent', send_email: 1 },
      'POST',
      // Not resent in-process after an ambiguous failure: the `sending` state settles it on the re-run.
      { signal: ctx.signal },
    );
  } catch (err) {
    if (!isPermanent(err)) throw err;
    await ctx.meta.set(key, 'refused');
    ctx.logger.error({ event: 'health_email_refused', reason: describeError(err) }, `the site refused the health check email of ${report.site}: ${describeError(err)}`);
    return false;
  }
  await ctx.meta.set(key, 'sent');
  ctx.logger.info({ event: 'health_emailed', recipients: recipients.length }, `health check of ${report.site}: emailed ${recipients.length} recipient(s) through the site's mail`);
  return true;
}
