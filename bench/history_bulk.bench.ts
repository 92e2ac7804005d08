/**
 * Bulk order-history sync of 1,000 CRM Leads (test/fixtures/bulk_history_seed.ts: linked, by deal,
 * by contact, by name, unmatched, two ambiguous) on a demo site with the product installed. Ours:
 * `runBulk` (sidecar/handlers/order_history/bulk.ts) over every lead, pages of 250. Baseline,
 * measured in the same run on the same site: the per-lead way, `syncHistory` for each lead (what
 * a Fetch does), four at a time like the sidecar's workers. Every table is emptied in-process
 * before each run (not counted, not timed), so both sides rebuild and write all of them. REST
 * calls are the emulator's request counts (reads: listings, counts, meta); at 0 ms per call and
 * at 20 ± 5 ms (the emulator's latency profile), env BENCH_BULK_LEADS changes the lead count.
 */
import { join } from 'node:path';
import { startEmulator } from '../emulator/server.js';
import { saveDoc } from '../emulator/core/document.js';
import type { Site } from '../emulator/core/site.js';
import { addUser } from '../emulator/seed/users.js';
import { asAdmin } from '../emulator/sites.js';
import { install } from '../scripts/site/install.js';
import { loadDesired } from '../lib/site/records.js';
import { clientForSite, createFrappeClient } from '../lib/frappe/client.js';
import { createLogger } from '../lib/log.js';
import { loadManifest } from '../lib/manifest/load.js';
import { runBulk, startProgress, type BulkProgress } from '../sidecar/handlers/order_history/bulk.js';
import { syncHistory } from '../sidecar/handlers/order_history/index.js';
import { createJobStore } from '../sidecar/jobs/index.js';
import { createMetrics } from '../sidecar/metrics.js';
import { localConfig } from '../test/helpers/config.js';
import { seedBulkLeads } from '../test/fixtures/bulk_history_seed.js';
import { benchHandlerContext } from './handler_context.js';
import { writeResult } from './lib.js';

const SITE = 'bulk.localhost';
const ROOT = join(import.meta.dirname, '..');
const LEADS = Number(process.env.BENCH_BULK_LEADS ?? 1000);
const PROFILES = [
  { meanMs: 0, jitterMs: 0, suffix: '_0ms' },
  { meanMs: 20, jitterMs: 5, suffix: '_20ms' },
];
const PER_LEAD_CONCURRENCY = 4;

function clearAll(site: Site): void {
  asAdmin(site, (ctx) => {
    for (const doc of site.db.all('CRM Lead')) if ((doc.custom_order_history as unknown[] | undefined)?.length) saveDoc(ctx, { ...doc, custom_order_history: [] }, null, { ignorePermissions: true });
  });
}

function counted(site: Site): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const [key, n] of site.requestCounts) {
    if (/^GET \/api\/resource\/|^(GET|POST) \/api\/method\/frappe\.client\.get_(list|count)$|frappe\.desk\.form\.load\.getdoctype$/.test(key)) reads += n;
    if (/^PUT \/api\/resource\/CRM Lead\//.test(key)) writes += n;
  }
  return { reads, writes };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; out: T }> {
  const t = process.hrtime.bigint();
  const out = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
}

export async function run(): Promise<void> {
  const t0 = Date.now();
  const emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }], serveSite: SITE, defaultSite: SITE });
  const site = emu.site(SITE);
  const installer = addUser(site, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
  await install(
    createFrappeClient({ site: SITE, baseUrl: emu.url, apiKey: () => installer.api_key!, apiSecret: () => installer.api_secret! }),
    loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')),
  );
  const companion = addUser(site, { email: 'companion@example.com', roles: ['Order Companion'], generate_keys: true });
  const seed = seedBulkLeads(site, LEADS);
  const leads = site.db.all('CRM Lead').map((d) => String(d.name));
  process.stdout.write(`${leads.length} leads seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const config = localConfig({ name: SITE, url: emu.url, key: companion.api_key!, secret: companion.api_secret! });
  const store = await createJobStore({ kind: 'embedded', dir: config.dataDir });
  const metrics = createMetrics();
  const logger = createLogger({ level: process.env.BENCH_LOG ?? 'warn' });
  // Hedged reads off: a second copy of a slow read would count as a read of its own.
  const client = clientForSite(config.sites[0]!, { metrics, logger, timeoutMs: 60_000, hedgeReadsAfterMs: false });
  const deps = { site: SITE, client, store, logger, metrics };
  const out: Record<string, number> = {};
  const base: Record<string, number> = {};
  let runs = 0;
  try {
    for (const profile of PROFILES) {
      if (profile.meanMs) emu.state.latency.set({ meanMs: profile.meanMs, jitterMs: profile.jitterMs, seed: 7 });
      else emu.state.latency.clear();

      clearAll(site);
      site.requestCounts.clear();
      const ctx = benchHandlerContext(deps, 'order_history.bulk', {});
      const bulk = await timed(async () => runBulk(ctx, await startProgress(ctx, SITE, `bench-${++runs}`, { doctype: 'CRM Lead' }, new Date())));
      const b = counted(site);
      const p: BulkProgress = bulk.out;
      if (p.ambiguousCount !== 2 || p.noCustomer !== seed.none.length + 1) throw new Error(`bulk summary off: ${JSON.stringify({ ambiguous: p.ambiguousCount, none: p.noCustomer })}`);

      clearAll(site);
      site.requestCounts.clear();
      let next = 0;
      const per = await timed(async () => {
        const lane = async () => {
          while (next < leads.length) {
            const lead = leads[next++]!;
            await syncHistory(benchHandlerContext(deps, 'order_history.rebuild', { doctype: 'CRM Lead', name: lead }), 'CRM Lead', lead).catch((err: unknown) => {
              if (!(err instanceof Error) || !/^(no ERPNext customer|ambiguous)/.test(err.message)) throw err;
            });
          }
        };
        await Promise.all(Array.from({ length: PER_LEAD_CONCURRENCY }, lane));
      });
      const s = counted(site);
      if (b.writes !== s.writes) throw new Error(`bulk wrote ${b.writes} tables, the per-lead way ${s.writes}`);

      const sfx = profile.suffix;
      out[`reads${sfx}`] = b.reads;
      out[`reads_per_lead${sfx}`] = b.reads / leads.length;
      out[`writes${sfx}`] = b.writes;
      out[`ms${sfx}`] = bulk.ms;
      out[`leads_per_s${sfx}`] = leads.length / (bulk.ms / 1000);
      base[`reads${sfx}`] = s.reads;
      base[`reads_per_lead${sfx}`] = s.reads / leads.length;
      base[`writes${sfx}`] = s.writes;
      base[`ms${sfx}`] = per.ms;
      out[`reads_vs_baseline${sfx}`] = b.reads / s.reads;
      out[`ms_vs_baseline${sfx}`] = bulk.ms / per.ms;
      process.stdout.write(
        `${leads.length} leads${profile.meanMs ? `, ${profile.meanMs} ± ${profile.jitterMs} ms per call` : ''}: bulk ${b.reads} reads (1 per ${(leads.length / b.reads).toFixed(0)} leads), ${b.writes} writes, ${(bulk.ms / 1000).toFixed(1)} s; per lead ×${PER_LEAD_CONCURRENCY} ${s.reads} reads, ${s.writes} writes, ${(per.ms / 1000).toFixed(1)} s\n`,
      );
    }
  } finally {
    emu.state.latency.clear();
    await store.close();
    await emu.close();
  }
  writeResult('history_bulk', out, base);
}
