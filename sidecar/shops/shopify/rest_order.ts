/**
 * A Shopify webhook body (the REST Admin API Order resource, shopify.dev/docs/api/admin-rest/latest/resources/order) → ShopOrder. Amounts arrive
 * as decimal strings, ids as numbers beyond 2^53 (kept as strings by parseLossless), `customer` is
 * null for guest/POS orders and `sku` may be "". Line rates follow the official connector's rule
 * (price − discount allocations per unit, minus the per-unit tax when prices include tax).
 */
import { z } from 'zod';
import { idString } from '../lossless_json.js';
import { cents, isoUtc, localDate, type ShopAddress, type ShopCharge, type ShopLine, type ShopOrder } from '../order.js';

const money = z.union([z.string(), z.number()]).transform((v) => Number(v));
const id = z.union([z.string(), z.number()]).nullish();
const taxLine = z.object({ title: z.string().nullish(), price: money.nullish(), rate: z.number().nullish() }).passthrough();
const address = z
  .object({
    first_name: z.string().nullish(),
    last_name: z.string().nullish(),
    name: z.string().nullish(),
    company: z.string().nullish(),
    address1: z.string().nullish(),
    address2: z.string().nullish(),
    city: z.string().nullish(),
    province: z.string().nullish(),
    zip: z.string().nullish(),
    country: z.string().nullish(),
    country_code: z.string().nullish(),
    phone: z.string().nullish(),
  })
  .passthrough()
  .nullish();

export const shopifyRestOrderSchema = z
  .object({
    id: z.union([z.string(), z.number()]),
    name: z.string().nullish(),
    order_number: z.number().nullish(),
    email: z.string().nullish(),
    contact_email: z.string().nullish(),
    phone: z.string().nullish(),
    created_at: z.string(),
    updated_at: z.string(),
    cancelled_at: z.string().nullish(),
    currency: z.string().length(3),
    taxes_included: z.boolean().nullish(),
    customer: z
      .object({ id, email: z.string().nullish(), first_name: z.string().nullish(), last_name: z.string().nullish(), phone: z.string().nullish() })
      .passthrough()
      .nullish(),
    billing_address: address,
    shipping_address: address,
    line_items: z.array(
      z
        .object({
          sku: z.string().nullish(),
          title: z.string().nullish(),
          name: z.string().nullish(),
          quantity: z.number(),
          current_quantity: z.number().nullish(),
          price: money,
          discount_allocations: z.array(z.object({ amount: money }).passthrough()).nullish(),
          tax_lines: z.array(taxLine).nullish(),
        })
        .passthrough(),
    ),
    shipping_lines: z
      .array(
        z
          .object({
            title: z.string().nullish(),
            price: money,
            discounted_price: money.nullish(),
            discount_allocations: z.array(z.object({ amount: money }).passthrough()).nullish(),
            tax_lines: z.array(taxLine).nullish(),
            is_removed: z.boolean().nullish(),
          })
          .passthrough(),
      )
      .nullish(),
    tax_lines: z.array(taxLine).nullish(),
  })
  .passthrough();

export type ShopifyRestOrder = z.infer<typeof shopifyRestOrderSchema>;

