/**
 * The emulated site of the shop benchmarks (shop_faults, shop_calls), run in a worker thread so its
 * work stays off the thread being measured: the order lines they post, and the messages the
 * benchmark and the thread exchange (start, count how orders landed, close).
 */
import { parentPort } from 'node:worker_threads';
import { SITE } from '../test/helpers/emulator.js';
import { installedSite, type InstalledSite } from '../test/helpers/sidecar.js';
import { shopSyncUser } from '../test/helpers/shops.js';
import { countByExternalId } from './workers.js';

export const SHOP_LINES = [
  { sku: 'CAKE-CHOC', title: 'Chocolate Cake', quantity: 2, price: '24.50', tax_lines: [{ title: 'State Tax', price: '2.94', rate: 0.06 }] },
  { sku: 'COOKIE-BOX', title: 'Cookie Box', quantity: 1, price: '12.75', tax_lines: [{ title: 'State Tax', price: '0.77', rate: 0.06 }] },
];
export const SHOP_SHIPPING = [{ title: 'Standard Shipping', price: '8.00', tax_lines: [] }];

export type EmuRequest = { type: 'start' } | { type: 'count'; externalIds: string[] } | { type: 'close' };
export type EmuReply =
  | { type: 'ready'; url: string; key: string; secret: string }
  | { type: 'count'; oneSubmitted: number; missing: number; duplicated: number }
  | { type: 'closed' };

/** The worker thread's side: answer the benchmark's messages until it says close. */
export function serveShopEmulator(): void {
  let site: InstalledSite | null = null;
  const reply = (r: EmuReply) => parentPort!.postMessage(r);
  parentPort!.on('message', (m: EmuRequest) => {
    void (async () => {
      if (m.type === 'start') {
        site = await installedSite('UTC', { seed: 'demo' });
        const keys = await shopSyncUser(site);
        reply({ type: 'ready', url: site.emu.url, key: keys.key, secret: keys.secret });
      } else if (m.type === 'count') {
        reply({ type: 'count', ...countByExternalId(site!.emu.site(SITE).db.all('Sales Order'), m.externalIds) });
      } else {
        await site?.emu.close();
        reply({ type: 'closed' });
      }
    })().catch((err: unknown) => {
      setImmediate(() => {
        throw err;
      });
    });
  });
}
