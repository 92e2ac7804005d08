/**
 * Etsy's notification is thin and documented in two shapes (developers.etsy.com/documentation/essentials/webhooks, and etsy/open-api#1509):
 * `{event_type, resource_url: …/shops/<shop_id>/receipts/<receipt_id>, shop_id}` and
 * `{event_type, event_id, created_at, data: {receipt_id, shop_id}}`. Accept both.
 */
import { idString } from '../lossless_json.js';

export function etsyTarget(payload: Record<string, unknown>): { shopId?: string; receiptId?: string } {
  const data = (payload.data && typeof payload.data === 'object' ? payload.data : {}) as Record<string, unknown>;
  const url = typeof payload.resource_url === 'string' ? payload.resource_url : '';
  const m = /\/shops\/(\d+)\/receipts\/(\d+)/.exec(url);
  return {
    shopId: idString(payload.shop_id) ?? idString(data.shop_id) ?? m?.[1],
    receiptId: idString(data.receipt_id) ?? idString(payload.receipt_id) ?? m?.[2],
  };
}
