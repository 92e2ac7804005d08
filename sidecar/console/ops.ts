/**
 * What the console's Shop inbox, Order history and SLA views show, read from the job store: the
 * shop deliveries by result and those waiting for a mapping (sidecar/shops/admin.ts decides which
 * do), each shop's reconciliation watermark and its recent runs' counts (sidecar/shops/reconcile_runs.ts); the recent order_history.* jobs and each site's last
 * bulk history run (sidecar/handlers/order_history/bulk.ts keeps its progress in the store's meta)
 * and its Order Sync Requests (sidecar/console/sync_requests.ts);
 * the last sla.sweep jobs and each site's SLA counts (sidecar/handlers/sla_stats.ts). Only the sites the caller sees, and no job data (names, e-mails).
 */
import type { ShopConfig } from '../../lib/config/shops.js';
import { bulkJobId, lastRunKey, readProgress } from '../handlers/order_history/bulk.js';
import { readSlaStats } from '../handlers/sla_stats.js';
import type { JobPage, JobRecord, JobState, JobStore } from '../jobs/types.js';
import { shopHeader, waitsForMapping } from '../shops/admin.js';
import { RECONCILE_HANDLER } from '../shops/jobs.js';
import { readRuns } from '../shops/reconcile_runs.js';
import type { BulkRunView, HistoryAnswer, JobView, ReconcileRunView, ShopView, SlaAnswer, TimedJobView } from '../../lib/api/views.js';
import type { SyncRequestReader } from './sync_requests.js';
import { jobView } from './views.js';

export type { BulkRunView, ShopView, TimedJobView };

const STATES: JobState[] = ['waiting', 'active', 'completed', 'failed'];
/** Jobs read per handler and state for the Shop inbox's per-shop results. */
const SCAN_LIMIT = 10_000;
/** Rows listed per view: the newest first. */
const LISTED = 100;
/** Jobs asked for per page call, and the most calls per handler and state. */
const PAGE = 1000;
const MAX_PAGE_CALLS = 10;

type Results = Record<JobState, number>;
const noResults = (): Results => ({ waiting: 0, active: 0, completed: 0, failed: 0 });

/**
 * The jobs of the handlers `keep` accepts, on the visible sites: up to `each` per handler and state,
 * newest first. The store's counters say which (handler, state) have any, so only those are read,
 * and only their pages (no other handler's jobs, on the embedded store).
 */
async function jobsOf(store: JobStore, visible: Set<string>, keep: (name: string) => boolean, each: number): Promise<{ jobs: JobRecord[]; partial: boolean; short: boolean }> {
  const { rows } = await store.countsBy();
  const wanted = new Map<string, Results>();
  for (const r of rows) {
    if (!keep(r.name) || !visible.has(r.site)) continue;
    const sum = wanted.get(r.name) ?? noResults();
    for (const s of STATES) sum[s] += r.counts[s];
    wanted.set(r.name, sum);
  }
  const reads = [...wanted].flatMap(([name, counts]) => STATES.filter((s) => counts[s] > 0).map((state) => ({ name, state, count: counts[state] })));
  const pages = await Promise.all(
    reads.map(async ({ name, state }) => {
      const jobs: JobRecord[] = [];
      let after: string | null = null;
      // Bounded: a store may answer short pages (sidecar/jobs/types.ts `page`).
      for (let call = 0; call < MAX_PAGE_CALLS && jobs.length < each; call++) {
        const page: JobPage = await store.page({ state, name, sites: visible, limit: Math.min(PAGE, each - jobs.length), after });
        jobs.push(...page.jobs);
        after = page.next;
        if (after === null) break;
      }
      return { jobs, partial: after !== null && jobs.length < each };
    }),
  );
  // partial: some (handler, state) has more than `each`; short: its pages stopped before `each` and its end.
  return { jobs: pages.flatMap((p) => p.jobs), partial: reads.some((r) => r.count > each), short: pages.some((p) => p.partial) };
}


const newestFirst = (a: JobRecord, b: JobRecord) => (b.finishedAtMs ?? b.updatedAtMs) - (a.finishedAtMs ?? a.updatedAtMs);

export async function shopsAnswer(shops: ShopConfig[], store: JobStore, visible: Set<string>): Promise<{ shops: ShopView[]; partial: boolean }> {
  const read = await jobsOf(store, visible, (n) => n.startsWith('shops.'), SCAN_LIMIT);
  const { jobs } = read;
  const partial = read.partial || read.short;
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
  // The newest LISTED of each handler and state hold the newest LISTED of them all.
  const { jobs, short } = await jobsOf(store, visible, keep, LISTED);
  return { jobs: jobs.sort((a, b) => b.createdAtMs - a.createdAtMs).slice(0, LISTED).map(timed), partial: short };
}


/**
 * The Order history view: the recent order_history.* jobs, per visible site its last bulk run, and
 * the site's own most recent Order Sync Requests (read by `readRequests`; none without it). A site
 * whose requests cannot be read says why; the rest of the answer stands.
 */
export async function historyAnswer(
  store: JobStore,
  visible: Set<string>,
  sites: { name: string; url: string }[],
  readRequests?: SyncRequestReader,
): Promise<HistoryAnswer> {
  const shown = sites.filter((s) => visible.has(s.name));
  const [recent, runs, requests] = await Promise.all([
    recentJobs(store, visible, (n) => n.startsWith('order_history.')),
    Promise.all(
      shown.map(async ({ name: site, url }): Promise<BulkRunView> => {
        const run = await store.getMeta(lastRunKey(site));
        if (!run) return { site, url, run: null, job: null, progress: null };
        const [job, progress] = await Promise.all([store.get(bulkJobId(site, run)), readProgress((k) => store.getMeta(k), site, run)]);
        return { site, url, run, job: job ? { id: job.id, state: job.state, attempts: job.attempts, lastError: job.lastError ?? null } : null, progress };
      }),
    ),
    readRequests ? Promise.all(shown.map((s) => readRequests(s.name))) : Promise.resolve([]),
  ]);
  return { ...recent, runs, requests };
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
