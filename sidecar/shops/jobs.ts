/**
 * The shop-sync jobs' names, ids and retry policy, shared by the webhook receivers, the handlers
 * and the admin endpoints. Ids are deterministic, so a redelivery or a repeated listing of the same
 * version adds nothing.
 */
import type { JobPolicy } from '../jobs/runner.js';
import type { ShopOrder } from './order.js';

/** A stored webhook delivery, as the receiver (sidecar/shops/webhooks/router.ts) wrote it. */
export interface DeliveryData extends Record<string, unknown> {
  shop: string;
  platform: 'shopify' | 'etsy';
  topic: string;
  webhookId: string;
  eventId: string | null;
  receivedAt: string;
  /** The raw body as received (UTF-8), so a replay sees exactly what was signed. */
  body: string;
}

/** One order found by reconciliation: `order` when it could be read, `raw` (read again by the job) when not. */
export interface OrderJobData extends Record<string, unknown> {
  shop: string;
  order?: ShopOrder;
  raw?: unknown;
}

/** With `shop`: reconcile that shop (from `since`, else its watermark). Without: a scheduler tick that fans out per shop. */
export interface ReconcileJobData extends Record<string, unknown> {
  shop?: string;
  since?: string;
  slot?: string;
  timeZone?: string;
}

declare module '../jobs/payloads.js' {
  interface JobPayloads {
    'shops.delivery': DeliveryData;
    'shops.order': OrderJobData;
    'shops.reconcile': ReconcileJobData;
  }
}
export const DELIVERY_HANDLER = 'shops.delivery' as const;
export const ORDER_HANDLER = 'shops.order' as const;
export const RECONCILE_HANDLER = 'shops.reconcile' as const;

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

/** The shop handlers' own policies, which the runner puts over the sidecar's job defaults. */
export const SHOP_JOB_POLICIES: Record<string, JobPolicy> = {
  [DELIVERY_HANDLER]: SHOP_JOB_POLICY,
  [ORDER_HANDLER]: SHOP_JOB_POLICY,
};
