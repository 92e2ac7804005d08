/**
 * The BullMQ job store: Redis, any number of replicas. One Queue for producing and reading, one
 * Worker per started store. This is the only file that imports bullmq; handlers see JobRecord.
 *
 * Mapping of the contract onto BullMQ:
 * - ids: BullMQ rejects custom ids that contain ':' or look like integers, and ours are
 *   `kind:site:key`, so the BullMQ id is the URI-encoded spec id (see `toBullmqId`); records
 *   always carry the spec id.
 * - leases are BullMQ locks (`lockDuration = leaseMs`); a crashed replica's job is moved back to
 *   wait by another worker's stalled-job check and run again.
 * - `attempts` is BullMQ's attemptsStarted; the failure budget is attemptsMade, which a stall or a
 *   release at stop() does not use up.
 * - counts per (site, handler, state) are a Redis hash of counters (`countsKey`). All jobs share one
 *   queue, whose sets cannot be counted by site or handler without reading every job, and BullMQ's
 *   own scripts move jobs (no hook to update a counter in the same script): so each transition this
 *   store sees (its add, the processor starting, the worker's completed/failed/stalled events,
 *   retry, the release at stop) bumps the counters right after BullMQ's move. What can slip (a
 *   replica killed between the two, BullMQ dropping a week-old completed job) shows as the
 *   counters' sums disagreeing with the queue's own totals (getJobCounts, one cheap call): then
 *   they are recounted from the queue, on open, and when the same disagreement outlasts a minute.
 */
import { randomUUID } from 'node:crypto';
import { Job, Queue, UnrecoverableError, Worker, DelayedError, type ConnectionOptions, type JobsOptions, type JobType } from 'bullmq';
import { describeError, isPermanent, PermanentError, RetriableError } from '../../lib/errors.js';
import { redactSecrets } from '../../lib/log.js';
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, retryAfterOf, retryDelayMs, raceAbort } from './backoff.js';
import { totalsOf } from './tally.js';
import type { JobCountRow, JobCounts, JobHandler, JobPage, JobPageQuery, JobRecord, JobSpec, JobState, JobStore, JobStoreEvents, StartOptions } from './types.js';

export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

