/**
 * `site doctor` against the emulator: a healthy site passes; a refused secret, a realtime server
 * that cannot call the site back, missing reads and the FCRM auto-reply toggle are each named with
 * their fix, the other checks still run, and neither the key nor the secret ever shows.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import type { SiteConfig } from '../../sidecar/config/load.js';
import { formatDoctor, runDoctor, type DoctorReport } from '../../scripts/site/doctor.js';
import { SITE, adminClient, control, type Client } from '../helpers/emulator.js';

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
  expect(connect.message).toBe(`no usable answer from ${url}: fetch failed: ECONNREFUSED`);
  expect(connect.fix).toContain('FRAPPE_URL');
  expect(connect.message).toContain('ECONNREFUSED');
  expect(check(report, 'realtime').ok).toBe(false);
  expect(report.checks).toHaveLength(5);
  expectNoCredentials(report, healthy.key, healthy.secret);
});
