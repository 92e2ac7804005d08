/**
 * Apply a shop order to ERPNext as one submitted Sales Order, keyed by the unique
 * `custom_external_order_id` and guarded by `custom_external_updated_at` (docs/architecture.md data flow 7):
 * - unknown order → Customer/Contact/Address as needed, then insert with docstatus 1 (insert and
 *   submit in one request, so there is never a half-made draft);
 * - known order, payload not newer than what the Sales Order holds → nothing (replays, retries
 *   carrying the original payload, and out-of-order deliveries all land here);
 * - newer and cancelled in the shop → cancel, or, once billed or delivered, flag it for review;
 * - newer with the same lines → record the new `updated_at`; with other lines → flag for review
 *   (a submitted order's items are not rewritten behind the team's back).
 * The whole apply holds a per-order lock across replicas, and the unique field catches whatever a
 * lock cannot (a lost answer to an insert that did commit).
 */
import { FrappeApiError } from '../../../lib/frappe/errors.js';
import type { HandlerContext } from '../../handlers/types.js';
import { shopKey, type ShopConfig } from '../../../lib/config/shops.js';
import { cents, describeOrder, type ShopOrder } from '../order.js';
import { customerKey, isUniqueViolation, resolveCustomer } from './customer.js';
import { NeedsMappingError } from './errors.js';
import { itemCodes, resolveItems, type ResolvedItem } from './items.js';
import { forgetFor, type ResolveOptions } from './remembered.js';

export type ApplyResult = 'created' | 'updated' | 'unchanged' | 'stale' | 'cancelled' | 'flagged' | 'ignored_cancelled';

export interface ApplyOutcome {
  result: ApplyResult;
  salesOrder: string | null;
  detail: string;
}

interface StoredOrder {
  name: string;
  docstatus: 0 | 1 | 2;
  custom_external_updated_at: string | null;
  custom_external_status: string | null;
  per_billed: number | null;
  per_delivered: number | null;
}

export const EXTERNAL_STATUS = {
  open: 'Open',
  cancelled: 'Cancelled in shop',
  reviewCancelled: 'Cancelled in shop after billing or delivery: review',
  reviewChanged: 'Changed in shop after submission: review',
} as const;

export function externalOrderId(shop: ShopConfig, order: ShopOrder): string {
  return `${shop.platform}:${shopKey(shop)}:${order.id}`;
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function findStored(ctx: HandlerContext, externalId: string): Promise<StoredOrder | null> {
  const rows = await ctx.client.getList<StoredOrder>('Sales Order', {
    fields: ['name', 'docstatus', 'custom_external_updated_at', 'custom_external_status', 'per_billed', 'per_delivered'],
    filters: [['custom_external_order_id', '=', externalId]],
    orderBy: 'creation asc',
    limitPageLength: 1,
    signal: ctx.signal,
  });
  return rows[0] ?? null;
}

interface Facts {
  /** The company's currency: what conversion_rate converts the order's currency into. */
  companyCurrency: string;
  /** The selling price list's currency: what plc_conversion_rate converts into the company's. */
  priceListCurrency: string;
}

/** Company and price list currencies barely ever change: read them once per site every ten minutes. */
const FACTS_TTL_MS = 10 * 60_000;
const factsCache = new Map<string, { facts: Facts; until: number }>();

async function currencies(ctx: HandlerContext, shop: ShopConfig): Promise<Facts> {
  const key = `${ctx.site}|${shop.erpnext.company}|${shop.erpnext.priceList}`;
  const cached = factsCache.get(key);
  if (cached && cached.until > Date.now()) return cached.facts;
  const company = await ctx.client.getDoc<{ default_currency: string }>('Company', shop.erpnext.company, { signal: ctx.signal });
  const priceList = await ctx.client.getDoc<{ currency: string }>('Price List', shop.erpnext.priceList, { signal: ctx.signal });
  const facts = { companyCurrency: company.default_currency, priceListCurrency: priceList.currency };
  factsCache.set(key, { facts, until: Date.now() + FACTS_TTL_MS });
  return facts;
}

/** ERPNext's own rate lookup (erpnext/setup/utils.py `get_exchange_rate`, whitelisted). */
async function exchangeRate(ctx: HandlerContext, from: string, to: string, date: string): Promise<number> {
  if (from === to) return 1;
  const rate = await ctx.client.call<number>('erpnext.setup.utils.get_exchange_rate', { from_currency: from, to_currency: to, transaction_date: date, args: 'for_selling' }, 'GET', { signal: ctx.signal });
  // 0: ERPNext found no Currency Exchange and could not fetch one. Park the order until there is one.
  if (!rate) throw new NeedsMappingError(`ERPNext has no exchange rate from ${from} to ${to} on ${date}; add a Currency Exchange record (for selling), then retry`);
  return Number(rate);
}

function taxRows(shop: ShopConfig, order: ShopOrder): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const s of order.shipping) {
    rows.push({ charge_type: 'Actual', account_head: shop.erpnext.shippingAccount, description: s.title, tax_amount: s.amount });
  }
  for (const t of order.taxes) {
    rows.push({ charge_type: 'Actual', account_head: shop.erpnext.taxAccounts[t.title] ?? shop.erpnext.taxAccount, description: t.title, tax_amount: t.amount });
  }
  return rows;
}