export interface BullmqStoreOptions {
  /** Where Redis is: host and port, or a `redis://` / `rediss://` URL. */
  connection: RedisConnection | string;
  /** Prefix of every Redis key this store writes. @defaultValue 'coc' */
  prefix?: string;
  /** BullMQ queue name. @defaultValue 'jobs' */
  queueName?: string;
  /** Worker name, visible in BullMQ tooling. @defaultValue `companion-${random}` */
  workerId?: string;
  /** How often a worker looks for jobs whose lock expired. @defaultValue min(30 s, leaseMs) */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a stall before it is failed. @defaultValue 1 (BullMQ's) */
  maxStalledCount?: number;
  /** Called with errors no caller can see (connection drops, lock renewals). @defaultValue ignore */
  onError?: (err: unknown) => void;
  /** The clock that times how long the counters have disagreed with the queue (tests move it). @defaultValue Date.now */
  now?: () => number;
}

export interface BullmqJobStore extends JobStore {
  readonly kind: 'bullmq';
  /**
   * Test-only: drop the worker as a SIGKILL would. Running jobs keep their lock until it expires,
   * so another replica's stalled check has to take them over.
   */
  crashForTests(): Promise<void>;
}

/** What we keep in BullMQ's job data. */
interface Payload {
  id: string;
  site: string;
  data: Record<string, unknown>;
  backoffMs: number;
  /** Unique per enqueue call: tells whether our add created the job or collapsed into an existing one. */
  enqueueId: string;
}

type NativeSet = { set(key: string, value: string, ...args: (string | number)[]): Promise<string | null> };
/** An ioredis pipeline, typed narrowly by BullMQ (see markProcessed on its native commands). */
type NativePipeline = { pipeline(): { hget(key: string, field: string): unknown; exec(): Promise<[Error | null, unknown][] | null> } };
type NativeMany = { mget(...keys: string[]): Promise<(string | null)[]>; del(...keys: string[]): Promise<number> };

const BACKOFF_TYPE = 'companion';
const KEEP_COMPLETED_SEC = 7 * 24 * 3600;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_STOP_DEADLINE_MS = 10_000;
/** How long the counters may disagree with the queue's totals the same way before they are recounted. */
const RECOUNT_AFTER_MS = 60_000;
/** Jobs read per call while paging or recounting. */
const READ_CHUNK = 500;
/** Most jobs one filtered page reads before it answers with what it found and a cursor to go on. */
const PAGE_SCAN_LIMIT = 10_000;
const STATES: JobState[] = ['waiting', 'active', 'completed', 'failed'];

type CountChange = [site: string, name: string, state: JobState, by: number];
type NativeHash = {
  hgetall(key: string): Promise<Record<string, string>>;
  multi(): { hincrby(key: string, field: string, by: number): unknown; hdel(key: string, ...fields: string[]): unknown; hset(key: string, values: Record<string, string>): unknown; exec(): Promise<unknown> };
};

/** After releasing jobs at the stop deadline, how long their hand-back may take before force-closing. */
const RELEASE_GRACE_MS = 2_000;

const BULLMQ_STATES: Record<JobState, JobType[]> = {
  waiting: ['waiting', 'delayed', 'prioritized', 'waiting-children', 'paused'],
  active: ['active'],
  completed: ['completed'],
  failed: ['failed'],
};

function toState(bullmqState: string): JobState | null {
  switch (bullmqState) {
    case 'waiting':
    case 'wait':
    case 'delayed':
    case 'prioritized':
    case 'waiting-children':
    case 'paused':
      return 'waiting';
    case 'active':
    case 'completed':
    case 'failed':
      return bullmqState;
    default:
      return null;
  }
}

/**
 * BullMQ id for a spec id. encodeURIComponent escapes ':' and never emits '#', so prefixing '#'
 * to integer-looking ids keeps the mapping one-to-one.
 */
export function toBullmqId(id: string): string {
  const encoded = encodeURIComponent(id);
  return `${parseInt(encoded, 10)}` === encoded ? `#${encoded}` : encoded;
}

function toConnection(connection: RedisConnection | string): ConnectionOptions {
  if (typeof connection !== 'string') return { ...connection };
  const url = new URL(connection);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`Redis URL must start with redis:// or rediss://, not ${url.protocol}//`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new Error(`Redis URL database must be a number, not ${url.pathname.slice(1)}`);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The error BullMQ stores and hands to the backoff strategy: redacted text, plus Retry-After. */
class AttemptError extends Error {
  readonly retryAfterMs?: number;
  constructor(text: string, retryAfterMs: number, stack: string | undefined) {
    super(text);
    this.name = 'AttemptError';
    if (retryAfterMs > 0) this.retryAfterMs = retryAfterMs;
    // BullMQ keeps stack traces on the job; the original's, scrubbed, is the useful one.
    this.stack = stack === undefined ? text : redactSecrets(stack);
  }
}

class BullmqStore implements BullmqJobStore {
  readonly kind = 'bullmq' as const;
  private readonly connection: ConnectionOptions;
  private readonly prefix: string;
  private readonly queueName: string;
  private readonly workerId: string;
  private readonly opts: BullmqStoreOptions;
  private readonly onError: (err: unknown) => void;
  private readonly queue: Queue<Payload>;
  private worker: Worker<Payload> | null = null;
  private stopping: Promise<void> | null = null;
  private closed = false;
  /** Controllers of jobs this process is running, aborted when stop() passes its deadline. */
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** The handler's own error per job, for onJobFinished (BullMQ only sees the AttemptError). */
  private readonly handlerErrors = new Map<string, unknown>();
  /** The delay our backoff strategy chose per job, for the retried record's runAtMs. */
  private readonly retryDelays = new Map<string, number>();

  constructor(opts: BullmqStoreOptions) {
    this.opts = opts;
    this.connection = toConnection(opts.connection);
    this.prefix = opts.prefix ?? 'coc';
    this.queueName = opts.queueName ?? 'jobs';
    if (['meta', 'processed', 'memo', 'lock', 'counts'].includes(this.queueName)) {
      throw new Error(`queueName "${this.queueName}" is reserved for the store's own keys`);
    }
    this.workerId = opts.workerId ?? `companion-${randomUUID().slice(0, 8)}`;
    this.onError = opts.onError ?? (() => {});
    this.queue = new Queue<Payload>(this.queueName, { connection: this.connection, prefix: this.prefix });
    this.queue.on('error', (err) => this.onError(err));
  }

  private metaKey(key: string): string {
    return `${this.prefix}:meta:${key}`;
  }

  private memoKey(key: string): string {
    return `${this.prefix}:memo:${key}`;
  }

  private processedKey(key: string): string {
    return `${this.prefix}:processed:${key}`;
  }

  /** The counters hash: field JSON [state, site, handler], value the count. */
  private get countsKey(): string {
    return `${this.prefix}:counts:${this.queueName}`;
  }

  /** Apply counter changes in one MULTI. A failure is reported, not thrown: the job moved anyway, and the drift check mends it. */
  private async bump(changes: CountChange[]): Promise<void> {
    if (changes.length === 0) return;
    try {
      const client = (await this.queue.client) as unknown as NativeHash;
      const multi = client.multi();
      for (const [site, name, state, by] of changes) multi.hincrby(this.countsKey, JSON.stringify([state, site, name]), by);
      await multi.exec();
    } catch (err) {
      this.onError(err);
    }
  }

  private moved(job: Job<Payload>, from: JobState, to: JobState): Promise<void> {
    return this.bump([
      [job.data.site, job.name, from, -1],
      [job.data.site, job.name, to, 1],
    ]);
  }

  /** When a disagreement between counters and totals was first seen, and what it was. */
  private drift: { since: number; diff: string } | null = null;
  private recounting: Promise<void> | null = null;

  private assertOpen(): void {
    if (this.closed) throw new Error(`Job store ${this.prefix}:${this.queueName} is closed`);
  }

  async ready(): Promise<void> {
    await this.queue.waitUntilReady();
  }

  /** What `queue.add` / `queue.addBulk` get for a spec: the one mapping of JobSpec onto BullMQ. */
  private toAdd(spec: JobSpec, enqueueId: string, now: number): { name: string; data: Payload; opts: JobsOptions } {
    if (typeof spec.id !== 'string' || spec.id === '') throw new Error('enqueue: spec.id must be a non-empty string');
    if (typeof spec.name !== 'string' || spec.name === '') throw new Error(`enqueue ${spec.id}: spec.name must be a non-empty string`);
    return {
      name: spec.name,
      data: {
        id: spec.id,
        site: spec.site,
        data: spec.data ?? {},
        backoffMs: spec.backoffMs ?? DEFAULT_BACKOFF_MS,
        enqueueId,
      },
      opts: {
        jobId: toBullmqId(spec.id),
        attempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE },
        delay: Math.max(0, (spec.runAtMs ?? now) - now),
        // Finished jobs stay so a duplicate enqueue keeps collapsing into them.
        removeOnComplete: { age: KEEP_COMPLETED_SEC },
        removeOnFail: false,
        stackTraceLimit: 3,
      },
    };
  }

  async enqueue(spec: JobSpec): Promise<boolean> {
    this.assertOpen();
    const enqueueId = randomUUID();
    const add = this.toAdd(spec, enqueueId, Date.now());
    await this.queue.add(add.name, add.data, add.opts);
    // BullMQ ignores an add whose id exists without saying so; our nonce tells who won.
    const stored = await this.queue.getJob(add.opts.jobId!);
    const won = !stored || stored.data.enqueueId === enqueueId;
    if (won) await this.bump([[spec.site, spec.name, 'waiting', 1]]);
    return won;
  }

  async enqueueMany(specs: readonly JobSpec[]): Promise<boolean[]> {
    this.assertOpen();
    const now = Date.now();
    const adds = specs.map((spec) => this.toAdd(spec, randomUUID(), now));
    // A later duplicate within the batch loses to the first, as it would one enqueue after another.
    const first = new Map<string, number>();
    adds.forEach((a, i) => {
      if (!first.has(a.opts.jobId!)) first.set(a.opts.jobId!, i);
    });
    const unique = [...first.values()].map((i) => adds[i]!);
    if (unique.length === 0) return [];
    // addBulk sends every add in one pipeline: one round trip, each add the same script as add().
    await this.queue.addBulk(unique);
    // Then read back each job's nonce in one more pipeline, to tell which adds created their job.
    const client = (await this.queue.client) as unknown as NativePipeline;
    const pipeline = client.pipeline();
    for (const a of unique) pipeline.hget(this.queue.toKey(a.opts.jobId!), 'data');
    const replies = (await pipeline.exec()) ?? [];
    const won = new Set<number>();
    unique.forEach((a, k) => {
      const [err, raw] = replies[k] ?? [new Error('no reply')];
      if (err) throw err;
      const stored = typeof raw === 'string' ? (JSON.parse(raw) as Partial<Payload>) : null;
      if (!stored || stored.enqueueId === a.data.enqueueId) won.add(first.get(a.opts.jobId!)!);
    });
    await this.bump([...won].map((i) => [adds[i]!.data.site, adds[i]!.name, 'waiting', 1] as CountChange));
    return adds.map((_, i) => won.has(i));
  }

  async start(handlers: Record<string, JobHandler>, opts: StartOptions = {}, events: JobStoreEvents = {}): Promise<void> {
    this.assertOpen();
    if (this.worker) throw new Error(`Job store ${this.prefix}:${this.queueName} is already started`);
    if (this.stopping) await this.stopping;
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be an integer of at least 1');
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(leaseMs > 0)) throw new Error('leaseMs must be greater than 0');
    const table = { ...handlers };

    const worker = new Worker<Payload>(this.queueName, (job, token) => this.process(table, job, token), {
      connection: this.connection,
      prefix: this.prefix,
      name: this.workerId,
      concurrency,
      lockDuration: leaseMs,
      stalledInterval: this.opts.stalledIntervalMs ?? Math.min(30_000, leaseMs),
      maxStalledCount: this.opts.maxStalledCount ?? 1,
      settings: {
        backoffStrategy: (attemptsMade, _type, err, job) => {
          const payload = job?.data as Payload | undefined;
          const delayMs = retryDelayMs(attemptsMade, payload?.backoffMs ?? DEFAULT_BACKOFF_MS, err);
          // BullMQ leaves job.delay untouched when the delay is 0; remember ours for the event.
          if (payload) this.retryDelays.set(payload.id, delayMs);
          return delayMs;
        },
      },
    });
    worker.on('error', (err) => this.onError(err));
    // The counters first, so whoever hears of the outcome reads counts that include it.
    worker.on('completed', (job) => {
      void this.moved(job, 'active', 'completed').then(() => this.emitFinished(events, job, 'completed'));
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      // finishedOn is set only when the failure is final; a retry leaves it empty.
      const final = Boolean(job.finishedOn);
      void this.moved(job, 'active', final ? 'failed' : 'waiting').then(() => this.emitFinished(events, job, final ? 'failed' : 'retried', err));
    });
    // This worker's stalled check moved another's job (its lock lapsed) back to wait.
    worker.on('stalled', (jobId) => {
      void this.queue
        .getJob(jobId)
        .then((job) => (job ? this.moved(job as Job<Payload>, 'active', 'waiting') : undefined))
        .catch((err: unknown) => this.onError(err));
    });
    this.worker = worker;
    await worker.waitUntilReady();
  }

