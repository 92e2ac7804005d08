/**
 * Shop configuration (`shops` in the COC_CONFIG file): which Shopify shops and Etsy shops feed
 * which Frappe site, how their orders map onto ERPNext, and where each secret comes from. Secrets
 * are named by environment variable or file, never written in the file, read on every use (so a
 * rotated file takes effect without a restart), and registered for redaction.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { registerSecret } from '../log.js';

const secretRef = { env: z.string().min(1).optional(), file: z.string().min(1).optional() };

const erpnextSchema = z
  .object({
    company: z.string().min(1),
    /** Selling price list the Sales Orders name (ERPNext requires one; rates come from the shop). */
    priceList: z.string().min(1).default('Standard Selling'),
    customerGroup: z.string().min(1).default('Individual'),
    territory: z.string().min(1).default('All Territories'),
    /** Customer for orders without a shop customer and without an email (guest / POS orders). */
    defaultCustomer: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
    /** Account for tax lines whose title is not in `taxAccounts`. */
    taxAccount: z.string().min(1),
    taxAccounts: z.record(z.string(), z.string().min(1)).default({}),
    shippingAccount: z.string().min(1),
    /** Delivery date = order date + this many days (shops carry no promised date). */
    deliveryDays: z.number().int().min(0).max(365).default(7),
    namingSeries: z.string().min(1).optional(),
    /**
     * How long what an order ensured on the site (its Customer, Contact and Addresses, its Items) is
     * trusted for the next orders without asking the site again; 0 asks every time. Unset: 10.
     */
    rememberMinutes: z.number().int().min(0).max(24 * 60).optional(),
  })
  .strict();

const common = {
  /** Our name for the shop (CLI, metrics, job ids). */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "-" and "_"'),
  /** Frappe site the orders go to (a `sites[].name`). */
  site: z.string().min(1),
  erpnext: erpnextSchema,
  /** Shop SKU → ERPNext item code; a SKU not listed is looked up as an item code itself. */
  skuMap: z.record(z.string(), z.string().min(1)).default({}),
  reconcile: z
    .object({
      enabled: z.boolean().default(true),
      /** Look this far behind the watermark, for changes committed out of order. */
      overlapMinutes: z.number().int().min(0).max(24 * 60).default(10),
      /** First run with no watermark looks back this far. */
      initialLookbackHours: z.number().int().min(1).max(24 * 60).default(24),
    })
    .strict()
    .default({ enabled: true, overlapMinutes: 10, initialLookbackHours: 24 }),
};

export const shopFileSchema = z.discriminatedUnion('platform', [
  z
    .object({
      platform: z.literal('shopify'),
      ...common,
      /** The shop's *.myshopify.com domain, as X-Shopify-Shop-Domain carries it. */
      domain: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, 'a shop domain like "my-shop.myshopify.com"'),
      webhookSecretEnv: secretRef.env,
      webhookSecretFile: secretRef.file,
      /** The secret before a rotation, accepted until removed (Shopify may sign with it for an hour). */
      previousWebhookSecretEnv: secretRef.env,
      previousWebhookSecretFile: secretRef.file,
      accessTokenEnv: secretRef.env,
      accessTokenFile: secretRef.file,
      /** Admin API base; defaults to https://<domain>. */
      adminUrl: z.string().url().optional(),
      apiVersion: z.string().regex(/^\d{4}-\d{2}$/).default('2025-07'),
    })
    .strict(),
  z
    .object({
      platform: z.literal('etsy'),
      ...common,
      shopId: z.string().regex(/^\d+$/, 'the numeric Etsy shop_id'),
      /** App keystring (public), sent as the first half of x-api-key. */
      keystring: z.string().min(1),
      sharedSecretEnv: secretRef.env,
      sharedSecretFile: secretRef.file,
      /** Webhook endpoint secret ("whsec_…"); commercial apps only, polling works without it. */
      webhookSecretEnv: secretRef.env,
      webhookSecretFile: secretRef.file,
      /** The refresh token from the OAuth consent; rotated ones are kept in the job store after. */
      refreshTokenEnv: secretRef.env,
      refreshTokenFile: secretRef.file,
      apiUrl: z.string().url().default('https://api.etsy.com'),
      /** Accepted age of a webhook timestamp, either way. */
      toleranceSeconds: z.number().int().min(30).max(3600).default(300),
    })
    .strict(),
]);

export type ErpnextMapping = z.infer<typeof erpnextSchema>;
type ShopFile = z.infer<typeof shopFileSchema>;

interface ShopBase {
  id: string;
  site: string;
  erpnext: ErpnextMapping;
  skuMap: Record<string, string>;
  reconcile: { enabled: boolean; overlapMinutes: number; initialLookbackHours: number };
}

export interface ShopifyShop extends ShopBase {
  platform: 'shopify';
  domain: string;
  /** Current secret first; during a rotation the previous one too. */
  webhookSecrets: () => string[];
  accessToken: (() => string) | null;
  adminUrl: string;
  apiVersion: string;
}

