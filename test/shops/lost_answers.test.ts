/**
 * A Contact or Address insert whose answer never comes is sent again within the same job attempt,
 * and still makes one record: the unique marker (doctypes/custom_fields/contact.json, address.json)
 * turns a second copy into a duplicate-key error when the first one did commit. Two ways to lose
 * an answer: the site never processes the request (hung), or processes it only after the sidecar
 * gave up on it (late), so the resent copy races the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyDouble, deliver, type ShopifyDouble, type ShopifyShop as DoubleShop } from '../../doubles/shopify/index.js';
import type { JobRecord } from '../../sidecar/jobs/types.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { installedSite, until, type InstalledSite } from '../helpers/sidecar.js';
import { SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, shopSyncUser, shopifyShop, startShopSidecar } from '../helpers/shops.js';

let site: InstalledSite;
let shopify: ShopifyDouble;
let shop: DoubleShop;
let sc: Sidecar;
let hook: string;
const outcomes: { job: JobRecord; outcome: string }[] = [];

/** Short enough that a held request is given up on quickly; the emulator answers in milliseconds. */
const WRITE_TIMEOUT_MS = 1000;

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
  shop = shopify.shop(SHOPIFY_DOMAIN);
  const started = await startShopSidecar(site, await shopSyncUser(site), [shopifyShop(shopify.url)], { rest: { writeTimeoutMs: WRITE_TIMEOUT_MS } });
  sc = started.sc;
  hook = `${started.url}/webhooks/shopify`;
  sc.events.on('job', (job: JobRecord, outcome: string) => outcomes.push({ job, outcome }));
});

afterAll(async () => {
  await control(site.emu, '/faults', undefined, 'DELETE');
  await sc?.stop(1000);
  await shopify?.close();
  await site?.emu.close();
});

const db = () => site.emu.site(SITE).db;
const posts = (doctype: string) => site.emu.site(SITE).requestCounts.get(`POST /api/resource/${doctype}`) ?? 0;

/** Deliver a new customer's first order and wait for its delivery job to finish; answers its outcomes. */
async function applyNewCustomerOrder(tag: string): Promise<{ externalId: string; email: string; line1: string; outcomes: string[]; attempts: number }> {
  const email = `${tag}@lost-answers.example`;
  const line1 = `1 ${tag} Street`;
  const order = shop.addOrder({
    customer: { first_name: 'Lost', last_name: tag, email },
    billing_address: { first_name: 'Lost', last_name: tag, address1: line1, city: 'Arlington', zip: '22202', country: 'United States', country_code: 'US' },
    shipping_address: null,
    line_items: [{ sku: 'COOKIE-BOX', title: 'Cookie Box', quantity: 1, price: '12.75' }],
    shipping_lines: [],
  });
  const delivery = shop.webhook('orders/create', order.id);
  const from = outcomes.length;
  expect((await deliver(hook, delivery)).status).toBe(200);
  const finished = () => outcomes.slice(from).find((o) => o.job.name === 'shops.delivery' && (o.outcome === 'completed' || o.outcome === 'failed'));
  await until(sc, () => finished() !== undefined, `the delivery of order ${order.id}`);
  const mine = outcomes.slice(from).filter((o) => o.job.name === 'shops.delivery');
  return { externalId: `shopify:${SHOPIFY_DOMAIN}:${order.id}`, email, line1, outcomes: mine.map((o) => o.outcome), attempts: finished()!.job.attempts };
}

function contactsWith(email: string) {
  return db()
    .all('Contact')
    .filter((c) => ((c.email_ids as { email_id: string }[] | undefined) ?? []).some((e) => e.email_id === email));
}

describe('a lost answer to a Contact or Address insert', () => {
  it('a Contact insert the site leaves hanging is sent again: one Contact, and the order completes in its first attempt', async () => {
    const before = posts('Contact');
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'POST /api/resource/Contact', mode: 'timeout', status: 0, count: 1 }] });
    const applied = await applyNewCustomerOrder('hung-contact');
    expect(applied.outcomes).toEqual(['completed']);
    expect(applied.attempts).toBe(1);
    expect(posts('Contact') - before).toBe(2);
    expect(contactsWith(applied.email)).toHaveLength(1);
    expect(db().all('Sales Order').filter((so) => so.custom_external_order_id === applied.externalId && so.docstatus === 1)).toHaveLength(1);
  }, 30_000);

  it('an Address insert the site commits only after the sidecar gave up on it: the resent copy is refused as a duplicate, one Address, first attempt', async () => {
    const before = posts('Address');
    // The first copy is processed after the write timeout; the resent one later still, so it meets
    // the committed first copy (and a third, if the second times out as well, meets it at once).
    await control(site.emu, '/faults', {
      rules: [
        { site: SITE, match: 'POST /api/resource/Address', mode: 'delay', status: 0, delayMs: WRITE_TIMEOUT_MS * 1.5, count: 1 },
        { site: SITE, match: 'POST /api/resource/Address', mode: 'delay', status: 0, delayMs: WRITE_TIMEOUT_MS * 0.7, count: 1 },
      ],
    });
    const applied = await applyNewCustomerOrder('late-address');
    expect(applied.outcomes).toEqual(['completed']);
    expect(applied.attempts).toBe(1);
    expect(posts('Address') - before).toBeGreaterThanOrEqual(2);
    const addresses = db()
      .all('Address')
      .filter((a) => a.address_line1 === applied.line1);
    expect(addresses).toHaveLength(1);
    expect(db().all('Sales Order').filter((so) => so.custom_external_order_id === applied.externalId && so.docstatus === 1)).toHaveLength(1);
  }, 30_000);
});