  private async process(handlers: Record<string, JobHandler>, job: Job<Payload>, token: string | undefined): Promise<void> {
    const controller = new AbortController();
    const record = this.recordOf(job, 'active');
    const handler = handlers[job.name];
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.running.set(record.id, { controller, done });
    await this.moved(job, 'waiting', 'active');
    try {
      if (!handler) throw new PermanentError(`No handler registered for job name "${job.name}" (job ${record.id})`);
      await raceAbort(handler(record, { signal: controller.signal, attempt: record.attempts }), controller.signal);
    } catch (err) {
      // Only stop() aborts, and only once its deadline has passed.
      if (controller.signal.aborted) {
        // stop() passed its deadline: hand the job back without spending an attempt. moveToDelayed
        // with "now" puts it straight back in line; DelayedError tells the worker not to fail it.
        await job.moveToDelayed(Date.now(), token);
        await this.moved(job, 'active', 'waiting');
        throw new DelayedError();
      }
      this.handlerErrors.set(record.id, err);
      const text = redactSecrets(describeError(err));
      if (isPermanent(err)) {
        const unrecoverable = new UnrecoverableError(text);
        unrecoverable.stack = redactSecrets((err as Error | null)?.stack ?? text);
        throw unrecoverable;
      }
      throw new AttemptError(text, retryAfterOf(err), (err as Error | null)?.stack);
    } finally {
      this.running.delete(record.id);
      settle();
    }
  }

