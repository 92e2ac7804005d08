/**
 * The ops console's server side over real sockets on 127.0.0.1, against an emulated site with the
 * product installed: signing in through Frappe (frappe-js-sdk) as a System Manager and as an
 * Order Companion Operator, the refusals (no role: 403; wrong password: Frappe's message), nothing
 * answered without a session, the admin token for scripts, a job failed by an injected REST fault
 * reaching a live-link client, and Retry / Retry all like this completing dead letters, logged
 * with the Frappe user who asked; Run history sync starting one bulk run, later clicks resuming it
 * while it is unfinished, each logged with the user (test/sidecar/console_ops.test.ts: the data of
 * the Shop inbox, Order history and SLA views).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { installedSite, until, type InstalledSite } from '../helpers/sidecar.js';
import { CONSOLE_HANDLER, consoleLogin, liveClient, liveRefusal, person, startConsoleSidecar } from '../helpers/console.js';

const TOKEN = 'console-test-admin-token-0123456789';
let site: InstalledSite;
let sc: Sidecar;
let logs: Record<string, unknown>[];
let lead: string;

beforeAll(async () => {
  site = await installedSite('Europe/Berlin');
  await person(site, 'manager@example.com', ['System Manager']);
  await person(site, 'operator@example.com', ['Order Companion Operator']);
  await person(site, 'rep2@example.com', ['Sales User']);
  lead = (await site.rep.insert('CRM Lead', { first_name: 'Console' })).body.data.name;
  ({ sc, logs } = await startConsoleSidecar(site, { adminToken: TOKEN }));
}, 60_000);

afterAll(async () => {
  await sc?.stop();
  await site?.emu.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${sc.url}${path}`, { headers });
const post = (path: string, headers: Record<string, string> = {}) => fetch(`${sc.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });

async function deadLetter(id: string): Promise<void> {
  await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'GET /api/resource/CRM Lead/', mode: 'error', status: 500 }] });
  await sc.store.enqueue({ id, name: CONSOLE_HANDLER, site: SITE, data: { name: lead }, maxAttempts: 1 });
  await until(sc, async () => (await sc.store.get(id))?.state === 'failed', `${id} dead-lettered`);
}

describe('ops console API', () => {
  it('serves the page shell to anyone, and no data without a session', async () => {
    const page = await get('/console/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/console/console.js');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect((await get('/console/console.js')).status).toBe(200);

    for (const path of ['/console/api/sites', '/console/api/jobs', '/console/api/jobs?state=completed', '/console/api/shops', '/console/api/history', '/console/api/sla']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(await res.json(), path).toEqual({ error: 'sign in first' });
    }
    for (const path of ['/console/api/jobs/x/retry', '/console/api/jobs/x/retry-like', '/console/api/history/sync']) {
      const res = await post(path);
      expect(res.status, path).toBe(401);
      expect(await res.json(), path).toEqual({ error: 'sign in first' });
    }
    // A made-up cookie is no session.
    expect((await get('/console/api/sites', { Cookie: 'coc_console=forged' })).status).toBe(401);
    expect(await liveRefusal(sc.url!)).toBe(401);
    expect(await liveRefusal(sc.url!, { Cookie: 'coc_console=forged' })).toBe(401);
    // Before sign-in the page learns only which sites there are to sign in to.
    expect(await (await get('/console/api/session')).json()).toEqual({ sites: [SITE], signedIn: [], roles: ['System Manager', 'Order Companion Operator'] });
  });

  it('a System Manager signs in with their Frappe password and gets an HttpOnly, SameSite=Strict session', async () => {
    const login = await consoleLogin(sc.url!, 'manager@example.com', 'pw');
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ site: SITE, user: 'manager@example.com' });
    expect(login.setCookie).toMatch(/^coc_console=[A-Za-z0-9_-]{40,}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=\d+$/);

    const sites = await (await get('/console/api/sites', { Cookie: login.cookie! })).json();
    expect(sites.sites).toHaveLength(1);
    expect(sites.sites[0]).toMatchObject({ name: SITE, user: 'manager@example.com', timeZone: 'Europe/Berlin', rest: { ok: true }, realtime: { state: 'connected' } });
    expect(sites.sites[0].realtime.since).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(sites.sites[0].catchup.lastRunAt).not.toBeNull();
    expect(JSON.stringify(sites)).not.toContain(site.companion.secret);

    // Neither the password nor Frappe's sid reaches a log line; the sign-in is logged with the user.
    const text = JSON.stringify(logs);
    expect(text).not.toContain('"pw"');
    expect(text).not.toMatch(/sid=/);
    expect(logs.some((l) => String(l.msg).includes('manager@example.com signed in'))).toBe(true);
  });

  it('an Order Companion Operator signs in too', async () => {
    const login = await consoleLogin(sc.url!, 'operator@example.com', 'pw');
    expect(login.status).toBe(200);
    expect(login.body.user).toBe('operator@example.com');
  });

  it('a user with neither role is refused with 403, no session and no data', async () => {
    const login = await consoleLogin(sc.url!, 'rep2@example.com', 'pw');
    expect(login.status).toBe(403);
    expect(login.setCookie).toBeNull();
    expect(login.body).toEqual({ site: SITE, error: `rep2@example.com may not open the console of ${SITE}: it needs the System Manager or Order Companion Operator role` });
  });

  it("a wrong password gets Frappe's own message", async () => {
    const login = await consoleLogin(sc.url!, 'manager@example.com', 'wrong');
    expect(login.status).toBe(401);
    expect(login.setCookie).toBeNull();
    expect(login.body).toEqual({ site: SITE, error: 'Invalid login credentials' });
  });

  it("the Sites card tells whether the site's records are this release's, checked on start without holding up readiness", async () => {
    const version = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    await until(sc, () => sc.status()[0]!.records?.checkedAt != null, 'the records check');
    const [card] = (await (await get('/console/api/sites', { Authorization: `Bearer ${TOKEN}` })).json()).sites;
    expect(card.records).toMatchObject({ state: 'up_to_date', outOfDate: 0, productVersion: version, installedVersion: version, error: null });
    expect(card.records.total).toBeGreaterThan(10);
    expect(card.records.checkedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('COC_ADMIN_TOKEN is accepted as a bearer token, a wrong one is not', async () => {
    expect((await get('/console/api/sites', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get('/console/api/sites', { Authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('a job failed by an injected fault reaches a live client; Retry over the API completes it, logged with the user', async () => {
    const { cookie } = await consoleLogin(sc.url!, 'manager@example.com', 'pw');
    const live = await liveClient(sc.url!, { Cookie: cookie! });
    await live.next((m) => m.type === 'hello', 'hello');
    try {
      const id = 'console-api-retry-1';
      await deadLetter(id);
      const failed = await live.next((m) => m.type === 'job' && m.job.id === id && m.outcome === 'failed', 'the dead letter');
      expect(failed.job).toMatchObject({ handler: CONSOLE_HANDLER, site: SITE, state: 'failed', attempts: 1, maxAttempts: 1 });
      expect(failed.job.lastError).toMatch(/FrappeUnavailableError/);
      expect(failed.job).not.toHaveProperty('data');

      const jobs = await (await get(`/console/api/jobs?handler=${CONSOLE_HANDLER}`, { Cookie: cookie! })).json();
      expect(jobs.counts[CONSOLE_HANDLER].failed).toBeGreaterThanOrEqual(1);
      expect(jobs.jobs.map((j: { id: string }) => j.id)).toContain(id);
      expect(JSON.stringify(jobs)).not.toContain(site.companion.secret);

      await control(site.emu, '/faults', undefined, 'DELETE');
      const retry = await post(`/console/api/jobs/${id}/retry`, { Cookie: cookie! });
      expect(retry.status).toBe(200);
      expect(await retry.json()).toEqual({ retried: [id] });
      await live.next((m) => m.type === 'job' && m.job.id === id && m.outcome === 'completed', 'the retried job completed');
      expect((await sc.store.get(id))?.state).toBe('completed');
      expect(logs.some((l) => l.user === 'manager@example.com' && l.job === id && String(l.msg).includes('retried job'))).toBe(true);

      // A job that is not failed is not retried again.
      expect((await post(`/console/api/jobs/${id}/retry`, { Cookie: cookie! })).status).toBe(409);
    } finally {
      live.close();
      await control(site.emu, '/faults', undefined, 'DELETE');
    }
  });

  it('Retry all like this retries the failed jobs of the same handler and error', async () => {
    const { cookie } = await consoleLogin(sc.url!, 'operator@example.com', 'pw');
    await deadLetter('console-like-1');
    await deadLetter('console-like-2');
    await control(site.emu, '/faults', undefined, 'DELETE');
    const res = await post('/console/api/jobs/console-like-1/retry-like', { Cookie: cookie! });
    expect(res.status).toBe(200);
    expect(((await res.json()).retried as string[]).sort()).toEqual(['console-like-1', 'console-like-2']);
    await until(sc, async () => (await sc.store.get('console-like-1'))?.state === 'completed' && (await sc.store.get('console-like-2'))?.state === 'completed', 'both retried jobs');
    expect(logs.some((l) => l.user === 'operator@example.com' && String(l.msg).includes('retried 2'))).toBe(true);
  });

  it('Shop inbox and SLA answer with their shape (no shops configured here)', async () => {
    const { cookie } = await consoleLogin(sc.url!, 'operator@example.com', 'pw');
    expect(await (await get('/console/api/shops', { Cookie: cookie! })).json()).toEqual({ shops: [], partial: false });
    const sla = await (await get('/console/api/sla', { Cookie: cookie! })).json();
    // Before any sweep: the site's zone from its status, nothing counted, no last sweep.
    expect(sla).toMatchObject({ jobs: [], partial: false, sites: [{ site: SITE, timeZone: sc.status()[0]!.timeZone, last: null, today: { sweeps: 0, byDoctype: {}, byOwner: {} }, week: { sweeps: 0 } }] });
    expect(sla.sites[0].failuresPerDay).toHaveLength(14);
    expect(sla.sites[0].failuresPerDay.every((d: { failed: number }) => d.failed === 0)).toBe(true);
  });

  it('Run history sync starts one run; clicking again resumes that run; each click is logged with the user', async () => {
    const { cookie } = await consoleLogin(sc.url!, 'manager@example.com', 'pw');
    const sync = (body: unknown) => fetch(`${sc.url}/console/api/history/sync`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie! }, body: JSON.stringify(body) });
    const before = await (await get('/console/api/history', { Cookie: cookie! })).json();
    expect(before.runs).toEqual([{ site: SITE, url: site.emu.url, run: null, job: null, progress: null }]);
    expect((await sync({ site: 'elsewhere.localhost', dryRun: true })).status).toBe(404);

    // The site refuses the count a run starts with: the run's job dead-letters, unfinished.
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'frappe.client.get_count', mode: 'error', status: 403 }] });
    try {
      const first = await sync({ dryRun: true });
      expect(first.status).toBe(202);
      const started = await first.json();
      expect(started).toMatchObject({ site: SITE, resumed: false, progress: null });
      // At once, whether the run has started yet or not: the same run.
      expect(await (await sync({ dryRun: true })).json()).toMatchObject({ run: started.run, job: started.job, resumed: true });
      await until(sc, async () => (await sc.store.get(started.job))?.state === 'failed', 'the run failed');

      const again = await sync({ dryRun: true });
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ site: SITE, run: started.run, job: started.job, resumed: true });
      await until(sc, async () => (await sc.store.get(started.job))?.state === 'failed', 'the resumed run failed again');

      await control(site.emu, '/faults', undefined, 'DELETE');
      expect(await (await sync({ dryRun: true })).json()).toMatchObject({ run: started.run, resumed: true });
      await until(sc, async () => (await sc.store.get(started.job))?.state === 'completed', 'the run done');

      const history = await (await get('/console/api/history', { Cookie: cookie! })).json();
      expect(history.runs).toHaveLength(1);
      expect(history.runs[0]).toMatchObject({ site: SITE, run: started.run, job: { id: started.job, state: 'completed', lastError: null }, progress: { state: 'done', options: { dryRun: true }, ambiguous: [] } });
      expect(history.runs[0].progress.total).toBe(history.runs[0].progress.done);
      const job = history.jobs.find((j: { id: string }) => j.id === started.job);
      expect(job).toMatchObject({ handler: 'order_history.bulk', state: 'completed' });
      expect(job.durationMs).toBe(job.finishedAtMs - job.createdAtMs);
      expect(job).not.toHaveProperty('data');

      const said = logs.filter((l) => l.run === started.run && l.user === 'manager@example.com').map((l) => String(l.msg));
      expect(said).toEqual([`console: manager@example.com started bulk history sync ${started.run}`, ...Array(3).fill(`console: manager@example.com resumed bulk history sync ${started.run}`)]);

      // Done: the next click starts a new run.
      const next = await sync({ dryRun: true });
      expect(next.status).toBe(202);
      const fresh = await next.json();
      expect(fresh.run).not.toBe(started.run);
      await until(sc, async () => (await sc.store.get(fresh.job))?.state === 'completed', 'the second run done');
    } finally {
      await control(site.emu, '/faults', undefined, 'DELETE');
    }
  });

  it('signing out ends the session', async () => {
    const { cookie } = await consoleLogin(sc.url!, 'manager@example.com', 'pw');
    const out = await post('/console/api/logout', { Cookie: cookie! });
    expect(out.headers.get('set-cookie')).toMatch(/^coc_console=; .*Max-Age=0/);
    expect((await get('/console/api/sites', { Cookie: cookie! })).status).toBe(401);
  });
});
