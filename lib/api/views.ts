/**
 * What the sidecar's HTTP API answers (the console's /console/api, the CLI's /admin/history/sync):
 * the one definition of those shapes, for the server that builds them (sidecar/console/,
 * sidecar/handlers/order_history/), the console page that shows them (console/api.ts) and the CLI
 * (scripts/history_progress.ts). Types only, nothing of Node: the page's build includes this file.
 */

/** A job's state as the job store has it (sidecar/jobs/types.ts `JobState`). */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

/** Whether the site holds this release's records (sidecar/site/records_check.ts), checked on start and then hourly. */
export interface RecordsView {
  /** unknown: not checked yet, or the check failed (`error` says why). */
  state: 'unknown' | 'up_to_date' | 'out_of_date' | 'not_installed';
  /** Records of this release the site's install does not match (all of them when not installed). */
  outOfDate: number;
  /** Records this release installs. */
  total: number;
  /** This sidecar's release (package.json version). */
  productVersion: string | null;
  /** The release whose install last ran to its end on the site. */
  installedVersion: string | null;
  installedAt: string | null;
  checkedAt: string | null;
  error: string | null;
}

export interface SiteView {
  name: string;
  url: string;
  ready: boolean;
  user: string | null;
  rest: { ok: boolean; error: string | null; checkedAt: string | null };
  realtime: { state: 'connected' | 'disconnected'; since: string | null; eventsArrive: boolean; error: string | null };
  timeZone: string | null;
  catchup: { running: boolean; lastRunAt: string | null; lastDocuments: number; error: string | null };
  records: RecordsView;
}

