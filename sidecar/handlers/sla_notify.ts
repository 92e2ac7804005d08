/**
 * SLA notifications in bulk: the Notification Logs of a sweep inserted with
 * `frappe.client.insert_many` (frappe/frappe:frappe/client.py — at most 200 documents a call,
 * `frappe.throw` beyond; each inserted through `insert_doc`, so with the caller's create permission;
 * the answer is the list of their names; the whole call is one request, hence one transaction).
 *
 * Exactly once per recipient per SLA cycle, across crashes and replicas:
 * - every (document, cycle, recipient) has a done key in the job store — the key the one-job-per-
 *   document `sla.notify` used, so a store written by it is honoured — set once its Notification
 *   Log is known to be committed; done ones are never sent again;
 * - before a batch is sent, it is recorded in the job store with a receipt: one more Notification
 *   Log in the same insert_many, addressed to the companion's own API user. That is the one
 *   Notification Log it can read back (notification_log.py `get_permission_query_conditions`:
 *   `for_user = <session user>` for everyone but Administrator), and it commits or not with the
 *   batch. A run that finds a batch record left behind (the process died, or the answer was lost)
 *   looks the receipt up in one list call: found, the batch is marked done; not found, it is sent
 *   again;
 * - all of it under one lock per site, so two replicas' sweeps never send one batch twice.
 * A batch the site refuses outright (a Frappe error answer: the request's transaction rolled back,
 * nothing of it committed) — say one recipient's User no longer exists — is split in halves and
 * each sent on its own, so one bad notification costs only itself: it is logged and given up.
 */
import { randomUUID } from 'node:crypto';
import { describeError, isPermanent } from '../../lib/errors.js';
import type { HandlerContext } from './types.js';

/** frappe/client.py `insert_many`: "Only 200 inserts allowed in one request". */
export const INSERT_MANY_CAP = 200;

/** One Notification Log to send: `key` is its done key. */
export interface Notification {
  key: string;
  user: string;
  /** The document it links to; empty for none. */
  doctype: string;
  name: string;
  subject: string;
  /** The Notification Log's body (`email_content`, HTML). */
  content?: string;
}

interface InFlight {
  receipt: string;
  self: string;
  keys: string[];
}

const inFlightKey = (site: string) => `sla.notify.inflight|${site}`;

export function doneKey(jobId: string, user: string): string {
  return `${jobId}|${user}`;
}

export interface NotifyResult {
  sent: number;
  /** Per DocType, for the metrics. */
  byDoctype: Record<string, number>;
  /** Per DocType and recipient, for the SLA view's counts (sidecar/handlers/sla_stats.ts). */
  byRecipient: Record<string, Record<string, number>>;
}

/**
 * Settle a batch a crashed or interrupted run left behind. Call under the site's notify lock.
 * Returns how many of its notifications turned out to be committed.
 */
async function settleInFlight(ctx: HandlerContext): Promise<number> {
  const raw = await ctx.meta.get(inFlightKey(ctx.site));
  if (!raw) return 0;
  const inflight = JSON.parse(raw) as InFlight;
  const found = await ctx.client.getList<Record<string, unknown> & { name: string }>('Notification Log', {
    fields: ['name'],
    filters: [
      ['for_user', '=', inflight.self],
      ['subject', '=', inflight.receipt],
    ],
    orderBy: 'name asc',
    limitPageLength: 1,
    signal: ctx.signal,
  });
  if (found.length) {
    for (const key of inflight.keys) await ctx.meta.set(key, '1');
    ctx.logger.info({ event: 'sla_notify_recovered', receipt: inflight.receipt, count: inflight.keys.length }, `an interrupted batch of ${inflight.keys.length} SLA notification(s) was committed; not sending it again`);
  } else {
    ctx.logger.info({ event: 'sla_notify_resend', receipt: inflight.receipt, count: inflight.keys.length }, `an interrupted batch of ${inflight.keys.length} SLA notification(s) was not committed; it will be sent again`);
  }
  await ctx.meta.set(inFlightKey(ctx.site), '');
  return found.length ? inflight.keys.length : 0;
}

