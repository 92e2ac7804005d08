/**
 * What each reconciliation run of a shop did, kept in the job store's meta for the console's Shop
 * inbox (issue 14): per shop one value holding the last RUNS_KEPT runs, newest first, so it is
 * bounded and needs nothing deleted, and works the same on the embedded and the BullMQ store.
 *
 * One record per job: a retried attempt (or a dead letter sent back with Retry) replaces the
 * record of its job instead of adding one. The run writes its record when it starts ("running")
 * and when the attempt ends, under the shop's runs lock, so two runs of one shop (a backfill next
 * to the scheduled one, on two replicas) do not overwrite each other's records.
 */
import type { ReconcileRunView } from '../../lib/api/views.js';
import type { HandlerContext } from '../jobs/handler.js';
import { RECONCILE_HANDLER } from './jobs.js';

/** Runs kept per shop: five hours of the 15-minute schedule, plus backfills. */
export const RUNS_KEPT = 20;

export const runsKey = (shop: string) => `${RECONCILE_HANDLER}.runs|${shop}`;

/** A run as stored: the view without the job's current state, which the console reads from the store. */
export type ReconcileRun = Omit<ReconcileRunView, 'jobState'>;

/** A run's counts as it goes; `listed` is the sum of the others. */
export class RunTally {
  pages = 0;
  listed = 0;
  upToDate = 0;
  enqueued = 0;
  unreadable = 0;
  skipped = 0;
  readonly skippedWhy: Record<string, number> = {};
  /** The newest updated_at of the orders read, for the watermark. */
  newest: string | null = null;

  skip(reason: string): void {
    this.skipped += 1;
    this.skippedWhy[reason] = (this.skippedWhy[reason] ?? 0) + 1;
  }

  counts(): Pick<ReconcileRun, 'pages' | 'listed' | 'upToDate' | 'enqueued' | 'unreadable' | 'skipped' | 'skippedWhy'> {
    return { pages: this.pages, listed: this.listed, upToDate: this.upToDate, enqueued: this.enqueued, unreadable: this.unreadable, skipped: this.skipped, skippedWhy: { ...this.skippedWhy } };
  }
}

function parseRuns(raw: string | null): ReconcileRun[] {
  if (!raw) return [];
  try {
    const runs = JSON.parse(raw) as unknown;
    return Array.isArray(runs) ? (runs as ReconcileRun[]) : [];
  } catch {
    return [];
  }
}

/** The shop's recorded runs, newest first. */
export async function readRuns(getMeta: (key: string) => Promise<string | null>, shop: string): Promise<ReconcileRun[]> {
  return parseRuns(await getMeta(runsKey(shop)));
}

/** Put `run` first in the shop's runs, in place of any earlier record of its job; keep RUNS_KEPT. */
export async function recordRun(ctx: Pick<HandlerContext, 'meta' | 'lock'>, shop: string, run: ReconcileRun): Promise<void> {
  await ctx.lock(runsKey(shop), async () => {
    const runs = parseRuns(await ctx.meta.get(runsKey(shop))).filter((r) => r.job !== run.job);
    await ctx.meta.set(runsKey(shop), JSON.stringify([run, ...runs].slice(0, RUNS_KEPT)));
  });
}