function nonEmpty(v: string | null | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function toAddress(a: z.infer<typeof address>): ShopAddress | null {
  if (!a || !nonEmpty(a.address1) || !nonEmpty(a.city)) return null;
  return {
    name: nonEmpty(a.name) ?? ([a.first_name, a.last_name].filter(Boolean).join(' ') || 'Customer'),
    company: nonEmpty(a.company),
    line1: a.address1!.trim(),
    line2: nonEmpty(a.address2),
    city: a.city!.trim(),
    state: nonEmpty(a.province),
    zip: nonEmpty(a.zip),
    countryCode: nonEmpty(a.country_code)?.toUpperCase(),
    countryName: nonEmpty(a.country),
    phone: nonEmpty(a.phone),
  };
}

/** Sum tax lines by title, in first-seen order. */
export function addTaxes(into: Map<string, number>, lines: { title?: string | null; price?: number | null }[] | null | undefined): void {
  for (const t of lines ?? []) {
    const title = nonEmpty(t.title) ?? 'Tax';
    into.set(title, (into.get(title) ?? 0) + Number(t.price ?? 0));
  }
}

export function chargesFrom(map: Map<string, number>): ShopCharge[] {
  return [...map].map(([title, amount]) => ({ title, amount: cents(amount) })).filter((c) => c.amount !== 0);
}

export function shopifyRestToOrder(shop: string, raw: ShopifyRestOrder): ShopOrder {
  const inclusive = raw.taxes_included === true;
  const taxes = new Map<string, number>();
  const lines: ShopLine[] = [];
  for (const li of raw.line_items) {
    const qty = li.current_quantity ?? li.quantity;
    if (qty <= 0) continue;
    const discount = (li.discount_allocations ?? []).reduce((s, d) => s + d.amount, 0);
    const tax = (li.tax_lines ?? []).reduce((s, t) => s + Number(t.price ?? 0), 0);
    const rate = li.price - discount / li.quantity - (inclusive ? tax / li.quantity : 0);
    lines.push({ sku: (li.sku ?? '').trim(), title: nonEmpty(li.title) ?? nonEmpty(li.name) ?? 'Item', qty, rate: cents(rate) });
    // Tax lines are for the ordered quantity; after removals only the remaining share is owed.
    const share = qty / li.quantity;
    addTaxes(taxes, (li.tax_lines ?? []).map((t) => ({ title: t.title, price: Number(t.price ?? 0) * share })));
  }
  const shippingCharges = new Map<string, number>();
  for (const sl of raw.shipping_lines ?? []) {
    if (sl.is_removed) continue;
    const discounted = sl.discounted_price ?? sl.price - (sl.discount_allocations ?? []).reduce((s, d) => s + d.amount, 0);
    const tax = (sl.tax_lines ?? []).reduce((s, t) => s + Number(t.price ?? 0), 0);
    const title = nonEmpty(sl.title) ?? 'Shipping';
    shippingCharges.set(title, (shippingCharges.get(title) ?? 0) + discounted - (inclusive ? tax : 0));
    addTaxes(taxes, sl.tax_lines);
  }
  // Per-line tax lines are the detail; the order-level list is their sum. Use it only when the
  // lines carry none (older payloads).
  if (taxes.size === 0) addTaxes(taxes, raw.tax_lines);
  const customerId = idString(raw.customer?.id);
  const email = nonEmpty(raw.customer?.email) ?? nonEmpty(raw.email) ?? nonEmpty(raw.contact_email);
  const customer =
    customerId || email
      ? {
          id: customerId,
          email,
          firstName: nonEmpty(raw.customer?.first_name) ?? nonEmpty(raw.billing_address?.first_name ?? undefined),
          lastName: nonEmpty(raw.customer?.last_name) ?? nonEmpty(raw.billing_address?.last_name ?? undefined),
          phone: nonEmpty(raw.customer?.phone) ?? nonEmpty(raw.phone),
        }
      : null;
  const orderId = idString(raw.id)!;
  return {
    platform: 'shopify',
    shop,
    id: orderId,
    number: nonEmpty(raw.name) ?? (raw.order_number ? `#${raw.order_number}` : orderId),
    createdAt: isoUtc(raw.created_at),
    createdDate: localDate(raw.created_at),
    updatedAt: isoUtc(raw.updated_at),
    currency: raw.currency.toUpperCase(),
    cancelled: Boolean(raw.cancelled_at),
    customer,
    billingAddress: toAddress(raw.billing_address),
    shippingAddress: toAddress(raw.shipping_address),
    lines,
    taxes: chargesFrom(taxes),
    shipping: chargesFrom(shippingCharges),
  };
}
