// Contract of the desk's form methods: frappe.desk.form.load.getdoctype / getdoc and
// frappe.desk.form.save.savedocs (frappe/frappe version-15). Every `it` names the Frappe source it
// pins in a comment right above it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, adminClient, client, start, userClient, type Client } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';

let emu: RunningEmulator;
let admin: Client & { user: string }; // System Manager, token
let sales: Client & { user: string }; // Sales User, token
let agent: Client & { user: string }; // Agent only: no CRM Lead permission
let guest: Client;
const CHILD = `Desk Method Line ${rand()}`;

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  admin = await adminClient(emu);
  sales = await userClient(emu, `desk-sales-${rand()}@example.com`, ['Sales User']);
  agent = await userClient(emu, `desk-agent-${rand()}@example.com`, ['Agent']);
  guest = client(emu, { site: SITE });
  // A custom child table on CRM Lead, the way a site gets one: a custom DocType + a Custom Field.
  const dt = await admin.insert('DocType', {
    name: CHILD,
    module: 'Custom',
    custom: 1,
    istable: 1,
    editable_grid: 1,
    fields: [
      { fieldname: 'item', label: 'Item', fieldtype: 'Data', in_list_view: 1 },
      { fieldname: 'qty', label: 'Qty', fieldtype: 'Int', in_list_view: 1 },
    ],
    permissions: [],
  });
  expect(dt.status, JSON.stringify(dt.body)).toBe(200);
  for (const cf of [
    { fieldname: 'desk_tab', label: 'Desk Tab', fieldtype: 'Tab Break', insert_after: 'status_change_log' },
    { fieldname: 'desk_lines', label: 'Desk Lines', fieldtype: 'Table', options: CHILD, insert_after: 'desk_tab' },
  ]) {
    const r = await admin.insert('Custom Field', { dt: 'CRM Lead', ...cf });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
});
afterAll(() => emu.close());

