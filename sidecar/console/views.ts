/**
 * What the console shows of a site and of a job: the sidecar's own status and job records, cut to
 * what an operator needs. A job's data (customer names, e-mail addresses) is left out; its error
 * is the store's, already redacted (sidecar/jobs/types.ts `lastError`).
 */
import type { JobRecord, JobState } from '../jobs/types.js';
import type { SiteStatus } from '../site/status.js';
import { siteReady } from '../site/status.js';

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

export function siteView(s: SiteStatus, user: string | null, realtimeSince: string | null): SiteView {
  return {
    name: s.name,
    url: s.url,
    ready: siteReady(s),
    user,
    rest: { ok: s.rest.ok, error: s.rest.error, checkedAt: s.rest.checkedAt },
    realtime: {
      state: s.realtime.connected ? 'connected' : 'disconnected',
      since: realtimeSince,
      eventsArrive: s.realtime.eventsArrive,
      error: s.realtime.error ?? s.realtime.eventsError,
    },
    timeZone: s.timeZone,
    catchup: { ...s.catchup },
  };
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

export function jobView(j: JobRecord): JobView {
  return {
    id: j.id,
    handler: j.name,
    site: j.site,
    state: j.state,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    lastError: j.lastError ?? null,
    nextRetryAtMs: j.state === 'waiting' && j.attempts > 0 ? j.runAtMs : null,
    createdAtMs: j.createdAtMs,
    updatedAtMs: j.updatedAtMs,
    finishedAtMs: j.finishedAtMs ?? null,
  };
}
