/**
 * Turns a test's partial order into a complete, internally consistent REST-shaped order:
 * realistic defaults for anything omitted, big ids, and totals derived from the lines so the
 * sidecar's arithmetic (rate = price − discount/qty, tax rows, shipping) can be checked against
 * numbers that add up the way Shopify's do.
 */
import { randomBytes } from 'node:crypto';
import { fromCents, money, sumMoney, toCents } from './money.js';
import type {
  ShopifyAddress,
  ShopifyCustomer,
  ShopifyCustomerAddress,
  ShopifyLineItem,
  ShopifyLineItemInput,
  ShopifyOrder,
  ShopifyOrderInput,
  ShopifyShippingLine,
  ShopifyShippingLineInput,
  ShopifyTaxLine,
} from './types.js';

/** Everything the builder needs from its shop: id sequences, clock, naming and tax settings. */
export interface BuildContext {
  nextId: Record<'order' | 'lineItem' | 'customer' | 'address' | 'shippingLine' | 'product' | 'variant', () => string>;
  nextOrderNumber(): number;
  /** Now, rendered in the shop offset. */
  nowIso(): string;
  currency: string;
  namePrefix: string;
  nameSuffix: string;
  /** Applied to default and tax-less input lines when taxes are not given explicitly. */
  defaultTaxRate: number;
  defaultTaxTitle: string;
}

export const gid = (type: string, id: string): string => `gid://shopify/${type}/${id}`;

/** The same object with `keys` first — Shopify payloads lead with `id`, and JSON key order follows insertion. */
function leading<T extends object>(obj: T, keys: (keyof T)[]): T {
  const head: Partial<T> = {};
  for (const k of keys) head[k] = obj[k];
  return Object.assign(head, obj) as T;
}

const DEFAULT_ADDRESS: ShopifyAddress = {
  first_name: 'Jane',
  last_name: 'Doe',
  name: 'Jane Doe',
  company: null,
  address1: '123 Main Street',
  address2: null,
  city: 'Springfield',
  province: 'Illinois',
  province_code: 'IL',
  zip: '62701',
  country: 'United States',
  country_code: 'US',
  phone: '+12175550123',
  latitude: 39.7817,
  longitude: -89.6501,
};

function buildAddress(input: Partial<ShopifyAddress> | null | undefined): ShopifyAddress | null {
  if (input === null) return null;
  const a = { ...DEFAULT_ADDRESS, ...(input ?? {}) };
  if (input && (input.first_name !== undefined || input.last_name !== undefined) && input.name === undefined) {
    a.name = [a.first_name, a.last_name].filter(Boolean).join(' ') || null;
  }
  return a;
}

function buildCustomer(input: ShopifyOrderInput['customer'], ctx: BuildContext, now: string): ShopifyCustomer | null {
  if (input === null) return null;
  const id = input?.id ?? ctx.nextId.customer();
  const first = input?.first_name !== undefined ? input.first_name : 'Jane';
  const last = input?.last_name !== undefined ? input.last_name : 'Doe';
  const { default_address: addrInput, ...rest } = input ?? {};
  let default_address: ShopifyCustomerAddress | null = null;
  if (addrInput !== null) {
    // Customer addresses carry ids but no coordinates (REST Customer resource).
    const base: Partial<ShopifyAddress> = { ...buildAddress({ first_name: first, last_name: last, ...(addrInput ?? {}) }) };
    delete base.latitude;
    delete base.longitude;
    default_address = leading(
      {
        ...(base as Omit<ShopifyAddress, 'latitude' | 'longitude'>),
        country_name: base.country ?? null,
        default: true,
        ...(addrInput ?? {}),
        id: addrInput?.id ?? ctx.nextId.address(),
        customer_id: id,
      },
      ['id', 'customer_id'],
    );
  }
  return leading({
    email: 'jane.doe@example.com',
    phone: null,
    state: 'enabled',
    tax_exempt: false,
    currency: ctx.currency,
    created_at: now,
    updated_at: now,
    ...rest,
    id,
    admin_graphql_api_id: gid('Customer', id),
    first_name: first,
    last_name: last,
    default_address,
  }, ['id', 'admin_graphql_api_id']);
}

function taxFor(taxableCents: number, ctx: BuildContext): ShopifyTaxLine[] {
  if (ctx.defaultTaxRate <= 0) return [];
  return [{ title: ctx.defaultTaxTitle, rate: ctx.defaultTaxRate, price: fromCents(Math.round(taxableCents * ctx.defaultTaxRate)), channel_liable: false }];
}

