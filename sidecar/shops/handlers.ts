/**
 * Shop sync jobs (hooks_manifest.json):
 * - `shops.delivery`: a stored webhook delivery (the inbox). Shopify's body is the order itself;
 *   Etsy's names a receipt, which is fetched. Every order topic is applied as "the order as of its
 *   updated_at", so `orders/paid` arriving before `orders/create` creates the order.
 * - `shops.order`: one order found by reconciliation.
 * - `shops.reconcile`: on the scheduler, per shop of the site, list what changed since the
 *   watermark (minus an overlap) and queue each order under an id of (order, updated_at), so
 *   overlaps and repeated runs add nothing; then move the watermark.
 */
import { PermanentError } from '../errors.js';
import type { HandlerContext, HandlerRegistry } from '../handlers/types.js';
import type { ShopConfig, ShopifyShop, EtsyShop } from './config.js';
import { applyOrder } from './erpnext/sales_order.js';
import { EtsyApi } from './etsy/api.js';
import { etsyReceiptToOrder } from './etsy/receipt.js';
import { parseLossless } from './lossless_json.js';
import type { ShopOrder } from './order.js';
import { graphqlToRest, ordersUpdatedSince } from './shopify/admin_api.js';
import { shopifyRestOrderSchema, shopifyRestToOrder } from './shopify/rest_order.js';
import { etsyTarget, type DeliveryData } from './webhooks/router.js';

export const RECONCILE_HANDLER = 'shops.reconcile';
export const ORDER_HANDLER = 'shops.order';

export function orderJobId(shop: string, order: Pick<ShopOrder, 'id' | 'updatedAt'>): string {
  return `shops.order|${shop}|${order.id}|${order.updatedAt}`;
}

export const watermarkKey = (shop: string) => `shops.reconcile|${shop}`;

function shopById(shops: ShopConfig[], id: unknown): ShopConfig {
  const shop = shops.find((s) => s.id === id);
  // The delivery outlives its configuration (the shop was removed): keep it visible, do not drop it.
  if (!shop) throw new PermanentError(`shop "${String(id)}" is not configured any more; add it back, then retry this job`);
  return shop;
}

export function parseShopifyOrder(shop: ShopifyShop, body: string): ShopOrder {
  const parsed = shopifyRestOrderSchema.safeParse(parseLossless(body));
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

async function reconcileShopify(ctx: HandlerContext, shop: ShopifyShop, sinceIso: string): Promise<{ seen: number; queued: number; newest: string | null }> {
  let seen = 0;
  let queued = 0;
  let newest: string | null = null;
  for await (const page of ordersUpdatedSince(shop, sinceIso, ctx.signal)) {
    for (const node of page) {
      const order = shopifyRestToOrder(shop.id, shopifyRestOrderSchema.parse(graphqlToRest(node)));
      seen += 1;
      if (await ctx.enqueue({ id: orderJobId(shop.id, order), name: ORDER_HANDLER, site: shop.site, data: { shop: shop.id, order } })) queued += 1;
      if (!newest || order.updatedAt > newest) newest = order.updatedAt;
    }
  }
  return { seen, queued, newest };
}

async function reconcileEtsy(ctx: HandlerContext, shop: EtsyShop, sinceIso: string): Promise<{ seen: number; queued: number; newest: string | null }> {
  let seen = 0;
  let queued = 0;
  let newest: string | null = null;
  for await (const page of new EtsyApi(ctx, shop).receiptsModifiedSince(Date.parse(sinceIso) / 1000)) {
    for (const receipt of page) {
      seen += 1;
      const order = etsyReceiptToOrder(shop.id, receipt);
      if (!order) continue;
      // (receipt, update time) is the job id: offset paging that shifts mid-scan, and the overlap,
      // hand the same receipt back without adding work.
      if (await ctx.enqueue({ id: orderJobId(shop.id, order), name: ORDER_HANDLER, site: shop.site, data: { shop: shop.id, order } })) queued += 1;
      if (!newest || order.updatedAt > newest) newest = order.updatedAt;
    }
  }
  return { seen, queued, newest };
}

/** One reconciliation pass for a shop; `since` overrides the watermark (backfill). */
export async function reconcileShop(ctx: HandlerContext, shop: ShopConfig, since?: string): Promise<{ seen: number; queued: number; since: string }> {
  const mark = await ctx.meta.get(watermarkKey(shop.id));
  const from =
    since ??
    (mark
      ? new Date(Date.parse(mark) - shop.reconcile.overlapMinutes * 60_000).toISOString()
      : new Date(Date.now() - shop.reconcile.initialLookbackHours * 3_600_000).toISOString());
  const result = shop.platform === 'shopify' ? await reconcileShopify(ctx, shop, from) : await reconcileEtsy(ctx, shop, from);
  // Never backwards: a backfill from long ago must not make the next run re-read everything.
  if (result.newest && (!mark || result.newest > mark)) await ctx.meta.set(watermarkKey(shop.id), result.newest);
  ctx.logger.info(
    { event: 'shop_reconciled', shop: shop.id, since: from, seen: result.seen, queued: result.queued },
    `${shop.id}: reconciliation since ${from} saw ${result.seen} order(s), queued ${result.queued} new version(s)`,
  );
  return { seen: result.seen, queued: result.queued, since: from };
}

export function createShopHandlers(shops: ShopConfig[]): HandlerRegistry {
  return {
    'shops.delivery': async (ctx) => {
      const data = ctx.job.data as DeliveryData;
      const shop = shopById(shops, data.shop);
      const order = await deliveryOrder(ctx, shop, data);
      if (!order) return void ctx.logger.info({ shop: shop.id, delivery: ctx.job.id }, `${shop.id}: ${data.topic} names a receipt that is not paid yet; it is applied once paid`);
      await applyOrder(ctx, shop, order);
    },
    [ORDER_HANDLER]: async (ctx) => {
      const shop = shopById(shops, ctx.job.data.shop);
      await applyOrder(ctx, shop, ctx.job.data.order as ShopOrder);
    },
    [RECONCILE_HANDLER]: async (ctx) => {
      const only = typeof ctx.job.data.shop === 'string' ? ctx.job.data.shop : null;
      if (only) {
        const since = typeof ctx.job.data.since === 'string' ? ctx.job.data.since : undefined;
        await reconcileShop(ctx, shopById(shops, only), since);
        return;
      }
      // The scheduler's tick fans out one job per shop, so one shop's outage does not hold up
      // (or retry) the others.
      const slot = String(ctx.job.data.slot ?? Date.now());
      for (const shop of shops.filter((s) => s.site === ctx.site && s.reconcile.enabled)) {
        await ctx.enqueue({ id: `${RECONCILE_HANDLER}|${shop.id}|${slot}`, name: RECONCILE_HANDLER, site: shop.site, data: { shop: shop.id }, maxAttempts: 3 });
      }
    },
  };
}
