/**
 * The job store contract. Handlers and the runtime talk to it only; the embedded store (a file
 * under the data directory) and the BullMQ store (Redis, several replicas) implement it, and one
 * conformance suite runs against both.
 */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobSpec {
  /** Deterministic id: enqueueing an id that is already known adds nothing. */
  id: string;
  /** Handler name, e.g. "order_history.request". */
  name: string;
  site: string;
  data: Record<string, unknown>;
  /** Attempts before the job is dead-lettered. @defaultValue 8 */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with jitter, capped at 5 minutes. @defaultValue 1000 */
  backoffMs?: number;
  /** Not before this instant (epoch ms). @defaultValue now */
  runAtMs?: number;
}

export interface JobRecord {
  id: string;
  name: string;
  site: string;
  data: Record<string, unknown>;
  state: JobState;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  backoffMs: number;
  /** When a waiting job may next run (epoch ms). */
  runAtMs: number;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs?: number;
  /** The last error, redacted: "Name: message". */
  lastError?: string;
}

export interface JobContext {
  /** Aborted when the store shuts down past its deadline; long handlers should stop. */
  signal: AbortSignal;
  /** 1-based attempt number. */
  attempt: number;
}

/** How many jobs of one handler on one site are in each state. */
export interface JobCountRow {
  site: string;
  /** The handler name (JobSpec.name). */
  name: string;
  counts: Record<JobState, number>;
}

export interface JobCounts {
  /** One row per (site, handler) that has any job; rows in (site, handler) order. */
  rows: JobCountRow[];
  /**
   * False when the store knows its counters may be off (BullMQ: they disagree with the queue's own
   * totals, and a recount is due). The embedded store's are always exact.
   */
  exact: boolean;
}

export interface JobPageQuery {
  state: JobState;
  /** Jobs per page. */
  limit: number;
  /** The `next` of the previous page; absent for the first. */
  after?: string | null;
  /** Only this handler. */
  name?: string;
  /** Only jobs of these sites. */
  sites?: ReadonlySet<string>;
}

export interface JobPage {
  jobs: JobRecord[];
  /** Pass as `after` for the next page; null when this was the last. */
  next: string | null;
}

export type JobHandler = (job: JobRecord, ctx: JobContext) => Promise<void>;

export interface StartOptions {
  /** Jobs run at once. @defaultValue 4 */
  concurrency?: number;
  /** How long a running job's lease lasts before another worker may take it over. @defaultValue 60_000 */
  leaseMs?: number;
  /**
   * Jobs that may be stalled (waiting on a slow REST call, sidecar/jobs/stall.ts) without holding
   * one of the `concurrency` slots, so a site that hangs some calls does not park every worker.
   * 0 keeps every running job in a slot. Embedded store only; BullMQ's worker keeps a fixed
   * concurrency. @defaultValue 0
   */
  maxStalled?: number;
}

export interface JobStoreEvents {
  /** A job finished an attempt: outcome completed, retried, or failed (dead-lettered). */
  onJobFinished?: (job: JobRecord, outcome: 'completed' | 'retried' | 'failed', error?: unknown) => void;
}

export interface JobStore {
  readonly kind: 'embedded' | 'bullmq';
  /** Add a job unless its id is known (waiting, active, completed or failed). True when added. */
  enqueue(spec: JobSpec): Promise<boolean>;
  /**
   * Add many jobs in one durable write, as if each were `enqueue`d in order: a spec whose id is
   * already known, or appeared earlier in `specs`, adds nothing. Resolves only once every added job
   * is durable, with one answer per spec: true where it was added. A rejection promises nothing
   * about which were added; enqueueing the same specs again is safe, since ids dedupe.
   */
  enqueueMany(specs: readonly JobSpec[]): Promise<boolean[]>;
  /** Begin running jobs with these handlers. A job whose name has no handler is dead-lettered. */
  start(handlers: Record<string, JobHandler>, opts?: StartOptions, events?: JobStoreEvents): Promise<void>;
  /** Stop taking work; wait up to `deadlineMs` for running jobs, then release them for a later run. */
  stop(deadlineMs?: number): Promise<void>;
  get(id: string): Promise<JobRecord | null>;
  list(state?: JobState, limit?: number): Promise<JobRecord[]>;
  counts(): Promise<Record<JobState, number>>;
  /**
   * Counts per (site, handler, state), kept as jobs move: no job is read to answer. They stay
   * right across retry, purge, reopen and crash recovery.
   */
  countsBy(): Promise<JobCounts>;
  /**
   * One page of the jobs in a state, newest first (the order of `list`), from after the previous
   * page's cursor. Jobs that change state between pages may be skipped or shown twice. A page may
   * hold fewer than `limit` jobs while `next` is not null (BullMQ: a filtered page stops reading
   * after 10,000 jobs); only a null `next` says there are no more.
   */
  page(query: JobPageQuery): Promise<JobPage>;
  /** Send a dead-lettered job back to waiting with fresh attempts. False when it is not failed. */
  retry(id: string): Promise<boolean>;
  /** Remove finished jobs in a state; returns how many. */
  purge(state: 'completed' | 'failed'): Promise<number>;

  /** Small durable key/value for watermarks. */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Record a processed key (e.g. a document version); false if it was already recorded. */
  markProcessed(key: string, ttlMs?: number): Promise<boolean>;

  /**
   * A remembered value that lapses after `ttlMs` (e.g. "this customer is known to the site"). Not a
   * source of truth: a lost or lapsed entry only costs its caller a re-check, so writes need not be
   * synced to disk one by one.
   */
  remember(key: string, value: string, ttlMs: number): Promise<void>;
  /** The remembered values of `keys`, in order; null where absent or lapsed. */
  recall(keys: string[]): Promise<(string | null)[]>;
  /** Drop remembered values (a re-check found them wrong). */
  forget(keys: string[]): Promise<void>;

  /**
   * Run `fn` while holding `key` against every other worker of this store (other replicas too, on
   * BullMQ). The lock expires after `ttlMs` should its holder die. Rejects with a RetriableError
   * when the key stays taken for longer than `ttlMs`, so the job is retried later.
   */
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
