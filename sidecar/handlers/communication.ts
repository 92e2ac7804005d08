/**
 * Lead status from the direction of each email (docs/architecture.md data flow 6; frappe/core/doctype/communication/communication.py update_parent_document_on_communication).
 *
 * A new Communication (type "Communication", not an automated message) on a CRM Lead or Deal:
 *   - Sent     → communication_status Replied; a lead in New becomes Contacted;
 *   - Received → communication_status Open; a lead becomes OPEN if it was Contacted/OPEN, else New;
 *                and, when the previous clock was answered, the SLA fields are cleared so CRM picks
 *                the SLA again (Lead Response SLA for New, Customer Follow-up Response SLA for OPEN)
 *                and restarts the clock from the mail's own creation.
 * Always one REST save (`saveWithLatest`: a concurrent edit is re-read, not overwritten), so CRM's
 * SLA engine fulfils or fails the response and the change is in the Version log.
 *
 * Ordering and idempotency: per lead, the job store's meta keeps the last applied Communication as
 * (creation, name). A job applies every Communication of the lead after that mark, up to and
 * including its own, oldest first, in one save — so a duplicate or an older event that arrives late
 * finds itself already applied, and the lead ends as if each mail had been processed once, in order.
 * HD Tickets are left to Helpdesk, which already does this for them (hd_ticket.py on_communication_update).
 */
import { FrappeApiError } from '../../lib/frappe/errors.js';
import { datetimeKey } from '../../lib/frappe/time.js';
import type { Filter, FrappeDoc } from '../../lib/frappe/types.js';
import { jobHandler } from '../jobs/runner.js';
import type { HandlerContext, HandlerRegistry } from './types.js';

export interface CommunicationOptions {
  /** Reference DocTypes handled. @defaultValue CRM Lead, CRM Deal */
  doctypes: string[];
  /** DocTypes whose `status` follows the mail (deals have their own pipeline). @defaultValue CRM Lead */
  statusDoctypes: string[];
  leadStatus: {
    /** @defaultValue "New" */
    new: string;
    /** What New becomes after our mail. @defaultValue "Contacted" */
    contacted: string;
    /** What a lead we were talking to becomes when the customer writes. @defaultValue "OPEN" */
    reopened: string;
    /** Statuses that count as "we were talking": Received → `reopened`; any other → `new`. @defaultValue Contacted, OPEN */
    reopenFrom: string[];
  };
  communicationStatus: {
    /** CRM's default priority, "waiting for us". @defaultValue "Open" */
    open: string;
    /** @defaultValue "Replied" */
    replied: string;
  };
  /**
   * The SLA CRM should pick after a restart, by lead status. Checked, not forced: CRM chooses by
   * the SLAs' conditions, and a mismatch is logged as a warning. @defaultValue New → Lead Response SLA, OPEN → Customer Follow-up Response SLA
   */
  expectedSla: Record<string, string>;
  /**
   * Cleared on Received to restart the clock. `first_responded_on` / `first_response_time` too:
   * CRM's `handle_sla_status` says "First Response Due" only while there is no first response, so
   * without them the new cycle would be Fulfilled at once.
   */
  resetFields: string[];
}

export const DEFAULT_COMMUNICATION_OPTIONS: CommunicationOptions = {
  doctypes: ['CRM Lead', 'CRM Deal'],
  statusDoctypes: ['CRM Lead'],
  leadStatus: { new: 'New', contacted: 'Contacted', reopened: 'OPEN', reopenFrom: ['Contacted', 'OPEN'] },
  communicationStatus: { open: 'Open', replied: 'Replied' },
  expectedSla: { New: 'Lead Response SLA', OPEN: 'Customer Follow-up Response SLA' },
  resetFields: ['sla', 'sla_creation', 'response_by', 'sla_status', 'first_responded_on', 'first_response_time'],
};

export interface CommunicationRow {
  name: string;
  creation: string;
  communication_type?: string | null;
  sent_or_received?: string | null;
  reference_doctype?: string | null;
  reference_name?: string | null;
}

export interface TargetDoc {
  status?: string | null;
  communication_status?: string | null;
  sla?: string | null;
  sla_creation?: string | null;
  first_responded_on?: string | null;
  [field: string]: unknown;
}

interface Mark {
  creation: string;
  name: string;
}

