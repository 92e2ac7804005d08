/**
 * One emulated Etsy shop: its receipts, the seller's OAuth tokens and the seller actions tests
 * drive (new order, edit, cancel, ship, deliver). Every change bumps `update_timestamp` /
 * `updated_timestamp`, which is what `min_last_modified` polling keys on.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import type { TokenPair, TokenStore } from './oauth.js';
import { selectReceipts, type ReceiptQuery, type StoredReceipt } from './receipts-query.js';
import { applyReceiptTotals, buildReceipt, buildTransaction, type ReceiptContext } from './receipt-builder.js';
import type { ShopReceipt, ShopReceiptInput } from './types.js';
import { etsyWebhookPayload, newMessageId, signEtsyWebhook, type EtsyDelivery, type EtsyWebhookShape } from './webhooks.js';

export interface EtsyShopConfig {
  shop_id: number;
  /** The seller's Etsy user id; access tokens are `<user_id>.<random>`. */
  user_id: number;
  /** Tokens the sidecar starts with; minted when omitted. `expires_at` is epoch **seconds**. */
  tokens?: Partial<TokenPair>;
  /** App whose tokens these are; default the first app. */
  keystring?: string;
  currency?: string;
  seller_email?: string;
  /** Whether the app may see buyer e-mails (Etsy grants this case by case); default false → null. */
  buyerEmailAccess?: boolean;
}

export interface EtsyShopDeps {
  clock: Clock;
  tokens: TokenStore;
  keystring: string;
  webhookSecret: string;
  resourceBase: string;
  nextReceiptId(): number;
  nextTransactionId(): number;
  nextListingId(): number;
}

export interface EtsyWebhookOptions {
  /** Override the `webhook-id` (Standard Webhooks message id). */
  id?: string;
  /** Override `webhook-timestamp` (epoch seconds) — e.g. to test replay tolerance. */
  timestamp?: number;
  /** Sign with another secret. */
  secret?: string;
  eventId?: string;
}

const copy = <T>(v: T): T => structuredClone(v);

const MONEY_FIELDS = ['grandtotal', 'subtotal', 'total_price', 'total_shipping_cost', 'total_tax_cost', 'total_vat_cost', 'discount_amt', 'gift_wrap_price'] as const;

export class EtsyShop {
  readonly shopId: number;
  readonly userId: number;
  private readonly stored = new Map<number, StoredReceipt>();
  private readonly ctx: ReceiptContext;
  private current: TokenPair;

  constructor(
    config: EtsyShopConfig,
    private readonly deps: EtsyShopDeps,
  ) {
    this.shopId = config.shop_id;
    this.userId = config.user_id;
    this.current = deps.tokens.seed(config.user_id, deps.keystring, config.tokens);
    this.ctx = {
      nextReceiptId: () => {
        let id = deps.nextReceiptId();
        while (this.stored.has(id)) id = deps.nextReceiptId();
        return id;
      },
      nextTransactionId: deps.nextTransactionId,
      nextListingId: deps.nextListingId,
      nowSeconds: () => deps.clock.nowSeconds(),
      shopId: config.shop_id,
      sellerUserId: config.user_id,
      sellerEmail: config.seller_email ?? `seller-${config.shop_id}@example.com`,
      currency: config.currency ?? 'USD',
      buyerEmailAccess: config.buyerEmailAccess ?? false,
    };
  }

  /** A new order. Returns a copy. */
  addReceipt(input: ShopReceiptInput = {}): ShopReceipt {
    const r = buildReceipt(input, this.ctx);
    if (this.stored.has(r.receipt_id)) throw new Error(`receipt ${r.receipt_id} already exists`);
    this.stored.set(r.receipt_id, { receipt: r, delivered: false });
    return copy(r);
  }

  /** Merge a patch; recompute totals when transactions change; bump the update timestamps. */
  updateReceipt(receiptId: number, patch: ShopReceiptInput): ShopReceipt {
    const s = this.get(receiptId);
    const prev = s.receipt;
    const { transactions, ...flat } = patch;
    // Money totals are applied by applyReceiptTotals (they may be given as decimal strings).
    for (const k of MONEY_FIELDS) delete (flat as Record<string, unknown>)[k];
    const next = { ...prev, ...(flat as Partial<ShopReceipt>), receipt_id: prev.receipt_id } as ShopReceipt;
    if (transactions) {
      next.transactions = transactions.map((t) => buildTransaction(t, prev.receipt_id, prev.buyer_user_id, prev.is_paid ? prev.created_timestamp : null, this.ctx));
    }
    applyReceiptTotals(next, patch, this.ctx.currency);
    this.bump(next, patch.updated_timestamp ?? patch.update_timestamp);
    s.receipt = next;
    return copy(next);
  }

