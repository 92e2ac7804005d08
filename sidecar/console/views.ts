/**
 * What the console shows of a site and of a job: the sidecar's own status and job records, cut to
 * what an operator needs. A job's data (customer names, e-mail addresses) is left out; its error
 * is the store's, already redacted (sidecar/jobs/types.ts `lastError`).
 */
import type { JobView, SiteView } from '../../lib/api/views.js';
import type { JobRecord } from '../jobs/types.js';

export type { JobView, SiteView };
import type { SiteStatus } from '../site/status.js';
import { siteReady } from '../site/status.js';
import { notCheckedYet } from '../site/records_check.js';


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
    records: s.records ?? notCheckedYet(null),
  };
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
