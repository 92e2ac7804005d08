/**
 * `crm-order-companion demo` (what `npm start` runs with no configuration): an emulated Frappe v15
 * site with sample data, the product installed into it as `site install` would, the sidecar
 * attached, a Shopify test shop (the double from doubles/) whose signed webhooks the sidecar
 * receives, and the desk preview of a CRM Lead and an HD Ticket with the order-history scripts.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { createShopifyDouble, deliver } from '../doubles/shopify/index.js';
import { startEmulator } from '../emulator/server.js';
import { DEMO_PASSWORD } from '../emulator/seed/demo.js';
import type { SidecarConfig } from '../lib/config/load.js';
import { clientForSite } from '../lib/frappe/client.js';
import { builtinHandlers } from '../sidecar/handlers/index.js';
import type { JobRecord } from '../sidecar/jobs/types.js';
import { createLogger } from '../lib/log.js';
import { loadManifest } from '../lib/manifest/load.js';
import { startSidecar } from '../sidecar/runtime.js';
import type { ShopifyShop } from '../lib/config/shops.js';
import { packageRoot } from './site/package_root.js';
import { install } from './site/install.js';
import { loadDesired } from '../lib/site/records.js';

export interface DemoOptions {
  port: number;
  host: string;
  sidecarPort: number;
  timeZone?: string;
  logLevel: string;
}

const SITE = 'demo.localhost';

/**
 * Where a running demo leaves its sidecar's URL, so `status`, `jobs` and `shops` find it without
 * --url: the demo's sidecar listens on a free port (a real sidecar may hold 8090), and the demo's
 * data directory is a fresh temporary one, so neither could be guessed. One file per OS user in
 * the temporary directory; COC_DEMO_STATE moves it (tests use their own).
 */
export function demoStatePath(env: Record<string, string | undefined> = process.env): string {
  return env.COC_DEMO_STATE ?? join(tmpdir(), `crm-order-companion-demo-${userInfo().uid}.json`);
}

interface DemoState {
  pid: number;
  sidecarUrl: string;
}

/** The running demo's sidecar URL; undefined when no demo runs (no file, or its process is gone). */
export function runningDemoSidecar(env: Record<string, string | undefined> = process.env): string | undefined {
  let state: Partial<DemoState>;
  try {
    state = JSON.parse(readFileSync(demoStatePath(env), 'utf8')) as Partial<DemoState>;
  } catch {
    return undefined;
  }
  if (typeof state.pid !== 'number' || typeof state.sidecarUrl !== 'string') return undefined;
  try {
    // Signal 0 tests that the process exists: a demo killed with SIGKILL leaves its file behind.
    process.kill(state.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return state.sidecarUrl;
}

function writeDemoState(state: DemoState): () => void {
  const path = demoStatePath();
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(partial, path); // whole or not at all, for a CLI reading it meanwhile
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      // Only our own: a demo started after this one owns the file now.
      if ((JSON.parse(readFileSync(path, 'utf8')) as DemoState).pid === process.pid) rmSync(path, { force: true });
    } catch {
      /* already gone */
    }
  };
  process.once('exit', remove);
  return remove;
}
const SHOP_DOMAIN = 'demo-confections.myshopify.com';