  /** Seller cancels: status "Canceled". */
  cancelReceipt(receiptId: number): ShopReceipt {
    return this.updateReceipt(receiptId, { status: 'Canceled' });
  }

  /** Buyer pays an open order. */
  payReceipt(receiptId: number): ShopReceipt {
    const s = this.get(receiptId);
    const now = this.deps.clock.nowSeconds();
    for (const t of s.receipt.transactions) t.paid_timestamp = now;
    return this.updateReceipt(receiptId, { status: 'Paid', is_paid: true });
  }

  /** Seller ships: a shipment row, `is_shipped`, status "Completed". */
  shipReceipt(receiptId: number, opts: { carrier?: string; tracking?: string } = {}): ShopReceipt {
    const s = this.get(receiptId);
    const now = this.deps.clock.nowSeconds();
    for (const t of s.receipt.transactions) t.shipped_timestamp = now;
    const shipments = [
      ...s.receipt.shipments,
      { receipt_shipping_id: null, shipment_notification_timestamp: now, carrier_name: opts.carrier ?? 'usps', tracking_code: opts.tracking ?? '9400100000000000000000' },
    ];
    return this.updateReceipt(receiptId, { is_shipped: true, status: 'Completed', shipments });
  }

  /** Carrier reports delivery (only visible through the `was_delivered` filter). */
  deliverReceipt(receiptId: number): ShopReceipt {
    const s = this.get(receiptId);
    s.delivered = true;
    this.bump(s.receipt);
    return copy(s.receipt);
  }

  receipts(): ShopReceipt[] {
    return [...this.stored.values()].map((s) => copy(s.receipt));
  }

  receipt(receiptId: number): ShopReceipt {
    return copy(this.get(receiptId).receipt);
  }

  /** The tokens the sidecar should hold right now (updated by refreshes made through the API). */
  tokens(): TokenPair {
    return { ...this.current };
  }

  /** Mint a fresh pair, as a new authorization-code grant would. */
  issueTokens(): TokenPair {
    this.current = this.deps.tokens.issue(this.userId, this.deps.keystring);
    return this.tokens();
  }

  /** The seller changed their password: every token stops working (etsy/open-api#519). */
  revokeTokens(): void {
    this.deps.tokens.revokeUser(this.userId);
  }

  /** A signed, thin webhook about a receipt. */
  webhook(eventType: string, receiptId: number, shape: EtsyWebhookShape = 'resource', opts: EtsyWebhookOptions = {}): EtsyDelivery {
    this.get(receiptId);
    const timestamp = opts.timestamp ?? this.deps.clock.nowSeconds();
    const id = opts.id ?? newMessageId();
    const payload = etsyWebhookPayload({
      eventType,
      shopId: this.shopId,
      receiptId,
      shape,
      eventId: opts.eventId ?? randomUUID(),
      createdAt: timestamp,
      resourceBase: this.deps.resourceBase,
    });
    const body = JSON.stringify(payload);
    const headers = signEtsyWebhook({ secret: opts.secret ?? this.deps.webhookSecret, id, timestamp, body });
    return { headers, body, id, timestamp };
  }

  /** @internal used by the HTTP layer */
  select(q: ReceiptQuery): { count: number; results: ShopReceipt[] } {
    const page = selectReceipts([...this.stored.values()], q);
    return { count: page.count, results: page.results.map(copy) };
  }

  /** @internal used by the HTTP layer */
  find(receiptId: number): ShopReceipt | undefined {
    const s = this.stored.get(receiptId);
    return s && copy(s.receipt);
  }

  /** @internal keep the current pair in sync when the API rotates it */
  rotated(pair: TokenPair): void {
    this.current = pair;
  }

  /** Move both update timestamps to now, at least one second past the previous value. */
  private bump(r: ShopReceipt, explicit?: number): void {
    const at = explicit ?? Math.max(this.deps.clock.nowSeconds(), r.updated_timestamp + 1);
    r.update_timestamp = at;
    r.updated_timestamp = at;
  }

  private get(receiptId: number): StoredReceipt {
    const s = this.stored.get(Number(receiptId));
    if (!s) throw new Error(`no receipt ${receiptId} in shop ${this.shopId}`);
    return s;
  }
}
