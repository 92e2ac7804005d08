/**
 * Frappe CRM controllers: CRM Lead / CRM Deal (frappe/crm:crm/fcrm/doctype/crm_lead/crm_lead.py,
 * crm_deal/crm_deal.py), the SLA hooks (`set_sla` in before_validate, `apply_sla` in before_save),
 * CRM Service Level Agreement validation, and CRM's Communication hook
 * (frappe/crm:crm/utils/__init__.py `on_communication_update`).
 */
import type { Doc } from '../../core/database.js';
import { dbSet } from '../../core/db_set.js';
import { formatDatetime, parseDatetime, wallClockIn } from '../../core/datetime.js';
import { appendChild, registerHook, type Ctx } from '../../core/document.js';
import { FrappeError, frappeThrow } from '../../core/errors.js';
import { safeEval } from '../safe_eval.js';
import { applyCrmSla, setCrmSla, type CrmSlaRecord, type HolidayListRecord } from './sla.js';

/** Candidate SLAs in "DB order": creation order, as InnoDB returns an unordered scan of them here. */
function slaCandidates(ctx: Ctx): CrmSlaRecord[] {
  return ctx.site.db
    .all('CRM Service Level Agreement')
    .sort((a, b) => String(a.creation).localeCompare(String(b.creation)))
    .map((s) => structuredClone(s) as unknown as CrmSlaRecord);
}

function holidayList(ctx: Ctx, name: unknown): HolidayListRecord | null {
  if (!name) return null;
  return (ctx.site.db.get('CRM Holiday List', String(name)) as unknown as HolidayListRecord) ?? null;
}

function setSla(ctx: Ctx, doc: Doc): void {
  setCrmSla(doc, slaCandidates(ctx), ctx.site.nowMicros());
}

function applySla(ctx: Ctx, doc: Doc, before: Doc | null): void {
  if (!doc.sla) return;
  const sla = ctx.site.db.get('CRM Service Level Agreement', String(doc.sla)) as unknown as CrmSlaRecord | undefined;
  if (!sla) return;
  applyCrmSla(doc, before, sla, holidayList(ctx, sla.holiday_list), ctx.site.nowMicros());
}

