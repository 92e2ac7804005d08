/**
 * Helpdesk's HD Ticket controller (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py):
 * defaults in before_validate (type, raised_by, priority, status, status category, SLA re-chosen on
 * every save, contact, customer), `apply_sla` in before_save, and its realtime events.
 */
import type { Doc } from '../../core/database.js';
import { registerHook, saveDoc, type Ctx } from '../../core/document.js';
import { generateHash } from '../../core/naming.js';
import { parseAddr, registerCommunicationUpdater } from '../frappe/core.js';
import { applyHdSla, selectHdSla, type HdHolidayListRecord, type HdSlaRecord } from './sla.js';

function settings(ctx: Ctx): Doc {
  return ctx.site.db.get('HD Settings', 'HD Settings') ?? {};
}

function statusCategories(ctx: Ctx): Record<string, string> {
  return Object.fromEntries(ctx.site.db.all('HD Ticket Status').map((s) => [String(s.name), String(s.category)]));
}

function candidates(ctx: Ctx): HdSlaRecord[] {
  return ctx.site.db
    .all('HD Service Level Agreement')
    .sort((a, b) => String(a.creation).localeCompare(String(b.creation)))
    .map((s) => structuredClone(s) as unknown as HdSlaRecord);
}

export function registerHelpdesk(): void {
  registerHook('HD Ticket', 'before_validate', ({ ctx, doc, before }) => {
    const hd = settings(ctx);
    if (!doc.ticket_type) doc.ticket_type = hd.default_ticket_type || (ctx.site.db.exists('HD Ticket Type', 'Unspecified') ? 'Unspecified' : null);
    if (!doc.raised_by) doc.raised_by = ctx.user === 'Guest' ? null : ctx.user;
    if (!doc.priority) {
      const typePriority = doc.ticket_type ? ctx.site.db.get('HD Ticket Type', String(doc.ticket_type))?.priority : null;
      doc.priority = typePriority || hd.default_priority || null;
    }
    if (!before && !doc.status) doc.status = hd.default_ticket_status || 'Open';
    doc.status_category = statusCategories(ctx)[String(doc.status)] ?? null;
    try {
      doc.sla = selectHdSla(doc, candidates(ctx), ctx.site.nowMicros());
    } catch {
      doc.sla = null; // no default SLA: get_default raises and Helpdesk leaves the ticket without one
    }
    // set_contact: the Contact whose email is raised_by.
    if (!doc.contact && doc.raised_by) {
      const email = parseAddr(doc.raised_by);
      const contact = ctx.site.db.all('Contact').find((c) => String(c.email_id ?? '').toLowerCase() === email);
      if (contact) doc.contact = contact.name;
    }
    // set_customer: only when the contact belongs to exactly one HD Customer.
    if (!doc.customer && doc.contact && (hd.auto_set_customer_from_contact ?? 1)) {
      const customers = ctx.site.db
        .all('HD Customer')
        .filter((c) => ((c.contacts as Doc[]) ?? []).some((m) => m.contact_name === doc.contact));
      if (customers.length === 1) doc.customer = customers[0].name;
    }
  });

  // A new ticket gets a random access `key` for its portal link (hd_ticket.py before_insert;
  // recording hd-ticket-insert answers it set, its value blanked as a secret).
  registerHook('HD Ticket', 'before_insert', ({ doc }) => {
    if (!doc.key) doc.key = generateHash(32);
  });

  registerHook('HD Ticket', 'before_save', ({ ctx, doc, before }) => {
    if (!doc.sla) return;
    const sla = ctx.site.db.get('HD Service Level Agreement', String(doc.sla)) as unknown as HdSlaRecord | undefined;
    if (!sla) return;
    const holidays = sla.holiday_list
      ? ((ctx.site.db.get('HD Service Holiday List', String(sla.holiday_list)) as unknown as HdHolidayListRecord) ?? null)
      : null;
    applyHdSla(doc, before, sla, holidays, ctx.site.nowMicros(), { statusCategories: statusCategories(ctx) });
  });

  /**
   * `HDTicket.on_communication_update(c)`: a customer mail reopens the ticket and records the time;
   * an agent mail records the first/last response and, with `auto_update_status`, moves the status;
   * then a full save (SLA recomputed, activity, realtime).
   */
  registerCommunicationUpdater('HD Ticket', (ctx, ticket, c) => {
    const hd = settings(ctx);
    const now = ctx.site.now();
    if (c.communication_type === 'Automated Message') return;
    if (c.sent_or_received === 'Received') {
      const agentReplied = Boolean(ticket.first_responded_on || ticket.last_agent_response);
      ticket.status = agentReplied ? hd.ticket_reopen_status || 'Open' : hd.default_ticket_status || 'Open';
      ticket.last_customer_response = now;
    } else if (c.sent_or_received === 'Sent') {
      ticket.first_responded_on = ticket.first_responded_on || now;
      ticket.last_agent_response = now;
      if (hd.auto_update_status && hd.update_status_to) ticket.status = hd.update_status_to;
    }
    saveDoc(ctx, ticket, null, { ignorePermissions: true });
  });

  // helpdesk.utils.publish_event: after commit, to the website room / the ticket's open_doc room.
  registerHook('HD Ticket', 'after_insert', ({ ctx }) => ctx.site.publish('helpdesk:new-ticket', {}, 'website'));
  registerHook('HD Ticket', 'on_update', ({ ctx, doc }) => {
    ctx.site.publish('helpdesk:ticket-update', { ticket_id: doc.name }, `open_doc:HD Ticket/${doc.name}`);
  });
}
