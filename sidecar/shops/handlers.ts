/**
 * Shop sync jobs (hooks_manifest.json):
 * - `shops.delivery`: a stored webhook delivery (the inbox). Shopify's body is the order itself;
 *   Etsy's names a receipt, which is fetched. Every order topic is applied as "the order as of its
 *   updated_at", so `orders/paid` arriving before `orders/create` creates the order.
 * - `shops.order`: one order found by reconciliation.
 * - `shops.reconcile`: on the scheduler, per shop of the site, list what changed since the
 *   watermark (minus an overlap) and queue each order under an id of (order, updated_at), so
 *   overlaps and repeated runs add nothing; then move the watermark. Each run records its counts
 *   and watermarks for the console (reconcile_runs.ts).
 */
import { ZodError } from 'zod';
import { PermanentError, describeError } from '../../lib/errors.js';
import { redactSecrets } from '../../lib/log.js';
import type { HandlerContext, HandlerRegistry } from '../handlers/types.js';
import { jobHandler } from '../jobs/runner.js';
import type { ApplyThread } from './apply/host.js';
import type { ShopConfig, ShopifyShop } from '../../lib/config/shops.js';
import { applyOrder } from './erpnext/sales_order.js';
import { EtsyApi } from './etsy/api.js';
import { etsyReceiptSchema, etsyReceiptToOrder } from './etsy/receipt.js';
import { MalformedJsonError, parseLossless } from './lossless_json.js';
import type { ShopOrder } from './order.js';
import { graphqlToRest, ordersUpdatedSince, type GqlOrder } from './shopify/admin_api.js';
import { shopifyRestOrderSchema, shopifyRestToOrder } from './shopify/rest_order.js';
import { etsyTarget } from './etsy/notification.js';
import { DELIVERY_HANDLER, ORDER_HANDLER, RECONCILE_HANDLER, orderJobId, watermarkKey, type DeliveryData, type OrderJobData } from './jobs.js';
import { RunTally, recordRun, type ReconcileRun } from './reconcile_runs.js';


function shopById(shops: ShopConfig[], id: unknown): ShopConfig {
  const shop = shops.find((s) => s.id === id);
  // The delivery outlives its configuration (the shop was removed): keep it visible, do not drop it.
  if (!shop) throw new PermanentError(`shop "${String(id)}" is not configured any more; add it back, then retry this job`);
  return shop;
}