  private emitFinished(events: JobStoreEvents, job: Job<Payload>, outcome: 'completed' | 'retried' | 'failed', err?: unknown): void {
    const id = job.data.id;
    const error = outcome === 'completed' ? undefined : (this.handlerErrors.get(id) ?? err);
    const delayMs = this.retryDelays.get(id) ?? 0;
    this.handlerErrors.delete(id);
    this.retryDelays.delete(id);
    if (!events.onJobFinished) return;
    const state: JobState = outcome === 'completed' ? 'completed' : outcome === 'failed' ? 'failed' : 'waiting';
    const record = this.recordOf(job, state);
    if (outcome === 'retried') record.runAtMs = Date.now() + delayMs;
    try {
      events.onJobFinished(record, outcome, error);
    } catch (e) {
      this.onError(e);
    }
  }

  private recordOf(job: Job<Payload>, state: JobState, runAtMs?: number): JobRecord {
    const created = job.timestamp;
    const record: JobRecord = {
      id: job.data.id,
      name: job.name,
      site: job.data.site,
      data: job.data.data,
      state,
      attempts: job.attemptsStarted,
      maxAttempts: job.opts.attempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffMs: job.data.backoffMs,
      runAtMs: runAtMs ?? job.processedOn ?? created + (job.opts.delay ?? 0),
      createdAtMs: created,
      updatedAtMs: Math.max(created, job.processedOn ?? 0, job.finishedOn ?? 0),
    };
    if (job.finishedOn && (state === 'completed' || state === 'failed')) record.finishedAtMs = job.finishedOn;
    if (job.failedReason) record.lastError = job.failedReason;
    return record;
  }