export async function runDemo(opts: DemoOptions, until: Promise<void>): Promise<void> {
  const emu = await startEmulator({
    port: opts.port,
    host: opts.host,
    sites: [{ name: SITE, seed: 'demo', timeZone: opts.timeZone }],
    serveSite: SITE,
    defaultSite: SITE,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const seed = emu.seeds[SITE]!;
  const keys = seed.users.sidecar;
  const site = { name: SITE, url: emu.url, apiKey: keys.api_key!, apiSecret: () => keys.api_secret! };
  const root = packageRoot();
  const manifest = loadManifest(resolve(root, 'hooks_manifest.json'));
  const installed = await install(clientForSite(site), loadDesired(resolve(root, 'doctypes'), manifest, resolve(root, 'dist', 'desk')));

  // A Shopify test shop on 127.0.0.1: its secrets are made up here and never leave this process.
  const secret = `demo-secret-${Math.random().toString(36).slice(2)}`;
  const token = `demo-token-${Math.random().toString(36).slice(2)}`;
  const shopify = await createShopifyDouble({ shops: [{ domain: SHOP_DOMAIN, accessToken: token, apiSecret: secret }] });
  const shop: ShopifyShop = {
    platform: 'shopify',
    id: 'demo-shopify',
    site: SITE,
    domain: SHOP_DOMAIN,
    webhookSecrets: () => [secret],
    accessToken: () => token,
    adminUrl: shopify.url,
    apiVersion: '2026-01',
    erpnext: {
      company: 'Demo Confections',
      priceList: 'Standard Selling',
      customerGroup: 'Individual',
      territory: 'All Territories',
      warehouse: 'Finished Goods - DC',
      taxAccount: 'Sales Tax - DC',
      taxAccounts: {},
      shippingAccount: 'Freight and Forwarding Charges - DC',
      deliveryDays: 7,
    },
    skuMap: {},
    reconcile: { enabled: true, overlapMinutes: 10, initialLookbackHours: 24 },
  };
  const config: SidecarConfig = {
    sites: [site],
    dataDir: mkdtempSync(join(tmpdir(), 'coc-demo-')),
    http: { host: '127.0.0.1', port: opts.sidecarPort },
    catchupIntervalMs: 60_000,
    concurrency: 4,
    logLevel: opts.logLevel,
    shops: [shop],
    webhookBodyLimitBytes: 1024 * 1024,
  };
  const sidecar = await startSidecar({ config, manifest, handlers: builtinHandlers, logger: createLogger({ level: config.logLevel }) });

  // One order placed in the test shop and delivered as Shopify would: signed, to the receiver.
  const order = shopify.shop(SHOP_DOMAIN).addOrder({
    customer: { first_name: 'Grace', last_name: 'Hopper', email: 'grace@navy.example' },
    billing_address: { first_name: 'Grace', last_name: 'Hopper', address1: '1 Navy Way', city: 'Arlington', zip: '22202', country: 'United States', country_code: 'US' },
    line_items: [
      { sku: 'CAKE-CHOC', title: 'Chocolate Cake', quantity: 2, price: '24.50' },
      { sku: 'COOKIE-BOX', title: 'Cookie Box (24)', quantity: 1, price: '12.75' },
    ],
  });
  const applied = new Promise<JobRecord>((resolveJob) =>
    sidecar.events.on('job', (job: JobRecord, outcome: string) => {
      if (outcome !== 'retried' && job.name === 'shops.delivery' && String(job.data.body ?? '').includes(order.id)) resolveJob(job);
    }),
  );
  const res = await deliver(`${sidecar.url}/webhooks/shopify`, shopify.shop(SHOP_DOMAIN).webhook('orders/create', order.id));
  const job = await Promise.race([applied, new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref())]);
  const salesOrder = emu.site(SITE).db.all('Sales Order').find((so) => String(so.custom_external_order_id ?? '').endsWith(`:${order.id}`));

  const forgetState = writeDemoState({ pid: process.pid, sidecarUrl: sidecar.url! });

  const lead = seed.leads[0]!;
  const ticket = String(seed.tickets[0]);
  process.stdout.write(`crm-order-companion demo is running.

  Desk preview  ${emu.url}/app/crm-lead/${encodeURIComponent(lead)}   (Order History tab; Actions → Fetch Order History)
                ${emu.url}/app/hd-ticket/${encodeURIComponent(ticket)}
  Sign in at    ${emu.url}/login as any of:
    Administrator / admin
${Object.values(seed.users)
  .filter((u) => !u.api_key)
  .map((u) => `    ${u.name} / ${DEMO_PASSWORD}`)
  .join('\n')}

  Site          ${SITE} (Frappe v15 emulator, time zone ${emu.site(SITE).timeZone()})
  REST API      ${emu.url}/api/resource/Sales%20Order
  Realtime      ${emu.url}/socket.io  (namespace /${SITE})
  Controls      ${emu.url}/__emulator
  Sidecar       ${sidecar.url}   (${sidecar.url}/readyz  ·  /metrics  ·  /admin/jobs  ·  /admin/shops)
  Ops console   ${sidecar.url}/console/   (sign in as Administrator / admin: a System Manager)
  Shopify shop  ${SHOP_DOMAIN} (test double at ${shopify.url}); webhooks → ${sidecar.url}/webhooks/shopify
                order ${order.name} → ${res.status === 200 && job?.state === 'completed' && salesOrder ? `Sales Order ${String(salesOrder.name)} (submitted)` : `not applied yet (${res.status}; see ${sidecar.url}/admin/jobs)`}

  Installed into the site: ${installed.applied.length} record(s) (doctypes/: Order History tables, Order Sync Request, fields, SLAs, roles, Client Scripts).
  Sample data: ${seed.customers.length} customers, ${seed.sales_orders.length} sales orders, ${seed.work_orders.length} work orders, ${seed.leads.length} leads, ${seed.tickets.length} tickets.

  Try the CLI on it, from another terminal (status, jobs, shops and history find this demo's sidecar without --url while it runs):
    node dist/cli.js status
    node dist/cli.js jobs list
    node dist/cli.js shops list
    node dist/cli.js history sync --dry-run    (then without --dry-run: every lead's and ticket's order history)
  and the installer's checks, with the API key and secret of the demo's sidecar user (demo-only:
  made up when this demo started, valid on this emulated site alone, gone when it stops):
    FRAPPE_URL=${emu.url} FRAPPE_SITE=${SITE} FRAPPE_API_KEY=${keys.api_key} FRAPPE_API_SECRET=${keys.api_secret} node dist/cli.js site doctor

Press Ctrl+C to stop.
`);
  await until;
  forgetState();
  await sidecar.stop();
  await shopify.close();
  await emu.close();
}
