/**
 * The SLA failure detector (docs/architecture.md data flow 5: frappe/crm crm/hooks.py schedules no SLA job, so only a save runs crm_service_level_agreement.py apply(); Helpdesk's hd_service_level_agreement is hourly).
 *
 * Frappe CRM recomputes `sla_status` only in `before_save → apply_sla`, and has no scheduled job,
 * so an unanswered lead stays "First Response Due" forever. `sla.sweep` (cron, every 5 minutes by
 * the manifest) lists the CRM Leads and Deals still "due" whose `response_by` has passed — on the
 * site's clock, in the site's time zone — and re-saves them through `frappe.client.bulk_update`,
 * so CRM's own engine sets Failed, writes the Version and emits realtime. Never a raw field write.
 * HD Tickets are swept the same way (Helpdesk's own job is hourly and silent).
 *
 * Each document that turned Failed has its owner told once per SLA cycle (`sla_creation`),
 * however many sweeps see it, and again only after the clock restarts: the Notification Logs of a
 * bulk_update batch go out together in one `frappe.client.insert_many` (sidecar/handlers/
 * sla_notify.ts keeps them exactly once across crashes and replicas).
 *
 * What each sweep did — swept / failed / notified per DocType and per owner — is added to the
 * site's day in the job store when it finishes (sidecar/handlers/sla_stats.ts), for the console.
 */
import type { Filter } from '../../lib/frappe/types.js';
import { siteWallClock } from '../../lib/frappe/time.js';
import { doneKey, recoverNotifications, sendNotifications, type Notification } from './sla_notify.js';
import { jobHandler } from '../jobs/runner.js';
import { SweepTally, recordSweep } from './sla_stats.js';
import type { HandlerContext, HandlerRegistry } from './types.js';

export interface SlaDocType {
  doctype: string;
  /** The user to notify. */
  ownerField: string;
  /** Shown in the notification next to the name. */
  titleField: string;
}

export interface SlaOptions {
  /**
   * CRM DocTypes swept on `sla_status` / `response_by`.
   * @defaultValue CRM Lead (lead_owner, lead_name) and CRM Deal (deal_owner, organization)
   */
  crm: SlaDocType[];
  /** `sla_status` values that still wait for an answer. @defaultValue First Response Due, Rolling Response Due */
  dueStatuses: string[];
  /** What CRM / Helpdesk set when the deadline passed. @defaultValue "Failed" */
  failedStatus: string;
  /** Also sweep HD Tickets (`agreement_status`, `response_by` / `resolution_by`). @defaultValue true */
  tickets: boolean;
  /** Who is told about a failed document without an owner (a ticket without assignees). @defaultValue [] (nobody; logged) */
  unownedRecipients: string[];
  /** Documents per `bulk_update` call (one request, one transaction in Frappe). @defaultValue 100 */
  batchSize: number;
  /** Rows per list request. @defaultValue 500 */
  pageSize: number;
}

export const DEFAULT_SLA_OPTIONS: SlaOptions = {
  crm: [
    { doctype: 'CRM Lead', ownerField: 'lead_owner', titleField: 'lead_name' },
    { doctype: 'CRM Deal', ownerField: 'deal_owner', titleField: 'organization' },
  ],
  dueStatuses: ['First Response Due', 'Rolling Response Due'],
  failedStatus: 'Failed',
  tickets: true,
  unownedRecipients: [],
  batchSize: 100,
  pageSize: 500,
};

export const HD_TICKET = 'HD Ticket';

/** What one DocType's sweep saw. */
export interface SweepCounts {
  checked: number;
  failed: number;
  notified: number;
  errors: number;
}

/** A failed document, as its notification needs it. */
interface FailedDoc {
  doctype: string;
  name: string;
  title: string;
  recipients: string[];
  /** The SLA cycle: when its clock started. */
  cycle: string;
  deadline: string;
  what: string;
}

type Row = Record<string, unknown> & { name: string };

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `_assign` is a JSON list of user ids (frappe/desk/form/assign_to.py). */
function assignees(value: unknown): string[] {
  if (typeof value !== 'string' || !value) return [];
  try {
    const list: unknown = JSON.parse(value);
    return Array.isArray(list) ? list.filter((u): u is string => typeof u === 'string' && u !== '') : [];
  } catch {
    return [];
  }
}

const seconds = (v: unknown): string => String(v ?? '').slice(0, 19);

export function notifyJobId(site: string, doctype: string, name: string, cycle: string): string {
  return `sla.notify|${site}|${doctype}|${name}|${cycle}`;
}

