/**
 * Shop lines → ERPNext item codes: the shop's `skuMap` first, else the SKU as an item code. One
 * list call for the whole order (the official connector ran several queries per line, and a live
 * Shopify call on a miss, inside the job's transaction: frappe/ecommerce_integrations shopify/product.py
 * creates Items on the fly, racing itself), none for codes an earlier order resolved within the
 * remembered window (remembered.ts).
 */
import type { HandlerContext } from '../../handlers/types.js';
import type { ShopConfig } from '../../../lib/config/shops.js';
import { describeOrder, type ShopOrder } from '../order.js';
import { NeedsMappingError } from './errors.js';
import { recallItems, rememberItems, type ResolvedItem, type ResolveOptions } from './remembered.js';

export type { ResolvedItem };

/** The item codes an order's lines resolve to, after skuMap, in line order. */
export function itemCodes(shop: ShopConfig, order: ShopOrder): string[] {
  return order.lines.map((l) => shop.skuMap[l.sku] ?? l.sku);
}

export async function resolveItems(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder, opts: ResolveOptions = {}): Promise<ResolvedItem[]> {
  const unnamed = order.lines.filter((l) => !l.sku).map((l) => `"${l.title}"`);
  if (unnamed.length) {
    throw new NeedsMappingError(`${describeOrder(order)}: line(s) ${unnamed.join(', ')} have no SKU; give the product a SKU in the shop, or map it in skuMap`);
  }
  const codes = itemCodes(shop, order);
  const distinct = [...new Map(codes.map((c) => [c.toLowerCase(), c])).values()];
  // MariaDB compares names case-insensitively, so `in` finds "CAKE-CHOC" for SKU "cake-choc":
  // match the same way and use the item's own name.
  const known = opts.fresh ? new Map<string, ResolvedItem>() : await recallItems(ctx, shop, distinct);
  const unknown = distinct.filter((c) => !known.has(c.toLowerCase()));
  if (known.size && opts.recalled) opts.recalled.used = true;
  const found = unknown.length
    ? await ctx.client.getList<{ name: string; item_name: string; stock_uom: string; disabled: number }>('Item', {
        fields: ['name', 'item_name', 'stock_uom', 'disabled'],
        filters: [['name', 'in', unknown]],
        orderBy: 'name asc',
        limitPageLength: 0,
        signal: ctx.signal,
      })
    : [];
  const looked = new Map(found.filter((i) => !i.disabled).map((i) => [i.name.toLowerCase(), { item_code: i.name, item_name: i.item_name, stock_uom: i.stock_uom }]));
  const itemFor = (i: number) => known.get(codes[i]!.toLowerCase()) ?? looked.get(codes[i]!.toLowerCase());
  const missing = order.lines.filter((_, i) => !itemFor(i));
  if (missing.length) {
    const list = missing.map((l) => `SKU "${l.sku}"${shop.skuMap[l.sku] ? ` → item ${shop.skuMap[l.sku]}` : ''} ("${l.title}")`).join(', ');
    throw new NeedsMappingError(`${describeOrder(order)}: no enabled ERPNext Item for ${list}; create the item or add the SKU to shops[${shop.id}].skuMap`);
  }
  // Only what was found enabled is remembered: a miss is asked again on the next order.
  if (looked.size) await rememberItems(ctx, shop, new Map(unknown.filter((c) => looked.has(c.toLowerCase())).map((c) => [c, looked.get(c.toLowerCase())!])));
  return codes.map((_, i) => ({ ...itemFor(i)! }));
}