  /** A delayed job's due time is its score in the delayed set (timestamp · 4096 + a counter). */
  private async delayedUntil(jobId: string): Promise<number | undefined> {
    const client = await this.queue.client;
    const score = await client.zscore(this.queue.keys.delayed, jobId);
    return score === null ? undefined : Math.floor(Number(score) / 0x1000);
  }

  async get(id: string): Promise<JobRecord | null> {
    this.assertOpen();
    const jobId = toBullmqId(id);
    const job = await this.queue.getJob(jobId);
    if (!job) return null;
    const bullmqState = await job.getState();
    const state = toState(bullmqState);
    if (!state) return null;
    const runAtMs = bullmqState === 'delayed' ? await this.delayedUntil(jobId) : undefined;
    return this.recordOf(job, state, runAtMs);
  }

  async list(state?: JobState, limit = 100): Promise<JobRecord[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    const wanted: JobState[] = state ? [state] : ['waiting', 'active', 'completed', 'failed'];
    const records: JobRecord[] = [];
    for (const s of wanted) {
      for (const type of BULLMQ_STATES[s]) {
        // Each BullMQ set is ordered its own way; take the newest `limit` of each, then merge.
        const jobs = (await this.queue.getJobs([type], 0, limit - 1, false)) as Job<Payload>[];
        for (const job of jobs) {
          if (!job) continue;
          const runAtMs = type === 'delayed' ? await this.delayedUntil(job.id!) : undefined;
          records.push(this.recordOf(job, s, runAtMs));
        }
      }
    }
    return records.sort((a, b) => b.createdAtMs - a.createdAtMs).slice(0, limit);
  }

