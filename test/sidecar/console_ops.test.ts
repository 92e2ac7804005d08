/**
 * The console's Shop inbox, Order history and SLA answers, from a job store whose jobs ran with
 * stand-in handlers (a delivery that needs a mapping, one that fails otherwise, one that completes,
 * a reconciliation run, an order-history request, an SLA sweep) on two sites, and SLA counts the
 * sweeps recorded today and eight days ago, and reconciliation runs recorded for both shops: the data's shape,
 * only the signed-in site's shops and jobs, and Retry of a needs-mapping entry once it is fixed;
 * each site's Order Sync Requests from a stand-in REST client (outcome, duration, one listing per
 * cache window, a site that cannot be read). test/sidecar/console_history.test.ts reads real ones.
 * The Run history sync button is covered against the emulator in test/sidecar/console_api.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsole } from '../../sidecar/console/index.js';
import type { SignInRequest, SignInResult } from '../../sidecar/console/frappe_signin.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import type { JobRecord, JobStore } from '../../sidecar/jobs/types.js';
import { NeedsMappingError } from '../../sidecar/shops/erpnext/errors.js';
import { watermarkKey } from '../../sidecar/shops/jobs.js';
import { recordRun, type ReconcileRun } from '../../sidecar/shops/reconcile_runs.js';
import { captureLogs } from '../helpers/sidecar.js';
import { consoleLogin } from '../helpers/console.js';
import { etsyShop, shopifyShop } from '../helpers/shops.js';
import { readySiteStatus as statusOf } from '../helpers/console.js';
import { SweepTally, recordSweep } from '../../sidecar/handlers/sla_stats.js';
import { handlerMeta } from '../../sidecar/jobs/handler.js';
import type { FrappeClient } from '../../lib/frappe/client.js';

const SITES = [
  { name: 'a.localhost', url: 'http://127.0.0.1:9' },
  { name: 'b.localhost', url: 'http://127.0.0.1:9' },
];
const SHOPS = [shopifyShop('http://127.0.0.1:9', { id: 'shop-a', site: 'a.localhost' }), etsyShop('http://127.0.0.1:9', { id: 'shop-b', site: 'b.localhost' })];

async function fakeSignIn(req: SignInRequest): Promise<SignInResult> {
  if (req.site !== 'a.localhost' || req.usr !== 'ann@example.com' || req.pwd !== 'pw') return { ok: false, status: 401, message: 'Invalid login credentials' };
  return { ok: true, user: req.usr, roles: ['Order Companion Operator'] };
}


const TOKEN = 'console-ops-test-token-0123456789';
/** Order Sync Request listings each site's stand-in client was asked for. */
const listings: { site: string; doctype: string; args: Record<string, unknown> }[] = [];
/** As a site lists them: newest first, in the site's wall clock. */
const REQUEST_ROWS = [
  { name: 'req-queued', status: 'Queued', reference_doctype: 'HD Ticket', reference_name: 7, requested_by: 'agent@example.com', creation: '2026-12-03 10:00:09.000000', modified: '2026-12-03 10:00:09.000000', message: null, orders_synced: 0 },
  { name: 'req-failed', status: 'Failed', reference_doctype: 'CRM Lead', reference_name: 'CRM-LEAD-2', requested_by: 'rep@example.com', creation: '2026-12-03 10:00:05.000000', modified: '2026-12-03 10:00:05.250000', message: 'The customer is ambiguous: Twin Bakery, Twin Bakery-1', orders_synced: 0 },
  { name: 'req-done', status: 'Done', reference_doctype: 'CRM Lead', reference_name: 'CRM-LEAD-1', requested_by: 'rep@example.com', creation: '2026-12-03 09:59:58.100000', modified: '2026-12-03 10:00:00.600000', message: 'Synced 2 orders', orders_synced: 2 },
];
function standInClient(site: string): FrappeClient {
  return {
    site,
    async getList(doctype: string, args: Record<string, unknown>) {
      listings.push({ site, doctype, args });
      if (site === 'b.localhost') throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      return REQUEST_ROWS;
    },
  } as unknown as FrappeClient;
}

let server: Server;
let url: string;
let store: JobStore;
const events = new EventEmitter();
/** Until the test "fixes the mapping", deliveries marked so fail with NeedsMappingError. */
let mapped = false;
const finished: JobRecord[] = [];
const onFinished = new EventEmitter();

async function finishedAll(ids: string[]): Promise<void> {
  const done = () => ids.every((id) => finished.some((j) => j.id === id));
  while (!done()) await new Promise((r) => onFinished.once('job', r));
}

