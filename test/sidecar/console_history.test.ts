/**
 * The Order history view's data against an emulated site with the product installed, the demo data
 * set and 300 more leads (test/fixtures/bulk_history_seed.ts): Order Sync Requests a desk user
 * created with *Fetch Order History* and the sidecar finished, read from the site in one listing
 * and not again within the cache window; a multi-page bulk run pushing its progress on the live
 * link while it runs; and the run's summary naming the leads without a customer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderHistoryHandlers } from '../../sidecar/handlers/order_history/index.js';
import { BULK_PAGE } from '../../sidecar/handlers/order_history/bulk.js';
import { jobId } from '../../sidecar/realtime/dispatch.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { ORDER_HISTORY_MANIFEST, installedSite, subscribedTo, until, wallMs, type InstalledSite } from '../helpers/sidecar.js';
import { liveClient, startConsoleSidecar } from '../helpers/console.js';
import { seedBulkLeads, type BulkSeed } from '../fixtures/bulk_history_seed.js';

const TOKEN = 'console-history-test-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let site: InstalledSite;
let sc: Sidecar;
let seed: BulkSeed;

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  seed = seedBulkLeads(site.emu.site(SITE), 300);
  ({ sc } = await startConsoleSidecar(site, { adminToken: TOKEN, manifest: ORDER_HISTORY_MANIFEST, handlers: createOrderHistoryHandlers() }));
  await subscribedTo(site.emu, 'Order Sync Request');
}, 60_000);

afterAll(async () => {
  await sc?.stop();
  await site?.emu.close();
});

const history = async () => (await fetch(`${sc.url}/console/api/history`, { headers: AUTH })).json();

/** What a desk user's Fetch Order History does: insert a request; the sidecar hears it and finishes it. */
async function fetchOrderHistory(lead: string): Promise<any> {
  const res = await site.rep.insert('Order Sync Request', { reference_doctype: 'CRM Lead', reference_name: lead });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  let done: any;
  await until(
    sc,
    async () => {
      done = (await site.root.get('Order Sync Request', res.body.data.name)).body.data;
      return done.status === 'Done' || done.status === 'Failed';
    },
    `Order Sync Request ${res.body.data.name} to finish`,
  );
  // The sidecar's own last write is heard too, as one more (no-op) request job: it has run, so no
  // job event is still to come that would end the requests' cache during the test.
  const echo = jobId('order_history.request', { site: SITE, doctype: 'Order Sync Request', name: done.name, modified: done.modified });
  const pending = async () => (await Promise.all((['waiting', 'active'] as const).map((st) => sc.store.list(st, 1000)))).flat().some((j) => j.name === 'order_history.request');
  await until(sc, async () => (await sc.store.get(echo))?.state === 'completed' && !(await pending()), `the request jobs of ${done.name} to end`);
  return done;
}

async function listingsOfRequests(): Promise<number> {
  const counts: Record<string, number> = await control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
  return counts['GET /api/resource/Order Sync Request'] ?? 0;
}

describe('Order history: the site\'s Order Sync Requests', () => {
  it('lists the requests desk users made, newest first, with outcome, message and duration; a reload within the cache window asks the site nothing', async () => {
    const done = await fetchOrderHistory(seed.linked[0]!);
    const failed = await fetchOrderHistory(seed.ambiguous[0]!);
    expect([done.status, failed.status]).toEqual(['Done', 'Failed']);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');

    const answer = await history();
    expect(await listingsOfRequests()).toBe(1);
    expect(answer.requests).toHaveLength(1);
    const on = answer.requests[0];
    expect(on).toMatchObject({ site: SITE, url: site.emu.url, error: null });
    expect(on.requests.map((r: { name: string }) => r.name)).toEqual([failed.name, done.name]);
    expect(on.requests[1]).toEqual({
      name: done.name,
      status: 'Done',
      referenceDoctype: 'CRM Lead',
      referenceName: seed.linked[0],
      creation: done.creation,
      modified: done.modified,
      durationMs: wallMs(done.modified) - wallMs(done.creation),
      message: done.message,
      ordersSynced: done.orders_synced,
    });
    expect(on.requests[1].ordersSynced).toBeGreaterThan(0);
    expect(on.requests[0]).toMatchObject({ status: 'Failed', message: failed.message, durationMs: wallMs(failed.modified) - wallMs(failed.creation) });
    expect(on.requests[0].message).toMatch(/ambiguous/i);

    // The page reads the view after every order_history.* job event: within 10 s the site is not asked again.
    const again = await history();
    expect(again.requests).toEqual(answer.requests);
    expect(await listingsOfRequests()).toBe(1);
  });

  it('a request finished since is listed on the next load (its job ends the wait)', async () => {
    const next = await fetchOrderHistory(seed.deal[0]!);
    const answer = await history();
    expect(answer.requests[0].requests[0]).toMatchObject({ name: next.name, status: 'Done' });
  });
});

describe('Order history: a bulk run', () => {
  it('pushes its progress on the live link page by page while it runs, and names the leads without a customer', async () => {
    const live = await liveClient(sc.url!, AUTH);
    try {
      const res = await fetch(`${sc.url}/console/api/history/sync`, { method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' }, body: JSON.stringify({ doctype: 'CRM Lead', dryRun: true }) });
      expect(res.status).toBe(202);
      const { run } = await res.json();
      const ofRun = (m: any) => m.type === 'history_progress' && m.site === SITE && m.progress.run === run;
      // After the first page: running, one page done of two.
      const first = await live.next((m) => ofRun(m) && m.progress.state === 'running' && m.progress.done > 0, 'the first page of the run');
      expect(first.progress.total).toBeGreaterThan(BULK_PAGE);
      expect(first.progress.done).toBe(BULK_PAGE);
      expect(first.progress.withoutCustomer.length).toBe(first.progress.noCustomer);
      const last = await live.next((m) => ofRun(m) && m.progress.state === 'done', 'the end of the run');
      expect(last.progress.done).toBe(last.progress.total);
      // Pushed before the job's own outcome: the page follows the run, not only its end.
      const jobDone = await live.next((m) => m.type === 'job' && m.job.handler === 'order_history.bulk' && m.outcome === 'completed', 'the bulk job completed');
      expect(live.messages.indexOf(first)).toBeLessThan(live.messages.indexOf(jobDone));

      const answer = await history();
      const progress = answer.runs[0].progress;
      expect(answer.runs[0]).toMatchObject({ site: SITE, url: site.emu.url, run });
      // Every lead without a customer by name (fewer than the 200 kept), in name order; the ambiguous ones apart.
      expect(progress.withoutCustomer).toHaveLength(progress.noCustomer);
      expect(progress.withoutCustomer.every((w: { doctype: string }) => w.doctype === 'CRM Lead')).toBe(true);
      const names = progress.withoutCustomer.map((w: { name: string }) => w.name);
      expect(names).toEqual(expect.arrayContaining(seed.none));
      expect(names).toEqual([...names].sort());
      expect(names.filter((n: string) => seed.ambiguous.includes(n))).toEqual([]);
      expect(progress.ambiguous.map((a: { name: string }) => a.name).sort()).toEqual([...seed.ambiguous].sort());
    } finally {
      live.close();
    }
  });
});
