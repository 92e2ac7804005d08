/**
 * Reconciliation reads for Shopify: the Admin GraphQL API (REST is legacy since 2024-10, so
 * reconciliation uses `orders(query: "updated_at:>…")`, shopify.dev/docs/apps/build/webhooks/ignore-duplicates: at-least-once, no ordering). Each node is turned
 * into the REST Order shape the webhooks carry, so one normaliser serves both paths.
 */
import { PermanentError, RetriableError } from '../../../lib/errors.js';
import type { ShopifyShop } from '../../../lib/config/shops.js';
import { shopFetch } from '../http.js';
import { parseLossless } from '../lossless_json.js';
import type { ShopifyRestOrder } from './rest_order.js';

const MONEY = 'shopMoney { amount }';
const ADDRESS = 'name firstName lastName company address1 address2 city province zip country countryCodeV2 phone';
const TAX = `title priceSet { ${MONEY} }`;

const LINE = `sku title name quantity currentQuantity originalUnitPriceSet { ${MONEY} } discountAllocations { allocatedAmountSet { ${MONEY} } } taxLines { ${TAX} }`;

/**
 * Small pages on purpose: Shopify prices a query before running it — a connection costs 2 plus
 * `first` × each node, nested connections multiply — and refuses one over 1,000 points
 * (MAX_COST_EXCEEDED). 5 orders × 10 lines × their money objects comes to about 630; 100 × 250
 * would be refused outright. Orders with more lines page the rest with MORE_LINES_QUERY.
 */
export const ORDERS_PAGE = 5;
export const LINES_PAGE = 10;

export const ORDERS_QUERY = `query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name email phone createdAt updatedAt cancelledAt currencyCode taxesIncluded
      customer { legacyResourceId email firstName lastName phone }
      billingAddress { ${ADDRESS} }
      shippingAddress { ${ADDRESS} }
      lineItems(first: ${LINES_PAGE}) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } }
      shippingLines(first: 3) { nodes { title originalPriceSet { ${MONEY} } discountedPriceSet { ${MONEY} } taxLines { ${TAX} } } }
      taxLines { ${TAX} }
    }
  }
}`;

export const MORE_LINES_QUERY = `query OrderLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } } }
}`;

type Money = { shopMoney: { amount: string } } | null | undefined;
interface GqlAddress {
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  company?: string | null;
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  province?: string | null;
  zip?: string | null;
  country?: string | null;
  countryCodeV2?: string | null;
  phone?: string | null;
}
interface GqlTax {
  title?: string | null;
  priceSet?: Money;
}
type GqlLine = GqlOrder['lineItems']['nodes'][number];
type PageInfo = { hasNextPage: boolean; endCursor: string | null };

export interface GqlOrder {
  id?: string;
  legacyResourceId: string;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  createdAt: string;
  updatedAt: string;
  cancelledAt?: string | null;
  currencyCode: string;
  taxesIncluded?: boolean | null;
  customer?: { legacyResourceId?: string | null; email?: string | null; firstName?: string | null; lastName?: string | null; phone?: string | null } | null;
  billingAddress?: GqlAddress | null;
  shippingAddress?: GqlAddress | null;
  lineItems: { pageInfo?: PageInfo; nodes: { sku?: string | null; title?: string | null; name?: string | null; quantity: number; currentQuantity?: number | null; originalUnitPriceSet?: Money; discountAllocations?: { allocatedAmountSet?: Money }[] | null; taxLines?: GqlTax[] | null }[] };
  shippingLines?: { nodes: { title?: string | null; originalPriceSet?: Money; discountedPriceSet?: Money; taxLines?: GqlTax[] | null }[] } | null;
  taxLines?: GqlTax[] | null;
}

const amount = (m: Money): string => m?.shopMoney.amount ?? '0';
const taxes = (t: GqlTax[] | null | undefined) => (t ?? []).map((x) => ({ title: x.title ?? null, price: Number(amount(x.priceSet)) }));
const address = (a: GqlAddress | null | undefined) =>
  a ? { first_name: a.firstName, last_name: a.lastName, name: a.name, company: a.company, address1: a.address1, address2: a.address2, city: a.city, province: a.province, zip: a.zip, country: a.country, country_code: a.countryCodeV2, phone: a.phone } : null;

