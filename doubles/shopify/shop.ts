/**
 * One emulated shop: the canonical order store plus the merchant actions tests drive
 * (create, edit, pay, cancel, fulfil, delete). Every action records a version of the order and
 * an `X-Shopify-Event-Id`, so webhooks for several topics of one action share an event id and a
 * stale snapshot can be re-sent the way Shopify retries carry the original payload.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { applyTotals, buildOrder, completeLines, type BuildContext } from './order-builder.js';
import { deletePayloadText, orderPayloadText } from './rest-payload.js';
import { formatShopTime, parseTime } from './time.js';
import { ORDER_TOPICS, type CancelReason, type OrderTopic, type ShopifyOrder, type ShopifyOrderInput } from './types.js';
import { buildDelivery, type ShopifyDelivery } from './webhooks.js';

export interface ShopConfig {
  /** `demo-shop.myshopify.com` */
  domain: string;
  /** `X-Shopify-Access-Token` the Admin API accepts for this shop. */
  accessToken: string;
  /** The app's client secret; webhooks are signed with it. */
  apiSecret: string;
  /** Shop currency (REST `currency`); default USD. */
  currency?: string;
  /** Shop UTC offset used in REST timestamps; default "-05:00". */
  utcOffset?: string;
  /** Order name = prefix + order_number + suffix; Shopify lets merchants change both. Default "#". */
  namePrefix?: string;
  nameSuffix?: string;
  /** Default 1001, like a new shop. */
  firstOrderNumber?: number;
  /** Tax applied to lines given without `tax_lines`; default 0.06 "State Tax". 0 disables. */
  taxRate?: number;
  taxTitle?: string;
}

export type IdSequences = BuildContext['nextId'];

export interface WebhookOptions {
  /** Send this (older) order body instead of the current one — a retry carries the original payload. */
  snapshot?: ShopifyOrder;
  /** Sign with this secret instead of the app secret (rotation tests, forged deliveries). */
  secret?: string;
  eventId?: string;
  webhookId?: string;
  triggeredAt?: string | Date;
  apiVersion?: string;
  /** `X-Shopify-Name` (subscription name). */
  name?: string;
}

interface OrderVersion {
  action: string;
  eventId: string;
  order: ShopifyOrder;
}

interface OrderRecord {
  current: ShopifyOrder;
  versions: OrderVersion[];
  deleted: boolean;
}

const copy = <T>(v: T): T => structuredClone(v);

/** Patch fields rebuilt by `completeLines` rather than shallow-merged. */
const NESTED_FIELDS = ['customer', 'line_items', 'shipping_lines', 'billing_address', 'shipping_address'] as const;

export class ShopifyShop {
  readonly domain: string;
  readonly accessToken: string;
  readonly apiSecret: string;
  readonly utcOffset: string;
  private readonly records = new Map<string, OrderRecord>();
  private readonly ctx: BuildContext;

  constructor(
    config: ShopConfig,
    private readonly clock: Clock,
    ids: IdSequences,
    private readonly defaultApiVersion: string,
  ) {
    this.domain = config.domain;
    this.accessToken = config.accessToken;
    this.apiSecret = config.apiSecret;
    this.utcOffset = config.utcOffset ?? '-05:00';
    let orderNumber = config.firstOrderNumber ?? 1001;
    // Generated order ids skip any a test created explicitly.
    const nextOrderId = () => {
      let id = ids.order();
      while (this.records.has(id)) id = ids.order();
      return id;
    };
    this.ctx = {
      nextId: { ...ids, order: nextOrderId },
      nextOrderNumber: () => orderNumber++,
      nowIso: () => formatShopTime(this.clock.now(), this.utcOffset),
      currency: config.currency ?? 'USD',
      namePrefix: config.namePrefix ?? '#',
      nameSuffix: config.nameSuffix ?? '',
      defaultTaxRate: config.taxRate ?? 0.06,
      defaultTaxTitle: config.taxTitle ?? 'State Tax',
    };
  }

  /** Create an order (a checkout completing). Returns a copy; ids are digit strings. */
  addOrder(input: ShopifyOrderInput = {}): ShopifyOrder {
    const order = buildOrder(input, this.ctx);
    if (this.records.has(order.id)) throw new Error(`order ${order.id} already exists`);
    this.records.set(order.id, { current: order, versions: [], deleted: false });
    this.record(order.id, 'create');
    return copy(order);
  }

  /** Merchant edit: merges the patch, recomputes totals from lines, bumps `updated_at`. */
  updateOrder(id: string, patch: ShopifyOrderInput): ShopifyOrder {
    const rec = this.live(id);
    const prev = rec.current;
    const customerPatch =
      patch.customer && prev.customer ? { ...prev.customer, ...patch.customer, id: prev.customer.id } : patch.customer;
    const nested = completeLines({ ...patch, customer: customerPatch }, this.ctx);
    const flat: Record<string, unknown> = { ...patch };
    for (const k of NESTED_FIELDS) delete flat[k];
    const next: ShopifyOrder = { ...prev, ...(flat as Partial<ShopifyOrder>), ...nested, id: prev.id, admin_graphql_api_id: prev.admin_graphql_api_id };
    applyTotals(next, patch);
    next.updated_at = patch.updated_at ?? this.bumpedTime(prev.updated_at);
    rec.current = next;
    this.record(id, 'update');
    return copy(next);
  }