function deliveryDate(shop: ShopConfig, order: ShopOrder): string {
  return addDays(order.createdDate, shop.erpnext.deliveryDays);
}

function itemRows(shop: ShopConfig, order: ShopOrder, items: ResolvedItem[]): Record<string, unknown>[] {
  const delivery = deliveryDate(shop, order);
  return order.lines.map((line, i) => ({
    item_code: items[i]!.item_code,
    item_name: items[i]!.item_name,
    description: line.title,
    qty: line.qty,
    rate: line.rate,
    uom: items[i]!.stock_uom,
    stock_uom: items[i]!.stock_uom,
    conversion_factor: 1,
    delivery_date: delivery,
    ...(shop.erpnext.warehouse ? { warehouse: shop.erpnext.warehouse } : {}),
  }));
}

export interface Rates {
  /** Order currency → company currency. */
  conversionRate: number;
  priceListCurrency: string;
  /** Price list currency → company currency. */
  plcConversionRate: number;
}

export function salesOrderBody(shop: ShopConfig, order: ShopOrder, customer: string, items: ResolvedItem[], rates: Rates): Record<string, unknown> {
  const delivery = deliveryDate(shop, order);
  return {
    ...(shop.erpnext.namingSeries ? { naming_series: shop.erpnext.namingSeries } : {}),
    customer,
    order_type: 'Sales',
    transaction_date: order.createdDate,
    delivery_date: delivery,
    company: shop.erpnext.company,
    currency: order.currency,
    conversion_rate: rates.conversionRate,
    selling_price_list: shop.erpnext.priceList,
    price_list_currency: rates.priceListCurrency,
    plc_conversion_rate: rates.plcConversionRate,
    // Rates are the shop's; ERPNext's pricing rules must not rewrite them.
    ignore_pricing_rule: 1,
    po_no: order.number,
    custom_external_order_id: externalOrderId(shop, order),
    custom_external_updated_at: order.updatedAt,
    custom_external_status: EXTERNAL_STATUS.open,
    items: itemRows(shop, order, items),
    taxes: taxRows(shop, order),
    docstatus: 1,
    // ERPNext's set_status returns early while a document is new (controllers/status_updater.py),
    // so a Sales Order inserted already submitted keeps the status it is sent with: send the one
    // ERPNext gives a submitted order nothing has been delivered or billed against yet.
    status: 'To Deliver and Bill',
  };
}