/** Settle whatever batch an earlier run left in flight (no REST call when there is none). */
export async function recoverNotifications(ctx: HandlerContext): Promise<void> {
  if (!(await ctx.meta.get(inFlightKey(ctx.site)))) return;
  await ctx.lock('sla.notify', () => settleInFlight(ctx));
}

/**
 * Send the notifications not sent yet, in insert_many batches of up to 199 plus the receipt.
 * `self` names the companion's API user (asked once by the caller). `label` names what they are
 * about in the receipt and the logs ("SLA", "health check"); a Notification without `doctype`
 * links to no document.
 */
export async function sendNotifications(ctx: HandlerContext, self: () => Promise<string>, notes: Notification[], label = 'SLA'): Promise<NotifyResult> {
  const result: NotifyResult = { sent: 0, byDoctype: {}, byRecipient: {} };
  if (!notes.length) return result;
  return ctx.lock('sla.notify', async () => {
    await settleInFlight(ctx);
    const todo: Notification[] = [];
    const seen = new Set<string>();
    for (const n of notes) {
      if (seen.has(n.key)) continue;
      seen.add(n.key);
      if (!(await ctx.meta.get(n.key))) todo.push(n);
    }
    if (!todo.length) return result;
    const user = await self();
    const sendBatch = async (batch: Notification[]): Promise<void> => {
      const receipt = `Order Companion: ${batch.length} ${label} notification(s) sent, receipt ${randomUUID()}`;
      await ctx.meta.set(inFlightKey(ctx.site), JSON.stringify({ receipt, self: user, keys: batch.map((n) => n.key) } satisfies InFlight));
      try {
        await ctx.client.call<string[]>(
          'frappe.client.insert_many',
          {
            docs: JSON.stringify([
              ...batch.map((n) => ({
                doctype: 'Notification Log',
                for_user: n.user,
                type: 'Alert',
                ...(n.doctype ? { document_type: n.doctype, document_name: n.name } : {}),
                subject: n.subject,
                ...(n.content ? { email_content: n.content } : {}),
              })),
              { doctype: 'Notification Log', for_user: user, type: 'Alert', subject: receipt },
            ]),
          },
          'POST',
          // Not resent in-process after an ambiguous failure: the batch record settles it on the re-run.
          { signal: ctx.signal },
        );
      } catch (err) {
        if (!isPermanent(err)) throw err; // maybe committed: the record stays for the re-run to settle
        await ctx.meta.set(inFlightKey(ctx.site), '');
        if (batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          await sendBatch(batch.slice(0, half));
          await sendBatch(batch.slice(half));
          return;
        }
        const [n] = batch;
        await ctx.meta.set(n.key, 'refused');
        ctx.logger.error({ event: 'sla_notify_refused', label, doctype: n.doctype, name: n.name, user: n.user, reason: describeError(err) }, `the site refused a ${label} notification to ${n.user} (${n.subject}): ${describeError(err)}`);
        return;
      }
      for (const n of batch) await ctx.meta.set(n.key, '1');
      await ctx.meta.set(inFlightKey(ctx.site), '');
      for (const n of batch) {
        result.byDoctype[n.doctype] = (result.byDoctype[n.doctype] ?? 0) + 1;
        const users = (result.byRecipient[n.doctype] ??= {});
        users[n.user] = (users[n.user] ?? 0) + 1;
        ctx.logger.debug({ event: 'sla_notified', doctype: n.doctype, name: n.name, user: n.user }, `told ${n.user} that ${n.doctype} ${n.name} failed its SLA`);
      }
      result.sent += batch.length;
      ctx.logger.info({ event: 'sla_notified_batch', label, count: batch.length }, `sent ${batch.length} ${label} notification(s) in one insert_many`);
    };
    for (let i = 0; i < todo.length; i += INSERT_MANY_CAP - 1) await sendBatch(todo.slice(i, i + INSERT_MANY_CAP - 1));
    return result;
  });
}
