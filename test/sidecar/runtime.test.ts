/**
 * The sidecar runtime end to end against the emulator over 127.0.0.1: realtime fast path,
 * catch-up after a lost link, retries through failing REST calls, dead letters and `retry`,
 * readiness and clear errors per site.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import type { SidecarConfig } from '../../lib/config/load.js';
import { PermanentError } from '../../lib/errors.js';
import type { HandlerRegistry } from '../../sidecar/handlers/types.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { startSidecar, type Sidecar } from '../../sidecar/runtime.js';
import { SITE, client, control, type Client } from '../helpers/emulator.js';
import { captureLogs, until } from '../helpers/sidecar.js';
import { localConfig } from '../helpers/config.js';

let emu: RunningEmulator;
let keys: { key: string; secret: string };
let writer: Client;
const running: Sidecar[] = [];

const manifest = parseManifest({
  app: 'crm_order_companion',
  realtime: { 'CRM Lead': { list_update: ['test.record'] } },
});

function configFor(overrides: Partial<SidecarConfig['sites'][number]> = {}): SidecarConfig {
  return localConfig({ name: SITE, url: emu.url, key: keys.key, secret: keys.secret }, { site: overrides, logLevel: 'debug' });
}

interface Seen {
  name: string;
  modified: string | null;
  source: string;
}

async function sidecarWith(handlers: HandlerRegistry, opts: { config?: SidecarConfig; logger?: ReturnType<typeof captureLogs>['logger'] } = {}): Promise<Sidecar> {
  const sc = await startSidecar({
    config: opts.config ?? configFor(),
    manifest,
    handlers,
    logger: opts.logger ?? captureLogs().logger,
    rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 2000 },
    jobDefaults: { maxAttempts: 4, backoffMs: 5 },
    reconnectBaseMs: 20,
  });
  running.push(sc);
  return sc;
}

/** The emulator has joined our socket to the CRM Lead room (Frappe sends no acknowledgement). */
async function subscribed(): Promise<void> {
  for (;;) {
    const views: { rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${SITE}`, undefined, 'GET');
    if (views.some((v) => v.pending === 0 && v.rooms.includes('doctype:CRM Lead'))) return;
    await new Promise((r) => setImmediate(r));
  }
}

/** Wait for the sidecar's realtime link and its room subscription. */
async function linked(sc: Sidecar): Promise<void> {
  await until(sc, () => sc.status()[0].realtime.connected, 'the realtime link');
  await subscribed();
}

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'companion@example.com', roles: ['Sales Manager', 'System Manager'], generate_keys: true });
  keys = { key: u.api_key, secret: u.api_secret };
  writer = client(emu, { site: SITE, token: keys });
});

afterEach(async () => {
  while (running.length) await running.pop()!.stop(1000);
  await control(emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await emu.close();
});

describe('sidecar runtime', () => {
  it('a realtime event reaches its handler once, with the version that was saved', async () => {
    const seen: Seen[] = [];
    const sc = await sidecarWith({ 'test.record': async ({ job }) => void seen.push({ name: String(job.data.name), modified: job.data.modified as string, source: String(job.data.source) }) });
    await linked(sc);
    const lead = (await writer.insert('CRM Lead', { first_name: 'Fast' })).body.data;
    await until(sc, () => seen.some((s) => s.name === lead.name), 'the handler');
    expect(seen.filter((s) => s.name === lead.name)).toEqual([{ name: lead.name, modified: lead.modified, source: 'realtime' }]);
  });

  it('changes made while the realtime link is down are all handled after reconnect, none twice', async () => {
    const seen: Seen[] = [];
    const sc = await sidecarWith({ 'test.record': async ({ job }) => void seen.push({ name: String(job.data.name), modified: job.data.modified as string, source: String(job.data.source) }) });
    await linked(sc);
    // Establish the watermark with one change heard live.
    const first = (await writer.insert('CRM Lead', { first_name: 'Before' })).body.data;
    await until(sc, () => seen.some((s) => s.name === first.name), 'the first event');
    await sc.catchUpNow();

    await control(emu, '/faults', { realtime: 'down' });
    await until(sc, async () => !sc.status()[0].realtime.connected, 'the link to drop');
    const missed: string[] = [];
    for (let i = 0; i < 12; i++) missed.push((await writer.insert('CRM Lead', { first_name: `Missed ${i}` })).body.data.name);
    const updated = await writer.update('CRM Lead', missed[0], { last_name: 'Twice' });
    await control(emu, '/faults', { realtime: 'normal' });

    await until(sc, () => missed.every((n) => seen.some((s) => s.name === n)) && seen.some((s) => s.modified === updated.body.data.modified), 'catch-up after reconnect');
    await sc.catchUpNow();
    const keysSeen = seen.map((s) => `${s.name}@${s.modified}`);
    expect(new Set(keysSeen).size).toBe(keysSeen.length);
    expect(seen.filter((s) => missed.includes(s.name)).every((s) => s.source === 'catchup')).toBe(true);
    // missed[0] was inserted and then updated while down: catch-up sees only its latest version.
    expect(seen.filter((s) => s.name === missed[0]).map((s) => s.modified)).toEqual([updated.body.data.modified]);
  });

  it('with 30% of REST calls failing (5xx and timeouts) every job still completes', async () => {
    const done = new Set<string>();
    const sc = await sidecarWith({
      'test.record': async ({ client: c, job }) => {
        // Each job reads and writes the site: both calls go through the failing proxy.
        const lead = await c.getDoc<{ name: string; last_name?: string }>('CRM Lead', String(job.data.name));
        await c.update('CRM Lead', lead.name, { job_title: 'seen' });
        done.add(lead.name);
      },
    });
    await linked(sc);
    const names: string[] = [];
    for (let i = 0; i < 15; i++) names.push((await writer.insert('CRM Lead', { first_name: `Flaky ${i}` })).body.data.name);
    await control(emu, '/faults', {
      rules: [
        { site: SITE, match: '/api/resource/CRM Lead/', mode: 'error', status: 502, rate: 0.2 },
        { site: SITE, match: '/api/resource/CRM Lead/', mode: 'timeout', status: 0, rate: 0.1 },
      ],
      seed: 11,
    });
    await sc.catchUpNow();
    await until(sc, () => names.every((n) => done.has(n)), 'every job', 20_000);
    const failed = await sc.store.list('failed');
    expect(failed.filter((j) => names.some((n) => j.id.endsWith(n)))).toEqual([]);
  });

  it('a job whose call always fails is dead-lettered with its error, and succeeds after retry once the fault is lifted', async () => {
    let calls = 0;
    const sc = await sidecarWith({
      'test.record': async ({ client: c, job }) => {
        calls += 1;
        await c.getDoc('CRM Lead', String(job.data.name));
      },
    });
    await linked(sc);
    await control(emu, '/faults', { rules: [{ site: SITE, match: 'GET /api/resource/CRM Lead/', mode: 'error', status: 500 }] });
    const lead = (await writer.insert('CRM Lead', { first_name: 'Doomed' })).body.data;
    const id = (j: { id: string }) => j.id.startsWith('test.record|') && j.id.endsWith(`|${lead.name}`);
    await until(sc, async () => (await sc.store.list('failed')).some(id), 'the dead letter', 20_000);
    const dead = (await sc.store.list('failed')).find(id)!;
    expect(dead.lastError).toMatch(/FrappeUnavailableError/);
    expect(dead.lastError).not.toContain(keys.secret);

    await control(emu, '/faults', undefined, 'DELETE');
    const retried = await fetch(`${sc.url}/admin/jobs/${encodeURIComponent(dead.id)}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    await until(sc, async () => (await sc.store.get(dead.id))?.state === 'completed', 'the retried job');
    expect(calls).toBeGreaterThan(1);
  });

  it('a permanent error dead-letters at once', async () => {
    const sc = await sidecarWith({
      'test.record': async () => {
        throw new PermanentError('customer is ambiguous');
      },
    });
    await linked(sc);
    const lead = (await writer.insert('CRM Lead', { first_name: 'Ambiguous' })).body.data;
    await until(sc, async () => (await sc.store.list('failed')).some((j) => j.id.endsWith(`|${lead.name}`)), 'the dead letter');
    const dead = (await sc.store.list('failed')).find((j) => j.id.endsWith(`|${lead.name}`))!;
    expect(dead.attempts).toBe(1);
    expect(dead.lastError).toContain('customer is ambiguous');
  });

  it('/readyz, /healthz and /metrics; a wrong secret gives one clear log line naming the site', async () => {
    const healthy = await sidecarWith({ 'test.record': async () => undefined });
    await until(healthy, async () => healthy.ready(), 'readiness');
    const ready = await (await fetch(`${healthy.url}/readyz`)).json();
    expect(ready).toEqual({ ready: true, sites: [{ site: SITE, ready: true, rest: 'ok', realtime: 'connected', events: 'arriving', health: 'not run yet', findings: [] }] });
    expect((await fetch(`${healthy.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${healthy.url}/metrics`)).text();
    expect(metrics).toMatch(/coc_realtime_connected\{site="test\.localhost"\} 1/);
    expect(metrics).toMatch(/coc_frappe_rest_calls_total\{[^}]*outcome="ok"[^}]*\} \d+/);

    const { lines, logger } = captureLogs();
    const bad = await sidecarWith({ 'test.record': async () => undefined }, { config: configFor({ apiSecret: () => 'wrong-secret-value' }), logger });
    await until(bad, async () => lines.some((l) => l.event === 'realtime_refused'), 'the refused handshake');
    const res = await fetch(`${bad.url}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.sites[0].site).toBe(SITE);
    expect(body.sites[0].ready).toBe(false);
    const unhealthy = lines.filter((l) => l.event === 'site_unhealthy');
    expect(unhealthy).toHaveLength(1);
    expect(String(unhealthy[0].msg)).toMatch(new RegExp(`site ${SITE.replace('.', '\\.')} is not usable: .*(refused|401)`, 'i'));
    expect(String(lines.find((l) => l.event === 'realtime_refused')!.msg)).toContain('Unauthorized');
    expect(JSON.stringify(lines)).not.toContain('wrong-secret-value');
  });

  it('a sidecar on the wrong namespace is connected but not ready, and names FRAPPE_SITE as the fix', async () => {
    // FRAPPE_URL=http://127.0.0.1:PORT without FRAPPE_SITE: the name defaults to the URL's host.
    // The emulator serves test.localhost for every request (bench serve --site), so REST works and
    // the realtime server accepts namespace /127.0.0.1 (X-Frappe-Site-Name says so), but the site
    // publishes its events to /test.localhost only.
    const { lines, logger } = captureLogs();
    const host = new URL(emu.url).hostname;
    expect(host).toBe('127.0.0.1');
    const config = { ...configFor({ name: host }), realtimeProbeTimeoutMs: 300 };
    const sc = await sidecarWith({ 'test.record': async () => undefined }, { config, logger });
    await until(sc, () => sc.status()[0].realtime.eventsError?.includes('do not reach') ?? false, 'the probe to give up');
    const [st] = sc.status();
    expect(st.rest.ok).toBe(true);
    expect(st.realtime.connected).toBe(true);
    expect(st.realtime.eventsArrive).toBe(false);
    expect(sc.ready()).toBe(false);

    const res = await fetch(`${sc.url}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.ready).toBe(false);
    expect(body.sites[0]).toMatchObject({ site: host, ready: false, rest: 'ok', realtime: 'connected' });
    expect(body.sites[0].events).toContain('listens on namespace /127.0.0.1');
    expect(body.sites[0].events).toContain('set FRAPPE_SITE (or "name" in COC_CONFIG)');
    expect(body.sites[0].events).toContain('bench --site NAME');
    const deaf = lines.filter((l) => l.event === 'realtime_deaf');
    expect(deaf).toHaveLength(1);
    expect(String(deaf[0].msg)).toContain(`site ${host}: realtime events of this site do not reach the sidecar`);
  });

  it('the probe of the right namespace passes again after each reconnect', async () => {
    const sc = await sidecarWith({ 'test.record': async () => undefined });
    await until(sc, () => sc.ready(), 'readiness');
    await control(emu, '/faults', { realtime: 'down' });
    await until(sc, () => !sc.status()[0].realtime.connected, 'the link to drop');
    expect(sc.ready()).toBe(false);
    expect(sc.status()[0].realtime.eventsArrive).toBe(false);
    await control(emu, '/faults', { realtime: 'normal' });
    await until(sc, () => sc.ready(), 'readiness after the reconnect');
    expect(sc.status()[0].realtime).toMatchObject({ connected: true, eventsArrive: true, eventsError: null });
  });

  it('a probe the site cannot answer keeps the site not ready without calling it deaf, and a health check asks again', async () => {
    await control(emu, '/faults', { rules: [{ site: SITE, match: 'trigger_indicator_hide', mode: 'error', status: 503 }] });
    const sc = await startSidecar({
      config: configFor(),
      manifest,
      handlers: { 'test.record': async () => undefined },
      logger: captureLogs().logger,
      rest: { backoffBaseMs: 1, backoffMaxMs: 5, maxRetries: 1, timeoutMs: 2000 },
      reconnectBaseMs: 20,
      healthIntervalMs: 50,
      http: false,
    });
    running.push(sc);
    await until(sc, () => sc.status()[0].realtime.eventsError?.startsWith('could not ask the site for a probe event') ?? false, 'the failed probe');
    expect(sc.status()[0].realtime.connected).toBe(true);
    expect(sc.status()[0].realtime.eventsError).not.toContain('FRAPPE_SITE');
    expect(sc.ready()).toBe(false);
    await control(emu, '/faults', undefined, 'DELETE');
    await until(sc, () => sc.ready(), 'readiness once the site answers');
  });

  it('an unreachable site is named with its cause', async () => {
    const { lines, logger } = captureLogs();
    const sc = await sidecarWith({ 'test.record': async () => undefined }, { config: configFor({ url: 'http://127.0.0.1:9' }), logger });
    const unhealthy = lines.filter((l) => l.event === 'site_unhealthy');
    expect(unhealthy).toHaveLength(1);
    expect(String(unhealthy[0].msg)).toMatch(/site test\.localhost is not usable: .*(ECONNREFUSED|unreachable|fetch failed)/i);
    expect(sc.ready()).toBe(false);
  });
});
