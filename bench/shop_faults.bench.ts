/**
 * Issue #12 item 4: shop orders applied per minute when 30 % of the sidecar's REST calls fail or
 * hang, against the same sidecar and site with no faults, in the same run.
 *
 * The emulated ERPNext site (demo seed, product installed, the shop-sync API user, as
 * bench/shop_webhooks.bench.ts sets it up) runs in a worker thread; the main thread holds the
 * Shopify double and the sidecar, started with the product's own defaults (REST timeouts, retries,
 * concurrency, stalled-job allowance, shop job retry policy), logs into a sink. Two phases, each on
 * a fresh sidecar with a fresh embedded store and BENCH_FAULTS_ORDERS (300) distinct orders (own
 * customer, billing address, two lines, shipping):
 *
 * 1. fault-free: every delivery is posted to `/webhooks/shopify` (acknowledged once stored), and the
 *    clock runs from the first post to each delivery's job completing;
 * 2. faults: the same, after `POST /__emulator/faults` makes 15 % of every REST call to the site
 *    answer an nginx 502 and another 15 % hang (mode `timeout`: held open, never processed) — 30 %
 *    failing or hanging, drawn from a seeded generator.
 *
 * BENCH_FAULTS_SITE_MS (default 50) adds that much latency to every call the site answers (mode
 * `delay`): timeouts are absolute, so against the in-process emulator's ~1 ms answers any hang of a
 * second or more dwarfs the work (at 0 ms a phase of 300 orders lasts 6 s, less than one write
 * timeout); 50 ms is a small real site's pace for these calls.
 *
 * Reported per phase: orders applied per minute until the last one is applied (the whole tail of
 * job retries included) and until 90 % are applied, the drain time, and then the emulator is asked
 * how many of the orders have exactly one submitted Sales Order. The ratio faults / fault-free is
 * the figure of issue #12 (≥ 0.5). Bounded: a phase gives up after BENCH_FAULTS_LIMIT_S (240 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { isMainThread, workerData } from 'node:worker_threads';
import { createShopifyDouble, deliver, type ShopifyDouble, type ShopifyShop as DoubleShop } from '../doubles/shopify/index.js';
import type { SidecarConfig } from '../lib/config/load.js';
import { builtinHandlers } from '../sidecar/handlers/index.js';
import type { JobRecord } from '../sidecar/jobs/types.js';
import { createLogger } from '../lib/log.js';
import { startSidecar, type Sidecar } from '../sidecar/runtime.js';
import { localConfig } from '../test/helpers/config.js';
import { SITE } from '../test/helpers/emulator.js';
import { SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, SHOP_MANIFEST, shopifyShop } from '../test/helpers/shops.js';
import { writeResult } from './lib.js';
import { SHOP_LINES, SHOP_SHIPPING, serveShopEmulator, type EmuReply } from './shop_emulator.js';
import { ask, spawnSelf } from './workers.js';

const ORDERS = Number(process.env.BENCH_FAULTS_ORDERS ?? 300);
const LIMIT_S = Number(process.env.BENCH_FAULTS_LIMIT_S ?? 240);
const SITE_MS = Number(process.env.BENCH_FAULTS_SITE_MS ?? 50);
/** Diagnostic: config overrides as JSON, e.g. the pre-#12 behaviour
 * `{"rest":{"readTimeoutMs":15000,"writeTimeoutMs":15000,"slowCallMs":600000},"maxStalledJobs":0}`. */
const CONFIG = JSON.parse(process.env.BENCH_FAULTS_CONFIG ?? '{}') as Partial<SidecarConfig>;
const ERROR_SHARE = 0.15;
const HANG_SHARE = 0.15;
const EMU_ROLE = 'shop_faults.emulator';

if (!isMainThread && (workerData as { role?: string } | null)?.role === EMU_ROLE) serveShopEmulator();

const spawn = (role: string) => spawnSelf(import.meta.url, role);


async function faults(url: string, body: unknown, method = 'POST'): Promise<void> {
  const res = await fetch(`${url}/__emulator/faults`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

function sinkLogger() {
  let warnOrWorse = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString('utf8');
      if (s.includes('"level":"warn"') || s.includes('"level":"error"') || s.includes('"level":"fatal"')) warnOrWorse++;
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination: stream }), count: () => warnOrWorse };
}

function makeOrders(shop: DoubleShop, tag: string, n: number) {
  const deliveries = [];
  const externalIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const order = shop.addOrder({
      customer: { first_name: 'Fault', last_name: `${tag} ${i}`, email: `${tag}.${i}@faults.example` },
      billing_address: { first_name: 'Fault', last_name: `${tag} ${i}`, address1: `${i} ${tag} Street`, city: 'Arlington', zip: '22202', country: 'United States', country_code: 'US' },
      line_items: SHOP_LINES,
      shipping_lines: SHOP_SHIPPING,
    });
    deliveries.push(shop.webhook('orders/create', order.id));
    externalIds.push(`shopify:${SHOPIFY_DOMAIN}:${order.id}`);
  }
  return { deliveries, externalIds };
}