export interface JobView {
  id: string;
  handler: string;
  site: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** When a waiting job that has failed before runs again (epoch ms); null otherwise. */
  nextRetryAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface SessionInfo {
  sites: string[];
  signedIn: { site: string; user: string }[];
  roles: string[];
  /** The site whose Frappe session (`sid` cookie) this browser sent along, when the console is served under that site's host name. */
  frappeSession?: string;
}

export interface JobsAnswer {
  /** Jobs per handler and state on the sites asked about (all the caller sees, or `site`), from the job store's counters. */
  counts: Record<string, Record<JobState, number>>;
  /** The counts may be off for a while: the store found its counters drifting and recounts them (BullMQ). */
  partial: boolean;
  /** How many jobs the filter (state, handler, site) has, from `counts`. */
  total: number;
  /** One page of the filter's jobs, newest first. */
  jobs: JobView[];
  /** Ask again with `after` set to this for the next page; null on the last. */
  next: string | null;
}

/** Jobs of one shop by state. */
export type ShopResults = Record<JobState, number>;

export interface ShopView {
  id: string;
  platform: string;
  shop: string;
  site: string;
  reconcile: boolean;
  /** Where reconciliation has read the shop's orders up to (its job's watermark); null before the first run. */
  watermark: string | null;
  /** Deliveries and orders of this shop by result (reconciliation runs apart). */
  results: ShopResults;
  reconciliation: ShopResults & { last: JobView | null };
  /** What the shop's recent reconciliation runs did, newest first (the last RUNS_KEPT, sidecar/shops/reconcile_runs.ts). */
  runs: ReconcileRunView[];
  /** Dead letters that wait for a mapping; the reason is the job's redacted error. */
  needsMapping: JobView[];
}

/**
 * One reconciliation run of one shop (one shops.reconcile job; a retry of the job replaces its
 * record). listed = upToDate + enqueued + unreadable + skipped.
 */
export interface ReconcileRunView {
  job: string;
  /** The attempt this record is of (1-based). */
  attempt: number;
  /** A backfill reads from a date it was given; a scheduled run from the watermark minus the overlap. */
  trigger: 'scheduled' | 'backfill';
  /** running until the attempt ends; failed is this attempt's outcome (`jobState` says whether the job retries). */
  outcome: 'running' | 'completed' | 'failed';
  /** The job's state now, as the store has it; null once the store has pruned the job. */
  jobState: JobState | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** The watermark when the run started, the time it listed changes from, the watermark it left. */
  watermarkBefore: string | null;
  since: string;
  watermarkAfter: string | null;
  /** Pages the shop's API answered. */
  pages: number;
  /** Orders (Etsy receipts) the shop listed as changed since `since`. */
  listed: number;
  /** Versions (order, updated_at) an earlier run or this one had already queued: applied, or waiting / parked. */
  upToDate: number;
  /** Versions queued now: orders new to the sidecar, or newer than the version it has. */
  enqueued: number;
  /** Records that could not be read, queued raw to wait as their own dead letter (or already so). */
  unreadable: number;
  /** Listed but not queued, and why (e.g. "not paid yet": an Etsy receipt polled again once it changes). */
  skipped: number;
  skippedWhy: Record<string, number>;
  /** The attempt's error, redacted, when it failed. */
  error: string | null;
}

export interface ShopsAnswer {
  shops: ShopView[];
  partial: boolean;
}

export interface TimedJobView extends JobView {
  /** From enqueued to finished, for a finished job. */
  durationMs: number | null;
}

export interface BulkOptions {
  /** One DocType, or both when absent. */
  doctype?: 'CRM Lead' | 'HD Ticket';
  /** Only leads/tickets created on or after this date (YYYY-MM-DD, the site's calendar). */
  since?: string;
  /** Only those whose table is empty. */
  onlyEmpty?: boolean;
  /** Match and compare, write nothing: the summary says what a real run would change. */
  dryRun?: boolean;
}

export interface BulkProgress {
  run: string;
  site: string;
  options: BulkOptions;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  /** Leads/tickets the run covers (counted when it started). */
  total: number;
  /** Seen so far: synced + unchanged + skipped + noCustomer + ambiguous + failed. */
  done: number;
  /** Tables written (or, on a dry run, that would be). */
  synced: number;
  unchanged: number;
  /** Not empty, with --only-empty. */
  skipped: number;
  noCustomer: number;
  ambiguousCount: number;
  ambiguous: { doctype: string; name: string; customers: string[] }[];
  /** The first of the `noCustomer` ones by name (up to 200 per run); a checkpoint written before they were kept has none. */
  withoutCustomer: { doctype: string; name: string }[];
  failedCount: number;
  failed: { doctype: string; name: string; reason: string }[];
  /** Where the run stands: the DocType being walked and the last name done in it. */
  doctypeIndex: number;
  cursor: string | number | null;
  error?: string;
}

export interface BulkRunView {
  site: string;
  /** The site's address as the sidecar's config has it: the view links each lead or ticket there. */
  url: string;
  run: string | null;
  job: { id: string; state: JobState; attempts: number; lastError: string | null } | null;
  progress: BulkProgress | null;
}

/** One Order Sync Request as the site lists it (doctypes/order_sync_request): what a desk user's *Fetch Order History* created. */
export interface OrderSyncRequestView {
  name: string;
  /** Queued, Running, Done or Failed. */
  status: string;
  referenceDoctype: string;
  referenceName: string;
  /** The site's wall clock (its System Settings time zone), as Frappe stores datetimes. */
  creation: string;
  modified: string;
  /** Done or Failed: modified − creation (the last write is the one that finished it); null otherwise. */
  durationMs: number | null;
  /** The outcome's words ("Synced 2 orders", the failure's reason). */
  message: string | null;
  ordersSynced: number | null;
}

/** A site's most recent Order Sync Requests, read over REST (cached briefly: sidecar/console/sync_requests.ts). */
export interface SiteSyncRequests {
  site: string;
  url: string;
  requests: OrderSyncRequestView[];
  /** Why the site could not be read; the requests are then empty. */
  error: string | null;
  /** When the sidecar read them (ISO, its own clock). */
  readAt: string | null;
}

export interface HistoryAnswer {
  jobs: TimedJobView[];
  partial: boolean;
  runs: BulkRunView[];
  requests: SiteSyncRequests[];
}

/** Pushed on the live link each time a bulk run writes its checkpoint (after every page, and at its end). */
export interface HistoryProgressMessage {
  type: 'history_progress';
  site: string;
  progress: BulkProgress;
}

/** What SLA sweeps did, for one DocType or one owner. */
export interface SlaCounts {
  /** Overdue documents the sweep re-saved (records looked at). */
  swept: number;
  /** Of those, the ones CRM / Helpdesk newly set Failed. */
  failed: number;
  /** Notification Logs inserted. */
  notified: number;
}

/**
 * Counts per DocType and per owner: a CRM document's owner field (lead_owner, deal_owner), an HD
 * Ticket's assignees (each counted); notified is counted per recipient. "" is no owner.
 */
export interface SlaBreakdown {
  byDoctype: Record<string, SlaCounts>;
  byOwner: Record<string, SlaCounts>;
}

export interface SlaLastSweep extends SlaBreakdown {
  job: string;
  /** When the handler started and finished (ISO, the sidecar's clock); its run time. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The site's wall clock the sweep judged "overdue" by, its zone, and the site's day it counted toward. */
  cutoff: string;
  timeZone: string;
  day: string;
  totals: SlaCounts;
  /** Documents bulk_update could not save. */
  errors: number;
}

/** The sweeps of the site's days `from`..`to` (YYYY-MM-DD, inclusive), added up. */
export interface SlaPeriod extends SlaBreakdown {
  from: string;
  to: string;
  sweeps: number;
  totals: SlaCounts;
}

export interface SlaSiteView {
  site: string;
  /** The zone the days are cut in: the sweeps' (the site's System Settings); UTC before any sweep. */
  timeZone: string;
  today: SlaPeriod;
  /** Monday to today. */
  week: SlaPeriod;
  /** The last 14 days, oldest first, today last. */
  failuresPerDay: { day: string; failed: number }[];
  last: SlaLastSweep | null;
}

export interface SlaAnswer {
  jobs: TimedJobView[];
  partial: boolean;
  sites: SlaSiteView[];
}