  /** Cancel: sets `cancelled_at`/`cancel_reason`/`closed_at`; unpaid orders become voided, refunded ones refunded. */
  cancelOrder(id: string, reason: CancelReason = 'customer', opts: { refund?: boolean } = {}): ShopifyOrder {
    const rec = this.live(id);
    const at = this.bumpedTime(rec.current.updated_at);
    const o = rec.current;
    o.cancelled_at = at;
    o.closed_at = at;
    o.cancel_reason = reason;
    if (o.financial_status === 'pending' || o.financial_status === 'authorized') o.financial_status = 'voided';
    else if (opts.refund) o.financial_status = 'refunded';
    o.updated_at = at;
    applyTotals(o, {});
    this.record(id, 'cancel');
    return copy(o);
  }

  /** Capture payment: `financial_status` → paid, nothing outstanding. */
  payOrder(id: string): ShopifyOrder {
    const rec = this.live(id);
    rec.current.financial_status = 'paid';
    rec.current.updated_at = this.bumpedTime(rec.current.updated_at);
    applyTotals(rec.current, {});
    this.record(id, 'pay');
    return copy(rec.current);
  }

  /** Fulfil every remaining unit in one fulfillment. */
  fulfillOrder(id: string, opts: { locationId?: string; trackingNumber?: string } = {}): ShopifyOrder {
    const rec = this.live(id);
    const o = rec.current;
    const at = this.bumpedTime(o.updated_at);
    const fid = this.ctx.nextId.lineItem();
    o.fulfillments.push({
      id: fid,
      admin_graphql_api_id: `gid://shopify/Fulfillment/${fid}`,
      order_id: o.id,
      status: 'success',
      created_at: at,
      updated_at: at,
      location_id: opts.locationId ?? null,
      tracking_company: opts.trackingNumber ? 'Other' : null,
      tracking_number: opts.trackingNumber ?? null,
      line_items: o.line_items.filter((l) => l.fulfillable_quantity > 0).map((l) => ({ id: l.id, quantity: l.fulfillable_quantity })),
    });
    for (const l of o.line_items) {
      l.fulfillable_quantity = 0;
      l.fulfillment_status = 'fulfilled';
    }
    o.fulfillment_status = 'fulfilled';
    o.updated_at = at;
    this.record(id, 'fulfill');
    return copy(o);
  }

  /** Delete the order; it disappears from the API, but `webhook('orders/delete', id)` still works. */
  deleteOrder(id: string): void {
    const rec = this.live(id);
    rec.deleted = true;
    this.record(id, 'delete');
  }

  /** Current orders, oldest first (copies). */
  orders(): ShopifyOrder[] {
    return [...this.records.values()].filter((r) => !r.deleted).map((r) => copy(r.current));
  }

  order(id: string): ShopifyOrder {
    return copy(this.live(id).current);
  }

  /** Every recorded version of an order with the action and event id that produced it. */
  history(id: string): { action: string; eventId: string; order: ShopifyOrder }[] {
    return copy(this.any(id).versions);
  }

  /** Read-only live view for the GraphQL layer (no copies per request). */
  liveOrders(): readonly ShopifyOrder[] {
    return [...this.records.values()].filter((r) => !r.deleted).map((r) => r.current);
  }

  /**
   * A signed delivery for `topic` about `orderId`. Event id defaults to the one of the action
   * that produced the payload (the snapshot's own action when a snapshot is given).
   */
  webhook(topic: OrderTopic, orderId: string, opts: WebhookOptions = {}): ShopifyDelivery {
    if (!(ORDER_TOPICS as readonly string[]).includes(topic)) throw new Error(`unsupported topic ${topic}`);
    const rec = this.any(orderId);
    const payload = opts.snapshot ?? rec.current;
    const version =
      [...rec.versions].reverse().find((v) => v.order.updated_at === payload.updated_at) ?? rec.versions[rec.versions.length - 1];
    const body = topic === 'orders/delete' ? deletePayloadText(orderId) : orderPayloadText(payload);
    const triggered = opts.triggeredAt ?? new Date(this.clock.now());
    return buildDelivery({
      topic,
      shopDomain: this.domain,
      apiVersion: opts.apiVersion ?? this.defaultApiVersion,
      body,
      secret: opts.secret ?? this.apiSecret,
      eventId: opts.eventId ?? version.eventId,
      webhookId: opts.webhookId,
      triggeredAt: typeof triggered === 'string' ? triggered : triggered.toISOString(),
      name: opts.name,
    });
  }

  private record(id: string, action: string): void {
    const rec = this.any(id);
    rec.versions.push({ action, eventId: randomUUID(), order: copy(rec.current) });
  }

  /**
   * The new `updated_at`: now, but always at least one second after the previous value, so every
   * change is visible to an `updated_at:>` poll even when the test clock is frozen.
   */
  private bumpedTime(previous: string): string {
    return formatShopTime(Math.max(this.clock.now(), parseTime(previous) + 1000), this.utcOffset);
  }

  private any(id: string): OrderRecord {
    const rec = this.records.get(String(id));
    if (!rec) throw new Error(`no order ${id} in ${this.domain}`);
    return rec;
  }

  private live(id: string): OrderRecord {
    const rec = this.any(id);
    if (rec.deleted) throw new Error(`order ${id} was deleted`);
    return rec;
  }
}
