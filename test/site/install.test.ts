/**
 * `site plan / install / uninstall` against the emulator: a clean site, idempotence, the Order
 * History tab in the form meta, exact uninstall, the companion role's least privilege, and the
 * refusals that must come before anything is written.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createFrappeClient, type FrappeClient } from '../../sidecar/frappe/client.js';
import { loadManifest } from '../../sidecar/manifest/load.js';
import { InstallFailed, InstallRefused, install, uninstall } from '../../scripts/site/install.js';
import { makePlan } from '../../scripts/site/plan.js';
import { loadDesired, type DesiredState } from '../../scripts/site/records.js';
import { client, control, login } from '../helpers/emulator.js';

const ROOT = join(import.meta.dirname, '..', '..');
let emu: RunningEmulator;
let desired: DesiredState;

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: 'clean.localhost' }, { name: 'demo.localhost', seed: 'demo' }, { name: 'clash.localhost' }] });
  desired = loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk'));
});

afterAll(async () => {
  await emu.close();
});

async function adminOf(site: string, roles = ['System Manager']): Promise<FrappeClient> {
  const u = await control(emu, `/sites/${site}/users`, { email: `installer-${Math.random().toString(36).slice(2, 7)}@example.com`, roles, generate_keys: true });
  return createFrappeClient({ site, baseUrl: emu.url, apiKey: () => u.api_key, apiSecret: () => u.api_secret, backoffBaseMs: 1 });
}

/** The records an install can touch, by DocType, as name lists. */
async function snapshot(c: FrappeClient): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const dt of ['DocType', 'Custom Field', 'Custom DocPerm', 'Role', 'CRM Lead Status', 'CRM Service Level Agreement', 'Client Script']) {
    const rows = await c.getList<{ name: string }>(dt, { fields: ['name'], orderBy: 'name asc', limitPageLength: 0 });
    out[dt] = rows.map((r) => r.name);
  }
  return out;
}

describe('install into a clean site', () => {
  it('plan says create for everything; install creates it; a second install changes nothing; uninstall restores the record set', async () => {
    const c = await adminOf('clean.localhost');
    const before = await snapshot(c);
    const plan = await makePlan(c, desired);
    expect(plan.length).toBeGreaterThan(15);
    expect(plan.every((e) => e.action === 'create')).toBe(true);

    const result = await install(c, desired);
    expect(result.applied).toHaveLength(plan.length);

    // The CRM Lead form now has the tab and the table (Frappe meta: custom fields placed, child DocType known).
    const admin = client(emu, { site: 'clean.localhost', sid: await login(emu, 'Administrator', 'admin', 'clean.localhost') });
    const fields = (await admin.list('Custom Field', { filters: [['dt', '=', 'CRM Lead']], fields: ['fieldname', 'fieldtype', 'options'], limit_page_length: 0 })).body.data;
    expect(fields).toEqual(
      expect.arrayContaining([
        { fieldname: 'custom_order_history_tab', fieldtype: 'Tab Break', options: null },
        { fieldname: 'custom_order_history', fieldtype: 'Table', options: 'CRM Lead Order Item' },
      ]),
    );
    const lead = (await admin.insert('CRM Lead', { first_name: 'Tabbed', custom_order_history: [{ sales_order: null, item_name: 'Cake', qty: 2, ops_status: 'PENDING' }] })).body.data;
    expect(lead.custom_order_history[0]).toMatchObject({ doctype: 'CRM Lead Order Item', item_name: 'Cake', qty: 2, ops_status: 'PENDING', parentfield: 'custom_order_history' });

    const again = await makePlan(c, desired);
    expect(again.filter((e) => e.action !== 'unchanged').map((e) => (e.kind === 'record' ? `${e.record.doctype} ${e.record.name}` : e.grant.parent))).toEqual([]);
    expect((await install(c, desired)).applied).toEqual([]);

    await expect(uninstall(c)).rejects.toThrow(/CRM Lead Order Item: 1 row\(s\).*--drop-data/s);
    const un = await uninstall(c, { dropData: true });
    expect(un.kept).toEqual([]);
    expect(await snapshot(c)).toEqual(before);
  });

  it('the companion role may read what order history needs and write leads, but not edit orders', async () => {
    const c = await adminOf('demo.localhost');
    await install(c, desired);
    const u = await control(emu, '/sites/demo.localhost/users', { email: 'sync@example.com', roles: ['Order Companion'], generate_keys: true });
    const sidecar = client(emu, { site: 'demo.localhost', token: { key: u.api_key, secret: u.api_secret } });
    for (const dt of ['Customer', 'Contact', 'Sales Order', 'Work Order', 'HD Customer', 'CRM Lead', 'HD Ticket', 'Order Sync Request']) {
      expect((await sidecar.list(dt)).status, dt).toBe(200);
    }
    // Child rows through the parent, as the history builder reads them.
    expect((await sidecar.list('Sales Order Item', { parent: 'Sales Order', fields: ['item_code'] })).status).toBe(200);
    const so = (await sidecar.list('Sales Order', { limit_page_length: 1, order_by: 'name asc' })).body.data[0].name;
    expect((await sidecar.update('Sales Order', so, { po_no: 'x' })).status).toBe(403);
    const lead = (await sidecar.list('CRM Lead', { limit_page_length: 1, order_by: 'name asc' })).body.data[0].name;
    expect((await sidecar.update('CRM Lead', lead, { job_title: 'synced' })).status).toBe(200);
    const note = await sidecar.insert('Notification Log', { for_user: 'sales@example.com', subject: 'SLA failed', type: 'Alert' });
    expect(note.status).toBe(200);
    // The standard rules were copied before ours was added: Sales Users still read Sales Orders.
    const sales = client(emu, { site: 'demo.localhost', sid: await login(emu, 'sales@example.com', 'demo', 'demo.localhost') });
    expect((await sales.list('Sales Order')).status).toBe(200);

    // The demo site already had the seed system's Work Order fields: install changed one label, and
    // uninstall puts the site's own back (and keeps the fields, which it did not create).
    const admin = client(emu, { site: 'demo.localhost', sid: await login(emu, 'Administrator', 'admin', 'demo.localhost') });
    expect((await admin.get('Custom Field', 'Work Order-custom_ingredients_status')).body.data.label).toBe('Material Status');
    await uninstall(c, { dropData: true });
    expect((await admin.get('Custom Field', 'Work Order-custom_ingredients_status')).body.data.label).toBe('INGREDIENTS Status');
    expect((await admin.get('DocType', 'Order Sync Request')).status).toBe(404);
    expect((await admin.list('Custom DocPerm', { filters: [['parent', '=', 'Sales Order']] })).body.data).toEqual([]);
  });
});

