/**
 * What a feature handler (SLA, communications, order history, shop sync) receives. Handlers are
 * named in hooks_manifest.json by id and never touch the job store's implementation.
 */
import type { FrappeClient } from '../frappe/client.js';
import type { JobContext, JobRecord, JobSpec } from '../jobs/types.js';
import type { Logger } from '../log.js';
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
}

export type SidecarHandler = (ctx: HandlerContext) => Promise<void>;

export type HandlerRegistry = Record<string, SidecarHandler>;
