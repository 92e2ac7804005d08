/**
 * Sidecar configuration: environment variables for one site, or a JSON file (`COC_CONFIG`) for
 * several. Validated once at start; every problem is reported together, naming the key and the
 * fix. Secrets come from the environment or a file and never appear in messages.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CompanionError } from '../errors.js';
import { registerSecret } from '../log.js';
import { buildShops, shopFileSchema, type ShopConfig } from '../shops/config.js';

export interface SiteConfig {
  /** Frappe site name: the Socket.IO namespace and `X-Frappe-Site-Name`. */
  name: string;
  /** Base URL the site is served at, e.g. https://erp.example.com (also the realtime Origin). */
  url: string;
  /** Where Socket.IO answers, if not at `url` (e.g. http://127.0.0.1:9000 behind no proxy). */
  realtimeUrl?: string;
  apiKey: string;
  /** Read on every request so a rotated secret (file) takes effect without a restart. */
  apiSecret: () => string;
}

export interface SidecarConfig {
  sites: SiteConfig[];
  /** Embedded job store directory. @defaultValue ./.data */
  dataDir: string;
  /** Set → BullMQ on Redis (several replicas); unset → embedded store. */
  redisUrl?: string;
  http: { host: string; port: number };
  /** Slow catch-up timer, besides every (re)connect. @defaultValue 300_000 */
  catchupIntervalMs: number;
  /** Jobs run at once per process. @defaultValue 4 */
  concurrency: number;
  /** Bearer token for the admin endpoints (/jobs); unset → only loopback clients may use them. */
  adminToken?: string;
  logLevel: string;
  /** Shopify / Etsy shops whose orders become Sales Orders (file only). */
  shops: ShopConfig[];
  /** Largest webhook body accepted (413 above). @defaultValue 1 MiB */
  webhookBodyLimitBytes: number;
  /** REST timeouts per attempt (sidecar/frappe/client.ts); unset → the client's defaults. */
  rest?: { readTimeoutMs?: number; writeTimeoutMs?: number; slowCallMs?: number };
  /** Jobs that may wait on a slow REST call beyond `concurrency` (embedded store). @defaultValue 64 */
  maxStalledJobs?: number;
}

