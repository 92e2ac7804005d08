/**
 * Issue #13 item 4: REST calls per shop order, and orders applied per second, for a new and for a
 * known customer, with what the worker remembers (sidecar/shops/erpnext/remembered.ts) against the
 * same worker told to remember nothing (`erpnext.rememberMinutes: 0`, the baseline), in the same
 * run, at 0 ms and at BENCH_SHOP_CALLS_MS (20) ms per call.
 *
 * The emulated ERPNext site (demo seed, product installed, the shop-sync API user) runs in a worker
 * thread; the main thread holds the Shopify double and the sidecar (product defaults, concurrency
 * 4, logs into a sink). The per-call latency is the emulator's own fault rule in mode `delay` on
 * every `/api/` call (POST /__emulator/faults), set after the sidecar's start so its health check
 * is not measured. Each (latency, design) runs on a fresh sidecar and store with its own
 * BENCH_SHOP_CALLS_ORDERS (40) customers, in two phases:
 * 1. new: one order per customer nobody has seen (Customer, Contact, billing and shipping Address
 *    made, two lines);
 * 2. known: a second order per customer, same addresses, minutes later in a real shop.
 * Deliveries are posted to `/webhooks/shopify` 40 at a time; a phase runs from its first post to
 * the last of its jobs completing. REST calls are the sidecar's own count (coc_rest_calls) over the
 * phase, divided by its orders. At the end the emulator is asked how many orders have exactly one
 * submitted Sales Order. Bounded: a phase gives up after BENCH_SHOP_CALLS_LIMIT_S (60 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isMainThread, workerData } from 'node:worker_threads';
import { createShopifyDouble, deliver, type ShopifyDouble, type ShopifyShop as DoubleShop } from '../doubles/shopify/index.js';
import { builtinHandlers } from '../sidecar/handlers/index.js';
import type { JobRecord } from '../sidecar/jobs/types.js';
import { createLogger } from '../lib/log.js';
import { startSidecar, type Sidecar } from '../sidecar/runtime.js';
import { localConfig } from '../test/helpers/config.js';
import { SITE } from '../test/helpers/emulator.js';
import { ERPNEXT, SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, SHOP_MANIFEST, shopifyShop } from '../test/helpers/shops.js';
import { writeResult } from './lib.js';
import { SHOP_LINES, SHOP_SHIPPING, serveShopEmulator, type EmuReply } from './shop_emulator.js';
import { ask, spawnSelf } from './workers.js';

const ORDERS = Number(process.env.BENCH_SHOP_CALLS_ORDERS ?? 40);
const SLOW_MS = Number(process.env.BENCH_SHOP_CALLS_MS ?? 20);
const LIMIT_S = Number(process.env.BENCH_SHOP_CALLS_LIMIT_S ?? 60);
const BATCH = 40;
const EMU_ROLE = 'shop_calls.emulator';

if (!isMainThread && (workerData as { role?: string } | null)?.role === EMU_ROLE) serveShopEmulator();

async function faults(url: string, body: unknown, method = 'POST'): Promise<void> {
  const res = await fetch(`${url}/__emulator/faults`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

const sink = () => createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

interface Customer {
  id: string;
  first: string;
  last: string;
  email: string;
  billing: Record<string, string>;
  shipping: Record<string, string>;
}

function customers(tag: string, n: number): Customer[] {
  return Array.from({ length: n }, (_, i) => ({
    id: '',
    first: 'Calls',
    last: `${tag} ${i}`,
    email: `${tag}.${i}@calls.example`,
    billing: { first_name: 'Calls', last_name: `${tag} ${i}`, address1: `${i} ${tag} Street`, city: 'Arlington', zip: '22202', country: 'United States', country_code: 'US' },
    shipping: { first_name: 'Calls', last_name: `${tag} ${i}`, address1: `${i} ${tag} Dock`, city: 'Arlington', zip: '22203', country: 'United States', country_code: 'US' },
  }));
}

/** One order per customer; the first order gives each customer its shop id, reused after. */
function ordersOf(shop: DoubleShop, people: Customer[]) {
  const deliveries = [];
  const externalIds: string[] = [];
  for (const c of people) {
    const order = shop.addOrder({
      customer: { ...(c.id ? { id: c.id } : {}), first_name: c.first, last_name: c.last, email: c.email },
      billing_address: c.billing,
      shipping_address: c.shipping,
      line_items: SHOP_LINES,
      shipping_lines: SHOP_SHIPPING,
    });
    c.id = order.customer!.id;
    deliveries.push(shop.webhook('orders/create', order.id));
    externalIds.push(`shopify:${SHOPIFY_DOMAIN}:${order.id}`);
  }
  return { deliveries, externalIds };
}

interface Phase {
  ordersPerS: number;
  callsPerOrder: number;
  failed: number;
}

async function restCalls(sc: Sidecar): Promise<number> {
  return (await sc.metrics.restCalls.get()).values.reduce((s, v) => s + v.value, 0);
}

