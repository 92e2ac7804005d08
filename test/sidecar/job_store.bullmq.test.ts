/**
 * The BullMQ store against the real Redis on 127.0.0.1:6379. Every test gets its own key prefix
 * and deletes every key under it afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createBullmqStore, type BullmqJobStore, type BullmqStoreOptions } from '../../sidecar/jobs/bullmq-store.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import { deferred, describeJobStore, Recorder, spec, waitUntil } from './job_store.conformance.js';
import { connection, deletePrefix, newPrefix } from '../helpers/redis.js';

describeJobStore('bullmq', () => {
  const prefix = newPrefix();
  return {
    open: () => createBullmqStore({ connection, prefix }),
    now: Date.now,
    cleanup: () => deletePrefix(prefix),
  };
});

describe('bullmq job store', () => {
  let prefix: string;
  let opened: BullmqJobStore[];

  async function open(opts: Partial<BullmqStoreOptions> = {}): Promise<BullmqJobStore> {
    const store = await createBullmqStore({ connection, prefix, ...opts });
    opened.push(store);
    return store;
  }

  beforeEach(() => {
    prefix = newPrefix();
    opened = [];
  });

  afterEach(async () => {
    for (const store of opened) await store.close().catch(() => {});
    await deletePrefix(prefix);
  });

  it('two workers on one queue run each of 50 jobs exactly once', async () => {
    const a = await open({ workerId: 'a' });
    const b = await open({ workerId: 'b' });
    const runs = new Map<string, number>();
    const handler = async (job: { id: string }) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await new Promise((resolve) => setImmediate(resolve));
    };
    const recA = new Recorder();
    const recB = new Recorder();
    await a.start({ ok: handler }, { concurrency: 4 }, recA.events);
    await b.start({ ok: handler }, { concurrency: 4 }, recB.events);
    const ids = Array.from({ length: 50 }, (_, i) => `order:site:shop:${i}`);
    // Both replicas enqueue every id, as two sidecars reacting to the same event would.
    const added = await Promise.all(ids.flatMap((id) => [a.enqueue(spec(id)), b.enqueue(spec(id))]));
    expect(added.filter(Boolean)).toHaveLength(50);
    await waitUntil(() => recA.done() + recB.done() === 50, 'fifty completions');
    expect(await a.counts()).toEqual({ waiting: 0, active: 0, completed: 50, failed: 0 });
    expect(runs.size).toBe(50);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('a job whose worker died mid-run is taken over by another worker and completed once', async () => {
    const fast = { stalledIntervalMs: 300 };
    const dying = await open({ ...fast, workerId: 'dying' });
    const started = deferred();
    const abandoned = deferred();
    await dying.start(
      {
        ok: async () => {
          started.resolve();
          await abandoned.promise;
        },
      },
      { leaseMs: 1000 },
    );
    await dying.enqueue(spec('takeover:1'));
    await started.promise;
    await dying.crashForTests();

    const survivor = await open({ ...fast, workerId: 'survivor' });
    const rec = new Recorder();
    let runs = 0;
    await survivor.start(
      {
        ok: async (_job, ctx) => {
          runs += 1;
          expect(ctx.attempt).toBe(2);
        },
      },
      { leaseMs: 1000 },
      rec.events,
    );
    await rec.waitForDone('takeover:1', 1, 15_000);
    // The abandoned handler returning late cannot complete the job a second time.
    abandoned.resolve();
    expect(runs).toBe(1);
    expect(rec.outcomes('takeover:1')).toEqual(['completed']);
    expect(await survivor.get('takeover:1')).toMatchObject({ state: 'completed', attempts: 2 });
    // The survivor's stalled check moved it back, and its counters follow (that bump comes from the
    // 'stalled' event, apart from the run's own).
    const settled = JSON.stringify({ rows: [{ site: 'test.localhost', name: 'ok', counts: { waiting: 0, active: 0, completed: 1, failed: 0 } }], exact: true });
    await waitUntil(async () => JSON.stringify(await survivor.countsBy()) === settled, 'the counters to settle');
  });

  it('counters that keep disagreeing with the queue for a minute are recounted; a passing disagreement is not', async () => {
    let clock = Date.now();
    const store = await open({ now: () => clock });
    await store.enqueueMany([spec('d:1', 'ok', { site: 'a.localhost' }), spec('d:2', 'ok', { site: 'a.localhost' })]);
    // A replica killed between BullMQ's move and its counter bump: one job counted twice.
    const raw = new Queue('jobs', { connection, prefix, skipMetasUpdate: true });
    await ((await raw.client) as unknown as { hincrby(k: string, f: string, by: number): Promise<number> }).hincrby(`${prefix}:counts:jobs`, JSON.stringify(['waiting', 'a.localhost', 'ok']), 1);
    await raw.close();
    const waitingOk = async () => (await store.countsBy()).rows[0]?.counts.waiting;
    expect(await store.countsBy()).toMatchObject({ exact: false });
    clock += 30_000;
    expect(await waitingOk()).toBe(3);
    clock += 31_000;
    // The same disagreement a minute on: a recount starts, and the counts come right.
    expect((await store.countsBy()).exact).toBe(false);
    await waitUntil(async () => (await store.countsBy()).exact, 'the recount');
    expect(await waitingOk()).toBe(2);
  });

  it('counters that do not add up (lost, or kept by no earlier version) are recounted from the queue on open', async () => {
    const first = await open();
    await first.enqueueMany([spec('n:1', 'ok', { site: 'a.localhost' }), spec('n:2', 'other', { site: 'b.localhost' })]);
    const raw = new Queue('jobs', { connection, prefix, skipMetasUpdate: true });
    await (await raw.client).del(`${prefix}:counts:jobs`);
    await raw.close();
    expect(await first.countsBy()).toEqual({ rows: [], exact: false });

    const reopened = await open();
    expect((await reopened.countsBy()).rows.map((r) => [r.site, r.name, r.counts.waiting])).toEqual([
      ['a.localhost', 'ok', 1],
      ['b.localhost', 'other', 1],
    ]);
  });

  it('accepts a redis:// URL through createJobStore, with the prefix it is given', async () => {
    const store = await createJobStore({ kind: 'bullmq', redisUrl: 'redis://127.0.0.1:6379/0', prefix });
    try {
      expect(store.kind).toBe('bullmq');
      await store.setMeta('k', 'v');
      expect(await (await open()).getMeta('k')).toBe('v');
    } finally {
      await store.close();
    }
  });
});
