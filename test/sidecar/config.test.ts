import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config/load.js';
import { configProblems } from '../helpers/config.js';

const problems = configProblems;

const SECRET = 's3cr3t-value-xyz';

describe('sidecar configuration', () => {
  it('one site from the environment, with defaults', () => {
    const c = loadConfig({ FRAPPE_URL: 'https://erp.example.com/', FRAPPE_API_KEY: 'key1', FRAPPE_API_SECRET: SECRET });
    expect(c.sites).toHaveLength(1);
    expect(c.sites[0]).toMatchObject({ name: 'erp.example.com', url: 'https://erp.example.com', apiKey: 'key1' });
    expect(c.sites[0].apiSecret()).toBe(SECRET);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8090 });
    expect(c.redisUrl).toBeUndefined();
    expect(c.concurrency).toBe(4);
  });

  it('REST timeouts and the stalled-job allowance: defaults, overrides, and bad values reported', () => {
    const base = { FRAPPE_URL: 'https://erp.example.com', FRAPPE_API_KEY: 'key1', FRAPPE_API_SECRET: SECRET };
    const d = loadConfig(base);
    expect(d.rest).toEqual({ readTimeoutMs: 5000, writeTimeoutMs: 15000, writeTimeoutFloorMs: 3000, slowCallMs: undefined });
    expect(d.maxStalledJobs).toBe(64);
    const c = loadConfig({ ...base, COC_READ_TIMEOUT_MS: '2000', COC_WRITE_TIMEOUT_MS: '45000', COC_WRITE_TIMEOUT_FLOOR_MS: '0', COC_SLOW_CALL_MS: '750', COC_MAX_STALLED_JOBS: '0' });
    expect(c.rest).toEqual({ readTimeoutMs: 2000, writeTimeoutMs: 45000, writeTimeoutFloorMs: false, slowCallMs: 750 });
    expect(c.maxStalledJobs).toBe(0);
    // Hedged reads are on unless turned off.
    expect(loadConfig({ ...base, COC_HEDGE_READS: '0' }).rest).toEqual({ readTimeoutMs: 5000, writeTimeoutMs: 15000, writeTimeoutFloorMs: 3000, slowCallMs: undefined, hedgeReadsAfterMs: false });
    expect(loadConfig({ ...base, COC_HEDGE_READS: 'yes' }).rest?.hedgeReadsAfterMs).toBeUndefined();
    expect(problems({ ...base, COC_READ_TIMEOUT_MS: 'soon', COC_MAX_STALLED_JOBS: '-1', COC_HEDGE_READS: 'maybe' })).toEqual([
      'COC_READ_TIMEOUT_MS: "soon" is not a whole number between 100 and 600000',
      'COC_HEDGE_READS: "maybe" is not a yes/no value (use 1 or 0)',
      'COC_MAX_STALLED_JOBS: "-1" is not a whole number between 0 and 1024',
    ]);
  });

  it('reports every problem at once, naming the key and the fix, never the secret', () => {
    const list = problems({ FRAPPE_URL: 'erp.example.com', FRAPPE_API_SECRET: SECRET, COC_PORT: 'eighty', COC_REDIS_URL: 'localhost:6379' });
    expect(list.join('\n')).toMatch(/url: "erp.example.com" is not an http\(s\) URL/);
    expect(list.join('\n')).toMatch(/FRAPPE_API_KEY: missing/);
    expect(list.join('\n')).toMatch(/COC_PORT: "eighty" is not a whole number/);
    expect(list.join('\n')).toMatch(/COC_REDIS_URL: must look like redis:\/\//);
    expect(list.join('\n')).not.toContain(SECRET);
  });

  it('the realtime probe timeout: 10 s by default, COC_REALTIME_PROBE_TIMEOUT_MS to change it, a bad value named', () => {
    const base = { FRAPPE_URL: 'https://erp.example.com', FRAPPE_API_KEY: 'key1', FRAPPE_API_SECRET: SECRET };
    expect(loadConfig(base).realtimeProbeTimeoutMs).toBe(10_000);
    expect(loadConfig({ ...base, COC_REALTIME_PROBE_TIMEOUT_MS: '2500' }).realtimeProbeTimeoutMs).toBe(2500);
    expect(problems({ ...base, COC_REALTIME_PROBE_TIMEOUT_MS: 'soon' }).join('\n')).toMatch(/COC_REALTIME_PROBE_TIMEOUT_MS: "soon" is not a whole number between 100 and 600000/);
  });

  it('says how to configure when nothing is configured', () => {
    expect(problems({})[0]).toMatch(/no site configured: set FRAPPE_URL, FRAPPE_API_KEY and FRAPPE_API_SECRET/);
  });

  it('several sites from a file; secrets from env or a file (read again on use, so rotation works)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const secretFile = join(dir, 'b.secret');
    writeFileSync(secretFile, 'first-secret\n');
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        sites: [
          { url: 'https://a.example.com', apiKey: 'ka', apiSecretEnv: 'A_SECRET' },
          { name: 'b.local', url: 'http://10.0.0.2:8000', realtimeUrl: 'http://10.0.0.2:9000', apiKeyEnv: 'B_KEY', apiSecretFile: secretFile },
        ],
        redisUrl: 'redis://127.0.0.1:6379',
        http: { port: 9100 },
      }),
    );
    const c = loadConfig({ COC_CONFIG: file, A_SECRET: SECRET, B_KEY: 'kb' });
    expect(c.sites.map((s) => s.name)).toEqual(['a.example.com', 'b.local']);
    expect(c.sites[1].realtimeUrl).toBe('http://10.0.0.2:9000');
    expect(c.sites[1].apiKey).toBe('kb');
    expect(c.sites[1].apiSecret()).toBe('first-secret');
    writeFileSync(secretFile, 'rotated-secret\n');
    expect(c.sites[1].apiSecret()).toBe('rotated-secret');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.http.port).toBe(9100);
  });

  it('refuses unknown keys and inline secrets in the file, with the path of the key and what to use instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sites: [{ url: 'https://a.example.com', apiKey: 'k', apiSecret: SECRET, URL: 'x' }] }));
    const list = problems({ COC_CONFIG: file });
    expect(list[0]).toBe(
      `${file}: sites[0].apiSecret: secrets are never accepted inline in the file; use apiSecretEnv (the name of an environment variable that holds it) or apiSecretFile (the path of a file that holds it)`,
    );
    expect(list[1]).toBe(`${file}: sites[0].URL: unknown key; did you mean "url"?`);
    // Named once: the inline secret is the problem, not a missing apiSecretEnv as well.
    expect(list).toHaveLength(2);
    expect(list.join('\n')).not.toContain(SECRET);
  });

  it('a file with several kinds of mistakes lists every one at once, each with its path and a fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        sites: [
          { url: 'https://a.example.com', apiKey: 'k', apiSecret: SECRET },
          { name: 7, url: 'ftp://b.example.com', apiKey: 'k', apiSecretEnv: 'B_SECRET' },
          { url: 'https://a.example.com', apiKey: 'k', apiSecretEnv: 'UNSET_SECRET' },
          { url: 'https://c.example.com', apiKeyEnv: 'UNSET_KEY', apiSecretEnv: 'B_SECRET' },
        ],
        http: { port: '8090' },
        concurrency: 0,
        logLevel: 'loud',
        redisUrl: 'localhost:6379',
        shops: [{ platform: 'shopify', id: 'main', site: 'nowhere', domain: 'not a domain', webhookSecretEnv: 'UNSET_SHOP', erpnext: {} }],
      }),
    );
    const list = problems({ COC_CONFIG: file, B_SECRET: 'b' });
    expect(list).toEqual([
      `${file}: sites[0].apiSecret: secrets are never accepted inline in the file; use apiSecretEnv (the name of an environment variable that holds it) or apiSecretFile (the path of a file that holds it)`,
      `${file}: sites[1].name: must be a string (in double quotes), not a number`,
      `${file}: http.port: must be a number (no quotes, e.g. 8090), not a string`,
      `${file}: concurrency: must be at least 1 (is 0)`,
      `${file}: logLevel: must be one of "fatal", "error", "warn", "info", "debug", "trace"`,
      `${file}: shops[0].erpnext.company: missing; set it to a string (in double quotes)`,
      `${file}: shops[0].erpnext.taxAccount: missing; set it to a string (in double quotes)`,
      `${file}: shops[0].erpnext.shippingAccount: missing; set it to a string (in double quotes)`,
      `${file}: shops[0].domain: a shop domain like "my-shop.myshopify.com"`,
      // The checks past the schema still run on what it accepted.
      `${file}: sites[1].url: "ftp://b.example.com" is not an http(s) URL of the site, e.g. "https://erp.example.com"`,
      `${file}: sites[2].apiSecretEnv/apiSecretFile: environment variable UNSET_SECRET is not set`,
      `${file}: sites[3].apiKeyEnv (UNSET_KEY): missing; the API key of the sidecar's Frappe user (User → Settings → API Access)`,
      `${file}: shops[0] (main): site "nowhere" is not one of the configured sites (a.example.com, c.example.com)`,
      `${file}: shops[0] (main) webhookSecretEnv: environment variable UNSET_SHOP is not set`,
      `${file}: sites: site "a.example.com" is configured twice: give each entry of "sites" its own "name" (the Frappe site name)`,
      `${file}: redisUrl: must look like redis://127.0.0.1:6379 (or rediss://user:password@host:port)`,
    ]);
    expect(list.join('\n')).not.toContain(SECRET);
  });

  it('a file that is not JSON is named, and the environment is still checked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, '{ "sites": [ ');
    const list = problems({ COC_CONFIG: file, COC_PORT: 'eighty' });
    expect(list[0]).toMatch(/^COC_CONFIG: cannot read .*config\.json as JSON/);
    expect(list[1]).toBe('COC_PORT: "eighty" is not a whole number between 0 and 65535');
    expect(list).toHaveLength(2);
  });

  it('an unset secret variable or unreadable secret file is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coc-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ sites: [{ url: 'https://a.example.com', apiKey: 'k', apiSecretEnv: 'NOPE' }, { url: 'https://b.example.com', apiKey: 'k', apiSecretFile: join(dir, 'missing') }] }),
    );
    const list = problems({ COC_CONFIG: file });
    expect(list.join('\n')).toMatch(/sites\[0\]\.apiSecretEnv\/apiSecretFile: environment variable NOPE is not set/);
    expect(list.join('\n')).toMatch(/sites\[1\]\.apiSecretFile: cannot read .*missing \(ENOENT\)/);
  });
});