async function phase(sc: Sidecar, label: string, orders: ReturnType<typeof ordersOf>): Promise<Phase> {
  let completed = 0;
  let failed = 0;
  let lastAt = 0;
  const all = new Promise<void>((resolve) => {
    const onJob = (job: JobRecord, outcome: 'completed' | 'retried' | 'failed') => {
      if (job.name !== 'shops.delivery' || outcome === 'retried') return;
      if (outcome === 'completed') completed++;
      else failed++;
      lastAt = performance.now();
      if (completed + failed === orders.deliveries.length) {
        sc.events.off('job', onJob);
        resolve();
      }
    };
    sc.events.on('job', onJob);
  });
  const before = await restCalls(sc);
  const t0 = performance.now();
  const url = `${sc.url!}/webhooks/shopify`;
  for (let i = 0; i < orders.deliveries.length; i += BATCH) {
    const answers = await Promise.all(orders.deliveries.slice(i, i + BATCH).map((d) => deliver(url, d)));
    const bad = answers.filter((a) => a.status !== 200);
    if (bad.length) throw new Error(`${label}: ${bad.length} deliveries not acknowledged: ${JSON.stringify(bad[0])}`);
  }
  let limit: NodeJS.Timeout | undefined;
  const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (limit = setTimeout(() => r(false), LIMIT_S * 1000)))]);
  clearTimeout(limit);
  if (!finished) throw new Error(`${label}: ${completed + failed}/${orders.deliveries.length} jobs finished in ${LIMIT_S} s`);
  const calls = (await restCalls(sc)) - before;
  const out = { ordersPerS: completed / ((lastAt - t0) / 1000), callsPerOrder: calls / orders.deliveries.length, failed };
  process.stdout.write(`  ${label}: ${completed} applied, ${failed} dead-lettered, ${out.callsPerOrder.toFixed(2)} REST calls/order, ${out.ordersPerS.toFixed(1)} orders/s\n`);
  return out;
}

interface Run {
  newer: Phase;
  known: Phase;
  externalIds: string[];
}

async function design(emu: { url: string; key: string; secret: string }, shop: DoubleShop, shopifyUrl: string, latencyMs: number, rememberMinutes: number | undefined, tag: string): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coc-bench-calls-'));
  const erpnext = rememberMinutes === undefined ? ERPNEXT : { ...ERPNEXT, rememberMinutes };
  const sc = await startSidecar({
    config: localConfig({ name: SITE, url: emu.url, key: emu.key, secret: emu.secret }, { dataDir, shops: [shopifyShop(shopifyUrl, { erpnext })] }),
    manifest: SHOP_MANIFEST,
    handlers: builtinHandlers,
    logger: sink(),
  });
  try {
    if (latencyMs > 0) await faults(emu.url, { rules: [{ site: SITE, match: '/api/', mode: 'delay', status: 0, delayMs: latencyMs }] });
    const people = customers(tag, ORDERS);
    const first = ordersOf(shop, people);
    const newer = await phase(sc, `${tag} new customers`, first);
    const second = ordersOf(shop, people);
    const known = await phase(sc, `${tag} known customers`, second);
    return { newer, known, externalIds: [...first.externalIds, ...second.externalIds] };
  } finally {
    await faults(emu.url, undefined, 'DELETE').catch(() => undefined);
    await sc.stop(5000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function run(): Promise<void> {
  const started = Date.now();
  const emuWorker = spawnSelf(import.meta.url, EMU_ROLE);
  let shopify: ShopifyDouble | null = null;
  try {
    const emu = await ask<Extract<EmuReply, { type: 'ready' }>>(emuWorker, { type: 'start' }, 'the emulated site', 120_000);
    shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
    const shop = shopify.shop(SHOPIFY_DOMAIN);
    const metrics: Record<string, number> = { orders_per_phase: ORDERS, concurrency: 4 };
    const baseline: Record<string, number> = {};
    const ids: string[] = [];
    for (const ms of [0, SLOW_MS]) {
      process.stdout.write(`at ${ms} ms per call\n`);
      const base = await design(emu, shop, shopify.url, ms, 0, `base${ms}`);
      const now = await design(emu, shop, shopify.url, ms, undefined, `memo${ms}`);
      ids.push(...base.externalIds, ...now.externalIds);
      for (const [out, r] of [[baseline, base], [metrics, now]] as const) {
        out[`calls_per_order_new_customer_${ms}ms`] = round(r.newer.callsPerOrder);
        out[`calls_per_order_known_customer_${ms}ms`] = round(r.known.callsPerOrder);
        out[`orders_per_s_new_customer_${ms}ms`] = round(r.newer.ordersPerS, 1);
        out[`orders_per_s_known_customer_${ms}ms`] = round(r.known.ordersPerS, 1);
        out[`dead_lettered_${ms}ms`] = r.newer.failed + r.known.failed;
      }
      metrics[`speedup_known_customer_${ms}ms`] = round(now.known.ordersPerS / base.known.ordersPerS);
    }
    const so = await ask<Extract<EmuReply, { type: 'count' }>>(emuWorker, { type: 'count', externalIds: ids }, 'counting Sales Orders', 60_000);
    metrics.one_submitted_sales_order = so.oneSubmitted;
    metrics.without_sales_order = so.missing;
    metrics.several_sales_orders = so.duplicated;
    writeResult('shop_calls', metrics, baseline);
    process.stdout.write(`shop_calls bench took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await shopify?.close();
    await ask(emuWorker, { type: 'close' }, 'closing the emulator', 30_000).catch(() => undefined);
    await emuWorker.terminate();
  }
}
