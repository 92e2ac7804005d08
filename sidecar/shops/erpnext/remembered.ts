/**
 * What an earlier order already ensured on the site, remembered in the job store (shared by every
 * replica) for `erpnext.rememberMinutes` (10 by default; 0 remembers nothing):
 * - per customer key: the Customer's name, the emails known to have a Contact, and the addresses
 *   (type, first line, postcode) known to be linked to it;
 * - per item code (after skuMap): the enabled Item it resolved to.
 * A remembered entry lets the next order of that customer, or with those items, skip the lookups.
 * Only what was found or made is remembered, never a miss, so a SKU parked as needs mapping is
 * looked up again on retry. An entry is dropped when the Sales Order built from it is refused
 * (sales_order.ts), and the order is then resolved afresh.
 */
import type { HandlerContext } from '../../handlers/types.js';
import type { ShopConfig } from '../../../lib/config/shops.js';

/** An enabled ERPNext Item a shop line resolved to (items.ts), as remembered and as used. */
export interface ResolvedItem {
  item_code: string;
  item_name: string;
  stock_uom: string;
}

export const DEFAULT_REMEMBER_MINUTES = 10;

export interface ResolveOptions {
  /** Ignore what is remembered: look everything up (and remember it anew). */
  fresh?: boolean;
  /** Set when something remembered was used, so a refusal of the result may be its fault. */
  recalled?: { used: boolean };
}

export interface RememberedCustomer {
  customer: string;
  /** Lower-case emails with a Contact. */
  emails: string[];
  /** addressFingerprint() of each address known to be linked to the customer. */
  addresses: string[];
}

export function rememberMs(shop: ShopConfig): number {
  return (shop.erpnext.rememberMinutes ?? DEFAULT_REMEMBER_MINUTES) * 60_000;
}

export const customerMemoKey = (ctx: HandlerContext, key: string) => `shops.ensured|${ctx.site}|customer|${key}`;
export const itemMemoKey = (ctx: HandlerContext, code: string) => `shops.ensured|${ctx.site}|item|${code.toLowerCase()}`;

function parse<T>(raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

export async function recallCustomer(ctx: HandlerContext, shop: ShopConfig, key: string): Promise<RememberedCustomer | null> {
  if (rememberMs(shop) <= 0) return null;
  const [raw] = await ctx.meta.recall([customerMemoKey(ctx, key)]);
  const memo = parse<RememberedCustomer>(raw);
  return memo && typeof memo.customer === 'string' && Array.isArray(memo.emails) && Array.isArray(memo.addresses) ? memo : null;
}

export async function rememberCustomer(ctx: HandlerContext, shop: ShopConfig, key: string, memo: RememberedCustomer): Promise<void> {
  const ttl = rememberMs(shop);
  if (ttl > 0) await ctx.meta.remember(customerMemoKey(ctx, key), JSON.stringify(memo), ttl);
}

/** Remembered items by lower-case code; codes with nothing remembered are absent. */
export async function recallItems(ctx: HandlerContext, shop: ShopConfig, codes: string[]): Promise<Map<string, ResolvedItem>> {
  const out = new Map<string, ResolvedItem>();
  if (rememberMs(shop) <= 0 || codes.length === 0) return out;
  const raws = await ctx.meta.recall(codes.map((c) => itemMemoKey(ctx, c)));
  codes.forEach((c, i) => {
    const item = parse<ResolvedItem>(raws[i]);
    if (item && typeof item.item_code === 'string') out.set(c.toLowerCase(), item);
  });
  return out;
}

export async function rememberItems(ctx: HandlerContext, shop: ShopConfig, items: Map<string, ResolvedItem>): Promise<void> {
  const ttl = rememberMs(shop);
  if (ttl <= 0) return;
  await Promise.all([...items].map(([code, item]) => ctx.meta.remember(itemMemoKey(ctx, code), JSON.stringify(item), ttl)));
}

/** Drop what an order was built from, after the site refused it. */
export async function forgetFor(ctx: HandlerContext, customerKey: string | null, codes: string[]): Promise<void> {
  await ctx.meta.forget([...(customerKey ? [customerMemoKey(ctx, customerKey)] : []), ...codes.map((c) => itemMemoKey(ctx, c))]);
}
