/**
 * What the console's Shop inbox, Order history and SLA views show, read from the job store: the
 * shop deliveries by result and those waiting for a mapping (sidecar/shops/admin.ts decides which
 * do), each shop's reconciliation watermark and its recent runs' counts (sidecar/shops/reconcile_runs.ts); the recent order_history.* jobs and each site's last
 * bulk history run (sidecar/handlers/order_history/bulk.ts keeps its progress in the store's meta);
 * the last sla.sweep jobs and each site's SLA counts (sidecar/handlers/sla_stats.ts). Only the sites the caller sees, and no job data (names, e-mails).
 */
import type { ShopConfig } from '../../lib/config/shops.js';
import { bulkJobId, lastRunKey, readProgress } from '../handlers/order_history/bulk.js';
import { readSlaStats } from '../handlers/sla_stats.js';
import type { JobRecord, JobState, JobStore } from '../jobs/types.js';
import { shopHeader, waitsForMapping } from '../shops/admin.js';
import { RECONCILE_HANDLER } from '../shops/jobs.js';
import { readRuns } from '../shops/reconcile_runs.js';
import type { BulkRunView, JobView, ReconcileRunView, ShopView, SlaAnswer, TimedJobView } from '../../lib/api/views.js';
import { jobView } from './views.js';

export type { BulkRunView, ShopView, TimedJobView };

const STATES: JobState[] = ['waiting', 'active', 'completed', 'failed'];
/** Jobs read per state; the same bound as the Jobs view's counts (sidecar/console/api.ts). */
const SCAN_LIMIT = 10_000;
/** Rows listed per view: the newest first. */
const LISTED = 100;

type Results = Record<JobState, number>;
const noResults = (): Results => ({ waiting: 0, active: 0, completed: 0, failed: 0 });

async function jobsWhere(store: JobStore, keep: (j: JobRecord) => boolean): Promise<{ jobs: JobRecord[]; partial: boolean }> {
  const lists = await Promise.all(STATES.map((s) => store.list(s, SCAN_LIMIT)));
  return { jobs: lists.flat().filter(keep), partial: lists.some((l) => l.length >= SCAN_LIMIT) };
}


const newestFirst = (a: JobRecord, b: JobRecord) => (b.finishedAtMs ?? b.updatedAtMs) - (a.finishedAtMs ?? a.updatedAtMs);

export async function shopsAnswer(shops: ShopConfig[], store: JobStore, visible: Set<string>): Promise<{ shops: ShopView[]; partial: boolean }> {
  const { jobs, partial } = await jobsWhere(store, (j) => j.name.startsWith('shops.') && visible.has(j.site));
  const rows = await Promise.all(
    shops
      .filter((s) => visible.has(s.site))
      .map(async (s): Promise<ShopView> => {
        const own = jobs.filter((j) => j.data.shop === s.id);
        const results = noResults();
        const reconciliation = { ...noResults(), last: null as JobView | null };
        for (const j of own) (j.name === RECONCILE_HANDLER ? reconciliation : results)[j.state] += 1;
        const runJobs = own.filter((j) => j.name === RECONCILE_HANDLER).sort(newestFirst);
        reconciliation.last = runJobs[0] ? jobView(runJobs[0]) : null;
        const stateOf = new Map(runJobs.map((j) => [j.id, j.state]));
        // A run's job past the scanned lists (a partial read) is looked up by id; one the store has pruned has no state.
        const runs = await Promise.all(
          (await readRuns((k) => store.getMeta(k), s.id)).map(async (r): Promise<ReconcileRunView> => ({ ...r, jobState: stateOf.get(r.job) ?? (await store.get(r.job))?.state ?? null })),
        );
        return {
          ...(await shopHeader(s, store)),
          results,
          reconciliation,
          runs,
          needsMapping: own.filter((j) => j.state === 'failed' && waitsForMapping(j)).sort(newestFirst).slice(0, LISTED).map(jobView),
        };
      }),
  );
  return { shops: rows, partial };
}


function timed(j: JobRecord): TimedJobView {
  return { ...jobView(j), durationMs: j.finishedAtMs !== undefined ? j.finishedAtMs - j.createdAtMs : null };
}

/** The newest jobs of handlers matching `keep`, on the visible sites. */
export async function recentJobs(store: JobStore, visible: Set<string>, keep: (name: string) => boolean): Promise<{ jobs: TimedJobView[]; partial: boolean }> {
  const { jobs, partial } = await jobsWhere(store, (j) => keep(j.name) && visible.has(j.site));
  return { jobs: jobs.sort((a, b) => b.createdAtMs - a.createdAtMs).slice(0, LISTED).map(timed), partial };
}


export async function historyAnswer(store: JobStore, visible: Set<string>, sites: string[]): Promise<{ jobs: TimedJobView[]; partial: boolean; runs: BulkRunView[] }> {
  const recent = await recentJobs(store, visible, (n) => n.startsWith('order_history.'));
  const runs = await Promise.all(
    sites
      .filter((s) => visible.has(s))
      .map(async (site): Promise<BulkRunView> => {
        const run = await store.getMeta(lastRunKey(site));
        if (!run) return { site, run: null, job: null, progress: null };
        const [job, progress] = await Promise.all([store.get(bulkJobId(site, run)), readProgress((k) => store.getMeta(k), site, run)]);
        return { site, run, job: job ? { id: job.id, state: job.state, attempts: job.attempts, lastError: job.lastError ?? null } : null, progress };
      }),
  );
  return { ...recent, runs };
}

/**
 * The SLA view: the recent sla.sweep jobs, and per visible site what its sweeps did today and this
 * week, failures per day and the last sweep. `timeZoneOf` is the site's zone as its status knows
 * it, for a site no sweep has recorded one for yet.
 */
export async function slaAnswer(store: JobStore, visible: Set<string>, sites: string[], timeZoneOf: (site: string) => string | null, nowMs = Date.now()): Promise<SlaAnswer> {
  const recent = await recentJobs(store, visible, (n) => n === 'sla.sweep');
  const stats = await Promise.all(sites.filter((s) => visible.has(s)).map((site) => readSlaStats((k) => store.getMeta(k), site, nowMs, timeZoneOf(site))));
  return { ...recent, sites: stats };
}
