// REST contract: the query layer where a real Frappe 15.55.1 site on MariaDB showed it
// (../shared/recordings/frappe-v15.55.1/rest.jsonl). Each `it` names the recording case and the
// Frappe source it pins: frappe/model/db_query.py (joins, like, order_by) and
// frappe/desk/reportview.py (validate_args, run by frappe.client.get_list).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, client, login, start, type Client, type Reply } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';

let emu: RunningEmulator;
let admin: Client; // the Administrator, by sid cookie
const tag = rand();

const names = (r: Reply): string[] => (r.body.data as { name: string }[]).map((d) => d.name);
function ok(r: Reply): any {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

let ada: string;
let bob: string;
let adaCustomer: string;
const adaMail = `${tag}-ada@example.com`;
const adaWork = `${tag}-ada.work@example.com`;
const bobMail = `${tag}-bob@example.com`;
const phone = `+1555${tag.length}001001`;

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  admin = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
  // The demo site has the ERPNext integration's Custom Fields; this site is a plain CRM v1.52.1 /
  // Helpdesk v1.14.0 one, as recorded.
  for (const dt of ['CRM Deal', 'HD Customer']) expect((await admin.remove('Custom Field', `${dt}-erpnext_customer`)).status).toBe(202);
  const customer = (customer_name: string) =>
    admin.insert('Customer', { customer_name, customer_type: 'Individual', customer_group: 'Commercial', territory: 'All Territories' });
  adaCustomer = ok(await customer(`${tag} Ada Lovelace`)).name;
  ok(await customer(`${tag} Ada_Love`));
  ok(await customer(`${tag} AdaXLove`));
  ok(await customer(`${tag} Ada\\Xlove`));
  ok(await customer(`${tag} 100% Cotton`));
  ada = ok(
    await admin.insert('Contact', {
      first_name: `${tag} Ada`,
      email_ids: [{ email_id: adaMail, is_primary: 1 }, { email_id: adaWork }],
      phone_nos: [{ phone, is_primary_phone: 1 }],
      links: [{ link_doctype: 'Customer', link_name: adaCustomer }],
    }),
  ).name;
  bob = ok(await admin.insert('Contact', { first_name: `${tag} Bob`, email_ids: [{ email_id: bobMail, is_primary: 1 }] })).name;
  ok(
    await admin.insert('Address', {
      address_title: `${tag} Ada`,
      address_type: 'Billing',
      address_line1: '1 Analytical Row',
      city: 'London',
      country: 'United Kingdom',
      links: [{ link_doctype: 'Customer', link_name: adaCustomer }],
    }),
  );
});
afterAll(() => emu.close());

