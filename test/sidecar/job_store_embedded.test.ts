import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedStore, JobStoreLockedError, type EmbeddedJobStore } from '../../sidecar/jobs/embedded-store.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import { markStalled } from '../../sidecar/jobs/stall.js';
import { deferred, describeJobStore, Recorder, spec } from './job_store.conformance.js';

describeJobStore('embedded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coc-jobs-'));
  return {
    open: () => createEmbeddedStore({ dir }),
    now: Date.now,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('embedded job store', () => {
  let dir: string;
  let opened: EmbeddedJobStore[];
  /** A clock the test moves by hand. */
  let clock: number;
  const now = () => clock;

  async function open(opts: { fakeClock?: boolean } = {}): Promise<EmbeddedJobStore> {
    const store = await createEmbeddedStore({ dir, ...(opts.fakeClock ? { now } : {}) });
    opened.push(store);
    return store;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coc-jobs-'));
    opened = [];
    clock = 1_700_000_000_000;
  });

  afterEach(async () => {
    for (const store of opened) await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job again after the process died mid-run, and completes it once', async () => {
    const first = await open();
    const started = deferred();
    const neverFinishes = deferred();
    await first.start({
      ok: async () => {
        started.resolve();
        await neverFinishes.promise;
      },
    });
    await first.enqueue(spec('crash:1'));
    await started.promise;
    expect((await first.get('crash:1'))?.state).toBe('active');
    await first.crashForTests();

    const second = await open();
    // Recovered on open: back to waiting at once, and the interrupted try still counts.
    expect(await second.get('crash:1')).toMatchObject({ state: 'waiting', attempts: 1 });
    const counts = (c: Partial<Record<string, number>>) => ({ rows: [{ site: 'test.localhost', name: 'ok', counts: { waiting: 0, active: 0, completed: 0, failed: 0, ...c } }], exact: true });
    expect(await second.countsBy()).toEqual(counts({ waiting: 1 }));
    const rec = new Recorder();
    let runs = 0;
    await second.start(
      {
        ok: async (_job, ctx) => {
          runs += 1;
          expect(ctx.attempt).toBe(2);
        },
      },
      {},
      rec.events,
    );
    await rec.waitForDone('crash:1');
    // The abandoned handler finishing late must not write anything.
    neverFinishes.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    expect(rec.outcomes('crash:1')).toEqual(['completed']);
    expect(await second.get('crash:1')).toMatchObject({ state: 'completed', attempts: 2 });
    expect(await second.countsBy()).toEqual(counts({ completed: 1 }));
  });

  it('an enqueueMany refused for data that cannot be stored leaves none of its ids taken', async () => {
    const store = await open();
    const good = spec('batch:1');
    await expect(store.enqueueMany([good, { ...spec('batch:2'), data: { amount: 10n } }])).rejects.toThrow(/BigInt/);
    expect(await store.counts()).toMatchObject({ waiting: 0 });
    expect(await store.get('batch:1')).toBeNull();
    // The same job offered again, fixed, is taken.
    expect(await store.enqueueMany([good, spec('batch:2')])).toEqual([true, true]);
  });

  it('enqueueMany is durable once it resolves: every job of the batch is there after a crash, and only once', async () => {
    const first = await open();
    const ids = Array.from({ length: 500 }, (_, i) => `page:${i}`);
    expect((await first.enqueueMany(ids.map((id) => spec(id)))).every(Boolean)).toBe(true);
    // Killed right after the batch resolved: nothing closes or flushes anything more.
    await first.crashForTests();

    const second = await open();
    expect((await second.counts()).waiting).toBe(ids.length);
    expect(await second.get('page:499')).toMatchObject({ state: 'waiting', attempts: 0, data: { id: 'page:499' } });
    // The same page listed again after the restart adds nothing.
    expect((await second.enqueueMany(ids.map((id) => spec(id)))).some(Boolean)).toBe(false);
    const rec = new Recorder();
    const order: string[] = [];
    await second.start({ ok: async (job) => void order.push(job.id) }, { concurrency: 1 }, rec.events);
    await rec.waitFor(() => rec.done() === ids.length, 'the whole batch to run');
    // Picked in the batch's order, as one enqueue after another would be.
    expect(order).toEqual(ids);
  });

  it('dead-letters on open a job that died during its last allowed attempt', async () => {
    const first = await open();
    const started = deferred();
    await first.start({
      ok: async () => {
        started.resolve();
        await new Promise(() => {});
      },
    });
    await first.enqueue(spec('crash:last', 'ok', { maxAttempts: 1 }));
    await started.promise;
    await first.crashForTests();

    const second = await open();
    const job = await second.get('crash:last');
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job?.lastError).toMatch(/Interrupted/);
  });

  it('refuses to open a directory another store holds, naming the directory', async () => {
    await open();
    const attempt = createEmbeddedStore({ dir });
    await expect(attempt).rejects.toBeInstanceOf(JobStoreLockedError);
    await expect(createEmbeddedStore({ dir })).rejects.toThrow(dir);
    await opened[0].close();
    // Once released, the directory opens again.
    await open();
  });

  it('keeps waiting jobs across reopen and lists same-millisecond jobs in creation order', async () => {
    const first = await open({ fakeClock: true });
    for (const id of ['a', 'b', 'c']) await first.enqueue(spec(id));
    await first.close();

    const second = await open({ fakeClock: true });
    expect((await second.list('waiting')).map((j) => j.id)).toEqual(['c', 'b', 'a']);
    await second.enqueue(spec('d'));
    expect((await second.list()).map((j) => j.id)).toEqual(['d', 'c', 'b', 'a']);
    const rec = new Recorder();
    const order: string[] = [];
    await second.start(
      {
        ok: async (job) => {
          order.push(job.id);
        },
      },
      { concurrency: 1 },
      rec.events,
    );
    await rec.waitFor(() => rec.done() === 4, 'all four jobs');
    // Same runAtMs: picked in creation order.
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('schedules by its injected clock: a future job waits until the clock reaches runAtMs', async () => {
    const store = await open({ fakeClock: true });
    const rec = new Recorder();
    await store.start({ ok: async () => {} }, {}, rec.events);
    await store.enqueue(spec('future', 'ok', { runAtMs: clock + 60_000 }));
    // Enqueue wakes the scheduler; the due tick runs, the future job is passed over.
    await store.enqueue(spec('tick:1'));
    await rec.waitForDone('tick:1');
    expect((await store.get('future'))?.state).toBe('waiting');

    clock += 60_000;
    await store.enqueue(spec('tick:2'));
    await rec.waitForDone('future');
    expect(await store.get('future')).toMatchObject({ state: 'completed', attempts: 1 });
  });

  it('computes retry delays from backoffMs on its clock', async () => {
    let random = 0.5;
    const store = await createEmbeddedStore({ dir, now, random: () => random });
    opened.push(store);
    const rec = new Recorder();
    await store.start(
      {
        flaky: async () => {
          throw new Error('flaky');
        },
      },
      {},
      rec.events,
    );
    await store.enqueue(spec('backoff:1', 'flaky', { backoffMs: 1000, maxAttempts: 3 }));
    await rec.waitFor(() => rec.finished.length === 1, 'the first failure');
    // Full jitter: half of backoffMs · 2^0.
    expect(rec.finished[0].job).toMatchObject({ state: 'waiting', runAtMs: clock + 500 });
    random = 0.999;
    clock += 500;
    await store.enqueue(spec('wake:1', 'none-needed'));
    await rec.waitFor(() => rec.outcomes('backoff:1').length === 2, 'the second failure');
    expect(rec.finished.find((f) => f.job.id === 'backoff:1' && f.job.attempts === 2)?.job.runAtMs).toBe(clock + 1998);
  });

  it('expires processed keys by its clock', async () => {
    const store = await open({ fakeClock: true });
    expect(await store.markProcessed('k', 1000)).toBe(true);
    clock += 999;
    expect(await store.markProcessed('k', 1000)).toBe(false);
    clock += 1;
    expect(await store.markProcessed('k', 1000)).toBe(true);
  });

  it('is what createJobStore builds for kind embedded', async () => {
    const store = await createJobStore({ kind: 'embedded', dir });
    try {
      expect(store.kind).toBe('embedded');
      expect(await store.enqueue(spec('x'))).toBe(true);
    } finally {
      await store.close();
    }
    const reopened = await open();
    expect((await reopened.get('x'))?.state).toBe('waiting');
  });

  it('a job stalled on a slow call frees its slot for the next one, up to maxStalled beyond the concurrency', async () => {
    const store = await open();
    const rec = new Recorder();
    const ids = ['a', 'b', 'c', 'd'];
    const started = new Map(ids.map((id) => [id, deferred()]));
    const gates = new Map(ids.map((id) => [id, deferred()]));
    const resume = new Map<string, () => void>();
    await store.start(
      {
        ok: async (job) => {
          // What the REST client does once a call has been outstanding for slowCallMs.
          if (job.id !== 'c') resume.set(job.id, markStalled());
          started.get(job.id)!.resolve();
          await gates.get(job.id)!.promise;
        },
      },
      { concurrency: 1, maxStalled: 2 },
      rec.events,
    );
    for (const id of ids) await store.enqueue(spec(id));
    // a and b are stalled and hold no slot, so c runs in the one slot.
    await Promise.all(['a', 'b', 'c'].map((id) => started.get(id)!.promise));
    // d waits: concurrency + maxStalled (3) jobs are running.
    expect((await store.get('d'))?.state).toBe('waiting');
    // a's call answers, so a holds the slot again: c finishing frees none for d.
    resume.get('a')!();
    gates.get('c')!.resolve();
    await rec.waitForDone('c');
    expect((await store.get('d'))?.state).toBe('waiting');
    gates.get('a')!.resolve();
    await started.get('d')!.promise;
    gates.get('b')!.resolve();
    gates.get('d')!.resolve();
    await rec.waitFor(() => rec.done() === 4, 'all four');
  });

  it('without maxStalled a stalled job keeps its slot', async () => {
    const store = await open();
    const rec = new Recorder();
    const gate = deferred();
    const first = deferred();
    await store.start(
      {
        ok: async () => {
          markStalled();
          first.resolve();
          await gate.promise;
        },
      },
      { concurrency: 1 },
      rec.events,
    );
    await store.enqueue(spec('a'));
    await store.enqueue(spec('b'));
    await first.promise;
    expect((await store.get('b'))?.state).toBe('waiting');
    gate.resolve();
    await rec.waitFor(() => rec.done() === 2, 'both');
  });
});
