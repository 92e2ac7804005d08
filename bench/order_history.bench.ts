/**
 * Order history of one CRM Lead whose customer has 1, 10, 100 and 500 submitted Sales Orders of two
 * lines each, every line with a Work Order carrying the four custom statuses (env BENCH_OH_SIZES,
 * e.g. "1,10", overrides the list). Ours: the product's `syncHistory(ctx, 'CRM Lead', name)` with a
 * HandlerContext built as the runtime builds it (the site's client, the job store's lock), called
 * directly so each call is timed alone. Against the seed's `fetch_orders` ported as written
 * (bench/naive_fetch_orders.ts: one GET per order, one list per line) on an identical site, measured
 * in the same run. One emulator per site; REST calls are the emulator's request counts; wall time
 * is the median of 5 runs (3 from 500 orders), the lead's table emptied in-process before each run
 * so both sides rebuild and write it every time.
 * Then again with every REST call of both sites held 20 ± 5 ms by the emulator's latency profile
 * (metrics `…_20ms`), at 1, 10 and 100 orders (env BENCH_OH_SIZES_20MS), 3 runs each.
 */
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';
import { saveDoc } from '../emulator/core/document.js';
import type { Site } from '../emulator/core/site.js';
import { WORK_ORDER_STATUS_FIELDS, demoSalesOrder, demoWorkOrder } from '../emulator/seed/demo.js';
import type { Doc } from '../emulator/core/database.js';
import { addUser } from '../emulator/seed/users.js';
import { asAdmin, put } from '../emulator/sites.js';
import { install } from '../scripts/site/install.js';
import { loadDesired } from '../lib/site/records.js';
import { clientForSite, createFrappeClient } from '../lib/frappe/client.js';
import { syncHistory } from '../sidecar/handlers/order_history/index.js';
import { benchHandlerContext } from './handler_context.js';
import type { HandlerContext } from '../sidecar/handlers/types.js';
import { createJobStore } from '../sidecar/jobs/index.js';
import { createLogger } from '../lib/log.js';
import { loadManifest } from '../lib/manifest/load.js';
import { createMetrics } from '../sidecar/metrics.js';
import { localConfig } from '../test/helpers/config.js';
import { median, writeResult } from './lib.js';
import { naiveFetchOrders } from './naive_fetch_orders.js';

const SIZES = (process.env.BENCH_OH_SIZES ?? '1,10,100,500')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
/** The latency profiles: the emulator's own speed, then 20 ± 5 ms per call (smaller sizes: the naive port's 1,504 calls at 500 orders would take half a minute a run). */
const PROFILES = [
  { meanMs: 0, jitterMs: 0, suffix: '_0ms', sizes: SIZES },
  {
    meanMs: 20,
    jitterMs: 5,
    suffix: '_20ms',
    sizes: (process.env.BENCH_OH_SIZES_20MS ?? '1,10,100')
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => SIZES.includes(n)),
  },
];
const OURS = 'ours.localhost';
const NAIVE = 'naive.localhost';
const ROOT = join(import.meta.dirname, '..');
const ITEMS = ['CAKE-CHOC', 'CAKE-VAN', 'COOKIE-BOX', 'MUFFIN-12'];
const runsFor = (orders: number) => (orders > 100 ? 3 : 5);

