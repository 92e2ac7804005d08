/**
 * Completes a test's partial receipt into a full `ShopReceipt` whose money adds up the way the
 * OAS describes it: total_price = Σ(price × quantity); subtotal = total_price − discount_amt;
 * grandtotal = subtotal + shipping + tax + VAT + gift wrap. Etsy has no per-line tax, so tax lives
 * only on the receipt.
 */
import type { EtsyMoney, EtsyTransaction, EtsyTransactionInput, MoneyInput, ShopReceipt, ShopReceiptInput } from './types.js';

export interface ReceiptContext {
  nextReceiptId(): number;
  nextTransactionId(): number;
  nextListingId(): number;
  nowSeconds(): number;
  shopId: number;
  sellerUserId: number;
  sellerEmail: string;
  currency: string;
  /** When false (Etsy's default for most apps) buyer_email is null unless given. */
  buyerEmailAccess: boolean;
}

/** "12.50" → {amount: 1250, divisor: 100, currency_code}. */
export function toMoney(value: MoneyInput | undefined, currency: string, fallbackCents = 0): EtsyMoney {
  if (value === undefined) return { amount: fallbackCents, divisor: 100, currency_code: currency };
  if (typeof value !== 'string') return { ...value };
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new Error(`not a money amount: ${value}`);
  const cents = Number(m[2]) * 100 + Number(((m[3] ?? '') + '00').slice(0, 2));
  return { amount: m[1] ? -cents : cents, divisor: 100, currency_code: currency };
}

/** Amount in hundredths, whatever the divisor. */
const cents = (m: EtsyMoney): number => Math.round((m.amount * 100) / m.divisor);

function buildTransaction(input: EtsyTransactionInput, receiptId: number, buyerUserId: number, paidAt: number | null, ctx: ReceiptContext): EtsyTransaction {
  const now = ctx.nowSeconds();
  return {
    title: 'Hand-thrown ceramic mug',
    description: 'Stoneware mug, glazed by hand.',
    listing_image_id: null,
    is_digital: false,
    file_data: '',
    transaction_type: 'listing',
    product_id: 5_000_000_001,
    variations: [],
    product_data: [],
    shipping_profile_id: 200_000_001,
    min_processing_days: 1,
    max_processing_days: 3,
    shipping_method: null,
    shipping_upgrade: null,
    expected_ship_date: now + 3 * 86_400,
    buyer_coupon: 0,
    shop_coupon: 0,
    shipped_timestamp: null,
    ...input,
    transaction_id: input.transaction_id ?? ctx.nextTransactionId(),
    receipt_id: receiptId,
    seller_user_id: ctx.sellerUserId,
    buyer_user_id: input.buyer_user_id ?? buyerUserId,
    create_timestamp: input.create_timestamp ?? now,
    created_timestamp: input.created_timestamp ?? input.create_timestamp ?? now,
    paid_timestamp: input.paid_timestamp !== undefined ? input.paid_timestamp : paidAt,
    quantity: input.quantity ?? 1,
    listing_id: input.listing_id !== undefined ? input.listing_id : ctx.nextListingId(),
    sku: input.sku !== undefined ? input.sku : '',
    price: toMoney(input.price, ctx.currency, 2400),
    shipping_cost: toMoney(input.shipping_cost, ctx.currency, 0),
  };
}

const MONEY_FIELDS = ['total_price', 'discount_amt', 'subtotal', 'total_shipping_cost', 'total_tax_cost', 'total_vat_cost', 'gift_wrap_price', 'grandtotal'] as const;

