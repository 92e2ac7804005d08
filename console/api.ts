/**
 * The console page's calls to its sidecar (sidecar/console/api.ts): same origin, the session cookie
 * sent by the browser, JSON both ways. A refused call throws with the server's (or Frappe's) words.
 */
export type {
  BulkProgress,
  BulkRunView,
  HistoryAnswer,
  HistoryProgressMessage,
  OrderSyncRequestView,
  SiteSyncRequests,
  JobState,
  JobView,
  JobsAnswer,
  ReconcileRunView,
  SessionInfo,
  ShopView,
  ShopsAnswer,
  SiteView,
  SlaAnswer,
  SlaCounts,
  SlaLastSweep,
  SlaSiteView,
  TimedJobView,
} from '../lib/api/views.js';
import type { HistoryAnswer, JobState, JobsAnswer, SessionInfo, ShopsAnswer, SiteView, SlaAnswer } from '../lib/api/views.js';

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
  /** Sign in as the user of the Frappe session the browser holds on the site the console is served under. */
  loginWithSession: () => call<{ site: string; user: string }>('POST', '/login/session', {}),
  logout: () => call<{ ok: true }>('POST', '/logout', {}),
  sites: () => call<{ sites: SiteView[] }>('GET', '/sites'),
  /** The counts and one page of the filter's jobs (50 unless `limit` says otherwise; 0 for counts only), after `after`. */
  jobs: (filter: { handler?: string; state?: JobState; after?: string | null; limit?: number }) => {
    const q = new URLSearchParams();
    if (filter.handler) q.set('handler', filter.handler);
    if (filter.state) q.set('state', filter.state);
    if (filter.after) q.set('after', filter.after);
    if (filter.limit !== undefined) q.set('limit', String(filter.limit));
    return call<JobsAnswer>('GET', `/jobs?${q}`);
  },
  retry: (id: string) => call<{ retried: string[] }>('POST', `/jobs/${encodeURIComponent(id)}/retry`, {}),
  shops: () => call<ShopsAnswer>('GET', '/shops'),
  history: () => call<HistoryAnswer>('GET', '/history'),
  sla: () => call<SlaAnswer>('GET', '/sla'),
  historySync: (site: string, dryRun: boolean) => call<{ site: string; run: string; job: string; resumed: boolean }>('POST', '/history/sync', { site, dryRun }),
  retryLike: (id: string) => call<{ retried: string[] }>('POST', `/jobs/${encodeURIComponent(id)}/retry-like`, {}),
};
