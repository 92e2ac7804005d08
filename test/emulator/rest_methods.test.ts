// REST contract: /api/method and frappe.client.* (frappe/frappe version-15). Every `it` names the
// Frappe source it pins in a comment right above it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, adminClient, client, start, userClient, type Client } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';

let emu: RunningEmulator;
let admin: Client; // System Manager, token
let sales: Client & { user: string }; // Sales User, token
let guest: Client; // no credentials

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  admin = await adminClient(emu);
  sales = await userClient(emu, `methods-sales-${rand()}@example.com`, ['Sales User']);
  guest = client(emu, { site: SITE });
});
afterAll(() => emu.close());




async function newLead(fields: Record<string, unknown>): Promise<any> {
  const r = await sales.insert('CRM Lead', { status: 'Contacted', ...fields });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

const salesOrder = () => demoSalesOrder({ customer: 'Delta Hotels', lines: [['MUFFIN-12', 3]], date: emu.site(SITE).today() });

describe('frappe.client reads', () => {
  const tag = `MR-${rand()}`;
  const L: Record<string, string> = {};
  beforeAll(async () => {
    L.a = (await newLead({ first_name: 'Ann', organization: tag, job_title: 'Chef' })).name;
    L.b = (await newLead({ first_name: 'Bob', organization: tag })).name;
    L.c = (await newLead({ first_name: 'Cid', organization: tag })).name;
  });

  // frappe/frappe:frappe/client.py (get_list; no `limit` alias there: unknown kwargs are dropped by frappe.call)
  it('get_list returns dicts, or lists with as_dict false; `limit` is not an alias', async () => {
    const r = await sales.method('frappe.client.get_list', {
      doctype: 'CRM Lead',
      fields: ['name', 'first_name'],
      filters: { organization: tag },
      order_by: 'first_name asc',
    });
    expect(r.status).toBe(200);
    expect(r.body.message).toEqual([
      { name: L.a, first_name: 'Ann' },
      { name: L.b, first_name: 'Bob' },
      { name: L.c, first_name: 'Cid' },
    ]);
    const lists = await sales.method('frappe.client.get_list', { doctype: 'CRM Lead', fields: ['first_name'], filters: { organization: tag }, order_by: 'first_name desc', as_dict: false });
    expect(lists.body.message).toEqual([['Cid'], ['Bob'], ['Ann']]);
    const paged = await sales.method('frappe.client.get_list', { doctype: 'CRM Lead', filters: { organization: tag }, order_by: 'first_name asc', limit_start: 1, limit_page_length: 1 });
    expect(paged.body.message).toEqual([{ name: L.b }]);
    const limited = await sales.method('frappe.client.get_list', { doctype: 'CRM Lead', filters: { organization: tag }, limit: 1 });
    expect(limited.body.message).toHaveLength(3);
  });

  // frappe/frappe:frappe/client.py (get_count → frappe.db.count: no permission check in v15)
  it('get_count counts, even for a DocType the caller cannot read', async () => {
    const r = await sales.method('frappe.client.get_count', { doctype: 'CRM Lead', filters: { organization: tag } });
    expect(r.status).toBe(200);
    expect(r.body.message).toBe(3);
    const wo = await sales.method('frappe.client.get_count', { doctype: 'Work Order' });
    expect(wo.status).toBe(200);
    expect(wo.body.message).toBe(emu.seeds[SITE].work_orders.length);
  });

  // frappe/frappe:frappe/client.py (get: by name or by filters; doc.as_dict() keeps nulls; check_permission read)
  it('get by name and by filters returns as_dict() with nulls', async () => {
    const byName = await sales.method('frappe.client.get', { doctype: 'CRM Lead', name: L.b });
    expect(byName.status).toBe(200);
    expect(byName.body.message).toMatchObject({ doctype: 'CRM Lead', name: L.b, first_name: 'Bob' });
    expect(byName.body.message).toHaveProperty('job_title', null);
    const byFilters = await sales.method('frappe.client.get', { doctype: 'CRM Lead', filters: { organization: tag, first_name: 'Ann' } });
    expect(byFilters.status).toBe(200);
    expect(byFilters.body.message).toMatchObject({ name: L.a, job_title: 'Chef' });
    const denied = await sales.method('frappe.client.get', { doctype: 'Work Order', name: emu.seeds[SITE].work_orders[0] });
    expectError(denied, 403, 'PermissionError');
    expect(String(denied.body._error_message)).toContain('Work Order');
  });

  // frappe/frappe:frappe/client.py (get_value: fieldname str or JSON list; as_dict; None → no `message`)
  it('get_value: dict by default, scalar or list with as_dict 0, {} or no message when nothing matches', async () => {
    const one = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: 'job_title', filters: L.a });
    expect(one.body.message).toEqual({ job_title: 'Chef' });
    const two = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: '["first_name","organization"]', filters: { name: L.a } });
    expect(two.body.message).toEqual({ first_name: 'Ann', organization: tag });
    const scalar = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: 'first_name', filters: { name: L.c }, as_dict: 0 });
    expect(scalar.body.message).toBe('Cid');
    const list = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: '["first_name","organization"]', filters: { name: L.c }, as_dict: 0 });
    expect(list.body.message).toEqual(['Cid', tag]);
    const none = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: 'first_name', filters: { name: 'CRM-LEAD-NOPE' } });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ message: {} });
    const noneScalar = await sales.method('frappe.client.get_value', { doctype: 'CRM Lead', fieldname: 'first_name', filters: { name: 'CRM-LEAD-NOPE' }, as_dict: 0 });
    expect(noneScalar.status).toBe(200);
    expect(noneScalar.body).toEqual({});
  });

  // frappe/frappe:frappe/client.py (get_single_value → frappe.db.get_single_value)
  it('get_single_value reads a Single DocType field', async () => {
    const r = await admin.method('frappe.client.get_single_value', { doctype: 'System Settings', field: 'time_zone' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: 'UTC' });
  });

  // frappe/frappe:frappe/client.py (has_permission → {"has_permission": bool})
  it('has_permission answers per document and ptype', async () => {
    const yes = await sales.method('frappe.client.has_permission', { doctype: 'CRM Lead', docname: L.a, perm_type: 'write' });
    expect(yes.body).toEqual({ message: { has_permission: true } });
    const no = await sales.method('frappe.client.has_permission', { doctype: 'Work Order', docname: emu.seeds[SITE].work_orders[0] });
    expect(no.status).toBe(200);
    expect(no.body.message).toEqual({ has_permission: false });
  });
});

