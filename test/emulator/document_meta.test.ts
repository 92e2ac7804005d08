// Document, meta and permission contract of the emulator against a real Frappe 15.55.1 site
// (issue 11): field permlevels, Dynamic Links to autoincrement names with set_only_once, Custom
// Field placement without insert_after, DocPerm flag defaults and the Custom DocPerm cache. Each
// `it` names the Frappe source or the recording case (../shared/recordings/frappe-v15.55.1) it pins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, client, login, start, userClient, type Client } from '../helpers/emulator.js';
import { rand } from '../helpers/assertions.js';
import { permittedFieldnames } from '../../emulator/core/permissions.js';

let emu: RunningEmulator;
let admin: Client;

function ok(res: { status: number; body: any }): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data ?? res.body.message;
}

/** A custom DocType shaped like the product's Order Sync Request (recording doctype-insert-custom). */
async function requestDocType(permissions: Record<string, unknown>[], opts: { referenceSetOnlyOnce?: boolean } = {}): Promise<string> {
  const name = `Probe ${rand()} Request`;
  ok(
    await admin.insert('DocType', {
      name,
      module: 'Custom',
      custom: 1,
      autoname: 'hash',
      fields: [
        { fieldname: 'reference_doctype', label: 'Reference DocType', fieldtype: 'Link', options: 'DocType', reqd: 1, set_only_once: 1 },
        { fieldname: 'reference_name', label: 'Reference Name', fieldtype: 'Dynamic Link', options: 'reference_doctype', reqd: 1, set_only_once: opts.referenceSetOnlyOnce === false ? 0 : 1 },
        { fieldname: 'status', label: 'Status', fieldtype: 'Select', options: 'Queued\nRunning\nDone\nFailed', default: 'Queued' },
      ],
      permissions,
    }),
  );
  return name;
}

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  admin = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
});
afterAll(() => emu.close());

describe('field permlevels', () => {
  // recording restricted-user-get-self; frappe/api/v1.py read_doc → Document.apply_fieldlevel_read_permissions
  it('a Sales User reading its own User gets roles [] and no user_type (permlevel 1)', async () => {
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const self = ok(await sales.get('User', sales.user));
    expect(self.roles).toEqual([]);
    expect('user_type' in self).toBe(false);
    expect('api_key' in self).toBe(false);
    expect(self.email).toBe(sales.user);
    // Administrator still reads them.
    const full = ok(await admin.get('User', sales.user));
    expect(full.roles.map((r: any) => r.role)).toContain('Sales User');
    expect(full.user_type).toBe('System User');
  });

  // frappe/client.py get and frappe/desk/form/load.py getdoc also apply_fieldlevel_read_permissions
  it('frappe.client.get and getdoc strip them too (as null, not absent, in client.get)', async () => {
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const got = ok(await sales.method('frappe.client.get', { doctype: 'User', name: sales.user }));
    expect(got.roles).toEqual([]);
    expect(got.user_type ?? null).toBeNull();
    const desk = await sales.method('frappe.desk.form.load.getdoc', { doctype: 'User', name: sales.user }, 'GET');
    expect(desk.status).toBe(200);
    expect(desk.body.docs[0].roles).toEqual([]);
  });

  // frappe/model/document.py validate_higher_perm_levels → reset_values_if_no_permlevel_access
  it('a write to a permlevel-1 field without write at that level is ignored, not refused', async () => {
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const saved = await sales.update('User', sales.user, { roles: [{ role: 'System Manager' }], first_name: 'Renamed' });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const after = ok(await admin.get('User', sales.user));
    expect(after.first_name).toBe('Renamed');
    expect(after.roles.map((r: any) => r.role)).toEqual(['Sales User']);
  });
});

describe('permitted fieldnames for lists', () => {
  // frappe/model/meta.py get_permitted_fieldnames (used by db_query apply_fieldlevel_read_permissions)
  it('holds only the levels the roles read; a child table is judged by its parent', async () => {
    const site = emu.site(SITE);
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const agent = await userClient(emu, `perm-${rand()}@example.com`, ['Agent']);
    const user = site.meta('User')!;
    expect(permittedFieldnames(site, user, sales.user)).not.toContain('user_type');
    expect(permittedFieldnames(site, user, 'Administrator')).toContain('user_type');
    const ticket = site.meta('HD Ticket')!;
    expect(permittedFieldnames(site, ticket, agent.user)).toEqual(expect.arrayContaining(['subject', 'customer', 'contact', 'raised_by']));
    expect(permittedFieldnames(site, site.meta('Has Role')!, sales.user)).toEqual([]);
    expect(permittedFieldnames(site, site.meta('Has Role')!, 'Administrator', user)).toContain('role');
  });
});