export interface EtsyShop extends ShopBase {
  platform: 'etsy';
  shopId: string;
  keystring: string;
  sharedSecret: () => string;
  webhookSecret: (() => string) | null;
  refreshToken: (() => string) | null;
  apiUrl: string;
  toleranceSeconds: number;
}

export type ShopConfig = ShopifyShop | EtsyShop;

/** The shop's key inside external ids: the Shopify domain or the Etsy shop_id. */
export function shopKey(shop: ShopConfig): string {
  return shop.platform === 'shopify' ? shop.domain : shop.shopId;
}

type Env = Record<string, string | undefined>;

function secret(where: string, what: string, env: Env, ref: { env?: string; file?: string }, problems: string[], required: boolean): (() => string) | null {
  if (ref.env && ref.file) {
    problems.push(`${where}: give ${what} by environment variable or by file, not both`);
    return null;
  }
  if (ref.file) {
    const path = resolve(ref.file);
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (!value) problems.push(`${where}: ${what} file ${path} is empty`);
      registerSecret(value);
      return () => {
        const current = readFileSync(path, 'utf8').trim();
        registerSecret(current);
        return current;
      };
    } catch (e) {
      problems.push(`${where}: cannot read ${what} file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
  }
  if (ref.env) {
    const value = env[ref.env];
    if (!value) {
      problems.push(`${where}: environment variable ${ref.env} (${what}) is not set`);
      return null;
    }
    registerSecret(value);
    return () => value;
  }
  if (required) problems.push(`${where}: ${what} is missing; name an environment variable or a file that holds it`);
  return null;
}

/** Resolve the validated `shops` entries; problems are appended, naming the entry and the key. */
export function buildShops(raw: ShopFile[], env: Env, siteNames: Set<string>, where: string, problems: string[]): ShopConfig[] {
  const shops: ShopConfig[] = [];
  const ids = new Set<string>();
  const keys = new Set<string>();
  raw.forEach((s, i) => {
    const at = `${where}shops[${i}] (${s.id})`;
    if (ids.has(s.id)) problems.push(`${at}: shop id "${s.id}" is used twice`);
    ids.add(s.id);
    if (!siteNames.has(s.site)) problems.push(`${at}: site "${s.site}" is not one of the configured sites (${[...siteNames].join(', ') || 'none'})`);
    const base: ShopBase = { id: s.id, site: s.site, erpnext: s.erpnext, skuMap: s.skuMap, reconcile: s.reconcile };
    if (s.platform === 'shopify') {
      const current = secret(`${at} webhookSecret`, 'the app client secret', env, { env: s.webhookSecretEnv, file: s.webhookSecretFile }, problems, true);
      const previous = secret(`${at} previousWebhookSecret`, 'the previous client secret', env, { env: s.previousWebhookSecretEnv, file: s.previousWebhookSecretFile }, problems, false);
      const accessToken = secret(`${at} accessToken`, 'the Admin API access token', env, { env: s.accessTokenEnv, file: s.accessTokenFile }, problems, false);
      if (keys.has(s.domain)) problems.push(`${at}: shop ${s.domain} is configured twice`);
      keys.add(s.domain);
      if (current) {
        shops.push({
          ...base,
          platform: 'shopify',
          domain: s.domain,
          webhookSecrets: () => [current(), ...(previous ? [previous()] : [])],
          accessToken,
          // Reconciliation reads the Admin API: without a token there is nothing to read with.
          reconcile: { ...s.reconcile, enabled: s.reconcile.enabled && accessToken !== null },
          adminUrl: (s.adminUrl ?? `https://${s.domain}`).replace(/\/+$/, ''),
          apiVersion: s.apiVersion,
        });
      }
    } else {
      const sharedSecret = secret(`${at} sharedSecret`, 'the app shared secret', env, { env: s.sharedSecretEnv, file: s.sharedSecretFile }, problems, true);
      const webhookSecret = secret(`${at} webhookSecret`, 'the webhook endpoint secret', env, { env: s.webhookSecretEnv, file: s.webhookSecretFile }, problems, false);
      const refreshToken = secret(`${at} refreshToken`, 'the OAuth refresh token', env, { env: s.refreshTokenEnv, file: s.refreshTokenFile }, problems, false);
      if (keys.has(`etsy:${s.shopId}`)) problems.push(`${at}: Etsy shop ${s.shopId} is configured twice`);
      keys.add(`etsy:${s.shopId}`);
      if (sharedSecret) {
        shops.push({
          ...base,
          platform: 'etsy',
          shopId: s.shopId,
          keystring: s.keystring,
          sharedSecret,
          webhookSecret,
          refreshToken,
          apiUrl: s.apiUrl.replace(/\/+$/, ''),
          toleranceSeconds: s.toleranceSeconds,
        });
      }
    }
  });
  return shops;
}
