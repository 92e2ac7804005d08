/**
 * Two sidecars in Redis (BullMQ) mode against one site: both hear every realtime event and both
 * run the scheduler, yet every document version and every cron tick becomes one job, run once.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createBullmqStore } from '../../sidecar/jobs/bullmq-store.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { startSidecar, type Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { localConfig } from '../helpers/config.js';
import { SITE, client, control } from '../helpers/emulator.js';

const REDIS = 'redis://127.0.0.1:6379';
let emu: RunningEmulator;
const prefix = `coc-test-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
});

afterAll(async () => {
  await emu.close();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

it('every job and every cron tick runs once across two replicas', async () => {
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'replica@example.com', roles: ['Sales Manager'], generate_keys: true });
  const runs: string[] = [];
  let notify: () => void = () => undefined;
  const config = () => localConfig({ name: SITE, url: emu.url, key: u.api_key, secret: u.api_secret }, { redisUrl: REDIS });
  const replicas: Sidecar[] = [];
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startSidecar({
        config: config(),
        store: await createBullmqStore({ connection: REDIS, prefix, workerId: `replica-${i}` }),
        manifest: parseManifest({ app: 'crm_order_companion', realtime: { 'CRM Lead': { list_update: ['test.count'] } }, scheduler: { cron: { '*/5 * * * *': ['test.tick'] } } }),
        handlers: {
          'test.count': async ({ job }) => {
            runs.push(String(job.data.name));
            notify();
          },
          'test.tick': async ({ job }) => {
            runs.push(`tick:${job.data.slot}`);
            notify();
          },
        },
        logger: pino({ level: 'warn' }),
        http: false,
        reconnectBaseMs: 20,
      }),
    );
  }
  try {
    // Both replicas in the CRM Lead room.
    for (;;) {
      const views: { rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${SITE}`, undefined, 'GET');
      if (views.filter((v) => v.pending === 0 && v.rooms.includes('doctype:CRM Lead')).length === 2) break;
      await new Promise((r) => setImmediate(r));
    }
    const writer = client(emu, { site: SITE, token: { key: u.api_key, secret: u.api_secret } });
    const names: string[] = [];
    for (let i = 0; i < 20; i++) names.push((await writer.insert('CRM Lead', { first_name: `Replica ${i}` })).body.data.name);

    // The same tick, fired by both replicas' timers.
    const tick = new Date('2026-05-01T10:05:00.123Z');
    for (const r of replicas) await r.store.enqueue(tickJob('test.tick', SITE, tick, 'UTC'));

    await new Promise<void>((resolve) => {
      notify = () => {
        if (names.every((n) => runs.includes(n)) && runs.some((r) => r.startsWith('tick:'))) resolve();
      };
      notify();
    });
    // Let both replicas finish anything still queued, then count.
    for (const r of replicas) {
      for (;;) {
        const c = await r.store.counts();
        if (c.waiting === 0 && c.active === 0) break;
        await new Promise((res) => setImmediate(res));
      }
    }
    for (const n of names) expect(runs.filter((r) => r === n)).toHaveLength(1);
    // Each tick slot once. The replicas' own schedulers run too, so a real five-minute boundary
    // during the test adds its slot — once, like the injected one.
    const ticks = runs.filter((r) => r.startsWith('tick:'));
    expect(ticks).toContain('tick:2026-05-01T10:05:00.000Z');
    expect(ticks).toEqual([...new Set(ticks)]);
  } finally {
    for (const r of replicas) await r.stop(2000);
  }
}, 30_000);
