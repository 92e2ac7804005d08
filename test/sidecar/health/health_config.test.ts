/**
 * The health check's configuration (lib/config/health.ts): the seed's thresholds as defaults, the
 * file's `health` over them, every problem named with its key, and `time` as a daily cron that the
 * scheduler puts in place of the manifest's midnight.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH, dailyCron } from '../../../lib/config/health.js';
import { loadConfig } from '../../../lib/config/load.js';
import { parseManifest } from '../../../lib/manifest/load.js';
import { scheduleEntries } from '../../../sidecar/scheduler.js';
import { configProblems } from '../../helpers/config.js';

const SECRET = 'health-secret-xyz';

function withFile(health: unknown): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'coc-health-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ sites: [{ url: 'https://erp.example.com', apiKey: 'k', apiSecretEnv: 'S' }], ...(health === undefined ? {} : { health }) }));
  return { COC_CONFIG: path, S: SECRET };
}

const problems = configProblems;

describe('health check configuration', () => {
  it("defaults to the seed's thresholds and the administrators", () => {
    expect(loadConfig(withFile(undefined)).health).toEqual(DEFAULT_HEALTH);
    expect(DEFAULT_HEALTH).toMatchObject({ slaFailures: 10, unsyncedOrders: 5, unsyncedDays: 7, recipients: ['Administrator'], emailRecipients: [] });
    // One site from the environment gets the same.
    expect(loadConfig({ FRAPPE_URL: 'https://erp.example.com', FRAPPE_API_KEY: 'k', FRAPPE_API_SECRET: SECRET }).health).toEqual(DEFAULT_HEALTH);
  });

  it("takes the file's values over the defaults", () => {
    const c = loadConfig(withFile({ time: '06:30', slaFailures: 3, recipients: ['ops@example.com'], emailRecipients: ['boss@example.com'] }));
    expect(c.health).toEqual({ ...DEFAULT_HEALTH, time: '06:30', slaFailures: 3, recipients: ['ops@example.com'], emailRecipients: ['boss@example.com'] });
  });

  it('names every bad value and unknown key', () => {
    const list = problems(withFile({ time: '7am', unsyncedOrders: -1, emailRecipients: ['not-an-address'], slaFailure: 4 }));
    expect(list.some((p) => /health\.time: must be "HH:MM"/.test(p))).toBe(true);
    expect(list.some((p) => /health\.unsyncedOrders: must be at least 0/.test(p))).toBe(true);
    expect(list.some((p) => /health\.emailRecipients\[0\]: must be an email address/.test(p))).toBe(true);
    expect(list.some((p) => /health\.slaFailure: unknown key; known keys here: .*slaFailures/.test(p))).toBe(true);
  });

  it("runs at `time` in the site's zone instead of the manifest's midnight", () => {
    expect(dailyCron('07:00')).toBe('0 7 * * *');
    expect(dailyCron('23:05')).toBe('5 23 * * *');
    expect(() => dailyCron('24:00')).toThrow(RangeError);
    const m = parseManifest({ app: 'a', scheduler: { cron: { '*/5 * * * *': ['sla.sweep'] }, daily: ['health.check', 'other.daily'] } });
    expect(scheduleEntries(m, { 'health.check': dailyCron('07:00') })).toEqual([
      { cron: '*/5 * * * *', handler: 'sla.sweep' },
      { cron: '0 7 * * *', handler: 'health.check' },
      { cron: '0 0 * * *', handler: 'other.daily' },
    ]);
  });
});
