/**
 * Etsy webhooks follow the Standard Webhooks scheme (as documented by the api-evangelist Etsy
 * AsyncAPI; Etsy's own page is not specific — UNVERIFIED against a live delivery):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`
 * keyed with the base64-decoded secret after its `whsec_` prefix — the computation of
 * standard-webhooks/standard-webhooks `libraries/javascript/src/index.ts` (`Webhook.sign`).
 *
 * Payloads are thin notifications; both documented shapes are produced:
 *  - 'resource': `{event_type, resource_url, shop_id}` (api-evangelist AsyncAPI)
 *  - 'envelope': `{event_type, event_id, created_at, data: {receipt_id, shop_id}}` (Etsy's older
 *    webhooks page lists event_type/event_id/created_at/data; `created_at` as epoch seconds is ASSUMED).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SignedDelivery } from '../shared/http.js';

export type EtsyWebhookShape = 'resource' | 'envelope';

export interface EtsySignInput {
  /** `whsec_<base64>` (the prefix is optional, as in the reference library). */
  secret: string;
  /** `webhook-id`, e.g. "msg_…". */
  id: string;
  /** `webhook-timestamp`, epoch seconds. */
  timestamp: number;
  /** The exact body text. */
  body: string;
}

export function standardWebhookSignature({ secret, id, timestamp, body }: EtsySignInput): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new Error("webhook secret can't be empty");
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

export function signEtsyWebhook(input: EtsySignInput): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': `v1,${standardWebhookSignature(input)}`,
  };
}

/** A fresh endpoint secret in the Standard Webhooks format. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/** Message ids look like Svix's ("msg_…"); Etsy's portal appears to be Svix-based (UNVERIFIED). */
export const newMessageId = (): string => `msg_${randomBytes(18).toString('base64url')}`;

export interface EtsyPayloadInput {
  eventType: string;
  shopId: number;
  receiptId: number;
  shape: EtsyWebhookShape;
  eventId: string;
  createdAt: number;
  /** Base of `resource_url`; Etsy's is https://api.etsy.com. */
  resourceBase: string;
}

export function etsyWebhookPayload(p: EtsyPayloadInput): Record<string, unknown> {
  if (p.shape === 'resource') {
    return {
      event_type: p.eventType,
      resource_url: `${p.resourceBase}/v3/application/shops/${p.shopId}/receipts/${p.receiptId}`,
      shop_id: p.shopId,
    };
  }
  return {
    event_type: p.eventType,
    event_id: p.eventId,
    created_at: p.createdAt,
    data: { receipt_id: p.receiptId, shop_id: p.shopId },
  };
}

export interface EtsyDelivery extends SignedDelivery {
  /** `webhook-id` */
  id: string;
  /** `webhook-timestamp` (epoch seconds) */
  timestamp: number;
}