beforeAll(async () => {
  store = await createJobStore({ kind: 'embedded', dir: mkdtempSync(join(tmpdir(), 'coc-console-ops-')) });
  const spec = (id: string, name: string, site: string, data: Record<string, unknown>) => ({ id, name, site, data, maxAttempts: 1 });
  await store.enqueueMany([
    spec('d-unmapped', 'shops.delivery', 'a.localhost', { shop: 'shop-a', kind: 'unmapped' }),
    spec('d-broken', 'shops.delivery', 'a.localhost', { shop: 'shop-a', kind: 'broken' }),
    spec('d-ok', 'shops.delivery', 'a.localhost', { shop: 'shop-a' }),
    spec('r-1', 'shops.reconcile', 'a.localhost', { shop: 'shop-a' }),
    spec('d-other', 'shops.delivery', 'b.localhost', { shop: 'shop-b', kind: 'unmapped' }),
    spec('h-1', 'order_history.request', 'a.localhost', { name: 'CRM-LEAD-1' }),
    spec('h-other', 'order_history.request', 'b.localhost', { name: 'CRM-LEAD-2' }),
    spec('s-1', 'sla.sweep', 'a.localhost', {}),
  ]);
  await store.setMeta(watermarkKey('shop-a'), '2026-11-30T10:00:00.000Z');
  // Two recorded runs of shop-a (r-1 is the newer; r-0 is a job the store no longer has), one of shop-b's.
  await recordedRun('shop-a', run('r-0', { startedAt: '2026-11-30T09:45:00.000Z', outcome: 'failed', error: 'RetriableError: shop shop-a: /admin/api/2026-01/graphql.json answered 503' }));
  await recordedRun('shop-a', run('r-1', { startedAt: '2026-11-30T10:00:00.000Z', listed: 5, upToDate: 2, enqueued: 2, skipped: 1, skippedWhy: { 'not paid yet': 1 }, watermarkAfter: '2026-11-30T10:00:00.000Z' }));
  await recordedRun('shop-b', run('r-b', {}));
  await recordedSweep('a.localhost', 'old-sweep', 8, { ann: 4, bob: 0 });
  await recordedSweep('a.localhost', 's-1', 0, { ann: 2, bob: 1 });
  await recordedSweep('b.localhost', 'b-sweep', 0, { ann: 9, bob: 9 });
  const ok = async () => undefined;
  await store.start(
    {
      'shops.delivery': async (job) => {
        if (job.data.kind === 'unmapped' && !mapped) throw new NeedsMappingError('item code for SKU "FUDGE-9" is unknown (add it to skuMap)');
        if (job.data.kind === 'broken') throw new Error('boom');
      },
      'shops.reconcile': ok,
      'order_history.request': ok,
      'sla.sweep': ok,
    },
    {},
    {
      onJobFinished: (job, outcome) => {
        if (outcome === 'retried') return;
        finished.push(job);
        onFinished.emit('job');
      },
    },
  );
  await finishedAll(['d-unmapped', 'd-broken', 'd-ok', 'r-1', 'd-other', 'h-1', 'h-other', 's-1']);

  const c = createConsole({ sites: SITES, store, status: () => SITES.map((s) => statusOf(s.name)), events, logger: captureLogs().logger, signIn: fakeSignIn, assetsDir: null, shops: SHOPS, adminToken: TOKEN, clientFor: standInClient });
  const app = express();
  app.use('/console', c.router);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.stop(1000);
  await store?.close();
});

