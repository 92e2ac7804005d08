/**
 * The shop-sync jobs' names, ids and retry policy, shared by the webhook receivers, the handlers
 * and the admin endpoints. Ids are deterministic, so a redelivery or a repeated listing of the same
 * version adds nothing.
 */
export const DELIVERY_HANDLER = 'shops.delivery';
export const ORDER_HANDLER = 'shops.order';
export const RECONCILE_HANDLER = 'shops.reconcile';

/** A webhook delivery: one per shop, topic and event (Shopify's Event-Id, Etsy's webhook-id). */
export function deliveryJobId(shop: string, topic: string, key: string): string {
  return `${DELIVERY_HANDLER}|${shop}|${topic}|${key}`;
}

/** One version of one order, as reconciliation found it. */
export function orderJobId(shop: string, order: { id: string; updatedAt: string }): string {
  return `${ORDER_HANDLER}|${shop}|${order.id}|${order.updatedAt}`;
}

/** Where reconciliation of a shop has got to (job-store meta). */
export const watermarkKey = (shop: string) => `${RECONCILE_HANDLER}|${shop}`;

/**
 * Shop work outlives a site outage: a delivery acknowledged to the shop is retried for about two
 * hours (1 s doubling to the 5-minute cap, 32 attempts: the ceilings add up to 7,100 s) before it
 * is dead-lettered, where the default policy gives up after a few minutes. The first retries come
 * quickly because most failures are one lost call on a site that otherwise answers (a write that
 * timed out, bench/shop_faults.bench.ts); a retry holds no worker while it waits.
 */
export const SHOP_JOB_POLICY = { maxAttempts: 32, backoffMs: 1000 } as const;
