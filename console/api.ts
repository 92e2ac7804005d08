/**
 * The console page's calls to its sidecar (sidecar/console/api.ts): same origin, the session cookie
 * sent by the browser, JSON both ways. A refused call throws with the server's (or Frappe's) words.
 */
export interface SiteView {
  name: string;
  url: string;
  ready: boolean;
  user: string | null;
  rest: { ok: boolean; error: string | null; checkedAt: string | null };
  realtime: { state: 'connected' | 'disconnected'; since: string | null; eventsArrive: boolean; error: string | null };
  timeZone: string | null;
  catchup: { running: boolean; lastRunAt: string | null; lastDocuments: number; error: string | null };
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

export interface JobView {
  id: string;
  handler: string;
  site: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  nextRetryAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface SessionInfo {
  sites: string[];
  signedIn: { site: string; user: string }[];
  roles: string[];
}

export interface JobsAnswer {
  counts: Record<string, Record<JobState, number>>;
  partial: boolean;
  jobs: JobView[];
}

type Results = Record<JobState, number>;

export interface ShopView {
  id: string;
  platform: string;
  shop: string;
  site: string;
  reconcile: boolean;
  watermark: string | null;
  results: Results;
  reconciliation: Results & { last: JobView | null };
  needsMapping: JobView[];
}

export interface ShopsAnswer {
  shops: ShopView[];
  partial: boolean;
}

export interface TimedJobView extends JobView {
  durationMs: number | null;
}

/** sidecar/handlers/order_history/bulk.ts `BulkProgress`, the parts the page shows. */
export interface BulkProgress {
  run: string;
  options: { doctype?: string; since?: string; onlyEmpty?: boolean; dryRun?: boolean };
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  total: number;
  done: number;
  synced: number;
  unchanged: number;
  skipped: number;
  noCustomer: number;
  ambiguousCount: number;
  ambiguous: { doctype: string; name: string; customers: string[] }[];
  failedCount: number;
  failed: { doctype: string; name: string; reason: string }[];
  error?: string;
}

export interface BulkRunView {
  site: string;
  run: string | null;
  job: { id: string; state: JobState; attempts: number; lastError: string | null } | null;
  progress: BulkProgress | null;
}

export interface HistoryAnswer {
  jobs: TimedJobView[];
  partial: boolean;
  runs: BulkRunView[];
}

export interface SlaAnswer {
  jobs: TimedJobView[];
  partial: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/console/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, data.error ?? `${res.status} ${res.statusText}`);
  return data as T;
}

export const api = {
  session: () => call<SessionInfo>('GET', '/session'),
  login: (site: string, usr: string, pwd: string) => call<{ site: string; user: string }>('POST', '/login', { site, usr, pwd }),
  logout: () => call<{ ok: true }>('POST', '/logout', {}),
  sites: () => call<{ sites: SiteView[] }>('GET', '/sites'),
  /** Up to 1,000 jobs, the most the API lists at once. */
  jobs: (filter: { handler?: string; state?: JobState }) => {
    const q = new URLSearchParams({ limit: '1000' });
    if (filter.handler) q.set('handler', filter.handler);
    if (filter.state) q.set('state', filter.state);
    return call<JobsAnswer>('GET', `/jobs?${q}`);
  },
  retry: (id: string) => call<{ retried: string[] }>('POST', `/jobs/${encodeURIComponent(id)}/retry`, {}),
  shops: () => call<ShopsAnswer>('GET', '/shops'),
  history: () => call<HistoryAnswer>('GET', '/history'),
  sla: () => call<SlaAnswer>('GET', '/sla'),
  historySync: (site: string, dryRun: boolean) => call<{ site: string; run: string; job: string; resumed: boolean }>('POST', '/history/sync', { site, dryRun }),
  retryLike: (id: string) => call<{ retried: string[] }>('POST', `/jobs/${encodeURIComponent(id)}/retry-like`, {}),
};
