/**
 * Shopify orders are applied in the shop apply thread (sidecar/shops/apply/host.ts), and from the
 * outside nothing tells: the log lines, REST call metrics and dead letters are the main thread's
 * as before; a thread that dies takes no job with it.
 */
import { randomUUID } from 'node:crypto';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyDouble, deliver, orderPayloadText, type ShopifyDouble, type ShopifyShop as DoubleShop } from '../../doubles/shopify/index.js';
import { buildDelivery } from '../../doubles/shopify/webhooks.js';
import { createLogger } from '../../lib/log.js';
import type { HandlerContext } from '../../sidecar/jobs/handler.js';
import type { JobRecord } from '../../sidecar/jobs/types.js';
import { createMetrics } from '../../sidecar/metrics.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { createApplyThread } from '../../sidecar/shops/apply/host.js';
import { deliveryJobId } from '../../sidecar/shops/jobs.js';
import { isPermanent, isRetriable } from '../../lib/errors.js';
import { SITE } from '../helpers/emulator.js';
import { installedSite, until, type InstalledSite } from '../helpers/sidecar.js';
import { SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, shopSyncUser, shopifyShop, startShopSidecar } from '../helpers/shops.js';

let site: InstalledSite;
let shopify: ShopifyDouble;
let shop: DoubleShop;
let sc: Sidecar;
let hook: string;
let logs: Record<string, unknown>[];

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
  shop = shopify.shop(SHOPIFY_DOMAIN);
  const started = await startShopSidecar(site, await shopSyncUser(site), [shopifyShop(shopify.url)]);
  sc = started.sc;
  logs = started.logs.lines;
  hook = `${started.url}/webhooks/shopify`;
});

afterAll(async () => {
  await sc?.stop(1000);
  await shopify?.close();
  await site?.emu.close();
});

async function finished(jobId: string): Promise<JobRecord> {
  let job: JobRecord | null = null;
  await until(sc, async () => {
    job = await sc.store.get(jobId);
    return job !== null && (job.state === 'completed' || job.state === 'failed');
  }, `job ${jobId} to finish`);
  return job!;
}

describe('a Shopify delivery applied in the apply thread', () => {
  it('logs through the sidecar logger, counts its REST calls in the sidecar metrics, and completes the job', async () => {
    const order = shop.addOrder({
      customer: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@engines.example' },
      line_items: [{ sku: 'CAKE-CHOC', title: 'Chocolate Cake', quantity: 1, price: '24.50' }],
    });
    const delivery = shop.webhook('orders/create', order.id);
    expect((await deliver(hook, delivery)).status).toBe(200);
    const jobId = deliveryJobId('demo-shopify', 'orders/create', delivery.headers['X-Shopify-Event-Id']!);
    expect((await finished(jobId)).state).toBe('completed');

    const applied = logs.filter((l) => l.event === 'shop_order_applied' && l.job === jobId);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ thread: 'shop-apply', site: SITE, result: 'created', service: 'crm-order-companion' });

    const calls = (await sc.metrics.restCalls.get()).values;
    const soInserts = calls.filter((v) => v.labels.method === 'POST' && String(v.labels.endpoint).includes('Sales Order'));
    expect(soInserts.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(1);
    const created = (await sc.metrics.shopOrders.get()).values.find((v) => v.labels.result === 'created');
    expect(created?.value).toBe(1);
  });

  it('a delivery that is not an order is dead-lettered at once, its error as the in-process handler words it', async () => {
    const body = JSON.stringify({ id: 'not-a-number', line_items: 'none' });
    const delivery = buildDelivery({ topic: 'orders/create', shopDomain: SHOPIFY_DOMAIN, apiVersion: '2025-07', body, secret: SHOPIFY_SECRET, eventId: randomUUID(), triggeredAt: new Date().toISOString() });
    expect((await deliver(hook, delivery)).status).toBe(200);
    const job = await finished(deliveryJobId('demo-shopify', 'orders/create', delivery.headers['X-Shopify-Event-Id']!));
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.lastError).toMatch(/^PermanentError: shop \S+: the delivery is not an order: /);
  });

  it('a body only the lossless parser refuses (a key given twice) is stored, then dead-lettered at once, not retried', async () => {
    const body = '{"id": 1, "id": 2, "line_items": []}';
    const delivery = buildDelivery({ topic: 'orders/create', shopDomain: SHOPIFY_DOMAIN, apiVersion: '2025-07', body, secret: SHOPIFY_SECRET, eventId: randomUUID(), triggeredAt: new Date().toISOString() });
    expect((await deliver(hook, delivery)).status).toBe(200);
    const job = await finished(deliveryJobId('demo-shopify', 'orders/create', delivery.headers['X-Shopify-Event-Id']!));
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.lastError).toMatch(/^PermanentError: shop \S+: the delivery is not JSON this sync can read: Duplicate key 'id'/);
  });
});

