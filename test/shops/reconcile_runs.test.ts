/**
 * What reconciliation records of each run (sidecar/shops/reconcile_runs.ts), on both job stores
 * (the embedded one and BullMQ on the real Redis at 127.0.0.1:6379): against the Shopify double
 * and the emulated ERPNext site, a second run after some orders were applied and some are missing
 * counts them as up to date and enqueued, with the watermarks before and after; a run retried after
 * a 503 leaves one record; a refused token leaves a failed record with the error and the watermark
 * where it was. The console's Shop inbox shows these (test/sidecar/console_ops.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyDouble, type ShopifyDouble, type ShopifyShop as DoubleShop } from '../../doubles/shopify/index.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import { handlerMeta } from '../../sidecar/jobs/handler.js';
import type { JobStore } from '../../sidecar/jobs/types.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { watermarkKey } from '../../sidecar/shops/jobs.js';
import { RUNS_KEPT, RunTally, readRuns, recordRun, type ReconcileRun } from '../../sidecar/shops/reconcile_runs.js';
import { SITE } from '../helpers/emulator.js';
import { deletePrefix, newPrefix } from '../helpers/redis.js';
import { installedSite, runJob, until, type InstalledSite } from '../helpers/sidecar.js';
import { SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, shopSyncUser, shopifyShop, startShopSidecar } from '../helpers/shops.js';

const SHOP = 'demo-shopify';
const LINES = [{ sku: 'COOKIE-BOX', title: 'Cookie Box', quantity: 1, price: '12.75' }];

const kinds: { kind: string; open: () => Promise<{ store: JobStore; cleanup: () => Promise<void> }> }[] = [
  {
    kind: 'embedded',
    open: async () => ({ store: await createJobStore({ kind: 'embedded', dir: mkdtempSync(join(tmpdir(), 'coc-reconcile-runs-')) }), cleanup: async () => undefined }),
  },
  {
    kind: 'bullmq',
    open: async () => {
      const prefix = newPrefix();
      return { store: await createJobStore({ kind: 'bullmq', redisUrl: 'redis://127.0.0.1:6379', prefix }), cleanup: () => deletePrefix(prefix) };
    },
  },
];

const newest = (orders: { updated_at: string }[]) => Math.max(...orders.map((o) => Date.parse(o.updated_at)));

for (const { kind, open } of kinds) {
  describe(`reconciliation runs recorded in the ${kind} store`, () => {
    let site: InstalledSite;
    let shopify: ShopifyDouble;
    let shop: DoubleShop;
    let sc: Sidecar;
    let cleanup: () => Promise<void> = async () => undefined;

    const runs = () => readRuns((k) => sc.store.getMeta(k), SHOP);
    const drained = () =>
      until(sc, async () => {
        const c = await sc.store.counts();
        return c.waiting === 0 && c.active === 0;
      }, 'the inbox to drain');
    const salesOrders = async (orderId: string) =>
      (await site.root.list('Sales Order', { filters: JSON.stringify([['custom_external_order_id', '=', `shopify:${SHOPIFY_DOMAIN}:${orderId}`]]), limit_page_length: 0 })).body.data as unknown[];

    beforeAll(async () => {
      site = await installedSite('UTC', { seed: 'demo' });
      await site.root.insert('Customer', { customer_name: 'Walk-in Shop Customer', customer_type: 'Individual', customer_group: 'Individual', territory: 'All Territories' });
      shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
      shop = shopify.shop(SHOPIFY_DOMAIN);
      const opened = await open();
      cleanup = opened.cleanup;
      ({ sc } = await startShopSidecar(site, await shopSyncUser(site), [shopifyShop(shopify.url)], { store: opened.store }));
    }, 60_000);

    afterAll(async () => {
      await sc?.stop(1000);
      await cleanup();
      await shopify?.close();
      await site?.emu.close();
    });

    it('counts listed, up to date and enqueued orders, pages and the watermarks of each run, newest first', async () => {
      const a = shop.addOrder({ customer: { first_name: 'Ada', last_name: 'Applied', email: 'ada.applied@example.com' }, line_items: LINES });
      const b = shop.addOrder({ customer: { first_name: 'Bo', last_name: 'Applied', email: 'bo.applied@example.com' }, line_items: LINES });
      const started = Date.now();
      await runJob(sc, { id: 'recon-1', name: 'shops.reconcile', site: SITE, data: { shop: SHOP } });
      await drained();
      const [first] = await runs();
      expect(first).toMatchObject({ job: 'recon-1', attempt: 1, trigger: 'scheduled', outcome: 'completed', watermarkBefore: null, pages: 1, listed: 2, upToDate: 0, enqueued: 2, unreadable: 0, skipped: 0, error: null });
      // No watermark yet: the first run looks back initialLookbackHours (24).
      expect(Math.abs(Date.parse(first!.since) - (started - 24 * 3_600_000))).toBeLessThan(60_000);
      expect(Date.parse(first!.watermarkAfter!)).toBe(newest([a, b]));
      expect(first!.watermarkAfter).toBe(await sc.store.getMeta(watermarkKey(SHOP)));
      expect(first!.durationMs).toBe(Date.parse(first!.finishedAt!) - Date.parse(first!.startedAt));
      expect(await salesOrders(a.id)).toHaveLength(1);
      expect(await salesOrders(b.id)).toHaveLength(1);

      // a and b are applied; c and d were never delivered; a was edited since (a newer version).
      const c = shop.addOrder({ customer: { first_name: 'Cy', last_name: 'Missing', email: 'cy.missing@example.com' }, line_items: LINES });
      const d = shop.addOrder({ customer: { first_name: 'Di', last_name: 'Missing', email: 'di.missing@example.com' }, line_items: LINES });
      const edited = shop.updateOrder(a.id, { note: 'gift wrap, please' });
      await runJob(sc, { id: 'recon-2', name: 'shops.reconcile', site: SITE, data: { shop: SHOP } });
      await drained();
      const [second, again] = await runs();
      expect(again).toEqual(first);
      expect(second).toMatchObject({ job: 'recon-2', outcome: 'completed', watermarkBefore: first!.watermarkAfter, pages: 1, listed: 4, upToDate: 1, enqueued: 3, skipped: 0 });
      // From the watermark minus the 10-minute overlap.
      expect(Date.parse(second!.since)).toBe(Date.parse(first!.watermarkAfter!) - 10 * 60_000);
      expect(Date.parse(second!.watermarkAfter!)).toBe(newest([edited, b, c, d]));
      for (const o of [c, d]) expect(await salesOrders(o.id)).toHaveLength(1);
    });

    it('a run retried after a 503 leaves one record, of the attempt that completed', async () => {
      const before = await runs();
      shopify.failNext(1, { kind: 'http', status: 503 });
      const job = await runJob(sc, { id: 'recon-retried', name: 'shops.reconcile', site: SITE, data: { shop: SHOP }, maxAttempts: 3 });
      expect(job.attempts).toBe(2);
      const after = await runs();
      expect(after.filter((r) => r.job === 'recon-retried')).toHaveLength(1);
      expect(after).toHaveLength(before.length + 1);
      expect(after[0]).toMatchObject({ job: 'recon-retried', attempt: 2, outcome: 'completed', listed: 4, upToDate: 4, enqueued: 0, error: null, watermarkBefore: before[0]!.watermarkAfter, watermarkAfter: before[0]!.watermarkAfter });
    });

    it('a refused token leaves a failed record with the redacted error, and the watermark where it was', async () => {
      const mark = await sc.store.getMeta(watermarkKey(SHOP));
      shopify.failNext(1, { kind: 'http', status: 401 });
      await sc.store.enqueue({ id: 'recon-refused', name: 'shops.reconcile', site: SITE, data: { shop: SHOP }, maxAttempts: 1 });
      await until(sc, async () => (await sc.store.get('recon-refused'))?.state === 'failed', 'the refused run');
      const [failed] = await runs();
      expect(failed).toMatchObject({ job: 'recon-refused', outcome: 'failed', watermarkBefore: mark, watermarkAfter: mark, pages: 0, listed: 0 });
      expect(failed!.error).toMatch(/PermanentError: shop demo-shopify: the Admin API refused the access token \(401\)/);
      expect(failed!.error).not.toContain(SHOPIFY_TOKEN);
      expect(await sc.store.getMeta(watermarkKey(SHOP))).toBe(mark);
    });
  });

  describe(`recorded runs in the ${kind} store`, () => {
    it(`keep the last ${RUNS_KEPT} per shop, newest first, one per job`, async () => {
      const { store, cleanup } = await open();
      try {
        const ctx = { meta: handlerMeta(store), lock: <T>(key: string, fn: () => Promise<T>) => store.withLock(key, 5000, fn) };
        const run = (job: string, listed: number): ReconcileRun => ({
          job,
          attempt: 1,
          trigger: 'scheduled',
          outcome: 'completed',
          startedAt: '2026-12-01T10:00:00.000Z',
          finishedAt: '2026-12-01T10:00:01.000Z',
          durationMs: 1000,
          watermarkBefore: null,
          since: '2026-11-30T10:00:00.000Z',
          watermarkAfter: null,
          ...Object.assign(new RunTally(), { listed, enqueued: listed }).counts(),
          error: null,
        });
        // Two runs at once (two replicas): the lock keeps both.
        await Promise.all(Array.from({ length: RUNS_KEPT + 5 }, (_, i) => recordRun(ctx, SHOP, run(`r-${i}`, i))));
        const kept = await readRuns((k) => store.getMeta(k), SHOP);
        expect(kept).toHaveLength(RUNS_KEPT);
        expect(new Set(kept.map((r) => r.job)).size).toBe(RUNS_KEPT);
        await recordRun(ctx, SHOP, run('r-solo', 1));
        await recordRun(ctx, SHOP, { ...run('r-solo', 7), attempt: 2 });
        const [latest, ...rest] = await readRuns((k) => store.getMeta(k), SHOP);
        expect(latest).toMatchObject({ job: 'r-solo', attempt: 2, listed: 7 });
        expect(rest.map((r) => r.job)).not.toContain('r-solo');
        expect(rest).toHaveLength(RUNS_KEPT - 1);
        expect(await readRuns((k) => store.getMeta(k), 'another-shop')).toEqual([]);
      } finally {
        await store.close();
        await cleanup();
      }
    });
  });
}
