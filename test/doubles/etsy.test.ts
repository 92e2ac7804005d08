/**
 * Contract tests of the Etsy Open API v3 double: receipts polling (paging, filters, sort),
 * x-api-key and bearer-token failures, refresh-token rotation, expiry through the controllable
 * clock, per-second rate limiting, and Standard Webhooks signatures checked by an independent
 * implementation of the reference verification (standard-webhooks/standard-webhooks
 * libraries/javascript/src/index.ts: strip `whsec_`, base64-decode the key, HMAC-SHA256 over
 * "{id}.{timestamp}.{body}", compare any space-separated `v1,` entry, ±5 min tolerance).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtsyDouble, signEtsyWebhook, type EtsyDouble, type ShopReceipt } from '../../doubles/etsy/index.js';

// The frozen clock keeps every request in one second, so the main app gets a roomy limit;
// SLOW_APP exercises the per-second limit.
const APP = { keystring: 'k3ystr1ngabc', sharedSecret: 'sh4red5ecret', rateLimit: { perSecond: 1000 } };
const SLOW_APP = { keystring: 'slowapp', sharedSecret: 'slowsecret', rateLimit: { perSecond: 3, perDay: 100 } };
const SHOP_ID = 12_345_678;
const USER_ID = 87_654_321;
const OTHER_SHOP_ID = 22_222_222;
const OTHER_USER_ID = 55_555_555;
const SLOW_SHOP_ID = 33_333_333;
const START = Date.parse('2026-11-20T15:00:00Z') / 1000;

let double: EtsyDouble;

const key = (app: { keystring: string; sharedSecret: string } = APP) => `${app.keystring}:${app.sharedSecret}`;

async function api(path: string, opts: { token?: string | null; apiKey?: string | null } = {}) {
  const headers: Record<string, string> = {};
  const apiKey = opts.apiKey === undefined ? key() : opts.apiKey;
  if (apiKey !== null) headers['x-api-key'] = apiKey;
  const token = opts.token === undefined ? double.shop(SHOP_ID).tokens().access_token : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${double.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function refresh(refreshToken: string, clientId = APP.keystring) {
  const res = await fetch(`${double.url}/v3/public/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }).toString(),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const receiptsPath = (query = '', shopId = SHOP_ID) => `/v3/application/shops/${shopId}/receipts${query ? `?${query}` : ''}`;

/** Reference Standard Webhooks verification, written from the spec, not from the double. */
function verifyStandardWebhook(secret: string, headers: Record<string, string>, body: string, nowSeconds: number): boolean {
  const id = headers['webhook-id'];
  const ts = Number(headers['webhook-timestamp']);
  if (!id || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > 300) return false;
  const keyBytes = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = Buffer.from(createHmac('sha256', keyBytes).update(`${id}.${ts}.${body}`).digest('base64'));
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, sig] = entry.split(',');
    const given = Buffer.from(sig ?? '');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

beforeAll(async () => {
  double = await createEtsyDouble({
    apps: [APP, SLOW_APP],
    shops: [
      {
        shop_id: SHOP_ID,
        user_id: USER_ID,
        tokens: { access_token: `${USER_ID}.initial-access`, refresh_token: `${USER_ID}.initial-refresh`, expires_at: START + 3600 },
      },
      { shop_id: OTHER_SHOP_ID, user_id: OTHER_USER_ID },
      { shop_id: SLOW_SHOP_ID, user_id: 77_777_777, keystring: SLOW_APP.keystring },
    ],
    now: START * 1000,
  });
});

afterAll(async () => {
  await double.close();
});

