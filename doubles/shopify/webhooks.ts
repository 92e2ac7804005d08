/**
 * Signed Shopify webhook deliveries.
 *
 * Headers: shopify.dev/docs/apps/build/webhooks/delivery-structure (names as listed there; the
 * header enum `ShopifyHeader` in Shopify/shopify-app-js `packages/apps/shopify-api/lib/types.ts`
 * agrees). HMAC: base64 HMAC-SHA256 of the raw body bytes keyed with the app's client secret
 * (shopify.dev/docs/apps/build/webhooks/verify-deliveries).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { SignedDelivery } from '../shared/http.js';

export interface ShopifyDelivery extends SignedDelivery {
  /** `X-Shopify-Event-Id`: shared by every topic produced by one merchant action. */
  eventId: string;
  /** `X-Shopify-Webhook-Id`: unique per delivery; a retry re-sends the same delivery. */
  webhookId: string;
  topic: string;
}

export function shopifyHmac(body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export interface DeliveryHeaderInput {
  topic: string;
  shopDomain: string;
  apiVersion: string;
  body: string;
  secret: string;
  eventId: string;
  webhookId?: string;
  /** ISO-8601 UTC; Shopify's own values carry sub-second digits. */
  triggeredAt: string;
  /** `X-Shopify-Name`, sent only when the subscription has a name. */
  name?: string;
}

export function buildDelivery(input: DeliveryHeaderInput): ShopifyDelivery {
  const webhookId = input.webhookId ?? randomUUID();
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': input.topic,
    'X-Shopify-Hmac-Sha256': shopifyHmac(input.body, input.secret),
    'X-Shopify-Shop-Domain': input.shopDomain,
    'X-Shopify-API-Version': input.apiVersion,
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-Event-Id': input.eventId,
    'X-Shopify-Triggered-At': input.triggeredAt,
  };
  if (input.name) headers['X-Shopify-Name'] = input.name;
  return { headers, body: input.body, eventId: input.eventId, webhookId, topic: input.topic };
}