describe('an install cut short', () => {
  it('a failure half-way through the permission copy is finished by the next install and fully undone by uninstall', async () => {
    const site = 'clean.localhost';
    const c = await adminOf(site);
    const before = await snapshot(c);
    // The first Custom DocPerm write fails (a POST is not resent after a 5xx: it may have committed).
    await control(emu, '/faults', { rules: [{ site, match: 'POST /api/resource/Custom DocPerm', mode: 'error', status: 502, count: 1 }] });
    const err = await install(c, desired).catch((e) => e);
    await control(emu, '/faults', undefined, 'DELETE');
    expect(err).toBeInstanceOf(InstallFailed);
    expect(err.message).toMatch(/Already applied/);
    const done = await install(c, desired);
    expect(done.applied.length).toBeGreaterThan(0);
    expect((await makePlan(c, desired)).every((e) => e.action === 'unchanged')).toBe(true);
    // Every standard rule of Customer survived the interrupted copy.
    const admin = client(emu, { site, sid: await login(emu, 'Administrator', 'admin', site) });
    const custom = (await admin.list('Custom DocPerm', { filters: [['parent', '=', 'Customer']], fields: ['role'], limit_page_length: 0 })).body.data.map((r: { role: string }) => r.role);
    const standard = (await admin.get('DocType', 'Customer')).body.data.permissions.map((r: { role: string }) => r.role);
    for (const role of standard) expect(custom).toContain(role);
    await uninstall(c, { dropData: true });
    expect(await snapshot(c)).toEqual(before);
  });
});

describe('uninstall and later permission changes', () => {
  it('keeps a permission rule an administrator added after the install, and removes only ours and the copies', async () => {
    const site = 'perms.localhost';
    await control(emu, '/sites', { name: site });
    const c = await adminOf(site);
    await install(c, desired);
    const admin = client(emu, { site, sid: await login(emu, 'Administrator', 'admin', site) });
    expect((await admin.insert('Custom DocPerm', { parent: 'Customer', role: 'Auditor', permlevel: 0, read: 1 })).status).toBe(200);
    const result = await uninstall(c, { dropData: true });
    expect(result.restored.join('\n')).toContain('standard permissions of Customer (left in place: rules added since for Auditor)');
    const left = (await admin.list('Custom DocPerm', { filters: [['parent', '=', 'Customer']], fields: ['role'], limit_page_length: 0 })).body.data;
    expect(left).toEqual([{ role: 'Auditor' }]);
    expect((await admin.get('DocType', 'Order Companion Settings')).status).toBe(404);
  });
});

describe('refusals before anything is written', () => {
  it('a field of the same name with another type, a missing DocType and a non-System-Manager user are each named', async () => {
    const admin = client(emu, { site: 'clash.localhost', sid: await login(emu, 'Administrator', 'admin', 'clash.localhost') });
    expect((await admin.insert('Custom Field', { dt: 'CRM Lead', fieldname: 'custom_customer', label: 'Customer', fieldtype: 'Data' })).status).toBe(200);
    expect((await admin.remove('DocType', 'Work Order')).status).toBe(202);
    const c = await adminOf('clash.localhost');
    const before = await snapshot(c);
    const err = await install(c, desired).catch((e) => e);
    expect(err).toBeInstanceOf(InstallRefused);
    expect(err.message).toMatch(/CRM Lead already has a field "custom_customer" of type Data; ours is Link \(Customer\)/);
    expect(err.message).toMatch(/DocType Work Order is missing: install ERPNext/);
    expect(await snapshot(c)).toEqual(before);

    const weak = await adminOf('clash.localhost', ['Sales Manager']);
    const refused = await install(weak, desired).catch((e) => e);
    expect(refused.message).toMatch(/is not a System Manager/);
  });
});
