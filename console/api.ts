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
  retryLike: (id: string) => call<{ retried: string[] }>('POST', `/jobs/${encodeURIComponent(id)}/retry-like`, {}),
};
