/**
 * Contract tests of the Shopify double: what it emits must match what Shopify documents, since
 * the sidecar's webhook receiver and reconciliation poll are tested against it.
 *
 * Sources: shopify.dev/docs/apps/build/webhooks/delivery-structure (headers),
 * shopify.dev/docs/apps/build/webhooks/verify-deliveries (HMAC), shopify.dev admin-graphql
 * queries/orders (connection, search syntax, sort keys), Shopify/shopify-app-js
 * rest/admin/2025-07/order.ts (REST Order fields).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import express from 'express';
import { parse as losslessParse, isLosslessNumber } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyDouble, deliver, type ShopifyDouble } from '../../doubles/shopify/index.js';
import { listenLocal, type Listening } from '../../doubles/shared/http.js';

const DOMAIN = 'demo-shop.myshopify.com';
const OTHER = 'other-shop.myshopify.com';
const TOKEN = 'shpat_demo_token';
const SECRET = 'app-client-secret';

let double: ShopifyDouble;

const verify = (raw: Buffer, header: string | undefined, secret: string): boolean => {
  if (!header) return false;
  const a = Buffer.from(createHmac('sha256', secret).update(raw).digest('base64'));
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
};

async function gql(query: string, variables: Record<string, unknown> = {}, token = TOKEN, url?: string) {
  const res = await fetch(url ?? `${double.url}/admin/api/2026-01/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

beforeAll(async () => {
  double = await createShopifyDouble({
    shops: [
      { domain: DOMAIN, accessToken: TOKEN, apiSecret: SECRET },
      { domain: OTHER, accessToken: 'shpat_other', apiSecret: 'other-secret', namePrefix: '', utcOffset: '+01:00' },
    ],
    now: '2026-11-20T15:00:00Z',
  });
});

afterAll(async () => {
  await double.close();
});

describe('webhook deliveries', () => {
  it('carries the documented headers and a body signed with the app secret', () => {
    const shop = double.shop(DOMAIN);
    const order = shop.addOrder({ email: 'ada@example.com' });
    const d = shop.webhook('orders/create', order.id);
    expect(d.headers['Content-Type']).toBe('application/json');
    expect(d.headers['X-Shopify-Topic']).toBe('orders/create');
    expect(d.headers['X-Shopify-Shop-Domain']).toBe(DOMAIN);
    expect(d.headers['X-Shopify-API-Version']).toBe('2026-01');
    expect(d.headers['X-Shopify-Webhook-Id']).toBe(d.webhookId);
    expect(d.headers['X-Shopify-Event-Id']).toBe(d.eventId);
    expect(new Date(d.headers['X-Shopify-Triggered-At']).toISOString()).toBe('2026-11-20T15:00:00.000Z');
    expect(verify(Buffer.from(d.body), d.headers['X-Shopify-Hmac-Sha256'], SECRET)).toBe(true);
  });

  it('fails verification when a single byte of the body changes, or with another secret', () => {
    const shop = double.shop(DOMAIN);
    const d = shop.webhook('orders/create', shop.addOrder().id);
    const raw = Buffer.from(d.body);
    const tampered = Buffer.from(raw);
    tampered[10] = tampered[10] ^ 0x01;
    expect(verify(tampered, d.headers['X-Shopify-Hmac-Sha256'], SECRET)).toBe(false);
    expect(verify(raw, d.headers['X-Shopify-Hmac-Sha256'], 'some-other-secret')).toBe(false);
    // Rotation: a delivery may be signed with a chosen secret.
    const rotated = shop.webhook('orders/create', shop.orders()[0].id, { secret: 'new-secret' });
    expect(verify(Buffer.from(rotated.body), rotated.headers['X-Shopify-Hmac-Sha256'], 'new-secret')).toBe(true);
    expect(verify(Buffer.from(rotated.body), rotated.headers['X-Shopify-Hmac-Sha256'], SECRET)).toBe(false);
  });

  it('keeps ids above 2^53 exact in the raw body text', () => {
    const shop = double.shop(DOMAIN);
    // 2^53 + 1: the smallest integer a JS number cannot hold.
    const order = shop.addOrder({ id: '9007199254740993', order_number: 9001 });
    const d = shop.webhook('orders/create', order.id);
    expect(d.body).toContain('"id":9007199254740993,');
    expect(d.body).toContain('"admin_graphql_api_id":"gid://shopify/Order/9007199254740993"');
    // A plain JSON.parse rounds it — which is exactly why the body must be parsed losslessly.
    expect(String((JSON.parse(d.body) as { id: number }).id)).toBe('9007199254740992');
    const lossless = losslessParse(d.body) as Record<string, unknown>;
    expect(isLosslessNumber(lossless.id)).toBe(true);
    expect(String(lossless.id)).toBe('9007199254740993');
    // Generated ids are of the same kind (Shopify's own sample order id is 820982911946154508).
    const generated = shop.webhook('orders/create', shop.addOrder().id).body;
    expect(generated).toMatch(/^\{"id":8209829119461\d{5},/);
    const line = (lossless.line_items as Record<string, unknown>[])[0];
    expect(BigInt(String(line.id))).toBeGreaterThan(2n ** 53n);
  });

  it('renders the REST Order resource fields with decimal-string amounts and shop-offset times', () => {
    const shop = double.shop(DOMAIN);
    const order = shop.addOrder({
      line_items: [
        { title: 'Mug', variant_title: null, sku: '', price: '12.50', quantity: 2, discount_allocations: [{ amount: '5.00' }] },
        { title: 'Custom engraving', product_id: null, price: '3.00' },
      ],
      shipping_lines: [{ title: 'Express', code: 'EXP', price: '7.00' }],
    });
    const body = JSON.parse(shop.webhook('orders/paid', order.id).body) as Record<string, any>;
    expect(body.name).toMatch(/^#\d+$/);
    expect(body.order_number).toBe(order.order_number);
    expect(body.created_at).toBe('2026-11-20T10:00:00-05:00');
    expect(body.updated_at).toBe(body.created_at);
    expect(body.cancelled_at).toBeNull();
    expect(body.financial_status).toBe('paid');
    expect(body.fulfillment_status).toBeNull();
    expect(body.customer).toMatchObject({ first_name: 'Jane', last_name: 'Doe' });
    expect(typeof body.customer.default_address.id).toBe('number');
    expect(body.billing_address).not.toHaveProperty('id');
    const [mug, engraving] = body.line_items;
    expect(mug).toMatchObject({ sku: '', price: '12.50', quantity: 2, current_quantity: 2, total_discount: '5.00', product_exists: true });
    expect(mug.discount_allocations).toEqual([{ discount_application_index: 0, amount: '5.00' }]);
    expect(mug.tax_lines).toEqual([{ title: 'State Tax', rate: 0.06, price: '1.20', channel_liable: false }]);
    expect(engraving).toMatchObject({ product_id: null, variant_id: null, product_exists: false });
    expect(body.shipping_lines[0]).toMatchObject({ title: 'Express', code: 'EXP', price: '7.00', discounted_price: '7.00', tax_lines: [] });
    // 25.00 − 5.00 + 3.00 = 23.00 subtotal; tax 1.20 + 0.18; + 7.00 shipping.
    expect(body).toMatchObject({
      total_line_items_price: '28.00',
      subtotal_price: '23.00',
      total_discounts: '5.00',
      total_tax: '1.38',
      total_price: '31.38',
      taxes_included: false,
      currency: 'USD',
      presentment_currency: 'USD',
    });
    expect(body.tax_lines).toEqual([{ title: 'State Tax', rate: 0.06, price: '1.38', channel_liable: false }]);
  });

  it('supports guests, names without "#", and shares the event id across topics of one action', () => {
    const other = double.shop(OTHER);
    const order = other.addOrder({ customer: null, email: null });
    const create = other.webhook('orders/create', order.id);
    const paid = other.webhook('orders/paid', order.id);
    const body = JSON.parse(create.body) as Record<string, any>;
    expect(body.customer).toBeNull();
    expect(body.name).toBe(String(order.order_number));
    expect(body.created_at.endsWith('+01:00')).toBe(true);
    expect(create.eventId).toBe(paid.eventId);
    expect(create.webhookId).not.toBe(paid.webhookId);
    const cancelled = other.webhook('orders/cancelled', other.cancelOrder(order.id, 'fraud').id);
    expect(cancelled.eventId).not.toBe(create.eventId);
    expect(JSON.parse(cancelled.body)).toMatchObject({ cancel_reason: 'fraud' });
  });

  it('re-sends an older snapshot with its original event id (a retry carries the original payload)', () => {
    const shop = double.shop(DOMAIN);
    const created = shop.addOrder({ financial_status: 'pending' });
    const first = shop.webhook('orders/create', created.id);
    const paid = shop.payOrder(created.id);
    expect(paid.updated_at > created.updated_at).toBe(true);
    const stale = shop.webhook('orders/updated', created.id, { snapshot: created });
    expect(JSON.parse(stale.body)).toMatchObject({ financial_status: 'pending', updated_at: created.updated_at });
    expect(stale.eventId).toBe(first.eventId);
    const fresh = shop.webhook('orders/updated', created.id);
    expect(JSON.parse(fresh.body)).toMatchObject({ financial_status: 'paid', total_outstanding: '0.00' });
  });

  it('deliver() POSTs the exact bytes to a receiver that verifies them on the raw body', async () => {
    const app = express();
    app.post('/hooks', express.raw({ type: 'application/json' }), (req, res) => {
      const ok = verify(req.body as Buffer, req.get('X-Shopify-Hmac-Sha256'), SECRET);
      res.status(ok ? 200 : 401).send(ok ? `ok ${req.get('X-Shopify-Topic')}` : 'bad hmac');
    });
    const receiver: Listening = await listenLocal(app);
    try {
      const shop = double.shop(DOMAIN);
      const id = shop.addOrder().id;
      const good = await deliver(`${receiver.url}/hooks`, shop.webhook('orders/create', id));
      expect(good).toMatchObject({ status: 200, body: 'ok orders/create' });
      const forged = await deliver(`${receiver.url}/hooks`, shop.webhook('orders/create', id, { secret: 'wrong' }));
      expect(forged.status).toBe(401);
    } finally {
      await receiver.close();
    }
  });
});

describe('Admin GraphQL API', () => {
  const ORDERS = /* GraphQL */ `
    query Orders($first: Int!, $after: String, $query: String) {
      orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
        edges { cursor node { id legacyResourceId name updatedAt } }
        pageInfo { hasNextPage endCursor }
      }
    }`;

  it('rejects a wrong or missing access token with 401 like Shopify', async () => {
    const wrong = await gql('{ orders(first: 1) { nodes { id } } }', {}, 'shpat_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    const res = await fetch(`${double.url}/admin/api/2026-01/graphql.json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: '{ orders(first: 1) { nodes { id } } }' }),
    });
    expect(res.status).toBe(401);
    // A token of another shop does not open this shop's pinned endpoint.
    const pinned = await gql('{ orders(first: 1) { nodes { id } } }', {}, 'shpat_other', double.graphqlUrl(DOMAIN));
    expect(pinned.status).toBe(401);
  });

  it('pages orders updated after a cursor time with opaque cursors, oldest update first', async () => {
    const created = await createShopifyDouble({
      shops: [{ domain: DOMAIN, accessToken: TOKEN, apiSecret: SECRET }],
      now: '2026-11-20T09:00:00Z',
    });
    try {
      const shop = created.shop(DOMAIN);
      const old = shop.addOrder();
      created.clock.advance(60 * 60_000); // 10:00Z
      const watermark = '2026-11-20T10:00:00Z';
      const atWatermark = shop.addOrder();
      const newer = [];
      for (let i = 0; i < 5; i++) {
        created.clock.advance(60_000);
        newer.push(shop.addOrder());
      }
      created.clock.advance(60_000);
      shop.updateOrder(old.id, { note: 'edited after the watermark' });

      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: Awaited<ReturnType<typeof gql>> = await gql(
          ORDERS,
          { first: 2, after, query: `updated_at:>'${watermark}'` },
          TOKEN,
          created.graphqlUrl(DOMAIN),
        );
        expect(res.status).toBe(200);
        expect(res.body.errors).toBeUndefined();
        const conn = res.body.data.orders;
        for (const e of conn.edges) {
          expect(typeof e.cursor).toBe('string');
          expect(e.node.id).toBe(`gid://shopify/Order/${e.node.legacyResourceId}`);
          expect(e.node.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
          seen.push(e.node.legacyResourceId);
        }
        after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
        pages++;
      } while (after);
      expect(pages).toBe(3);
      expect(seen).toEqual([...newer.map((o) => o.id), old.id]);
      expect(seen).not.toContain(atWatermark.id);

      const inclusive = await gql(ORDERS, { first: 250, query: `updated_at:>='${watermark}' AND created_at:<'2026-11-20T10:03:00Z'` }, TOKEN, created.graphqlUrl(DOMAIN));
      expect(inclusive.body.data.orders.edges.map((e: any) => e.node.legacyResourceId)).toEqual([
        atWatermark.id,
        newer[0].id,
        newer[1].id,
        old.id, // created before 10:03, updated at 10:06
      ]);
      expect(created.requests.count('/shops/demo-shop.myshopify.com/admin/api/2026-01/graphql.json')).toBe(4);
    } finally {
      await created.close();
    }
  });

  it('maps the canonical order to Shopify GraphQL field shapes', async () => {
    const shop = double.shop(DOMAIN);
    const o = shop.addOrder({
      name: 'WEB-77',
      tags: 'vip, wholesale',
      line_items: [{ title: 'Mug', variant_title: null, sku: '', price: '12.50', quantity: 2, discount_allocations: [{ amount: '5.00' }] }],
    });
    shop.cancelOrder(o.id, 'inventory');
    const res = await gql(
      /* GraphQL */ `query One($id: ID!) {
        order(id: $id) {
          id legacyResourceId name tags createdAt cancelledAt cancelReason
          displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode taxesIncluded test
          customer { id legacyResourceId email firstName lastName phone }
          shippingAddress { name address1 city provinceCode zip countryCodeV2 }
          lineItems(first: 5) { nodes {
            id sku title name variantTitle quantity currentQuantity
            originalUnitPriceSet { shopMoney { amount currencyCode } }
            discountAllocations { allocatedAmountSet { shopMoney { amount } } }
            taxLines { title rate ratePercentage priceSet { shopMoney { amount } } }
            variant { id legacyResourceId } product { id legacyResourceId }
          } }
          shippingLines(first: 5) { nodes { title code originalPriceSet { shopMoney { amount currencyCode } } discountedPriceSet { shopMoney { amount } } taxLines { title } } }
          taxLines { title rate priceSet { shopMoney { amount } } }
          totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
          subtotalPriceSet { shopMoney { amount } }
          totalTaxSet { shopMoney { amount } }
        }
      }`,
      { id: `gid://shopify/Order/${o.id}` },
    );
    expect(res.body.errors).toBeUndefined();
    const n = res.body.data.order;
    expect(n).toMatchObject({
      legacyResourceId: o.id,
      name: 'WEB-77',
      tags: ['vip', 'wholesale'],
      createdAt: '2026-11-20T15:00:00Z',
      cancelReason: 'INVENTORY',
      displayFinancialStatus: 'PAID',
      displayFulfillmentStatus: 'UNFULFILLED',
      currencyCode: 'USD',
      taxesIncluded: false,
      test: false,
      customer: { id: `gid://shopify/Customer/${o.customer!.id}`, legacyResourceId: o.customer!.id, firstName: 'Jane' },
      shippingAddress: { countryCodeV2: 'US', provinceCode: 'IL' },
    });
    expect(n.cancelledAt).toBe('2026-11-20T15:00:01Z');
    expect(n.lineItems.nodes[0]).toMatchObject({
      sku: '',
      variantTitle: null,
      quantity: 2,
      originalUnitPriceSet: { shopMoney: { amount: '12.5', currencyCode: 'USD' } },
      discountAllocations: [{ allocatedAmountSet: { shopMoney: { amount: '5.0' } } }],
      taxLines: [{ title: 'State Tax', rate: 0.06, ratePercentage: 6, priceSet: { shopMoney: { amount: '1.2' } } }],
      variant: { legacyResourceId: o.line_items[0].variant_id },
    });
    expect(n.shippingLines.nodes[0]).toMatchObject({ code: 'Standard', originalPriceSet: { shopMoney: { amount: '5.0' } } });
    expect(n.totalPriceSet).toEqual({ shopMoney: { amount: '26.2', currencyCode: 'USD' }, presentmentMoney: { amount: '26.2', currencyCode: 'USD' } });
    expect(res.body.extensions.cost).toMatchObject({ throttleStatus: { maximumAvailable: 2000, restoreRate: 100 } });
  });

  it('validates like GraphQL: page size limits, required first/last, unknown fields', async () => {
    const tooMany = await gql('{ orders(first: 251) { nodes { id } } }');
    expect(tooMany.status).toBe(200);
    expect(tooMany.body.errors[0].message).toMatch(/250/);
    const none = await gql('{ orders { nodes { id } } }');
    expect(none.body.errors[0].message).toBe('you must provide one of first or last');
    const unknown = await gql('{ orders(first: 1) { nodes { id definitelyNotAnOrderField } } }');
    expect(unknown.body.errors[0].message).toMatch(/definitelyNotAnOrderField/);
    const warned = await gql('{ orders(first: 1, query: "nonsense_field:1") { nodes { id } } }');
    expect(warned.body.extensions.search[0].warnings).toEqual([{ field: 'nonsense_field', message: 'Invalid search field for this query.' }]);
  });

  it('injects throttling and server errors on the next requests, then recovers', async () => {
    double.failNext(1, { kind: 'throttled' });
    double.failNext(1, { kind: 'http', status: 503 });
    const throttled = await gql('{ orders(first: 1) { nodes { id } } }');
    expect(throttled.status).toBe(200);
    expect(throttled.body.errors).toEqual([
      { message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } },
    ]);
    expect(throttled.body.extensions.cost.actualQueryCost).toBeNull();
    const down = await gql('{ orders(first: 1) { nodes { id } } }');
    expect(down.status).toBe(503);
    const ok = await gql('{ orders(first: 1) { nodes { id } } }');
    expect(ok.status).toBe(200);
    expect(ok.body.data.orders.nodes).toHaveLength(1);
    expect(ok.headers.get('x-shopify-api-version')).toBe('2026-01');
  });
});
