// frappe/frappe:frappe/client.py `insert_many` [v15]: at most 200 documents a request (more is
// refused with frappe.throw before anything is inserted), each through insert_doc with the caller's
// permissions, all in the request's one transaction; the answer is one name per document, in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, start, userClient, type Client } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';

let emu: RunningEmulator;
let sales: Client & { user: string };

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC' }] });
  sales = await userClient(emu, `insert-many-${rand()}@example.com`, ['Sales User']);
});
afterAll(() => emu.close());

const leads = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ doctype: 'CRM Lead', first_name: `Many ${i}`, organization: tag }));

async function countTagged(tag: string): Promise<number> {
  const r = await sales.method('frappe.client.get_count', { doctype: 'CRM Lead', filters: { organization: tag } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.message;
}

describe('frappe.client.insert_many', () => {
  it('takes exactly 200 documents and answers their names in order', async () => {
    const tag = `IM200-${rand()}`;
    const r = await sales.method('frappe.client.insert_many', { docs: JSON.stringify(leads(200, tag)) });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    expect(r.body.message).toHaveLength(200);
    expect(new Set(r.body.message).size).toBe(200);
    const listed = await sales.list('CRM Lead', { filters: { organization: tag }, fields: ['name', 'first_name'], limit_page_length: 0 });
    const byName = new Map(listed.body.data.map((d: any) => [d.name, d.first_name]));
    expect(r.body.message.map((n: string) => byName.get(n))).toEqual(leads(200, tag).map((d) => d.first_name));
  });

  it('refuses 201 with "Only 200 inserts allowed in one request" and inserts none', async () => {
    const tag = `IM201-${rand()}`;
    const r = await sales.method('frappe.client.insert_many', { docs: JSON.stringify(leads(201, tag)) });
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body).map((m) => m.message)).toContain('Only 200 inserts allowed in one request');
    expect(await countTagged(tag)).toBe(0);
  });

  it('checks create permission on every document: one refused rolls back the others', async () => {
    const tag = `IMP-${rand()}`;
    // A Sales User may create CRM Leads but not Roles.
    const r = await sales.method('frappe.client.insert_many', { docs: JSON.stringify([...leads(2, tag), { doctype: 'Role', role_name: `Nope ${rand()}` }]) });
    expectError(r, 403, 'PermissionError');
    expect(await countTagged(tag)).toBe(0);
  });

  it("answers a child row's parent name, once per row", async () => {
    const lead = await sales.insert('CRM Lead', { first_name: 'Parent', organization: `IMC-${rand()}` });
    expect(lead.status).toBe(200);
    const row = (product_name: string) => ({ doctype: 'CRM Products', parenttype: 'CRM Lead', parent: lead.body.data.name, parentfield: 'products', product_name, rate: 1, qty: 1 });
    const r = await sales.method('frappe.client.insert_many', { docs: JSON.stringify([row('Scone'), row('Bun')]) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message).toEqual([lead.body.data.name, lead.body.data.name]);
  });
});
