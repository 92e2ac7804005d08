/**
 * The realtime check: one Socket.IO handshake, the way the sidecar dials, then the sidecar's
 * readiness probe on that socket (lib/frappe/realtime/probe.ts): the site is asked for one event and
 * it must arrive — a handshake on another site's namespace is accepted, yet hears nothing.
 */
import { io, type Socket } from 'socket.io-client';
import type { SiteConfig } from '../../../lib/config/load.js';
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { PROBE_METHOD, deafMessage, probeRealtime } from '../../../lib/frappe/realtime/probe.js';
import { realtimeHeaders } from '../../../lib/frappe/realtime/subscriber.js';
import { blockedBy, frappeReason } from './client_errors.js';
import type { DoctorCheck } from './types.js';

/** Frappe's handshake refusals and transport failures, with their fixes. */
function realtimeFix(reason: string, site: SiteConfig, dial: string): string {
  const serverRuns =
    'check that the socketio process runs (`bench start` in development; `bench restart` or `supervisorctl status` in production) ' +
    'and that the web server/proxy forwards /socket.io (with WebSocket upgrade) to it';
  if (reason === 'Invalid namespace') {
    return `the realtime server resolved another site than "${site.name}": set FRAPPE_SITE / "name" to the Frappe site name (the folder under sites/)`;
  }
  if (reason === 'Invalid origin') {
    return `the Origin (the site URL ${site.url}) must have the same host name as the URL dialed (${dial}): set FRAPPE_REALTIME_URL / "realtimeUrl" on the same host, or leave it unset to dial the site URL`;
  }
  if (reason.startsWith('No cookie transmitted')) {
    return 'this v15 realtime server refuses sockets without a Cookie header: make sure no proxy strips the Cookie header on /socket.io';
  }
  if (reason.startsWith('No authentication method')) {
    return 'the Authorization header did not reach the realtime server: make sure the proxy forwards it on /socket.io';
  }
  if (reason.startsWith('Unauthorized')) {
    if (/Unauthorized: Error: (Unauthorized|Forbidden)\b|401|403/.test(reason)) {
      return 'the site refused the API key/secret when the realtime server asked who we are: fix the connect check (User → Settings → API Access → Generate Keys)';
    }
    return (
      `the realtime server calls the site back at the Origin (${site.url}) to learn who we are, and that failed: ` +
      `the Origin must be the site URL the web server answers at, reachable from the realtime server; ${serverRuns}`
    );
  }
  return serverRuns;
}

/** The fix when the handshake is accepted but the site's events do not arrive. */
const NAMESPACE_FIX = (site: SiteConfig) =>
  `set FRAPPE_SITE (or "name" in COC_CONFIG) to the Frappe site's name — the folder under sites/, as in \`bench --site NAME\` — ` +
  `instead of "${site.name}", then run the doctor again`;

/** The handshake passed: does an event this site publishes reach that socket? */
async function checkEvents(socket: Socket, client: FrappeClient, site: SiteConfig, dial: string, timeoutMs: number): Promise<DoctorCheck> {
  let failure: unknown = null;
  const result = await probeRealtime({
    site: site.name,
    listen: (event, fn) => {
      socket.on(event, fn);
      return () => void socket.off(event, fn);
    },
    trigger: () =>
      client.call(PROBE_METHOD, {}, 'POST').catch((err: unknown) => {
        failure = err;
        throw err;
      }),
    timeoutMs,
  });
  const accepted = `realtime handshake accepted at ${dial}/${site.name}`;
  if (result.ok) return { id: 'realtime', ok: true, level: 'info', message: `${accepted}, and an event of this site arrived on it` };
  if (result.deaf) return { id: 'realtime', ok: false, level: 'error', message: `${accepted}, but ${deafMessage(site.name, timeoutMs)}`, fix: NAMESPACE_FIX(site) };
  return {
    id: 'realtime',
    ok: false,
    level: 'error',
    message: `${accepted}; whether this site's events arrive is ${blockedBy(failure) ?? `not checked: asking the site for an event failed (${frappeReason(failure)})`}`,
  };
}

export function checkRealtime(site: SiteConfig, client: FrappeClient, timeoutMs: number, probeTimeoutMs: number): Promise<DoctorCheck> {
  const dial = (site.realtimeUrl ?? site.url).replace(/\/+$/, '');
  let socket: Socket | null = null;
  return new Promise<DoctorCheck>((resolve) => {
    const finish = (check: DoctorCheck) => {
      clearTimeout(timer);
      socket?.close();
      resolve(check);
    };
    const timer = setTimeout(
      () =>
        finish({
          id: 'realtime',
          ok: false,
          level: 'error',
          message: `no realtime handshake with ${dial}/${site.name} within ${timeoutMs} ms`,
          fix: realtimeFix('', site, dial),
        }),
      timeoutMs,
    );
    try {
      socket = io(`${dial}/${site.name}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: timeoutMs,
        extraHeaders: realtimeHeaders(site),
      });
    } catch (err) {
      finish({ id: 'realtime', ok: false, level: 'error', message: `cannot dial ${dial}: ${(err as Error).message}`, fix: realtimeFix('', site, dial) });
      return;
    }
    socket.once('connect', () => {
      clearTimeout(timer);
      void checkEvents(socket!, client, site, dial, probeTimeoutMs).then(finish);
    });
    socket.once('connect_error', (err: Error & { description?: unknown }) => {
      // Middleware refusals carry Frappe's text as the message; transport failures say
      // "websocket error" and keep the cause (ECONNREFUSED, a 404 from a proxy) in `description`.
      const cause = err.description instanceof Error ? err.description.message : typeof err.description === 'string' ? err.description : '';
      const reason = err.message || 'connection failed';
      const text = cause && !reason.includes(cause) ? `${reason} (${cause})` : reason;
      finish({
        id: 'realtime',
        ok: false,
        level: 'error',
        message: `realtime handshake with ${dial}/${site.name} refused: ${text}`,
        fix: realtimeFix(reason, site, dial),
      });
    });
  });
}