describe('shop configuration', () => {
  const ERP = { company: 'Demo Confections', taxAccount: 'Sales Tax - DC', shippingAccount: 'Freight and Forwarding Charges - DC' };
  function withShops(shops: unknown[]): string {
    const dir = mkdtempSync(join(tmpdir(), 'coc-shops-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sites: [{ name: 'erp.local', url: 'https://erp.example.com', apiKey: 'k', apiSecretEnv: 'ERP_SECRET' }], shops }));
    return file;
  }

  it('Shopify and Etsy shops with secrets from the environment and defaults filled in', () => {
    const file = withShops([
      { platform: 'shopify', id: 'main', site: 'erp.local', domain: 'my-shop.myshopify.com', webhookSecretEnv: 'SHOP_SECRET', previousWebhookSecretEnv: 'OLD_SECRET', accessTokenEnv: 'SHOP_TOKEN', erpnext: ERP },
      { platform: 'etsy', id: 'etsy', site: 'erp.local', shopId: '123', keystring: 'ks', sharedSecretEnv: 'ETSY_SECRET', erpnext: ERP },
    ]);
    const c = loadConfig({ COC_CONFIG: file, ERP_SECRET: 'e', SHOP_SECRET: 'new-secret', OLD_SECRET: 'old-secret', SHOP_TOKEN: 'tok', ETSY_SECRET: 'es' });
    const [shopify, etsy] = c.shops;
    expect(shopify).toMatchObject({ platform: 'shopify', adminUrl: 'https://my-shop.myshopify.com', apiVersion: '2025-07', reconcile: { enabled: true, overlapMinutes: 10 } });
    expect(shopify!.platform === 'shopify' && shopify!.webhookSecrets()).toEqual(['new-secret', 'old-secret']);
    expect(shopify!.erpnext).toMatchObject({ priceList: 'Standard Selling', customerGroup: 'Individual', deliveryDays: 7 });
    expect(etsy).toMatchObject({ platform: 'etsy', apiUrl: 'https://api.etsy.com', toleranceSeconds: 300, webhookSecret: null });
    expect(c.webhookBodyLimitBytes).toBe(1024 * 1024);
  });

  it('a Shopify shop without an access token is not reconciled (nothing to read with)', () => {
    const file = withShops([{ platform: 'shopify', id: 'main', site: 'erp.local', domain: 'my-shop.myshopify.com', webhookSecretEnv: 'SHOP_SECRET', erpnext: ERP }]);
    expect(loadConfig({ COC_CONFIG: file, ERP_SECRET: 'e', SHOP_SECRET: 's' }).shops[0]!.reconcile.enabled).toBe(false);
  });

  it('names the shop and key of every problem: unknown site, unset secret, inline secret, bad domain, duplicate id', () => {
    const file = withShops([
      { platform: 'shopify', id: 'main', site: 'nowhere', domain: 'my-shop.myshopify.com', webhookSecretEnv: 'UNSET', erpnext: ERP },
      { platform: 'shopify', id: 'main', site: 'erp.local', domain: 'not a domain', webhookSecret: 'inline!', erpnext: ERP },
    ]);
    let list: string[] = [];
    try {
      loadConfig({ COC_CONFIG: file, ERP_SECRET: 'e' });
    } catch (e) {
      list = (e as ConfigError).problems;
    }
    const text = list.join('\n');
    expect(text).toMatch(/shops\[1\]\.domain: a shop domain like "my-shop\.myshopify\.com"/);
    expect(text).toMatch(/shops\[1\]\.webhookSecret: secrets are never accepted inline in the file; use webhookSecretEnv \(.*\) or webhookSecretFile/);
    expect(text).not.toContain('inline!');
    // Schema problems do not hide the rest: the first shop's site and secret are named in the same run.
    expect(text).toMatch(/shops\[0\] \(main\): site "nowhere" is not one of the configured sites \(erp.local\)/);
    expect(text).toMatch(/environment variable UNSET \(the app client secret\) is not set/);
    // With the schema problems fixed, the rest are named as before.
    const second = withShops([
      { platform: 'shopify', id: 'main', site: 'nowhere', domain: 'my-shop.myshopify.com', webhookSecretEnv: 'UNSET', erpnext: ERP },
      { platform: 'shopify', id: 'main', site: 'erp.local', domain: 'other.myshopify.com', webhookSecretEnv: 'UNSET', erpnext: ERP },
    ]);
    try {
      loadConfig({ COC_CONFIG: second, ERP_SECRET: 'e' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      const names = (e as ConfigError).problems.join('\n');
      expect(names).toMatch(/shops\[0\] \(main\): site "nowhere" is not one of the configured sites \(erp.local\)/);
      expect(names).toMatch(/environment variable UNSET \(the app client secret\) is not set/);
      expect(names).toMatch(/shop id "main" is used twice/);
    }
  });
});