describe('child-table filters are a LEFT JOIN (db_query.py prepare_filter_condition → append_table, prepare_args)', () => {
  // recording contact-list-or-child-in: a parent comes back once per matching child row.
  it('returns a parent once per matching child row of an `in` filter', async () => {
    const emails = [adaWork, adaMail, bobMail];
    const r = await admin.list('Contact', {
      fields: ['name'],
      or_filters: [
        ['email_id', 'in', emails],
        ['Contact Email', 'email_id', 'in', emails],
        ['mobile_no', 'in', [phone]],
        ['phone', 'in', [phone]],
        ['Contact Phone', 'phone', 'in', [phone]],
      ],
      order_by: 'name asc',
      limit_page_length: 0,
    });
    expect(names(r)).toEqual([ada, ada, bob].sort());
    expect(r.body.data.every((row: object) => Object.keys(row).join() === 'name')).toBe(true);
  });

  // recording contact-list-or-child-eq: `order_by: creation asc` with a joined child table.
  it('an unqualified column both tables have in ORDER BY is MariaDB error 1052', async () => {
    const r = await admin.list('Contact', {
      or_filters: [
        ['email_id', '=', adaWork],
        ['Contact Email', 'email_id', '=', adaWork],
      ],
      order_by: 'creation asc',
      limit_page_length: 0,
    });
    expectError(r, 500, 'OperationalError');
    expect(Object.keys(r.body).sort()).toEqual(['exc', 'exc_type', 'exception']);
    expect(r.body.exception).toBe(`pymysql.err.OperationalError: (1052, "Column 'creation' in ORDER BY is ambiguous")`);
  });

  // recording address-list-child-filters: two 4-item Dynamic Link filters, `order_by: creation asc`.
  it('the same for filters (not or_filters) on Dynamic Link', async () => {
    const r = await admin.list('Address', {
      fields: ['name', 'address_type', 'address_line1', 'pincode'],
      filters: [
        ['Dynamic Link', 'link_doctype', '=', 'Customer'],
        ['Dynamic Link', 'link_name', '=', adaCustomer],
      ],
      order_by: 'creation asc',
      limit_page_length: 0,
    });
    expectError(r, 500, 'OperationalError');
    expect(r.body.exception).toBe(`pymysql.err.OperationalError: (1052, "Column 'creation' in ORDER BY is ambiguous")`);
  });

  // db_query.py set_order_by passes an explicit order_by through; validate_order_by_and_group_by
  // accepts `tabX`.`col` when `tabX` is one of the query's tables.
  it('accepts an order_by qualified with the parent table, and a selected column by its name', async () => {
    const filters = [
      ['Dynamic Link', 'link_doctype', '=', 'Customer'],
      ['Dynamic Link', 'link_name', '=', adaCustomer],
    ];
    const r = await admin.list('Address', { fields: ['name', 'address_type'], filters, order_by: '`tabAddress`.`creation` asc', limit_page_length: 0 });
    expect(ok(r)).toHaveLength(1);
    // MariaDB resolves an ORDER BY name against the select list first (`tabAddress`.`name` is "name").
    expect(ok(await admin.list('Address', { fields: ['name'], filters, order_by: 'name asc', limit_page_length: 0 }))).toHaveLength(1);
  });

  // db_query.py validate_order_by_and_group_by: "Please select atleast 1 column from {0} to sort/group".
  it('refuses an order_by on a table the query does not join', async () => {
    const r = await admin.list('Contact', { filters: [['email_id', '=', adaMail]], order_by: '`tabAddress`.`creation` asc', limit_page_length: 0 });
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body)[0].message).toBe('Please select atleast 1 column from Address to sort/group');
  });

  it('without a child filter, the same order_by is fine and each parent comes once', async () => {
    const r = await admin.list('Contact', { filters: [['first_name', 'like', `${tag}%`]], order_by: 'creation asc', limit_page_length: 0 });
    expect(names(r)).toEqual([ada, bob]);
  });

  // A LEFT JOIN keeps a parent with no child rows; its child columns are NULL.
  it('a parent without rows in the joined table matches on its own columns', async () => {
    const r = await admin.list('Contact', {
      or_filters: [
        ['email_id', '=', bobMail],
        ['Contact Phone', 'phone', '=', phone],
      ],
      order_by: '`tabContact`.`name` asc',
      limit_page_length: 0,
    });
    expect(names(r)).toEqual([ada, bob].sort());
  });
});

describe('`like` doubles backslashes (db_query.py prepare_filter_condition)', () => {
  const like = async (pattern: string) =>
    names(await admin.list('Customer', { fields: ['name', 'customer_name'], filters: [['customer_name', 'like', pattern]], order_by: 'name asc', limit_page_length: 0 }));

  // recording customer-list-or-like-escaped: `\_` matches nothing of "Ada_Love".
  it('an escaped \\_ is a literal backslash and any one character', async () => {
    expect(await like(`%${tag} ada\\_love%`)).toEqual([`${tag} Ada\\Xlove`]);
    expect(await like(`%${tag} 100\\% cotton%`)).toEqual([]);
  });

  it('an unescaped _ or % is a wildcard, case-insensitively', async () => {
    expect(await like(`%${tag} ada_love%`)).toEqual([`${tag} Ada Lovelace`, `${tag} Ada_Love`, `${tag} AdaXLove`]); // utf8mb4_unicode_ci: " " < "_" < letters
    expect(await like(`${tag} 100% cotton`)).toEqual([`${tag} 100% Cotton`]);
  });

  it('`=` compares the text itself, case-insensitively', async () => {
    const r = await admin.list('Customer', { filters: [['customer_name', '=', `${tag} ada_love`]], order_by: 'name asc', limit_page_length: 0 });
    expect(names(r)).toEqual([`${tag} Ada_Love`]);
  });
});