export function graphqlToRest(o: GqlOrder): ShopifyRestOrder {
  return {
    id: o.legacyResourceId,
    name: o.name,
    email: o.email,
    phone: o.phone,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    cancelled_at: o.cancelledAt,
    currency: o.currencyCode,
    taxes_included: o.taxesIncluded,
    customer: o.customer ? { id: o.customer.legacyResourceId, email: o.customer.email, first_name: o.customer.firstName, last_name: o.customer.lastName, phone: o.customer.phone } : null,
    billing_address: address(o.billingAddress),
    shipping_address: address(o.shippingAddress),
    line_items: o.lineItems.nodes.map((l) => ({
      sku: l.sku,
      title: l.title,
      name: l.name,
      quantity: l.quantity,
      current_quantity: l.currentQuantity,
      price: Number(amount(l.originalUnitPriceSet)),
      discount_allocations: (l.discountAllocations ?? []).map((d) => ({ amount: Number(amount(d.allocatedAmountSet)) })),
      tax_lines: taxes(l.taxLines),
    })),
    shipping_lines: (o.shippingLines?.nodes ?? []).map((s) => ({
      title: s.title,
      price: Number(amount(s.originalPriceSet)),
      discounted_price: s.discountedPriceSet ? Number(amount(s.discountedPriceSet)) : null,
      tax_lines: taxes(s.taxLines),
    })),
    tax_lines: taxes(o.taxLines),
  };
}

interface GqlError {
  message?: string;
  extensions?: { code?: string };
}

/** One Admin GraphQL request: transport errors retriable, refusals and query errors permanent. */
async function graphql<T>(shop: ShopifyShop, query: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  const res = await shopFetch(
    `shop ${shop.id}`,
    `${shop.adminUrl}/admin/api/${shop.apiVersion}/graphql.json`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': shop.accessToken!() },
      body: JSON.stringify({ query, variables }),
    },
    { signal },
  );
  if (res.status === 401 || res.status === 403) throw new PermanentError(`shop ${shop.id}: the Admin API refused the access token (${res.status}); check accessToken and the read_orders scope`);
  if (res.status !== 200) throw new PermanentError(`shop ${shop.id}: the Admin API answered ${res.status}`);
  const body = parseLossless(res.text) as { data?: T; errors?: unknown };
  if (body.errors) {
    const list: GqlError[] = Array.isArray(body.errors) ? (body.errors as GqlError[]) : [{ message: String(body.errors) }];
    // Cost-based throttling answers 200 with a THROTTLED error: wait and retry the job.
    if (list.some((e) => e.extensions?.code === 'THROTTLED')) throw new RetriableError('shop_throttled', `shop ${shop.id}: Admin API throttled the reconciliation query`, { retryAfterMs: 2000 });
    if (list.some((e) => e.extensions?.code === 'MAX_COST_EXCEEDED')) {
      throw new PermanentError(`shop ${shop.id}: the reconciliation query costs more than Shopify allows (MAX_COST_EXCEEDED); this is a bug in crm-order-companion, please report it`);
    }
    throw new PermanentError(`shop ${shop.id}: Admin API error: ${list.map((e) => e.message).join('; ')}`);
  }
  if (!body.data) throw new PermanentError(`shop ${shop.id}: the Admin API answer has no data`);
  return body.data;
}

/** The rest of an order's lines, past the first page. */
async function remainingLines(shop: ShopifyShop, order: GqlOrder, signal?: AbortSignal): Promise<GqlLine[]> {
  const lines: GqlLine[] = [];
  let page = order.lineItems.pageInfo;
  while (page?.hasNextPage && page.endCursor && order.id) {
    const data = await graphql<{ order: { lineItems: { pageInfo: PageInfo; nodes: GqlLine[] } } | null }>(shop, MORE_LINES_QUERY, { id: order.id, after: page.endCursor }, signal);
    if (!data.order) break;
    lines.push(...data.order.lineItems.nodes);
    page = data.order.lineItems.pageInfo;
  }
  return lines;
}

/** Every order updated after `sinceIso`, oldest change first, page by page, each with all its lines. */
export async function* ordersUpdatedSince(shop: ShopifyShop, sinceIso: string, signal?: AbortSignal): AsyncGenerator<GqlOrder[]> {
  if (!shop.accessToken) throw new PermanentError(`shop ${shop.id}: reconciliation needs an Admin API access token (accessTokenEnv / accessTokenFile)`);
  let after: string | null = null;
  for (;;) {
    const data: { orders: { pageInfo: PageInfo; nodes: GqlOrder[] } } = await graphql(shop, ORDERS_QUERY, { first: ORDERS_PAGE, after, query: `updated_at:>'${sinceIso}'` }, signal);
    const page: { pageInfo: PageInfo; nodes: GqlOrder[] } = data.orders;
    for (const order of page.nodes) if (order.lineItems.pageInfo?.hasNextPage) order.lineItems.nodes.push(...(await remainingLines(shop, order, signal)));
    yield page.nodes;
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
    after = page.pageInfo.endCursor;
  }
}
