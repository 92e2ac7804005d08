/**
 * The emulator's own test controls (not Frappe's): faults, clock and request counts. Later suites
 * build retry, catch-up and SLA tests on these, so they are pinned here.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Latency } from '../../emulator/latency.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { SITE, adminClient, control, start, type Client } from '../helpers/emulator.js';

let emu: RunningEmulator;
let admin: Client;

beforeAll(async () => {
  emu = await start();
  admin = await adminClient(emu);
});

afterEach(async () => {
  await control(emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await emu.close();
});

describe('faults', () => {
  it('fails exactly `count` matching requests with a proxy-style HTML 502, then recovers', async () => {
    await control(emu, '/faults', { rules: [{ match: 'GET /api/resource/CRM Lead', mode: 'error', status: 502, count: 2 }] });
    const a = await admin.list('CRM Lead');
    const b = await admin.list('CRM Lead');
    const other = await admin.list('CRM Deal');
    const c = await admin.list('CRM Lead');
    expect([a.status, b.status, other.status, c.status]).toEqual([502, 502, 200, 200]);
    expect(a.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('429 carries Retry-After and TooManyRequestsError', async () => {
    await control(emu, '/faults', { rules: [{ mode: 'error', status: 429, count: 1, retryAfterSec: 7 }] });
    const r = await admin.list('CRM Lead');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.body.exc_type).toBe('TooManyRequestsError');
  });

  it('a `rate` fails a reproducible share of requests for a given seed', async () => {
    const run = async () => {
      await control(emu, '/faults', { rules: [{ mode: 'error', status: 500, rate: 0.5 }], seed: 7 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await admin.method('ping', {}, 'GET')).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const failed = first.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(20);
  });

  it('`timeout` holds the request until the client gives up; `reset` drops the connection', async () => {
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'timeout', status: 0 }] });
    const hung = fetch(`${emu.url}/api/method/ping`, { headers: { 'X-Frappe-Site-Name': SITE }, signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow(/timeout|aborted/i);
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'reset', status: 0 }] });
    await expect(fetch(`${emu.url}/api/method/ping`, { headers: { 'X-Frappe-Site-Name': SITE } })).rejects.toThrow(/fetch failed/);
  });

  it('`delay` answers normally, only late; a later rule still fails its share first', async () => {
    const ping = (signal?: AbortSignal) => fetch(`${emu.url}/api/method/ping`, { headers: { 'X-Frappe-Site-Name': SITE }, signal });
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'delay', status: 0, delayMs: 60_000 }] });
    await expect(ping(AbortSignal.timeout(200))).rejects.toThrow(/timeout|aborted/i);
    await control(emu, '/faults', { rules: [{ match: 'ping', mode: 'error', status: 502, count: 1 }, { match: 'ping', mode: 'delay', status: 0, delayMs: 5 }] });
    expect((await ping()).status).toBe(502);
    const late = await ping();
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({ message: 'pong' });
    await expect(control(emu, '/faults', { rules: [{ mode: 'delay', status: 0 }] })).rejects.toThrow(/delayMs/);
  });
});

describe('clock and counts', () => {
  it('moves the clock for every site, each in its own System Settings time zone', async () => {
    const view = await control(emu, '/clock', { now: '2026-03-01T12:00:00Z', freeze: true });
    expect(view.sites[SITE].now.startsWith('2026-03-01 12:00:00')).toBe(true);
    await admin.update('System Settings', 'System Settings', { time_zone: 'Asia/Tokyo' });
    const later = await control(emu, '/clock', { advance_seconds: 3600 });
    expect(later.sites[SITE].now.startsWith('2026-03-01 22:00:00')).toBe(true);
    const lead = await admin.insert('CRM Lead', { first_name: 'Clocked' });
    expect(lead.body.data.creation.startsWith('2026-03-01 22:00:00')).toBe(true);
    await admin.update('System Settings', 'System Settings', { time_zone: 'UTC' });
    await control(emu, '/clock', { reset: true });
  });

  // RFC 9110 §6.6.1: the server stamps every answer with `Date` (gunicorn/nginx do for Frappe);
  // here from the emulator's clock, so a client reading the site's "now" follows moved time.
  it("answers every request with an HTTP Date from the emulator's clock", async () => {
    await control(emu, '/clock', { now: '2026-03-01T12:00:00Z', freeze: true });
    const ping = await admin.method('ping', {}, 'GET');
    expect(ping.headers.get('date')).toBe('Sun, 01 Mar 2026 12:00:00 GMT');
    await control(emu, '/clock', { advance_seconds: 90 });
    const err = await admin.get('CRM Lead', 'no-such-lead');
    expect(err.status).toBe(404);
    expect(err.headers.get('date')).toBe('Sun, 01 Mar 2026 12:01:30 GMT');
    await control(emu, '/clock', { reset: true });
    const real = Date.parse((await admin.method('ping', {}, 'GET')).headers.get('date')!);
    expect(Math.abs(real - Date.now())).toBeLessThan(5000);
  });

  it('counts requests per method and path', async () => {
    await control(emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await admin.list('Sales Order');
    await admin.list('Sales Order');
    await admin.method('ping', {}, 'GET');
    const counts = await control(emu, `/sites/${SITE}/requests`, undefined, 'GET');
    expect(counts).toEqual({ 'GET /api/resource/Sales Order': 2, 'GET /api/method/ping': 1 });
  });

  it('rejects malformed control input with a clear 400', async () => {
    await expect(control(emu, '/clock', { now: '2026-03-01 12:00' })).rejects.toThrow(/ISO-8601 instant with a zone/);
    await expect(control(emu, '/faults', { rules: [{ mode: 'explode' }] })).rejects.toThrow(/rule.mode/);
  });
});

describe('latency profile', () => {
  /** How long one REST call took, seen from here. */
  async function elapsed(call: () => Promise<{ status: number }>): Promise<number> {
    const t0 = performance.now();
    const r = await call();
    expect(r.status).toBe(200);
    return performance.now() - t0;
  }

  it('holds every REST call at least meanMs - jitterMs, and the reset clears it', async () => {
    await control(emu, '/latency', { meanMs: 60, jitterMs: 0 });
    // A lower bound only: the emulator waited the profile's delay before answering (1 ms of
    // slack for the timer's millisecond rounding).
    expect(await elapsed(() => admin.method('ping', {}, 'GET'))).toBeGreaterThanOrEqual(59);
    expect(await elapsed(() => admin.list('CRM Lead'))).toBeGreaterThanOrEqual(59);
    await control(emu, '/latency', { site: SITE, meanMs: 40, jitterMs: 10, seed: 3 });
    for (let i = 0; i < 3; i++) expect(await elapsed(() => admin.method('ping', {}, 'GET'))).toBeGreaterThanOrEqual(29);
    expect((await control(emu, '', undefined, 'GET')).latency).toEqual([
      { meanMs: 60, jitterMs: 0, seed: 42 },
      { site: SITE, meanMs: 40, jitterMs: 10, seed: 3 },
    ]);

    await control(emu, `/sites/${SITE}/reset`, {});
    expect((await control(emu, '/latency', undefined, 'GET')).latency).toEqual([{ meanMs: 60, jitterMs: 0, seed: 42 }]);
    await control(emu, '/faults', undefined, 'DELETE');
    expect((await control(emu, '/latency', undefined, 'GET')).latency).toEqual([]);
    admin = await adminClient(emu);
  });

  it('never holds the test controls themselves', async () => {
    // Ten minutes a call: any control that were held would outlast the test's timeout.
    await control(emu, '/latency', { meanMs: 600_000 });
    expect((await control(emu, '/clock', undefined, 'GET')).now).toBeTruthy();
    expect((await control(emu, `/sites/${SITE}/requests`, undefined, 'GET'))).toBeTruthy();
    await control(emu, '/latency', undefined, 'DELETE');
    expect((await control(emu, '/latency', undefined, 'GET')).latency).toEqual([]);
  });

  it('refuses a jitter larger than the mean', async () => {
    const res = await fetch(`${emu.url}/__emulator/latency`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ meanMs: 5, jitterMs: 10 }) });
    expect(res.status).toBe(400);
  });

  it('draws the same delays for the same seed, uniformly within meanMs ± jitterMs', () => {
    const draw = (seed: number) => {
      const l = new Latency();
      l.set({ meanMs: 20, jitterMs: 5, seed });
      return Array.from({ length: 200 }, () => l.next('any.site'));
    };
    const a = draw(9);
    expect(draw(9)).toEqual(a);
    expect(draw(10)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...a)).toBeLessThanOrEqual(25);
    expect(Math.abs(a.reduce((x, y) => x + y, 0) / a.length - 20)).toBeLessThan(1);
  });
});
