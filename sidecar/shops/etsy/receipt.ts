/**
 * An Etsy `ShopReceipt` (Open API v3 getShopReceipts, developers.etsy.com/documentation/reference#operation/getShopReceipts) → ShopOrder. Money is `{amount, divisor}`;
 * statuses arrive capitalised ("Paid", "Canceled"), so they are compared case-insensitively; there
 * is one ship-to address and no per-line tax; the receipt-level discount is spread over the lines
 * in proportion to their value, so line rates are what the buyer paid before tax and shipping.
 */
import { z } from 'zod';
import { idString } from '../lossless_json.js';
import { cents, isoUtc, type ShopCharge, type ShopOrder } from '../order.js';

const money = z.object({ amount: z.number(), divisor: z.number().positive(), currency_code: z.string() }).passthrough();
const id = z.union([z.string(), z.number()]);

export const etsyReceiptSchema = z
  .object({
    receipt_id: id,
    buyer_user_id: id.nullish(),
    buyer_email: z.string().nullish(),
    name: z.string().nullish(),
    first_line: z.string().nullish(),
    second_line: z.string().nullish(),
    city: z.string().nullish(),
    state: z.string().nullish(),
    zip: z.string().nullish(),
    country_iso: z.string().nullish(),
    status: z.string(),
    is_paid: z.boolean().nullish(),
    created_timestamp: z.number().nullish(),
    create_timestamp: z.number().nullish(),
    updated_timestamp: z.number().nullish(),
    update_timestamp: z.number().nullish(),
    subtotal: money.nullish(),
    total_shipping_cost: money.nullish(),
    total_tax_cost: money.nullish(),
    total_vat_cost: money.nullish(),
    discount_amt: money.nullish(),
    grandtotal: money,
    transactions: z.array(
      z.object({ sku: z.string().nullish(), title: z.string().nullish(), quantity: z.number(), price: money }).passthrough(),
    ),
  })
  .passthrough();

export type EtsyReceipt = z.infer<typeof etsyReceiptSchema>;

const value = (m: z.infer<typeof money> | null | undefined): number => (m ? m.amount / m.divisor : 0);

/** Null for a receipt that is neither paid nor cancelled: nothing to make yet (it is polled again when paid). */
export function etsyReceiptToOrder(shop: string, r: EtsyReceipt): ShopOrder | null {
  const status = r.status.trim().toLowerCase();
  const cancelled = status === 'canceled' || status === 'cancelled';
  const paid = Boolean(r.is_paid) || ['paid', 'completed', 'partially refunded', 'fully refunded'].includes(status);
  if (!paid && !cancelled) return null;
  const created = r.created_timestamp ?? r.create_timestamp;
  const updated = r.updated_timestamp ?? r.update_timestamp ?? created;
  if (!created || !updated) throw new Error(`Etsy receipt ${String(r.receipt_id)} has no timestamps`);
  const gross = r.transactions.reduce((s, t) => s + value(t.price) * t.quantity, 0);
  const discount = value(r.discount_amt);
  const factor = gross > 0 && discount > 0 ? Math.max(0, 1 - discount / gross) : 1;
  const taxes: ShopCharge[] = [];
  if (value(r.total_tax_cost)) taxes.push({ title: 'Sales Tax', amount: cents(value(r.total_tax_cost)) });
  if (value(r.total_vat_cost)) taxes.push({ title: 'VAT', amount: cents(value(r.total_vat_cost)) });
  const shipping = value(r.total_shipping_cost) ? [{ title: 'Shipping', amount: cents(value(r.total_shipping_cost)) }] : [];
  const [firstName, ...rest] = (r.name ?? '').trim().split(/\s+/);
  const receiptId = idString(r.receipt_id)!;
  const buyer = idString(r.buyer_user_id ?? undefined);
  return {
    platform: 'etsy',
    shop,
    id: receiptId,
    number: receiptId,
    createdAt: isoUtc(created),
    createdDate: isoUtc(created).slice(0, 10),
    updatedAt: isoUtc(updated),
    currency: r.grandtotal.currency_code.toUpperCase(),
    cancelled,
    customer: buyer || r.buyer_email ? { id: buyer, email: r.buyer_email ?? undefined, firstName: firstName || undefined, lastName: rest.join(' ') || undefined } : null,
    billingAddress: null,
    shippingAddress:
      r.first_line && r.city
        ? { name: r.name?.trim() || 'Customer', line1: r.first_line, line2: r.second_line ?? undefined, city: r.city, state: r.state ?? undefined, zip: r.zip ?? undefined, countryCode: r.country_iso?.toUpperCase() }
        : null,
    lines: r.transactions.map((t) => ({ sku: (t.sku ?? '').trim(), title: t.title?.trim() || 'Item', qty: t.quantity, rate: cents(value(t.price) * factor) })),
    taxes,
    shipping,
  };
}
