/**
 * How fast the emulator answers the list queries the product will make, against 500 submitted
 * sales orders, relative to the cheapest request it serves (`ping`) measured in the same run.
 * Bounded: 150 requests per measurement, sequential, on 127.0.0.1. Then again with the latency
 * profile at 20 ± 5 ms per call (metrics `…_20ms`, 50 requests each): what the product's list
 * queries cost on a site that answers as a real one does, ping included.
 */
import { startEmulator } from '../emulator/server.js';
import { demoSalesOrder } from '../emulator/seed/demo.js';
import { asAdmin, put } from '../emulator/sites.js';
import { median, percentile, timeRuns, writeResult } from './lib.js';

const ORDERS = 500;
const PROFILES = [
  { meanMs: 0, jitterMs: 0, runs: 150, suffix: '_0ms' },
  { meanMs: 20, jitterMs: 5, runs: 50, suffix: '_20ms' },
];

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
    const metrics: Record<string, number> = {};
    const baseline: Record<string, number> = {};
    for (const p of PROFILES) {
      if (p.meanMs) emu.state.latency.set({ meanMs: p.meanMs, jitterMs: p.jitterMs, seed: 7 });
      const ping = await timeRuns(p.runs, get('/api/method/ping'));
      const orders = await timeRuns(p.runs, get(`/api/resource/Sales Order?${q({ fields: ['name', 'transaction_date', 'status'], filters: [['customer', '=', 'Acme Foods'], ['docstatus', '=', 1]], order_by: 'transaction_date desc, name desc', limit_page_length: 500 })}`));
      const items = await timeRuns(p.runs, get(`/api/resource/Sales Order Item?${q({ parent: 'Sales Order', fields: ['parent', 'item_code', 'qty', 'amount'], filters: [['parent', 'like', 'SAL-ORD-%']], limit_page_length: 0 })}`));
      Object.assign(metrics, {
        [`list_500_orders_median_ms${p.suffix}`]: median(orders),
        [`list_500_orders_p95_ms${p.suffix}`]: percentile(orders, 95),
        [`list_all_order_items_median_ms${p.suffix}`]: median(items),
        [`orders_vs_ping_ratio${p.suffix}`]: median(orders) / median(ping),
        [`items_vs_ping_ratio${p.suffix}`]: median(items) / median(ping),
      });
      Object.assign(baseline, { [`ping_median_ms${p.suffix}`]: median(ping), [`ping_p95_ms${p.suffix}`]: percentile(ping, 95) });
    }
    writeResult('emulator_rest', metrics, baseline);
  } finally {
    await emu.close();
  }
}
