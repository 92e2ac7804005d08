// REST contract: /api/resource (frappe/frappe version-15). Every `it` names the Frappe source it
// pins in a comment right above it. The emulator must answer exactly like a v15 site does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, adminClient, client, login, start, userClient, type Client, type Reply } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';

let emu: RunningEmulator;
let admin: Client; // a System Manager with API keys
let administrator: Client; // the Administrator, by sid cookie
let sales: Client; // a Sales User with API keys

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  admin = await adminClient(emu);
  administrator = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
  sales = await userClient(emu, `rest-sales-${rand()}@example.com`, ['Sales User']);
});
afterAll(() => emu.close());


/** `_server_messages` is a JSON string of a list of JSON strings; decode both levels. */


const names = (r: Reply): string[] => (r.body.data as { name: string }[]).map((d) => d.name);

async function newLead(c: Client, fields: Record<string, unknown>): Promise<any> {
  const r = await c.insert('CRM Lead', { status: 'Contacted', ...fields });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

// ---- list ---------------------------------------------------------------------------------

describe('GET /api/resource/<doctype> (list)', () => {
  const tag = `LT-${rand()}`;
  const L: Record<string, string> = {};
  const scoped = (extra: unknown[][] = []) => [['organization', '=', tag], ...extra];

  beforeAll(async () => {
    const rows: [string, Record<string, unknown>][] = [
      ['A', { first_name: 'Alpha', last_name: 'One', job_title: 'CEO', annual_revenue: 100, no_of_employees: '11-50', sla_creation: '2025-03-01 00:00:00' }],
      ['B', { first_name: 'beta', annual_revenue: 200, no_of_employees: '1-10', sla_creation: '2025-03-02 23:30:00' }],
      ['C', { first_name: 'Gamma', last_name: 'Three', job_title: 'CTO', annual_revenue: 300, no_of_employees: '51-200', sla_creation: '2025-03-03 00:00:00' }],
      ['D', { first_name: 'Delta', last_name: 'Four', annual_revenue: 0 }],
      ['E', { first_name: 'Epsilon', annual_revenue: 50, sla_creation: '2025-02-28 23:59:59' }],
    ];
    for (const [key, fields] of rows) L[key] = (await newLead(admin, { organization: tag, ...fields })).name;
  });

  const pick = (...keys: string[]) => keys.map((k) => L[k]).sort();
  const listNames = async (filters: unknown, extra: Record<string, unknown> = {}) => {
    const r = await admin.list('CRM Lead', { filters, limit_page_length: 0, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return names(r).sort();
  };

  // frappe/frappe:frappe/api/v1.py (document_list) + frappe/model/db_query.py (execute: default fields = `name`)
  it('returns only `name` when no fields are asked for', async () => {
    const r = await admin.list('CRM Lead', { filters: scoped() });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['data']);
    expect(r.body.data).toHaveLength(5);
    for (const row of r.body.data) expect(Object.keys(row)).toEqual(['name']);
  });

  // frappe/frappe:frappe/model/db_query.py (fields=["*"] selects every column; NULL columns come back as null)
  it('fields=["*"] returns every column, nulls included', async () => {
    const r = await admin.list('CRM Lead', { fields: ['*'], filters: scoped([['name', '=', L.B]]) });
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(1);
    const row = r.body.data[0];
    expect(row).toMatchObject({ name: L.B, first_name: 'beta', organization: tag, docstatus: 0 });
    expect(row).toHaveProperty('last_name', null);
    expect(row).toHaveProperty('job_title', null);
    for (const k of ['owner', 'creation', 'modified', 'modified_by', 'idx']) expect(row).toHaveProperty(k);
  });

  // frappe/frappe:frappe/model/db_query.py (filters as a dict {field: value} and {field: [op, value]})
  it('accepts filters as a dict', async () => {
    expect(await listNames({ organization: tag, first_name: 'Alpha' })).toEqual(pick('A'));
    expect(await listNames({ organization: tag, annual_revenue: ['>', 150] })).toEqual(pick('B', 'C'));
  });

  // frappe/frappe:frappe/model/db_query.py (prepare_filter_condition; MariaDB utf8mb4 collation compares case-insensitively)
  it('list filters: = is case-insensitive, != keeps NULLs (ifnull)', async () => {
    expect(await listNames(scoped([['first_name', '=', 'ALPHA']]))).toEqual(pick('A'));
    expect(await listNames(scoped([['first_name', '=', 'BETA']]))).toEqual(pick('B'));
    // ifnull(job_title, '') != 'CEO' also matches the rows whose job_title is NULL.
    expect(await listNames(scoped([['job_title', '!=', 'CEO']]))).toEqual(pick('B', 'C', 'D', 'E'));
  });

  // frappe/frappe:frappe/model/db_query.py (prepare_filter_condition: numeric comparisons)
  it('list filters: >, <, >=, <= on a Currency field', async () => {
    expect(await listNames(scoped([['annual_revenue', '>', 100]]))).toEqual(pick('B', 'C'));
    expect(await listNames(scoped([['annual_revenue', '<', 100]]))).toEqual(pick('D', 'E'));
    expect(await listNames(scoped([['annual_revenue', '>=', 200]]))).toEqual(pick('B', 'C'));
    expect(await listNames(scoped([['annual_revenue', '<=', 50]]))).toEqual(pick('D', 'E'));
  });

  // frappe/frappe:frappe/model/db_query.py (like / not like, case-insensitive under MariaDB)
  it('list filters: like and not like', async () => {
    expect(await listNames(scoped([['first_name', 'like', '%TA']]))).toEqual(pick('B', 'D'));
    expect(await listNames(scoped([['first_name', 'not like', '%a']]))).toEqual(pick('E'));
  });

  // frappe/frappe:frappe/model/db_query.py (in / not in: list or comma-separated string; not in keeps NULLs)
  it('list filters: in (list and comma string) and not in', async () => {
    expect(await listNames(scoped([['first_name', 'in', ['alpha', 'GAMMA']]]))).toEqual(pick('A', 'C'));
    expect(await listNames(scoped([['first_name', 'in', 'Alpha,Gamma']]))).toEqual(pick('A', 'C'));
    expect(await listNames(scoped([['job_title', 'not in', ['CEO']]]))).toEqual(pick('B', 'C', 'D', 'E'));
  });

  // frappe/frappe:frappe/model/db_query.py (operator `is`: "set" → `!= ''`, "not set" → ifnull(col,'') = '')
  it('list filters: is set / is not set', async () => {
    expect(await listNames(scoped([['last_name', 'is', 'set']]))).toEqual(pick('A', 'C', 'D'));
    expect(await listNames(scoped([['last_name', 'is', 'not set']]))).toEqual(pick('B', 'E'));
  });

  // frappe/frappe:frappe/model/db_query.py (get_between_date_filter: a date bound on a Datetime field spans
  // 00:00:00 of the first day to 23:59:59.999999 of the last day)
  it('list filters: between on a Datetime field covers whole days, not the next midnight', async () => {
    expect(await listNames(scoped([['sla_creation', 'between', ['2025-03-01', '2025-03-02']]]))).toEqual(pick('A', 'B'));
  });

  // frappe/frappe:frappe/model/db_query.py (prepare_filter_condition: ifnull(col, '0001-01-01 00:00:00') < value)
  it('a Datetime `<` filter also matches rows where the field is NULL; `>` does not', async () => {
    expect(await listNames(scoped([['sla_creation', '<', '2025-03-02 00:00:00']]))).toEqual(pick('A', 'D', 'E'));
    expect(await listNames(scoped([['sla_creation', '>', '2000-01-01 00:00:00']]))).toEqual(pick('A', 'B', 'C', 'E'));
  });

  // frappe/frappe:frappe/model/db_query.py (or_filters are OR-ed, then AND-ed with filters)
  it('or_filters', async () => {
    const r = await admin.list('CRM Lead', {
      filters: scoped(),
      or_filters: [['first_name', '=', 'Alpha'], ['annual_revenue', '>', 250]],
    });
    expect(r.status).toBe(200);
    expect(names(r).sort()).toEqual(pick('A', 'C'));
  });

  // frappe/frappe:frappe/model/db_query.py (set_order_by: order_by passed through)
  it('order_by asc and desc', async () => {
    const desc = await admin.list('CRM Lead', { filters: scoped(), order_by: 'annual_revenue desc' });
    expect(names(desc)).toEqual(['C', 'B', 'A', 'E', 'D'].map((k) => L[k]));
    const asc = await admin.list('CRM Lead', { filters: scoped(), order_by: 'annual_revenue asc' });
    expect(names(asc)).toEqual(['D', 'E', 'A', 'B', 'C'].map((k) => L[k]));
  });

  // frappe/frappe:frappe/api/v1.py (document_list: sbool(as_dict)) + frappe/client.py (get_list as_list=not as_dict)
  it('as_dict=0 returns a list of lists', async () => {
    const r = await admin.list('CRM Lead', { fields: ['name', 'first_name'], filters: scoped(), order_by: 'annual_revenue asc', as_dict: 0 });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([
      [L.D, 'Delta'],
      [L.E, 'Epsilon'],
      [L.A, 'Alpha'],
      [L.B, 'beta'],
      [L.C, 'Gamma'],
    ]);
  });
});

describe('GET /api/resource/<doctype> paging and ordering', () => {
  const tag = `PG-${rand()}`;
  const all: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 23; i++) all.push((await newLead(admin, { first_name: `Page ${i}`, organization: tag })).name);
  });

  // frappe/frappe:frappe/api/v1.py (document_list: limit_page_length defaults to 20)
  it('returns 20 rows by default', async () => {
    const r = await admin.list('CRM Lead', { filters: { organization: tag } });
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(20);
  });

  // frappe/frappe:frappe/model/db_query.py (add_limit: limit_page_length=0 means no LIMIT)
  it('limit_page_length=0 returns every row', async () => {
    const r = await admin.list('CRM Lead', { filters: { organization: tag }, limit_page_length: 0 });
    expect(names(r).sort()).toEqual([...all].sort());
  });

  // frappe/frappe:frappe/api/v1.py (document_list: `limit` is an alias of limit_page_length)
  it('`limit` is an alias of limit_page_length', async () => {
    const r = await admin.list('CRM Lead', { filters: { organization: tag }, limit: 5 });
    expect(r.body.data).toHaveLength(5);
  });

  // frappe/frappe:frappe/model/db_query.py (add_limit: offset limit_start)
  it('limit_start offsets the page', async () => {
    const sorted = [...all].sort();
    const r = await admin.list('CRM Lead', { filters: { organization: tag }, order_by: 'name asc', limit_start: 5, limit_page_length: 5 });
    expect(names(r)).toEqual(sorted.slice(5, 10));
    const tail = await admin.list('CRM Lead', { filters: { organization: tag }, order_by: 'name asc', limit_start: 20 });
    expect(names(tail)).toEqual(sorted.slice(20));
  });

  // frappe/frappe:frappe/model/db_query.py (set_order_by: no order_by → no ORDER BY at all in v15, not `modified desc`)
  it('without order_by the list is not sorted by modified desc', async () => {
    const otag = `OR-${rand()}`;
    const o1 = (await newLead(admin, { first_name: 'Old', organization: otag })).name;
    const o2 = (await newLead(admin, { first_name: 'Middle', organization: otag })).name;
    const o3 = (await newLead(admin, { first_name: 'New', organization: otag })).name;
    // o2 becomes the most recently modified document.
    const u = await admin.update('CRM Lead', o2, { job_title: 'Touched' });
    expect(u.status).toBe(200);
    const byModified = await admin.list('CRM Lead', { filters: { organization: otag }, order_by: 'modified desc' });
    expect(names(byModified)).toEqual([o2, o3, o1]);
    const plain = await admin.list('CRM Lead', { filters: { organization: otag } });
    expect(plain.status).toBe(200);
    expect(names(plain).sort()).toEqual([o1, o2, o3].sort());
    expect(names(plain)[0]).not.toBe(o2);
    expect(names(plain)).not.toEqual([o2, o3, o1]);
  });
});

