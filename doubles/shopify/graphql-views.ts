/**
 * GraphQL views over the canonical REST-shaped order. graphql-js's default resolver reads a
 * property, or calls it when it is a function (with the field's arguments), so each view is a
 * plain object whose connection fields are methods. The mapping REST → GraphQL is the one
 * Shopify documents between the two APIs: gids from numeric ids, `legacyResourceId` as a string,
 * UTC DateTimes, upper-case enums, money as MoneyBag with trimmed decimals.
 */
import { paginate, type Page, type PageArgs } from './connection.js';
import { gid } from './order-builder.js';
import { fromCents, graphqlDecimal, toCents } from './money.js';
import { toGraphqlDateTime } from './time.js';
import type { ShopifyAddress, ShopifyCustomer, ShopifyLineItem, ShopifyOrder, ShopifyShippingLine, ShopifyTaxLine } from './types.js';

interface Currencies {
  shop: string;
  presentment: string;
}

/**
 * MoneyBag: the double applies no exchange rate, so presentment money repeats the shop amount in
 * the presentment currency (fine for shops selling in one currency; noted as a limitation).
 */
function moneyBag(amount: string, c: Currencies) {
  const value = graphqlDecimal(amount);
  return {
    shopMoney: { amount: value, currencyCode: c.shop },
    presentmentMoney: { amount: value, currencyCode: c.presentment },
  };
}

const mapPage = <A, B>(page: Page<A>, fn: (a: A) => B) => ({
  edges: page.edges.map((e) => ({ cursor: e.cursor, node: fn(e.node) })),
  nodes: page.nodes.map(fn),
  pageInfo: page.pageInfo,
});

/** Paginate a fixed child list by its position in the order (cursor value = index). */
function childPage<T extends { id: string }, V>(items: readonly T[], args: PageArgs, view: (t: T) => V) {
  const indexed = items.map((item, index) => ({ item, index }));
  return mapPage(
    paginate(indexed, args, (w) => ({ value: w.index, id: w.item.id })),
    (w) => view(w.item),
  );
}

const taxLineView = (t: ShopifyTaxLine, c: Currencies) => ({
  title: t.title,
  rate: t.rate,
  // rate × 100 without float noise (0.07 * 100 = 7.000000000000001).
  ratePercentage: Math.round(t.rate * 100 * 1e6) / 1e6,
  priceSet: moneyBag(t.price, c),
  channelLiable: t.channel_liable ?? null,
});

const allocationView = (d: { amount: string }, c: Currencies) => ({ allocatedAmountSet: moneyBag(d.amount, c) });

const addressView = (a: ShopifyAddress | null) =>
  a && {
    firstName: a.first_name,
    lastName: a.last_name,
    name: a.name,
    company: a.company,
    address1: a.address1,
    address2: a.address2,
    city: a.city,
    province: a.province,
    provinceCode: a.province_code,
    zip: a.zip,
    country: a.country,
    countryCodeV2: a.country_code,
    phone: a.phone,
    latitude: a.latitude,
    longitude: a.longitude,
  };

const customerView = (cu: ShopifyCustomer | null) =>
  cu && {
    id: gid('Customer', cu.id),
    legacyResourceId: cu.id,
    email: cu.email,
    firstName: cu.first_name,
    lastName: cu.last_name,
    displayName: [cu.first_name, cu.last_name].filter(Boolean).join(' ') || cu.email || '',
    phone: cu.phone,
  };

