/**
 * Shop payloads → one order shape: ids kept exact beyond 2^53, decimal-string money, discounts and
 * tax-inclusive prices, guests, GraphQL pages equal to webhook bodies, and Etsy's Money/divisor,
 * capitalised statuses and receipt-level discount.
 */
import { describe, expect, it } from 'vitest';
import { parseLossless } from '../../sidecar/shops/lossless_json.js';
import { etsyReceiptSchema, etsyReceiptToOrder } from '../../sidecar/shops/etsy/receipt.js';
import { graphqlToRest, type GqlOrder } from '../../sidecar/shops/shopify/admin_api.js';
import { shopifyRestOrderSchema, shopifyRestToOrder } from '../../sidecar/shops/shopify/rest_order.js';

const restBody = `{
  "id": 820982911946154508, "name": "#1001", "email": "jon@example.com", "currency": "USD",
  "created_at": "2026-11-20T22:15:00-05:00", "updated_at": "2026-11-20T22:16:30-05:00", "cancelled_at": null,
  "taxes_included": false,
  "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "Jon", "last_name": "Snow", "phone": null},
  "billing_address": {"first_name": "Jon", "last_name": "Snow", "address1": "1 Wall St", "city": "Ottawa", "zip": "K2P 1L4", "country": "Canada", "country_code": "CA"},
  "shipping_address": null,
  "line_items": [
    {"id": 866550311766439020, "sku": "TRUFFLE-BOX", "title": "Truffle box", "quantity": 2, "price": "20.00",
     "discount_allocations": [{"amount": "4.00"}], "tax_lines": [{"title": "GST", "price": "1.80", "rate": 0.05}]},
    {"id": 141249953214522974, "sku": "", "title": "Gift note", "quantity": 1, "price": "0.00", "tax_lines": []}
  ],
  "shipping_lines": [{"title": "Standard", "price": "10.00", "discounted_price": "8.00", "tax_lines": [{"title": "GST", "price": "0.40"}]}],
  "tax_lines": [{"title": "GST", "price": "2.20"}]
}`;

describe('Shopify webhook body', () => {
  const order = shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(parseLossless(restBody)));

  it('keeps ids beyond 2^53 exact, as strings', () => {
    expect(order.id).toBe('820982911946154508');
    expect(order.customer?.id).toBe('115310627314723954');
    // The premise: plain JSON.parse rounds this id.
    expect(String(JSON.parse(restBody).id)).not.toBe('820982911946154508');
  });

  it('uses the local calendar date and a UTC updated_at that compares as text', () => {
    expect(order.createdDate).toBe('2026-11-20');
    expect(order.createdAt).toBe('2026-11-21T03:15:00.000Z');
    expect(order.updatedAt).toBe('2026-11-21T03:16:30.000Z');
  });

  it('nets discounts into rates and sums line and shipping taxes by title', () => {
    expect(order.lines).toEqual([
      { sku: 'TRUFFLE-BOX', title: 'Truffle box', qty: 2, rate: 18 },
      { sku: '', title: 'Gift note', qty: 1, rate: 0 },
    ]);
    expect(order.taxes).toEqual([{ title: 'GST', amount: 2.2 }]);
    expect(order.shipping).toEqual([{ title: 'Standard', amount: 8 }]);
    expect(order.billingAddress).toMatchObject({ line1: '1 Wall St', countryCode: 'CA', name: 'Jon Snow' });
  });

  it('takes tax out of tax-inclusive prices', () => {
    const inclusive = JSON.parse(restBody.replace(/"id": \d+/g, '"id": 1'));
    inclusive.taxes_included = true;
    const o = shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(inclusive));
    expect(o.lines[0]!.rate).toBe(17.1); // 20 − 4/2 − 1.80/2
    expect(o.shipping[0]!.amount).toBe(7.6);
  });

  it('owes tax only on what is left of a line after removals', () => {
    const partly = JSON.parse(restBody.replace(/"id": \d+/g, '"id": 1'));
    partly.line_items[0].current_quantity = 1; // 2 ordered, 1 removed
    const o = shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(partly));
    expect(o.lines[0]).toMatchObject({ qty: 1, rate: 18 });
    expect(o.taxes).toEqual([{ title: 'GST', amount: 1.3 }]); // 1.80 / 2 + 0.40 shipping
  });

  it('a guest order has no customer, an order with only an email keeps the email', () => {
    const guest = JSON.parse(restBody.replace(/"id": \d+/g, '"id": 1'));
    guest.customer = null;
    guest.email = null;
    expect(shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(guest)).customer).toBeNull();
    guest.email = 'walkin@example.com';
    expect(shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(guest)).customer).toMatchObject({ email: 'walkin@example.com', id: undefined });
  });
});