describe('frappe.client writes', () => {
  // frappe/frappe:frappe/client.py (set_value: whitelist(methods=["POST","PUT"]); str fieldname + value, or JSON dict)
  it('set_value with fieldname+value and with a JSON dict, returns the saved doc', async () => {
    const lead = await newLead({ first_name: 'Setter', organization: `SV-${rand()}` });
    const r = await sales.method('frappe.client.set_value', { doctype: 'CRM Lead', name: lead.name, fieldname: 'job_title', value: 'CTO' });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ name: lead.name, job_title: 'CTO' });
    expect(r.body.message).toHaveProperty('last_name', null);
    const r2 = await sales.method('frappe.client.set_value', { doctype: 'CRM Lead', name: lead.name, fieldname: JSON.stringify({ job_title: 'CEO', last_name: 'Valued' }) });
    expect(r2.status).toBe(200);
    expect(r2.body.message).toMatchObject({ job_title: 'CEO', last_name: 'Valued' });
    expect((await sales.get('CRM Lead', lead.name)).body.data).toMatchObject({ job_title: 'CEO', last_name: 'Valued' });
  });

  // frappe/frappe:frappe/client.py (set_value: fieldname in default_fields + child_table_fields → "Cannot edit standard fields")
  it('set_value refuses standard fields', async () => {
    const lead = await newLead({ first_name: 'Std', organization: `SF-${rand()}` });
    for (const fieldname of ['owner', 'modified', 'docstatus', 'parent']) {
      const r = await sales.method('frappe.client.set_value', { doctype: 'CRM Lead', name: lead.name, fieldname, value: 'x' });
      expectError(r, 417, 'ValidationError');
      expect(serverMessages(r.body).map((m) => m.message)).toContain('Cannot edit standard fields');
    }
  });

  // frappe/frappe:frappe/handler.py (is_valid_http_method → throw("Not permitted", PermissionError))
  it('a method called with a verb its whitelist does not allow: 403 PermissionError (GET on set_value)', async () => {
    const lead = await newLead({ first_name: 'Verb', organization: `VB-${rand()}` });
    const r = await sales.method('frappe.client.set_value', { doctype: 'CRM Lead', name: lead.name, fieldname: 'job_title', value: 'Nope' }, 'GET');
    expectError(r, 403, 'PermissionError');
    expect(serverMessages(r.body).map((m) => m.message)).toContain('Not permitted');
    expect((await sales.get('CRM Lead', lead.name)).body.data.job_title).toBeUndefined();
  });

  // frappe/frappe:frappe/client.py (insert → insert_doc(doc).as_dict(); a child doc is appended to its parent, which is returned)
  it('insert returns as_dict() with nulls; a child row insert returns the parent', async () => {
    const tag = `IN-${rand()}`;
    const r = await sales.method('frappe.client.insert', { doc: { doctype: 'CRM Lead', first_name: 'Inserted', organization: tag, status: 'Contacted' } });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ doctype: 'CRM Lead', first_name: 'Inserted', organization: tag });
    expect(r.body.message.name).toMatch(/^CRM-LEAD-\d{4}-\d{5}$/);
    expect(r.body.message).toHaveProperty('last_name', null);

    const child = await sales.method('frappe.client.insert', {
      doc: { doctype: 'CRM Products', parenttype: 'CRM Lead', parent: r.body.message.name, parentfield: 'products', product_name: 'Scone', rate: 2, qty: 6 },
    });
    expect(child.status, JSON.stringify(child.body)).toBe(200);
    expect(child.body.message).toMatchObject({ doctype: 'CRM Lead', name: r.body.message.name });
    expect(child.body.message.products.map((p: any) => [p.product_name, p.parent, p.parentfield])).toEqual([['Scone', r.body.message.name, 'products']]);
  });

  // frappe/frappe:frappe/client.py (insert_many: > 200 docs → throw "Only 200 inserts allowed in one request")
  it('insert_many inserts and returns names; more than 200 is refused before anything is inserted', async () => {
    const tag = `IM-${rand()}`;
    const r = await sales.method('frappe.client.insert_many', {
      docs: [
        { doctype: 'CRM Lead', first_name: 'Many 1', organization: tag },
        { doctype: 'CRM Lead', first_name: 'Many 2', organization: tag },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message).toHaveLength(2);
    const listed = await sales.list('CRM Lead', { filters: { organization: tag }, limit_page_length: 0 });
    expect(listed.body.data.map((d: any) => d.name).sort()).toEqual([...r.body.message].sort());

    const big = `IMB-${rand()}`;
    const docs = Array.from({ length: 201 }, (_, i) => ({ doctype: 'CRM Lead', first_name: `Bulk ${i}`, organization: big }));
    const refused = await sales.method('frappe.client.insert_many', { docs: JSON.stringify(docs) });
    expectError(refused, 417, 'ValidationError');
    expect(serverMessages(refused.body).map((m) => m.message)).toContain('Only 200 inserts allowed in one request');
    const count = await sales.method('frappe.client.get_count', { doctype: 'CRM Lead', filters: { organization: big } });
    expect(count.body.message).toBe(0);
  });

  // frappe/frappe:frappe/client.py (save → frappe.get_doc(doc).save(): check_if_latest needs the caller's `modified`)
  it('save needs `modified`: without it 417 TimestampMismatchError, with it 200', async () => {
    const lead = await newLead({ first_name: 'Saver', organization: `SA-${rand()}` });
    const doc = (await sales.method('frappe.client.get', { doctype: 'CRM Lead', name: lead.name })).body.message;
    const { modified, ...withoutModified } = doc;
    const bad = await sales.method('frappe.client.save', { doc: { ...withoutModified, job_title: 'Lost' } });
    expectError(bad, 417, 'TimestampMismatchError');
    const ok = await sales.method('frappe.client.save', { doc: { ...doc, modified, job_title: 'Saved' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.message).toMatchObject({ name: lead.name, job_title: 'Saved' });
    expect(ok.body.message.modified).not.toBe(modified);
  });

  // frappe/frappe:frappe/client.py (submit → doc.submit(); cancel → get_doc(doctype, name).cancel())
  it('submit then cancel a Sales Order', async () => {
    const draft = await sales.method('frappe.client.insert', { doc: salesOrder() });
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    expect(draft.body.message.docstatus).toBe(0);
    const submitted = await sales.method('frappe.client.submit', { doc: draft.body.message });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body.message).toMatchObject({ name: draft.body.message.name, docstatus: 1 });
    const cancelled = await sales.method('frappe.client.cancel', { doctype: 'Sales Order', name: draft.body.message.name });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.message).toMatchObject({ name: draft.body.message.name, docstatus: 2 });
  });

  // frappe/frappe:frappe/client.py (delete: whitelist(methods=["DELETE","POST"]); returns None → body {})
  it('delete answers {} (POST and DELETE), GET is refused', async () => {
    const a = await newLead({ first_name: 'Del A', organization: `DE-${rand()}` });
    const r = await sales.method('frappe.client.delete', { doctype: 'CRM Lead', name: a.name });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({});
    expectError(await sales.get('CRM Lead', a.name), 404, 'DoesNotExistError');

    const b = await newLead({ first_name: 'Del B', organization: `DE-${rand()}` });
    const viaDelete = await sales.method('frappe.client.delete', { doctype: 'CRM Lead', name: b.name }, 'DELETE');
    expect(viaDelete.status).toBe(200);
    expect(viaDelete.body).toEqual({});

    const c = await newLead({ first_name: 'Del C', organization: `DE-${rand()}` });
    expectError(await sales.method('frappe.client.delete', { doctype: 'CRM Lead', name: c.name }, 'GET'), 403, 'PermissionError');
    expect((await sales.get('CRM Lead', c.name)).status).toBe(200);
  });

  // frappe/frappe:frappe/client.py (bulk_update: json.loads(docs); failures collected in failed_docs, the rest saved)
  it('bulk_update saves what it can and reports failed_docs', async () => {
    const lead = await newLead({ first_name: 'Bulk', organization: `BU-${rand()}` });
    const docs = [
      { doctype: 'CRM Lead', docname: lead.name, job_title: 'Bulked' },
      { doctype: 'CRM Lead', docname: 'CRM-LEAD-NOPE', job_title: 'Ghost' },
    ];
    const r = await sales.method('frappe.client.bulk_update', { docs: JSON.stringify(docs) });
    expect(r.status).toBe(200);
    expect(r.body.message.failed_docs).toHaveLength(1);
    expect(r.body.message.failed_docs[0].doc).toMatchObject({ doctype: 'CRM Lead', docname: 'CRM-LEAD-NOPE' });
    expect(r.body.message.failed_docs[0].exc).toContain('DoesNotExistError');
    // frappe.throw in load_from_db queued its message before bulk_update caught the exception
    expect(serverMessages(r.body).map((m) => m.message)).toContain('CRM Lead CRM-LEAD-NOPE not found');
    expect((await sales.get('CRM Lead', lead.name)).body.data.job_title).toBe('Bulked');
  });

  // frappe/frappe:frappe/client.py (bulk_update calls json.loads(docs) unconditionally: a JSON array is a TypeError)
  it('bulk_update with docs already a list (not a JSON string): 500 TypeError', async () => {
    const lead = await newLead({ first_name: 'Typed', organization: `BT-${rand()}` });
    const r = await sales.method('frappe.client.bulk_update', { docs: [{ doctype: 'CRM Lead', docname: lead.name, job_title: 'x' }] });
    expectError(r, 500, 'TypeError');
  });

  // frappe/erpnext:erpnext/selling/doctype/customer/customer.py (get_customer_name msgprint) + frappe/frappe:frappe/utils/response.py
  // (message_log of a successful request → _server_messages)
  it('msgprints of a successful call are returned in _server_messages', async () => {
    const r = await sales.method('frappe.client.insert', { doc: { doctype: 'Customer', customer_name: 'Acme Foods', customer_type: 'Company' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message.name).toMatch(/^Acme Foods - \d+$/);
    const msgs = serverMessages(r.body);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ title: 'Note', indicator: 'yellow' });
    expect(msgs[0].message).toBe(`Changed customer name to '${r.body.message.name}' as 'Acme Foods' already exists.`);
  });
});

