/**
 * Bulk order-history sync (`order_history.bulk`) against the emulator with the demo data set, the
 * product installed and 300 more leads of every matching kind (test/fixtures/bulk_history_seed.ts):
 * the summary, tables equal to what a single Fetch writes, reads that grow per page and not per
 * lead, one write per changed table, dry runs, --only-empty, and the admin API's start / resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveDoc } from '../../emulator/core/document.js';
import { asAdmin } from '../../emulator/sites.js';
import { BULK_HANDLER, BULK_PAGE, bulkJobId, progressKey, type BulkOptions, type BulkProgress } from '../../sidecar/handlers/order_history/bulk.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { configFor, installedSite, runJob, startWith, until, type InstalledSite } from '../helpers/sidecar.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { seedBulkLeads, type BulkSeed } from '../fixtures/bulk_history_seed.js';

let site: InstalledSite;
let sc: Sidecar;
let seed: BulkSeed;
/** The demo's own four leads: one by deal, one by contact, one by name, one without a customer. */
const DEMO_MATCHED = 3;
const DEMO_NONE = 1;

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  seed = seedBulkLeads(site.emu.site(SITE), 300);
  // Nothing wired to realtime (so no catch-up listings) and no hedged second copies of slow reads:
  // the requests the emulator counts are then the bulk run's own. Jobs run all the same.
  sc = await startWith({ config: configFor(site), manifest: parseManifest({ app: 'crm_order_companion' }), rest: { hedgeReadsAfterMs: false } });
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
});

let runs = 0;
async function bulk(options: BulkOptions): Promise<BulkProgress> {
  runs += 1;
  const run = `test-${runs}`;
  await runJob(sc, { id: bulkJobId(SITE, run), name: BULK_HANDLER, site: SITE, data: { run, options } });
  return JSON.parse((await sc.store.getMeta(progressKey(SITE, run)))!) as BulkProgress;
}

async function requests(): Promise<Record<string, number>> {
  return control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
}

/** Reads and lead writes since the counts were cleared. */
async function calls(): Promise<{ reads: number; writes: Record<string, number> }> {
  let reads = 0;
  const writes: Record<string, number> = {};
  for (const [key, n] of Object.entries(await requests())) {
    // Listings, counts and meta; not the health check's get_logged_user, which runs on its own timer.
    if (/^GET \/api\/resource\/|^(GET|POST) \/api\/method\/frappe\.client\.get_(list|count)$|frappe\.desk\.form\.load\.getdoctype$/.test(key)) reads += n;
    const put = /^PUT \/api\/resource\/CRM Lead\/(.+)$/.exec(key);
    if (put) writes[put[1]!] = n;
  }
  return { reads, writes };
}

const table = (name: string): Record<string, unknown>[] => (site.emu.site(SITE).db.get('CRM Lead', name)?.custom_order_history as Record<string, unknown>[] | undefined) ?? [];

function clearTables(names: string[]): void {
  const s = site.emu.site(SITE);
  asAdmin(s, (ctx) => {
    for (const name of names) saveDoc(ctx, { ...s.db.get('CRM Lead', name)!, custom_order_history: [] }, null, { ignorePermissions: true });
  });
}

const matched = () => [...seed.linked, ...seed.deal, ...seed.contact, ...seed.byName];

