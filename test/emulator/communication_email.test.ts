// frappe/frappe:frappe/core/doctype/communication/email.py `make` [v15]: whitelisted; `email`
// permission on the reference document when one is named, no check without one; the Communication
// inserted with ignore_permissions (one with no reference references itself); with send_email, an
// Email Queue with one recipient row per address; the answer `{name, emails_not_sent_to}`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, client, login, start, userClient, type Client } from '../helpers/emulator.js';
import { expectError, rand } from '../helpers/assertions.js';

const MAKE = 'frappe.core.doctype.communication.email.make';
let emu: RunningEmulator;
let sales: Client & { user: string };
let agent: Client & { user: string };
let root: Client;

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC' }] });
  sales = await userClient(emu, `mail-${rand()}@example.com`, ['Sales User']);
  // Helpdesk's Agent role has no permission on CRM Lead.
  agent = await userClient(emu, `agent-${rand()}@example.com`, ['Agent']);
  root = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
});
afterAll(() => emu.close());

async function queueOf(communication: string): Promise<any[]> {
  const r = await root.list('Email Queue', { filters: [['communication', '=', communication]], fields: ['name', 'status', 'reference_doctype', 'reference_name', 'sender'], limit_page_length: 0 });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

describe('communication.email.make', () => {
  it('without a reference: no permission check, a Communication that references itself, and the mail queued', async () => {
    const subject = `Daily report ${rand()}`;
    const r = await sales.method(MAKE, { recipients: 'ops@example.com, boss@example.com', subject, content: '<p>hello</p>', send_email: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message).toEqual({ name: expect.any(String), emails_not_sent_to: '' });
    const comm = (await root.get('Communication', r.body.message.name)).body.data;
    expect(comm).toMatchObject({ subject, recipients: 'ops@example.com, boss@example.com', communication_medium: 'Email', sent_or_received: 'Sent', reference_doctype: 'Communication', reference_name: comm.name, owner: sales.user });
    expect(comm.sender).toContain(sales.user);
    const queue = await queueOf(comm.name);
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ status: 'Not Sent', reference_doctype: 'Communication', reference_name: comm.name });
    const full = (await root.get('Email Queue', queue[0].name)).body.data;
    expect(full.recipients.map((x: any) => [x.recipient, x.status])).toEqual([
      ['ops@example.com', 'Not Sent'],
      ['boss@example.com', 'Not Sent'],
    ]);
  });

  it('recipients as a list are joined; without send_email nothing is queued', async () => {
    const r = await sales.method(MAKE, { recipients: ['a@example.com', 'b@example.com'], subject: `Note ${rand()}`, content: 'x' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message.emails_not_sent_to).toBeNull();
    expect((await root.get('Communication', r.body.message.name)).body.data.recipients).toBe('a@example.com, b@example.com');
    expect(await queueOf(r.body.message.name)).toEqual([]);
  });

  it('with a reference document: needs email permission on it', async () => {
    const lead = (await sales.insert('CRM Lead', { first_name: `Mail ${rand()}` })).body.data;
    const ok = await sales.method(MAKE, { doctype: 'CRM Lead', name: lead.name, recipients: 'c@example.com', subject: 'Hello', content: 'x', send_email: 1 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await root.get('Communication', ok.body.message.name)).body.data).toMatchObject({ reference_doctype: 'CRM Lead', reference_name: lead.name });

    const before = (await root.list('Communication', { filters: [['subject', '=', 'Refused']], limit_page_length: 0 })).body.data.length;
    const refused = await agent.method(MAKE, { doctype: 'CRM Lead', name: lead.name, recipients: 'c@example.com', subject: 'Refused', content: 'x', send_email: 1 });
    expectError(refused, 403, 'PermissionError');
    expect(refused.body.exception).toContain(`You are not allowed to send emails related to: CRM Lead ${lead.name}`);
    expect((await root.list('Communication', { filters: [['subject', '=', 'Refused']], limit_page_length: 0 })).body.data.length).toBe(before);
  });
});