function lineItemView(l: ShopifyLineItem, c: Currencies) {
  return {
    id: gid('LineItem', l.id),
    sku: l.sku,
    title: l.title,
    name: l.name,
    variantTitle: l.variant_title,
    vendor: l.vendor,
    quantity: l.quantity,
    currentQuantity: l.current_quantity,
    requiresShipping: l.requires_shipping,
    taxable: l.taxable,
    isGiftCard: l.gift_card,
    customAttributes: l.properties.map((p) => ({ key: p.name, value: p.value })),
    originalUnitPriceSet: moneyBag(l.price, c),
    originalTotalSet: moneyBag(fromCents(toCents(l.price) * l.quantity), c),
    totalDiscountSet: moneyBag(l.total_discount, c),
    discountAllocations: l.discount_allocations.map((d) => allocationView(d, c)),
    taxLines: (args: { first?: number | null }) =>
      l.tax_lines.slice(0, args.first ?? undefined).map((t) => taxLineView(t, c)),
    variant: l.variant_id && {
      id: gid('ProductVariant', l.variant_id),
      legacyResourceId: l.variant_id,
      sku: l.sku,
      title: l.variant_title ?? 'Default Title',
    },
    product:
      l.product_id && l.product_exists
        ? { id: gid('Product', l.product_id), legacyResourceId: l.product_id, title: l.title }
        : null,
  };
}

function shippingLineView(s: ShopifyShippingLine, c: Currencies) {
  return {
    id: gid('ShippingLine', s.id),
    title: s.title,
    code: s.code,
    source: s.source,
    carrierIdentifier: s.carrier_identifier,
    isRemoved: s.is_removed,
    originalPriceSet: moneyBag(s.price, c),
    discountedPriceSet: moneyBag(s.discounted_price, c),
    discountAllocations: s.discount_allocations.map((d) => allocationView(d, c)),
    taxLines: s.tax_lines.map((t) => taxLineView(t, c)),
  };
}

const FULFILLMENT_DISPLAY: Record<string, string> = {
  fulfilled: 'FULFILLED',
  partial: 'PARTIALLY_FULFILLED',
  restocked: 'RESTOCKED',
};

export function orderView(o: ShopifyOrder) {
  const c: Currencies = { shop: o.currency, presentment: o.presentment_currency };
  const shipping = o.shipping_lines.filter((s) => !s.is_removed);
  return {
    id: o.admin_graphql_api_id,
    legacyResourceId: o.id,
    name: o.name,
    email: o.email,
    phone: o.phone,
    note: o.note,
    tags: o.tags.split(',').map((t) => t.trim()).filter(Boolean),
    test: o.test,
    closed: o.closed_at !== null,
    createdAt: toGraphqlDateTime(o.created_at),
    updatedAt: toGraphqlDateTime(o.updated_at),
    processedAt: toGraphqlDateTime(o.processed_at),
    closedAt: o.closed_at && toGraphqlDateTime(o.closed_at),
    cancelledAt: o.cancelled_at && toGraphqlDateTime(o.cancelled_at),
    cancelReason: o.cancel_reason && o.cancel_reason.toUpperCase(),
    displayFinancialStatus: o.financial_status.toUpperCase(),
    displayFulfillmentStatus: (o.fulfillment_status && FULFILLMENT_DISPLAY[o.fulfillment_status]) ?? 'UNFULFILLED',
    currencyCode: o.currency,
    presentmentCurrencyCode: o.presentment_currency,
    taxesIncluded: o.taxes_included,
    customer: customerView(o.customer),
    billingAddress: addressView(o.billing_address),
    shippingAddress: addressView(o.shipping_address),
    lineItems: (args: PageArgs) => childPage(o.line_items, args, (l) => lineItemView(l, c)),
    shippingLines: (args: PageArgs & { includeRemovals?: boolean | null }) =>
      childPage(args.includeRemovals ? o.shipping_lines : shipping, args, (s) => shippingLineView(s, c)),
    taxLines: o.tax_lines.map((t) => taxLineView(t, c)),
    totalPriceSet: moneyBag(o.total_price, c),
    subtotalPriceSet: moneyBag(o.subtotal_price, c),
    totalTaxSet: moneyBag(o.total_tax, c),
    totalDiscountsSet: moneyBag(o.total_discounts, c),
    totalShippingPriceSet: moneyBag(fromCents(shipping.reduce((s, l) => s + toCents(l.discounted_price), 0)), c),
    currentTotalPriceSet: moneyBag(o.current_total_price, c),
    totalOutstandingSet: moneyBag(o.total_outstanding, c),
  };
}

export { mapPage };