describe('child DocTypes', () => {
  let lead: any;
  beforeAll(async () => {
    lead = await newLead(admin, {
      first_name: 'Child',
      organization: `CH-${rand()}`,
      products: [
        { product_name: 'Cake', rate: 10, qty: 2 },
        { product_name: 'Pie', rate: 5, qty: 1 },
      ],
    });
  });

  // frappe/frappe:frappe/client.py (get_list → check_parent_permission) + frappe/model/db_query.py (check_parent_permission)
  it('listing a child DocType needs `parent`: 403 without it, rows with it', async () => {
    const bare = await sales.list('CRM Products', { filters: [['parent', '=', lead.name]] });
    expectError(bare, 403, 'PermissionError');
    // check_parent_permission raises a bare PermissionError: no _error_message, no msgprint.
    expect(bare.body._error_message).toBeUndefined();

    const r = await sales.list('CRM Products', {
      parent: 'CRM Lead',
      fields: ['name', 'parent', 'parenttype', 'parentfield', 'idx', 'product_name'],
      filters: [['parent', '=', lead.name]],
      order_by: 'idx asc',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.map((d: any) => [d.parent, d.parenttype, d.parentfield, d.idx, d.product_name])).toEqual([
      [lead.name, 'CRM Lead', 'products', 1, 'Cake'],
      [lead.name, 'CRM Lead', 'products', 2, 'Pie'],
    ]);
  });

  // frappe/frappe:frappe/model/db_query.py (check_parent_permission: the parent must hold a Table field of that child)
  it('a `parent` that has no table of the child DocType is refused', async () => {
    const r = await sales.list('CRM Products', { parent: 'CRM Deal Status' });
    expectError(r, 403, 'PermissionError');
  });
});

// ---- read one --------------------------------------------------------------------------------

describe('GET /api/resource/<doctype>/<name>', () => {
  // frappe/frappe:frappe/api/v1.py (read_doc) + frappe/utils/response.py (json_handler → as_dict(no_nulls=True))
  it('omits null fields and carries child rows with parent/parenttype/parentfield/idx', async () => {
    const lead = await newLead(admin, { first_name: 'Reader', organization: `RD-${rand()}`, products: [{ product_name: 'Tart', rate: 3, qty: 4 }, { product_name: 'Bun', rate: 1, qty: 1 }] });
    const r = await admin.get('CRM Lead', lead.name);
    expect(r.status).toBe(200);
    const d = r.body.data;
    expect(d).toMatchObject({ doctype: 'CRM Lead', name: lead.name, first_name: 'Reader', docstatus: 0 });
    expect(d).not.toHaveProperty('last_name');
    expect(d).not.toHaveProperty('job_title');
    for (const v of Object.values(d)) expect(v).not.toBeNull();
    expect(d.products).toHaveLength(2);
    d.products.forEach((row: any, i: number) => {
      expect(row).toMatchObject({ doctype: 'CRM Products', parent: lead.name, parenttype: 'CRM Lead', parentfield: 'products', idx: i + 1 });
      expect(typeof row.name).toBe('string');
    });
    expect(d.products.map((p: any) => p.product_name)).toEqual(['Tart', 'Bun']);
  });

  // frappe/frappe:frappe/client.py (get → doc.as_dict(): nulls included)
  it('frappe.client.get returns the same document with nulls included', async () => {
    const lead = await newLead(admin, { first_name: 'Nully', organization: `NU-${rand()}` });
    const r = await admin.method('frappe.client.get', { doctype: 'CRM Lead', name: lead.name });
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ name: lead.name, first_name: 'Nully' });
    expect(r.body.message).toHaveProperty('last_name', null);
    expect(r.body.message).toHaveProperty('job_title', null);
  });
});

