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
import { buildHealth, healthFileSchema, type HealthConfig } from './health.js';
import { buildShops, shopFileSchema, type ShopConfig } from './shops.js';

type ShopFile = z.infer<typeof shopFileSchema>;

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
  /**
   * How long to wait for the site's probe event after each (re)connect before saying its events
   * do not reach the sidecar (lib/frappe/realtime/probe.ts). @defaultValue 10_000
   */
  realtimeProbeTimeoutMs?: number;
  /** REST timeouts per attempt (lib/frappe/client.ts); unset → the client's defaults. */
  rest?: { readTimeoutMs?: number; writeTimeoutMs?: number; writeTimeoutFloorMs?: number | false; slowCallMs?: number; hedgeReadsAfterMs?: false };
  /** Jobs that may wait on a slow REST call beyond `concurrency` (embedded store). @defaultValue 64 */
  maxStalledJobs?: number;
  /** The daily health check (lib/config/health.ts): its time, thresholds and recipients. @defaultValue DEFAULT_HEALTH */
  health?: HealthConfig;
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
    realtimeProbeTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    readTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    writeTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    writeTimeoutFloorMs: z.number().int().min(0).max(600_000).optional(),
    slowCallMs: z.number().int().min(10).max(600_000).optional(),
    hedgeReads: z.boolean().optional(),
    maxStalledJobs: z.number().int().min(0).max(1024).optional(),
    health: healthFileSchema.optional(),
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
  /** Keys whose problem the schema already named ("url", "apiKey", "secret"): not named twice. */
  skip?: Set<string>;
}

function hostOf(url: string | undefined): string | undefined {
  if (!url || !isHttpUrl(url)) return undefined;
  return new URL(url).hostname;
}

function buildSite(raw: RawSite, env: Env, problems: string[]): SiteConfig | null {
  const before = problems.length;
  const { where } = raw;
  const skip = raw.skip ?? new Set<string>();
  if (skip.has('url')) {
    /* named by the schema */
  } else if (!raw.url || !isHttpUrl(raw.url)) {
    problems.push(`${where}url: ${raw.url ? `"${raw.url}" is not` : 'missing; set it to'} an http(s) URL of the site, e.g. "https://erp.example.com"`);
  }
  if (raw.realtimeUrl && !isHttpUrl(raw.realtimeUrl)) problems.push(`${where}realtimeUrl: "${raw.realtimeUrl}" is not an http(s) URL`);
  if (!raw.apiKey && !skip.has('apiKey')) problems.push(`${where}${raw.keyHint}: missing; the API key of the sidecar's Frappe user (User → Settings → API Access)`);
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
  } else if (!skip.has('secret')) {
    problems.push(`${where}${raw.secretHint}: missing; give the API secret through an environment variable or a file, never in the config file`);
  }
  if (problems.length > before || skip.size || !apiSecret || !raw.url || !raw.apiKey) return null;
  const url = raw.url.replace(/\/+$/, '');
  return {
    name: raw.name || new URL(url).hostname,
    url,
    realtimeUrl: raw.realtimeUrl?.replace(/\/+$/, ''),
    apiKey: raw.apiKey!,
    apiSecret,
  };
}

/**
 * A shop entry the schema refused cannot be built, but what it points at can still be checked:
 * its site, and the environment variables it names for its secrets.
 */
function checkRefusedShop(where: string, entry: unknown, env: Env, siteNames: string[], problems: string[]): void {
  if (!entry || typeof entry !== 'object') return;
  const s = entry as Record<string, unknown>;
  const at = `${where}${typeof s.id === 'string' ? ` (${s.id})` : ''}`;
  if (typeof s.site === 'string' && !siteNames.includes(s.site)) {
    problems.push(`${at}: site "${s.site}" is not one of the configured sites (${[...new Set(siteNames)].join(', ') || 'none'})`);
  }
  for (const [key, value] of Object.entries(s)) {
    if (key.endsWith('Env') && typeof value === 'string' && value && !env[value]) problems.push(`${at} ${key}: environment variable ${value} is not set`);
  }
}