async function newLead(fields: Record<string, unknown> = {}): Promise<any> {
  const r = await sales.insert('CRM Lead', { first_name: 'Desk', status: 'New', ...fields });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

async function clientScript(name: string, fields: Record<string, unknown>): Promise<void> {
  const r = await admin.insert('Client Script', { name, dt: 'CRM Lead', view: 'Form', enabled: 1, script: `/* ${name} */`, ...fields });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe('frappe.desk.form.load.getdoctype', () => {
  // frappe/frappe:frappe/desk/form/load.py (getdoctype → get_meta_bundle; user_settings from frappe/model/utils/user_settings.py is a JSON string)
  it('answers the form meta and the metas of its child tables, plus user_settings', async () => {
    const r = await sales.method('frappe.desk.form.load.getdoctype', { doctype: 'CRM Lead', with_parent: 1 }, 'GET');
    expect(r.status).toBe(200);
    expect(r.body.message).toBeUndefined();
    expect(r.body.user_settings).toBe('{}');
    const [meta, ...children] = r.body.docs;
    expect(meta).toMatchObject({ doctype: 'DocType', name: 'CRM Lead', autoname: 'naming_series:', title_field: 'lead_name' });
    expect(children.map((c: any) => c.name)).toEqual(['CRM Products', 'CRM Status Change Log', CHILD]);
    expect(children.every((c: any) => c.istable === 1 && c.__custom_js === null)).toBe(true);
    // Fields in meta order (Custom Fields placed by insert_after), idx 1..n, each a DocField of the parent.
    const names = meta.fields.map((f: any) => f.fieldname);
    expect(names.indexOf('desk_tab')).toBe(names.indexOf('status_change_log') + 1);
    expect(names.indexOf('desk_lines')).toBe(names.indexOf('desk_tab') + 1);
    expect(meta.fields.map((f: any) => f.idx)).toEqual(meta.fields.map((_: unknown, i: number) => i + 1));
    expect(meta.fields.every((f: any) => f.doctype === 'DocField' && f.parent === 'CRM Lead' && f.parenttype === 'DocType' && f.parentfield === 'fields')).toBe(true);
    expect(meta.fields.find((f: any) => f.fieldname === 'desk_lines')).toMatchObject({ fieldtype: 'Table', options: CHILD, is_custom_field: 1, name: 'CRM Lead-desk_lines' });
    expect(meta.permissions.map((p: any) => p.role)).toContain('Sales User');
    const child = children.find((c: any) => c.name === CHILD);
    expect(child.fields.map((f: any) => [f.fieldname, f.parent, f.in_list_view])).toEqual([
      ['item', CHILD, 1],
      ['qty', CHILD, 1],
    ]);
  });

  // frappe/frappe:frappe/desk/form/meta.py (FormMeta.add_custom_script: enabled Client Scripts of the dt, creation asc, "// <name>" blocks, sourceURL footer)
  it('__custom_js joins the enabled Form Client Scripts by creation; List scripts go to __custom_list_js', async () => {
    await clientScript('Zeta first', { script: 'window.order = ["zeta"];' });
    await clientScript('Alpha second', { script: 'window.order.push("alpha");' });
    await clientScript('Disabled one', { enabled: 0, script: 'window.disabled = true;' });
    await clientScript('List one', { view: 'List', script: 'window.list = true;' });
    await admin.insert('Client Script', { name: 'Other doctype', dt: 'CRM Deal', view: 'Form', enabled: 1, script: 'window.deal = true;' });
    const r = await sales.method('frappe.desk.form.load.getdoctype', { doctype: 'CRM Lead' }, 'GET');
    const meta = r.body.docs[0];
    expect(meta.__custom_js).toBe('\n// Zeta first\nwindow.order = ["zeta"];\n\n\n// Alpha second\nwindow.order.push("alpha");\n\n\n\n//# sourceURL=crm_lead__custom_js');
    expect(meta.__custom_list_js).toBe('\n// List one\nwindow.list = true;\n\n\n\n//# sourceURL=crm_lead__custom_list_js');
    expect(meta.__js).toBeNull();
    // The meta of a DocType without scripts still ends with the sourceURL line.
    const ticket = await admin.method('frappe.desk.form.load.getdoctype', { doctype: 'HD Ticket' }, 'GET');
    expect(ticket.body.docs[0].__custom_js).toBe('\n\n//# sourceURL=hd_ticket__custom_js');
  });

  // frappe/frappe:frappe/desk/form/load.py (cached_timestamp equal to the DocType's modified → "use_cache")
  it('answers "use_cache" for the current cached_timestamp', async () => {
    const first = await sales.method('frappe.desk.form.load.getdoctype', { doctype: 'CRM Lead' }, 'GET');
    const r = await sales.method('frappe.desk.form.load.getdoctype', { doctype: 'CRM Lead', cached_timestamp: first.body.docs[0].modified }, 'GET');
    expect(r.body).toEqual({ user_settings: '{}', message: 'use_cache' });
  });

  // frappe/frappe:frappe/handler.py (is_whitelisted: @frappe.whitelist() without allow_guest)
  it('is not for guests; an unknown DocType is a 404', async () => {
    expectError(await guest.method('frappe.desk.form.load.getdoctype', { doctype: 'CRM Lead' }, 'GET'), 403, 'PermissionError');
    expectError(await sales.method('frappe.desk.form.load.getdoctype', { doctype: 'No Such Thing' }, 'GET'), 404, 'DoesNotExistError');
  });
});

describe('frappe.desk.form.load.getdoc', () => {
  // frappe/frappe:frappe/desk/form/load.py (getdoc: docs=[doc] as_dict(no_nulls), docinfo, _link_titles)
  it('answers docs [doc] without nulls, docinfo and _link_titles', async () => {
    const lead = await newLead({ job_title: 'Baker', desk_lines: [{ item: 'Cake', qty: 2 }] });
    const r = await sales.method('frappe.desk.form.load.getdoc', { doctype: 'CRM Lead', name: lead.name }, 'GET');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['docs', 'docinfo', '_link_titles']);
    const [doc] = r.body.docs;
    expect(doc).toMatchObject({ doctype: 'CRM Lead', name: lead.name, job_title: 'Baker', modified: lead.modified });
    expect(Object.values(doc).includes(null)).toBe(false);
    expect(doc.desk_lines).toHaveLength(1);
    expect(doc.desk_lines[0]).toMatchObject({ doctype: CHILD, parent: lead.name, parentfield: 'desk_lines', parenttype: 'CRM Lead', item: 'Cake', qty: 2, idx: 1 });
    expect(r.body.docinfo).toMatchObject({ doctype: 'CRM Lead', name: lead.name, comments: [], attachments: [], assignments: [], tags: '' });
    expect(r.body.docinfo.permissions).toMatchObject({ read: 1, write: 1, submit: 0 });
    expect(Array.isArray(r.body.docinfo.versions)).toBe(true);
  });

  // frappe/frappe:frappe/desk/form/load.py (DoesNotExistError → check_doctype_permission, clear_last_message, return [])
  it('a missing document answers message [] when the DocType is readable', async () => {
    const r = await sales.method('frappe.desk.form.load.getdoc', { doctype: 'CRM Lead', name: 'CRM-LEAD-NOPE' }, 'GET');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: [] });
  });

  // frappe/frappe:frappe/permissions.py (check_doctype_permission: has_permission(throw=True) → "No permission for <doctype>", flags.disable_traceback)
  it('without read permission on the DocType: 403, _error_message, no traceback', async () => {
    const lead = await newLead();
    for (const name of [lead.name, 'CRM-LEAD-NOPE']) {
      const r = await agent.method('frappe.desk.form.load.getdoc', { doctype: 'CRM Lead', name }, 'GET');
      expectError(r, 403, 'PermissionError');
      expect(r.body._error_message).toBe('No permission for CRM Lead');
      expect(r.body.exc).toBeUndefined();
    }
  });
});