describe('a bulk run over every CRM Lead', () => {
  let first: BulkProgress;
  let firstCalls: Awaited<ReturnType<typeof calls>>;

  beforeAll(async () => {
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    first = await bulk({ doctype: 'CRM Lead' });
    firstCalls = await calls();
  });

  it('ends with the summary: synced, no customer, the two ambiguous leads named with their customers', () => {
    const total = seed.all.length + DEMO_MATCHED + DEMO_NONE;
    expect(first).toMatchObject({ state: 'done', total, done: total, noCustomer: seed.none.length + DEMO_NONE, ambiguousCount: 2, failedCount: 0, skipped: 0 });
    expect(first.synced + first.unchanged).toBe(matched().length + DEMO_MATCHED);
    expect(first.synced).toBeGreaterThanOrEqual(matched().length);
    expect(first.ambiguous.map((a) => a.name).sort()).toEqual([...seed.ambiguous].sort());
    for (const a of first.ambiguous) expect(a.customers).toHaveLength(2);
  });

  it('fills each matched lead with its customer\'s lines, and leaves the others empty', () => {
    for (const name of matched()) expect(table(name).length, name).toBeGreaterThan(0);
    for (const name of [...seed.none, ...seed.ambiguous]) expect(table(name), name).toEqual([]);
    const lead = site.emu.site(SITE).db.get('CRM Lead', seed.linked[0]!)!;
    expect(table(seed.linked[0]!)).toHaveLength(seed.lines.get(String(lead.custom_customer))!);
  });

  it('reads per page, not per lead, and writes each changed table once', () => {
    const pages = Math.ceil(first.total / BULK_PAGE);
    // Per page: the leads, their tables, deals, contacts, customers by name, orders, Work Orders;
    // once: the count and the meta of CRM Deal.
    expect(firstCalls.reads).toBeLessThanOrEqual(7 * pages + 2);
    expect(Object.values(firstCalls.writes).every((n) => n === 1)).toBe(true);
    expect(Object.keys(firstCalls.writes)).toHaveLength(first.synced);
  });

  it('writes what one Fetch would: a rebuild of a lead of each kind afterwards changes nothing', async () => {
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    for (const name of [seed.linked[0]!, seed.deal[0]!, seed.contact[0]!, seed.byName[0]!]) {
      await runJob(sc, { id: `order_history.rebuild|${SITE}|CRM Lead|${name}|check`, name: 'order_history.rebuild', site: SITE, data: { doctype: 'CRM Lead', name } });
    }
    expect((await calls()).writes).toEqual({});
  });

  it('a second run writes nothing', async () => {
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    const again = await bulk({ doctype: 'CRM Lead' });
    expect(again).toMatchObject({ state: 'done', synced: 0, unchanged: matched().length + DEMO_MATCHED });
    expect((await calls()).writes).toEqual({});
  });
});

describe('options', () => {
  it('a dry run counts what it would write and writes nothing', async () => {
    const cleared = seed.linked.slice(0, 5);
    clearTables(cleared);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    const dry = await bulk({ doctype: 'CRM Lead', dryRun: true });
    expect(dry).toMatchObject({ state: 'done', synced: cleared.length });
    expect((await calls()).writes).toEqual({});
    for (const name of cleared) expect(table(name)).toEqual([]);
  });

  it('--only-empty rebuilds the empty tables and skips the others', async () => {
    const cleared = seed.linked.slice(0, 5);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    const run = await bulk({ doctype: 'CRM Lead', onlyEmpty: true });
    expect(run.synced).toBe(cleared.length);
    expect(run.skipped).toBe(matched().length + DEMO_MATCHED - cleared.length);
    expect(Object.keys((await calls()).writes).sort()).toEqual([...cleared].sort());
  });

  it('--since keeps to leads created from that day on', async () => {
    const future = await bulk({ doctype: 'CRM Lead', since: '2099-01-01' });
    expect(future).toMatchObject({ state: 'done', total: 0, done: 0 });
  });

  it('HD Tickets: the demo tickets through their HD Customers', async () => {
    const run = await bulk({ doctype: 'HD Ticket' });
    expect(run).toMatchObject({ state: 'done', failedCount: 0 });
    expect(run.synced + run.unchanged).toBe(run.total);
  });
});

describe('a run the site refuses', () => {
  it('ends failed with the reason, and sent back to the queue goes on from its checkpoint to done', async () => {
    const run = 'test-refused';
    const id = bulkJobId(SITE, run);
    const progress = async () => JSON.parse((await sc.store.getMeta(progressKey(SITE, run)))!) as BulkProgress;
    // The first long listing (the first page's tables, sent as a POST) refused once, permanently (417).
    await control(site.emu, '/faults', { rules: [{ match: 'POST /api/method/frappe.client.get_list', mode: 'error', status: 417, count: 1 }] });
    try {
      await sc.store.enqueue({ id, name: BULK_HANDLER, site: SITE, data: { run, options: { doctype: 'CRM Lead' } }, maxAttempts: 3 });
      await until(sc, async () => (await sc.store.get(id))?.state === 'failed', 'the run to fail');
    } finally {
      await control(site.emu, '/faults', undefined, 'DELETE');
    }
    const failed = await progress();
    expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining('417') });
    expect(await sc.store.retry(id)).toBe(true);
    await until(sc, async () => (await sc.store.get(id))?.state === 'completed', 'the retried run to complete');
    const done = await progress();
    expect(done).toMatchObject({ state: 'done', done: done.total, failedCount: 0 });
    expect(done.error).toBeUndefined();
  });
});