function boolFrom(env: Env, key: string, dflt: boolean, problems: string[]): boolean {
  const v = env[key];
  if (v === undefined || v === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  problems.push(`${key}: "${v}" is not a yes/no value (use 1 or 0)`);
  return dflt;
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

type Path = readonly PropertyKey[];

function pathText(path: Path): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** What a value is, in JSON's words; never the value itself (it may be a secret in the wrong key). */
function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'true/false' : typeof v;
}

const KIND_HINT: Record<string, string> = {
  number: 'a number (no quotes, e.g. 8090)',
  string: 'a string (in double quotes)',
  array: 'a list ([ … ])',
  object: 'an object ({ … })',
  boolean: 'true or false (no quotes)',
};

/** The keys a `.strict()` object at this path accepts, for the "known keys" hint. */
function knownKeysAt(path: Path, data: unknown): string[] {
  const shapeOf = (schema: unknown) => Object.keys((schema as { shape?: Record<string, unknown> }).shape ?? {});
  if (path.length === 0) return shapeOf(fileSchema);
  if (path[0] === 'sites' && path.length === 2) return shapeOf(siteFileSchema);
  if (path[0] === 'http' && path.length === 1) return shapeOf(fileSchema.shape.http.unwrap());
  if (path[0] === 'health' && path.length === 1) return shapeOf(healthFileSchema);
  if (path[0] === 'shops' && path.length === 2) {
    const platform = (valueAt(data, path) as { platform?: unknown } | undefined)?.platform;
    const option = shopFileSchema.options.find((o) => o.shape.platform.value === platform);
    return option ? shapeOf(option) : [];
  }
  return [];
}

/** One line per schema problem: where, what is wrong, and what to write instead. */
function describeIssue(file: string, issue: z.core.$ZodIssue, data: unknown): string[] {
  const at = pathText(issue.path);
  const got = valueAt(data, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(issue.path, data);
      return issue.keys.map((key) => {
        const where = `${file}: ${pathText([...issue.path, key])}`;
        // Secrets are never accepted inline: say which keys take their place (the value is not shown).
        const instead = [`${key}Env`, `${key}File`].filter((k) => known.includes(k));
        if (instead.length || /secret|token|password/i.test(key)) {
          const alternatives = (instead.length ? instead : [`${key}Env`]).map((k) => `${k} (${k.endsWith('File') ? 'the path of a file that holds it' : 'the name of an environment variable that holds it'})`);
          return `${where}: secrets are never accepted inline in the file; use ${alternatives.join(' or ')}`;
        }
        const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
        return `${where}: unknown key${near ? `; did you mean "${near}"?` : known.length ? `; known keys here: ${known.join(', ')}` : ''}`;
      });
    }
    case 'invalid_type': {
      const want = KIND_HINT[issue.expected] ?? issue.expected;
      return [`${file}: ${at}: ${got === undefined ? `missing; set it to ${want}` : `must be ${want}, not ${kindOf(got)}`}`];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'array') return [`${file}: ${at}: needs ${word} ${String(bound)} entr${Number(bound) === 1 ? 'y' : 'ies'}`];
      if (issue.origin === 'string') return [`${file}: ${at}: must not be empty`];
      return [`${file}: ${at}: must be ${word} ${String(bound)}${typeof got === 'number' ? ` (is ${got})` : ''}`];
    }
    case 'invalid_value':
      return [`${file}: ${at}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    case 'invalid_union':
      if (issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return [`${file}: ${at}: must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}`];
      }
      return [`${file}: ${at}: ${issue.message}`];
    default:
      // Our own messages (regexes, refinements) already say what to write.
      return [`${file}: ${at}: ${issue.message}`];
  }
}

/**
 * The file with every value the schema refused taken out, so the checks that need the rest of it
 * (environment variables, URLs, duplicate sites, shops' sites) still run: a user fixing the file
 * sees every problem in one go, not one layer per start.
 */
function withoutRefused(data: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy: unknown = structuredClone(data);
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') continue;
    // A bad discriminator refuses the whole entry, not only its `platform`.
    const path = issue.code === 'invalid_union' && issue.discriminator ? issue.path.slice(0, -1) : issue.path;
    if (!path.length) return {};
    const parent = valueAt(copy, path.slice(0, -1));
    if (parent && typeof parent === 'object') delete (parent as Record<PropertyKey, unknown>)[path[path.length - 1]!];
  }
  return copy;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Build the configuration. Precedence: defaults, then the file (`COC_CONFIG`), then environment
 * overrides for the process-wide keys. With no file, one site comes from FRAPPE_URL,
 * FRAPPE_SITE, FRAPPE_API_KEY and FRAPPE_API_SECRET / FRAPPE_API_SECRET_FILE.
 */
export function loadConfig(env: Env = process.env): SidecarConfig {
  const problems: string[] = [];
  const sites: SiteConfig[] = [];
  /** Every configured site's name, built or not: duplicates and shops' `site` are checked against these. */
  const siteNames: string[] = [];
  let file: z.infer<typeof fileSchema> | undefined;
  let rawShops: ShopFile[] = [];
  const path = env.COC_CONFIG;
  if (path) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(resolve(path), 'utf8'));
    } catch (e) {
      problems.push(`COC_CONFIG: cannot read ${resolve(path)} as JSON (${(e as Error).message.split('\n')[0]})`);
    }
    if (parsed !== undefined) {
      const result = fileSchema.safeParse(parsed);
      const issues = result.success ? [] : result.error.issues;
      for (const issue of issues) problems.push(...describeIssue(path, issue, parsed));
      // What passed the schema, typed as far as the checks below read it.
      const usable = (result.success ? result.data : withoutRefused(parsed, issues)) as Partial<z.infer<typeof fileSchema>> & Record<string, unknown>;
      const under = (t: string, p: string) => t === p || t.startsWith(`${p}.`) || t.startsWith(`${p}[`);
      const refused = (p: Path) => issues.some((i) => i.code !== 'unrecognized_keys' && under(pathText(i.path), pathText(p)));
      const inline = (p: Path, key: string) => issues.some((i) => i.code === 'unrecognized_keys' && pathText(i.path) === pathText(p) && i.keys.includes(key));
      file = (result.success ? result.data : { ...usable, sites: [], shops: [] }) as z.infer<typeof fileSchema>;
      const rawSites = Array.isArray(usable.sites) ? (usable.sites as unknown[]) : [];
      rawSites.forEach((entry, i) => {
        if (!entry || typeof entry !== 'object') return; // named by the schema
        const s = entry as Record<string, unknown>;
        const at: Path = ['sites', i];
        const skip = new Set<string>();
        if (refused([...at, 'url'])) skip.add('url');
        if (refused([...at, 'apiKey']) || refused([...at, 'apiKeyEnv'])) skip.add('apiKey');
        if (refused([...at, 'apiSecretEnv']) || refused([...at, 'apiSecretFile']) || inline(at, 'apiSecret')) skip.add('secret');
        const apiKeyEnv = str(s.apiKeyEnv);
        const site = buildSite(
          {
            where: `${path}: sites[${i}].`,
            name: str(s.name),
            url: str(s.url),
            realtimeUrl: str(s.realtimeUrl),
            apiKey: str(s.apiKey) ?? (apiKeyEnv ? env[apiKeyEnv] : undefined),
            keyHint: apiKeyEnv ? `apiKeyEnv (${apiKeyEnv})` : 'apiKey',
            secretEnv: str(s.apiSecretEnv),
            secretFile: str(s.apiSecretFile),
            secretHint: 'apiSecretEnv/apiSecretFile',
            skip,
          },
          env,
          problems,
        );
        const name = str(s.name) || hostOf(str(s.url));
        if (name && !refused([...at, 'name'])) siteNames.push(name);
        if (site) sites.push(site);
      });
      const shopEntries = Array.isArray(parsed && (parsed as { shops?: unknown }).shops) ? ((parsed as { shops: unknown[] }).shops) : [];
      shopEntries.forEach((entry, i) => {
        const ok = shopFileSchema.safeParse(entry);
        if (ok.success) rawShops.push(ok.data);
        else checkRefusedShop(`${path}: shops[${i}]`, entry, env, siteNames, problems);
      });
    }
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
  if (!path) siteNames.push(...sites.map((s) => s.name));
  const names = new Set<string>();
  for (const name of siteNames) {
    if (names.has(name)) problems.push(`${path ? `${path}: sites: ` : ''}site "${name}" is configured twice: give each entry of "sites" its own "name" (the Frappe site name)`);
    names.add(name);
  }
  const shops = buildShops(rawShops, env, names, path ? `${path}: ` : '', problems);
  const redisUrl = env.COC_REDIS_URL ?? file?.redisUrl;
  // Not echoed: a Redis URL may carry a password.
  const redisFrom = env.COC_REDIS_URL !== undefined ? 'COC_REDIS_URL' : `${path}: redisUrl`;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push(`${redisFrom}: must look like redis://127.0.0.1:6379 (or rediss://user:password@host:port)`);
  const port = intFrom(env, 'COC_PORT', file?.http?.port ?? 8090, problems, 0, 65535);
  const concurrency = intFrom(env, 'COC_CONCURRENCY', file?.concurrency ?? 4, problems, 1, 64);
  const catchupIntervalMs = intFrom(env, 'COC_CATCHUP_INTERVAL_MS', file?.catchupIntervalMs ?? 300_000, problems, 1000);
  const realtimeProbeTimeoutMs = intFrom(env, 'COC_REALTIME_PROBE_TIMEOUT_MS', file?.realtimeProbeTimeoutMs ?? 10_000, problems, 100, 600_000);
  const readTimeoutMs = intFrom(env, 'COC_READ_TIMEOUT_MS', file?.readTimeoutMs ?? 5_000, problems, 100, 600_000);
  const writeTimeoutMs = intFrom(env, 'COC_WRITE_TIMEOUT_MS', file?.writeTimeoutMs ?? 15_000, problems, 100, 600_000);
  // 0 turns the adaptive write timeout off: every write gets COC_WRITE_TIMEOUT_MS.
  const writeFloor = intFrom(env, 'COC_WRITE_TIMEOUT_FLOOR_MS', file?.writeTimeoutFloorMs ?? 3_000, problems, 0, 600_000);
  // Unset: the client's own measure of slow (four times its recent median call).
  const slowCallMs = env.COC_SLOW_CALL_MS || file?.slowCallMs !== undefined ? intFrom(env, 'COC_SLOW_CALL_MS', file?.slowCallMs ?? 1_000, problems, 10, 600_000) : undefined;
  const hedgeReads = boolFrom(env, 'COC_HEDGE_READS', file?.hedgeReads ?? true, problems);
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
    realtimeProbeTimeoutMs,
    rest: { readTimeoutMs, writeTimeoutMs, writeTimeoutFloorMs: writeFloor === 0 ? false : writeFloor, slowCallMs, ...(hedgeReads ? {} : { hedgeReadsAfterMs: false as const }) },
    maxStalledJobs,
    health: buildHealth(file?.health),
  };
}