  async counts(): Promise<Record<JobState, number>> {
    this.assertOpen();
    const raw = await this.queue.getJobCounts(...Object.values(BULLMQ_STATES).flat());
    const counts: Record<JobState, number> = { waiting: 0, active: 0, completed: 0, failed: 0 };
    for (const s of Object.keys(BULLMQ_STATES) as JobState[]) {
      for (const type of BULLMQ_STATES[s]) counts[s] += raw[type] ?? 0;
    }
    return counts;
  }

  async countsBy(): Promise<JobCounts> {
    this.assertOpen();
    const [rows, totals] = await Promise.all([this.readCounters(), this.counts()]);
    const exact = this.checkDrift(rows, totals, (this.opts.now ?? Date.now)());
    return { rows, exact };
  }

  private async readCounters(): Promise<JobCountRow[]> {
    const client = (await this.queue.client) as unknown as NativeHash;
    const raw = await client.hgetall(this.countsKey);
    const rows = new Map<string, JobCountRow>();
    for (const [field, value] of Object.entries(raw)) {
      const [state, site, name] = JSON.parse(field) as [JobState, string, string];
      const n = Math.max(0, Number(value) || 0);
      if (n === 0 || !STATES.includes(state)) continue;
      const k = JSON.stringify([site, name]);
      let row = rows.get(k);
      if (!row) rows.set(k, (row = { site, name, counts: { waiting: 0, active: 0, completed: 0, failed: 0 } }));
      row.counts[state] += n;
    }
    return [...rows.values()].sort((a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name));
  }

  /** True when the counters add up to the queue's totals; a disagreement that lasts gets a recount started. */
  private checkDrift(rows: JobCountRow[], totals: Record<JobState, number>, now: number): boolean {
    const sums = totalsOf(rows);
    const diff = JSON.stringify(STATES.map((s) => sums[s] - totals[s]));
    if (STATES.every((s) => sums[s] === totals[s])) {
      this.drift = null;
      return true;
    }
    // Jobs moving right now disagree for a moment; the same disagreement a minute later does not.
    if (!this.drift || this.drift.diff !== diff) this.drift = { since: now, diff };
    else if (now - this.drift.since >= RECOUNT_AFTER_MS) {
      this.drift = null;
      void this.recount().catch((err: unknown) => this.onError(err));
    }
    return false;
  }

  /** Count the jobs in `states` from the queue (reading them) and replace those counters. */
  recount(states: JobState[] = STATES): Promise<void> {
    const run = (this.recounting ?? Promise.resolve()).then(async () => {
      const counted = new Map<string, number>();
      for (const state of states) {
        for (const type of BULLMQ_STATES[state]) {
          for (let start = 0; ; start += READ_CHUNK) {
            const jobs = (await this.queue.getJobs([type], start, start + READ_CHUNK - 1, false)) as (Job<Payload> | undefined)[];
            for (const job of jobs) {
              if (!job) continue;
              const field = JSON.stringify([state, job.data.site, job.name]);
              counted.set(field, (counted.get(field) ?? 0) + 1);
            }
            if (jobs.length < READ_CHUNK) break;
          }
        }
      }
      const client = (await this.queue.client) as unknown as NativeHash;
      const stale = Object.keys(await client.hgetall(this.countsKey)).filter((f) => states.includes((JSON.parse(f) as [JobState])[0]));
      const multi = client.multi();
      if (stale.length) multi.hdel(this.countsKey, ...stale);
      if (counted.size) multi.hset(this.countsKey, Object.fromEntries([...counted].map(([f, n]) => [f, String(n)])));
      await multi.exec();
    });
    this.recounting = run.catch(() => undefined);
    return run;
  }

