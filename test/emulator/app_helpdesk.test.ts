/**
 * End-to-end behaviour of the emulated Helpdesk over real HTTP on 127.0.0.1: HD Ticket defaults,
 * the Default SLA installed by Helpdesk, response/resolution targets in working hours, the
 * agreement status after the deadline, contact/customer linking and ticket naming.
 *
 * Sources mirrored (frappe/helpdesk):
 *   helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py (before_validate: set_ticket_type, set_raised_by,
 *     set_priority, set_default_status, set_status_category, set_sla, set_contact, set_customer;
 *     before_save: apply_sla)
 *   helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.json (autoname autoincrement)
 *   helpdesk/helpdesk/doctype/hd_service_level_agreement/hd_service_level_agreement.py (apply,
 *     handle_new, handle_targets, calc_time, handle_agreement_status)
 *   helpdesk/setup/install.py (ticket statuses, priorities, types, the "Default" SLA)
 *   helpdesk/utils.py get_customers (HD Customer Member rows)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { setClock, start, userClient, type Client } from '../helpers/emulator.js';

let emu: RunningEmulator;
let agent: Client;

const toSecond = (v: unknown): string => String(v).slice(0, 19);

async function newTicket(fields: Record<string, unknown>): Promise<any> {
  const res = await agent.insert('HD Ticket', fields);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

beforeAll(async () => {
  emu = await start(); // System Settings time zone UTC
  agent = await userClient(emu, 'agent@helpdesk.example', ['Agent', 'System Manager']);
});

afterAll(async () => {
  await emu?.close();
});

describe('HD Ticket defaults (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py before_validate)', () => {
  // helpdesk/setup/install.py: the "Default" SLA, Mon–Fri 10:00–18:00, Medium 8 h / 24 h (default priority)
  it('installs the Default SLA with Helpdesk', async () => {
    const res = await agent.get('HD Service Level Agreement', 'Default');
    expect(res.status).toBe(200);
    const sla = res.body.data;
    expect(sla.default_sla).toBe(1);
    expect(sla.enabled).toBe(1);
    expect(sla.default_priority).toBe('Medium');
    const medium = sla.priorities.find((p: any) => p.priority === 'Medium');
    expect(medium).toMatchObject({ response_time: 8 * 3600, resolution_time: 24 * 3600, default_priority: 1 });
    expect(sla.support_and_resolution.map((d: any) => [d.workday, d.start_time, d.end_time])).toEqual(
      ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'].map((d) => [d, '10:00:00', '18:00:00']),
    );
  });

  // hd_ticket.py set_ticket_type / set_priority / set_default_status / set_status_category / set_sla;
  // hd_service_level_agreement.py handle_new, handle_targets (calc_time), handle_agreement_status
  it('gives a new ticket status Open, priority Medium, type Unspecified and the Default SLA targets', async () => {
    await setClock(emu, '2026-01-05T09:00:00Z'); // Monday, before the 10:00 opening
    const t = await newTicket({ subject: 'Where is my cake?', raised_by: 'someone@customer.example', description: '<p>Order #12</p>' });
    expect(t.status).toBe('Open');
    expect(t.status_category).toBe('Open');
    expect(t.priority).toBe('Medium');
    expect(t.ticket_type).toBe('Unspecified');
    expect(t.sla).toBe('Default');
    expect(toSecond(t.service_level_agreement_creation)).toBe('2026-01-05 09:00:00');
    // 8 working hours from the 10:00 opening; 24 working hours = three full days.
    expect(toSecond(t.response_by)).toBe('2026-01-05 18:00:00');
    expect(toSecond(t.resolution_by)).toBe('2026-01-07 18:00:00');
    expect(t.agreement_status).toBe('First Response Due');
    expect(t.first_responded_on).toBeUndefined();
  });

  // hd_service_level_agreement.py calc_time: a finished day rolls to the next day's opening; weekends skipped
  it('carries targets over the weekend for a ticket raised Friday 17:00', async () => {
    await setClock(emu, '2026-01-09T17:00:00Z'); // Friday
    const t = await newTicket({ subject: 'Weekend order', raised_by: 'weekend@customer.example' });
    // 1 h on Friday, 7 h on Monday.
    expect(toSecond(t.response_by)).toBe('2026-01-12 17:00:00');
    // 1 h Friday + 8 h Monday + 8 h Tuesday + 7 h Wednesday.
    expect(toSecond(t.resolution_by)).toBe('2026-01-14 17:00:00');
  });

  // hd_service_level_agreement.py get_priorities()[doc.priority]: an explicit priority picks its row (High: 1 h / 4 h)
  it('uses the row of an explicitly given priority', async () => {
    await setClock(emu, '2026-01-06T11:00:00Z'); // Tuesday 11:00
    const t = await newTicket({ subject: 'Urgent-ish', raised_by: 'vip@customer.example', priority: 'High' });
    expect(t.priority).toBe('High');
    expect(toSecond(t.response_by)).toBe('2026-01-06 12:00:00');
    expect(toSecond(t.resolution_by)).toBe('2026-01-06 15:00:00');
  });

  // hd_service_level_agreement.py handle_agreement_status: Failed once response_by < now, on the next save
  it('turns "Failed" on the first save after response_by has passed', async () => {
    await setClock(emu, '2026-01-05T09:00:00Z');
    const t = await newTicket({ subject: 'Slow reply', raised_by: 'slow@customer.example' });
    expect(t.agreement_status).toBe('First Response Due');

    await setClock(emu, '2026-01-05T18:00:01Z'); // one second after response_by
    const res = await agent.update('HD Ticket', t.name, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.agreement_status).toBe('Failed');
    // Targets are recomputed from the SLA creation time, so they do not move.
    expect(toSecond(res.body.data.response_by)).toBe('2026-01-05 18:00:00');
    expect(toSecond(res.body.data.resolution_by)).toBe('2026-01-07 18:00:00');
  });

  // hd_ticket.json autoname "autoincrement": integer names, one after another
  it('names tickets with consecutive integers', async () => {
    await setClock(emu, '2026-01-07T12:00:00Z');
    const a = await newTicket({ subject: 'First', raised_by: 'a@customer.example' });
    const b = await newTicket({ subject: 'Second', raised_by: 'b@customer.example' });
    expect(typeof a.name).toBe('number');
    expect(Number.isInteger(a.name)).toBe(true);
    expect(b.name).toBe(a.name + 1);
    const fetched = await agent.get('HD Ticket', b.name);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data.name).toBe(b.name);
    expect(fetched.body.data.subject).toBe('Second');
  });
});

describe('contact and customer from raised_by (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py set_contact / set_customer)', () => {
  beforeAll(async () => {
    await setClock(emu, '2026-01-07T13:00:00Z');
    const contact = await agent.insert('Contact', {
      first_name: 'Grace',
      last_name: 'Hopper',
      email_ids: [{ email_id: 'grace@navy.example', is_primary: 1 }],
    });
    if (contact.status !== 200) throw new Error(`contact: ${JSON.stringify(contact.body)}`);
    const customer = await agent.insert('HD Customer', { customer_name: 'US Navy', contacts: [{ contact_name: contact.body.data.name }] });
    if (customer.status !== 200) throw new Error(`HD Customer: ${JSON.stringify(customer.body)}`);
  });

  // hd_ticket.py set_contact (Contact.email_id == raised_by); set_customer via helpdesk/utils.py get_customers (HD Customer Member)
  it('links the Contact whose email is raised_by and the HD Customer it belongs to', async () => {
    const t = await newTicket({ subject: 'Compiler bug', raised_by: 'grace@navy.example' });
    expect(t.contact).toBe('Grace Hopper');
    expect(t.customer).toBe('US Navy');
  });

  // hd_ticket.py set_contact: `email_id = parseaddr(self.raised_by)[1]`
  it('parses a display-name address in raised_by before looking up the Contact', async () => {
    const t = await newTicket({ subject: 'Another bug', raised_by: 'Grace Hopper <grace@navy.example>' });
    expect(t.contact).toBe('Grace Hopper');
    expect(t.customer).toBe('US Navy');
  });

  // hd_ticket.py set_contact / set_customer: nothing to link for an unknown address
  it('leaves contact and customer empty for an unknown sender', async () => {
    const t = await newTicket({ subject: 'Who am I', raised_by: 'stranger@nowhere.example' });
    expect(t.contact).toBeUndefined();
    expect(t.customer).toBeUndefined();
    expect(t.raised_by).toBe('stranger@nowhere.example');
  });
});

/**
 * Helpdesk lets only agents see tickets, whatever the DocPerms say: frappe/helpdesk:helpdesk/hooks.py
 * (has_permission, permission_query_conditions for HD Ticket), hd_ticket.py `has_permission` /
 * `permission_query`, utils.py `is_agent`; hd_agent.py `before_save` (named after its user, Agent role).
 */