describe('Dynamic Link to an autoincrement name, set_only_once', () => {
  // frappe/model/base_document.py get_invalid_links (value set to the target's name as stored: int),
  // frappe/model/document.py validate_set_only_once (`value != original_value`); reference note
  // frappe/helpdesk hd_ticket.json autoname "autoincrement"; issue 11 item 3.
  it('a later save of a request naming an HD Ticket fails with CannotChangeConstantError', async () => {
    const dt = await requestDocType([{ role: 'System Manager', read: 1, write: 1, create: 1 }]);
    const ticket = emu.seeds[SITE].tickets[0];
    expect(typeof ticket).toBe('number'); // recording hd-ticket-get-int-name: `name` is a number
    const req = ok(await admin.insert(dt, { reference_doctype: 'HD Ticket', reference_name: String(ticket) }));
    // The varchar column reads back as text.
    expect(ok(await admin.get(dt, req.name)).reference_name).toBe(String(ticket));
    for (const body of [{ status: 'Running' }, { status: 'Running', reference_name: String(ticket) }, { status: 'Running', reference_name: ticket }]) {
      const put = await admin.update(dt, req.name, body);
      expect(put.status, JSON.stringify(body)).toBe(417);
      expect(put.body.exc_type).toBe('CannotChangeConstantError');
      expect(JSON.parse(JSON.parse(put.body._server_messages)[0]).message).toBe('Value cannot be changed for <strong>Reference Name</strong>');
    }
    expect(ok(await admin.get(dt, req.name)).status).toBe('Queued');
  });

  it('the same request naming a CRM Lead (text name) saves', async () => {
    const dt = await requestDocType([{ role: 'System Manager', read: 1, write: 1, create: 1 }]);
    const lead = emu.seeds[SITE].leads[0];
    const req = ok(await admin.insert(dt, { reference_doctype: 'CRM Lead', reference_name: lead }));
    expect(ok(await admin.update(dt, req.name, { status: 'Running' })).status).toBe('Running');
    const changed = await admin.update(dt, req.name, { reference_name: emu.seeds[SITE].leads[1] });
    expect(changed.body.exc_type).toBe('CannotChangeConstantError');
  });

  // without set_only_once the normalised link saves (what the product's Order Sync Request does)
  it('without set_only_once the ticket request saves', async () => {
    const name = await requestDocType([{ role: 'System Manager', read: 1, write: 1, create: 1 }], { referenceSetOnlyOnce: false });
    const ticket = emu.seeds[SITE].tickets[0];
    const req = ok(await admin.insert(name, { reference_doctype: 'HD Ticket', reference_name: String(ticket) }));
    // Insert and save answer with the document in memory (the int name), a read with the column's text.
    expect(req.reference_name).toBe(ticket);
    const saved = ok(await admin.update(name, req.name, { status: 'Running' }));
    expect(saved.status).toBe('Running');
    expect(saved.reference_name).toBe(ticket);
    expect(ok(await admin.get(name, req.name)).reference_name).toBe(String(ticket));
  });
});

describe('Custom Field placement', () => {
  // frappe/model/meta.py Meta.sort_fields [v15]: no insert_after → field_order.insert(0, …)
  it('a Tab Break without insert_after lands first; with insert_after = the last field, last', async () => {
    const dt = await requestDocType([{ role: 'System Manager', read: 1, write: 1, create: 1 }]);
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_top_tab', label: 'Top', fieldtype: 'Tab Break' }));
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_top_note', label: 'Top Note', fieldtype: 'Data', insert_after: 'probe_top_tab' }));
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_last_tab', label: 'Last', fieldtype: 'Tab Break', insert_after: 'status' }));
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_last_note', label: 'Last Note', fieldtype: 'Data', insert_after: 'probe_last_tab' }));
    const res = await admin.method('frappe.desk.form.load.getdoctype', { doctype: dt }, 'GET');
    expect(res.status).toBe(200);
    const order = res.body.docs[0].fields.map((f: any) => f.fieldname);
    expect(order).toEqual(['probe_top_tab', 'probe_top_note', 'reference_doctype', 'reference_name', 'status', 'probe_last_tab', 'probe_last_note']);
  });

  it('two without insert_after: the later one first', async () => {
    const dt = await requestDocType([{ role: 'System Manager', read: 1, write: 1, create: 1 }]);
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_a', label: 'A', fieldtype: 'Data' }));
    ok(await admin.insert('Custom Field', { dt, fieldname: 'probe_b', label: 'B', fieldtype: 'Data' }));
    const res = await admin.method('frappe.desk.form.load.getdoctype', { doctype: dt }, 'GET');
    expect(res.body.docs[0].fields.map((f: any) => f.fieldname).slice(0, 3)).toEqual(['probe_b', 'probe_a', 'reference_doctype']);
  });
});