function buildLineItem(input: ShopifyLineItemInput, ctx: BuildContext): ShopifyLineItem {
  const id = input.id ?? ctx.nextId.lineItem();
  const productGone = input.product_exists === false || input.product_id === null;
  const product_id = input.product_id !== undefined ? input.product_id : productGone ? null : ctx.nextId.product();
  const variant_id = input.variant_id !== undefined ? input.variant_id : product_id === null ? null : ctx.nextId.variant();
  const title = input.title ?? 'Short sleeve t-shirt';
  const variant_title = input.variant_title !== undefined ? input.variant_title : 'M / Blue';
  const quantity = input.quantity ?? 1;
  const price = money(input.price ?? '25.00');
  const discount_allocations = (input.discount_allocations ?? []).map((d, i) => ({
    discount_application_index: d.discount_application_index ?? i,
    amount: money(d.amount),
  }));
  const discountCents = discount_allocations.reduce((s, d) => s + toCents(d.amount), 0);
  const tax_lines = input.tax_lines
    ? input.tax_lines.map((t) => ({ channel_liable: false, ...t, price: money(t.price) }))
    : taxFor(toCents(price) * quantity - discountCents, ctx);
  return leading({
    vendor: 'Demo Vendor',
    fulfillment_status: null,
    taxable: tax_lines.length > 0,
    requires_shipping: true,
    gift_card: false,
    properties: [],
    ...input,
    id,
    admin_graphql_api_id: gid('LineItem', id),
    product_id,
    variant_id,
    sku: input.sku !== undefined ? input.sku : 'TS-M-BLUE',
    title,
    name: input.name ?? (variant_title ? `${title} - ${variant_title}` : title),
    variant_title,
    quantity,
    current_quantity: input.current_quantity ?? quantity,
    fulfillable_quantity: input.fulfillable_quantity ?? quantity,
    price,
    total_discount: input.total_discount !== undefined ? money(input.total_discount) : fromCents(discountCents),
    discount_allocations,
    tax_lines,
    product_exists: input.product_exists ?? product_id !== null,
  }, ['id', 'admin_graphql_api_id']);
}

function buildShippingLine(input: ShopifyShippingLineInput, ctx: BuildContext): ShopifyShippingLine {
  const price = money(input.price ?? '5.00');
  const discount_allocations = (input.discount_allocations ?? []).map((d, i) => ({
    discount_application_index: d.discount_application_index ?? i,
    amount: money(d.amount),
  }));
  const discounted = toCents(price) - discount_allocations.reduce((s, d) => s + toCents(d.amount), 0);
  const id = input.id ?? ctx.nextId.shippingLine();
  return leading({
    title: 'Standard Shipping',
    code: 'Standard',
    source: 'shopify',
    carrier_identifier: null,
    is_removed: false,
    ...input,
    id,
    price,
    discounted_price: input.discounted_price !== undefined ? money(input.discounted_price) : fromCents(discounted),
    discount_allocations,
    tax_lines: (input.tax_lines ?? []).map((t) => ({ channel_liable: false, ...t, price: money(t.price) })),
  }, ['id']);
}

