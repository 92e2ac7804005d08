/**
 * Bulk order-history sync (README "Bulk history sync"): every CRM Lead / HD Ticket matched to a
 * customer gets its table rebuilt, a page of them at a time, with the same rules as one Fetch
 * (match.ts, history.ts) but each step one call for the whole page — customers matched, orders
 * with their lines and Work Orders listed for every customer of the page at once — and one write
 * per lead whose rows changed. A run is one job (`order_history.bulk`); its progress is a
 * checkpoint in the job store after every page, so a run cut short (crash, SIGKILL, stop) resumes
 * from the page it was on, and the counts never count a page twice.
 */
import { isPermanent } from '../../../lib/errors.js';
import { redactSecrets } from '../../../lib/log.js';
import type { Filter, FrappeDoc } from '../../../lib/frappe/types.js';
import type { BulkOptions, BulkProgress } from '../../../lib/api/views.js';
import type { HandlerContext, SidecarHandler } from '../types.js';

export type { BulkOptions, BulkProgress };
import { jobHandler } from '../../jobs/runner.js';
import { buildHistories, sameRows, ROW_FIELDS, type HistoryRow } from './history.js';
import { AmbiguousCustomerError, CRM_LEAD, HD_TICKET, LEAD_MATCH_FIELDS, TICKET_MATCH_FIELDS, matchLeads, matchTickets, type LeadLike, type MatchOutcome, type TicketLike } from './match.js';
import { TARGETS, writeHistory } from './table.js';

export const BULK_HANDLER = 'order_history.bulk' as const;
export const BULK_DOCTYPES = [CRM_LEAD, HD_TICKET] as const;
export type BulkDoctype = (typeof BULK_DOCTYPES)[number];

/** Leads or tickets per page: about eight reads for the page, so 1,000 leads cost about 35 reads. */
export const BULK_PAGE = 250;
/** Writes of one page in flight at once: a fresh install changes every table. */
const WRITE_CONCURRENCY = 4;
/** Names kept in the summary per kind (ambiguous, failed); the counts are always whole. */
const LISTED = 50;
/** Leads/tickets without a customer kept by name: the ones to look at first (the count is whole). */
export const WITHOUT_CUSTOMER_LISTED = 200;


/** A bulk run's job: which run (its checkpoint's key) and what it covers. */
export interface BulkJobData {
  [key: string]: unknown;
  run: string;
  options: BulkOptions;
}

declare module '../../jobs/payloads.js' {
  interface JobPayloads {
    'order_history.bulk': BulkJobData;
  }
}

export function bulkJobId(site: string, run: string): string {
  return `${BULK_HANDLER}|${site}|${run}`;
}

export function progressKey(site: string, run: string): string {
  return `${BULK_HANDLER}|${site}|${run}`;
}

/** The key under which the last run's id is kept, so `history sync` can resume or report it. */
export function lastRunKey(site: string): string {
  return `${BULK_HANDLER}|${site}|last`;
}

function doctypesOf(options: BulkOptions): BulkDoctype[] {
  return options.doctype ? [options.doctype] : [...BULK_DOCTYPES];
}

function baseFilters(options: BulkOptions): Filter[] {
  return options.since ? [['creation', '>=', `${options.since} 00:00:00`]] : [];
}

/** A lead or ticket as a page lists it: the fields matching reads, and `modified` for the write. */
type Target = FrappeDoc<Record<string, unknown>> & (LeadLike | TicketLike) & { name: string | number };

/** One page of leads/tickets after `cursor`, in name order, with what matching reads. */
async function pageAfter(ctx: HandlerContext, doctype: BulkDoctype, options: BulkOptions, cursor: string | number | null): Promise<Target[]> {
  const fields = doctype === CRM_LEAD ? [...LEAD_MATCH_FIELDS, 'modified'] : [...TICKET_MATCH_FIELDS, 'modified'];
  const filters = baseFilters(options);
  if (cursor !== null) filters.push(['name', '>', cursor]);
  return ctx.client.getList<Target>(doctype, { fields, filters, orderBy: 'name asc', limitPageLength: BULK_PAGE, signal: ctx.signal });
}

