/**
 * The SLA counts' bookkeeping (sidecar/handlers/sla_stats.ts) on both job stores — the embedded one
 * and BullMQ on the real Redis at 127.0.0.1:6379 — through the handlers' meta and lock only: a sweep
 * job is counted once even when it is recorded again on the next site day, the ring of day records
 * reuses a slot after STATS_DAYS days, the week starts on Monday, and two replicas recording at
 * once under the site's lock lose neither sweep.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STATS_DAYS, SweepTally, dayKey, readSlaStats, recordSweep, type SweepRecord } from '../../sidecar/handlers/sla_stats.js';
import { handlerMeta } from '../../sidecar/jobs/handler.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import type { JobStore } from '../../sidecar/jobs/types.js';
import { deletePrefix, newPrefix } from '../helpers/redis.js';

const SITE = 'stats.localhost';
const TZ = 'Europe/Berlin';

/** A sweep at `cutoff` (the site's wall clock, Berlin) that failed `failed` CRM Leads of `owner`. */
function sweepAt(job: string, cutoff: string, failed: number, owner = 'ann@example.com'): SweepRecord {
  const tally = new SweepTally();
  tally.add('swept', 'CRM Lead', [owner], failed);
  tally.add('failed', 'CRM Lead', [owner], failed);
  tally.add('notified', 'CRM Lead', [owner], failed);
  // The site's clock and the sidecar's agree here: the instant of `cutoff` in Berlin (UTC+1 in winter).
  const at = Date.parse(`${cutoff.replace(' ', 'T')}+01:00`);
  return { job, startedAtMs: at, finishedAtMs: at + 1500, siteAtMs: at, cutoff, timeZone: TZ, tally, errors: 0 };
}

const record = (store: JobStore, r: SweepRecord) => store.withLock(`${SITE}|sla.stats`, 5000, () => recordSweep(handlerMeta(store), SITE, r));
const read = (store: JobStore, nowCutoff: string) => readSlaStats((k) => store.getMeta(k), SITE, Date.parse(`${nowCutoff.replace(' ', 'T')}+01:00`), null);

const kinds: { kind: string; open: () => Promise<{ stores: [JobStore, JobStore]; cleanup: () => Promise<void> }> }[] = [
  {
    kind: 'embedded',
    open: async () => {
      // One process owns an embedded store's directory: the second "replica" is the same store.
      const store = await createJobStore({ kind: 'embedded', dir: mkdtempSync(join(tmpdir(), 'coc-sla-stats-')) });
      return { stores: [store, store], cleanup: () => store.close() };
    },
  },
  {
    kind: 'bullmq',
    open: async () => {
      const prefix = newPrefix();
      const open = () => createJobStore({ kind: 'bullmq', redisUrl: 'redis://127.0.0.1:6379', prefix });
      const stores: [JobStore, JobStore] = [await open(), await open()];
      return {
        stores,
        cleanup: async () => {
          for (const s of stores) await s.close();
          await deletePrefix(prefix);
        },
      };
    },
  },
];

for (const { kind, open } of kinds) {
  describe(`SLA counts in the ${kind} store`, () => {
    let cleanup: (() => Promise<void>) | null = null;
    afterEach(async () => {
      await cleanup?.();
      cleanup = null;
    });

    it('counts a sweep job once, even recorded again after the site day turned', async () => {
      const h = await open();
      cleanup = h.cleanup;
      const [store] = h.stores;
      expect(await record(store, sweepAt('cron|sla.sweep|a|1', '2026-01-07 23:58:00', 3))).toBe(true);
      // The same job again, now past midnight (a re-run after its process died): not counted.
      expect(await record(store, sweepAt('cron|sla.sweep|a|1', '2026-01-08 00:03:00', 3))).toBe(false);
      expect(await record(store, sweepAt('cron|sla.sweep|a|2', '2026-01-08 00:05:00', 2, 'bob@example.com'))).toBe(true);
      const s = await read(store, '2026-01-08 09:00:00');
      expect(s.timeZone).toBe(TZ);
      expect(s.today).toMatchObject({ from: '2026-01-08', sweeps: 1, totals: { swept: 2, failed: 2, notified: 2 } });
      expect(s.today.byOwner).toEqual({ 'bob@example.com': { swept: 2, failed: 2, notified: 2 } });
      // Thursday 2026-01-08: the week is Monday 5th to today.
      expect(s.week).toMatchObject({ from: '2026-01-05', to: '2026-01-08', sweeps: 2, totals: { failed: 5 } });
      expect(s.failuresPerDay.slice(-2)).toEqual([
        { day: '2026-01-07', failed: 3 },
        { day: '2026-01-08', failed: 2 },
      ]);
      expect(s.last).toMatchObject({ job: 'cron|sla.sweep|a|2', day: '2026-01-08', durationMs: 1500, cutoff: '2026-01-08 00:05:00' });
    });

    it(`keeps ${STATS_DAYS} days: a day ${STATS_DAYS} days later takes the slot of the old one`, async () => {
      const h = await open();
      cleanup = h.cleanup;
      const [store] = h.stores;
      await record(store, sweepAt('old', '2026-01-01 12:00:00', 7));
      // 35 days on: the same slot.
      await record(store, sweepAt('new', '2026-02-05 12:00:00', 1));
      const slots = await Promise.all(Array.from({ length: STATS_DAYS }, (_, i) => store.getMeta(dayKey(SITE, i))));
      const days = slots.filter((v): v is string => Boolean(v)).map((v) => (JSON.parse(v) as { day: string }).day);
      expect(days).toEqual(['2026-02-05']);
      const s = await read(store, '2026-02-05 13:00:00');
      expect(s.week.totals.failed).toBe(1);
      expect(s.failuresPerDay.reduce((a, d) => a + d.failed, 0)).toBe(1);
      // Days outside the window are not read into today's view even when still in the ring.
      const later = await read(store, '2026-03-20 13:00:00');
      expect(later.week.sweeps).toBe(0);
      expect(later.failuresPerDay.every((d) => d.failed === 0)).toBe(true);
    });

    it('two replicas recording sweeps of one site at once lose neither', async () => {
      const h = await open();
      cleanup = h.cleanup;
      const [a, b] = h.stores;
      const jobs = Array.from({ length: 6 }, (_, i) => sweepAt(`r-${i}`, '2026-01-08 10:00:00', 1, i % 2 ? 'bob@example.com' : 'ann@example.com'));
      const results = await Promise.all(jobs.map((r, i) => record(i % 2 ? b : a, r)));
      expect(results).toEqual(jobs.map(() => true));
      const s = await read(a, '2026-01-08 11:00:00');
      expect(s.today.sweeps).toBe(6);
      expect(s.today.byOwner).toEqual({ 'ann@example.com': { swept: 3, failed: 3, notified: 3 }, 'bob@example.com': { swept: 3, failed: 3, notified: 3 } });
    });
  });
}
