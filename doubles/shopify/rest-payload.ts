/**
 * Renders the webhook body text. Shopify sends ids as bare JSON numbers, many above 2^53, so the
 * text must carry the exact digits: `JSON.stringify` of a JS number cannot, hence the store keeps
 * ids as strings and this module re-emits them as BigInts through lossless-json.
 *
 * Which fields are numeric: REST Order resource (Shopify/shopify-app-js
 * `packages/apps/shopify-api/rest/admin/2025-07/order.ts`): `id` and the `*_id` references
 * (`product_id`, `variant_id`, `customer_id`, `location_id`, `order_id`, …). `admin_graphql_api_id`
 * is a gid string and stays a string because its value is not all digits.
 */
import { stringify } from 'lossless-json';
import type { ShopifyOrder } from './types.js';

const DIGITS = /^\d+$/;

const isIdKey = (key: string) => key === 'id' || key.endsWith('_id');

/** Deep copy with digit-string ids turned into BigInt so the serializer writes them unquoted. */
function numericIds(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && isIdKey(key) && DIGITS.test(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => numericIds(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = numericIds(v, k);
    return out;
  }
  return value;
}

/** The exact body text of an order webhook (compact, as Shopify sends it). */
export function orderPayloadText(order: ShopifyOrder): string {
  const text = stringify(numericIds(order));
  if (text === undefined) throw new Error('order did not serialize');
  return text;
}

/** `orders/delete` carries only the id (shopify.dev webhooks reference, ORDERS_DELETE sample). */
export function deletePayloadText(orderId: string): string {
  return `{"id":${BigInt(orderId).toString()}}`;
}
