/**
 * Shop lines → ERPNext item codes: the shop's `skuMap` first, else the SKU as an item code. One
 * list call for the whole order (the official connector ran several queries per line, and a live
 * Shopify call on a miss, inside the job's transaction: frappe/ecommerce_integrations shopify/product.py creates Items on the fly, racing itself).
 */
import type { HandlerContext } from '../../handlers/types.js';
import type { ShopConfig } from '../../../lib/config/shops.js';
import { describeOrder, type ShopOrder } from '../order.js';
import { NeedsMappingError } from './errors.js';

export interface ResolvedItem {
  item_code: string;
  item_name: string;
  stock_uom: string;
}

export async function resolveItems(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder): Promise<ResolvedItem[]> {
  const unnamed = order.lines.filter((l) => !l.sku).map((l) => `"${l.title}"`);
  if (unnamed.length) {
    throw new NeedsMappingError(`${describeOrder(order)}: line(s) ${unnamed.join(', ')} have no SKU; give the product a SKU in the shop, or map it in skuMap`);
  }
  const codes = order.lines.map((l) => shop.skuMap[l.sku] ?? l.sku);
  const found = await ctx.client.getList<{ name: string; item_name: string; stock_uom: string; disabled: number }>('Item', {
    fields: ['name', 'item_name', 'stock_uom', 'disabled'],
    filters: [['name', 'in', [...new Set(codes)]]],
    orderBy: 'name asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  // MariaDB compares names case-insensitively, so `in` finds "CAKE-CHOC" for SKU "cake-choc":
  // match the same way and use the item's own name.
  const byCode = new Map(found.map((i) => [i.name.toLowerCase(), i]));
  const itemFor = (i: number) => byCode.get(codes[i]!.toLowerCase());
  const missing = order.lines.filter((_, i) => !itemFor(i) || itemFor(i)!.disabled);
  if (missing.length) {
    const list = missing.map((l) => `SKU "${l.sku}"${shop.skuMap[l.sku] ? ` → item ${shop.skuMap[l.sku]}` : ''} ("${l.title}")`).join(', ');
    throw new NeedsMappingError(`${describeOrder(order)}: no enabled ERPNext Item for ${list}; create the item or add the SKU to shops[${shop.id}].skuMap`);
  }
  return codes.map((_, i) => {
    const item = itemFor(i)!;
    return { item_code: item.name, item_name: item.item_name, stock_uom: item.stock_uom };
  });
}