/** The stored table rows of these leads/tickets, by name: one child-table listing. */
async function tablesOf(ctx: HandlerContext, doctype: BulkDoctype, names: (string | number)[]): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>(names.map((n) => [String(n), []]));
  if (!names.length) return out;
  const rows = await ctx.client.getList<Record<string, unknown> & { parent: string }>(TARGETS[doctype]!, {
    parent: doctype,
    fields: ['parent', 'idx', ...ROW_FIELDS],
    filters: [['parent', 'in', names.map(String)]],
    orderBy: 'parent asc, idx asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  for (const r of rows) out.get(String(r.parent))?.push(r);
  return out;
}

function reasonOf(err: unknown): string {
  const msg = redactSecrets(err instanceof Error ? err.message : String(err));
  return msg.length > 300 ? `${msg.slice(0, 297)}...` : msg;
}

/** Run `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** What one page adds to the run's counts. */
type PageTally = Pick<BulkProgress, 'synced' | 'unchanged' | 'skipped' | 'noCustomer' | 'ambiguousCount' | 'failedCount'> & {
  ambiguous: BulkProgress['ambiguous'];
  withoutCustomer: BulkProgress['withoutCustomer'];
  failed: BulkProgress['failed'];
};

async function syncPage(ctx: HandlerContext, doctype: BulkDoctype, page: Target[], options: BulkOptions): Promise<PageTally> {
  const tally: PageTally = { synced: 0, unchanged: 0, skipped: 0, noCustomer: 0, ambiguousCount: 0, failedCount: 0, ambiguous: [], withoutCustomer: [], failed: [] };
  const tables = await tablesOf(ctx, doctype, page.map((t) => t.name));
  const todo = options.onlyEmpty ? page.filter((t) => !tables.get(String(t.name))?.length) : page;
  tally.skipped = page.length - todo.length;
  const matched: Map<string, MatchOutcome> =
    doctype === CRM_LEAD ? await matchLeads(ctx, todo as LeadLike[]) : await matchTickets(ctx, todo as TicketLike[]);
  const customers = [...matched.values()].flatMap((m) => (m.ok ? [m.customer] : []));
  const histories = await buildHistories(ctx, customers);

  await eachLimited(todo, WRITE_CONCURRENCY, async (target) => {
    const name = String(target.name);
    const outcome = matched.get(name);
    if (!outcome || !outcome.ok) {
      if (outcome?.error instanceof AmbiguousCustomerError) {
        tally.ambiguousCount += 1;
        if (tally.ambiguous.length < LISTED) tally.ambiguous.push({ doctype, name, customers: outcome.error.customers });
      } else {
        tally.noCustomer += 1;
        tally.withoutCustomer.push({ doctype, name });
      }
      return;
    }
    const rows: HistoryRow[] = histories.get(outcome.customer) ?? [];
    const stored = tables.get(name) ?? [];
    if (sameRows(stored, rows)) return void (tally.unchanged += 1);
    if (options.dryRun) return void (tally.synced += 1);
    try {
      // Under the lead's lock, as a Fetch is: the two never write the same table at once.
      const written = await ctx.lock(`order_history|${doctype}|${name}`, () => writeHistory(ctx, doctype, { ...target, custom_order_history: stored }, rows));
      if (written) tally.synced += 1;
      else tally.unchanged += 1;
    } catch (err) {
      if (!isPermanent(err)) throw err; // the page is retried from the checkpoint
      tally.failedCount += 1;
      if (tally.failed.length < LISTED) tally.failed.push({ doctype, name, reason: reasonOf(err) });
    }
  });
  // The lanes finish in any order; the names are kept in the page's (name) order.
  const position = new Map(todo.map((t, i) => [String(t.name), i]));
  tally.withoutCustomer.sort((a, b) => position.get(a.name)! - position.get(b.name)!);
  return tally;
}

function add(p: BulkProgress, t: PageTally, pageSize: number): void {
  p.done += pageSize;
  p.synced += t.synced;
  p.unchanged += t.unchanged;
  p.skipped += t.skipped;
  p.noCustomer += t.noCustomer;
  p.ambiguousCount += t.ambiguousCount;
  p.failedCount += t.failedCount;
  p.ambiguous.push(...t.ambiguous.slice(0, Math.max(0, LISTED - p.ambiguous.length)));
  p.withoutCustomer.push(...t.withoutCustomer.slice(0, Math.max(0, WITHOUT_CUSTOMER_LISTED - p.withoutCustomer.length)));
  p.failed.push(...t.failed.slice(0, Math.max(0, LISTED - p.failed.length)));
}

/** A fresh run's progress: the totals counted now, nothing done. */
export async function startProgress(ctx: Pick<HandlerContext, 'client' | 'signal'>, site: string, run: string, options: BulkOptions, now: Date): Promise<BulkProgress> {
  let total = 0;
  for (const doctype of doctypesOf(options)) total += await ctx.client.getCount(doctype, baseFilters(options), { signal: ctx.signal });
  return {
    run,
    site,
    options,
    state: 'running',
    startedAt: now.toISOString(),
    total,
    done: 0,
    synced: 0,
    unchanged: 0,
    skipped: 0,
    noCustomer: 0,
    ambiguousCount: 0,
    ambiguous: [],
    withoutCustomer: [],
    failedCount: 0,
    failed: [],
    doctypeIndex: 0,
    cursor: null,
  };
}

/**
 * Walk the run from its checkpoint to the end, saving the checkpoint after every page. Throws on a
 * transient failure (the job is retried and resumes); ends with the progress marked done.
 */
export async function runBulk(ctx: HandlerContext, progress: BulkProgress): Promise<BulkProgress> {
  const doctypes = doctypesOf(progress.options);
  const key = progressKey(ctx.site, progress.run);
  while (progress.doctypeIndex < doctypes.length) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('stopped');
    const doctype = doctypes[progress.doctypeIndex]!;
    const page = await pageAfter(ctx, doctype, progress.options, progress.cursor);
    if (page.length) {
      const tally = await syncPage(ctx, doctype, page, progress.options);
      add(progress, tally, page.length);
      progress.cursor = page[page.length - 1]!.name;
    }
    if (page.length < BULK_PAGE) {
      progress.doctypeIndex += 1;
      progress.cursor = null;
    }
    await ctx.meta.set(key, JSON.stringify(progress));
    ctx.logger.info({ event: 'order_history_bulk_page', site: ctx.site, run: progress.run, done: progress.done, total: progress.total }, `bulk order history sync ${progress.run}: ${progress.done}/${progress.total}`);
  }
  progress.state = 'done';
  progress.finishedAt = new Date().toISOString();
  // More documents than were counted at the start (created meanwhile): the total follows.
  progress.total = Math.max(progress.total, progress.done);
  await ctx.meta.set(key, JSON.stringify(progress));
  ctx.logger.info(
    { event: 'order_history_bulk_done', site: ctx.site, run: progress.run, synced: progress.synced, unchanged: progress.unchanged, noCustomer: progress.noCustomer, ambiguous: progress.ambiguousCount, failed: progress.failedCount },
    `bulk order history sync ${progress.run}: ${progress.synced} synced, ${progress.unchanged} unchanged, ${progress.noCustomer} without customer, ${progress.ambiguousCount} ambiguous, ${progress.failedCount} failed`,
  );
  return progress;
}

