/**
 * The embedded job store: one LevelDB directory under the data directory, one process.
 *
 * LevelDB is the truth; every state transition is one atomic batch written with `sync: true`, so a
 * power cut or SIGKILL loses nothing that was acknowledged. An in-memory index (rebuilt on open)
 * answers scheduling, counts and idempotency checks without reading the disk. Waiting and active
 * jobs keep their full record in memory (they are the working set); finished ones keep only what
 * `counts()`/`list()` need, so the index stays small while completed jobs pile up until purged.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ClassicLevel } from 'classic-level';
import { describeError, isPermanent, PermanentError } from '../../lib/errors.js';
import { redactSecrets } from '../../lib/log.js';
import { DueQueue } from './due_queue.js';
import { JobTally } from './tally.js';
import { runWithStallHook } from './stall.js';
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, retryDelayMs, raceAbort } from './backoff.js';
import type {
  JobCounts,
  JobHandler,
  JobPage,
  JobPageQuery,
  JobRecord,
  JobSpec,
  JobState,
  JobStore,
  JobStoreEvents,
  StartOptions,
} from './types.js';

export interface EmbeddedStoreOptions {
  /** Directory holding the LevelDB files. Only one process may open it at a time. */
  dir: string;
  /** Clock in epoch ms; tests inject one to move time without sleeping. @defaultValue Date.now */
  now?: () => number;
  /** Lease owner written on active jobs. @defaultValue `${hostname}:${pid}:${random}` */
  workerId?: string;
  /** Random source in [0, 1) for backoff jitter. @defaultValue Math.random */
  random?: () => number;
  /** Called with failures that have no caller to reject (a background write). @defaultValue ignore */
  onError?: (err: unknown) => void;
}

export interface EmbeddedJobStore extends JobStore {
  readonly kind: 'embedded';
  readonly dir: string;
  /**
   * Test-only: drop the LevelDB handle as a SIGKILL would, without finishing or releasing running
   * jobs, so a reopened store must recover them.
   */
  crashForTests(): Promise<void>;
}

/** Opening a directory another process (or another store in this one) already holds. */
export class JobStoreLockedError extends Error {
  readonly dir: string;
  constructor(dir: string, options?: { cause?: unknown }) {
    super(
      `Job store directory ${dir} is locked: another process (or store) has it open. ` +
        'Only one sidecar may use an embedded job store directory; use the BullMQ store to run several replicas.',
      options,
    );
    this.name = new.target.name;
    this.dir = dir;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_STOP_DEADLINE_MS = 10_000;
/** Longest single timer: re-checking now and then survives wall-clock jumps. */
const MAX_TIMER_MS = 60_000;

const JOB = 'job:';
const META = 'meta:';
const PROC = 'proc:';
const MEMO = 'memo:';
/** ';' sorts right after ':', so [prefix, prefix with ';') covers exactly one keyspace. */
const rangeOf = (prefix: string) => ({ gte: prefix, lt: prefix.slice(0, -1) + ';' });

/** What is on disk: the public record plus scheduling fields nobody outside needs. */
interface StoredJob extends JobRecord {
  /** Creation order, to break ties between jobs created in the same millisecond. */
  seq: number;
  leaseUntilMs?: number;
  leaseOwner?: string;
}

interface ProcessedMark {
  atMs: number;
  expiresAtMs?: number;
}

interface Remembered {
  value: string;
  expiresAtMs: number;
}

interface IndexEntry {
  state: JobState;
  site: string;
  name: string;
  createdAtMs: number;
  seq: number;
  /**
   * Present while waiting or active, and until a transition away from those is on disk. A waiting
   * job is held as its JSON bytes (see `packed`), a running one as the object its slot changes.
   */
  job?: StoredJob | Buffer;
}

/**
 * The record a waiting job is held as: its JSON in a Buffer, whose bytes live outside the V8 heap.
 * A backlog of thousands of webhook deliveries (each a few KB of order body) held as objects is
 * what every young-generation collection of the thread acknowledging webhooks had to copy and
 * every full one to trace — pauses that became the acknowledgement's tail (README "Benchmarks",
 * shop_webhooks). As bytes it costs one small object each; it is decoded when the job is picked.
 */
function packed(job: StoredJob): Buffer {
  return Buffer.from(JSON.stringify(job));
}

/** The record an entry holds, decoded if it is held as bytes (a fresh object then). */
function heldJob(entry: IndexEntry | undefined): StoredJob | undefined {
  const held = entry?.job;
  return Buffer.isBuffer(held) ? (JSON.parse(held.toString('utf8')) as StoredJob) : (held as StoredJob | undefined);
}

interface Slot {
  id: string;
  job: StoredJob;
  controller: AbortController;
  /** running → finishing (the outcome is being written) | released (stop() handed it back). */
  phase: 'running' | 'finishing' | 'released';
  done: Promise<void>;
  /** Slow calls the job is waiting on right now; above 0 it holds no concurrency slot. */
  stalls: number;
}

/** A put of a Buffer writes its bytes as they are: a record already held as JSON is not encoded twice. */
type BatchOp = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

function toPublic(job: StoredJob): JobRecord {
  const { seq: _seq, leaseUntilMs: _lease, leaseOwner: _owner, ...rest } = job;
  return structuredClone(rest);
}

/** An entry's record for a caller: a waiting one decoded from its bytes is already a copy of its own. */
function publicOf(entry: IndexEntry): JobRecord | undefined {
  const held = entry.job;
  if (!Buffer.isBuffer(held)) return held ? toPublic(held) : undefined;
  const { seq: _seq, leaseUntilMs: _lease, leaseOwner: _owner, ...rest } = heldJob(entry)!;
  return rest;
}

/** A page cursor of this store: "createdAtMs.seq" of the last job shown. */
function parseCursor(cursor: string | null | undefined): { createdAtMs: number; seq: number } | null {
  if (!cursor) return null;
  const m = /^(\d+)\.(\d+)$/.exec(cursor);
  if (!m) throw new Error(`page: "${cursor}" is not a cursor this store gave`);
  return { createdAtMs: Number(m[1]), seq: Number(m[2]) };
}

function isLockedError(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string; message?: string } } | null;
  return e?.cause?.code === 'LEVEL_LOCKED' || /lock/i.test(e?.cause?.message ?? '');
}