// ---- insert ---------------------------------------------------------------------------------

describe('POST /api/resource/<doctype>', () => {
  const seriesNo = (name: string) => {
    const m = /^CRM-LEAD-(\d{4})-(\d{5})$/.exec(name);
    expect(m, name).not.toBeNull();
    return Number(m![2]);
  };

  // frappe/frappe:frappe/api/v1.py (create_doc → new_doc(...).insert(); HTTP 200 with {"data": doc})
  it('answers 200 with {data} and a naming-series name', async () => {
    const r = await admin.insert('CRM Lead', { first_name: 'Posted' });
    expect(r.status).toBe(200);
    expect(r.body.exc_type).toBeUndefined();
    const d = r.body.data;
    expect(d.doctype).toBe('CRM Lead');
    expect(d.name).toMatch(new RegExp(`^CRM-LEAD-${String(d.creation).slice(0, 4)}-\\d{5}$`));
  });

  // frappe/frappe:frappe/model/naming.py (NamingSeries: tabSeries counter, rolled back with a failed insert's transaction)
  it('series numbers are consecutive and a rejected insert does not consume one', async () => {
    const a = await admin.insert('CRM Lead', { first_name: 'First' });
    // organization set, so CRM's set_lead_name passes and _validate_mandatory rejects the missing first_name
    const bad = await admin.insert('CRM Lead', { last_name: 'No first name', organization: 'Nameless Ltd' });
    expectError(bad, 417, 'MandatoryError');
    const b = await admin.insert('CRM Lead', { first_name: 'Second' });
    expect(seriesNo(b.body.data.name)).toBe(seriesNo(a.body.data.name) + 1);
  });

  // frappe/frappe:frappe/model/naming.py (set_new_name: name cleared unless autoname is Prompt)
  it('ignores a client-supplied name for a naming-series DocType', async () => {
    const r = await admin.insert('CRM Lead', { name: 'MY-OWN-NAME', first_name: 'Named' });
    expect(r.status).toBe(200);
    expect(r.body.data.name).not.toBe('MY-OWN-NAME');
    seriesNo(r.body.data.name);
  });

  // frappe/frappe:frappe/model/naming.py (_prompt_autoname: "Please set the document name")
  it('requires a name for a Prompt DocType (Client Script)', async () => {
    const missing = await admin.insert('Client Script', { dt: 'CRM Lead', script: '// x' });
    expectError(missing, 417, 'ValidationError');
    expect(serverMessages(missing.body).map((m) => m.message)).toContain('Please set the document name');

    const named = `Probe Script ${rand()}`;
    const ok = await admin.insert('Client Script', { name: named, dt: 'CRM Lead', script: '// x' });
    expect(ok.status).toBe(200);
    expect(ok.body.data.name).toBe(named);

    const viaNewname = `Probe Script ${rand()}`;
    const ok2 = await admin.insert('Client Script', { __newname: viaNewname, dt: 'CRM Lead', script: '// y' });
    expect(ok2.status).toBe(200);
    expect(ok2.body.data.name).toBe(viaNewname);
  });

  // frappe/frappe:frappe/model/create_new.py (get_static_default_value: field default, else a Select's first option)
  // + frappe/crm:crm/fcrm/doctype/crm_lead/crm_lead.py (validate: status "New")
  it('applies defaults: status New, communication_status Open, Select first option', async () => {
    const r = await admin.insert('CRM Lead', { first_name: 'Defaults' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({
      status: 'New',
      communication_status: 'Open',
      no_of_employees: '1-10',
      naming_series: 'CRM-LEAD-.YYYY.-',
      converted: 0,
      docstatus: 0,
    });
  });

  // frappe/frappe:frappe/model/create_new.py (get_static_default_value returns options.split("\n")[0], i.e. "" for a
  // Select whose first option is blank) + frappe/model/base_document.py (_validate_selects sets cstr(value).strip())
  it('a Select whose first option is blank defaults to "" (not null, so it is not omitted)', async () => {
    const r = await admin.insert('CRM Lead', { first_name: 'No SLA', status: 'Contacted' });
    expect(r.status).toBe(200);
    expect(r.body.data.sla_status).toBe('');
    const g = await admin.get('CRM Lead', r.body.data.name);
    expect(g.body.data.sla_status).toBe('');
  });
});

// ---- update --------------------------------------------------------------------------------

describe('PUT /api/resource/<doctype>/<name>', () => {
  // frappe/frappe:frappe/api/v1.py (update_doc: get_doc, doc.update(data), doc.save())
  it('updates the given fields and keeps the rest', async () => {
    const lead = await newLead(admin, { first_name: 'Upd', last_name: 'Ater', organization: `UP-${rand()}` });
    const r = await admin.update('CRM Lead', lead.name, { job_title: 'VP' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ name: lead.name, job_title: 'VP', last_name: 'Ater' });
    const g = await admin.get('CRM Lead', lead.name);
    expect(g.body.data.job_title).toBe('VP');
  });

  // frappe/frappe:frappe/model/document.py (update_child_table deletes rows not in the sent list)
  it('a table field in the body replaces the table; omitting it keeps the rows', async () => {
    const lead = await newLead(admin, {
      first_name: 'Tabled',
      organization: `TB-${rand()}`,
      products: [
        { product_name: 'Keep', rate: 1, qty: 1 },
        { product_name: 'Drop', rate: 2, qty: 2 },
      ],
    });
    const keep = lead.products.find((p: any) => p.product_name === 'Keep');
    const r = await admin.update('CRM Lead', lead.name, { products: [{ name: keep.name, product_name: 'Kept', rate: 1, qty: 3 }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    let g = await admin.get('CRM Lead', lead.name);
    expect(g.body.data.products.map((p: any) => [p.name, p.product_name, p.qty])).toEqual([[keep.name, 'Kept', 3]]);

    const r2 = await admin.update('CRM Lead', lead.name, { job_title: 'No table in body' });
    expect(r2.status).toBe(200);
    g = await admin.get('CRM Lead', lead.name);
    expect(g.body.data.products.map((p: any) => p.name)).toEqual([keep.name]);
  });

  // frappe/frappe:frappe/model/document.py (check_if_latest: cstr(db modified) != cstr(_original_modified) → TimestampMismatchError)
  it('`modified` in the body must equal the stored value, else 417 TimestampMismatchError', async () => {
    const lead = await newLead(admin, { first_name: 'Stamp', organization: `TS-${rand()}` });
    const g = await admin.get('CRM Lead', lead.name);
    const ok = await admin.update('CRM Lead', lead.name, { job_title: 'One', modified: g.body.data.modified });
    expect(ok.status).toBe(200);

    const stale = await admin.update('CRM Lead', lead.name, { job_title: 'Two', modified: g.body.data.modified });
    expectError(stale, 417, 'TimestampMismatchError');
    const msgs = serverMessages(stale.body);
    expect(msgs.some((m) => String(m.message).includes('Document has been modified after you have opened it'))).toBe(true);
    expect((await admin.get('CRM Lead', lead.name)).body.data.job_title).toBe('One');
  });

  // frappe/frappe:frappe/api/v1.py (update_doc loads the doc from the DB, so no `modified` → last write wins)
  it('without `modified` the last write wins', async () => {
    const lead = await newLead(admin, { first_name: 'Race', organization: `RC-${rand()}` });
    expect((await admin.update('CRM Lead', lead.name, { job_title: 'Writer A' })).status).toBe(200);
    const b = await sales.update('CRM Lead', lead.name, { job_title: 'Writer B' });
    expect(b.status).toBe(200);
    expect((await admin.get('CRM Lead', lead.name)).body.data.job_title).toBe('Writer B');
  });
});

// ---- delete -----------------------------------------------------------------------------------

describe('DELETE /api/resource/<doctype>/<name>', () => {
  // frappe/frappe:frappe/api/v1.py (delete_doc: http_status_code 202, "ok")
  it('answers 202 {"data":"ok"}, then GET is 404 DoesNotExistError', async () => {
    const lead = await newLead(admin, { first_name: 'Doomed', organization: `DL-${rand()}` });
    const r = await admin.remove('CRM Lead', lead.name);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ data: 'ok' });
    const g = await admin.get('CRM Lead', lead.name);
    expectError(g, 404, 'DoesNotExistError');
    // frappe/utils/response.py report_error: no traceback keys for a 404.
    expect(g.body.exception).toBeUndefined();
    expect(serverMessages(g.body).map((m) => m.message)).toContain(`CRM Lead ${lead.name} not found`);
  });

  // frappe/frappe:frappe/model/delete_doc.py (check_if_doc_is_linked → LinkExistsError)
  it('refuses to delete a Customer used by a Sales Order: 417 LinkExistsError', async () => {
    const r = await administrator.remove('Customer', 'Brightside Cafe');
    expectError(r, 417, 'LinkExistsError');
    expect(serverMessages(r.body).some((m) => String(m.message).includes('Cannot delete or cancel because Customer'))).toBe(true);
    expect((await administrator.get('Customer', 'Brightside Cafe')).status).toBe(200);
  });
});

// ---- errors ----------------------------------------------------------------------------------

describe('error responses', () => {
  // frappe/frappe:frappe/model/meta.py (get_meta → DoesNotExistError "DocType X not found")
  it('unknown DocType: 404 DoesNotExistError (list and single)', async () => {
    expectError(await admin.list('No Such DocType'), 404, 'DoesNotExistError');
    expectError(await admin.get('No Such DocType', 'x'), 404, 'DoesNotExistError');
  });

  // frappe/frappe:frappe/model/db_query.py (execute: json.loads(filters) → json.decoder.JSONDecodeError, HTTP 500)
  it('filters that are not JSON: 500 JSONDecodeError', async () => {
    const r = await admin.list('CRM Lead', { filters: '{not json' });
    expectError(r, 500, 'JSONDecodeError');
    expect(r.body.exception).toMatch(/^json\.decoder\.JSONDecodeError: /);
  });

  // frappe/frappe:frappe/api/v1.py (document_list: json.loads(fields))
  it('fields that are not JSON: 500 JSONDecodeError', async () => {
    const r = await admin.list('CRM Lead', { fields: 'name,first_name' });
    expectError(r, 500, 'JSONDecodeError');
  });

  // frappe/frappe:frappe/app.py (make_form_dict: json.loads(request_data) unguarded → 500 JSONDecodeError)
  it('a malformed JSON body is refused with JSONDecodeError (500), nothing inserted', async () => {
    const tag = `MJ-${rand()}`;
    const r = await admin.call('POST', '/api/resource/CRM%20Lead', {
      rawBody: `{"first_name": "Broken", "organization": "${tag}",`,
      headers: { 'Content-Type': 'application/json' },
    });
    expectError(r, 500, 'JSONDecodeError');
    expect((await admin.list('CRM Lead', { filters: { organization: tag } })).body.data).toEqual([]);
  });

  // frappe/frappe:frappe/model/document.py (_validate_mandatory) + frappe/model/base_document.py (_get_missing_mandatory_fields)
  it('missing mandatory fields: 417 MandatoryError, one message per field, exception "[DocType, name]: f1, f2"', async () => {
    const r = await admin.insert('Address', { address_title: `Probe ${rand()}`, address_type: 'Billing' });
    expectError(r, 417, 'MandatoryError');
    const msgs = serverMessages(r.body).map((m) => m.message);
    expect(msgs).toEqual([
      'Error: Value missing for Address: Address Line 1',
      'Error: Value missing for Address: City/Town',
      'Error: Value missing for Address: Country',
    ]);
    expect(r.body.exception).toMatch(/^frappe\.exceptions\.MandatoryError: \[Address, [^\]]+\]: address_line1, city, country$/);
  });

  // frappe/frappe:frappe/model/document.py (_validate_links → "Could not find {label}: {value}")
  it('a Link to a missing record: 417 LinkValidationError "Could not find …"', async () => {
    const r = await admin.insert('CRM Lead', { first_name: 'Linky', territory: 'Atlantis' });
    expectError(r, 417, 'LinkValidationError');
    expect(serverMessages(r.body).map((m) => m.message)).toContain('Could not find Territory: Atlantis');
  });

  // frappe/frappe:frappe/model/base_document.py (db_insert IntegrityError → show_unique_validation_message)
  it('a unique field clash: 417 UniqueValidationError', async () => {
    // CRM v1.52.1's CRM Lead has no unique field of its own: a unique Custom Field stands in.
    const fieldname = `custom_unique_probe_${rand()}`;
    const cf = await admin.insert('Custom Field', { dt: 'CRM Lead', fieldname, label: 'Unique Probe', fieldtype: 'Data', unique: 1 });
    expect(cf.status, JSON.stringify(cf.body)).toBe(200);
    const fb = `fb-${rand()}`;
    expect((await admin.insert('CRM Lead', { first_name: 'U1', [fieldname]: fb })).status).toBe(200);
    const r = await admin.insert('CRM Lead', { first_name: 'U2', [fieldname]: fb });
    expectError(r, 417, 'UniqueValidationError');
    expect(serverMessages(r.body).some((m) => String(m.message).includes('must be unique'))).toBe(true);
  });

  // frappe/frappe:frappe/model/base_document.py (db_insert primary-key clash → msgprint "already exists", DuplicateEntryError 409)
  it('a duplicate Prompt name: 409 DuplicateEntryError', async () => {
    const name = `Dup Script ${rand()}`;
    expect((await admin.insert('Client Script', { name, dt: 'CRM Lead' })).status).toBe(200);
    const r = await admin.insert('Client Script', { name, dt: 'CRM Deal' });
    expectError(r, 409, 'DuplicateEntryError');
    expect(serverMessages(r.body).some((m) => String(m.message).includes('already exists'))).toBe(true);
  });

  // frappe/frappe:frappe/model/base_document.py (_validate_selects)
  it('a Select value outside its options: 417 ValidationError', async () => {
    const r = await admin.insert('CRM Lead', { first_name: 'Sel', no_of_employees: 'Huge' });
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body).some((m) => String(m.message).includes('cannot be "Huge"'))).toBe(true);
  });

  // frappe/frappe:frappe/api/__init__.py (handle: werkzeug NotFound → frappe.DoesNotExistError)
  it('an unknown /api route: 404', async () => {
    const r = await admin.call('GET', '/api/xyz');
    expectError(r, 404, 'DoesNotExistError');
    const r2 = await admin.call('GET', '/api/v1/nothing/here');
    expect(r2.status).toBe(404);
  });
});