describe('Shopify GraphQL node', () => {
  it('normalises to the same order as the webhook body of the same order', () => {
    const money = (amount: string) => ({ shopMoney: { amount } });
    const node: GqlOrder = {
      legacyResourceId: '820982911946154508',
      name: '#1001',
      email: 'jon@example.com',
      createdAt: '2026-11-20T22:15:00-05:00',
      updatedAt: '2026-11-20T22:16:30-05:00',
      cancelledAt: null,
      currencyCode: 'USD',
      taxesIncluded: false,
      customer: { legacyResourceId: '115310627314723954', email: 'jon@example.com', firstName: 'Jon', lastName: 'Snow', phone: null },
      billingAddress: { firstName: 'Jon', lastName: 'Snow', address1: '1 Wall St', city: 'Ottawa', zip: 'K2P 1L4', country: 'Canada', countryCodeV2: 'CA' },
      shippingAddress: null,
      lineItems: {
        nodes: [
          { sku: 'TRUFFLE-BOX', title: 'Truffle box', quantity: 2, originalUnitPriceSet: money('20.00'), discountAllocations: [{ allocatedAmountSet: money('4.00') }], taxLines: [{ title: 'GST', priceSet: money('1.80') }] },
          { sku: '', title: 'Gift note', quantity: 1, originalUnitPriceSet: money('0.00'), discountAllocations: [], taxLines: [] },
        ],
      },
      shippingLines: { nodes: [{ title: 'Standard', originalPriceSet: money('10.00'), discountedPriceSet: money('8.00'), taxLines: [{ title: 'GST', priceSet: money('0.40') }] }] },
      taxLines: [{ title: 'GST', priceSet: money('2.20') }],
    };
    const fromGraphql = shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(graphqlToRest(node)));
    const fromWebhook = shopifyRestToOrder('demo', shopifyRestOrderSchema.parse(parseLossless(restBody)));
    expect(fromGraphql).toEqual(fromWebhook);
  });
});

describe('Etsy receipt', () => {
  const usd = (amount: number) => ({ amount, divisor: 100, currency_code: 'USD' });
  const receipt = {
    receipt_id: 3344556677,
    buyer_user_id: 998877,
    buyer_email: null,
    name: 'Ada Lovelace',
    first_line: '12 St James Sq',
    city: 'London',
    zip: 'SW1Y 4JH',
    country_iso: 'GB',
    status: 'Paid',
    is_paid: true,
    created_timestamp: 1_790_000_000,
    updated_timestamp: 1_790_000_600,
    total_shipping_cost: usd(500),
    total_tax_cost: usd(0),
    total_vat_cost: usd(240),
    discount_amt: usd(300),
    grandtotal: usd(3440),
    transactions: [
      { sku: 'MUG-01', title: 'Mug', quantity: 2, price: usd(1000) },
      { sku: 'CARD-01', title: 'Card', quantity: 1, price: usd(1000) },
    ],
  };

  it('turns Money into amounts, spreads the discount, and keeps VAT and shipping as charges', () => {
    const o = etsyReceiptToOrder('etsy-demo', etsyReceiptSchema.parse(receipt))!;
    expect(o).toMatchObject({ id: '3344556677', currency: 'USD', cancelled: false, createdDate: '2026-09-21' });
    expect(o.lines).toEqual([
      { sku: 'MUG-01', title: 'Mug', qty: 2, rate: 9 },
      { sku: 'CARD-01', title: 'Card', qty: 1, rate: 9 },
    ]);
    expect(o.taxes).toEqual([{ title: 'VAT', amount: 2.4 }]);
    expect(o.shipping).toEqual([{ title: 'Shipping', amount: 5 }]);
    expect(o.customer).toMatchObject({ id: '998877', firstName: 'Ada', lastName: 'Lovelace' });
    expect(o.shippingAddress).toMatchObject({ countryCode: 'GB', line1: '12 St James Sq' });
  });

  it('reads capitalised statuses: Canceled cancels, an unpaid open receipt is not an order yet', () => {
    expect(etsyReceiptToOrder('e', etsyReceiptSchema.parse({ ...receipt, status: 'Canceled', is_paid: true }))!.cancelled).toBe(true);
    expect(etsyReceiptToOrder('e', etsyReceiptSchema.parse({ ...receipt, status: 'Open', is_paid: false }))).toBeNull();
    expect(etsyReceiptToOrder('e', etsyReceiptSchema.parse({ ...receipt, status: 'Completed', is_paid: false }))).not.toBeNull();
  });
});