/** Same lines (item, qty, rate) and charges as the submitted order: nothing to review. */
function sameContent(
  doc: { items?: { item_code: string; qty: number; rate: number }[]; taxes?: { description: string; tax_amount: number }[] },
  body: { items: Record<string, unknown>[]; taxes: Record<string, unknown>[] },
): boolean {
  const lines = (rows: { item_code: unknown; qty: unknown; rate: unknown }[]) => rows.map((r) => `${r.item_code}|${Number(r.qty)}|${cents(Number(r.rate))}`).sort().join('\n');
  const charges = (rows: { description: unknown; tax_amount: unknown }[]) => rows.map((r) => `${r.description}|${cents(Number(r.tax_amount))}`).sort().join('\n');
  return (
    lines(doc.items ?? []) === lines(body.items as { item_code: unknown; qty: unknown; rate: unknown }[]) &&
    charges(doc.taxes ?? []) === charges(body.taxes as { description: unknown; tax_amount: unknown }[])
  );
}

async function mark(ctx: HandlerContext, name: string, patch: Record<string, unknown>): Promise<void> {
  // Both fields are allow_on_submit: a save of a submitted order may change them and nothing else.
  await ctx.client.update('Sales Order', name, patch, { signal: ctx.signal });
}

async function applyToExisting(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder, stored: StoredOrder): Promise<ApplyOutcome> {
  const so = stored.name;
  const held = stored.custom_external_updated_at ?? '';
  if (order.updatedAt === held) return { result: 'unchanged', salesOrder: so, detail: `already at ${held}` };
  if (order.updatedAt < held) return { result: 'stale', salesOrder: so, detail: `payload of ${order.updatedAt} is older than ${held}` };
  if (stored.docstatus === 2) return { result: 'unchanged', salesOrder: so, detail: 'the Sales Order is cancelled' };

  if (order.cancelled) {
    if (Number(stored.per_billed ?? 0) > 0 || Number(stored.per_delivered ?? 0) > 0) {
      await mark(ctx, so, { custom_external_updated_at: order.updatedAt, custom_external_status: EXTERNAL_STATUS.reviewCancelled });
      return { result: 'flagged', salesOrder: so, detail: 'cancelled in the shop after billing or delivery; flagged for review' };
    }
    // The timestamp stays where it is until the cancel has happened: a retry after a failed cancel
    // must still see this payload as newer (docstatus 2 is what makes later replays no-ops).
    await mark(ctx, so, { custom_external_status: EXTERNAL_STATUS.cancelled });
    try {
      await ctx.client.call('frappe.client.cancel', { doctype: 'Sales Order', name: so }, 'POST', { signal: ctx.signal });
    } catch (err) {
      // ERPNext refuses while invoices or delivery notes link the order (LinkExistsError).
      if (!(err instanceof FrappeApiError) || err.status >= 500) throw err;
      await mark(ctx, so, { custom_external_updated_at: order.updatedAt, custom_external_status: EXTERNAL_STATUS.reviewCancelled });
      return { result: 'flagged', salesOrder: so, detail: `cancelled in the shop but ERPNext refused to cancel: ${err.message}` };
    }
    return { result: 'cancelled', salesOrder: so, detail: 'cancelled' };
  }

  const items = await resolveItems(ctx, shop, order);
  const doc = await ctx.client.getDoc<{ items: { item_code: string; qty: number; rate: number }[]; taxes: { description: string; tax_amount: number }[]; customer: string }>('Sales Order', so, { signal: ctx.signal });
  if (sameContent(doc, { items: itemRows(shop, order, items), taxes: taxRows(shop, order) })) {
    await mark(ctx, so, { custom_external_updated_at: order.updatedAt });
    return { result: 'updated', salesOrder: so, detail: `now at ${order.updatedAt}` };
  }
  await mark(ctx, so, { custom_external_updated_at: order.updatedAt, custom_external_status: EXTERNAL_STATUS.reviewChanged });
  return { result: 'flagged', salesOrder: so, detail: 'lines or charges changed in the shop after submission; flagged for review' };
}

/**
 * A refusal of the insert that may come from a stale remembered entry: a validation error (a link
 * to a missing or disabled record is one), not a duplicate (handled in createOrder), not a 5xx or a
 * timeout (the job's retry is for those).
 */