/**
 * `YYYY-MM-DD HH:MM:SS` on the site's wall clock now: the instant from the site's `Date` header,
 * the zone from System Settings (the cron job carries it; otherwise asked).
 */
export async function siteCutoff(ctx: Pick<HandlerContext, 'client' | 'job' | 'signal'>): Promise<{ cutoff: string; timeZone: string; at: Date }> {
  let timeZone = typeof ctx.job.data.timeZone === 'string' && ctx.job.data.timeZone ? ctx.job.data.timeZone : '';
  if (!timeZone) {
    const tz = await ctx.client.call<{ time_zone: string }>('frappe.client.get_time_zone', {}, 'GET', { signal: ctx.signal });
    timeZone = tz?.time_zone ?? '';
    if (!timeZone) throw new Error(`site ${ctx.client.site} did not say its time zone (frappe.client.get_time_zone)`);
  }
  const at = await ctx.client.serverNow({ signal: ctx.signal });
  return { cutoff: siteWallClock(at, timeZone), timeZone, at };
}

/**
 * Re-save `names` through bulk_update, batch by batch, handing the ones that are now Failed to
 * `onFailed` (which sends their notifications) before the next batch. The batch in flight is
 * recorded in the job store first: if the process dies after Frappe saved a batch but before its
 * notifications were sent, the re-run sweep (the store re-runs an interrupted job) finds the
 * record, looks those documents up and sends what is missing — the next listing would no longer
 * see them, since they are Failed by then.
 */
async function resave(
  ctx: HandlerContext,
  opts: SlaOptions,
  doctype: string,
  names: string[],
  statusField: string,
  fields: string[],
  onFailed: (rows: Row[]) => Promise<number>,
): Promise<{ failed: number; notified: number; errors: number }> {
  const pendingKey = `sla.pending|${ctx.site}|${doctype}`;
  let failed = 0;
  let notified = 0;
  let errors = 0;
  const settle = async (batch: string[]) => {
    // What the save decided: CRM may also have found a reply (Fulfilled) that a Communication's
    // db_set recorded without recomputing the status.
    const rows = await ctx.client.getList<Row>(doctype, {
      fields: ['name', ...fields],
      filters: [['name', 'in', batch], [statusField, '=', opts.failedStatus]],
      orderBy: 'name asc',
      limitPageLength: 0,
      signal: ctx.signal,
    });
    failed += rows.length;
    notified += await onFailed(rows);
    await ctx.meta.set(pendingKey, '');
  };
  const interrupted = await ctx.meta.get(pendingKey);
  if (interrupted) await settle(JSON.parse(interrupted) as string[]);
  for (const batch of chunks(names, opts.batchSize)) {
    await ctx.meta.set(pendingKey, JSON.stringify(batch));
    // frappe/client.py bulk_update: get_doc → update → save() for each, in one request; a document
    // that raises is reported in failed_docs and the others are still saved.
    const res = await ctx.client.call<{ failed_docs?: { doc: { docname?: string }; exc: string }[] }>(
      'frappe.client.bulk_update',
      { docs: JSON.stringify(batch.map((docname) => ({ doctype, docname }))) },
      'POST',
      // Saving a document again changes nothing more: safe to resend after an ambiguous failure.
      { signal: ctx.signal, idempotent: true },
    );
    for (const f of res?.failed_docs ?? []) {
      errors += 1;
      const reason = String(f.exc ?? '').trim().split('\n').pop() ?? '';
      ctx.logger.warn({ doctype, name: f.doc?.docname, reason }, `SLA sweep could not save ${doctype} ${f.doc?.docname ?? '?'}: ${reason}`);
    }
    await settle(batch);
  }
  return { failed, notified, errors };
}

/** The overdue rows: their name and the field that says whose they are (for the counts per owner). */
async function listOverdue(ctx: HandlerContext, opts: SlaOptions, doctype: string, ownerField: string, filters: Filter[], orderBy: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of ctx.client.listAll<Row>(doctype, { fields: ['name', ownerField], filters, orderBy, pageSize: opts.pageSize, signal: ctx.signal })) rows.push(row);
  return rows;
}

const ownerOf = (value: unknown): string[] => (value ? [String(value)] : []);

