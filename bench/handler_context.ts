/**
 * A HandlerContext as the runner builds it (sidecar/jobs/runner.ts) — the site's client, the job
 * store's meta and lock — for benchmarks that call a handler's work directly, so each call is
 * timed alone, without the queue around it.
 */
import type { FrappeClient } from '../lib/frappe/client.js';
import type { Logger } from '../lib/log.js';
import type { HandlerContext } from '../sidecar/handlers/types.js';
import { handlerMeta } from '../sidecar/jobs/handler.js';
import type { JobRecord, JobStore } from '../sidecar/jobs/types.js';
import type { Metrics } from '../sidecar/metrics.js';

export interface BenchContextDeps {
  site: string;
  client: FrappeClient;
  store: JobStore;
  logger: Logger;
  metrics: Metrics;
}

let seq = 0;

export function benchHandlerContext(deps: BenchContextDeps, name: string, data: Record<string, unknown>): HandlerContext {
  const now = Date.now();
  const job: JobRecord = {
    id: `${name}|${deps.site}|bench-${++seq}`,
    name,
    site: deps.site,
    data,
    state: 'active',
    attempts: 1,
    maxAttempts: 8,
    backoffMs: 1000,
    runAtMs: now,
    createdAtMs: now,
    updatedAtMs: now,
  };
  return {
    site: deps.site,
    client: deps.client,
    logger: deps.logger.child({ site: deps.site, job: job.id }),
    metrics: deps.metrics,
    enqueue: (spec) => deps.store.enqueue(spec),
    job,
    signal: new AbortController().signal,
    attempt: 1,
    meta: handlerMeta(deps.store),
    lock: (key, fn) => deps.store.withLock(`${deps.site}|${key}`, 30_000, fn),
  };
}