export function parseShopifyOrder(shop: ShopifyShop, body: string): ShopOrder {
  let json: unknown;
  try {
    json = parseLossless(body);
  } catch (err) {
    // The receiver checks JSON with the native parser, which lets through what only the lossless one
    // refuses (a key repeated with another value): stored and answered 200, so retrying cannot help.
    if (err instanceof MalformedJsonError) throw new PermanentError(`shop ${shop.id}: the delivery is not JSON this sync can read: ${err.message}`);
    throw err;
  }
  const parsed = shopifyRestOrderSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentError(`shop ${shop.id}: the delivery is not an order: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return shopifyRestToOrder(shop.id, parsed.data);
}

async function deliveryOrder(ctx: HandlerContext, shop: ShopConfig, data: DeliveryData): Promise<ShopOrder | null> {
  if (shop.platform === 'shopify') return parseShopifyOrder(shop, data.body);
  const { receiptId } = etsyTarget(parseLossless(data.body) as Record<string, unknown>);
  if (!receiptId) throw new PermanentError(`Etsy delivery ${data.webhookId} names no receipt`);
  const receipt = await new EtsyApi(ctx, shop).receipt(receiptId);
  if (!receipt) throw new PermanentError(`Etsy receipt ${receiptId} of shop ${shop.shopId} was not found`);
  return etsyReceiptToOrder(shop.id, receipt);
}

/** A reconciled record → the order shape, or a PermanentError naming what is wrong with it. */
function normalizeRecord(shop: ShopConfig, raw: unknown): ShopOrder | null {
  try {
    if (shop.platform === 'shopify') return shopifyRestToOrder(shop.id, shopifyRestOrderSchema.parse(graphqlToRest(raw as GqlOrder)));
    return etsyReceiptToOrder(shop.id, etsyReceiptSchema.parse(raw));
  } catch (err) {
    const detail = err instanceof ZodError ? err.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
    throw new PermanentError(`shop ${shop.id}: a reconciled ${shop.platform === 'shopify' ? 'order' : 'receipt'} could not be read: ${detail}`);
  }
}

/** The id and update time a raw record carries, to name its job even when it cannot be read. */
function rawKey(shop: ShopConfig, raw: unknown): { id: string; updatedAt: string } {
  const r = (raw ?? {}) as Record<string, unknown>;
  if (shop.platform === 'shopify') return { id: String(r.legacyResourceId ?? 'unknown'), updatedAt: String(r.updatedAt ?? 'unknown') };
  return { id: String(r.receipt_id ?? 'unknown'), updatedAt: String(r.updated_timestamp ?? r.update_timestamp ?? 'unknown') };
}

/**
 * Queue every changed order of a page under (order, updated_at). A record that cannot be read is
 * queued raw, so it waits as its own dead letter (retryable once the cause is fixed) instead of
 * stopping the pass and pinning the watermark behind it.
 */
async function queuePage(ctx: HandlerContext, shop: ShopConfig, page: unknown[], tally: RunTally): Promise<void> {
  tally.pages += 1;
  for (const raw of page) {
    tally.listed += 1;
    let order: ShopOrder | null;
    try {
      order = normalizeRecord(shop, raw);
    } catch (err) {
      const key = rawKey(shop, raw);
      ctx.logger.error({ shop: shop.id, record: key.id, err }, (err as Error).message);
      await ctx.enqueue({ id: `${ORDER_HANDLER}|${shop.id}|${key.id}|${key.updatedAt}`, name: ORDER_HANDLER, site: shop.site, data: { shop: shop.id, raw } });
      tally.unreadable += 1;
      continue;
    }
    // An Etsy receipt not paid yet: polled again once it changes.
    if (!order) {
      tally.skip('not paid yet');
      continue;
    }
    // A known id is a version queued before (applied, or still waiting / parked): nothing to add.
    if (await ctx.enqueue({ id: orderJobId(shop.id, order), name: ORDER_HANDLER, site: shop.site, data: { shop: shop.id, order } })) tally.enqueued += 1;
    else tally.upToDate += 1;
    if (!tally.newest || order.updatedAt > tally.newest) tally.newest = order.updatedAt;
  }
}

async function reconcilePass(ctx: HandlerContext, shop: ShopConfig, sinceIso: string, tally: RunTally): Promise<void> {
  const pages = shop.platform === 'shopify' ? ordersUpdatedSince(shop, sinceIso, ctx.signal) : new EtsyApi(ctx, shop).receiptsModifiedSince(Date.parse(sinceIso) / 1000);
  // (receipt, update time) is the job id: offset paging that shifts mid-scan, and the overlap,
  // hand the same version back without adding work.
  for await (const page of pages) await queuePage(ctx, shop, page, tally);
}

/**
 * One reconciliation pass for a shop; `since` overrides the watermark (backfill). What it did goes
 * to the shop's recorded runs (reconcile_runs.ts), also when it fails.
 */
export async function reconcileShop(ctx: HandlerContext, shop: ShopConfig, since?: string): Promise<ReconcileRun> {
  const startedAtMs = Date.now();
  const mark = await ctx.meta.get(watermarkKey(shop.id));
  const from =
    since ??
    (mark
      ? new Date(Date.parse(mark) - shop.reconcile.overlapMinutes * 60_000).toISOString()
      : new Date(Date.now() - shop.reconcile.initialLookbackHours * 3_600_000).toISOString());
  const tally = new RunTally();
  const run = (outcome: ReconcileRun['outcome'], after: string | null, error: string | null): ReconcileRun => {
    const finishedAtMs = outcome === 'running' ? null : Date.now();
    return {
      job: ctx.job.id,
      attempt: ctx.attempt,
      trigger: since === undefined ? 'scheduled' : 'backfill',
      outcome,
      startedAt: new Date(startedAtMs).toISOString(),
      finishedAt: finishedAtMs === null ? null : new Date(finishedAtMs).toISOString(),
      durationMs: finishedAtMs === null ? null : finishedAtMs - startedAtMs,
      watermarkBefore: mark,
      since: from,
      watermarkAfter: after,
      ...tally.counts(),
      error,
    };
  };
  await recordRun(ctx, shop.id, run('running', mark, null));
  try {
    await reconcilePass(ctx, shop, from, tally);
  } catch (err) {
    // The watermark stays: the next attempt (or run) reads the same changes again, adding nothing it already queued.
    const error = redactSecrets(describeError(err));
    // Losing the record must not hide the run's own error.
    await recordRun(ctx, shop.id, run('failed', mark, error.length > 300 ? `${error.slice(0, 297)}...` : error)).catch((e: unknown) =>
      ctx.logger.warn({ shop: shop.id, job: ctx.job.id, err: e }, `${shop.id}: could not record the failed reconciliation run`),
    );
    throw err;
  }
  // Never backwards: a backfill from long ago must not make the next run re-read everything.
  const after = tally.newest && (!mark || tally.newest > mark) ? tally.newest : mark;
  if (after !== mark && after) await ctx.meta.set(watermarkKey(shop.id), after);
  const done = run('completed', after, null);
  await recordRun(ctx, shop.id, done);
  ctx.logger.info(
    { event: 'shop_reconciled', shop: shop.id, since: from, listed: done.listed, enqueued: done.enqueued, upToDate: done.upToDate, unreadable: done.unreadable, skipped: done.skipped, pages: done.pages },
    `${shop.id}: reconciliation since ${from} listed ${done.listed} order(s) in ${done.pages} page(s): ${done.enqueued} queued (new or newer), ${done.upToDate} up to date, ${done.unreadable} unreadable, ${done.skipped} skipped`,
  );
  return done;
}

/** A stored webhook delivery → the order it names, applied (in-process, or in the shop apply thread). */
export async function applyDelivery(ctx: HandlerContext, shops: ShopConfig[], data: DeliveryData): Promise<void> {
  const shop = shopById(shops, data.shop);
  const order = await deliveryOrder(ctx, shop, data);
  if (!order) return void ctx.logger.info({ shop: shop.id, delivery: ctx.job.id }, `${shop.id}: ${data.topic} names a receipt that is not paid yet; it is applied once paid`);
  await applyOrder(ctx, shop, order);
}

/** An order reconciliation queued, applied. */
export async function applyReconciled(ctx: HandlerContext, shops: ShopConfig[], data: OrderJobData): Promise<void> {
  const shop = shopById(shops, data.shop);
  // A record reconciliation could not read is read again here: after a fix, a retry applies it.
  const order = data.order ?? normalizeRecord(shop, data.raw);
  if (order) await applyOrder(ctx, shop, order);
}

export interface ShopHandlerOptions {
  /**
   * Where Shopify deliveries and orders are applied, off the thread that acknowledges webhooks
   * (README "Shop order sync"); without it, in-process. Etsy's stay in-process: its API needs the shop's
   * secrets and a token refresh kept in the job store.
   */
  applyThread?: ApplyThread;
}

export function createShopHandlers(shops: ShopConfig[], opts: ShopHandlerOptions = {}): HandlerRegistry {
  const { applyThread } = opts;
  // Checked here first, so a delivery for a shop no longer configured fails the same way either side.
  const inThread = (id: unknown): boolean => applyThread !== undefined && shopById(shops, id).platform === 'shopify';
  return {
    [DELIVERY_HANDLER]: jobHandler(DELIVERY_HANDLER, (ctx, data) => (inThread(data.shop) ? applyThread!.run(ctx, DELIVERY_HANDLER) : applyDelivery(ctx, shops, data))),
    [ORDER_HANDLER]: jobHandler(ORDER_HANDLER, (ctx, data) => (inThread(data.shop) ? applyThread!.run(ctx, ORDER_HANDLER) : applyReconciled(ctx, shops, data))),
    [RECONCILE_HANDLER]: jobHandler(RECONCILE_HANDLER, async (ctx, data) => {
      if (data.shop) {
        await reconcileShop(ctx, shopById(shops, data.shop), data.since);
        return;
      }
      // The scheduler's tick fans out one job per shop, so one shop's outage does not hold up
      // (or retry) the others.
      const slot = data.slot ?? String(Date.now());
      for (const shop of shops.filter((s) => s.site === ctx.site && s.reconcile.enabled)) {
        await ctx.enqueue({ id: `${RECONCILE_HANDLER}|${shop.id}|${slot}`, name: RECONCILE_HANDLER, site: shop.site, data: { shop: shop.id }, maxAttempts: 3 });
      }
    }),
  };
}