/** The Notification Logs the failed documents call for, each with its once-per-cycle done key. */
function notificationsFor(ctx: HandlerContext, opts: SlaOptions, docs: FailedDoc[]): Notification[] {
  const out: Notification[] = [];
  for (const d of docs) {
    const recipients = d.recipients.length ? d.recipients : opts.unownedRecipients;
    if (!recipients.length) {
      ctx.logger.info({ doctype: d.doctype, name: d.name }, `${d.doctype} ${d.name} failed its SLA and has no owner; set unownedRecipients to have someone told`);
      continue;
    }
    const jobId = notifyJobId(ctx.site, d.doctype, d.name, d.cycle);
    const subject = `SLA failed: ${d.doctype} ${d.name}${d.title && d.title !== d.name ? ` (${d.title})` : ''} had no ${d.what} by ${seconds(d.deadline)}`;
    for (const user of recipients) out.push({ key: doneKey(jobId, user), user, doctype: d.doctype, name: d.name, subject });
  }
  return out;
}

/**
 * Tells the owners of failed documents, a batch at a time; the API user's name is asked once.
 * Each failed document and each Notification Log sent goes into `tally`.
 */
function notifier(ctx: HandlerContext, opts: SlaOptions, tally: SweepTally): (docs: FailedDoc[]) => Promise<number> {
  let self: Promise<string> | null = null;
  const whoAmI = () =>
    (self ??= ctx.client.call<string>('frappe.auth.get_logged_user', {}, 'GET', { signal: ctx.signal }).then((u) => {
      if (!u) throw new Error(`site ${ctx.site} did not say who its API user is (frappe.auth.get_logged_user)`);
      return u;
    }));
  return async (docs) => {
    for (const d of docs) tally.add('failed', d.doctype, d.recipients);
    const { sent, byDoctype, byRecipient } = await sendNotifications(ctx, whoAmI, notificationsFor(ctx, opts, docs));
    for (const [doctype, n] of Object.entries(byDoctype)) ctx.metrics.slaNotified.inc({ site: ctx.site, doctype }, n);
    for (const [doctype, users] of Object.entries(byRecipient)) for (const [user, n] of Object.entries(users)) tally.add('notified', doctype, [user], n);
    return sent;
  };
}

async function sweepCrm(ctx: HandlerContext, opts: SlaOptions, notify: (docs: FailedDoc[]) => Promise<number>, tally: SweepTally, dt: SlaDocType, cutoff: string): Promise<SweepCounts> {
  // `is set` too: Frappe wraps the column in ifnull(), so `response_by < X` alone also matches NULL.
  const overdue = await listOverdue(
    ctx,
    opts,
    dt.doctype,
    dt.ownerField,
    [
      ['sla_status', 'in', opts.dueStatuses],
      ['response_by', 'is', 'set'],
      ['response_by', '<', cutoff],
    ],
    'response_by asc, name asc',
  );
  for (const r of overdue) tally.add('swept', dt.doctype, ownerOf(r[dt.ownerField]));
  const names = overdue.map((r) => r.name);
  const { failed, notified, errors } = await resave(ctx, opts, dt.doctype, names, 'sla_status', [dt.ownerField, dt.titleField, 'sla_creation', 'response_by'], (rows) =>
    notify(
      rows.map((r) => ({
        doctype: dt.doctype,
        name: r.name,
        title: String(r[dt.titleField] ?? ''),
        recipients: r[dt.ownerField] ? [String(r[dt.ownerField])] : [],
        cycle: String(r.sla_creation ?? r.response_by ?? ''),
        deadline: String(r.response_by ?? ''),
        what: 'first response',
      })),
    ),
  );
  return { checked: names.length, failed, notified, errors };
}

async function sweepTickets(ctx: HandlerContext, opts: SlaOptions, notify: (docs: FailedDoc[]) => Promise<number>, tally: SweepTally, cutoff: string): Promise<SweepCounts> {
  // Helpdesk's handle_agreement_status (hd_service_level_agreement.py): Failed when response_by <
  // (first_responded_on or now), or resolution_by < (resolution_date or now). One query per
  // deadline, each with `is set` (the ifnull quirk), merged by name.
  const byResponse = await listOverdue(
    ctx,
    opts,
    HD_TICKET,
    '_assign',
    [
      ['agreement_status', '=', 'First Response Due'],
      ['response_by', 'is', 'set'],
      ['response_by', '<', cutoff],
    ],
    'response_by asc, name asc',
  );
  const byResolution = await listOverdue(
    ctx,
    opts,
    HD_TICKET,
    '_assign',
    [
      ['agreement_status', 'in', ['First Response Due', 'Resolution Due']],
      ['resolution_by', 'is', 'set'],
      ['resolution_by', '<', cutoff],
    ],
    'resolution_by asc, name asc',
  );
  const overdue = new Map<string, Row>();
  for (const r of [...byResponse, ...byResolution]) overdue.set(String(r.name), r);
  for (const r of overdue.values()) tally.add('swept', HD_TICKET, assignees(r._assign));
  const names = [...overdue.keys()];
  const fields = ['subject', '_assign', 'service_level_agreement_creation', 'response_by', 'resolution_by', 'first_responded_on'];
  const { failed, notified, errors } = await resave(ctx, opts, HD_TICKET, names, 'agreement_status', fields, (rows) =>
    notify(
    rows.map((r) => {
      const responded = Boolean(r.first_responded_on);
      return {
        doctype: HD_TICKET,
        name: String(r.name),
        title: String(r.subject ?? ''),
        recipients: assignees(r._assign),
        cycle: String(r.service_level_agreement_creation ?? r.response_by ?? ''),
        deadline: String((responded ? r.resolution_by : r.response_by) ?? ''),
        what: responded ? 'resolution' : 'first response',
      };
    }),
    ),
  );
  return { checked: names.length, failed, notified, errors };
}