  /** On open: counters that do not add up (an older version kept none, a replica died mid-move) are recounted. */
  async checkCounters(): Promise<void> {
    const [rows, totals] = await Promise.all([this.readCounters(), this.counts()]);
    const sums = totalsOf(rows);
    if (STATES.some((s) => sums[s] !== totals[s])) await this.recount();
  }

  /**
   * The cursor is "set.offset": which of the state's BullMQ sets, and how far into it. With a
   * handler or site filter the jobs before a match are read too (one queue holds every handler), up
   * to PAGE_SCAN_LIMIT a call: past that the page answers short, with a cursor to read on from.
   */
  async page(query: JobPageQuery): Promise<JobPage> {
    this.assertOpen();
    const limit = Math.max(0, Math.floor(query.limit));
    const types = BULLMQ_STATES[query.state];
    let [ti, offset] = parsePosition(query.after);
    const jobs: JobRecord[] = [];
    let next: string | null = null;
    let read = 0;
    // One match past the page tells whether there is a next one.
    while (ti < types.length && next === null) {
      if (read >= PAGE_SCAN_LIMIT) {
        next = `${ti}.${offset}`;
        break;
      }
      const type = types[ti]!;
      const chunk = (await this.queue.getJobs([type], offset, offset + READ_CHUNK - 1, false)) as (Job<Payload> | undefined)[];
      read += chunk.length;
      for (let k = 0; k < chunk.length; k++) {
        const job = chunk[k];
        if (!job || (query.name !== undefined && job.name !== query.name) || (query.sites !== undefined && !query.sites.has(job.data.site))) continue;
        if (jobs.length === limit) {
          next = `${ti}.${offset + k}`;
          break;
        }
        const runAtMs = type === 'delayed' ? await this.delayedUntil(job.id!) : undefined;
        jobs.push(this.recordOf(job, query.state, runAtMs));
      }
      if (next === null) {
        if (chunk.length < READ_CHUNK) [ti, offset] = [ti + 1, 0];
        else offset += READ_CHUNK;
      }
    }
    return { jobs, next };
  }