describe('frappe.desk.form.save.savedocs', () => {
  // frappe/frappe:frappe/desk/form/save.py (savedocs: doc JSON, action Save → doc.save(); docs [as_dict()], docinfo; msgprint "Saved" alert)
  it('saves the posted document and answers docs, docinfo and a green "Saved" alert', async () => {
    const lead = await newLead({ desk_lines: [{ item: 'Cake', qty: 2 }] });
    const loaded = (await sales.method('frappe.desk.form.load.getdoc', { doctype: 'CRM Lead', name: lead.name }, 'GET')).body.docs[0];
    const edited = {
      ...loaded,
      job_title: 'Head Baker',
      __unsaved: 1,
      __last_sync_on: new Date().toISOString(),
      desk_lines: [
        { ...loaded.desk_lines[0], qty: 3, __checked: 0 },
        { doctype: CHILD, name: 'new-desk-line-1', __islocal: 1, __unsaved: 1, item: 'Muffin', qty: 12, parent: lead.name, parentfield: 'desk_lines', parenttype: 'CRM Lead', idx: 2 },
      ],
    };
    // As the desk sends it: form-encoded, objects JSON-stringified (request.js).
    const body = new URLSearchParams({ doc: JSON.stringify(edited), action: 'Save' }).toString();
    const r = await sales.call('POST', '/api/method/frappe.desk.form.save.savedocs', { rawBody: body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Object.keys(r.body)).toEqual(['docs', 'docinfo', '_server_messages']);
    const [saved] = r.body.docs;
    expect(saved).toMatchObject({ name: lead.name, job_title: 'Head Baker', docstatus: 0 });
    expect(saved.modified).not.toBe(loaded.modified);
    expect(saved).toHaveProperty('website', null); // as_dict(): nulls kept
    expect(Object.keys(saved).some((k) => k.startsWith('__'))).toBe(false);
    expect(saved.desk_lines.map((l: any) => [l.item, l.qty, l.idx])).toEqual([
      ['Cake', 3, 1],
      ['Muffin', 12, 2],
    ]);
    expect(saved.desk_lines[1].name).not.toBe('new-desk-line-1');
    // A row that came without a stored name is answered with `"__unsaved": 1`, as the recorded REST
    // saves answer new rows (recordings lead-put-table-rows, sla-update-replace-table); a stored row has no flag.
    expect(saved.desk_lines.map((l: any) => Object.keys(l).filter((k) => k.startsWith('__')))).toEqual([[], ['__unsaved']]);
    expect(r.body.docinfo).toMatchObject({ doctype: 'CRM Lead', name: lead.name });
    expect(serverMessages(r.body)).toEqual([{ message: 'Saved', title: 'Message', indicator: 'green', alert: 1 }]);
    const stored = (await sales.get('CRM Lead', lead.name)).body.data;
    expect(stored.job_title).toBe('Head Baker');

    // frappe/frappe:frappe/model/document.py (check_if_latest: the posted `modified` must be the stored one)
    const stale = await sales.method('frappe.desk.form.save.savedocs', { doc: JSON.stringify({ ...loaded, job_title: 'Late' }), action: 'Save' });
    expectError(stale, 417, 'TimestampMismatchError');
    expect(serverMessages(stale.body)[0].message).toMatch(/^Error: Document has been modified after you have opened it/);
  });

  // frappe/frappe:frappe/desk/form/save.py (set_local_name: a __islocal doc is inserted; its temporary name comes back as localname)
  it('inserts a new (__islocal) document and answers its localname', async () => {
    const doc = { doctype: 'CRM Lead', name: 'new-crm-lead-abc1', __islocal: 1, __unsaved: 1, first_name: 'Brand', status: 'New', desk_lines: [] };
    const r = await sales.method('frappe.desk.form.save.savedocs', { doc: JSON.stringify(doc), action: 'Save' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.docs[0]).toMatchObject({ doctype: 'CRM Lead', first_name: 'Brand', localname: 'new-crm-lead-abc1' });
    expect(r.body.docs[0].name).toMatch(/^CRM-LEAD-/);
  });

  // frappe/frappe:frappe/desk/form/save.py (@frappe.whitelist(methods=["POST", "PUT"])) + frappe/model/document.py (check_permission write)
  it('is POST/PUT only and needs write permission', async () => {
    const lead = await newLead();
    const loaded = (await sales.method('frappe.desk.form.load.getdoc', { doctype: 'CRM Lead', name: lead.name }, 'GET')).body.docs[0];
    const get = await sales.method('frappe.desk.form.save.savedocs', { doc: JSON.stringify(loaded), action: 'Save' }, 'GET');
    expectError(get, 403, 'PermissionError');
    const denied = await agent.method('frappe.desk.form.save.savedocs', { doc: JSON.stringify({ ...loaded, job_title: 'x' }), action: 'Save' });
    expectError(denied, 403, 'PermissionError');
  });
});
