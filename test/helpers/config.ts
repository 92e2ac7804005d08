/**
 * A sidecar configuration for one emulated site, as tests and benchmarks run it: a fresh data
 * directory, an ephemeral HTTP port, and no slow catch-up timer (catch-up still runs on connect).
 * Free of vitest, so the benchmarks can use it too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type SidecarConfig, type SiteConfig } from '../../lib/config/load.js';

export interface LocalSite {
  name: string;
  url: string;
  key: string;
  secret: string;
}

export function localConfig(site: LocalSite, overrides: Partial<SidecarConfig> & { site?: Partial<SiteConfig> } = {}): SidecarConfig {
  const { site: siteOverrides, ...rest } = overrides;
  return {
    sites: [{ name: site.name, url: site.url, apiKey: site.key, apiSecret: () => site.secret, ...siteOverrides }],
    dataDir: mkdtempSync(join(tmpdir(), 'coc-local-')),
    http: { host: '127.0.0.1', port: 0 },
    catchupIntervalMs: 3_600_000,
    concurrency: 4,
    logLevel: 'warn',
    shops: [],
    webhookBodyLimitBytes: 1024 * 1024,
    ...rest,
  } as SidecarConfig;
}

/** The problems `loadConfig` reports for `env`; throws when the configuration is accepted. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}
