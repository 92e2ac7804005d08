import type { RecordsView } from '../../lib/api/views.js';
import type { HealthSummary } from '../handlers/health/state.js';

/**
 * What the sidecar knows of each site it serves, as `/readyz`, `status` and the metrics report it:
 * its own module, so the HTTP server reads it without importing the runtime that starts the server.
 */

export interface SiteStatus {
  name: string;
  url: string;
  rest: { ok: boolean; error: string | null; user: string | null; checkedAt: string | null };
  /**
   * `connected`: the Socket.IO link is up. `eventsArrive`: an event this site published reached
   * the link since it (re)connected (lib/frappe/realtime/probe.ts) — only then does the sidecar hear the site.
   * `eventsError`: why not, while not.
   */
  realtime: { connected: boolean; error: string | null; eventsArrive: boolean; eventsError: string | null };
  timeZone: string | null;
  catchup: { running: boolean; lastRunAt: string | null; lastDocuments: number; error: string | null };
  /** The last daily health check (sidecar/handlers/health/): null before the first. */
  health?: HealthSummary | null;
  /** The last records check (sidecar/site/records_check.ts); absent where nothing checks. */
  records?: RecordsView;
}

/** A site is ready when REST answers and its realtime events reach the sidecar (not merely a connected socket). */
export function siteReady(s: SiteStatus): boolean {
  return s.rest.ok && s.realtime.connected && s.realtime.eventsArrive;
}