describe('agent-only tickets (hd_ticket.py has_permission / permission_query)', () => {
  it('a non-agent with HD Ticket DocPerms sees only its own tickets: 403 on another, an empty list', async () => {
    // The HD Customer role reads, writes and creates HD Tickets by its DocPerm (hd_ticket.json).
    const buyer = await userClient(emu, 'buyer@shop.example', ['HD Customer']);
    const other = await newTicket({ subject: 'Not yours', raised_by: 'someone-else@customer.example' });
    expect((await buyer.get('HD Ticket', String(other.name))).status).toBe(403);
    expect((await buyer.update('HD Ticket', String(other.name), { subject: 'mine now' })).status).toBe(403);
    const listed = await buyer.list('HD Ticket', { fields: ['name'], limit_page_length: 0 });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((t: any) => t.name)).not.toContain(other.name);
    // Its own ticket (owner / raised_by) it may read and list.
    const own = await buyer.insert('HD Ticket', { subject: 'Mine', raised_by: 'buyer@shop.example' });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect((await buyer.get('HD Ticket', String(own.body.data.name))).status).toBe(200);
    expect((await buyer.list('HD Ticket', { fields: ['name'], limit_page_length: 0 })).body.data.map((t: any) => t.name)).toEqual([own.body.data.name]);
  });

  it('an HD Agent record makes a user an agent: named after the user, who gets the Agent role, and sees every ticket', async () => {
    const u = await userClient(emu, 'new-agent@helpdesk.example', ['HD Customer']);
    const t = await newTicket({ subject: 'For the new agent', raised_by: 'customer@customer.example' });
    expect((await u.get('HD Ticket', String(t.name))).status).toBe(403);
    const rec = await agent.insert('HD Agent', { user: u.user, is_active: 1 });
    expect(rec.status, JSON.stringify(rec.body)).toBe(200);
    expect(rec.body.data.name).toBe(u.user);
    expect((await agent.get('User', u.user)).body.data.roles.map((r: any) => r.role)).toEqual(['HD Customer', 'Agent']);
    expect((await u.get('HD Ticket', String(t.name))).status).toBe(200);
    expect((await u.list('HD Ticket', { fields: ['name'], limit_page_length: 0 })).body.data.map((x: any) => x.name)).toContain(t.name);
  });
});
