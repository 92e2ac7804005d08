/**
 * How fast the emulator answers the list queries the product will make, against 500 submitted
 * sales orders, relative to the cheapest request it serves (`ping`) measured in the same run.
 * Bounded: 150 requests per measurement, sequential, on 127.0.0.1.
 */
import { startEmulator } from '../emulator/server.js';
import { demoSalesOrder } from '../emulator/seed/demo.js';
import { asAdmin, put } from '../emulator/sites.js';
import { median, percentile, timeRuns, writeResult } from './lib.js';

const ORDERS = 500;
const RUNS = 150;

export async function run(): Promise<void> {
  const site = 'bench.localhost';
  const emu = await startEmulator({ sites: [{ name: site, seed: 'demo' }], serveSite: site });
  try {
    const s = emu.seeds[site].users.sidecar;
    asAdmin(emu.site(site), (ctx) => {
      for (let i = 0; i < ORDERS; i++) {
        put(ctx, demoSalesOrder({ customer: 'Acme Foods', lines: [['CAKE-CHOC', 1 + (i % 5)]], date: '2026-01-01', delivery: '2026-02-01', docstatus: 1 }));
      }
    });
    const headers = { Authorization: `token ${s.api_key}:${s.api_secret}` };
    const get = (path: string) => async () => {
      const res = await fetch(`${emu.url}${path}`, { headers });
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const q = (o: Record<string, unknown>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
    const ping = await timeRuns(RUNS, get('/api/method/ping'));
    const orders = await timeRuns(RUNS, get(`/api/resource/Sales Order?${q({ fields: ['name', 'transaction_date', 'status'], filters: [['customer', '=', 'Acme Foods'], ['docstatus', '=', 1]], order_by: 'transaction_date desc, name desc', limit_page_length: 500 })}`));
    const items = await timeRuns(RUNS, get(`/api/resource/Sales Order Item?${q({ parent: 'Sales Order', fields: ['parent', 'item_code', 'qty', 'amount'], filters: [['parent', 'like', 'SAL-ORD-%']], limit_page_length: 0 })}`));
    writeResult(
      'emulator_rest',
      {
        list_500_orders_median_ms: median(orders),
        list_500_orders_p95_ms: percentile(orders, 95),
        list_all_order_items_median_ms: median(items),
        orders_vs_ping_ratio: median(orders) / median(ping),
        items_vs_ping_ratio: median(items) / median(ping),
      },
      { ping_median_ms: median(ping), ping_p95_ms: percentile(ping, 95) },
    );
  } finally {
    await emu.close();
  }
}