  async retry(id: string): Promise<boolean> {
    this.assertOpen();
    const job = await this.queue.getJob(toBullmqId(id));
    if (!job || (await job.getState()) !== 'failed') return false;
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      await this.moved(job as Job<Payload>, 'failed', 'waiting');
      return true;
    } catch (err) {
      // Another replica retried (or removed) it between our check and our move.
      if ((await job.getState()) !== 'failed') return false;
      throw err;
    }
  }

  async purge(state: 'completed' | 'failed'): Promise<number> {
    this.assertOpen();
    if (state !== 'completed' && state !== 'failed') throw new Error(`purge: state must be completed or failed, not ${String(state)}`);
    // grace 0 and limit 0: every job in the state, however recent.
    const removed = await this.queue.clean(0, 0, state);
    // The removed jobs are gone, and with them who they belonged to: count the state afresh.
    await this.recount([state]);
    return removed.length;
  }

  async getMeta(key: string): Promise<string | null> {
    this.assertOpen();
    const client = await this.queue.client;
    return client.get(this.metaKey(key));
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    const client = await this.queue.client;
    await client.set(this.metaKey(key), value);
  }

  /**
   * SET NX PX with a random token; released only by its holder (compare-and-delete in Lua), so a
   * holder that outlived its TTL cannot free someone else's lock.
   */
  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const client = (await this.queue.client) as unknown as NativeSet & { eval(script: string, keys: number, ...args: string[]): Promise<unknown> };
    const lockKey = `${this.prefix}:lock:${key}`;
    const token = randomUUID();
    const deadline = Date.now() + ttlMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if ((await client.set(lockKey, token, 'PX', ttlMs, 'NX')) === 'OK') break;
      if (Date.now() > deadline) throw new RetriableError('frappe_unavailable', `lock ${key} is held by another worker; will retry`);
      // Another replica holds it for one short job: poll, with backoff and jitter.
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
    }
    try {
      return await fn();
    } finally {
      await client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lockKey, token);
    }
  }

  async markProcessed(key: string, ttlMs?: number): Promise<boolean> {
    this.assertOpen();
    // BullMQ types its client narrowly (no NX), but with plain connection options it is an ioredis
    // proxy that still accepts native SET arguments, as ioredis-client.d.ts documents.
    const client = (await this.queue.client) as unknown as NativeSet;
    const atMs = String(Date.now());
    // SET NX is the whole dedupe: atomic across replicas, and an expired key is simply absent.
    const reply =
      ttlMs !== undefined && ttlMs > 0
        ? await client.set(this.processedKey(key), atMs, 'PX', Math.ceil(ttlMs), 'NX')
        : await client.set(this.processedKey(key), atMs, 'NX');
    return reply === 'OK';
  }

  async remember(key: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    const client = (await this.queue.client) as unknown as NativeSet;
    // Redis expires the key itself; every replica sees the same entry.
    await client.set(this.memoKey(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async recall(keys: string[]): Promise<(string | null)[]> {
    this.assertOpen();
    if (keys.length === 0) return [];
    const client = (await this.queue.client) as unknown as NativeMany;
    return client.mget(...keys.map((k) => this.memoKey(k)));
  }

  async forget(keys: string[]): Promise<void> {
    this.assertOpen();
    if (keys.length === 0) return;
    const client = (await this.queue.client) as unknown as NativeMany;
    await client.del(...keys.map((k) => this.memoKey(k)));
  }

  stop(deadlineMs: number = DEFAULT_STOP_DEADLINE_MS): Promise<void> {
    if (this.stopping) return this.stopping;
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.stopping = this.drain(worker, deadlineMs).finally(() => {
      this.worker = null;
      this.stopping = null;
    });
    return this.stopping;
  }

  private async drain(worker: Worker<Payload>, deadlineMs: number): Promise<void> {
    // pause() stops fetching and resolves once running jobs are fully settled. close() is not used
    // for the wait because BullMQ hands a later close(true) the first close's promise.
    if (await within(worker.pause(), deadlineMs)) {
      await worker.close();
      return;
    }
    const pending = [...this.running.values()];
    for (const r of pending) r.controller.abort(new Error('Job store is stopping'));
    // Each aborted processor hands its job back (moveToDelayed) and returns.
    const released = await within(Promise.allSettled(pending.map((r) => r.done)), RELEASE_GRACE_MS);
    // If the hand-back itself hung (Redis gone), force: the lock expires and a stalled check recovers it.
    await within(worker.close(!released), RELEASE_GRACE_MS);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop(0);
    this.closed = true;
    await this.queue.close();
  }

  async crashForTests(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.closed = true;
    // Abandon running handlers: no completion, no release, and no more lock renewals.
    await worker?.close(true);
    await this.queue.close();
  }
}

/** Where a page cursor of this store points: [index into the state's BullMQ sets, offset in it]. */
function parsePosition(cursor: string | null | undefined): [number, number] {
  if (!cursor) return [0, 0];
  const m = /^(\d+)\.(\d+)$/.exec(cursor);
  if (!m) throw new Error(`page: "${cursor}" is not a cursor this store gave`);
  return [Number(m[1]), Number(m[2])];
}

/** Resolves true when `work` settles within `ms`, false when the time runs out first. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, ms));
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** Connect to Redis and return a store; the worker starts with `start()`. */
export async function createBullmqStore(opts: BullmqStoreOptions): Promise<BullmqJobStore> {
  const store = new BullmqStore(opts);
  try {
    await store.ready();
    await store.checkCounters();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
