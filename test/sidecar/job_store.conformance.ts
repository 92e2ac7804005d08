/**
 * One behaviour suite for every JobStore (bullmq's adapter-conformance idea): run it against a new
 * backend by passing a harness that opens stores on a fresh namespace. Tests wait for events or
 * conditions, never for fixed sleeps, and measure time only with the store's own clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrappeThrottledError, FrappeUnavailableError, isRetriable, PermanentError } from '../../lib/errors.js';
import type { JobContext, JobHandler, JobRecord, JobSpec, JobStore, JobStoreEvents } from '../../sidecar/jobs/types.js';
import { registerSecret } from '../../lib/log.js';

export interface StoreHarness {
  /** Open a store on this test's namespace; calling it again (after close) reopens the same data. */
  open(): Promise<JobStore>;
  /** The clock the store schedules by. */
  now(): number;
  /** Remove what the test created; called after every opened store is closed. */
  cleanup(): Promise<void>;
}

export type MakeHarness = () => StoreHarness | Promise<StoreHarness>;

// ── helpers ─────────────────────────────────────────────────────────────────

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Poll `cond` with short awaits until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await cond())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Finished {
  job: JobRecord;
  outcome: 'completed' | 'retried' | 'failed';
  error?: unknown;
}

/** Collects onJobFinished calls and lets a test wait for a condition on them, woken by each event. */
export class Recorder {
  readonly finished: Finished[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  readonly events: JobStoreEvents = {
    onJobFinished: (job, outcome, error) => {
      this.finished.push({ job, outcome, error });
      this.waiters = this.waiters.filter((w) => {
        if (!w.check()) return true;
        w.resolve();
        return false;
      });
    },
  };

  outcomes(id: string): string[] {
    return this.finished.filter((f) => f.job.id === id).map((f) => f.outcome);
  }

  /** Count of terminal outcomes (completed or failed). */
  done(): number {
    return this.finished.filter((f) => f.outcome !== 'retried').length;
  }

  waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${what}; finished so far: ${JSON.stringify(this.finished.map((f) => [f.job.id, f.outcome]))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ check, resolve: done });
    });
  }

  /** Wait until job `id` reached a terminal outcome `n` times (default once). */
  waitForDone(id: string, n = 1, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.outcomes(id).filter((o) => o !== 'retried').length >= n, `job ${id} to finish`, timeoutMs);
  }
}

export function spec(id: string, name = 'ok', extra: Partial<JobSpec> = {}): JobSpec {
  return { id, name, site: 'test.localhost', data: { id }, ...extra };
}

const ok: JobHandler = async () => {};
const permanent: JobHandler = async (job) => {
  throw new PermanentError(`cannot process ${job.id}`);
};

// ── the suite ───────────────────────────────────────────────────────────────