function refusedAsBuilt(err: unknown): boolean {
  return err instanceof FrappeApiError && err.status < 500 && err.status !== 401 && err.status !== 403 && err.status !== 429 && !isUniqueViolation(err);
}

/** The Sales Order insert was refused (refusedAsBuilt): `cause` is the site's answer. */
class RefusedAsBuilt extends Error {
  constructor(override readonly cause: unknown) {
    super('the Sales Order was refused as built');
  }
}

async function createOrder(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder, externalId: string, opts: ResolveOptions): Promise<ApplyOutcome> {
  // Items before the customer, as ever: an order parked for a missing item creates no Customer.
  const items = await resolveItems(ctx, shop, order, opts);
  const customer = await resolveCustomer(ctx, shop, order, opts);
  const facts = await currencies(ctx, shop);
  const conversionRate = await exchangeRate(ctx, order.currency, facts.companyCurrency, order.createdDate);
  const rates: Rates = {
    conversionRate,
    priceListCurrency: facts.priceListCurrency,
    plcConversionRate:
      facts.priceListCurrency === order.currency ? conversionRate : await exchangeRate(ctx, facts.priceListCurrency, facts.companyCurrency, order.createdDate),
  };
  try {
    // Safe to send again after a timeout or a 5xx: custom_external_order_id is unique in the
    // database, so a first copy that did commit makes the second fail UniqueValidationError,
    // which lands below. The job need not wait for its own retry to find out.
    const created = await ctx.client.insert<{ name: string }>('Sales Order', salesOrderBody(shop, order, customer, items, rates), { signal: ctx.signal, idempotent: true });
    return { result: 'created', salesOrder: created.name, detail: `for ${customer}` };
  } catch (err) {
    if (refusedAsBuilt(err)) throw new RefusedAsBuilt(err);
    if (!isUniqueViolation(err)) throw err;
    const now = await findStored(ctx, externalId);
    if (!now) throw err;
    return applyToExisting(ctx, shop, order, now);
  }
}

export async function applyOrder(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder): Promise<ApplyOutcome> {
  const externalId = externalOrderId(shop, order);
  const outcome = await ctx.lock(`shops.order|${externalId}`, async (): Promise<ApplyOutcome> => {
    const stored = await findStored(ctx, externalId);
    if (stored) return applyToExisting(ctx, shop, order, stored);
    if (order.cancelled) return { result: 'ignored_cancelled', salesOrder: null, detail: 'cancelled in the shop before it was ever applied' };
    const recalled = { used: false };
    try {
      return await createOrder(ctx, shop, order, externalId, { recalled });
    } catch (err) {
      if (!recalled.used || !(err instanceof RefusedAsBuilt)) throw err instanceof RefusedAsBuilt ? err.cause : err;
      // Built from remembered entries the site no longer agrees with (a Customer merged or
      // renamed, an Item disabled …): drop them, look everything up again, and send it once more.
      // A refusal that was not about them comes back the same and is thrown from here.
      await forgetFor(ctx, customerKey(shop, order), itemCodes(shop, order));
      ctx.logger.info({ shop: shop.id, order: order.id, err: (err.cause as Error).message }, `${describeOrder(order)}: the site refused a Sales Order built from remembered entries; checking its customer and items afresh`);
      try {
        return await createOrder(ctx, shop, order, externalId, { fresh: true });
      } catch (again) {
        throw again instanceof RefusedAsBuilt ? again.cause : again;
      }
    }
  });
  ctx.metrics.shopOrders.inc({ shop: shop.id, result: outcome.result });
  ctx.logger.info(
    { event: 'shop_order_applied', shop: shop.id, order: order.id, result: outcome.result, salesOrder: outcome.salesOrder },
    `${describeOrder(order)}: ${outcome.result}${outcome.salesOrder ? ` (Sales Order ${outcome.salesOrder})` : ''} — ${outcome.detail}`,
  );
  return outcome;
}