const DAY_MS = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A recorded sweep on `site`, `daysAgo` days before now (UTC, the sites' zone here), that failed CRM Leads of two owners. */
async function recordedSweep(site: string, job: string, daysAgo: number, failed: { ann: number; bob: number }): Promise<void> {
  const at = Date.now() - daysAgo * DAY_MS;
  const tally = new SweepTally();
  tally.add('swept', 'CRM Lead', ['ann@example.com'], failed.ann + 1);
  tally.add('failed', 'CRM Lead', ['ann@example.com'], failed.ann);
  tally.add('notified', 'CRM Lead', ['ann@example.com'], failed.ann);
  tally.add('swept', 'HD Ticket', ['bob@example.com'], failed.bob);
  tally.add('failed', 'HD Ticket', ['bob@example.com'], failed.bob);
  const cutoff = new Date(at).toISOString().replace('T', ' ').slice(0, 19);
  await store.withLock(`${site}|sla.stats`, 5000, () => recordSweep(handlerMeta(store), site, { job, startedAtMs: at, finishedAtMs: at + 2500, siteAtMs: at, cutoff, timeZone: 'UTC', tally, errors: 0 }));
}

function run(job: string, over: Partial<ReconcileRun>): ReconcileRun {
  const startedAt = over.startedAt ?? '2026-11-30T10:00:00.000Z';
  return {
    job,
    attempt: 1,
    trigger: 'scheduled',
    outcome: 'completed',
    startedAt,
    finishedAt: new Date(Date.parse(startedAt) + 1200).toISOString(),
    durationMs: 1200,
    watermarkBefore: '2026-11-30T09:30:00.000Z',
    since: '2026-11-30T09:20:00.000Z',
    watermarkAfter: '2026-11-30T09:30:00.000Z',
    pages: 1,
    listed: 0,
    upToDate: 0,
    enqueued: 0,
    unreadable: 0,
    skipped: 0,
    skippedWhy: {},
    error: null,
    ...over,
  };
}

async function recordedRun(shop: string, r: ReconcileRun): Promise<void> {
  await recordRun({ meta: handlerMeta(store), lock: (key, fn) => store.withLock(key, 5000, fn) }, shop, r);
}

const getJson = async (path: string, cookie: string) => (await fetch(`${url}${path}`, { headers: { Cookie: cookie } })).json();

describe('ops console: Shop inbox, Order history, SLA', () => {
  it('refuses all three without a session', async () => {
    for (const path of ['/console/api/shops', '/console/api/history', '/console/api/sla']) expect((await fetch(`${url}${path}`)).status, path).toBe(401);
  });

  it("the Shop inbox: the signed-in site's shops, deliveries by result, needs-mapping with its reason, the watermark, the recorded reconciliation runs; Retry once mapped", async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    const answer = await getJson('/console/api/shops', cookie!);
    expect(answer.partial).toBe(false);
    expect(answer.shops).toHaveLength(1);
    const shop = answer.shops[0];
    expect(shop).toMatchObject({
      id: 'shop-a',
      platform: 'shopify',
      shop: 'demo-shop.myshopify.com',
      site: 'a.localhost',
      reconcile: true,
      watermark: '2026-11-30T10:00:00.000Z',
      results: { waiting: 0, active: 0, completed: 1, failed: 2 },
      reconciliation: { completed: 1, failed: 0, last: { id: 'r-1', state: 'completed' } },
    });
    // Its recorded runs, newest first, each with its job's state now (null: r-0's job is gone); not shop-b's.
    expect(shop.runs.map((r: { job: string }) => r.job)).toEqual(['r-1', 'r-0']);
    expect(shop.runs[0]).toEqual({ ...run('r-1', { startedAt: '2026-11-30T10:00:00.000Z', listed: 5, upToDate: 2, enqueued: 2, skipped: 1, skippedWhy: { 'not paid yet': 1 }, watermarkAfter: '2026-11-30T10:00:00.000Z' }), jobState: 'completed' });
    expect(shop.runs[1]).toMatchObject({ job: 'r-0', outcome: 'failed', jobState: null, error: expect.stringContaining('answered 503') });
    expect(shop.needsMapping).toHaveLength(1);
    expect(shop.needsMapping[0]).toMatchObject({ id: 'd-unmapped', handler: 'shops.delivery', state: 'failed' });
    expect(shop.needsMapping[0].lastError).toContain('SKU "FUDGE-9" is unknown');
    expect(shop.needsMapping[0]).not.toHaveProperty('data');

    // The mapping is fixed; Retry (the Jobs view's API) completes the delivery, and it leaves the list.
    mapped = true;
    const retry = await fetch(`${url}/console/api/jobs/d-unmapped/retry`, { method: 'POST', headers: { Cookie: cookie!, 'Content-Type': 'application/json' }, body: '{}' });
    expect(await retry.json()).toEqual({ retried: ['d-unmapped'] });
    finished.splice(0);
    await finishedAll(['d-unmapped']);
    const after = (await getJson('/console/api/shops', cookie!)).shops[0];
    expect(after.needsMapping).toEqual([]);
    expect(after.results).toEqual({ waiting: 0, active: 0, completed: 2, failed: 1 });
  });

  it('Order history lists the recent order_history.* jobs with duration, and the last bulk run per visible site', async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    const answer = await getJson('/console/api/history', cookie!);
    expect(answer.jobs.map((j: { id: string }) => j.id)).toEqual(['h-1']);
    const job = answer.jobs[0];
    expect(job).toMatchObject({ handler: 'order_history.request', site: 'a.localhost', state: 'completed' });
    expect(job.durationMs).toBe(job.finishedAtMs - job.createdAtMs);
    expect(answer.runs).toEqual([{ site: 'a.localhost', url: 'http://127.0.0.1:9', run: null, job: null, progress: null }]);
  });

  it("Order history shows each site's recent Order Sync Requests with outcome and duration, asking the site once per cache window", async () => {
    // What the test before read of a.localhost is forgotten as a finished request job makes it (see below).
    for (const id of ['h-1', 'h-other']) events.emit('job', (await store.get(id))!, 'completed');
    listings.splice(0);
    const load = async () => (await fetch(`${url}/console/api/history`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
    const answer = await load();
    // One listing per site, newest first, with what the view shows.
    expect(listings.map((l) => l.site).sort()).toEqual(['a.localhost', 'b.localhost']);
    expect(listings[0]).toMatchObject({ doctype: 'Order Sync Request', args: { orderBy: 'creation desc', limitPageLength: 50 } });
    expect(listings[0]!.args.fields).toEqual(expect.arrayContaining(['name', 'status', 'reference_doctype', 'reference_name', 'creation', 'modified', 'message']));
    // Who asked is not read: the console shows no job data (names, e-mails).
    expect(listings[0]!.args.fields).not.toContain('requested_by');
    const a = answer.requests.find((r: { site: string }) => r.site === 'a.localhost');
    expect(a).toMatchObject({ url: 'http://127.0.0.1:9', error: null });
    expect(a.requests).toEqual([
      { name: 'req-queued', status: 'Queued', referenceDoctype: 'HD Ticket', referenceName: '7', creation: '2026-12-03 10:00:09.000000', modified: '2026-12-03 10:00:09.000000', durationMs: null, message: null, ordersSynced: 0 },
      expect.objectContaining({ name: 'req-failed', status: 'Failed', durationMs: 250, message: 'The customer is ambiguous: Twin Bakery, Twin Bakery-1' }),
      expect.objectContaining({ name: 'req-done', status: 'Done', durationMs: 2500, message: 'Synced 2 orders', ordersSynced: 2 }),
    ]);
    // A site that cannot be read says why; the rest of the answer stands.
    const b = answer.requests.find((r: { site: string }) => r.site === 'b.localhost');
    expect(b).toMatchObject({ requests: [], error: expect.stringContaining('ECONNREFUSED') });
    expect(answer.jobs.map((j: { id: string }) => j.id).sort()).toEqual(['h-1', 'h-other']);
    expect(answer.runs).toHaveLength(2);

    // Reloads within the window (the page reads the view after every order_history.* job event) ask no site again.
    await load();
    await load();
    expect(listings).toHaveLength(2);
    // A request job finishing on a site has changed a request there: that site is asked again, the other is not.
    events.emit('job', (await store.get('h-1'))!, 'completed');
    await load();
    expect(listings.map((l) => l.site)).toHaveLength(3);
    expect(listings[2]!.site).toBe('a.localhost');
  });

  it('SLA lists the last sla.sweep jobs with their duration, and per visible site the last sweep, today, this week and failures per day', async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    const answer = await getJson('/console/api/sla', cookie!);
    expect(answer.jobs).toHaveLength(1);
    expect(answer.jobs[0]).toMatchObject({ id: 's-1', handler: 'sla.sweep', state: 'completed' });
    expect(answer.jobs[0].durationMs).toBe(answer.jobs[0].finishedAtMs - answer.jobs[0].createdAtMs);

    // b.localhost's counts are not shown to someone signed in to a.localhost only.
    expect(answer.sites.map((s: { site: string }) => s.site)).toEqual(['a.localhost']);
    const site = answer.sites[0];
    const today = utcDay(Date.now());
    expect(site.timeZone).toBe('UTC');
    expect(site.last).toMatchObject({ job: 's-1', day: today, durationMs: 2500, timeZone: 'UTC', totals: { swept: 4, failed: 3, notified: 2 }, errors: 0 });
    expect(site.today).toEqual({
      from: today,
      to: today,
      sweeps: 1,
      totals: { swept: 4, failed: 3, notified: 2 },
      byDoctype: { 'CRM Lead': { swept: 3, failed: 2, notified: 2 }, 'HD Ticket': { swept: 1, failed: 1, notified: 0 } },
      byOwner: { 'ann@example.com': { swept: 3, failed: 2, notified: 2 }, 'bob@example.com': { swept: 1, failed: 1, notified: 0 } },
    });
    // Eight days ago is never this week, but is on the chart.
    expect(site.week).toMatchObject({ to: today, sweeps: 1, totals: { failed: 3 } });
    expect(site.failuresPerDay).toHaveLength(14);
    expect(site.failuresPerDay.at(-1)).toEqual({ day: today, failed: 3 });
    expect(site.failuresPerDay.at(-9)).toEqual({ day: utcDay(Date.now() - 8 * DAY_MS), failed: 4 });
    expect(site.failuresPerDay.reduce((a: number, d: { failed: number }) => a + d.failed, 0)).toBe(7);
  });

  it('the Run history sync button is refused without a job runner, and for a site not signed in to', async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    const post = (body: unknown) => fetch(`${url}/console/api/history/sync`, { method: 'POST', headers: { Cookie: cookie!, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ site: 'b.localhost' })).status).toBe(404);
    expect((await post({ site: 'a.localhost' })).status).toBe(503);
  });
});
