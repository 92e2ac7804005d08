/**
 * One shape for a shop order, whatever brought it: a Shopify webhook (REST resource), a Shopify
 * reconciliation page (Admin GraphQL) or an Etsy receipt. The ERPNext side only ever sees this.
 * Ids are strings (Shopify's exceed 2^53); money is in the order's currency, rounded to cents.
 */
export interface ShopAddress {
  name: string;
  company?: string;
  line1: string;
  line2?: string;
  city: string;
  state?: string;
  zip?: string;
  /** ISO 3166-1 alpha-2, upper-case. */
  countryCode?: string;
  countryName?: string;
  phone?: string;
}

export interface ShopCustomer {
  /** The shop's customer id, when the order has a customer record (not a guest). */
  id?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
}

export interface ShopLine {
  sku: string;
  title: string;
  qty: number;
  /** Net unit price: after discounts, before tax. */
  rate: number;
}

export interface ShopCharge {
  title: string;
  amount: number;
}

export interface ShopOrder {
  platform: 'shopify' | 'etsy';
  /** Config id of the shop. */
  shop: string;
  /** Shop order id / Etsy receipt id. */
  id: string;
  /** What people call the order: "#1001", or the receipt id. */
  number: string;
  /** ISO-8601 UTC with milliseconds, so stored values compare as strings. */
  createdAt: string;
  /** The order's calendar date where it was placed (the shop's offset): ERPNext's transaction date. */
  createdDate: string;
  updatedAt: string;
  currency: string;
  cancelled: boolean;
  customer: ShopCustomer | null;
  billingAddress: ShopAddress | null;
  shippingAddress: ShopAddress | null;
  lines: ShopLine[];
  taxes: ShopCharge[];
  shipping: ShopCharge[];
}

export function cents(n: number): number {
  return Math.round((n + Number.EPSILON) * 100) / 100;
}

/** Shop timestamps ("2026-11-20T10:15:00-05:00", epoch seconds) → "2026-11-20T15:15:00.000Z". */
export function isoUtc(value: string | number): string {
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${String(value)}`);
  return d.toISOString();
}

/** "2026-11-20T22:15:00-05:00" → "2026-11-20": the date as written, in the offset it was written in. */
export function localDate(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  if (!m) throw new Error(`not an ISO-8601 timestamp: ${value}`);
  return m[1]!;
}

/** "Order #1001 (shopify demo-shop.myshopify.com)" for messages. */
export function describeOrder(order: Pick<ShopOrder, 'platform' | 'number' | 'id' | 'shop'>): string {
  return `${order.platform === 'shopify' ? 'Shopify' : 'Etsy'} order ${order.number} (id ${order.id}, shop ${order.shop})`;
}
