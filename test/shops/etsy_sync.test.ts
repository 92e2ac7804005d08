/**
 * Etsy receipts into ERPNext against the Etsy double: polling alone (no webhooks for non-commercial
 * apps), thin signed webhooks that name a receipt, OAuth refresh with rotating refresh tokens, and
 * the x-api-key header the API demands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtsyDouble, deliver, type EtsyDouble, type EtsyShop as DoubleShop } from '../../doubles/etsy/index.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { readRuns, type ReconcileRun } from '../../sidecar/shops/reconcile_runs.js';
import { SITE } from '../helpers/emulator.js';
import { installedSite, runJob, until, type InstalledSite } from '../helpers/sidecar.js';
import { etsyShop, shopSyncUser, startShopSidecar } from '../helpers/shops.js';

const SHOP_ID = 5550001;
let site: InstalledSite;
let etsy: EtsyDouble;
let shop: DoubleShop;
let sc: Sidecar;
let hook: string;
let reconciles = 0;
/** What the administrator has put in refreshTokenFile (read on every use). */
let configuredRefreshToken = '';

function ok(res: { status: number; body: any }): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function salesOrderOf(receiptId: number): Promise<any | null> {
  const list = ok(
    await site.root.list('Sales Order', {
      filters: JSON.stringify([['custom_external_order_id', '=', `etsy:${SHOP_ID}:${receiptId}`]]),
      limit_page_length: 0,
    }),
  );
  expect(list.length).toBeLessThanOrEqual(1);
  return list[0] ? ok(await site.root.get('Sales Order', list[0].name)) : null;
}

async function drained(): Promise<void> {
  await until(sc, async () => {
    const c = await sc.store.counts();
    return c.waiting === 0 && c.active === 0;
  }, 'the inbox to drain');
}