describe('receipts', () => {
  const made: ShopReceipt[] = [];

  beforeAll(() => {
    const shop = double.shop(SHOP_ID);
    for (let i = 0; i < 7; i++) {
      made.push(shop.addReceipt({ transactions: [{ title: `Item ${i}`, price: '12.50', quantity: 2, sku: i % 2 ? 'SKU-ODD' : '' }] }));
      double.clock.advance(60_000);
    }
  });

  it('renders ShopReceipt per the OAS, with capitalised status and Money objects', async () => {
    const res = await api(`${receiptsPath()}/${made[0].receipt_id}`);
    expect(res.status).toBe(200);
    const r = res.body;
    expect(r).toMatchObject({
      receipt_id: made[0].receipt_id,
      receipt_type: 0,
      seller_user_id: USER_ID,
      buyer_email: null,
      status: 'Paid',
      is_paid: true,
      is_shipped: false,
      country_iso: 'US',
      create_timestamp: START,
      created_timestamp: START,
      update_timestamp: START,
      updated_timestamp: START,
      total_price: { amount: 2500, divisor: 100, currency_code: 'USD' },
      subtotal: { amount: 2500, divisor: 100, currency_code: 'USD' },
      grandtotal: { amount: 2500, divisor: 100, currency_code: 'USD' },
      total_tax_cost: { amount: 0, divisor: 100, currency_code: 'USD' },
      shipments: [],
      refunds: [],
    });
    for (const field of ['name', 'first_line', 'second_line', 'city', 'state', 'zip', 'formatted_address', 'payment_method', 'message_from_buyer', 'is_gift', 'total_shipping_cost', 'total_vat_cost', 'discount_amt', 'gift_wrap_price']) {
      expect(r).toHaveProperty(field);
    }
    expect(r.transactions[0]).toMatchObject({
      receipt_id: made[0].receipt_id,
      title: 'Item 0',
      sku: '',
      quantity: 2,
      price: { amount: 1250, divisor: 100, currency_code: 'USD' },
      shipping_cost: { amount: 0, divisor: 100, currency_code: 'USD' },
      variations: [],
      paid_timestamp: START,
      shipped_timestamp: null,
    });
    for (const field of ['transaction_id', 'listing_id', 'product_id', 'expected_ship_date']) expect(r.transactions[0]).toHaveProperty(field);
  });

  it('answers 404 with an {error} body for an unknown receipt', async () => {
    const res = await api(`${receiptsPath()}/1`);
    expect(res.status).toBe(404);
    expect(typeof res.body.error).toBe('string');
  });

  it('pages with limit/offset and reports the total count; default sort is created desc, limit 25', async () => {
    const all = await api(receiptsPath());
    expect(all.body.count).toBe(7);
    expect(all.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual(made.map((r) => r.receipt_id).reverse());

    const seen: number[] = [];
    for (let offset = 0; offset < 7; offset += 3) {
      const page = await api(receiptsPath(`limit=3&offset=${offset}&sort_on=created&sort_order=asc`));
      expect(page.status).toBe(200);
      expect(page.body.count).toBe(7);
      seen.push(...page.body.results.map((r: ShopReceipt) => r.receipt_id));
    }
    expect(seen).toEqual(made.map((r) => r.receipt_id));
    const up = await api(receiptsPath('sort_on=receipt_id&sort_order=up&limit=2'));
    expect(up.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual(made.slice(0, 2).map((r) => r.receipt_id));
  });

  it('filters on last-modified and created windows and on the was_* flags', async () => {
    const shop = double.shop(SHOP_ID);
    const cursor = double.clock.nowSeconds();
    double.clock.advance(5_000);
    shop.cancelReceipt(made[1].receipt_id);
    shop.shipReceipt(made[2].receipt_id);
    shop.deliverReceipt(made[2].receipt_id);
    const changed = await api(receiptsPath(`min_last_modified=${cursor + 1}&sort_on=updated&sort_order=asc&limit=100`));
    expect(changed.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual([made[1].receipt_id, made[2].receipt_id]);
    expect(changed.body.results[0]).toMatchObject({ status: 'Canceled' });
    expect(changed.body.results[1]).toMatchObject({ status: 'Completed', is_shipped: true });
    expect(changed.body.results[1].shipments).toHaveLength(1);

    const canceled = await api(receiptsPath('was_canceled=true'));
    expect(canceled.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual([made[1].receipt_id]);
    const shipped = await api(receiptsPath('was_shipped=true'));
    expect(shipped.body.count).toBe(1);
    const delivered = await api(receiptsPath('was_delivered=true'));
    expect(delivered.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual([made[2].receipt_id]);
    const notCanceledPaid = await api(receiptsPath('was_paid=true&was_canceled=false'));
    expect(notCanceledPaid.body.count).toBe(6);
    const window = await api(receiptsPath(`min_created=${START + 60}&max_created=${START + 180}&sort_order=asc`));
    expect(window.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual(made.slice(1, 4).map((r) => r.receipt_id));
    const old = await api(receiptsPath(`max_last_modified=${START}`));
    expect(old.body.results.map((r: ShopReceipt) => r.receipt_id)).toEqual([made[0].receipt_id]);
  });

  it('rejects out-of-range parameters with 400 {error}, and clamps limit above 100 like Etsy', async () => {
    for (const q of ['limit=0', 'limit=abc', 'offset=-1', 'sort_on=price', 'sort_order=sideways', 'min_created=5', 'was_paid=yes']) {
      const res = await api(receiptsPath(q));
      expect(res.status, q).toBe(400);
      expect(typeof res.body.error, q).toBe('string');
    }
    const clamped = await api(receiptsPath('limit=500'));
    expect(clamped.status).toBe(200);
    const strict = await createEtsyDouble({ apps: [APP], shops: [{ shop_id: 1, user_id: 2 }], strictLimit: true });
    try {
      const res = await fetch(`${strict.url}/v3/application/shops/1/receipts?limit=101`, {
        headers: { 'x-api-key': key(), Authorization: `Bearer ${strict.shop(1).tokens().access_token}` },
      });
      expect(res.status).toBe(400);
    } finally {
      await strict.close();
    }
  });
});

describe('authentication', () => {
  it('requires the shared secret in x-api-key', async () => {
    const noSecret = await api(receiptsPath(), { apiKey: APP.keystring });
    expect(noSecret.status).toBe(403);
    expect(noSecret.body).toEqual({ error: 'Shared secret is required in x-api-key header.' });
    const missing = await api(receiptsPath(), { apiKey: null });
    expect(missing.status).toBe(403);
    const unknown = await api(receiptsPath(), { apiKey: 'nobody:secret' });
    expect(unknown).toMatchObject({ status: 403, body: { error: 'Invalid API key' } });
    const wrongSecret = await api(receiptsPath(), { apiKey: `${APP.keystring}:wrong` });
    expect(wrongSecret.status).toBe(403);
  });

  it('requires a valid bearer token of the shop owner', async () => {
    const none = await api(receiptsPath(), { token: null });
    expect(none.status).toBe(401);
    const bad = await api(receiptsPath(), { token: `${USER_ID}.forged` });
    expect(bad).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    const foreign = await api(receiptsPath(), { token: double.shop(OTHER_SHOP_ID).tokens().access_token });
    expect(foreign.status).toBe(403);
    const ping = await api('/v3/application/openapi-ping', { token: null });
    expect(ping.status).toBe(200);
  });

  it('rotates the refresh token on every refresh; the old one is rejected with invalid_grant', async () => {
    const shop = double.shop(SHOP_ID);
    const before = shop.tokens();
    const first = await refresh(before.refresh_token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(first.body.access_token).toMatch(new RegExp(`^${USER_ID}\\.`));
    expect(first.body.refresh_token).toMatch(new RegExp(`^${USER_ID}\\.`));
    expect(first.body.refresh_token).not.toBe(before.refresh_token);
    expect(shop.tokens()).toMatchObject({ access_token: first.body.access_token, refresh_token: first.body.refresh_token });

    const replay = await refresh(before.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    const works = await api(receiptsPath('limit=1'), { token: first.body.access_token });
    expect(works.status).toBe(200);
    const wrongClient = await refresh(first.body.refresh_token, 'someone-else');
    expect(wrongClient.status).toBe(400);
  });

  it('expires access tokens on the controllable clock, and a refresh recovers', async () => {
    const shop = double.shop(SHOP_ID);
    const fresh = shop.tokens();
    double.clock.advance(3600 * 1000);
    const expired = await api(receiptsPath(), { token: fresh.access_token });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: 'invalid_token', error_description: 'access token is expired' });
    const renewed = await refresh(fresh.refresh_token);
    expect(renewed.status).toBe(200);
    expect((await api(receiptsPath(), { token: renewed.body.access_token })).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('reports the limit headers and answers 429 with retry-after above the per-second limit', async () => {
    const slowKey = key(SLOW_APP);
    // Earlier tests moved the clock past the seeded token's hour; mint a fresh pair.
    const token = double.shop(SLOW_SHOP_ID).issueTokens().access_token;
    const path = receiptsPath('', SLOW_SHOP_ID);
    double.clock.advance(1000); // a fresh one-second window
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await api(path, { apiKey: slowKey, token });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('x-limit-per-second')).toBe('3');
        expect(last.headers.get('x-remaining-this-second')).toBe('2');
        expect(last.headers.get('x-limit-per-day')).toBe('100');
        expect(last.headers.get('x-remaining-today')).toBe('99');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body).toEqual({ error: 'Exceeded per second rate limit' });
    expect(last!.headers.get('retry-after')).toBe('1');
    double.clock.advance(1000);
    expect((await api(path, { apiKey: slowKey, token })).status).toBe(200);
    expect(double.requests.count(path)).toBe(5);
  });
});

describe('webhooks', () => {
  it('signs thin notifications with the Standard Webhooks scheme, in both payload shapes', () => {
    const shop = double.shop(SHOP_ID);
    const receipt = shop.receipts()[0];
    const now = double.clock.nowSeconds();

    const thin = shop.webhook('order.paid', receipt.receipt_id);
    expect(JSON.parse(thin.body)).toEqual({
      event_type: 'order.paid',
      resource_url: `https://api.etsy.com/v3/application/shops/${SHOP_ID}/receipts/${receipt.receipt_id}`,
      shop_id: SHOP_ID,
    });
    expect(thin.headers['webhook-id']).toMatch(/^msg_/);
    expect(thin.headers['webhook-timestamp']).toBe(String(now));
    expect(thin.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyStandardWebhook(double.webhookSecret, thin.headers, thin.body, now)).toBe(true);

    const envelope = shop.webhook('order.paid', receipt.receipt_id, 'envelope');
    expect(JSON.parse(envelope.body)).toMatchObject({ event_type: 'order.paid', data: { receipt_id: receipt.receipt_id, shop_id: SHOP_ID } });
    expect(JSON.parse(envelope.body).event_id).toEqual(expect.any(String));
    expect(verifyStandardWebhook(double.webhookSecret, envelope.headers, envelope.body, now)).toBe(true);

    const tampered = envelope.body.replace(String(receipt.receipt_id), String(receipt.receipt_id + 1));
    expect(verifyStandardWebhook(double.webhookSecret, envelope.headers, tampered, now)).toBe(false);
    expect(verifyStandardWebhook(double.webhookSecret, envelope.headers, envelope.body, now + 301)).toBe(false);
  });

  it('signEtsyWebhook matches a known Standard Webhooks vector computed independently', () => {
    const secret = `whsec_${Buffer.from('etsy-double-test-key').toString('base64')}`;
    const body = '{"event_type":"order.paid"}';
    const headers = signEtsyWebhook({ secret, id: 'msg_1', timestamp: 1_790_000_000, body });
    const expected = createHmac('sha256', Buffer.from('etsy-double-test-key')).update(`msg_1.1790000000.${body}`).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-signature': `v1,bogus= ${headers['webhook-signature']}` }, body, 1_790_000_100)).toBe(true);
  });
});