/** Recompute money totals from the transactions; explicitly given totals win. */
export function applyReceiptTotals(r: ShopReceipt, explicit: Partial<Record<(typeof MONEY_FIELDS)[number], MoneyInput>>, currency: string): void {
  const m = (c: number) => ({ amount: c, divisor: 100, currency_code: currency });
  const pick = (field: (typeof MONEY_FIELDS)[number], computed: number) =>
    explicit[field] !== undefined ? toMoney(explicit[field], currency) : m(computed);
  r.total_price = pick('total_price', r.transactions.reduce((s, t) => s + cents(t.price) * t.quantity, 0));
  r.discount_amt = pick('discount_amt', cents(r.discount_amt));
  r.subtotal = pick('subtotal', cents(r.total_price) - cents(r.discount_amt));
  r.total_shipping_cost = pick('total_shipping_cost', r.transactions.reduce((s, t) => s + cents(t.shipping_cost), 0));
  r.total_tax_cost = pick('total_tax_cost', cents(r.total_tax_cost));
  r.total_vat_cost = pick('total_vat_cost', cents(r.total_vat_cost));
  r.gift_wrap_price = pick('gift_wrap_price', cents(r.gift_wrap_price));
  r.grandtotal = pick(
    'grandtotal',
    cents(r.subtotal) + cents(r.total_shipping_cost) + cents(r.total_tax_cost) + cents(r.total_vat_cost) + cents(r.gift_wrap_price),
  );
}

export function formatAddress(r: Pick<ShopReceipt, 'name' | 'first_line' | 'second_line' | 'city' | 'state' | 'zip' | 'country_iso'>): string {
  const cityLine = [r.city, [r.state, r.zip].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [r.name, r.first_line, r.second_line, cityLine, r.country_iso === 'US' ? 'United States' : r.country_iso].filter(Boolean).join('\n');
}

export function buildReceipt(input: ShopReceiptInput, ctx: ReceiptContext): ShopReceipt {
  const now = ctx.nowSeconds();
  const receipt_id = input.receipt_id ?? ctx.nextReceiptId();
  const buyer_user_id = input.buyer_user_id ?? 700_000_001;
  const status = input.status ?? 'Paid';
  const is_paid = input.is_paid ?? ['Paid', 'Completed'].includes(status);
  const created = input.created_timestamp ?? input.create_timestamp ?? now;
  const updated = input.updated_timestamp ?? input.update_timestamp ?? created;
  const zero = toMoney(undefined, ctx.currency);
  const r: ShopReceipt = {
    receipt_id,
    receipt_type: 0,
    seller_user_id: ctx.sellerUserId,
    seller_email: ctx.sellerEmail,
    buyer_user_id,
    buyer_email: ctx.buyerEmailAccess ? 'buyer@example.com' : null,
    name: 'Ada Lovelace',
    first_line: '12 Analytical Way',
    second_line: null,
    city: 'Portland',
    state: 'OR',
    zip: '97201',
    status,
    formatted_address: '',
    country_iso: 'US',
    payment_method: 'cc',
    payment_email: null,
    message_from_seller: null,
    message_from_buyer: null,
    message_from_payment: null,
    is_paid,
    is_shipped: status === 'Completed',
    is_gift: false,
    gift_message: '',
    gift_sender: '',
    shipments: [],
    refunds: [],
    ...(input as Partial<ShopReceipt>),
    create_timestamp: created,
    created_timestamp: created,
    update_timestamp: updated,
    updated_timestamp: updated,
    transactions: [],
    grandtotal: zero,
    subtotal: zero,
    total_price: zero,
    total_shipping_cost: toMoney(input.total_shipping_cost, ctx.currency),
    total_tax_cost: toMoney(input.total_tax_cost, ctx.currency),
    total_vat_cost: toMoney(input.total_vat_cost, ctx.currency),
    discount_amt: toMoney(input.discount_amt, ctx.currency),
    gift_wrap_price: toMoney(input.gift_wrap_price, ctx.currency),
  };
  r.transactions = (input.transactions ?? [{}]).map((t) => buildTransaction(t, receipt_id, buyer_user_id, is_paid ? created : null, ctx));
  if (input.formatted_address === undefined) r.formatted_address = formatAddress(r);
  applyReceiptTotals(r, input, ctx.currency);
  return r;
}

export { buildTransaction };
