/**
 * Shop-sync tests: an emulated site with the product installed and the demo data set, a sidecar
 * whose API user has the two roles it ships (order history + shop sync), its HTTP server (the
 * webhook receivers) on an ephemeral port, and the Shopify / Etsy doubles on 127.0.0.1.
 */
import type { ShopConfig, ShopifyShop, EtsyShop, ErpnextMapping } from '../../lib/config/shops.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { HooksManifest } from '../../lib/manifest/schema.js';
import { startSidecar, type Sidecar, type SidecarOptions } from '../../sidecar/runtime.js';
import type { JobStore } from '../../sidecar/jobs/types.js';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import { SITE, control } from './emulator.js';
import { localConfig } from './config.js';
import { captureLogs, type InstalledSite } from './sidecar.js';

export const SHOPIFY_DOMAIN = 'demo-shop.myshopify.com';
export const SHOPIFY_SECRET = 'shpss_test_client_secret';
export const SHOPIFY_TOKEN = 'shpat_test_admin_token';

export const ERPNEXT: ErpnextMapping = {
  company: 'Demo Confections',
  priceList: 'Standard Selling',
  customerGroup: 'Individual',
  territory: 'All Territories',
  defaultCustomer: 'Walk-in Shop Customer',
  warehouse: 'Finished Goods - DC',
  taxAccount: 'Sales Tax - DC',
  taxAccounts: {},
  shippingAccount: 'Freight and Forwarding Charges - DC',
  deliveryDays: 7,
};

export function shopifyShop(adminUrl: string, overrides: Partial<ShopifyShop> = {}): ShopifyShop {
  return {
    platform: 'shopify',
    id: 'demo-shopify',
    site: SITE,
    domain: SHOPIFY_DOMAIN,
    webhookSecrets: () => [SHOPIFY_SECRET],
    accessToken: () => SHOPIFY_TOKEN,
    adminUrl,
    apiVersion: '2026-01',
    erpnext: ERPNEXT,
    skuMap: {},
    reconcile: { enabled: true, overlapMinutes: 10, initialLookbackHours: 24 },
    ...overrides,
  };
}

export function etsyShop(apiUrl: string, overrides: Partial<EtsyShop> = {}): EtsyShop {
  return {
    platform: 'etsy',
    id: 'demo-etsy',
    site: SITE,
    shopId: '5550001',
    keystring: 'etsykeystring',
    sharedSecret: () => 'etsy-shared-secret',
    webhookSecret: null,
    refreshToken: () => '7770001.initial-refresh',
    apiUrl,
    toleranceSeconds: 300,
    erpnext: ERPNEXT,
    skuMap: {},
    reconcile: { enabled: true, overlapMinutes: 10, initialLookbackHours: 24 },
    ...overrides,
  };
}

export const SHOP_MANIFEST: HooksManifest = parseManifest({
  app: 'crm_order_companion',
  webhooks: [
    { route: '/webhooks/shopify', verifier: 'shopify-hmac', handler: 'shops.delivery' },
    { route: '/webhooks/etsy', verifier: 'standard-webhooks', handler: 'shops.delivery' },
  ],
});

/** The sidecar's API user as an administrator sets it up for shop sync. */
export async function shopSyncUser(site: InstalledSite, email = 'shopsync@example.com'): Promise<{ key: string; secret: string }> {
  const u = await control(site.emu, `/sites/${SITE}/users`, { email, roles: ['Order Companion', 'Order Companion Shop Sync'], generate_keys: true });
  // A Helpdesk agent, as README "Put it on your site" says (`site install --sidecar-user` or
  // Helpdesk → Agents): a new order refreshes the histories of tickets too, and Helpdesk lets only
  // agents write tickets (hd_ticket.py has_permission).
  const agent = await site.root.insert('HD Agent', { user: u.name, is_active: 1 });
  if (agent.status !== 200) throw new Error(`HD Agent ${u.name}: ${JSON.stringify(agent.body)}`);
  return { key: u.api_key, secret: u.api_secret };
}

export async function startShopSidecar(
  site: InstalledSite,
  keys: { key: string; secret: string },
  shops: ShopConfig[],
  opts: { dataDir?: string; bodyLimit?: number; manifest?: HooksManifest; maxAttempts?: number; rest?: SidecarOptions['rest']; store?: JobStore } = {},
): Promise<{ sc: Sidecar; url: string; logs: ReturnType<typeof captureLogs> }> {
  const logs = captureLogs();
  const config = localConfig(
    { name: SITE, url: site.emu.url, key: keys.key, secret: keys.secret },
    { ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), logLevel: 'debug', shops, webhookBodyLimitBytes: opts.bodyLimit ?? 64 * 1024 },
  );
  const sc = await startSidecar({
    config,
    manifest: opts.manifest ?? SHOP_MANIFEST,
    ...(opts.store ? { store: opts.store } : {}),
    handlers: builtinHandlers,
    logger: logs.logger,
    rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 5000, ...opts.rest },
    jobDefaults: { maxAttempts: opts.maxAttempts ?? 8, backoffMs: 5 },
    reconnectBaseMs: 20,
  });
  return { sc, url: sc.url!, logs };
}
