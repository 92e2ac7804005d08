/**
 * What each job carries, by handler id: the one place a payload's shape is written down. The
 * runner's `enqueue` checks a job's data against it, and handlers written with `jobHandler` read
 * it typed. The store keeps `data` as a plain JSON object (its contract,
 * test/sidecar/job_store.conformance.ts): the types live at the runner/handler boundary only.
 *
 * A feature whose payloads need its own types adds its ids from its own module (TypeScript's
 * interface merging, `declare module`), as the shop jobs do in sidecar/shops/jobs.ts, so this
 * module imports nothing above the job layer.
 */
import type { JobSpec } from './types.js';

/** One version of one document (sidecar/realtime/dispatch.ts): realtime and catch-up alike. */
export interface DocVersionPayload {
  [key: string]: unknown;
  doctype: string;
  name: string;
  /** Null when the document is gone (a delete). */
  modified: string | null;
  source: 'realtime' | 'catchup';
  heardAtMs: number;
}

/** A scheduler tick (sidecar/scheduler.ts): its minute and the site's time zone. */
export interface TickPayload {
  [key: string]: unknown;
  slot: string;
  timeZone: string;
}

export interface JobPayloads {
  'health.check': TickPayload;
  'sla.sweep': TickPayload;
  'sla.notify': { [key: string]: unknown; doctype: string; name: string; subject: string; recipients?: string[] };
  'comms.communication': DocVersionPayload;
  'order_history.request': DocVersionPayload;
  'order_history.refresh': DocVersionPayload;
  /** One lead or ticket whose table to rebuild; `cause` names the document whose change asked for it. */
  'order_history.rebuild': { [key: string]: unknown; doctype: string; name: string; cause?: string };
}

export type JobName = keyof JobPayloads;

/** A job whose data is checked against its handler's payload. */
export type JobSpecOf<K extends JobName> = Omit<JobSpec, 'name' | 'data'> & { name: K; data: JobPayloads[K] };

/** The runner's enqueue (sidecar/jobs/runner.ts): true when the job is new, false for a duplicate id. */
export type Enqueue = <K extends JobName>(spec: JobSpecOf<K>) => Promise<boolean>;

/** The runner's enqueueMany: the specs in one durable store write; per spec, as `Enqueue` answers. */
export type EnqueueMany = <K extends JobName>(specs: readonly JobSpecOf<K>[]) => Promise<boolean[]>;

/** The handler ids that accept a `P` as their data (e.g. every id a manifest may wire to a DocType event). */
export type JobNameFor<P> = { [K in JobName]: P extends JobPayloads[K] ? K : never }[JobName];

/**
 * A manifest names handlers by string; `checkHandlers` (sidecar/runtime.ts) has made sure each
 * exists before any job is made, so the id is taken as one of the ids that accept a `P`.
 */
export function manifestHandler<P>(id: string): JobNameFor<P> {
  return id as JobNameFor<P>;
}