class EmbeddedStore implements EmbeddedJobStore {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  private readonly db: ClassicLevel<string, unknown>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly workerId: string;
  private readonly onError: (err: unknown) => void;

  private readonly index = new Map<string, IndexEntry>();
  /** Counts per (site, handler, state) of `index`: every change of it goes through setEntry/dropEntry/moveEntry. */
  private readonly tally = new JobTally();
  /** Ids of waiting jobs whose record is on disk: the only ones a worker may pick. */
  private readonly waiting = new DueQueue();
  private readonly inflight = new Map<string, Slot>();
  private nextSeq = 0;

  /** One chain for every read-modify-write, so transitions on disk happen in the order we decide them. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Batches waiting for the write in flight to finish: they go to disk together (group commit). */
  private pendingWrites: { ops: BatchOp[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;

  private handlers: Record<string, JobHandler> = {};
  private events: JobStoreEvents = {};
  private concurrency = DEFAULT_CONCURRENCY;
  private leaseMs = DEFAULT_LEASE_MS;
  private maxStalled = 0;
  /** Running jobs whose slot is free because they wait on a slow call (slot.stalls > 0). */
  private stalledSlots = 0;
  /** Jobs whose handler has returned and whose outcome is being written: they hold no slot either. */
  private finishingSlots = 0;
  private running = false;
  private stopping: Promise<void> | null = null;
  private closed = false;
  private crashed = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(db: ClassicLevel<string, unknown>, opts: EmbeddedStoreOptions) {
    this.db = db;
    this.dir = opts.dir;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.onError = opts.onError ?? (() => {});
  }

  /** Rebuild the index and hand back whatever a previous process left active. */
  async load(): Promise<void> {
    const t = this.now();
    const recover: BatchOp[] = [];
    for await (const [, value] of this.db.iterator(rangeOf(JOB))) {
      const job = value as StoredJob;
      this.nextSeq = Math.max(this.nextSeq, job.seq + 1);
      if (job.state === 'active') {
        // Whoever ran it is gone: this process holds the directory lock, so no lease can still be live.
        delete job.leaseUntilMs;
        delete job.leaseOwner;
        job.updatedAtMs = t;
        if (job.attempts >= job.maxAttempts) {
          // It died during its last allowed try; running it again would let a job that kills the
          // process crash-loop forever.
          job.state = 'failed';
          job.finishedAtMs = t;
          job.lastError = 'Interrupted: the process stopped during the last allowed attempt';
        } else {
          job.state = 'waiting';
          job.runAtMs = t;
        }
        recover.push({ type: 'put', key: JOB + job.id, value: job });
      }
      const entry: IndexEntry = { state: job.state, site: job.site, name: job.name, createdAtMs: job.createdAtMs, seq: job.seq };
      if (job.state === 'waiting') {
        entry.job = packed(job);
        this.waiting.add(job.id, job.runAtMs, job.seq);
      }
      this.setEntry(job.id, entry);
    }
    // Expired processed keys are dead weight; sweeping on open keeps the keyspace bounded.
    for await (const [key, value] of this.db.iterator(rangeOf(PROC))) {
      const mark = value as ProcessedMark;
      if (mark.expiresAtMs !== undefined && mark.expiresAtMs <= t) recover.push({ type: 'del', key });
    }
    for await (const [key, value] of this.db.iterator(rangeOf(MEMO))) {
      if ((value as Remembered).expiresAtMs <= t) recover.push({ type: 'del', key });
    }
    if (recover.length > 0) await this.write(recover);
  }

  // ── writes ────────────────────────────────────────────────────────────────

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(() => {
      if (this.crashed || this.closed) throw new Error(`Job store ${this.dir} is closed`);
      return work();
    });
    // A failed write must not wedge the ones queued after it.
    this.chain = next.catch(() => {});
    return next;
  }

  /**
   * Group commit: a batch asked for while another is being synced to disk waits for it, then goes
   * out with every other batch that waited, in one synced write. Each caller still resolves only
   * once its operations are on disk, in the order they were asked for, but a burst of webhook
   * deliveries and job transitions pays one fsync per round instead of one each — what queued
   * behind a slow fsync is what made the acknowledgement's tail.
   *
   * An idle store starts its flush one turn of the event loop later (setImmediate), not at once:
   * writes asked for by the same burst of callbacks (jobs finishing together, the next ones
   * starting) then share the first fsync too, instead of the first going out alone and the rest
   * waiting a whole round behind it.
   */
  private write(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingWrites.push({ ops, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flushWrites());
      }
    });
  }

  private async flushWrites(): Promise<void> {
    try {
      while (this.pendingWrites.length > 0) {
        const group = this.pendingWrites.splice(0);
        try {
          await this.serial(() => this.commit(group));
          for (const g of group) g.resolve();
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The operations of `group` in one synced, atomic write. A chained batch hands each operation to
   * LevelDB as it is added, at about half the CPU of an array batch (which copies and checks every
   * operation first): with thousands of job transitions a second, that is what the event loop pays.
   */
  private commit(group: readonly { ops: BatchOp[] }[]): Promise<void> {
    const batch = this.db.batch();
    try {
      for (const g of group) {
        for (const op of g.ops) {
          if (op.type !== 'put') batch.del(op.key);
          else if (Buffer.isBuffer(op.value)) batch.put(op.key, op.value, { valueEncoding: 'buffer' });
          else batch.put(op.key, op.value);
        }
      }
    } catch (err) {
      void batch.close().catch(() => {});
      throw err;
    }
    return batch.write({ sync: true });
  }

  private putJob(job: StoredJob): Promise<void> {
    return this.write([{ type: 'put', key: JOB + job.id, value: job }]);
  }

  private setEntry(id: string, entry: IndexEntry): void {
    const before = this.index.get(id);
    if (before) this.tally.add(before.site, before.name, before.state, -1);
    this.index.set(id, entry);
    this.tally.add(entry.site, entry.name, entry.state);
  }

  private dropEntry(id: string): void {
    const entry = this.index.get(id);
    if (!entry) return;
    this.index.delete(id);
    this.tally.add(entry.site, entry.name, entry.state, -1);
  }

  private moveEntry(entry: IndexEntry, state: JobState): void {
    this.tally.move(entry.site, entry.name, entry.state, state);
    entry.state = state;
  }

  private assertOpen(): void {
    if (this.closed || this.crashed) throw new Error(`Job store ${this.dir} is closed`);
  }

  // ── JobStore ──────────────────────────────────────────────────────────────

  private checkSpec(spec: JobSpec): void {
    if (typeof spec.id !== 'string' || spec.id === '') throw new Error('enqueue: spec.id must be a non-empty string');
    if (typeof spec.name !== 'string' || spec.name === '') throw new Error(`enqueue ${spec.id}: spec.name must be a non-empty string`);
  }

  /** A new waiting job for `spec`, its id claimed in the index (not yet durable, not yet pickable): its record's bytes, to write. */
  private claim(spec: JobSpec, t: number): { id: string; runAtMs: number; seq: number; bytes: Buffer } {
    const job: StoredJob = {
      id: spec.id,
      name: spec.name,
      site: spec.site,
      // Not cloned: the record is kept as its JSON bytes, already a copy.
      data: spec.data ?? {},
      state: 'waiting',
      attempts: 0,
      maxAttempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffMs: spec.backoffMs ?? DEFAULT_BACKOFF_MS,
      runAtMs: spec.runAtMs ?? t,
      createdAtMs: t,
      updatedAtMs: t,
      seq: this.nextSeq++,
    };
    const bytes = packed(job);
    this.setEntry(job.id, { state: 'waiting', site: job.site, name: job.name, createdAtMs: t, seq: job.seq, job: bytes });
    return { id: job.id, runAtMs: job.runAtMs, seq: job.seq, bytes };
  }

  async enqueue(spec: JobSpec): Promise<boolean> {
    this.assertOpen();
    this.checkSpec(spec);
    if (this.index.has(spec.id)) return false;
    // Claim the id before the first await so a concurrent enqueue of the same id sees it.
    const job = this.claim(spec, this.now());
    try {
      await this.write([{ type: 'put', key: JOB + job.id, value: job.bytes }]);
    } catch (err) {
      this.dropEntry(job.id);
      throw err;
    }
    // Only now may a worker pick it: a job must be durable before it runs.
    this.waiting.add(job.id, job.runAtMs, job.seq);
    this.wake();
    return true;
  }

  async enqueueMany(specs: readonly JobSpec[]): Promise<boolean[]> {
    this.assertOpen();
    for (const spec of specs) this.checkSpec(spec);
    const t = this.now();
    // Claimed in order before the write, so a later duplicate in `specs` (or a concurrent enqueue)
    // sees the id taken, exactly as one enqueue after another would.
    const jobs: ReturnType<EmbeddedStore['claim']>[] = [];
    let added: boolean[];
    try {
      added = specs.map((spec) => {
        if (this.index.has(spec.id)) return false;
        jobs.push(this.claim(spec, t));
        return true;
      });
    } catch (err) {
      // A spec whose data cannot be stored (not JSON): none of the batch is, as if its write had failed.
      for (const job of jobs) this.dropEntry(job.id);
      throw err;
    }
    if (jobs.length === 0) return added;
    try {
      // One batch, one synced write (group-committed with whatever else is waiting).
      await this.write(jobs.map((job) => ({ type: 'put', key: JOB + job.id, value: job.bytes })));
    } catch (err) {
      for (const job of jobs) this.dropEntry(job.id);
      throw err;
    }
    for (const job of jobs) this.waiting.add(job.id, job.runAtMs, job.seq);
    this.wake();
    return added;
  }

  async start(handlers: Record<string, JobHandler>, opts: StartOptions = {}, events: JobStoreEvents = {}): Promise<void> {
    this.assertOpen();
    if (this.running) throw new Error(`Job store ${this.dir} is already started`);
    if (this.stopping) await this.stopping;
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be an integer of at least 1');
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(leaseMs > 0)) throw new Error('leaseMs must be greater than 0');
    this.handlers = { ...handlers };
    this.events = events;
    this.concurrency = concurrency;
    this.leaseMs = leaseMs;
    const maxStalled = opts.maxStalled ?? 0;
    if (!Number.isInteger(maxStalled) || maxStalled < 0) throw new Error('maxStalled must be a whole number');
    this.maxStalled = maxStalled;
    this.running = true;
    this.wake();
  }

  stop(deadlineMs: number = DEFAULT_STOP_DEADLINE_MS): Promise<void> {
    if (this.stopping) return this.stopping;
    if (!this.running) return Promise.resolve();
    this.running = false;
    this.clearTimer();
    this.stopping = this.drain(deadlineMs).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async drain(deadlineMs: number): Promise<void> {
    const slots = [...this.inflight.values()];
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(slots.map((s) => s.done)),
      new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, Math.max(0, deadlineMs));
      }),
    ]);
    clearTimeout(deadline);
    const pending: Promise<unknown>[] = [];
    for (const slot of this.inflight.values()) {
      // A slot writing its outcome is nearly done; wait for it rather than fight over the record.
      pending.push(slot.phase === 'running' ? this.release(slot) : slot.done);
    }
    await Promise.allSettled(pending);
  }

  /** Hand a running job back to waiting after the stop deadline: an interruption, not a failure. */
  private async release(slot: Slot): Promise<void> {
    slot.phase = 'released';
    slot.controller.abort(new Error(`Job store ${this.dir} is stopping`));
    const job = slot.job;
    const t = this.now();
    job.state = 'waiting';
    job.runAtMs = t;
    job.updatedAtMs = t;
    // Handed back, not tried: the attempt does not count against maxAttempts (as with BullMQ).
    job.attempts = Math.max(0, job.attempts - 1);
    delete job.leaseUntilMs;
    delete job.leaseOwner;
    const entry = this.index.get(job.id);
    try {
      await this.putJob(job);
    } catch (err) {
      // The disk still says active, which the next open recovers the same way.
      this.onError(err);
    }
    this.dropSlot(slot);
    if (entry) {
      this.moveEntry(entry, 'waiting');
      entry.job = packed(job);
    }
    this.waiting.add(job.id, job.runAtMs, job.seq);
  }

  async get(id: string): Promise<JobRecord | null> {
    this.assertOpen();
    const entry = this.index.get(id);
    if (!entry) return null;
    const held = publicOf(entry);
    if (held) return held;
    const stored = (await this.db.get(JOB + id)) as StoredJob | undefined;
    return stored ? toPublic(stored) : null;
  }

  async list(state?: JobState, limit = 100): Promise<JobRecord[]> {
    this.assertOpen();
    const picked = [...this.index.entries()]
      .filter(([, e]) => state === undefined || e.state === state)
      .sort(([, a], [, b]) => b.createdAtMs - a.createdAtMs || b.seq - a.seq)
      .slice(0, Math.max(0, limit));
    return this.records(picked);
  }

  async counts(): Promise<Record<JobState, number>> {
    this.assertOpen();
    const counts: Record<JobState, number> = { waiting: 0, active: 0, completed: 0, failed: 0 };
    for (const e of this.index.values()) counts[e.state] += 1;
    return counts;
  }

  async countsBy(): Promise<JobCounts> {
    this.assertOpen();
    return { rows: this.tally.snapshot(), exact: true };
  }

  /**
   * The cursor is the last job's (createdAtMs, seq), so a page starts right after it whatever moved
   * meanwhile. The index is in memory: picking a page filters and sorts it without reading the
   * disk; only the page's finished records are read.
   */
  async page(query: JobPageQuery): Promise<JobPage> {
    this.assertOpen();
    const limit = Math.max(0, Math.floor(query.limit));
    const after = parseCursor(query.after);
    // One pass over the index collecting only the matches (not a copy of every entry), then the
    // matches sorted newest first. Still O(jobs in the index) per page: an index ordered by state
    // would make it O(page), at the cost of keeping it on every transition.
    const picked: [string, IndexEntry][] = [];
    for (const entry of this.index) {
      const e = entry[1];
      if (e.state !== query.state) continue;
      if (query.name !== undefined && e.name !== query.name) continue;
      if (query.sites !== undefined && !query.sites.has(e.site)) continue;
      if (after !== null && !(e.createdAtMs < after.createdAtMs || (e.createdAtMs === after.createdAtMs && e.seq < after.seq))) continue;
      picked.push(entry);
    }
    picked.sort(([, a], [, b]) => b.createdAtMs - a.createdAtMs || b.seq - a.seq);
    const shown = picked.slice(0, limit);
    const jobs = await this.records(shown);
    const last = shown[shown.length - 1]?.[1];
    return { jobs, next: last && picked.length > limit ? `${last.createdAtMs}.${last.seq}` : null };
  }

  /** The records of index entries, finished ones read from disk in one getMany. */
  private async records(picked: readonly (readonly [string, IndexEntry])[]): Promise<JobRecord[]> {
    const fromDisk = picked.filter(([, e]) => !e.job).map(([id]) => id);
    const loaded = new Map<string, StoredJob>();
    if (fromDisk.length > 0) {
      const values = await this.db.getMany(fromDisk.map((id) => JOB + id));
      values.forEach((v) => {
        if (v) loaded.set((v as StoredJob).id, v as StoredJob);
      });
    }
    const out: JobRecord[] = [];
    for (const [id, e] of picked) {
      const held = publicOf(e);
      const stored = held ? undefined : loaded.get(id);
      if (held) out.push(held);
      else if (stored) out.push(toPublic(stored));
    }
    return out;
  }

  async retry(id: string): Promise<boolean> {
    this.assertOpen();
    const entry = this.index.get(id);
    if (!entry || entry.state !== 'failed') return false;
    // Claim it first: a second retry() or a purge() racing this one sees it is no longer failed.
    this.moveEntry(entry, 'waiting');
    const stored = (await this.db.get(JOB + id)) as StoredJob | undefined;
    if (!stored) {
      this.dropEntry(id);
      return false;
    }
    const t = this.now();
    const job: StoredJob = { ...stored, state: 'waiting', attempts: 0, runAtMs: t, updatedAtMs: t };
    delete job.finishedAtMs;
    delete job.lastError;
    try {
      await this.putJob(job);
    } catch (err) {
      this.moveEntry(entry, 'failed');
      throw err;
    }
    entry.job = packed(job);
    this.waiting.add(id, job.runAtMs, job.seq);
    this.wake();
    return true;
  }

  async purge(state: 'completed' | 'failed'): Promise<number> {
    this.assertOpen();
    if (state !== 'completed' && state !== 'failed') throw new Error(`purge: state must be completed or failed, not ${String(state)}`);
    const ids = [...this.index.entries()].filter(([, e]) => e.state === state && !e.job).map(([id]) => id);
    if (ids.length === 0) return 0;
    const removed = ids.map((id) => [id, this.index.get(id)!] as const);
    for (const id of ids) this.dropEntry(id);
    try {
      await this.write(ids.map((id) => ({ type: 'del', key: JOB + id })));
    } catch (err) {
      for (const [id, e] of removed) this.setEntry(id, e);
      throw err;
    }
    return ids.length;
  }

  async getMeta(key: string): Promise<string | null> {
    this.assertOpen();
    const value = await this.db.get(META + key);
    return typeof value === 'string' ? value : null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    await this.write([{ type: 'put', key: META + key, value }]);
  }

  /** One process owns the directory, so an in-process queue per key is a lock for everyone. */
  private readonly locks = new Map<string, Promise<unknown>>();

  async withLock<T>(key: string, _ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  markProcessed(key: string, ttlMs?: number): Promise<boolean> {
    // Read and write inside one chain step, so two concurrent calls cannot both see the key absent.
    return this.serial(async () => {
      const t = this.now();
      const existing = (await this.db.get(PROC + key)) as ProcessedMark | undefined;
      if (existing && (existing.expiresAtMs === undefined || existing.expiresAtMs > t)) return false;
      const mark: ProcessedMark = { atMs: t };
      if (ttlMs !== undefined && ttlMs > 0) mark.expiresAtMs = t + ttlMs;
      await this.db.batch([{ type: 'put', key: PROC + key, value: mark }], { sync: true });
      return true;
    });
  }

  remember(key: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    const entry: Remembered = { value, expiresAtMs: this.now() + Math.max(0, ttlMs) };
    // A remembered value lost in a crash is re-checked, never wrong, so it needs no fsync of its own:
    // it rides the next group commit. Its own chain step (even unsynced) would queue every
    // webhook delivery's write behind it (LevelDB serialises writers): the acknowledgement's tail.
    return this.write([{ type: 'put', key: MEMO + key, value: entry }]);
  }

  async recall(keys: string[]): Promise<(string | null)[]> {
    this.assertOpen();
    if (keys.length === 0) return [];
    const t = this.now();
    const values = (await this.db.getMany(keys.map((k) => MEMO + k))) as (Remembered | undefined)[];
    // Lapsed entries are left for forget() or the sweep on open.
    return values.map((v) => (v && v.expiresAtMs > t ? v.value : null));
  }

  forget(keys: string[]): Promise<void> {
    this.assertOpen();
    if (keys.length === 0) return Promise.resolve();
    return this.write(keys.map((k) => ({ type: 'del' as const, key: MEMO + k })));
  }

  async close(): Promise<void> {
    if (this.closed || this.crashed) return;
    // Callers that want running jobs to finish call stop(deadline) first; close releases them now.
    await this.stop(0);
    await this.chain;
    this.closed = true;
    this.clearTimer();
    await this.db.close();
  }

  async crashForTests(): Promise<void> {
    if (this.closed || this.crashed) return;
    this.crashed = true;
    this.running = false;
    this.clearTimer();
    // Let writes already handed to LevelDB land (a killed process would have had them on disk too),
    // then drop the handle; running handlers are abandoned and their outcomes never written.
    await this.chain.catch(() => {});
    await this.db.close();
  }

  // ── scheduling ────────────────────────────────────────────────────────────

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Pick due jobs now, and arm one timer for the next runAtMs: no polling loop. */
  private wake(): void {
    if (!this.running || this.closed || this.crashed) return;
    this.clearTimer();
    const t = this.now();
    // Stalled jobs hold no slot, but at most maxStalled of them run beyond the concurrency.
    // Finishing jobs run no handler any more: they count against neither limit.
    const holding = this.inflight.size - this.finishingSlots;
    const free = Math.min(this.concurrency - (holding - this.stalledSlots), this.concurrency + this.maxStalled - holding);
    for (const id of free > 0 ? this.waiting.takeDue(t, free) : []) {
      const entry = this.index.get(id);
      const job = heldJob(entry);
      if (!entry || !job) continue;
      // Running, it is the object its slot changes (get() answers it until the outcome is on disk).
      entry.job = job;
      this.begin(job);
    }
    // Jobs due but over the limit get picked when a slot frees up (finish() wakes us).
    const nextAt = this.waiting.nextAt();
    if (nextAt !== null && nextAt > t) {
      const delay = Math.min(MAX_TIMER_MS, nextAt - t);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake();
      }, delay);
    }
  }

  private begin(job: StoredJob): void {
    const t = this.now();
    const entry = this.index.get(job.id)!;
    this.waiting.delete(job.id);
    this.moveEntry(entry, 'active');
    job.state = 'active';
    job.attempts += 1;
    // One process owns the directory, so nobody else can take an expired lease over; it is recorded
    // for inspection and for recovery on the next open, and is not renewed.
    job.leaseUntilMs = t + this.leaseMs;
    job.leaseOwner = this.workerId;
    job.updatedAtMs = t;
    const slot: Slot = { id: job.id, job, controller: new AbortController(), phase: 'running', done: Promise.resolve(), stalls: 0 };
    this.inflight.set(job.id, slot);
    slot.done = this.run(slot).catch((err) => this.onError(err));
  }

  private async run(slot: Slot): Promise<void> {
    const { job } = slot;
    try {
      await this.putJob(job);
    } catch (err) {
      // Never run a job whose active state is not on disk; put it back and try again shortly.
      if (slot.phase !== 'running') return;
      this.onError(err);
      this.dropSlot(slot);
      const entry = this.index.get(job.id);
      job.state = 'waiting';
      job.attempts -= 1;
      job.runAtMs = this.now() + 1000;
      if (entry) {
        this.moveEntry(entry, 'waiting');
        entry.job = packed(job);
      }
      this.waiting.add(job.id, job.runAtMs, job.seq);
      this.wake();
      return;
    }
    if (slot.phase !== 'running') return;

    const handler = this.handlers[job.name];
    let error: unknown;
    let ok = false;
    try {
      if (!handler) throw new PermanentError(`No handler registered for job name "${job.name}" (job ${job.id})`);
      const work = runWithStallHook(() => this.stall(slot), () => handler(toPublic(job), { signal: slot.controller.signal, attempt: job.attempts }));
      await raceAbort(work, slot.controller.signal);
      ok = true;
    } catch (err) {
      error = err;
    }
    // Released by stop() or abandoned by a crash: the outcome belongs to nobody now.
    if (slot.phase !== 'running' || this.crashed || this.closed) return;
    slot.phase = 'finishing';
    this.unstall(slot);
    this.finishingSlots += 1;
    // Its handler is done, so its slot is free now: the next job's start goes to disk in the same
    // group commit as this outcome, instead of one fsync round after it.
    this.wake();
    await this.finish(slot, ok, error);
  }

  /** The job in `slot` waits on a slow call: free its slot (within maxStalled) until it resumes. */
  private stall(slot: Slot): () => void {
    if (this.maxStalled === 0 || this.inflight.get(slot.id) !== slot || slot.phase !== 'running') return () => {};
    let resumed = false;
    if (slot.stalls++ === 0) {
      this.stalledSlots += 1;
      this.wake();
    }
    return () => {
      // Once finishing or dropped (finished, released) the slot counts for nothing any more.
      if (resumed || this.inflight.get(slot.id) !== slot || slot.phase !== 'running') return;
      resumed = true;
      if (--slot.stalls === 0) this.stalledSlots -= 1;
    };
  }

  /** The slot no longer counts as stalled, whatever its calls do later. */
  private unstall(slot: Slot): void {
    if (slot.stalls > 0) {
      slot.stalls = 0;
      this.stalledSlots -= 1;
    }
  }

  /** A slot leaves `inflight`. */
  private dropSlot(slot: Slot): void {
    this.unstall(slot);
    if (slot.phase === 'finishing') this.finishingSlots -= 1;
    this.inflight.delete(slot.id);
  }

  private async finish(slot: Slot, ok: boolean, error: unknown): Promise<void> {
    const t = this.now();
    let outcome: 'completed' | 'retried' | 'failed';
    // The outcome is built on a copy: the running record is what get() answers until the outcome
    // is on disk, so nobody sees a job failed (and retries it) while the store still holds it active.
    const job: StoredJob = { ...slot.job, updatedAtMs: t };
    delete job.leaseUntilMs;
    delete job.leaseOwner;
    if (ok) {
      outcome = 'completed';
      job.state = 'completed';
      job.finishedAtMs = t;
    } else {
      job.lastError = redactSecrets(describeError(error));
      if (isPermanent(error) || job.attempts >= job.maxAttempts) {
        outcome = 'failed';
        job.state = 'failed';
        job.finishedAtMs = t;
      } else {
        outcome = 'retried';
        job.state = 'waiting';
        job.runAtMs = t + retryDelayMs(job.attempts, job.backoffMs, error, this.random);
      }
    }
    try {
      await this.putJob(job);
    } catch (err) {
      // The disk still says active; the next open sends it back to waiting.
      this.onError(err);
      return;
    }
    this.dropSlot(slot);
    const entry = this.index.get(job.id);
    if (entry) {
      this.moveEntry(entry, job.state);
      if (job.state === 'waiting') {
        entry.job = packed(job);
        this.waiting.add(job.id, job.runAtMs, job.seq);
      } else {
        // Finished records live on disk only; get() reads them from there.
        delete entry.job;
      }
    }
    try {
      this.events.onJobFinished?.(toPublic(job), outcome, error);
    } catch (err) {
      this.onError(err);
    }
    this.wake();
  }
}

/** Open (or create) the embedded job store in `dir`. Fails with JobStoreLockedError if `dir` is in use. */
export async function createEmbeddedStore(opts: EmbeddedStoreOptions): Promise<EmbeddedJobStore> {
  if (!opts.dir) throw new Error('createEmbeddedStore: dir is required');
  const db = new ClassicLevel<string, unknown>(opts.dir, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (err) {
    if (isLockedError(err)) throw new JobStoreLockedError(opts.dir, { cause: err });
    throw new Error(`Cannot open job store directory ${opts.dir}: ${describeError((err as Error).cause ?? err)}`, { cause: err });
  }
  const store = new EmbeddedStore(db, opts);
  try {
    await store.load();
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return store;
}
