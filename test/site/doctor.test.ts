/**
 * `site doctor` against the emulator: a healthy site passes; a refused secret, a realtime server
 * that cannot call the site back, missing reads and the FCRM auto-reply toggle are each named with
 * their fix, the other checks still run, and neither the key nor the secret ever shows. The roles
 * check lists each of our roles (Order Companion, Order Companion Shop Sync) with what it enables
 * and whether the API user holds it, and checks the grants of the ones it holds.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import type { SiteConfig } from '../../lib/config/load.js';
import { formatDoctor, runDoctor, type DoctorReport } from '../../scripts/site/doctor/index.js';
import { checkCrmToggles } from '../../scripts/site/doctor/crm_settings.js';
import { install } from '../../scripts/site/install.js';
import { loadDesired } from '../../lib/site/records.js';
import { createFrappeClient } from '../../lib/frappe/client.js';
import { loadManifest } from '../../lib/manifest/load.js';
import { SITE, adminClient, client, control, login, type Client } from '../helpers/emulator.js';

const ROOT = join(import.meta.dirname, '..', '..');

let emu: RunningEmulator;
let admin: Client;
let healthy: { key: string; secret: string };

beforeAll(async () => {
  // serveSite/defaultSite: the realtime server's callback to the Origin (127.0.0.1) must land on
  // this site, as `bench serve --site` would do.
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
  admin = await adminClient(emu);
  // What install leaves behind for the one grant no standard role carries: Notification Log create.
  expect((await admin.insert('Role', { role_name: 'Order Companion', desk_access: 0 })).status).toBe(200);
  expect((await admin.insert('Custom DocPerm', { parent: 'Notification Log', role: 'Order Companion', permlevel: 0, read: 1, create: 1 })).status).toBe(200);
  const u = await control(emu, `/sites/${SITE}/users`, {
    email: 'sidecar@example.com',
    roles: ['System Manager', 'Sales Manager', 'Manufacturing User', 'Agent', 'Order Companion'],
    generate_keys: true,
  });
  healthy = { key: u.api_key, secret: u.api_secret };
});

afterEach(async () => {
  await control(emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await emu?.close();
});

function siteConfig(key: string, secret: string, overrides: Partial<SiteConfig> = {}): SiteConfig {
  return { name: SITE, url: emu.url, apiKey: key, apiSecret: () => secret, ...overrides };
}

function check(report: DoctorReport, id: string) {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${JSON.stringify(report)}`);
  return c;
}

function expectNoCredentials(report: DoctorReport, ...values: string[]): void {
  const text = `${formatDoctor(report)}\n${JSON.stringify(report)}`;
  for (const v of values) expect(text).not.toContain(v);
}

it('a healthy site passes every check', async () => {
  const report = await runDoctor(siteConfig(healthy.key, healthy.secret), { timeoutMs: 5000 });
  expect(report.checks.map((c) => c.id)).toEqual(['connect', 'roles', 'realtime', 'time_zone', 'crm_toggles']);
  for (const c of report.checks) expect(c, c.message).toMatchObject({ ok: true, level: 'info' });
  expect(report.ok).toBe(true);
  expect(check(report, 'connect').message).toContain('sidecar@example.com');
  expect(check(report, 'time_zone').message).toContain('UTC');
  expect(check(report, 'realtime').message).toBe(`realtime handshake accepted at ${emu.url}/${SITE}, and an event of this site arrived on it`);
  // Our roles, what each enables, and which the user holds; shop sync's is not needed here.
  const roles = check(report, 'roles').message;
  expect(roles).toContain('API user sidecar@example.com (Order Companion) reads Customer, Contact, Sales Order');
  expect(roles).toContain('Order Companion (held) enables order history');
  expect(roles).toContain('Order Companion Shop Sync (not on the site) enables Shopify/Etsy order sync');
  expect(roles).toContain('needed only when shops are configured');
  const text = formatDoctor(report);
  expect(text.split('\n')).toHaveLength(6);
  expect(text).toMatch(/^✓ connect: /);
  expect(text.split('\n').at(-1)).toBe(`${SITE}: OK — 5 passed, 0 warnings, 0 errors`);
  expectNoCredentials(report, healthy.key, healthy.secret);
});

it('a wrong secret is named as such, with how to make new keys, and never printed', async () => {
  const wrong = 'not-the-secret-0123';
  const report = await runDoctor(siteConfig(healthy.key, wrong), { timeoutMs: 5000 });
  expect(report.ok).toBe(false);
  const connect = check(report, 'connect');
  expect(connect).toMatchObject({ ok: false, level: 'error' });
  expect(connect.message).toContain('refused the API key/secret');
  expect(connect.fix).toContain('User → Settings → API Access → Generate Keys');
  // The realtime server asks the site who we are with the same key: refused for the same reason.
  const realtime = check(report, 'realtime');
  expect(realtime.ok).toBe(false);
  expect(realtime.message).toContain('Unauthorized');
  expect(realtime.fix).toContain('API key/secret');
  // Every check still ran and reported.
  expect(report.checks).toHaveLength(5);
  expectNoCredentials(report, healthy.key, wrong, healthy.secret);
  expect(formatDoctor(report)).toContain('✗ connect: ');
});

it('realtime down is named with its fix while REST passes', async () => {
  await control(emu, '/faults', { realtime: 'down' });
  const report = await runDoctor(siteConfig(healthy.key, healthy.secret), { timeoutMs: 5000 });
  expect(report.ok).toBe(false);
  expect(check(report, 'connect').ok).toBe(true);
  expect(check(report, 'roles').ok).toBe(true);
  expect(check(report, 'time_zone').ok).toBe(true);
  const realtime = check(report, 'realtime');
  expect(realtime).toMatchObject({ ok: false, level: 'error' });
  expect(realtime.message).toContain(`${emu.url}/${SITE}`);
  // A stopped socketio process behind the proxy: the transport fails before any Frappe check.
  expect(realtime.message).toContain('websocket error');
  expect(realtime.fix).toContain('bench restart');
  expect(realtime.fix).toContain('/socket.io');
  expect(formatDoctor(report)).toMatch(/\n✗ realtime: .*\n {4}fix: /);
  expectNoCredentials(report, healthy.key, healthy.secret);
});

it('a handshake on another namespace is accepted but hears nothing: the realtime check fails and names FRAPPE_SITE', async () => {
  // FRAPPE_URL=http://127.0.0.1:PORT without FRAPPE_SITE: the name defaults to the host. The site
  // is served for every request (bench serve --site) and publishes to /${SITE} only.
  const report = await runDoctor(siteConfig(healthy.key, healthy.secret, { name: '127.0.0.1' }), { timeoutMs: 5000, probeTimeoutMs: 300 });
  expect(report.ok).toBe(false);
  expect(check(report, 'connect').ok).toBe(true);
  const realtime = check(report, 'realtime');
  expect(realtime).toMatchObject({ ok: false, level: 'error' });
  expect(realtime.message).toContain(`realtime handshake accepted at ${emu.url}/127.0.0.1, but realtime events of this site do not reach the sidecar`);
  expect(realtime.message).toContain('listens on namespace /127.0.0.1');
  expect(realtime.fix).toContain('set FRAPPE_SITE (or "name" in COC_CONFIG)');
  expect(realtime.fix).toContain('bench --site NAME');
  expect(formatDoctor(report)).toMatch(/\n✗ realtime: .*\n {4}fix: set FRAPPE_SITE/);
  expectNoCredentials(report, healthy.key, healthy.secret);
});

it('an Origin on another host than the one dialed is refused as "Invalid origin"', async () => {
  const report = await runDoctor(siteConfig(healthy.key, healthy.secret, { url: emu.url.replace('127.0.0.1', 'localhost'), realtimeUrl: emu.url }), { timeoutMs: 5000 });
  const realtime = check(report, 'realtime');
  expect(realtime.ok).toBe(false);
  expect(realtime.message).toContain('Invalid origin');
  expect(realtime.fix).toContain('same host name');
});

it('the FCRM auto-reply toggle is a visible warning with its fix, not a failure', async () => {
  expect((await admin.update('FCRM Settings', 'FCRM Settings', { auto_mark_replied_on_response: 1 })).status).toBe(200);
  try {
    const report = await runDoctor(siteConfig(healthy.key, healthy.secret), { timeoutMs: 5000 });
    const toggles = check(report, 'crm_toggles');
    expect(toggles).toMatchObject({ ok: false, level: 'warning' });
    expect(toggles.message).toContain('auto_mark_replied_on_response');
    expect(toggles.message).not.toContain('auto_reopen_on_new_communication');
    expect(toggles.message).toContain('frappe.db.set_value');
    expect(toggles.fix).toContain('CRM → Settings');
    expect(report.ok).toBe(true);
    const text = formatDoctor(report);
    expect(text).toContain('! crm_toggles: ');
    expect(text).toContain('    fix: switch off');
    expect(text.split('\n').at(-1)).toBe(`${SITE}: OK — 4 passed, 1 warning, 0 errors`);
  } finally {
    await admin.update('FCRM Settings', 'FCRM Settings', { auto_mark_replied_on_response: 0 });
  }
});

it('on a CRM release without the two toggles (v1.52.1: recording single-get-fcrm-settings) the check passes and says why', async () => {
  // FCRM Settings as CRM v1.52.1 answers it: brand and forecasting fields, no auto-reply/auto-reopen.
  const settings = { name: 'FCRM Settings', doctype: 'FCRM Settings', brand_name: 'Acme', enable_forecasting: 0, dropdown_items: [] };
  const client = { getDoc: async () => settings } as unknown as Parameters<typeof checkCrmToggles>[0];
  expect(await checkCrmToggles(client)).toMatchObject({ id: 'crm_toggles', ok: true, level: 'info', message: expect.stringContaining('no auto-reply/auto-reopen toggles in this CRM release') });
});

it('a user without the companion role is told which DocTypes it cannot read and how to fix it', async () => {
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'seller@example.com', roles: ['Sales User'], generate_keys: true });
  const report = await runDoctor(siteConfig(u.api_key, u.api_secret), { timeoutMs: 5000 });
  expect(report.ok).toBe(false);
  expect(check(report, 'connect').ok).toBe(true);
  const roles = check(report, 'roles');
  expect(roles).toMatchObject({ ok: false, level: 'error' });
  expect(roles.message).toContain('cannot read');
  for (const dt of ['Work Order', 'HD Customer']) expect(roles.message).toContain(dt);
  expect(roles.message).not.toMatch(/cannot read[^;]*CRM Lead/);
  expect(roles.fix).toContain('Order Companion role');
  expect(roles.fix).toContain('crm-order-companion site install');
  expectNoCredentials(report, u.api_key, u.api_secret);
});

/** A loopback port nobody listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('a user that cannot list email Communications is told to add Super Email User', async () => {
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'mailblind@example.com', roles: ['Sales Manager', 'Sales User', 'Manufacturing User', 'Stock User', 'Agent'], generate_keys: true });
  const report = await runDoctor(siteConfig(u.api_key, u.api_secret), { timeoutMs: 5000 });
  const roles = check(report, 'roles');
  expect(roles.ok).toBe(false);
  expect(roles.message).toContain('Super Email User');
  expect(roles.fix).toContain('Super Email User');
});

it('an unreachable site is named with its URL and cause', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const report = await runDoctor(siteConfig(healthy.key, healthy.secret, { url }), { timeoutMs: 5000 });
  expect(report.ok).toBe(false);
  const connect = check(report, 'connect');
  expect(connect.ok).toBe(false);
  expect(connect.message).toBe(`no Frappe site answers at ${url}: nothing accepts connections there (GET /api/method/frappe.auth.get_logged_user → no answer: fetch failed: ECONNREFUSED)`);
  expect(connect.fix).toContain('FRAPPE_URL');
  expect(connect.message).toContain('ECONNREFUSED');
  expect(check(report, 'realtime').ok).toBe(false);
  expect(report.checks).toHaveLength(5);
  expectNoCredentials(report, healthy.key, healthy.secret);
});

/** An HTTP server on 127.0.0.1 that is not Frappe: every request gets `answer`. */
async function foreignServer(answer: { status: number; type: string; body: string }): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(answer.status, { 'Content-Type': answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

it('a URL where something else answers (an HTML 404 page, a 200 that is not JSON, JSON that is not Frappe\'s) says no Frappe site answers there', async () => {
  const answers = [
    { status: 404, type: 'text/html', body: '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>', what: 'an HTML page ("404 Not Found")' },
    { status: 200, type: 'text/html', body: '<html><body>Welcome to nginx!</body></html>', what: 'an HTML page ("Welcome to nginx!")' },
    { status: 404, type: 'application/json', body: '{"detail":"Not Found"}', what: 'JSON that is not Frappe\'s' },
  ];
  for (const a of answers) {
    const { url, server } = await foreignServer(a);
    try {
      const report = await runDoctor(siteConfig(healthy.key, healthy.secret, { url }), { timeoutMs: 5000 });
      const connect = check(report, 'connect');
      expect(connect.ok).toBe(false);
      expect(connect.message).toMatch(new RegExp(`^no Frappe site answers at ${url.replace(/\./g, '\\.')} for site ${SITE.replace('.', '\\.')}: GET /api/method/frappe\\.auth\\.get_logged_user → ${a.status} with `));
      expect(connect.message).toContain(a.what);
      expect(connect.fix).toContain('FRAPPE_SITE');
      // The other checks do not read the foreign 404 as "missing": they wait for connect.
      for (const id of ['roles', 'time_zone', 'crm_toggles']) expect(check(report, id).message).toContain('not checked: no Frappe site answers at the URL (see connect)');
      expectNoCredentials(report, healthy.key, healthy.secret);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
});

it('after an install, the shop sync role is listed, and its grants are checked when the user holds it', async () => {
  // An emulator of its own: the shared one serves every request as ${SITE}.
  const site = 'shops.localhost';
  const emu = await startEmulator({ sites: [{ name: site, timeZone: 'UTC' }] });
  try {
    await shopSyncChecks(emu, site);
  } finally {
    await emu.close();
  }
});

async function shopSyncChecks(emu: RunningEmulator, site: string): Promise<void> {
  const root = client(emu, { site, sid: await login(emu, 'Administrator', 'admin', site) });
  const installer = await control(emu, `/sites/${site}/users`, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
  const config = (key: string, secret: string): SiteConfig => ({ name: site, url: emu.url, apiKey: key, apiSecret: () => secret });

  // Before the install, the companion role is missing: an error, with the fix.
  const bare = check(await runDoctor(config(installer.api_key, installer.api_secret), { timeoutMs: 3000 }), 'roles');
  expect(bare.ok).toBe(false);
  expect(bare.message).toContain('the Order Companion role does not exist on the site');
  expect(bare.fix).toContain('crm-order-companion site install');

  const c = createFrappeClient({ site, baseUrl: emu.url, apiKey: () => installer.api_key, apiSecret: () => installer.api_secret, backoffBaseMs: 1 });
  await install(c, loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')));
  expect((await root.insert('Role', { role_name: 'Super Email User', desk_access: 0 })).status).toBe(200);

  // Order history only: Order Companion is enough once the user is a Helpdesk agent (README);
  // shop sync is listed as not held.
  const history = await control(emu, `/sites/${site}/users`, { email: 'history@example.com', roles: ['Order Companion', 'Super Email User'], generate_keys: true });
  await makeAgent(root, history.name);
  const plain = check(await runDoctor(config(history.api_key, history.api_secret), { timeoutMs: 3000 }), 'roles');
  expect(plain, plain.message).toMatchObject({ ok: true, level: 'info' });
  expect(plain.message).toContain('Order Companion Shop Sync (not held)');
  // Only the companion role's grants are checked: shop sync's are not this user's business.
  expect(plain.message).toMatch(/reads [^;]*, Notification Log; may [^;]*, create Notification Log; our roles: /);

  // Shop sync too: its reads are proven, its writes assumed from the role (rows are not readable to it).
  const shops = await control(emu, `/sites/${site}/users`, { email: 'shops@example.com', roles: ['Order Companion', 'Order Companion Shop Sync', 'Super Email User'], generate_keys: true });
  await makeAgent(root, shops.name);
  const both = check(await runDoctor(config(shops.api_key, shops.api_secret), { timeoutMs: 3000 }), 'roles');
  expect(both, both.message).toMatchObject({ ok: true, level: 'info' });
  expect(both.message).toContain('API user shops@example.com (Order Companion, Order Companion Shop Sync)');
  expect(both.message).toContain('Address, Item, Country, Company');
  expect(both.message).toContain('submit Sales Order, cancel Sales Order');
  expect(both.message).toContain('Order Companion Shop Sync (held)');
  expect(both.message).toContain('write/create/submit/cancel assumed from the Order Companion and Order Companion Shop Sync roles');

  // Its grant on Company gone: the doctor names the read it lacks and the fix.
  const rule = (await root.list('Custom DocPerm', { filters: [['parent', '=', 'Company'], ['role', '=', 'Order Companion Shop Sync']] })).body.data[0].name;
  expect((await root.remove('Custom DocPerm', rule)).status).toBe(202);
  // Deleting a Custom DocPerm leaves Company's cached rules in force (custom_docperm.py clears the
  // cache on update only): an administrator's next save of a rule, as Role Permissions Manager
  // makes, puts the change in force.
  const other = (await root.list('Custom DocPerm', { filters: [['parent', '=', 'Company']], fields: ['name'] })).body.data[0].name;
  expect((await root.update('Custom DocPerm', other, {})).status).toBe(200);
  const broken = check(await runDoctor(config(shops.api_key, shops.api_secret), { timeoutMs: 3000 }), 'roles');
  expect(broken).toMatchObject({ ok: false, level: 'error' });
  expect(broken.message).toMatch(/cannot read Company;/);
  expect(broken.fix).toContain('creates the Order Companion Shop Sync role with its permissions');
  expect(broken.fix).not.toContain('give the API user the Order Companion role');
}

/** What `site install --sidecar-user` or Helpdesk → Agents does: an HD Agent for the user. */
async function makeAgent(root: Client, user: string): Promise<void> {
  const res = await root.insert('HD Agent', { user, is_active: 1 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

it('as the sidecar user itself: roles found without reading the User record, and a user that is no Helpdesk agent is told how to become one', async () => {
  const site = 'agent.localhost';
  const emu = await startEmulator({ sites: [{ name: site, timeZone: 'UTC' }] });
  try {
    const root = client(emu, { site, sid: await login(emu, 'Administrator', 'admin', site) });
    const installer = await control(emu, `/sites/${site}/users`, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
    const c = createFrappeClient({ site, baseUrl: emu.url, apiKey: () => installer.api_key, apiSecret: () => installer.api_secret, backoffBaseMs: 1 });
    await install(c, loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')));
    expect((await root.insert('Role', { role_name: 'Super Email User', desk_access: 0 })).status).toBe(200);
    const sidecar = await control(emu, `/sites/${site}/users`, { email: 'coc-sidecar@example.com', roles: ['Order Companion', 'Super Email User'], generate_keys: true });
    const config: SiteConfig = { name: site, url: emu.url, apiKey: sidecar.api_key, apiSecret: () => sidecar.api_secret };
    // Frappe hides User.roles (permlevel 1) from a non-manager, even on its own record (recording
    // `restricted-user-get-self`): the doctor must not depend on that read at all.
    await control(emu, '/faults', { rules: [{ site, match: 'GET /api/resource/User/', mode: 'error', status: 403 }] });

    const notAgent = check(await runDoctor(config, { timeoutMs: 3000 }), 'roles');
    expect(notAgent).toMatchObject({ ok: false, level: 'error' });
    expect(notAgent.message).toContain('API user coc-sidecar@example.com (Order Companion)');
    expect(notAgent.message).toContain('coc-sidecar@example.com is not a Helpdesk agent, so Helpdesk shows it no ticket');
    expect(notAgent.message).not.toContain('could not be read');
    expect(notAgent.fix).toContain('crm-order-companion site install --sidecar-user coc-sidecar@example.com');
    expect(notAgent.fix).toContain('Helpdesk → Agents');
    // What the doctor reports is what Helpdesk does: no ticket for this user.
    const ticket = await root.insert('HD Ticket', { subject: 'Where is my order?', raised_by: 'buyer@example.com' });
    expect(ticket.status).toBe(200);
    const sidecarClient = createFrappeClient({ site, baseUrl: emu.url, apiKey: () => sidecar.api_key, apiSecret: () => sidecar.api_secret, backoffBaseMs: 1, maxRetries: 0 });
    expect(await sidecarClient.getList('HD Ticket', { fields: ['name'], orderBy: 'name asc', limitPageLength: 0 })).toEqual([]);

    // The fix it names: install with --sidecar-user (an administrator's run) makes it an HD Agent; then all is well.
    await control(emu, '/faults', undefined, 'DELETE');
    const again = await install(c, loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')), undefined, { sidecarUser: sidecar.name });
    expect(again.applied).toEqual([`created HD Agent "${sidecar.name}"`]);
    await control(emu, '/faults', { rules: [{ site, match: 'GET /api/resource/User/', mode: 'error', status: 403 }] });
    const agent = check(await runDoctor(config, { timeoutMs: 3000 }), 'roles');
    expect(agent, agent.message).toMatchObject({ ok: true, level: 'info' });
    expect((await sidecarClient.getList<{ name: number }>('HD Ticket', { fields: ['name'], orderBy: 'name asc', limitPageLength: 0 })).map((t) => t.name)).toEqual([ticket.body.data.name]);
  } finally {
    await control(emu, '/faults', undefined, 'DELETE');
    await emu.close();
  }
});