export class ConfigError extends CompanionError {
  constructor(readonly problems: string[]) {
    super('config_invalid', `Configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const siteFileSchema = z
  .object({
    name: z.string().min(1).optional(),
    url: z.string(),
    realtimeUrl: z.string().optional(),
    apiKey: z.string().min(1).optional(),
    apiKeyEnv: z.string().min(1).optional(),
    apiSecretEnv: z.string().min(1).optional(),
    apiSecretFile: z.string().min(1).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    sites: z.array(siteFileSchema).min(1),
    dataDir: z.string().optional(),
    redisUrl: z.string().optional(),
    http: z.object({ host: z.string().optional(), port: z.number().int().min(0).max(65535).optional() }).strict().optional(),
    catchupIntervalMs: z.number().int().min(1000).optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    adminTokenEnv: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).optional(),
    shops: z.array(shopFileSchema).optional(),
    webhookBodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
    readTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    writeTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    slowCallMs: z.number().int().min(10).max(600_000).optional(),
    maxStalledJobs: z.number().int().min(0).max(1024).optional(),
  })
  .strict();

type Env = Record<string, string | undefined>;

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A secret from a file: read now to validate, and again on every use (rotation). */
function secretFromFile(path: string): () => string {
  return () => readFileSync(path, 'utf8').trim();
}

interface RawSite {
  where: string;
  name?: string;
  url?: string;
  realtimeUrl?: string;
  apiKey?: string;
  keyHint: string;
  secretEnv?: string;
  secretFile?: string;
  secretHint: string;
}

function buildSite(raw: RawSite, env: Env, problems: string[]): SiteConfig | null {
  const before = problems.length;
  const { where } = raw;
  if (!raw.url || !isHttpUrl(raw.url)) {
    problems.push(`${where}url: ${raw.url ? `"${raw.url}" is not` : 'missing; set it to'} an http(s) URL of the site, e.g. "https://erp.example.com"`);
  }
  if (raw.realtimeUrl && !isHttpUrl(raw.realtimeUrl)) problems.push(`${where}realtimeUrl: "${raw.realtimeUrl}" is not an http(s) URL`);
  if (!raw.apiKey) problems.push(`${where}${raw.keyHint}: missing; the API key of the sidecar's Frappe user (User → Settings → API Access)`);
  let apiSecret: (() => string) | null = null;
  if (raw.secretFile) {
    const path = resolve(raw.secretFile);
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (!value) problems.push(`${where}apiSecretFile: ${path} is empty`);
      registerSecret(value);
      apiSecret = secretFromFile(path);
    } catch (e) {
      problems.push(`${where}apiSecretFile: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (raw.secretEnv) {
    const value = env[raw.secretEnv];
    if (!value) problems.push(`${where}${raw.secretHint}: environment variable ${raw.secretEnv} is not set`);
    else {
      registerSecret(value);
      apiSecret = () => value;
    }
  } else {
    problems.push(`${where}${raw.secretHint}: missing; give the API secret through an environment variable or a file, never in the config file`);
  }
  if (problems.length > before || !apiSecret || !raw.url) return null;
  const url = raw.url.replace(/\/+$/, '');
  return {
    name: raw.name || new URL(url).hostname,
    url,
    realtimeUrl: raw.realtimeUrl?.replace(/\/+$/, ''),
    apiKey: raw.apiKey!,
    apiSecret,
  };
}

function intFrom(env: Env, key: string, dflt: number, problems: string[], min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key}: "${v}" is not a whole number between ${min} and ${max}`);
    return dflt;
  }
  return n;
}

/**
 * Build the configuration. Precedence: defaults, then the file (`COC_CONFIG`), then environment
 * overrides for the process-wide keys. With no file, one site comes from FRAPPE_URL,
 * FRAPPE_SITE, FRAPPE_API_KEY and FRAPPE_API_SECRET / FRAPPE_API_SECRET_FILE.
 */
export function loadConfig(env: Env = process.env): SidecarConfig {
  const problems: string[] = [];
  const sites: SiteConfig[] = [];
  let file: z.infer<typeof fileSchema> | undefined;
  const path = env.COC_CONFIG;
  if (path) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(resolve(path), 'utf8'));
    } catch (e) {
      throw new ConfigError([`COC_CONFIG: cannot read ${resolve(path)} as JSON (${(e as Error).message.split('\n')[0]})`]);
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) {
      throw new ConfigError(
        result.error.issues.map((i) => {
          const at = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
          const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message;
          return `${path}: ${at || '(root)'}: ${msg}`;
        }),
      );
    }
    file = result.data;
    file.sites.forEach((s, i) => {
      const site = buildSite(
        {
          where: `${path}: sites[${i}].`,
          name: s.name,
          url: s.url,
          realtimeUrl: s.realtimeUrl,
          apiKey: s.apiKey ?? (s.apiKeyEnv ? env[s.apiKeyEnv] : undefined),
          keyHint: s.apiKeyEnv ? `apiKeyEnv (${s.apiKeyEnv})` : 'apiKey',
          secretEnv: s.apiSecretEnv,
          secretFile: s.apiSecretFile,
          secretHint: 'apiSecretEnv/apiSecretFile',
        },
        env,
        problems,
      );
      if (site) sites.push(site);
    });
  } else if (env.FRAPPE_URL || env.FRAPPE_API_KEY || env.FRAPPE_SITE) {
    const site = buildSite(
      {
        where: '',
        name: env.FRAPPE_SITE,
        url: env.FRAPPE_URL,
        realtimeUrl: env.FRAPPE_REALTIME_URL,
        apiKey: env.FRAPPE_API_KEY,
        keyHint: 'FRAPPE_API_KEY',
        secretEnv: env.FRAPPE_API_SECRET_FILE ? undefined : 'FRAPPE_API_SECRET',
        secretFile: env.FRAPPE_API_SECRET_FILE,
        secretHint: 'FRAPPE_API_SECRET',
      },
      env,
      problems,
    );
    if (site) sites.push(site);
  } else {
    problems.push('no site configured: set FRAPPE_URL, FRAPPE_API_KEY and FRAPPE_API_SECRET (one site) or COC_CONFIG (a JSON file with "sites")');
  }
  const names = new Set<string>();
  for (const s of sites) {
    if (names.has(s.name)) problems.push(`site "${s.name}" is configured twice`);
    names.add(s.name);
  }
  const shops = buildShops(file?.shops ?? [], env, names, path ? `${path}: ` : '', problems);
  const redisUrl = env.COC_REDIS_URL ?? file?.redisUrl;
  // Not echoed: a Redis URL may carry a password.
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push('COC_REDIS_URL: must look like redis://127.0.0.1:6379 (or rediss://user:password@host:port)');
  const port = intFrom(env, 'COC_PORT', file?.http?.port ?? 8090, problems, 0, 65535);
  const concurrency = intFrom(env, 'COC_CONCURRENCY', file?.concurrency ?? 4, problems, 1, 64);
  const catchupIntervalMs = intFrom(env, 'COC_CATCHUP_INTERVAL_MS', file?.catchupIntervalMs ?? 300_000, problems, 1000);
  const readTimeoutMs = intFrom(env, 'COC_READ_TIMEOUT_MS', file?.readTimeoutMs ?? 5_000, problems, 100, 600_000);
  const writeTimeoutMs = intFrom(env, 'COC_WRITE_TIMEOUT_MS', file?.writeTimeoutMs ?? 15_000, problems, 100, 600_000);
  // Unset: the client's own measure of slow (four times its recent median call).
  const slowCallMs = env.COC_SLOW_CALL_MS || file?.slowCallMs !== undefined ? intFrom(env, 'COC_SLOW_CALL_MS', file?.slowCallMs ?? 1_000, problems, 10, 600_000) : undefined;
  const maxStalledJobs = intFrom(env, 'COC_MAX_STALLED_JOBS', file?.maxStalledJobs ?? 64, problems, 0, 1024);
  const adminToken = env.COC_ADMIN_TOKEN ?? (file?.adminTokenEnv ? env[file.adminTokenEnv] : undefined);
  registerSecret(adminToken);
  if (problems.length) throw new ConfigError(problems);
  return {
    sites,
    dataDir: resolve(env.COC_DATA_DIR ?? file?.dataDir ?? '.data'),
    redisUrl,
    http: { host: env.COC_HOST ?? file?.http?.host ?? '127.0.0.1', port },
    catchupIntervalMs,
    concurrency,
    adminToken,
    logLevel: env.LOG_LEVEL ?? file?.logLevel ?? 'info',
    shops,
    webhookBodyLimitBytes: file?.webhookBodyLimitBytes ?? 1024 * 1024,
    rest: { readTimeoutMs, writeTimeoutMs, slowCallMs },
    maxStalledJobs,
  };
}