function compareMarks(a: Mark, b: Mark): number {
  const ka = datetimeKey(a.creation);
  const kb = datetimeKey(b.creation);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function metaKey(site: string, doctype: string, name: string): string {
  return `comms.communication|${site}|${doctype}|${name}`;
}

/** The mails this handler acts on. */
export function isRelevant(c: CommunicationRow, opts: CommunicationOptions): boolean {
  return (
    c.communication_type === 'Communication' &&
    (c.sent_or_received === 'Sent' || c.sent_or_received === 'Received') &&
    !!c.reference_name &&
    opts.doctypes.includes(String(c.reference_doctype))
  );
}

export interface Folded {
  patch: Record<string, unknown>;
  restarted: boolean;
  sent: number;
  received: number;
}

/** Microseconds since the epoch of a naive `YYYY-MM-DD HH:MM:SS[.ffffff]` (the zone cancels out in a difference). */
function micros(value: string): number {
  const [whole, fraction = ''] = value.split('.');
  return Date.parse(`${whole!.replace(' ', 'T')}Z`) * 1000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** `round(time_diff_in_seconds(to, from), 2)`. */
function secondsBetween(from: string, to: string): number {
  return Math.round((micros(to) - micros(from)) / 10_000) / 100;
}

/**
 * The effect of `comms` (oldest first) on `target`, as one patch. Pure: the unit of the ordering
 * guarantee, and what a re-read after a concurrent edit runs again.
 *
 * Each mail is judged at its own time, never by the lead's present state: when the sidecar sees
 * several mails at once (after a downtime, or a backlog of queued jobs), Frappe has already acted on
 * the later ones — a Sent mail from a System User db_sets `first_responded_on` at insert
 * (frappe/core/doctype/communication/communication.py `update_first_response_time`) — so the
 * lead's current `first_responded_on` may be newer than a Received mail being folded. It counts as
 * "answered before this mail" only when it is older than the first mail folded here.
 */
export function foldCommunications(target: TargetDoc, doctype: string, comms: CommunicationRow[], opts: CommunicationOptions): Folded {
  const withStatus = opts.statusDoctypes.includes(doctype);
  let status = target.status ?? null;
  let commStatus = target.communication_status ?? null;
  const first = comms[0];
  let answered = Boolean(target.first_responded_on) && (!first || datetimeKey(String(target.first_responded_on)) < datetimeKey(first.creation));
  const slaCreation = target.sla_creation ? datetimeKey(String(target.sla_creation)) : null;
  /** The Received mail that opened the newest cycle folded here: its arrival starts the clock. */
  let restartedAt: string | null = null;
  /** undefined: leave it; a value: the reply we saw. */
  let firstRespondedOn: string | undefined;
  let firstResponseTime: number | undefined;
  let sent = 0;
  let received = 0;
  for (const c of comms) {
    if (c.sent_or_received === 'Sent') {
      sent += 1;
      commStatus = opts.communicationStatus.replied;
      if (withStatus && status === opts.leadStatus.new) status = opts.leadStatus.contacted;
      // Frappe records the first response itself when the sender is a System User (db_set, at the
      // mail's creation); for any other sender the reply time is still the mail's, not our save's.
      // The cycle's first answer. Live, Frappe db_sets both fields as this reply is inserted. Seen
      // late, Frappe may have skipped it — the previous cycle's first_response_time was still set
      // when the reply arrived, because our restart came after it — so both are written as its
      // db_set writes them: the mail's creation, and seconds since the document's creation (not
      // the cycle's). Where Frappe did record it, that is the same value. (Frappe does this for a
      // System User's reply, as every mail sent from the desk or the CRM UI is.)
      if (!answered) {
        firstRespondedOn = c.creation;
        answered = true;
        if (typeof target.creation === 'string') firstResponseTime = secondsBetween(target.creation, c.creation);
      }
    } else if (c.sent_or_received === 'Received') {
      received += 1;
      commStatus = opts.communicationStatus.open;
      if (withStatus) status = status && opts.leadStatus.reopenFrom.includes(status) ? opts.leadStatus.reopened : opts.leadStatus.new;
      // Restart only a clock that was answered: a second mail before any answer keeps the running
      // deadline (writing twice buys no time). A clock started at/after this mail already covers it
      // (a re-run after a crash, or a lead created from this very mail).
      const coveredByClock = restartedAt === null && slaCreation !== null && slaCreation >= datetimeKey(c.creation);
      if (answered && !coveredByClock) {
        restartedAt = c.creation;
        answered = false;
        firstRespondedOn = undefined;
        firstResponseTime = undefined;
      }
    }
  }
  const patch: Record<string, unknown> = {};
  if (commStatus !== (target.communication_status ?? null)) patch.communication_status = commStatus;
  if (withStatus && status !== (target.status ?? null)) patch.status = status;
  if (restartedAt !== null) {
    for (const f of opts.resetFields) patch[f] = null;
    // CRM keeps a given sla_creation (crm_service_level_agreement.py handle_creation: `doc.sla_creation
    // or now_datetime()`) and counts the deadline from it: the customer's mail started this cycle,
    // not our save, which may come a downtime later.
    if (opts.resetFields.includes('sla_creation')) patch.sla_creation = restartedAt;
  }
  if (firstRespondedOn !== undefined) patch.first_responded_on = firstRespondedOn;
  if (firstResponseTime !== undefined) patch.first_response_time = firstResponseTime;
  return { patch, restarted: restartedAt !== null, sent, received };
}

function isNotFound(err: unknown): boolean {
  return err instanceof FrappeApiError ? err.status === 404 : (err as { status?: number } | null)?.status === 404;
}

export function createCommunicationHandler(options: Partial<CommunicationOptions> = {}): HandlerRegistry {
  const opts: CommunicationOptions = { ...DEFAULT_COMMUNICATION_OPTIONS, ...options };
  /**
   * One job per lead at a time, across replicas (the store's lock): the meta mark is read, acted
   * on, then moved — inside the lock, so a mark can never move backwards.
   */
  function exclusive(ctx: HandlerContext, key: string, fn: () => Promise<void>): Promise<void> {
    return ctx.lock(`comms|${key}`, fn);
  }

  async function pendingFor(ctx: HandlerContext, comm: CommunicationRow, last: Mark | null): Promise<CommunicationRow[]> {
    const rows: CommunicationRow[] = [];
    const filters: Filter<CommunicationRow>[] = [
      ['reference_doctype', '=', String(comm.reference_doctype)],
      ['reference_name', '=', String(comm.reference_name)],
      ['communication_type', '=', 'Communication'],
      ['sent_or_received', 'in', ['Sent', 'Received']],
      ['creation', '<=', comm.creation],
    ];
    if (last) filters.push(['creation', '>=', last.creation]);
    for await (const row of ctx.client.listAll<CommunicationRow>('Communication', {
      fields: ['name', 'creation', 'communication_type', 'sent_or_received', 'reference_doctype', 'reference_name'],
      filters,
      orderBy: 'creation asc, name asc',
      pageSize: 200,
      signal: ctx.signal,
    })) {
      if (last && compareMarks(row, last) <= 0) continue;
      if (compareMarks(row, comm) > 0) continue;
      rows.push(row);
    }
    // Our own mail even if the listing could not show it (list permissions are narrower than read).
    if (!rows.some((r) => r.name === comm.name)) rows.push(comm);
    return rows.sort(compareMarks);
  }

  return {
    'comms.communication': jobHandler('comms.communication', async (ctx, { name }) => {
      let comm: FrappeDoc<CommunicationRow>;
      try {
        comm = await ctx.client.getDoc<CommunicationRow>('Communication', name, { signal: ctx.signal });
      } catch (err) {
        if (isNotFound(err)) return void ctx.logger.debug({ name }, `Communication ${name} is gone; nothing to do`);
        throw err;
      }
      if (!isRelevant(comm, opts)) return;
      const doctype = String(comm.reference_doctype);
      const target = String(comm.reference_name);
      const key = metaKey(ctx.site, doctype, target);
      await exclusive(ctx, key, async () => {
        const raw = await ctx.meta.get(key);
        const last: Mark | null = raw ? (JSON.parse(raw) as Mark) : null;
        if (last && compareMarks(comm, last) <= 0) {
          ctx.logger.debug({ name, doctype, target }, `Communication ${name} is already applied to ${doctype} ${target}`);
          return;
        }
        const comms = await pendingFor(ctx, comm, last);
        let folded: Folded | null = null;
        let saved: FrappeDoc<TargetDoc> | null;
        try {
          saved = await ctx.client.saveWithLatest<TargetDoc>(
            doctype,
            target,
            (latest) => {
              folded = foldCommunications(latest, doctype, comms, opts);
              return folded.patch;
            },
            { signal: ctx.signal },
          );
        } catch (err) {
          if (!isNotFound(err)) throw err;
          ctx.logger.info({ name, doctype, target }, `${doctype} ${target} of Communication ${name} is gone; nothing to do`);
          return;
        }
        await ctx.meta.set(key, JSON.stringify({ creation: comm.creation, name: comm.name } satisfies Mark));
        const f = folded as Folded | null;
        if (!f) return;
        if (f.sent) ctx.metrics.communicationsApplied.inc({ site: ctx.site, doctype, direction: 'Sent' }, f.sent);
        if (f.received) ctx.metrics.communicationsApplied.inc({ site: ctx.site, doctype, direction: 'Received' }, f.received);
        const changes = Object.keys(f.patch);
        ctx.logger.info(
          { event: 'communication_applied', name, doctype, target, communications: comms.map((c) => c.name), changes, restarted: f.restarted },
          saved ? `applied ${comms.length} Communication(s) to ${doctype} ${target}: ${changes.join(', ')}` : `${doctype} ${target} already reflects ${comms.length} Communication(s)`,
        );
        if (saved && f.restarted && saved.status) {
          const expected = opts.expectedSla[String(saved.status)];
          if (expected && saved.sla !== expected) {
            ctx.logger.warn(
              { doctype, target, status: saved.status, sla: saved.sla ?? null, expected },
              `${doctype} ${target} restarted its SLA in status ${saved.status} but CRM picked ${saved.sla ?? 'no SLA'}, not ${expected}: check the SLAs' conditions`,
            );
          }
        }
      });
    }),
  };
}