export function createSlaHandlers(options: Partial<SlaOptions> = {}): HandlerRegistry {
  const opts: SlaOptions = { ...DEFAULT_SLA_OPTIONS, ...options };
  if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
  if (!Number.isInteger(opts.pageSize) || opts.pageSize <= 0) throw new RangeError(`pageSize must be a positive integer, got ${opts.pageSize}`);

  return {
    'sla.sweep': async (ctx) => {
      const startedAtMs = Date.now();
      await recoverNotifications(ctx);
      const { cutoff, timeZone, at } = await siteCutoff(ctx);
      const tally = new SweepTally();
      const notify = notifier(ctx, opts, tally);
      const per: Record<string, SweepCounts> = {};
      for (const dt of opts.crm) per[dt.doctype] = await sweepCrm(ctx, opts, notify, tally, dt, cutoff);
      if (opts.tickets) per[HD_TICKET] = await sweepTickets(ctx, opts, notify, tally, cutoff);
      const total: SweepCounts = { checked: 0, failed: 0, notified: 0, errors: 0 };
      for (const [doctype, c] of Object.entries(per)) {
        ctx.metrics.slaChecked.inc({ site: ctx.site, doctype }, c.checked);
        ctx.metrics.slaFailed.inc({ site: ctx.site, doctype }, c.failed);
        for (const k of Object.keys(total) as (keyof SweepCounts)[]) total[k] += c[k];
      }
      ctx.logger.info(
        { event: 'sla_sweep', cutoff, timeZone, ...total, per },
        `SLA sweep of ${ctx.site} at ${cutoff} (${timeZone}): ${total.checked} overdue re-saved, ${total.failed} failed, ${total.notified} notification(s) sent${total.errors ? `, ${total.errors} could not be saved` : ''}`,
      );
      const record = { job: ctx.job.id, startedAtMs, finishedAtMs: Date.now(), siteAtMs: at.getTime(), cutoff, timeZone, tally, errors: total.errors };
      if (!(await ctx.lock('sla.stats', () => recordSweep(ctx.meta, ctx.site, record)))) {
        ctx.logger.info({ event: 'sla_sweep_counted' }, `this sweep (${ctx.job.id}) is already in the SLA counts; not counting it again`);
      }
    },

    /**
     * One Notification Log (type Alert, linked to the document) per recipient: the per-document job
     * earlier versions of the sweep queued. Kept so that a store holding such jobs still drains; its
     * done keys are the ones the bulk sender honours.
     */
    'sla.notify': jobHandler('sla.notify', async (ctx, { doctype, name, subject, recipients = [] }) => {
      for (const user of recipients) {
        const key = doneKey(ctx.job.id, user);
        // Notification Log has no key to look a sent one up by (and non-admins only see their own),
        // so each recipient done is remembered: a retried job tells nobody twice. The insert itself
        // is not resent in-process after an ambiguous failure (POST; see the REST client).
        if (await ctx.meta.get(key)) continue;
        await ctx.client.insert(
          'Notification Log',
          { for_user: user, type: 'Alert', document_type: doctype, document_name: name, subject },
          { signal: ctx.signal },
        );
        await ctx.meta.set(key, '1');
        ctx.metrics.slaNotified.inc({ site: ctx.site, doctype });
        ctx.logger.info({ event: 'sla_notified', doctype, name, user }, `told ${user} that ${doctype} ${name} failed its SLA`);
      }
    }),
  };
}
