/**
 * What a feature handler (SLA, communications, order history, shop sync) receives. Handlers are
 * named in hooks_manifest.json by id and never touch the job store's implementation.
 */
import type { FrappeClient } from '../../lib/frappe/client.js';
import type { JobContext, JobRecord, JobSpec } from '../jobs/types.js';
import type { Logger } from '../../lib/log.js';
import type { Metrics } from '../metrics.js';

export interface HandlerContext {
  site: string;
  client: FrappeClient;
  logger: Logger;
  metrics: Metrics;
  /** Enqueue follow-up work (deterministic ids, as everywhere). */
  enqueue: (job: JobSpec) => Promise<boolean>;
  job: JobRecord;
  signal: AbortSignal;
  attempt: JobContext['attempt'];
  /**
   * Small durable key/value state in the job store (embedded or Redis), shared by every replica.
   * The runtime keeps its watermarks here as `wm|…`: prefix your keys with your handler id.
   */
  meta: HandlerMeta;
  /** Hold `key` against every other job on every replica while `fn` runs (30 s lease). */
  lock: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
}

export interface HandlerMeta {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Remembered values that lapse (JobStore.remember): what a re-check could restore, never the truth. */
  remember(key: string, value: string, ttlMs: number): Promise<void>;
  recall(keys: string[]): Promise<(string | null)[]>;
  forget(keys: string[]): Promise<void>;
}

export type SidecarHandler = (ctx: HandlerContext) => Promise<void>;

export type HandlerRegistry = Record<string, SidecarHandler>;