describe('the apply thread itself', () => {
  const job = (id: string, body: string): JobRecord => ({
    id,
    name: 'shops.delivery',
    site: 'unreachable.example',
    data: { shop: 'gone-shop', topic: 'orders/create', webhookId: id, body },
    state: 'active',
    attempts: 1,
    maxAttempts: 8,
    backoffMs: 5,
    runAtMs: 0,
    createdAtMs: 0,
    updatedAtMs: 0,
  });

  function contextFor(record: JobRecord, lock: HandlerContext['lock']): HandlerContext {
    const refuse = () => Promise.reject(new Error('not used'));
    return {
      site: record.site,
      client: undefined as never,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(),
      enqueue: refuse,
      job: record,
      signal: new AbortController().signal,
      attempt: 1,
      meta: { get: refuse, set: refuse, remember: refuse, recall: refuse, forget: refuse },
      lock,
    };
  }

  it('hands a job whose thread died back retriable, lets go of its locks, and starts a new thread for the next job', async () => {
    const metrics = createMetrics();
    const priorityBefore = getPriority(0);
    const thread = createApplyThread({
      sites: [{ name: 'unreachable.example', url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: () => 's3cr3t-value' }],
      shops: [shopifyShop('http://127.0.0.1:9', { id: 'gone-shop' })],
      rest: { maxRetries: 0, timeoutMs: 2000 },
      logger: createLogger({ level: 'silent' }),
      metrics,
    });
    const orderBody = () => orderPayloadText(shop.addOrder({ line_items: [{ sku: 'CAKE-CHOC', title: 'Cake', quantity: 1, price: '1.00' }] }));
    try {
      // The first job waits on its order lock, which is never granted; the thread is then ended under it.
      let lockAsked!: () => void;
      const asked = new Promise<void>((r) => (lockAsked = r));
      const first = thread.run(contextFor(job('j1', orderBody()), () => (lockAsked(), new Promise(() => {}))), 'shops.delivery');
      const settled = first.then(() => null, (e: unknown) => e);
      await asked;
      // Its lower priority is its own (a nice value is per thread on Linux): this thread's is untouched.
      expect(getPriority(0)).toBe(priorityBefore);
      const stopped = thread.stop();
      // The next job, sent while the first thread is still going down, starts a new thread, and the
      // old thread's end settles only its own job: this one fails by its own body (no order), permanently.
      let held = 0;
      const secondRun = thread
        .run(contextFor(job('j2', '{}'), async (_key, fn) => (held++, fn())), 'shops.delivery')
        .then(() => null, (e: unknown) => e as Error);
      await stopped;
      const lost = (await settled) as Error;
      expect(isRetriable(lost)).toBe(true);
      expect(lost.message).toMatch(/shop apply thread stopped/);
      const second = await secondRun;
      expect(second).not.toBeNull();
      expect(isPermanent(second)).toBe(true);
      expect(second!.message).toMatch(/the delivery is not an order/);
      expect(held).toBe(0);

      // A real order reaches the site through the lock and fails retriable (nothing listens on port 9): the lock was let go.
      const third = job('j3', orderBody());
      let released = 0;
      const error = await thread
        .run(contextFor(third, async (_key, fn) => { try { return await fn(); } finally { released++; } }), 'shops.delivery')
        .then(() => null, (e: unknown) => e as Error);
      expect(error?.name, error?.message).toBe('FrappeUnavailableError');
      expect(isRetriable(error)).toBe(true);
      expect(released).toBeGreaterThanOrEqual(1);
      expect(error!.message).not.toContain('s3cr3t-value');
      const calls = (await metrics.restCalls.get()).values;
      expect(calls.some((v) => v.labels.site === 'unreachable.example' && v.labels.outcome === 'network')).toBe(true);
    } finally {
      await thread.stop();
    }
  });
});
