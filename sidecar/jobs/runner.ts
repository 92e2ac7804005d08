/**
 * The job runner: the one way work enters the job store and the one place a job becomes a handler
 * call. The runtime's dispatch (realtime and catch-up), the scheduler, handlers' follow-up jobs
 * and the webhook router all enqueue here, so every job gets the same policy by the same rule.
 *
 * Retry policy, later wins:
 *   1. the store's defaults (sidecar/jobs/backoff.ts: 8 attempts from 1 s), for whatever is still unset;
 *   2. `jobDefaults` (the sidecar's options: a policy for jobs that do not set their own);
 *   3. the handler's own policy (`policies`, e.g. SHOP_JOB_POLICY for shop deliveries and orders);
 *   4. the job spec's own `maxAttempts` / `backoffMs`.
 * A handler's policy thus beats the defaults, and one job may still ask for something else.
 */
import { describeError } from '../../lib/errors.js';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { redactSecrets, type Logger } from '../../lib/log.js';
import type { Metrics } from '../metrics.js';
import { handlerMeta, type HandlerContext, type HandlerRegistry, type SidecarHandler } from './handler.js';
import type { Enqueue, EnqueueMany, JobName, JobPayloads } from './payloads.js';
import type { JobHandler, JobRecord, JobSpec, JobStore, JobStoreEvents, StartOptions } from './types.js';

/** How long a handler's `lock` holds its key before another replica may take it. */
export const LOCK_TIMEOUT_MS = 30_000;

export interface JobPolicy {
  maxAttempts?: number;
  backoffMs?: number;
}

export interface RunnerOptions {
  store: JobStore;
  logger: Logger;
  metrics: Metrics;
  /** The one handler registry: every id a manifest may name, shop handlers included. */
  handlers: HandlerRegistry;
  /** Each handler's own retry policy, over `jobDefaults` (see the order above). */
  policies?: Partial<Record<string, JobPolicy>>;
  jobDefaults?: JobPolicy;
  /** The REST client of a site the sidecar serves; undefined for a site it does not. */
  clientFor(site: string): FrappeClient | undefined;
  /** @defaultValue LOCK_TIMEOUT_MS */
  lockTimeoutMs?: number;
}

export interface Runner {
  readonly handlers: HandlerRegistry;
  enqueue: Enqueue;
  /** Many jobs in one durable store write (a catch-up page), each given the policy `enqueue` would give it. */
  enqueueMany: EnqueueMany;
  /** Start working the store's jobs with the registry's handlers. */
  start(opts: StartOptions, events: JobStoreEvents): Promise<void>;
}

/** Only the fields that are set: an `undefined` must not undo a lower layer. */
function policyOf(p: JobPolicy | undefined): JobPolicy {
  const out: JobPolicy = {};
  if (p?.maxAttempts !== undefined) out.maxAttempts = p.maxAttempts;
  if (p?.backoffMs !== undefined) out.backoffMs = p.backoffMs;
  return out;
}

/** A handler that reads its job's data as the payload its id names (sidecar/jobs/payloads.ts). */
export function jobHandler<K extends JobName>(_name: K, fn: (ctx: HandlerContext, data: JobPayloads[K]) => Promise<void>): SidecarHandler {
  // Every job under this id was enqueued through the runner, which checked its data against this type.
  return (ctx) => fn(ctx, ctx.job.data as JobPayloads[K]);
}

export function createRunner(opts: RunnerOptions): Runner {
  const { store, logger, metrics, handlers } = opts;
  const lockTimeoutMs = opts.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
  const meta = handlerMeta(store);

  /** The one merge order (see the top of this file), for enqueue and enqueueMany alike. */
  const withPolicy = (spec: JobSpec): JobSpec => ({ ...policyOf(opts.jobDefaults), ...policyOf(opts.policies?.[spec.name]), ...spec });

  const enqueue: Enqueue = async (spec) => {
    const job = withPolicy(spec);
    const added = await store.enqueue(job);
    if (added) logger.debug({ site: job.site, job: job.id }, 'job enqueued');
    return added;
  };

  const enqueueMany: EnqueueMany = async (specs) => {
    if (specs.length === 0) return [];
    const jobs = specs.map(withPolicy);
    const added = await store.enqueueMany(jobs);
    if (logger.isLevelEnabled('debug')) {
      jobs.forEach((job, i) => {
        if (added[i]) logger.debug({ site: job.site, job: job.id }, 'job enqueued');
      });
    }
    return added;
  };

  function contextFor(job: JobRecord, signal: AbortSignal, attempt: number): HandlerContext {
    const client = opts.clientFor(job.site);
    if (!client) throw new Error(`job ${job.id} is for unknown site ${job.site}`);
    return {
      site: job.site,
      client,
      logger: logger.child({ site: job.site, job: job.id }),
      metrics,
      enqueue,
      job,
      signal,
      attempt,
      meta,
      lock: (key, fn) => store.withLock(`${job.site}|${key}`, lockTimeoutMs, fn),
    };
  }

  return {
    handlers,
    enqueue,
    enqueueMany,
    async start(startOpts, events) {
      const jobHandlers: Record<string, JobHandler> = {};
      for (const [id, handler] of Object.entries(handlers)) {
        jobHandlers[id] = async (job, jctx) => {
          const ctx = contextFor(job, jctx.signal, jctx.attempt);
          const heard = Number(job.data.heardAtMs);
          if (Number.isFinite(heard) && jctx.attempt === 1) {
            metrics.eventToHandler.observe({ site: job.site, source: String(job.data.source ?? 'realtime') }, (Date.now() - heard) / 1000);
          }
          await handler(ctx);
        };
      }
      await store.start(jobHandlers, startOpts, events);
    },
  };
}

/** The store's outcome of a job, as the runtime logs it. */
export function logJobOutcome(logger: Logger, job: JobRecord, outcome: 'completed' | 'retried' | 'failed', error?: unknown): void {
  if (outcome === 'failed') logger.error({ site: job.site, job: job.id, error: job.lastError }, `job ${job.id} dead-lettered after ${job.attempts} attempt(s): ${job.lastError}`);
  else if (outcome === 'retried') logger.warn({ site: job.site, job: job.id, attempt: job.attempts }, `job ${job.id} failed, will retry: ${redactSecrets(describeError(error))}`);
}
