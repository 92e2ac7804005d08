/**
 * What a feature handler (SLA, communications, order history, shop sync) receives. Handlers are
 * named in hooks_manifest.json by id and never touch the job store's implementation; the runner
 * (sidecar/jobs/runner.ts) builds this context for every job.
 */
import type { FrappeClient } from '../../lib/frappe/client.js';
import type { Logger } from '../../lib/log.js';
import type { Metrics } from '../metrics.js';
import type { Enqueue } from './payloads.js';
import type { JobContext, JobRecord, JobStore } from './types.js';

export interface HandlerContext {
  site: string;
  client: FrappeClient;
  logger: Logger;
  metrics: Metrics;
  /** Enqueue follow-up work through the runner (deterministic ids, as everywhere; data typed by sidecar/jobs/payloads.ts). */
  enqueue: Enqueue;
  job: JobRecord;
  signal: AbortSignal;
  attempt: JobContext['attempt'];
  /**
   * Small durable key/value state in the job store (embedded or Redis), shared by every replica.
   * The runtime keeps its watermarks here as `wm|…`: prefix your keys with your handler id.
   */
  meta: HandlerMeta;
  /** Hold `key` against every other job on every replica while `fn` runs (the runner's `lockTimeoutMs` lease, 30 s by default). */
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

/** The handlers' view of the job store's key/value state. */
export function handlerMeta(store: Pick<JobStore, 'getMeta' | 'setMeta' | 'remember' | 'recall' | 'forget'>): HandlerMeta {
  return {
    get: (key) => store.getMeta(key),
    set: (key, value) => store.setMeta(key, value),
    remember: (key, value, ttlMs) => store.remember(key, value, ttlMs),
    recall: (keys) => store.recall(keys),
    forget: (keys) => store.forget(keys),
  };
}

export type SidecarHandler = (ctx: HandlerContext) => Promise<void>;

export type HandlerRegistry = Record<string, SidecarHandler>;
