/**
 * Nothing lost, nothing doubled, when things break during a burst of Shopify deliveries:
 * - the site answers 5xx to everything while deliveries keep arriving: every delivery is still
 *   acknowledged (it only needs the job store), and once the site recovers every order lands once;
 * - the sidecar is killed with SIGKILL mid-burst: what it acknowledged survives in its store, the
 *   shop's retries of what it did not acknowledge arrive after the restart, and every order lands once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyDouble, deliver, type ShopifyDouble, type ShopifyDelivery, type ShopifyShop as DoubleShop } from '../../doubles/shopify/index.js';
import { SITE, connect, control, subscribe, tokenSocketHeaders } from '../helpers/emulator.js';
import { installedSite, until, type InstalledSite } from '../helpers/sidecar.js';
import { ERPNEXT, SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, shopSyncUser, shopifyShop, startShopSidecar } from '../helpers/shops.js';

let site: InstalledSite;
let shopify: ShopifyDouble;
let shop: DoubleShop;
let keys: { key: string; secret: string };
const children: ChildProcess[] = [];

const LINE = { sku: 'COOKIE-BOX', title: 'Cookie Box', quantity: 1, price: '12.75' };

/** Sales Orders per external id, read in-process from the emulated site. */
function salesOrdersByOrder(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const so of site.emu.site(SITE).db.all('Sales Order')) {
    const id = so.custom_external_order_id as string | null;
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function burst(n: number, tag: string): { ids: string[]; deliveries: ShopifyDelivery[] } {
  const ids: string[] = [];
  const deliveries: ShopifyDelivery[] = [];
  for (let i = 0; i < n; i++) {
    const order = shop.addOrder({ customer: { first_name: tag, last_name: `Buyer ${i}`, email: `${tag}.${i}@burst.example` }, line_items: [LINE], shipping_lines: [] });
    ids.push(order.id);
    deliveries.push(shop.webhook('orders/create', order.id));
  }
  return { ids, deliveries };
}

function everyOrderOnce(ids: string[]): void {
  const counts = salesOrdersByOrder();
  const wrong = ids.filter((id) => counts.get(`shopify:${SHOPIFY_DOMAIN}:${id}`) !== 1);
  expect(wrong, `orders without exactly one Sales Order: ${wrong.slice(0, 5).join(', ')}`).toEqual([]);
}

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
  shop = shopify.shop(SHOPIFY_DOMAIN);
  keys = await shopSyncUser(site);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await control(site.emu, '/faults', undefined, 'DELETE');
  await shopify?.close();
  await site?.emu.close();
});

describe('the site is down during a burst', () => {
  it('every delivery is acknowledged, and after recovery every order lands exactly once', async () => {
    const { sc, url } = await startShopSidecar(site, keys, [shopifyShop(shopify.url)], { maxAttempts: 30 });
    try {
      const { ids, deliveries } = burst(150, 'outage');
      let retried = 0;
      sc.events.on('job', (_job: unknown, outcome: string) => {
        if (outcome === 'retried') retried += 1;
      });
      await control(site.emu, '/faults', { rules: [{ site: SITE, mode: 'error', status: 503 }] });
      const answers = await Promise.all(deliveries.map((d) => deliver(`${url}/webhooks/shopify`, d)));
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      // The outage lasts until every delivery has failed against the site at least once.
      await until(sc, () => retried >= ids.length, 'every delivery to fail against the down site');
      expect(salesOrdersByOrder().size).toBe(0);
      await control(site.emu, '/faults', undefined, 'DELETE');
      await until(sc, async () => {
        const c = await sc.store.counts();
        return c.waiting === 0 && c.active === 0;
      }, 'the inbox to drain after recovery', 60_000);
      expect((await sc.store.counts()).failed).toBe(0);
      everyOrderOnce(ids);
    } finally {
      await control(site.emu, '/faults', undefined, 'DELETE');
      await sc.stop(1000);
    }
  }, 90_000);
});

describe('SIGKILL mid-burst', () => {
  function launch(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/shop_sidecar_process.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('listening ')) resolve(line.slice('listening '.length));
      });
      void exited.then(() => reject(new Error(`sidecar exited before listening: ${stderr}`)));
    });
    return { child, url, exited };
  }

  it('acknowledged deliveries survive, retried ones arrive, every order lands exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-shop-crash-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        sites: [{ name: SITE, url: site.emu.url, apiKey: keys.key, apiSecretEnv: 'ERP_SECRET' }],
        dataDir: join(dir, 'data'),
        http: { port: 0 },
        shops: [{ platform: 'shopify', id: 'demo-shopify', site: SITE, domain: SHOPIFY_DOMAIN, webhookSecretEnv: 'SHOPIFY_SECRET', erpnext: ERPNEXT }],
      }),
    );
    const env = { COC_CONFIG: configFile, ERP_SECRET: keys.secret, SHOPIFY_SECRET: SHOPIFY_SECRET };
    const { ids, deliveries } = burst(120, 'crash');
    const socket = await connect(site.emu, { headers: tokenSocketHeaders(site.emu, keys.key, keys.secret) });
    await subscribe(site.emu, socket, 'doctype_subscribe', 'Sales Order');

    const first = launch(env);
    const firstUrl = await first.url;
    const acknowledged = new Set<number>();
    let killed = false;
    // Deliver in order, a few at a time; kill the process once 60 are acknowledged, while more are in flight.
    const pending = deliveries.map((d, i) => async () => {
      if (killed) return;
      const res = await deliver(`${firstUrl}/webhooks/shopify`, d).catch(() => null);
      if (res?.status === 200) acknowledged.add(i);
      if (!killed && acknowledged.size >= 60) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    });
    for (let i = 0; i < pending.length; i += 8) await Promise.all(pending.slice(i, i + 8).map((f) => f()));
    await first.exited;
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeLessThan(ids.length);

    // The shop retries every delivery it got no 200 for (and, at least once, some it did).
    const second = launch(env);
    const secondUrl = await second.url;
    const redo = deliveries.filter((_, i) => !acknowledged.has(i) || i % 10 === 0);
    const answers = await Promise.all(redo.map((d) => deliver(`${secondUrl}/webhooks/shopify`, d)));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Another process does the work: hear each Sales Order it makes over the site's realtime,
    // until every order has one.
    const missing = () => {
      const counts = salesOrdersByOrder();
      return ids.filter((id) => !counts.has(`shopify:${SHOPIFY_DOMAIN}:${id}`)).length;
    };
    if (missing() > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${missing()} order(s) never arrived`)), 60_000);
        socket.on('list_update', (e: { doctype: string }) => {
          if (e.doctype === 'Sales Order' && missing() === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    }
    everyOrderOnce(ids);
    socket.close();
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);
});