async function reconcile(): Promise<void> {
  reconciles += 1;
  await runJob(sc, { id: `test-etsy-reconcile-${reconciles}`, name: 'shops.reconcile', site: SITE, data: { shop: 'demo-etsy' } }).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await sc.store.get(`test-etsy-reconcile-${reconciles}`))}`);
  });
  await drained();
}

async function lastRun(): Promise<ReconcileRun> {
  const [run] = await readRuns((k) => sc.store.getMeta(k), 'demo-etsy');
  expect(run?.job).toBe(`test-etsy-reconcile-${reconciles}`);
  return run!;
}

const paidReceipt = (sku: string, buyer: string) => ({
  status: 'Paid' as const,
  is_paid: true,
  name: buyer,
  buyer_email: `${buyer.split(' ')[0]!.toLowerCase()}@buyers.example`,
  first_line: '5 Market St',
  city: 'Portland',
  state: 'OR',
  zip: '97201',
  country_iso: 'US',
  total_shipping_cost: '4.00',
  transactions: [{ sku, title: 'Etsy listing', quantity: 2, price: '11.00' }],
});

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  etsy = await createEtsyDouble({ apps: [{ keystring: 'etsykeystring', sharedSecret: 'etsy-shared-secret' }], shops: [{ shop_id: SHOP_ID, user_id: 7770001, keystring: 'etsykeystring' }] });
  shop = etsy.shop(SHOP_ID);
  configuredRefreshToken = shop.tokens().refresh_token;
  const started = await startShopSidecar(site, await shopSyncUser(site), [
    etsyShop(etsy.url, { shopId: String(SHOP_ID), refreshToken: () => configuredRefreshToken, webhookSecret: () => etsy.webhookSecret }),
  ]);
  sc = started.sc;
  hook = `${started.url}/webhooks/etsy`;
});

afterAll(async () => {
  await sc?.stop(1000);
  await etsy?.close();
  await site?.emu.close();
});

describe('polling', () => {
  it('paid receipts appear through polling alone; the rotated refresh token is kept', async () => {
    const first = shop.tokens();
    const a = shop.addReceipt(paidReceipt('CAKE-VAN', 'Nora Ephron'));
    const b = shop.addReceipt(paidReceipt('MUFFIN-12', 'Toni Morrison'));
    await reconcile();
    for (const r of [a, b]) {
      const so = await salesOrderOf(r.receipt_id);
      expect(so).toMatchObject({ docstatus: 1, po_no: String(r.receipt_id) });
      expect(so.items[0]).toMatchObject({ qty: 2, rate: 11 });
      expect(so.taxes).toEqual([expect.objectContaining({ description: 'Shipping', tax_amount: 4 })]);
    }
    // The refresh used the configured token once; the new one (a rotation) is what we hold now.
    const stored = JSON.parse((await sc.store.getMeta('shops.etsy.tokens|demo-etsy'))!);
    expect(stored.refresh_token).toBe(shop.tokens().refresh_token);
    expect(stored.refresh_token).not.toBe(first.refresh_token);
    // Every API call carried the keystring:secret pair (the double answers 403 without it).
    expect(etsy.requests.count(`/v3/application/shops/${SHOP_ID}/receipts`)).toBeGreaterThan(0);
  });

  it('an unpaid receipt waits; once paid, the next poll applies it; a second poll adds nothing', async () => {
    const r = shop.addReceipt({ ...paidReceipt('COOKIE-BOX', 'Octavia Butler'), status: 'Open', is_paid: false });
    await reconcile();
    expect(await salesOrderOf(r.receipt_id)).toBeNull();
    // The run's record (the console's Shop inbox) names it skipped, and why.
    expect((await lastRun()).skippedWhy).toEqual({ 'not paid yet': 1 });
    shop.payReceipt(r.receipt_id);
    await reconcile();
    const so = await salesOrderOf(r.receipt_id);
    expect(so.docstatus).toBe(1);
    await reconcile();
    expect((await salesOrderOf(r.receipt_id)).modified).toBe(so.modified);
  });

  it('a receipt that cannot be read waits as its own dead letter; the rest of the page is applied', async () => {
    const bad = shop.addReceipt(paidReceipt('CAKE-VAN', 'Broken Record'));
    shop.updateReceipt(bad.receipt_id, { created_timestamp: null, create_timestamp: null } as never);
    const good = shop.addReceipt(paidReceipt('MUFFIN-12', 'Fine Record'));
    await reconcile();
    expect((await salesOrderOf(good.receipt_id)).docstatus).toBe(1);
    expect(await salesOrderOf(bad.receipt_id)).toBeNull();
    const parked = (await sc.store.list('failed', 1000)).find((j) => j.id.startsWith(`shops.order|demo-etsy|${bad.receipt_id}|`));
    expect(parked?.lastError).toMatch(/a reconciled receipt could not be read: Etsy receipt \d+ has no timestamps/);
    expect(await lastRun()).toMatchObject({ outcome: 'completed', unreadable: 1 });
  });

  it('an access token that expired early (401) is refreshed once and the call repeated', async () => {
    etsy.clock.advance(2 * 3600);
    const r = shop.addReceipt(paidReceipt('CAKE-CHOC', 'Zora Hurston'));
    await reconcile();
    expect((await salesOrderOf(r.receipt_id)).docstatus).toBe(1);
  });

  it('a cancelled receipt cancels its Sales Order', async () => {
    const r = shop.addReceipt(paidReceipt('CAKE-VAN', 'Ursula Guin'));
    await reconcile();
    expect((await salesOrderOf(r.receipt_id)).docstatus).toBe(1);
    shop.cancelReceipt(r.receipt_id);
    await reconcile();
    expect((await salesOrderOf(r.receipt_id)).docstatus).toBe(2);
  });
});

describe('webhooks', () => {
  it('a signed notification (either documented shape) makes the sidecar fetch the receipt and apply it', async () => {
    for (const shape of ['resource', 'envelope'] as const) {
      const r = shop.addReceipt(paidReceipt('MUFFIN-12', `Hook ${shape}`));
      const res = await deliver(hook, shop.webhook('order.paid', r.receipt_id, shape));
      expect(res.status).toBe(200);
      await until(sc, async () => (await salesOrderOf(r.receipt_id)) !== null, `receipt ${r.receipt_id} via ${shape} webhook`);
    }
  });

  it('a redelivery (same webhook-id) is stored once', async () => {
    const r = shop.addReceipt(paidReceipt('COOKIE-BOX', 'Twice Sent'));
    const d = shop.webhook('order.paid', r.receipt_id);
    const first = JSON.parse((await deliver(hook, d)).body);
    const second = JSON.parse((await deliver(hook, d)).body);
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, delivery: first.delivery });
  });

  it('a bad signature or a stale timestamp is 401 and nothing is stored', async () => {
    const r = shop.addReceipt(paidReceipt('COOKIE-BOX', 'Forged Hook'));
    const before = (await sc.store.list(undefined, 100_000)).length;
    const wrong = shop.webhook('order.paid', r.receipt_id, 'resource', { secret: `whsec_${Buffer.from('not-the-secret').toString('base64')}` });
    expect((await deliver(hook, wrong)).status).toBe(401);
    const stale = shop.webhook('order.paid', r.receipt_id, 'resource', { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await deliver(hook, stale);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toMatch(/outside the accepted window/);
    expect((await sc.store.list(undefined, 100_000)).length).toBe(before);
  });
});

describe('re-authorisation', () => {
  it('a revoked token chain fails the poll with what to do, and a newly configured refresh token takes over', async () => {
    shop.revokeTokens();
    etsy.clock.advance(2 * 3600); // the held access token has expired too
    const r = shop.addReceipt(paidReceipt('CAKE-VAN', 'After Reauth'));
    const id = `test-etsy-revoked-${r.receipt_id}`;
    await sc.store.enqueue({ id, name: 'shops.reconcile', site: SITE, data: { shop: 'demo-etsy' }, maxAttempts: 1 });
    await until(sc, async () => (await sc.store.get(id))?.state === 'failed', 'the poll to fail');
    expect((await sc.store.get(id))!.lastError).toMatch(/refresh token was refused .*put the new refresh token in refreshTokenEnv\/refreshTokenFile/);
    // The seller authorises the app again; the administrator configures the new refresh token.
    configuredRefreshToken = shop.issueTokens().refresh_token;
    expect(await sc.store.retry(id)).toBe(true);
    await until(sc, async () => (await sc.store.get(id))?.state === 'completed', 'the retried poll');
    await drained();
    expect((await salesOrderOf(r.receipt_id)).docstatus).toBe(1);
  });
});