interface Keys {
  key: string;
  secret: string;
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * For each size: a Customer "Bench Buyer <n> orders", n submitted two-line Sales Orders with one
 * Work Order per line, and a lead known only by that name (its email matches no contact), so both
 * sides reach the customer by name. In-process, one transaction: identical names on both sites.
 */
function seed(site: Site): Map<number, string> {
  const leads = new Map<number, string>();
  asAdmin(site, (ctx) => {
    let k = 0;
    for (const n of SIZES) {
      const customer = put(ctx, { doctype: 'Customer', customer_name: `Bench Buyer ${n} orders`, customer_type: 'Company', customer_group: 'Commercial', territory: 'All Territories' });
      for (let i = 0; i < n; i++) {
        const date = addDays('2024-01-01', i);
        const so = put(
          ctx,
          demoSalesOrder({ customer: String(customer.name), lines: [[ITEMS[i % 4], 1 + (i % 7)], [ITEMS[(i + 1) % 4], 2 + (i % 5)]], date, delivery: addDays(date, 7), docstatus: 1 }),
        );
        for (const row of so.items as Doc[]) {
          const pick = <T>(options: readonly T[]) => options[k % options.length];
          put(
            ctx,
            demoWorkOrder(so, row, {
              ops: pick(WORK_ORDER_STATUS_FIELDS.custom_ops_status),
              ingredients: pick(WORK_ORDER_STATUS_FIELDS.custom_ingredients_status),
              production: pick(WORK_ORDER_STATUS_FIELDS.custom_production_status),
              qa: pick(WORK_ORDER_STATUS_FIELDS.custom_qa_status),
            }),
          );
          k++;
        }
      }
      const lead = put(ctx, { doctype: 'CRM Lead', first_name: 'Bench', last_name: `Buyer ${n} orders`, email: `buyer${n}@bench.example`, status: 'Contacted' });
      leads.set(n, String(lead.name));
    }
  });
  return leads;
}

/** A demo site (masters, items, BOMs, the Work Order status fields) with the product installed and the bench's orders. */
async function prepare(name: string): Promise<{ emu: RunningEmulator; keys: Keys; leads: Map<number, string> }> {
  const emu = await startEmulator({ sites: [{ name, timeZone: 'UTC', seed: 'demo' }], serveSite: name, defaultSite: name });
  const site = emu.site(name);
  const installer = addUser(site, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
  await install(
    createFrappeClient({ site: name, baseUrl: emu.url, apiKey: () => installer.api_key!, apiSecret: () => installer.api_secret! }),
    loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')),
  );
  const companion = addUser(site, { email: 'companion@example.com', roles: ['Order Companion'], generate_keys: true });
  const leads = seed(site);
  return { emu, keys: { key: companion.api_key!, secret: companion.api_secret! }, leads };
}

/** The lead's stored table, emptied in-process (not counted, not timed) so the next run writes it again. */
function clearTable(site: Site, lead: string): void {
  asAdmin(site, (ctx) => {
    const doc = site.db.get('CRM Lead', lead)!;
    saveDoc(ctx, { ...doc, custom_order_history: [] }, null, { ignorePermissions: true });
  });
}

function storedRows(site: Site, lead: string): Record<string, unknown>[] {
  return (site.db.get('CRM Lead', lead)?.custom_order_history as Record<string, unknown>[] | undefined) ?? [];
}

/** Per-document paths folded into `/:name`, so the by-path counts read as call patterns. */
function calls(site: Site): { total: number; byPath: Record<string, number> } {
  const byPath: Record<string, number> = {};
  let total = 0;
  for (const [key, n] of site.requestCounts) {
    const folded = key.replace(/^(\S+ \/api\/resource\/[^/]+)\/.+$/, '$1/:name');
    byPath[folded] = (byPath[folded] ?? 0) + n;
    total += n;
  }
  return { total, byPath };
}

/** What the runtime hands `order_history.rebuild` (sidecar/runtime.ts), minus the job store's queue. */
async function productContext(emu: RunningEmulator, keys: Keys) {
  const config = localConfig({ name: OURS, url: emu.url, key: keys.key, secret: keys.secret });
  const store = await createJobStore({ kind: 'embedded', dir: config.dataDir });
  const metrics = createMetrics();
  const logger = createLogger({ level: process.env.BENCH_LOG ?? 'warn' });
  const client = clientForSite(config.sites[0], { metrics, logger, timeoutMs: 60_000 });
  const deps = { site: OURS, client, store, logger, metrics };
  const ctxFor = (lead: string): HandlerContext => benchHandlerContext(deps, 'order_history.rebuild', { doctype: 'CRM Lead', name: lead });
  return { ctxFor, close: () => store.close() };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; out: T }> {
  const t = process.hrtime.bigint();
  const out = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
}

const keyOf = (r: Record<string, unknown>) => `${r.sales_order}\u0000${r.item_code}`;
const statusOf = (r: Record<string, unknown>) => [r.ops_status, r.material_status, r.production_status, r.qa_status].join('/');

export async function run(): Promise<void> {
  if (!SIZES.length) throw new Error(`BENCH_OH_SIZES gives no sizes: ${process.env.BENCH_OH_SIZES}`);
  const t0 = Date.now();
  const o = await prepare(OURS);
  const n = await prepare(NAIVE);
  process.stdout.write(`two sites seeded (${SIZES.join(', ')} orders) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const product = await productContext(o.emu, o.keys);
  const oursSite = o.emu.site(OURS);
  const naiveSite = n.emu.site(NAIVE);
  const naiveTarget = { url: n.emu.url, site: NAIVE, key: n.keys.key, secret: n.keys.secret };
  const metrics: Record<string, number> = {};
  const baseline: Record<string, number> = {};
  try {
    for (const profile of PROFILES) {
      for (const emu of [o.emu, n.emu]) {
        if (profile.meanMs) emu.state.latency.set({ meanMs: profile.meanMs, jitterMs: profile.jitterMs, seed: 7 });
        else emu.state.latency.clear();
      }
      const sfx = profile.suffix;
      for (const size of profile.sizes) {
        const oLead = o.leads.get(size)!;
        const nLead = n.leads.get(size)!;
        const ours = async () => {
          clearTable(oursSite, oLead);
          oursSite.requestCounts.clear();
          const r = await timed(() => syncHistory(product.ctxFor(oLead), 'CRM Lead', oLead));
          if (!r.out.written || storedRows(oursSite, oLead).length !== 2 * size) throw new Error(`ours: ${size} orders → ${storedRows(oursSite, oLead).length} rows (written ${r.out.written})`);
          return { ms: r.ms, ...calls(oursSite) };
        };
        const naive = async () => {
          clearTable(naiveSite, nLead);
          naiveSite.requestCounts.clear();
          const r = await timed(() => naiveFetchOrders(naiveTarget, nLead));
          if (storedRows(naiveSite, nLead).length !== 2 * size) throw new Error(`naive: ${size} orders → ${storedRows(naiveSite, nLead).length} rows`);
          return { ms: r.ms, ...calls(naiveSite) };
        };

        // A first, untimed pass of each (warm-up): both leads must then hold the same lines with the same statuses.
        const first = { ours: await ours(), naive: await naive() };
        const a = storedRows(oursSite, oLead);
        const b = storedRows(naiveSite, nLead);
        const bStatus = new Map(b.map((r) => [keyOf(r), statusOf(r)]));
        const same = a.length === b.length && new Set(a.map(keyOf)).size === a.length && a.every((r) => bStatus.get(keyOf(r)) === statusOf(r));
        if (!same) throw new Error(`${size} orders: ours and the naive port wrote different (sales_order, item_code) rows or statuses`);

        const runs = profile.meanMs ? 3 : runsFor(size);
        const oursMs: number[] = [];
        const naiveMs: number[] = [];
        const oursCalls = new Set<number>();
        const naiveCalls = new Set<number>();
        let last = first;
        for (let i = 0; i < runs; i++) {
          // Interleaved, so drift on this shared machine hits both sides alike.
          last = { ours: await ours(), naive: await naive() };
          oursMs.push(last.ours.ms);
          naiveMs.push(last.naive.ms);
          oursCalls.add(last.ours.total);
          naiveCalls.add(last.naive.total);
        }
        if (oursCalls.size > 1 || naiveCalls.size > 1) process.stdout.write(`warning: call counts varied between runs at ${size} orders: ours ${[...oursCalls]}, naive ${[...naiveCalls]}\n`);

        // And the product once more with the table already current: it reads, compares, and skips the PUT.
        oursSite.requestCounts.clear();
        const again = await syncHistory(product.ctxFor(oLead), 'CRM Lead', oLead);
        if (again.written) throw new Error(`ours rewrote an unchanged table at ${size} orders`);
        const unchanged = calls(oursSite);

        metrics[`calls_${size}${sfx}`] = last.ours.total;
        metrics[`ms_${size}${sfx}`] = median(oursMs);
        baseline[`calls_${size}${sfx}`] = last.naive.total;
        baseline[`ms_${size}${sfx}`] = median(naiveMs);
        metrics[`calls_unchanged_${size}${sfx}`] = unchanged.total;
        metrics[`calls_vs_naive_ratio_${size}${sfx}`] = last.ours.total / last.naive.total;
        metrics[`ms_vs_naive_ratio_${size}${sfx}`] = median(oursMs) / median(naiveMs);
        process.stdout.write(
          `${size} orders (${2 * size} lines)${profile.meanMs ? `, ${profile.meanMs} ± ${profile.jitterMs} ms per call` : ''}, ${runs} runs: ours ${last.ours.total} calls, ${median(oursMs).toFixed(1)} ms [${oursMs.map((x) => x.toFixed(0)).join(' ')}]; ` +
            `naive ${last.naive.total} calls, ${median(naiveMs).toFixed(1)} ms [${naiveMs.map((x) => x.toFixed(0)).join(' ')}]\n` +
            `  ours by path: ${JSON.stringify(last.ours.byPath)}\n  ours, table unchanged: ${JSON.stringify(unchanged.byPath)}\n  naive by path: ${JSON.stringify(last.naive.byPath)}\n`,
        );
      }
    }
    writeResult('order_history', metrics, baseline);
    process.stdout.write(`order_history bench took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } finally {
    await product.close();
    await o.emu.close();
    await n.emu.close();
  }
}
