/**
 * Catch-up a page at a time (sidecar/site/site.ts): each listed page's jobs go to the store in one
 * runner.enqueueMany, and the watermark moves only once the page is durable. A process killed
 * between a page's batch and its watermark lists that page again on the next start; the job ids
 * collapse it, so nothing is lost and nothing runs twice, and the ids are those the one-by-one
 * path makes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { createFrappeClient, type FrappeClient } from '../../lib/frappe/client.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { createEmbeddedStore, type EmbeddedJobStore } from '../../sidecar/jobs/embedded-store.js';
import { createRunner } from '../../sidecar/jobs/runner.js';
import { createMetrics } from '../../sidecar/metrics.js';
import { catchUp, type Version } from '../../sidecar/realtime/catchup.js';
import { jobId, jobsForVersion, jobsForVersions, type DocVersion } from '../../sidecar/realtime/dispatch.js';
import { SITE, adminClient, control, start, type Client } from '../helpers/emulator.js';

const DOCTYPE = 'CRM Deal';
const WM = `wm|${SITE}|${DOCTYPE}`;
const manifest = parseManifest({ app: 'crm_order_companion', realtime: { [DOCTYPE]: { list_update: ['test.first', 'test.second'] } } });
const logger = pino({ level: 'silent' });

let emu: RunningEmulator;
let frappe: FrappeClient;
let writer: Client;
const dirs: string[] = [];
const stores: EmbeddedJobStore[] = [];

beforeAll(async () => {
  emu = await start();
  writer = await adminClient(emu);
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'pages@example.com', roles: ['Sales Manager'], generate_keys: true });
  frappe = createFrappeClient({ site: SITE, baseUrl: emu.url, apiKey: () => u.api_key, apiSecret: () => u.api_secret });
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await emu.close();
});

async function openStore(dir: string): Promise<EmbeddedJobStore> {
  const store = await createEmbeddedStore({ dir });
  stores.push(store);
  return store;
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coc-catchup-'));
  dirs.push(dir);
  return dir;
}

const version = (v: Version): DocVersion => ({ site: SITE, doctype: DOCTYPE, name: v.name, modified: v.modified, source: 'catchup', heardAtMs: 0 });

function runnerOf(store: EmbeddedJobStore) {
  return createRunner({ store, logger, metrics: createMetrics(), handlers: {}, clientFor: () => undefined });
}

/** One pass as the Site runs it: a page's jobs in one enqueueMany, the watermark in the store's meta. */
function pagedPass(store: EmbeddedJobStore, afterBatch: (page: number, added: boolean[]) => Promise<void> = async () => {}) {
  const runner = runnerOf(store);
  let page = 0;
  return catchUp({
    site: SITE,
    doctype: DOCTYPE,
    client: frappe,
    logger,
    getWatermark: () => store.getMeta(WM),
    setWatermark: (m) => store.setMeta(WM, m),
    onPage: async (versions) => {
      const added = await runner.enqueueMany(jobsForVersions(manifest, versions.map(version)));
      await afterBatch(++page, added);
    },
    pageSize: 3,
  });
}

async function allJobIds(store: EmbeddedJobStore): Promise<string[]> {
  return (await store.list(undefined, 10_000)).map((j) => j.id).sort();
}

it('a crash between a page and its watermark loses nothing and duplicates nothing; the ids are the one-by-one ids', async () => {
  const dir = newDir();
  let store = await openStore(dir);
  await pagedPass(store); // first start: the watermark is the newest deal now
  const start = (await store.getMeta(WM))!;
  const deals: { name: string; modified: string }[] = [];
  for (let i = 0; i < 8; i++) deals.push((await writer.insert(DOCTYPE, { status: 'Qualification' })).body.data);
  const expected = deals.flatMap((d) => jobsForVersion(manifest, version(d)).map((j) => j.id)).sort();

  // Killed right after page 2's batch resolved, before its watermark was written.
  const crashed = pagedPass(store, async (page) => {
    if (page === 2) {
      await store.crashForTests();
      throw new Error('killed');
    }
  });
  await expect(crashed).rejects.toThrow('killed');

  store = await openStore(dir);
  // Page 1's watermark held; page 2's did not, so its jobs are on disk but listed again.
  expect(await allJobIds(store)).toEqual(deals.slice(0, 6).flatMap((d) => jobsForVersion(manifest, version(d)).map((j) => j.id)).sort());
  const answers: boolean[][] = [];
  const result = await pagedPass(store, async (_page, added) => void answers.push(added));
  expect(result.documents).toBe(5);
  // The re-listed page adds nothing; the last one adds its two deals' jobs.
  expect(answers).toEqual([Array(6).fill(false), Array(4).fill(true)]);
  expect(await allJobIds(store)).toEqual(expected);
  expect(JSON.parse((await store.getMeta(WM))!)).toEqual({ modified: deals[7].modified, name: deals[7].name });

  // The one-by-one path (runner.enqueue per job) from the same watermark makes exactly these ids.
  const other = await openStore(newDir());
  await other.setMeta(WM, start);
  const runner = runnerOf(other);
  await catchUp({
    site: SITE,
    doctype: DOCTYPE,
    client: frappe,
    logger,
    getWatermark: () => other.getMeta(WM),
    setWatermark: (m) => other.setMeta(WM, m),
    onVersion: async (name, modified) => {
      for (const job of jobsForVersion(manifest, version({ name, modified }))) await runner.enqueue(job);
    },
    pageSize: 3,
  });
  expect(await allJobIds(other)).toEqual(expected);
  expect(expected).toContain(jobId('test.first', version(deals[0])));
});

it('runner.enqueueMany gives each job the policy enqueue gives it: defaults, then the handler, then the spec', async () => {
  const store = await openStore(newDir());
  const runner = createRunner({
    store,
    logger,
    metrics: createMetrics(),
    handlers: {},
    clientFor: () => undefined,
    jobDefaults: { maxAttempts: 5, backoffMs: 50 },
    policies: { 'sla.notify': { maxAttempts: 12 } },
  });
  const data = { doctype: 'CRM Lead', name: 'L-1', subject: 'late' };
  const specs = [
    { id: 'p:default', name: 'order_history.rebuild' as const, site: SITE, data: { doctype: 'CRM Lead', name: 'L-1' } },
    { id: 'p:handler', name: 'sla.notify' as const, site: SITE, data },
    { id: 'p:spec', name: 'sla.notify' as const, site: SITE, data, maxAttempts: 2 },
  ];
  const one = await openStore(newDir());
  const oneRunner = createRunner({ store: one, logger, metrics: createMetrics(), handlers: {}, clientFor: () => undefined, jobDefaults: { maxAttempts: 5, backoffMs: 50 }, policies: { 'sla.notify': { maxAttempts: 12 } } });
  for (const s of specs) await oneRunner.enqueue(s);

  expect(await runner.enqueueMany(specs)).toEqual([true, true, true]);
  expect(await runner.enqueueMany([])).toEqual([]);
  const policy = async (s: EmbeddedJobStore, id: string) => {
    const job = await s.get(id);
    return { maxAttempts: job?.maxAttempts, backoffMs: job?.backoffMs };
  };
  expect(await policy(store, 'p:default')).toEqual({ maxAttempts: 5, backoffMs: 50 });
  expect(await policy(store, 'p:handler')).toEqual({ maxAttempts: 12, backoffMs: 50 });
  expect(await policy(store, 'p:spec')).toEqual({ maxAttempts: 2, backoffMs: 50 });
  for (const s of specs) expect(await policy(store, s.id)).toEqual(await policy(one, s.id));
});