export function registerCrm(): void {
  // ---- CRM Lead ----------------------------------------------------------------------
  registerHook('CRM Lead', 'before_validate', ({ ctx, doc }) => setSla(ctx, doc));
  registerHook('CRM Lead', 'validate', ({ ctx, doc, before, flags }) => {
    // validate_status: a new lead with no status gets "New" if it exists, else the first Open-type status.
    if (!before && !doc.status) {
      if (ctx.site.db.exists('CRM Lead Status', 'New')) doc.status = 'New';
      else {
        const open = ctx.site.db
          .all('CRM Lead Status')
          .filter((s) => s.type === 'Open')
          .sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0))[0];
        if (open) doc.status = open.name;
      }
    }
    // set_full_name / set_lead_name.
    if (doc.first_name) {
      doc.lead_name = [doc.salutation, doc.first_name, doc.middle_name, doc.last_name].filter(Boolean).join(' ');
    }
    if (!doc.lead_name) {
      // set_lead_name: without a person, an organization or an email, only ignore_mandatory lets it through.
      if (!doc.organization && !doc.email && !flags.ignoreMandatory) {
        frappeThrow("A Lead requires either a person's name or an organization's name");
      }
      if (doc.organization) doc.lead_name = doc.organization;
      else if (doc.email) doc.lead_name = String(doc.email).split('@')[0];
      else doc.lead_name = 'Unnamed Lead';
    }
    // validate_email: the lead's email may not be its owner's; a new lead with an email (or one
    // without an image) gets `image = has_gravatar(email)` (frappe/frappe:frappe/utils/__init__.py),
    // which is "" when no Gravatar answers — always so here, as the emulator never goes online
    // (recordings lead-insert, set-value: image "" with an email, absent without one).
    if (doc.email) {
      if (doc.lead_owner && doc.email === doc.lead_owner) frappeThrow('Lead Owner cannot be same as the Lead Email Address');
      if (!before || !doc.image) doc.image = '';
    }
  });
  registerHook('CRM Lead', 'validate', ({ ctx, doc, before }) => {
    // validate: `if self.has_value_changed("status"): add_status_change_log(self)`
    // (frappe/crm:crm/fcrm/doctype/crm_status_change_log/crm_status_change_log.py): on a change the
    // open row is closed, and a row from the new status is appended — a new lead gets one
    // (recording lead-insert). Its times are `datetime.now()`: the bench host's clock, which is
    // UTC on the recorded site (from_date 14:31 for a lead created 20:01 IST).
    if (before && before.status === doc.status) return;
    const hostNow = formatDatetime(wallClockIn('UTC', ctx.site.clock.nowEpochMicros()));
    const append = (data: Doc) => appendChild(ctx, doc, 'status_change_log', 'CRM Status Change Log', data);
    if (before) {
      if (!((doc.status_change_log as Doc[] | undefined) ?? []).length && before.status) {
        const minuteAgo = formatDatetime(wallClockIn('UTC', ctx.site.clock.nowEpochMicros() - 60_000_000));
        append({ from: before.status, to: '', from_date: minuteAgo, to_date: null, from_type: '', to_type: '', log_owner: ctx.user });
      }
      const rows = (doc.status_change_log as Doc[] | undefined) ?? [];
      const last = rows[rows.length - 1];
      if (last) {
        last.to = doc.status;
        last.to_date = hostNow;
        last.log_owner = ctx.user;
        const from = parseDatetime(String(last.from_date ?? ''));
        const to = parseDatetime(hostNow);
        if (from !== null && to !== null) last.duration = (to - from) / 1_000_000;
      }
    }
    append({ from: doc.status, to: '', from_date: hostNow, to_date: null, from_type: '', to_type: '', log_owner: ctx.user });
  });
  registerHook('CRM Lead', 'before_save', ({ ctx, doc, before }) => applySla(ctx, doc, before));

  // ---- CRM Deal ----------------------------------------------------------------------
  registerHook('CRM Deal', 'before_validate', ({ ctx, doc }) => setSla(ctx, doc));
  registerHook('CRM Deal', 'validate', ({ ctx, doc, before }) => {
    if (!before && !doc.status) {
      const first = ctx.site.db.all('CRM Deal Status').sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0))[0];
      if (first) doc.status = first.name;
    }
    if (doc.lost_reason === 'Other' && !doc.lost_notes) frappeThrow('Please specify the reason for losing the deal.');
  });
  registerHook('CRM Deal', 'before_save', ({ ctx, doc, before }) => applySla(ctx, doc, before));

  // ---- CRM Service Level Agreement (crm_service_level_agreement.py) --------------------
  registerHook('CRM Service Level Agreement', 'validate', ({ ctx, doc }) => {
    // validate_default: one default SLA per apply_on.
    if (doc.default) {
      const other = ctx.site.db.all('CRM Service Level Agreement').find((s) => s.default && s.apply_on === doc.apply_on && s.name !== doc.name);
      if (other) frappeThrow(`There can only be one default SLA for ${doc.apply_on}`);
    }
    // validate_condition: safe_eval against an empty doc must not fail.
    if (doc.condition) {
      try {
        safeEval(String(doc.condition), { doc: {} });
      } catch (e) {
        const message = `The Condition '${doc.condition}' is invalid: ${(e as Error).message}`;
        throw new FrappeError('ValidationError', { message, excText: message });
      }
    }
  });

  // ---- Communication → CRM (crm/hooks.py doc_events; crm/utils/__init__.py) --------------
  registerHook('Communication', 'on_update', ({ ctx, doc }) => crmOnCommunicationUpdate(ctx, doc));
}

/**
 * `on_communication_update` (frappe/crm:crm/utils/__init__.py): for the latest Communication of a
 * lead/deal, with the FCRM Settings toggles on (both default off) a Received mail sets
 * `communication_status` Open and a Sent one Replied; with `update_timestamp_on_new_communication`
 * (default on) `modified` moves too. All through `frappe.db.set_value(..., update_modified=False)`:
 * no hooks, no SLA, no realtime.
 */
function crmOnCommunicationUpdate(ctx: Ctx, comm: Doc): void {
  const dt = comm.reference_doctype;
  if (dt !== 'CRM Lead' && dt !== 'CRM Deal') return;
  const settings = ctx.site.db.get('FCRM Settings', 'FCRM Settings') ?? {};
  const latest = ctx.site.db
    .all('Communication')
    .filter((c) => c.reference_doctype === dt && c.reference_name === comm.reference_name)
    .sort((a, b) => String(b.creation).localeCompare(String(a.creation)))[0];
  if (latest && latest.name !== comm.name) return;
  const meta = ctx.site.meta(String(dt));
  const parent = meta && ctx.site.db.get(String(dt), String(comm.reference_name));
  if (!meta || !parent) return;
  const values: Doc = {};
  if (comm.sent_or_received === 'Received' && settings.auto_reopen_on_new_communication) values.communication_status = 'Open';
  else if (comm.sent_or_received === 'Sent' && settings.auto_mark_replied_on_response) values.communication_status = 'Replied';
  if (settings.update_timestamp_on_new_communication ?? 1) values.modified = ctx.site.now();
  if (Object.keys(values).length) dbSet(ctx, meta, parent, values, { updateModified: false });
}