describe('/api/method plumbing', () => {
  // frappe/frappe:frappe/handler.py (ping, allow_guest)
  it('ping answers pong to a guest', async () => {
    const r = await guest.call('GET', '/api/method/ping');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: 'pong' });
  });

  // frappe/frappe:frappe/auth.py (get_logged_user)
  it('frappe.auth.get_logged_user returns the caller', async () => {
    const r = await sales.method('frappe.auth.get_logged_user', {}, 'GET');
    expect(r.body).toEqual({ message: sales.user });
  });

  // frappe/frappe:frappe/handler.py (is_whitelisted: Guest on a non-guest method → PermissionError "Method Not Allowed")
  it('a guest calling a non-guest method: 403 PermissionError', async () => {
    const r = await guest.method('frappe.auth.get_logged_user', {}, 'GET');
    expectError(r, 403, 'PermissionError');
    const msgs = serverMessages(r.body);
    expect(msgs[0].title).toBe('Method Not Allowed');
    expect(msgs[0].message).toContain('not whitelisted');
    expectError(await guest.method('frappe.client.get_list', { doctype: 'CRM Lead' }), 403, 'PermissionError');
  });

  // frappe/frappe:frappe/client.py (get_time_zone, allow_guest)
  it('get_time_zone is open to guests', async () => {
    const r = await guest.method('frappe.client.get_time_zone', {});
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: { time_zone: 'UTC' } });
  });

  // frappe/frappe:frappe/handler.py (execute_cmd: get_attr failure → throw "Failed to get method for command …")
  it('an unknown method: 417 ValidationError "Failed to get method for command"', async () => {
    const r = await sales.method('frappe.nope.does_not_exist', {});
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body).some((m) => String(m.message).startsWith('Failed to get method for command frappe.nope.does_not_exist'))).toBe(true);
  });

  // frappe/frappe:frappe/handler.py (handle: `message` only set when the method returns non-None)
  it('a method returning None answers {} (no message key)', async () => {
    const lead = await newLead({ first_name: 'None', organization: `NO-${rand()}` });
    const r = await sales.method('frappe.client.delete', { doctype: 'CRM Lead', name: lead.name });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([]);
  });

  // frappe/frappe:frappe/api/v1.py (url_rules mounted at /api and /api/v1)
  it('/api/v1/method is the same endpoint', async () => {
    const r = await guest.call('GET', '/api/v1/method/ping');
    expect(r.body).toEqual({ message: 'pong' });
  });
});