describe('a field the DocType lacks (frappe/desk/reportview.py validate_args → raise_invalid_field)', () => {
  const expectNotPermitted = (r: Reply, field: string) => {
    expectError(r, 417, 'DataError');
    expect(Object.keys(r.body).sort()).toEqual(['_server_messages', 'exc', 'exc_type', 'exception']);
    expect(r.body.exception).toBe(`frappe.exceptions.DataError: Field not permitted in query: ${field}`);
    expect(serverMessages(r.body)).toEqual([
      expect.objectContaining({ message: `Field not permitted in query: ${field}`, title: 'Message', indicator: 'red', raise_exception: 1 }),
    ]);
  };

  // recording hd-customer-list-erpnext-customer: Helpdesk v1.14.0's HD Customer has no erpnext_customer.
  it('in filters: 417 DataError', async () => {
    const r = await admin.list('HD Customer', { filters: [['erpnext_customer', '=', adaCustomer]], order_by: 'name asc', limit_page_length: 0 });
    expectNotPermitted(r, 'erpnext_customer');
  });

  // recording crm-deal-list-erpnext-customer (the filter is checked; fields too, validate_fields).
  it('in fields, or_filters, dict filters and 4-item filters: 417 DataError', async () => {
    expectNotPermitted(await admin.list('CRM Deal', { fields: ['name', 'erpnext_customer'], limit_page_length: 0 }), 'erpnext_customer');
    expectNotPermitted(await admin.list('CRM Deal', { or_filters: [['erpnext_customer', '=', 'x']], limit_page_length: 0 }), 'erpnext_customer');
    expectNotPermitted(await admin.list('CRM Deal', { filters: { erpnext_customer: 'x' }, limit_page_length: 0 }), 'erpnext_customer');
    expectNotPermitted(await admin.list('Contact', { filters: [['Contact Email', 'no_such_field', '=', 'x']], limit_page_length: 0 }), 'no_such_field');
    expectNotPermitted(await admin.method('frappe.client.get_list', { doctype: 'HD Customer', fields: ['erpnext_customer'] }), 'erpnext_customer');
  });

  it('standard columns are always allowed', async () => {
    ok(await admin.list('Contact', { fields: ['name', 'creation', 'idx', '_assign'], filters: [['Contact Email', 'parent', 'is', 'set'], ['modified', 'is', 'set']], limit_page_length: 1 }));
  });

  // The ERPNext integration's Custom Field makes it a field of the DocType (frappe/crm:
  // crm/fcrm/doctype/erpnext_crm_settings/erpnext_crm_settings.py create_custom_fields_in_frappe_crm).
  it('a Custom Field is a field', async () => {
    ok(await admin.insert('Custom Field', { dt: 'HD Customer', fieldname: 'erpnext_customer', label: 'Customer in ERPNext', fieldtype: 'Data', insert_after: 'domain' }));
    const r = await admin.list('HD Customer', { fields: ['name', 'erpnext_customer'], filters: [['erpnext_customer', '=', adaCustomer]], order_by: 'name asc', limit_page_length: 0 });
    expect(ok(r)).toEqual([]);
  });
});

// recording lead-list-lt-without-is-set: `response_by < X` is `ifnull(response_by, '0001-01-01 00:00:00') < X`
// (db_query.py prepare_filter_condition), so a lead without response_by matches.
it('a `<` filter on a Datetime matches NULL', async () => {
  const first = `${tag}lt`;
  const withSla = ok(await admin.insert('CRM Lead', { first_name: `${first} A`, status: 'New' })).name;
  const without = ok(await admin.insert('CRM Lead', { first_name: `${first} B`, status: 'Contacted' })).name;
  const r = await admin.list('CRM Lead', {
    fields: ['name', 'response_by'],
    filters: [['first_name', 'like', `${first}%`], ['response_by', '<', '2099-01-01 00:00:00']],
    order_by: 'name asc',
    limit_page_length: 0,
  });
  const rows = ok(r) as { name: string; response_by: string | null }[];
  expect(rows.map((x) => x.name)).toEqual([withSla, without].sort());
  expect(rows.find((x) => x.name === without)!.response_by).toBeNull();
  expect(typeof rows.find((x) => x.name === withSla)!.response_by).toBe('string');
});
