/**
 * Two sidecars in Redis (BullMQ) mode against one site, each running the daily health check at
 * once under a different job id (two ticks, or a tick and a manual run): the site gets one set of
 * Notification Logs and one email, not two — the day's done key is checked under the site's lock,
 * which holds across replicas.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_HEALTH } from '../../lib/config/health.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import { createBullmqStore } from '../../sidecar/jobs/bullmq-store.js';
import type { JobRecord } from '../../sidecar/jobs/types.js';
import { startSidecar, type Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { captureLogs, configFor, installedSite, siteNow, type InstalledSite } from '../helpers/sidecar.js';

const REDIS = 'redis://127.0.0.1:6379';
const TZ = 'Asia/Kolkata';
const prefix = `coc-health-${randomUUID().slice(0, 8)}`;
let site: InstalledSite;

function ok(res: { status: number; body: any }): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

beforeAll(async () => {
  site = await installedSite(TZ, { seed: 'demo' });
  await setClock(site.emu, '2027-01-11T04:30:00Z');
});

afterAll(async () => {
  await site?.emu.close();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

it('two replicas running the check at once tell everyone once', async () => {
  for (let i = 0; i < 11; i++) ok(await site.rep.insert('CRM Lead', { first_name: `Replicated ${i}`, status: 'New', lead_owner: site.rep.user }));
  await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
  ok(await site.root.insert('CRM Lead', { first_name: 'Buyer', status: 'New', custom_customer: 'Acme Foods' }));
  const day = (await siteNow(site.emu)).slice(0, 10);
  for (let i = 0; i < 6; i++) ok(await site.root.insert('Sales Order', demoSalesOrder({ customer: 'Acme Foods', lines: [['CAKE-VAN', 1 + i]], date: day, docstatus: 1 })));

  const health = { ...DEFAULT_HEALTH, recipients: ['Administrator', site.rep.user], emailRecipients: ['ops@example.com'] };
  const replicas: Sidecar[] = [];
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startSidecar({
        config: { ...configFor(site), redisUrl: REDIS, health },
        store: await createBullmqStore({ connection: REDIS, prefix, workerId: `health-${i}` }),
        manifest: parseManifest({ app: 'crm_order_companion', scheduler: { daily: ['health.check'] } }),
        handlers: builtinHandlers,
        logger: captureLogs().logger,
        http: false,
        rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 5000 },
        jobDefaults: { maxAttempts: 3, backoffMs: 5 },
        reconnectBaseMs: 20,
      }),
    );
  }
  try {
    const jobs = [tickJob('health.check', SITE, new Date(Date.UTC(2031, 0, 1, 1, 30)), TZ), tickJob('health.check', SITE, new Date(Date.UTC(2031, 0, 1, 1, 31)), TZ)];
    await Promise.all(jobs.map((j, i) => replicas[i]!.store.enqueue(j)));
    // Either replica may run either job: wait on both replicas' job events.
    const done = async () => {
      const got = await Promise.all(jobs.map((j) => replicas[0]!.store.get(j.id)));
      if (got.some((j: JobRecord | null) => j?.state === 'failed')) throw new Error(`a health check failed: ${got.map((j) => j?.lastError).join('; ')}`);
      return got.every((j) => j?.state === 'completed');
    };
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const check = () =>
        void done().then(
          (yes) => {
            if (!yes || settled) return;
            settled = true;
            for (const r of replicas) r.events.off('job', check);
            resolve();
          },
          (err) => {
            settled = true;
            for (const r of replicas) r.events.off('job', check);
            reject(err);
          },
        );
      for (const r of replicas) r.events.on('job', check);
      check();
    });
    const notes = ok(await site.root.list('Notification Log', { filters: [['subject', 'like', `Health check of ${SITE} (${day})%`]], fields: ['for_user'], limit_page_length: 0 }));
    expect(notes).toHaveLength(4); // two findings, two recipients
    const mails = ok(await site.root.list('Communication', { filters: [['subject', 'like', `Order Companion health check of ${SITE} on ${day}%`]], fields: ['name'], limit_page_length: 0 }));
    expect(mails).toHaveLength(1);
  } finally {
    for (const r of replicas) await r.stop(2000);
  }
}, 30_000);