// ---- submittable ------------------------------------------------------------------------------

describe('submittable documents (Sales Order)', () => {
  const order = (docstatus: 0 | 1) => demoSalesOrder({ customer: 'Acme Foods', lines: [['CAKE-CHOC', 2]], date: emu.site(SITE).today(), docstatus });

  // frappe/frappe:frappe/model/document.py (insert → check_docstatus_transition(0): docstatus 1 means submit)
  it('insert with docstatus 1 submits; PUT docstatus 2 cancels', async () => {
    const r = await sales.insert('Sales Order', order(1));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.docstatus).toBe(1);
    expect(r.body.data.items[0].docstatus).toBe(1);
    const c = await sales.update('Sales Order', r.body.data.name, { docstatus: 2 });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.data.docstatus).toBe(2);
    expect((await sales.get('Sales Order', r.body.data.name)).body.data.docstatus).toBe(2);
  });

  // frappe/frappe:frappe/model/document.py (check_docstatus_transition raises DocstatusTransitionError directly: no msgprint)
  it('PUT docstatus 0 on a submitted order: 417 DocstatusTransitionError', async () => {
    const so = (await sales.insert('Sales Order', order(1))).body.data;
    const r = await sales.update('Sales Order', so.name, { docstatus: 0 });
    expectError(r, 417, 'DocstatusTransitionError');
    expect(r.body.exception).toBe('frappe.exceptions.DocstatusTransitionError: Cannot change docstatus from 1 (Submitted) to 0 (Draft)');
    expect(r.body._server_messages).toBeUndefined();
  });

  // frappe/frappe:frappe/model/document.py (check_docstatus_transition: draft → cancelled)
  it('PUT docstatus 2 on a draft: 417 DocstatusTransitionError', async () => {
    const so = (await sales.insert('Sales Order', order(0))).body.data;
    expect(so.docstatus).toBe(0);
    const r = await sales.update('Sales Order', so.name, { docstatus: 2 });
    expectError(r, 417, 'DocstatusTransitionError');
    expect(r.body.exception).toBe('frappe.exceptions.DocstatusTransitionError: Cannot change docstatus from 0 (Draft) to 2 (Cancelled)');
    expect(r.body._server_messages).toBeUndefined();
  });

  // frappe/frappe:frappe/model/base_document.py (_validate_update_after_submit)
  it('changing a field without allow_on_submit on a submitted order: 417 UpdateAfterSubmitError', async () => {
    const so = (await sales.insert('Sales Order', order(1))).body.data;
    const r = await sales.update('Sales Order', so.name, { order_type: 'Maintenance' });
    expectError(r, 417, 'UpdateAfterSubmitError');
    // an allow_on_submit field may change
    const ok = await sales.update('Sales Order', so.name, { po_no: 'PO-42' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data.po_no).toBe('PO-42');
  });

  // frappe/frappe:frappe/model/delete_doc.py (check_permission_and_not_submitted → ValidationError)
  it('DELETE of a submitted order: 417', async () => {
    const so = (await sales.insert('Sales Order', order(1))).body.data;
    const r = await sales.remove('Sales Order', so.name);
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body).some((m) => String(m.message).includes('Submitted Record cannot be deleted'))).toBe(true);
    expect((await sales.get('Sales Order', so.name)).status).toBe(200);
  });
});