interface Phase {
  applied: number;
  perMinute: number;
  perMinuteTo90: number;
  drainS: number;
  jobsRetried: number;
  jobsFailed: number;
  restCalls: number;
  restTimeouts: number;
  peakRunning: number;
  oneSubmitted: number;
  missing: number;
  duplicated: number;
  warnLines: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function metricSum(sc: Sidecar, name: 'restCalls', outcome?: string): Promise<number> {
  const { values } = await sc.metrics[name].get();
  return values.filter((v) => outcome === undefined || v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);
}

async function phase(
  label: string,
  emu: { url: string; key: string; secret: string },
  shopifyUrl: string,
  orders: ReturnType<typeof makeOrders>,
  rules: unknown[],
  countSalesOrders: (ids: string[]) => Promise<Extract<EmuReply, { type: 'count' }>>,
): Promise<Phase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coc-bench-faults-'));
  const logs = sinkLogger();
  const sc = await startSidecar({
    config: localConfig({ name: SITE, url: emu.url, key: emu.key, secret: emu.secret }, { dataDir, shops: [shopifyShop(shopifyUrl)], ...CONFIG }),
    manifest: SHOP_MANIFEST,
    handlers: builtinHandlers,
    logger: logs.logger,
  });
  try {
    // After the start: its health check is not part of the measured work.
    await faults(emu.url, { rules, seed: 12 });
    const completedAt: number[] = [];
    const outcomes = { retried: 0, failed: 0 };
    const causes = new Map<string, number>();
    let running = 0;
    let peakRunning = 0;
    const all = new Promise<void>((resolve) => {
      sc.events.on('job', (job: JobRecord, outcome: 'completed' | 'retried' | 'failed') => {
        if (job.name !== 'shops.delivery') return;
        if (outcome === 'completed') completedAt.push(performance.now());
        else {
          outcomes[outcome]++;
          const why = String(job.lastError ?? '').replace(/[0-9a-f]{6,}|\d+/g, '#').slice(0, 90);
          causes.set(why, (causes.get(why) ?? 0) + 1);
        }
        if (completedAt.length + outcomes.failed === orders.deliveries.length) resolve();
      });
    });
    let ticks = 0;
    const sample = setInterval(() => {
      void sc.store.counts().then((c) => {
        running = c.active;
        peakRunning = Math.max(peakRunning, running);
        if (process.env.BENCH_FAULTS_CAUSES && ++ticks % 50 === 0) process.stdout.write(`  ${label} t=${ticks / 10}s ${JSON.stringify(c)}\n`);
      });
    }, 100);
    const t0 = performance.now();
    const url = `${sc.url!}/webhooks/shopify`;
    // Acknowledged in batches of 50 at once, as a shop's delivery workers would send them.
    for (let i = 0; i < orders.deliveries.length; i += 50) {
      const answers = await Promise.all(orders.deliveries.slice(i, i + 50).map((d) => deliver(url, d)));
      const bad = answers.filter((a) => a.status !== 200);
      if (bad.length) throw new Error(`${label}: ${bad.length} deliveries not acknowledged: ${JSON.stringify(bad[0])}`);
    }
    let limit: NodeJS.Timeout | undefined;
    const finished = await Promise.race([all.then(() => true), new Promise<boolean>((r) => (limit = setTimeout(() => r(false), LIMIT_S * 1000)))]);
    clearTimeout(limit);
    clearInterval(sample);
    const end = performance.now();
    const sorted = [...completedAt].sort((a, b) => a - b);
    const n = sorted.length;
    const lastS = ((n ? sorted[n - 1]! : end) - t0) / 1000;
    const at90 = sorted[Math.ceil(0.9 * orders.deliveries.length) - 1];
    const to90S = at90 !== undefined ? (at90 - t0) / 1000 : Infinity;
    const restCalls = await metricSum(sc, 'restCalls');
    const restTimeouts = await metricSum(sc, 'restCalls', 'timeout');
    await faults(emu.url, undefined, 'DELETE');
    const so = await countSalesOrders(orders.externalIds);
    const result: Phase = {
      applied: n,
      perMinute: finished ? (n / lastS) * 60 : (n / ((end - t0) / 1000)) * 60,
      perMinuteTo90: Number.isFinite(to90S) ? ((0.9 * orders.deliveries.length) / to90S) * 60 : 0,
      drainS: finished ? lastS : Infinity,
      jobsRetried: outcomes.retried,
      jobsFailed: outcomes.failed,
      restCalls,
      restTimeouts,
      peakRunning,
      oneSubmitted: so.oneSubmitted,
      missing: so.missing,
      duplicated: so.duplicated,
      warnLines: logs.count(),
    };
    process.stdout.write(
      `${label}: ${n}/${orders.deliveries.length} applied${finished ? '' : ` (gave up after ${LIMIT_S} s)`} in ${lastS.toFixed(1)} s → ${result.perMinute.toFixed(0)} orders/min ` +
        `(${result.perMinuteTo90.toFixed(0)}/min to 90 %); ${restCalls} REST calls, ${restTimeouts} timed out; job attempts retried ${outcomes.retried}, dead-lettered ${outcomes.failed}; ` +
        `peak running jobs ${peakRunning}; ${so.oneSubmitted} orders with exactly one submitted Sales Order, ${so.missing} none, ${so.duplicated} several; ${logs.count()} warn/error log lines\n`,
    );
    if (process.env.BENCH_FAULTS_CAUSES) process.stdout.write(`  why job attempts failed: ${JSON.stringify([...causes].sort((a, b) => b[1] - a[1]).slice(0, 8))}\n`);
    return result;
  } finally {
    await faults(emu.url, undefined, 'DELETE').catch(() => undefined);
    await sc.stop(5000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const started = Date.now();
  const emuWorker = spawn(EMU_ROLE);
  let shopify: ShopifyDouble | null = null;
  const countSalesOrders = (externalIds: string[]) => ask<Extract<EmuReply, { type: 'count' }>>(emuWorker, { type: 'count', externalIds }, 'counting Sales Orders', 60_000);
  try {
    const emu = await ask<Extract<EmuReply, { type: 'ready' }>>(emuWorker, { type: 'start' }, 'the emulated site', 120_000);
    shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
    const shop = shopify.shop(SHOPIFY_DOMAIN);
    const slow = SITE_MS > 0 ? [{ site: SITE, match: '/api/', mode: 'delay', status: 0, delayMs: SITE_MS }] : [];
    const faulty = [
      { site: SITE, match: '/api/', mode: 'error', status: 502, rate: ERROR_SHARE },
      // Drawn after the first rule, so its rate is of the remaining 85 %: 15 % of all calls.
      { site: SITE, match: '/api/', mode: 'timeout', status: 0, rate: HANG_SHARE / (1 - ERROR_SHARE) },
      ...slow,
    ];
    const quiet = await phase('fault-free', emu, shopify.url, makeOrders(shop, 'quiet', ORDERS), slow, countSalesOrders);
    const hurt = await phase(`${Math.round((ERROR_SHARE + HANG_SHARE) * 100)} % failing or hanging`, emu, shopify.url, makeOrders(shop, 'faults', ORDERS), faulty, countSalesOrders);
    const ratio = hurt.perMinute / quiet.perMinute;
    process.stdout.write(`ratio faults / fault-free: ${ratio.toFixed(2)} (to 90 %: ${(hurt.perMinuteTo90 / quiet.perMinuteTo90).toFixed(2)})\n`);
    writeResult(
      'shop_faults',
      {
        orders: ORDERS,
        site_latency_ms: SITE_MS,
        error_share: ERROR_SHARE,
        hang_share: HANG_SHARE,
        applied: hurt.applied,
        orders_per_min: round(hurt.perMinute, 1),
        orders_per_min_to_90pct: round(hurt.perMinuteTo90, 1),
        drain_s: round(hurt.drainS, 1),
        ratio_vs_fault_free: round(ratio),
        ratio_vs_fault_free_to_90pct: round(hurt.perMinuteTo90 / quiet.perMinuteTo90),
        rest_calls: hurt.restCalls,
        rest_timeouts: hurt.restTimeouts,
        jobs_retried: hurt.jobsRetried,
        jobs_failed: hurt.jobsFailed,
        peak_running_jobs: hurt.peakRunning,
        one_submitted_sales_order: hurt.oneSubmitted,
        without_sales_order: hurt.missing,
        several_sales_orders: hurt.duplicated,
        warn_or_error_log_lines: hurt.warnLines,
      },
      {
        applied: quiet.applied,
        orders_per_min: round(quiet.perMinute, 1),
        orders_per_min_to_90pct: round(quiet.perMinuteTo90, 1),
        drain_s: round(quiet.drainS, 1),
        rest_calls: quiet.restCalls,
        jobs_retried: quiet.jobsRetried,
        peak_running_jobs: quiet.peakRunning,
        one_submitted_sales_order: quiet.oneSubmitted,
      },
    );
    process.stdout.write(`shop_faults bench took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await shopify?.close();
    await ask(emuWorker, { type: 'close' }, 'closing the emulator', 30_000).catch(() => undefined);
    await emuWorker.terminate();
  }
}