export function describeJobStore(name: string, makeHarness: MakeHarness): void {
  describe(`JobStore conformance: ${name}`, () => {
    let harness: StoreHarness;
    let opened: JobStore[];

    async function open(): Promise<JobStore> {
      const store = await harness.open();
      opened.push(store);
      return store;
    }

    beforeEach(async () => {
      harness = await makeHarness();
      opened = [];
    });

    afterEach(async () => {
      for (const store of opened) await store.close().catch(() => {});
      await harness.cleanup();
    });

    it('enqueue is idempotent by id, in every state', async () => {
      const store = await open();
      expect(await store.enqueue(spec('order:site:shop:1'))).toBe(true);
      expect(await store.enqueue(spec('order:site:shop:1', 'ok', { data: { other: true } }))).toBe(false);
      expect((await store.get('order:site:shop:1'))?.data).toEqual({ id: 'order:site:shop:1' });
      expect(await store.enqueue(spec('order:site:shop:2', 'bad'))).toBe(true);
      // An integer-looking id is as good as any other.
      expect(await store.enqueue(spec('1001'))).toBe(true);
      expect((await store.counts()).waiting).toBe(3);

      const rec = new Recorder();
      await store.start({ ok, bad: permanent }, { concurrency: 2 }, rec.events);
      await rec.waitFor(() => rec.done() === 3, 'three jobs to finish');

      expect(await store.enqueue(spec('order:site:shop:1'))).toBe(false);
      expect(await store.enqueue(spec('order:site:shop:2'))).toBe(false);
      expect(await store.enqueue(spec('1001'))).toBe(false);
      expect(await store.counts()).toEqual({ waiting: 0, active: 0, completed: 2, failed: 1 });
      expect((await store.get('1001'))?.state).toBe('completed');
      expect(await store.get('order:site:shop:404')).toBeNull();
    });

    it('enqueueMany adds a batch as one enqueue after another would: duplicates within it and known ids add nothing', async () => {
      const store = await open();
      expect(await store.enqueueMany([])).toEqual([]);
      expect(await store.enqueue(spec('batch:known'))).toBe(true);
      const later = harness.now() + 3_600_000;
      const answers = await store.enqueueMany([
        spec('batch:1'),
        spec('batch:known', 'ok', { data: { other: true } }),
        spec('batch:2', 'bad', { maxAttempts: 3, backoffMs: 20 }),
        spec('batch:1', 'ok', { data: { second: true } }),
        spec('7'),
        spec('batch:later', 'ok', { runAtMs: later }),
      ]);
      expect(answers).toEqual([true, false, true, false, true, true]);
      // The first of each id wins, and a known job keeps its own data.
      expect((await store.get('batch:1'))?.data).toEqual({ id: 'batch:1' });
      expect((await store.get('batch:known'))?.data).toEqual({ id: 'batch:known' });
      expect(await store.get('batch:2')).toMatchObject({ name: 'bad', state: 'waiting', maxAttempts: 3, backoffMs: 20, attempts: 0 });
      expect(await store.counts()).toEqual({ waiting: 5, active: 0, completed: 0, failed: 0 });

      const rec = new Recorder();
      const runs = new Map<string, number>();
      const count: JobHandler = async (job) => void runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await store.start({ ok: count, bad: permanent }, { concurrency: 3 }, rec.events);
      await rec.waitFor(() => rec.done() === 4, 'the four due jobs to finish');
      expect(Object.fromEntries(runs)).toEqual({ 'batch:known': 1, 'batch:1': 1, '7': 1 });
      expect(rec.outcomes('batch:2')).toEqual(['failed']);
      const waiting = await store.list('waiting');
      expect(waiting.map((j) => j.id)).toEqual(['batch:later']);
      expect(Math.abs(waiting[0].runAtMs - later)).toBeLessThan(50);

      // Against finished jobs too, and mixed with new ones.
      expect(await store.enqueueMany([spec('batch:1'), spec('batch:2'), spec('batch:3'), spec('batch:later')])).toEqual([false, false, true, false]);
      await rec.waitForDone('batch:3');
      expect(runs.get('batch:1')).toBe(1);
      expect(await store.counts()).toEqual({ waiting: 1, active: 0, completed: 4, failed: 1 });
    });

    it('enqueueMany of a large batch runs every job exactly once, also when enqueued again while they run', async () => {
      const store = await open();
      const ids = Array.from({ length: 300 }, (_, i) => `many:site:CRM Lead:${i}`);
      const runs = new Map<string, number>();
      const rec = new Recorder();
      await store.start({ ok: async (job) => void runs.set(job.id, (runs.get(job.id) ?? 0) + 1) }, { concurrency: 4 }, rec.events);
      const [first, again] = await Promise.all([store.enqueueMany(ids.map((id) => spec(id))), store.enqueueMany(ids.map((id) => spec(id)))]);
      // Two racing batches of the same ids: each id added by exactly one of them.
      ids.forEach((_, i) => expect([first[i], again[i]].filter(Boolean)).toHaveLength(1));
      await rec.waitFor(() => rec.done() === ids.length, 'every job to complete');
      expect((await store.enqueueMany(ids.map((id) => spec(id)))).every((a) => a === false)).toBe(true);
      expect(runs.size).toBe(ids.length);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(await store.counts()).toEqual({ waiting: 0, active: 0, completed: ids.length, failed: 0 });
    });

    it('enqueueMany rejects a spec without id or name before adding any', async () => {
      const store = await open();
      await expect(store.enqueueMany([spec('valid:1'), { ...spec('x'), id: '' }])).rejects.toThrow(/spec\.id/);
      await expect(store.enqueueMany([spec('valid:1'), spec('valid:2', '')])).rejects.toThrow(/spec\.name/);
      expect(await store.get('valid:1')).toBeNull();
      expect(await store.counts()).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
    });

    it('runs each job once, even when it is enqueued again while running', async () => {
      const store = await open();
      const runs = new Map<string, number>();
      const rec = new Recorder();
      const ids = Array.from({ length: 20 }, (_, i) => `job:site:k:${i}`);
      await store.start(
        {
          ok: async (job) => {
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            // Re-enqueue while active: must collapse into the running job.
            expect(await store.enqueue(spec(job.id))).toBe(false);
          },
        },
        { concurrency: 4 },
        rec.events,
      );
      for (const id of ids) await store.enqueue(spec(id));
      await rec.waitFor(() => rec.done() === ids.length, 'all jobs to complete');
      for (const id of ids) expect(await store.enqueue(spec(id))).toBe(false);
      // Nothing waiting or active means nothing can run again.
      expect(await store.counts()).toEqual({ waiting: 0, active: 0, completed: ids.length, failed: 0 });
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(runs.size).toBe(ids.length);
    });

    it('retries a RetriableError with backoff until it succeeds', async () => {
      const store = await open();
      const rec = new Recorder();
      const attempts: number[] = [];
      await store.start(
        {
          flaky: async (_job, ctx: JobContext) => {
            attempts.push(ctx.attempt);
            if (ctx.attempt < 3) throw new FrappeUnavailableError(`site down (try ${ctx.attempt})`);
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('flaky:1', 'flaky', { backoffMs: 20, maxAttempts: 5 }));
      await rec.waitForDone('flaky:1');

      expect(rec.outcomes('flaky:1')).toEqual(['retried', 'retried', 'completed']);
      expect(attempts).toEqual([1, 2, 3]);
      const retried = rec.finished.filter((f) => f.outcome === 'retried');
      expect(retried.every((f) => isRetriable(f.error) && f.job.state === 'waiting')).toBe(true);
      const job = await store.get('flaky:1');
      expect(job).toMatchObject({ state: 'completed', attempts: 3, maxAttempts: 5 });
      expect(job?.finishedAtMs).toBeGreaterThanOrEqual(job!.createdAtMs);
    });

    it('waits at least retryAfterMs before retrying a throttled job', async () => {
      const store = await open();
      const rec = new Recorder();
      let failedAt = 0;
      let retriedAt = 0;
      await store.start(
        {
          throttled: async (_job, ctx) => {
            if (ctx.attempt === 1) {
              failedAt = harness.now();
              throw new FrappeThrottledError('429', { retryAfterMs: 150 });
            }
            retriedAt = harness.now();
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('throttled:1', 'throttled', { backoffMs: 1 }));
      await rec.waitForDone('throttled:1');
      expect(rec.outcomes('throttled:1')).toEqual(['retried', 'completed']);
      // A lower bound by the store's clock: the delay is a floor, however slow the machine.
      expect(retriedAt - failedAt).toBeGreaterThanOrEqual(150);
    });

    it('dead-letters after maxAttempts, keeping the redacted last error', async () => {
      registerSecret('s3cr3t-token-value');
      const store = await open();
      const rec = new Recorder();
      await store.start(
        {
          broken: async () => {
            throw new Error('upstream echoed s3cr3t-token-value');
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('broken:1', 'broken', { backoffMs: 1, maxAttempts: 3 }));
      await rec.waitForDone('broken:1');

      expect(rec.outcomes('broken:1')).toEqual(['retried', 'retried', 'failed']);
      const job = await store.get('broken:1');
      expect(job).toMatchObject({ state: 'failed', attempts: 3, lastError: 'Error: upstream echoed [redacted]' });
      expect(job?.finishedAtMs).toBeDefined();
      expect((await store.list('failed')).map((j) => j.id)).toEqual(['broken:1']);
    });

    it('dead-letters a PermanentError at once', async () => {
      const store = await open();
      const rec = new Recorder();
      await store.start({ bad: permanent }, {}, rec.events);
      await store.enqueue(spec('bad:1', 'bad', { maxAttempts: 5, backoffMs: 1 }));
      await rec.waitForDone('bad:1');
      expect(rec.outcomes('bad:1')).toEqual(['failed']);
      expect(await store.get('bad:1')).toMatchObject({ state: 'failed', attempts: 1, lastError: 'PermanentError: cannot process bad:1' });
    });

    it('dead-letters a job whose name has no handler, saying so', async () => {
      const store = await open();
      const rec = new Recorder();
      await store.start({ ok }, {}, rec.events);
      await store.enqueue(spec('orphan:1', 'nobody.handles_this'));
      await rec.waitForDone('orphan:1');
      const job = await store.get('orphan:1');
      expect(job?.state).toBe('failed');
      expect(job?.lastError).toMatch(/No handler registered for job name "nobody\.handles_this"/);
    });

    it('retry() sends a dead letter back with fresh attempts, and it can then succeed', async () => {
      const store = await open();
      const rec = new Recorder();
      let broken = true;
      await store.start(
        {
          fixable: async (job) => {
            if (broken) throw new PermanentError(`bad input in ${job.id}`);
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('fix:1', 'fixable', { maxAttempts: 2 }));
      await rec.waitForDone('fix:1');
      expect((await store.get('fix:1'))?.state).toBe('failed');

      broken = false;
      expect(await store.retry('fix:1')).toBe(true);
      await rec.waitForDone('fix:1', 2);
      expect(rec.outcomes('fix:1')).toEqual(['failed', 'completed']);
      expect(await store.get('fix:1')).toMatchObject({ state: 'completed', attempts: 1 });
      expect(await store.retry('fix:1')).toBe(false);
      expect(await store.retry('fix:missing')).toBe(false);
    });

    it('counts, lists newest first and purges finished jobs', async () => {
      const store = await open();
      const rec = new Recorder();
      await store.start({ ok, bad: permanent }, { concurrency: 1 }, rec.events);
      for (const id of ['c:1', 'c:2', 'c:3']) await store.enqueue(spec(id));
      for (const id of ['f:1', 'f:2']) await store.enqueue(spec(id, 'bad'));
      const later = harness.now() + 3_600_000;
      await store.enqueue(spec('w:1', 'ok', { runAtMs: later }));
      await rec.waitFor(() => rec.done() === 5, 'five jobs to finish');

      expect(await store.counts()).toEqual({ waiting: 1, active: 0, completed: 3, failed: 2 });
      const completed = await store.list('completed');
      expect(completed.map((j) => j.id).sort()).toEqual(['c:1', 'c:2', 'c:3']);
      for (let i = 1; i < completed.length; i++) {
        expect(completed[i - 1].createdAtMs).toBeGreaterThanOrEqual(completed[i].createdAtMs);
      }
      expect(await store.list('completed', 2)).toHaveLength(2);
      const waiting = await store.list('waiting');
      expect(waiting.map((j) => j.id)).toEqual(['w:1']);
      expect(Math.abs(waiting[0].runAtMs - later)).toBeLessThan(50);
      expect(await store.list()).toHaveLength(6);

      expect(await store.purge('completed')).toBe(3);
      expect(await store.get('c:1')).toBeNull();
      expect(await store.counts()).toEqual({ waiting: 1, active: 0, completed: 0, failed: 2 });
      expect(await store.purge('failed')).toBe(2);
      expect(await store.purge('completed')).toBe(0);
      expect(await store.counts()).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0 });
      expect((await store.get('w:1'))?.state).toBe('waiting');
    });

    it('counts per site and handler as jobs move, through retry, purge and reopen, reading no job', async () => {
      let store = await open();
      const rec = new Recorder();
      let broken = true;
      const flaky: JobHandler = async (job) => {
        if (broken) throw new PermanentError(`bad input in ${job.id}`);
      };
      await store.start({ ok, flaky }, { concurrency: 2 }, rec.events);
      await store.enqueueMany([
        spec('a:1', 'ok', { site: 'a.localhost' }),
        spec('a:2', 'ok', { site: 'a.localhost' }),
        spec('a:3', 'flaky', { site: 'a.localhost' }),
        spec('b:1', 'flaky', { site: 'b.localhost' }),
        spec('b:2', 'flaky', { site: 'b.localhost' }),
      ]);
      await store.enqueue(spec('b:later', 'ok', { site: 'b.localhost', runAtMs: harness.now() + 3_600_000 }));
      // A duplicate adds nothing, so it counts nothing.
      await store.enqueue(spec('a:1', 'ok', { site: 'a.localhost' }));
      await rec.waitFor(() => rec.done() === 5, 'five jobs to finish');
      const row = (site: string, name: string, counts: Partial<Record<'waiting' | 'active' | 'completed' | 'failed', number>>) => ({
        site,
        name,
        counts: { waiting: 0, active: 0, completed: 0, failed: 0, ...counts },
      });
      expect(await store.countsBy()).toEqual({
        rows: [row('a.localhost', 'flaky', { failed: 1 }), row('a.localhost', 'ok', { completed: 2 }), row('b.localhost', 'flaky', { failed: 2 }), row('b.localhost', 'ok', { waiting: 1 })],
        exact: true,
      });

      broken = false;
      expect(await store.retry('b:1')).toBe(true);
      await rec.waitForDone('b:1', 2);
      expect((await store.countsBy()).rows.find((r) => r.site === 'b.localhost' && r.name === 'flaky')).toEqual(row('b.localhost', 'flaky', { completed: 1, failed: 1 }));

      expect(await store.purge('completed')).toBe(3);
      const afterPurge = {
        rows: [row('a.localhost', 'flaky', { failed: 1 }), row('b.localhost', 'flaky', { failed: 1 }), row('b.localhost', 'ok', { waiting: 1 })],
        exact: true,
      };
      expect(await store.countsBy()).toEqual(afterPurge);

      await store.close();
      store = await open();
      expect(await store.countsBy()).toEqual(afterPurge);
    });

    it('pages a state newest first, filtered by handler and site, each page after the cursor of the last', async () => {
      const store = await open();
      const specs = Array.from({ length: 7 }, (_, i) => spec(`p:${i}`, i % 2 ? 'odd' : 'even', { site: i < 5 ? 'a.localhost' : 'b.localhost', runAtMs: harness.now() + 3_600_000 }));
      for (const s of specs) await store.enqueue(s);
      const all: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page = await store.page({ state: 'waiting', limit: 3, after });
        all.push(...page.jobs.map((j) => j.id));
        after = page.next;
        pages += 1;
      } while (after !== null);
      expect(pages).toBe(3);
      expect([...all].sort()).toEqual(specs.map((s) => s.id).sort());
      expect(new Set(all).size).toBe(7);

      const even = await store.page({ state: 'waiting', limit: 2, name: 'even', sites: new Set(['a.localhost']) });
      expect(even.jobs).toHaveLength(2);
      expect(even.jobs.every((j) => j.name === 'even' && j.site === 'a.localhost')).toBe(true);
      const rest = await store.page({ state: 'waiting', limit: 2, name: 'even', sites: new Set(['a.localhost']), after: even.next });
      expect(rest.next).toBeNull();
      expect([...even.jobs, ...rest.jobs].map((j) => j.id).sort()).toEqual(['p:0', 'p:2', 'p:4']);
      expect(await store.page({ state: 'failed', limit: 5 })).toEqual({ jobs: [], next: null });
    });

    it('keeps meta values and processed keys across close and reopen', async () => {
      let store = await open();
      expect(await store.getMeta('watermark:site')).toBeNull();
      await store.setMeta('watermark:site', '2024-01-01 00:00:00');
      await store.setMeta('watermark:site', '2024-01-02 00:00:00');
      expect(await store.markProcessed('doc:CRM Lead:L-1:v1')).toBe(true);
      await store.close();

      store = await open();
      expect(await store.getMeta('watermark:site')).toBe('2024-01-02 00:00:00');
      expect(await store.markProcessed('doc:CRM Lead:L-1:v1')).toBe(false);
    });

    it('markProcessed dedupes, and lets an expired key be recorded again', async () => {
      const store = await open();
      expect(await store.markProcessed('doc:a')).toBe(true);
      expect(await store.markProcessed('doc:a')).toBe(false);
      expect(await store.markProcessed('doc:b')).toBe(true);
      const both = await Promise.all([store.markProcessed('doc:c'), store.markProcessed('doc:c')]);
      expect(both.sort()).toEqual([false, true]);

      expect(await store.markProcessed('doc:ttl', 40)).toBe(true);
      expect(await store.markProcessed('doc:ttl', 40)).toBe(false);
      // A false answer changes nothing, so polling until the TTL lapses is safe.
      await waitUntil(() => store.markProcessed('doc:ttl', 60_000), 'the processed key to expire', 5_000);
      expect(await store.markProcessed('doc:ttl', 60_000)).toBe(false);
    });

    it('remember/recall/forget: values in key order, null when absent, forgotten or lapsed', async () => {
      const store = await open();
      expect(await store.recall([])).toEqual([]);
      expect(await store.recall(['memo:a'])).toEqual([null]);
      await store.remember('memo:a', '{"customer":"C-1"}', 60_000);
      await store.remember('memo:b', 'two', 60_000);
      await store.remember('memo:b', 'second', 60_000);
      expect(await store.recall(['memo:b', 'memo:none', 'memo:a'])).toEqual(['second', null, '{"customer":"C-1"}']);
      await store.forget(['memo:a', 'memo:none']);
      expect(await store.recall(['memo:a', 'memo:b'])).toEqual([null, 'second']);

      await store.remember('memo:ttl', 'short', 40);
      // Polling only reads, so waiting for the lapse this way is safe.
      await waitUntil(async () => (await store.recall(['memo:ttl']))[0] === null, 'the remembered value to lapse', 5_000);
      expect(await store.recall(['memo:b'])).toEqual(['second']);
      // Meta and processed keys of the same name are other keyspaces.
      expect(await store.getMeta('memo:b')).toBeNull();
    });

    it('does not run a job before its runAtMs', async () => {
      const store = await open();
      const rec = new Recorder();
      const startedAt = new Map<string, number>();
      await store.start(
        {
          ok: async (job) => {
            startedAt.set(job.id, harness.now());
          },
        },
        {},
        rec.events,
      );
      const runAtMs = harness.now() + 200;
      await store.enqueue(spec('later:1', 'ok', { runAtMs }));
      await store.enqueue(spec('now:1'));
      await rec.waitForDone('later:1');
      expect(rec.finished.map((f) => f.job.id)).toEqual(['now:1', 'later:1']);
      expect(startedAt.get('later:1')).toBeGreaterThanOrEqual(runAtMs);
    });

    it('never runs more jobs at once than the concurrency limit', async () => {
      const store = await open();
      const rec = new Recorder();
      const gate = deferred();
      let inFlight = 0;
      let maxInFlight = 0;
      await store.start(
        {
          ok: async () => {
            inFlight += 1;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await gate.promise;
            await new Promise((resolve) => setImmediate(resolve));
            inFlight -= 1;
          },
        },
        { concurrency: 3 },
        rec.events,
      );
      for (let i = 0; i < 12; i++) await store.enqueue(spec(`cc:${i}`));
      // Hold the first wave until the limit is reached, so the maximum is known to be tested.
      await waitUntil(() => inFlight >= 3, 'three jobs in flight');
      expect((await store.counts()).active).toBe(3);
      gate.resolve();
      await rec.waitFor(() => rec.done() === 12, 'all twelve jobs to complete');
      expect(maxInFlight).toBe(3);
    });

    it('stop() waits for running jobs that finish before the deadline', async () => {
      const store = await open();
      const rec = new Recorder();
      const gate = deferred();
      let started = false;
      await store.start(
        {
          ok: async () => {
            started = true;
            await gate.promise;
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('graceful:1'));
      await waitUntil(() => started, 'the job to start');
      const stopping = store.stop(10_000);
      gate.resolve();
      await stopping;
      expect(rec.outcomes('graceful:1')).toEqual(['completed']);
      expect((await store.get('graceful:1'))?.state).toBe('completed');
    });

    it('stop() past its deadline aborts running handlers and hands their jobs back, not as a failure', async () => {
      const store = await open();
      const rec = new Recorder();
      let aborted = false;
      let started = false;
      await store.start(
        {
          slow: async (_job, ctx) => {
            started = true;
            await new Promise<void>((_resolve, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = true;
                reject(ctx.signal.reason);
              });
            });
          },
        },
        {},
        rec.events,
      );
      await store.enqueue(spec('slow:1', 'slow'));
      await waitUntil(() => started, 'the job to start');
      await store.stop(50);
      expect(aborted).toBe(true);
      expect(rec.finished).toEqual([]);
      expect((await store.get('slow:1'))?.state).toBe('waiting');
      const slowCounts = async () => (await store.countsBy()).rows.find((r) => r.name === 'slow')?.counts;
      // Handed back: counted waiting again, no longer active.
      expect(await slowCounts()).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0 });

      await store.start({ slow: ok }, {}, rec.events);
      await rec.waitForDone('slow:1');
      expect(rec.outcomes('slow:1')).toEqual(['completed']);
      expect(await slowCounts()).toEqual({ waiting: 0, active: 0, completed: 1, failed: 0 });
    });

    it('withLock runs holders of one key one at a time, other keys freely, and releases after a throw', async () => {
      const store = await open();
      let inFlight = 0;
      let maxInFlight = 0;
      const order: string[] = [];
      const gate = deferred<void>();
      const hold = (label: string, wait?: Promise<void>) =>
        store.withLock('lead|CRM-LEAD-1', 5_000, async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          order.push(label);
          if (wait) await wait;
          inFlight -= 1;
        });
      const first = hold('first', gate.promise);
      const second = hold('second');
      // Another key is not blocked by the held one.
      await store.withLock('lead|CRM-LEAD-2', 5_000, async () => void order.push('other'));
      gate.resolve();
      await Promise.all([first, second]);
      expect(maxInFlight).toBe(1);
      expect(order.indexOf('first')).toBeLessThan(order.indexOf('second'));
      await expect(store.withLock('lead|CRM-LEAD-1', 5_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await store.withLock('lead|CRM-LEAD-1', 5_000, async () => 'free again')).toBe('free again');
    });
  });
}