describe('DocPerm rows', () => {
  // recordings doctype-insert-custom / doctype-get; frappe/core/doctype/docperm/docperm.json defaults
  it('a row sent without a flag gets docperm.json defaults: write, create, delete, report, export, share, print, email', async () => {
    const dt = await requestDocType([
      { role: 'System Manager', read: 1, write: 1, create: 1, delete: 1, report: 1, export: 1 },
      { role: 'Sales User', read: 1, create: 1 },
    ]);
    const perms = ok(await admin.get('DocType', dt)).permissions;
    const row = perms.find((p: any) => p.role === 'Sales User');
    expect(row).toMatchObject({ permlevel: 0, read: 1, write: 1, create: 1, delete: 1, report: 1, export: 1, share: 1, print: 1, email: 1, submit: 0, cancel: 0, amend: 0, import: 0, if_owner: 0, select: 0 });
    // recording restricted-sync-request-put: so a Sales User may PUT the record
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const doc = ok(await sales.insert(dt, { reference_doctype: 'CRM Lead', reference_name: emu.seeds[SITE].leads[0] }));
    expect(ok(await sales.update(dt, doc.name, { status: 'Failed' })).status).toBe('Failed');
  });

  it('a row sent with every flag keeps them', async () => {
    const dt = await requestDocType([
      { role: 'System Manager', read: 1, write: 1, create: 1 },
      { role: 'Sales User', read: 1, write: 0, create: 1, delete: 0, report: 0, export: 0, share: 0, print: 0, email: 0 },
    ]);
    const row = ok(await admin.get('DocType', dt)).permissions.find((p: any) => p.role === 'Sales User');
    expect(row).toMatchObject({ read: 1, write: 0, create: 1, delete: 0, report: 0, export: 0, share: 0, print: 0, email: 0 });
  });
});

describe('Custom DocPerm cache', () => {
  // recordings custom-docperm-delete-202, restricted-insert-after-custom-docperm-delete, doctype-put,
  // client-insert-restricted; frappe/core/doctype/custom_docperm/custom_docperm.py (on_update only)
  it('deleting the last Custom DocPerm keeps its rules until the DocType is saved again', async () => {
    const dt = await requestDocType([
      { role: 'System Manager', read: 1, write: 1, create: 1 },
      { role: 'Sales User', read: 1, create: 1 },
    ]);
    const sales = await userClient(emu, `perm-${rand()}@example.com`, ['Sales User']);
    const lead = emu.seeds[SITE].leads[0];
    const insert = () => sales.method('frappe.client.insert', { doc: { doctype: dt, reference_doctype: 'CRM Lead', reference_name: lead } });
    expect((await insert()).status).toBe(200);
    // A Custom DocPerm for System Manager only replaces the standard rules: Sales User loses create.
    const cp = ok(await admin.insert('Custom DocPerm', { parent: dt, role: 'System Manager', permlevel: 0, read: 1, write: 1, create: 1 }));
    const denied = await insert();
    expect(denied.status).toBe(403);
    expect(denied.body.exc_type).toBe('PermissionError');
    const del = await admin.remove('Custom DocPerm', cp.name);
    expect(del.status).toBe(202);
    expect(ok(await admin.list('Custom DocPerm', { filters: [['parent', '=', dt]], limit_page_length: 0 }))).toEqual([]);
    // The cached meta still holds the deleted rule.
    expect((await insert()).status).toBe(403);
    // Saving the DocType clears its cache: the standard rules apply again.
    ok(await admin.update('DocType', dt, { description: 'saved again' }));
    expect((await insert()).status).toBe(200);
  });
});