// ---- customization over REST ---------------------------------------------------------------

describe('Custom DocTypes and Custom Fields over REST', () => {
  // frappe/frappe:frappe/custom/doctype/custom_field/custom_field.py (autoname: "<dt>-<fieldname>"; set_fieldname: "custom_" + label)
  it('a Custom Field is named <dt>-<fieldname>, fieldname derived from the label, and takes effect at once', async () => {
    const label = `Probe Note ${rand()}`;
    const fieldname = `custom_${label.toLowerCase().replace(/ /g, '_')}`;
    const cf = await admin.insert('Custom Field', { dt: 'CRM Lead', label, fieldtype: 'Data', insert_after: 'job_title' });
    expect(cf.status, JSON.stringify(cf.body)).toBe(200);
    expect(cf.body.data).toMatchObject({ name: `CRM Lead-${fieldname}`, fieldname, dt: 'CRM Lead' });

    const lead = await newLead(admin, { first_name: 'Custom', [fieldname]: 'hello' });
    expect(lead[fieldname]).toBe('hello');
    const u = await admin.update('CRM Lead', lead.name, { [fieldname]: 'changed' });
    expect(u.status).toBe(200);
    expect((await admin.get('CRM Lead', lead.name)).body.data[fieldname]).toBe('changed');
    const l = await admin.list('CRM Lead', { fields: ['name', fieldname], filters: { [fieldname]: 'changed' } });
    expect(l.body.data).toEqual([{ name: lead.name, [fieldname]: 'changed' }]);
  });

  // frappe/frappe:frappe/custom/doctype/custom_field/custom_field.py (set_fieldname keeps only isalpha/isdigit/_ characters;
  // Python's isalpha() is Unicode-aware)
  it('a derived fieldname drops punctuation but keeps non-ASCII letters', async () => {
    const cf = await admin.insert('Custom Field', { dt: 'CRM Deal', label: 'Notes (Café)!', fieldtype: 'Data' });
    expect(cf.status, JSON.stringify(cf.body)).toBe(200);
    expect(cf.body.data.fieldname).toBe('custom_notes_café');
    expect(cf.body.data.name).toBe('CRM Deal-custom_notes_café');
  });

  // frappe/frappe:frappe/core/doctype/doctype/doctype.py (validate → check_developer_mode)
  it('creating a non-custom DocType outside developer mode: 417 "Not in Developer Mode"', async () => {
    const r = await admin.insert('DocType', {
      name: `Standard Probe ${rand()}`,
      module: 'Custom',
      custom: 0,
      fields: [{ fieldname: 'title', label: 'Title', fieldtype: 'Data' }],
      permissions: [{ role: 'System Manager', read: 1, write: 1, create: 1 }],
    });
    expectError(r, 417, 'ValidationError');
    expect(serverMessages(r.body).some((m) => String(m.message).startsWith('Not in Developer Mode'))).toBe(true);
  });

  // frappe/frappe:frappe/core/doctype/doctype/doctype.py (custom DocType) + frappe/custom/doctype/custom_field/custom_field.py
  // (Table and Tab Break custom fields) + frappe/model/meta.py (custom fields merged into meta at once)
  it('a custom child DocType + Table and Tab Break Custom Fields on CRM Lead take effect at once', async () => {
    const child = `Lead Probe Row ${rand()}`;
    const dt = await admin.insert('DocType', {
      name: child,
      module: 'Custom',
      custom: 1,
      istable: 1,
      fields: [
        { fieldname: 'item', label: 'Item', fieldtype: 'Data', in_list_view: 1 },
        { fieldname: 'qty', label: 'Qty', fieldtype: 'Int', in_list_view: 1 },
      ],
    });
    expect(dt.status, JSON.stringify(dt.body)).toBe(200);
    expect(dt.body.data).toMatchObject({ name: child, custom: 1, istable: 1 });

    const suffix = rand();
    const tab = await admin.insert('Custom Field', { dt: 'CRM Lead', label: `Probe Tab ${suffix}`, fieldtype: 'Tab Break', insert_after: 'status_change_log' });
    expect(tab.status, JSON.stringify(tab.body)).toBe(200);
    expect(tab.body.data.name).toBe(`CRM Lead-custom_probe_tab_${suffix}`);
    const table = await admin.insert('Custom Field', {
      dt: 'CRM Lead',
      label: `Probe Rows ${suffix}`,
      fieldtype: 'Table',
      options: child,
      insert_after: tab.body.data.fieldname,
    });
    expect(table.status, JSON.stringify(table.body)).toBe(200);
    const tf = table.body.data.fieldname as string;
    expect(tf).toBe(`custom_probe_rows_${suffix}`);

    const lead = await newLead(admin, { first_name: 'Tabular' });
    const u = await admin.update('CRM Lead', lead.name, { [tf]: [{ item: 'Nut', qty: 3 }, { item: 'Bolt', qty: 7 }] });
    expect(u.status, JSON.stringify(u.body)).toBe(200);
    const g = await admin.get('CRM Lead', lead.name);
    expect(g.body.data[tf].map((r: any) => [r.doctype, r.parenttype, r.parentfield, r.idx, r.item, r.qty])).toEqual([
      [child, 'CRM Lead', tf, 1, 'Nut', 3],
      [child, 'CRM Lead', tf, 2, 'Bolt', 7],
    ]);
  });
});