/** Order-level `tax_lines`: line and shipping tax rows summed per (title, rate), as Shopify reports them. */
function aggregateTaxLines(lines: ShopifyLineItem[], shipping: ShopifyShippingLine[]): ShopifyTaxLine[] {
  const byKey = new Map<string, ShopifyTaxLine>();
  for (const t of [...lines.flatMap((l) => l.tax_lines), ...shipping.flatMap((s) => s.tax_lines)]) {
    const key = `${t.title}|${t.rate}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...prev, price: sumMoney([prev.price, t.price]) } : { ...t });
  }
  return [...byKey.values()];
}

const TOTAL_FIELDS = [
  'total_line_items_price',
  'subtotal_price',
  'total_discounts',
  'total_tax',
  'total_price',
  'total_outstanding',
  'current_total_price',
  'current_subtotal_price',
  'current_total_tax',
  'current_total_discounts',
] as const;

/**
 * Recompute every derived money field from the lines; any total the caller set explicitly wins,
 * so a test can still craft an order whose totals disagree with its lines.
 */
export function applyTotals(order: ShopifyOrder, explicit: Partial<Record<(typeof TOTAL_FIELDS)[number] | 'tax_lines', unknown>>): void {
  const lineItemsCents = order.line_items.reduce((s, l) => s + toCents(l.price) * l.quantity, 0);
  const lineDiscounts = order.line_items.reduce((s, l) => s + l.discount_allocations.reduce((a, d) => a + toCents(d.amount), 0), 0);
  const shippingDiscounts = order.shipping_lines.reduce((s, l) => s + l.discount_allocations.reduce((a, d) => a + toCents(d.amount), 0), 0);
  const shippingCents = order.shipping_lines.filter((s) => !s.is_removed).reduce((s, l) => s + toCents(l.discounted_price), 0);
  if (explicit.tax_lines === undefined) order.tax_lines = aggregateTaxLines(order.line_items, order.shipping_lines);
  const taxCents = order.tax_lines.reduce((s, t) => s + toCents(t.price), 0);
  const subtotal = lineItemsCents - lineDiscounts;
  const total = subtotal + shippingCents + (order.taxes_included ? 0 : taxCents);
  const computed: Record<(typeof TOTAL_FIELDS)[number], string> = {
    total_line_items_price: fromCents(lineItemsCents),
    subtotal_price: fromCents(subtotal),
    total_discounts: fromCents(lineDiscounts + shippingDiscounts),
    total_tax: fromCents(taxCents),
    total_price: fromCents(total),
    total_outstanding: ['paid', 'partially_refunded', 'refunded', 'voided'].includes(order.financial_status) ? '0.00' : fromCents(total),
    current_total_price: fromCents(total),
    current_subtotal_price: fromCents(subtotal),
    current_total_tax: fromCents(taxCents),
    current_total_discounts: fromCents(lineDiscounts + shippingDiscounts),
  };
  for (const f of TOTAL_FIELDS) order[f] = explicit[f] !== undefined ? money(explicit[f] as string) : computed[f];
}

/** Complete a partial order. The returned object is owned by the store. */
export function buildOrder(input: ShopifyOrderInput, ctx: BuildContext): ShopifyOrder {
  const now = ctx.nowIso();
  const id = input.id ?? ctx.nextId.order();
  const order_number = input.order_number ?? ctx.nextOrderNumber();
  const customer = buildCustomer(input.customer, ctx, now);
  const created_at = input.created_at ?? now;
  const order: ShopifyOrder = {
    confirmation_number: randomBytes(6).toString('hex').slice(0, 9).toUpperCase(),
    token: randomBytes(16).toString('hex'),
    email: customer?.email ?? null,
    contact_email: null,
    phone: null,
    currency: ctx.currency,
    presentment_currency: input.currency ?? ctx.currency,
    processed_at: created_at,
    closed_at: null,
    cancelled_at: null,
    cancel_reason: null,
    financial_status: 'paid',
    fulfillment_status: null,
    taxes_included: false,
    tax_exempt: false,
    test: false,
    tags: '',
    note: null,
    note_attributes: [],
    source_name: 'web',
    payment_gateway_names: ['shopify_payments'],
    discount_codes: [],
    fulfillments: [],
    refunds: [],
    ...input,
    id,
    admin_graphql_api_id: gid('Order', id),
    name: input.name ?? `${ctx.namePrefix}${order_number}${ctx.nameSuffix}`,
    order_number,
    number: input.number ?? order_number - 1000,
    created_at,
    updated_at: input.updated_at ?? created_at,
    customer,
    billing_address: buildAddress(input.billing_address),
    shipping_address: buildAddress(input.shipping_address),
    line_items: (input.line_items ?? [{}]).map((l) => buildLineItem(l, ctx)),
    shipping_lines: (input.shipping_lines ?? [{}]).map((s) => buildShippingLine(s, ctx)),
    tax_lines: input.tax_lines ?? [],
    total_line_items_price: '0.00',
    subtotal_price: '0.00',
    total_discounts: '0.00',
    total_tax: '0.00',
    total_price: '0.00',
    total_outstanding: '0.00',
    current_total_price: '0.00',
    current_subtotal_price: '0.00',
    current_total_tax: '0.00',
    current_total_discounts: '0.00',
  };
  if (order.contact_email === null) order.contact_email = order.email;
  applyTotals(order, input);
  // Key order as in Shopify payloads (id first); JSON key order follows first insertion.
  return leading(order, ['id', 'admin_graphql_api_id']);
}

/** Rebuild nested collections from a patch the same way `buildOrder` does, keeping ids where given. */
export function completeLines(patch: ShopifyOrderInput, ctx: BuildContext): Partial<ShopifyOrder> {
  const out: Partial<ShopifyOrder> = {};
  if (patch.line_items) out.line_items = patch.line_items.map((l) => buildLineItem(l, ctx));
  if (patch.shipping_lines) out.shipping_lines = patch.shipping_lines.map((s) => buildShippingLine(s, ctx));
  if (patch.billing_address !== undefined) out.billing_address = buildAddress(patch.billing_address);
  if (patch.shipping_address !== undefined) out.shipping_address = buildAddress(patch.shipping_address);
  if (patch.customer !== undefined) out.customer = buildCustomer(patch.customer, ctx, ctx.nowIso());
  return out;
}
