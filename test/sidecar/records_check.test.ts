/**
 * The sidecar's records check (sidecar/site/records_check.ts) against the emulator with the
 * product installed: one REST call per check; up to date right after `site install`, N out of date
 * when this release's files differ from what was installed, not installed where the install
 * state's DocType is not there, and the reason when the sidecar's user may not read it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientForSite, createFrappeClient, type FrappeClient } from '../../lib/frappe/client.js';
import { checkRecords } from '../../sidecar/site/records_check.js';
import { wantedFromPackage } from '../../sidecar/site/records_watch.js';
import { SITE, control } from '../helpers/emulator.js';
import { configFor, installedSite, type InstalledSite } from '../helpers/sidecar.js';

const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

let site: InstalledSite;
let companion: FrappeClient;

/** `client` with every call counted: each is one REST request when the site answers. */
function counted(client: FrappeClient): { client: FrappeClient; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(prop)} ${String(args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: proxy, calls };
}

beforeAll(async () => {
  site = await installedSite('UTC');
  companion = clientForSite(configFor(site).sites[0]!, { maxRetries: 0, backoffBaseMs: 1 });
}, 60_000);

afterAll(async () => {
  await site?.emu.close();
});

describe('records check', () => {
  it('right after site install: up to date, with the release that installed it, in one REST call', async () => {
    const wanted = wantedFromPackage();
    expect(wanted.version).toBe(VERSION);
    const { client, calls } = counted(companion);
    const view = await checkRecords(client, wanted);
    expect(view).toMatchObject({ state: 'up_to_date', outOfDate: 0, total: Object.keys(wanted.digests).length, productVersion: VERSION, installedVersion: VERSION, error: null });
    expect(view.total).toBeGreaterThan(10);
    expect(Date.parse(view.checkedAt!)).not.toBeNaN();
    expect(calls).toEqual(['getDoc Order Companion Settings']);
  });

  it('a release whose files differ (a changed record, a new one) finds those out of date', async () => {
    const wanted = wantedFromPackage();
    const [first] = Object.keys(wanted.digests);
    const newer = { version: '9.9.9', digests: { ...wanted.digests, [first!]: 'changed', 'Custom Field/CRM Lead-new_field': 'new' } };
    expect(await checkRecords(companion, newer)).toMatchObject({ state: 'out_of_date', outOfDate: 2, productVersion: '9.9.9', installedVersion: VERSION });
  });

  it('not installed where the install state DocType is missing; the reason when the user may not read it', async () => {
    const wanted = wantedFromPackage();
    // What Frappe answers for a DocType that does not exist (frappe/model/document.py `load_from_db`).
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'GET /api/resource/Order Companion Settings/', mode: 'error', status: 404 }] });
    try {
      expect(await checkRecords(companion, wanted)).toMatchObject({ state: 'not_installed', outOfDate: Object.keys(wanted.digests).length, installedVersion: null });
    } finally {
      await control(site.emu, '/faults', undefined, 'DELETE');
    }
    const clerk = await control(site.emu, `/sites/${SITE}/users`, { email: 'clerk@example.com', roles: ['Sales User'], generate_keys: true });
    const other = createFrappeClient({ site: SITE, baseUrl: site.emu.url, apiKey: () => String(clerk.api_key), apiSecret: () => String(clerk.api_secret), maxRetries: 0 });
    const refused = await checkRecords(other, wanted);
    expect(refused.state).toBe('unknown');
    expect(refused.error).toMatch(/may not read Order Companion Settings/);
  });
});