/** A failed run's checkpoint made running again: it goes on from where it stopped. */
export function reopen(progress: BulkProgress): void {
  progress.state = 'running';
  delete progress.error;
  delete progress.finishedAt;
}

/** A run's checkpoint, read with the job store's meta (`ctx.meta.get`, `store.getMeta`); null before its first page. */
export async function readProgress(read: (key: string) => Promise<string | null>, site: string, run: string): Promise<BulkProgress | null> {
  const raw = await read(progressKey(site, run));
  if (!raw) return null;
  const progress = JSON.parse(raw) as BulkProgress;
  // Checkpoints written before the names were kept: a resumed run keeps them from here on.
  progress.withoutCustomer ??= [];
  return progress;
}

/**
 * `handler` (the bulk job) with every checkpoint it writes also handed to `onCheckpoint` once the
 * store has it: the runtime turns these into `history_progress` events, which the console's live
 * link pushes (sidecar/console/live.ts) — a run's progress is seen while it runs, not only at its end.
 */
export function reportingCheckpoints(handler: SidecarHandler, onCheckpoint: (site: string, progress: BulkProgress) => void): SidecarHandler {
  return (ctx) => {
    const key = progressKey(ctx.site, String(ctx.job.data.run));
    const set = async (k: string, value: string) => {
      await ctx.meta.set(k, value);
      if (k !== key) return;
      try {
        onCheckpoint(ctx.site, JSON.parse(value) as BulkProgress);
      } catch (err) {
        // Only the live view misses a page; the run and its checkpoint stand.
        ctx.logger.warn({ site: ctx.site, key, err: err instanceof Error ? err.message : String(err) }, 'bulk history checkpoint not reported');
      }
    };
    return handler({ ...ctx, meta: { ...ctx.meta, set } });
  };
}

/**
 * The job: resume the run from its checkpoint (or start it), walk it to the end. A permanent
 * failure (the site refuses the listing, say) ends the run failed with the reason, visible to
 * `history sync` and in the dead letters; a transient one is retried and resumes from the page.
 */
export const bulkHandler: SidecarHandler = jobHandler(BULK_HANDLER, async (ctx, { run, options }) => {
  const key = progressKey(ctx.site, run);
  let progress = await readProgress((k) => ctx.meta.get(k), ctx.site, run);
  if (progress?.state === 'done') return;
  // A failed run sent back to the queue (history sync again, jobs retry) goes on from its checkpoint.
  if (progress?.state === 'failed') reopen(progress);
  if (!progress) {
    progress = await startProgress(ctx, ctx.site, run, options, new Date());
    await ctx.meta.set(key, JSON.stringify(progress));
  }
  try {
    await runBulk(ctx, progress);
  } catch (err) {
    if (isPermanent(err) || ctx.attempt >= ctx.job.maxAttempts) {
      progress.state = 'failed';
      progress.error = reasonOf(err);
      progress.finishedAt = new Date().toISOString();
      await ctx.meta.set(key, JSON.stringify(progress));
    }
    throw err;
  }
});
