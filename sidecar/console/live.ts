/**
 * The console's live link: a WebSocket at /console/live (the ws package) on the sidecar's HTTP
 * server, opened with the console session cookie (or COC_ADMIN_TOKEN as a bearer token). It pushes
 * what the runtime already reports (sidecar/runtime.ts `SidecarEvents`): each job outcome, and a
 * site's status whenever its link, probe, health or catch-up changes, and each page a bulk history
 * run checkpoints — to the clients that see that site. The page never polls; after a lost link it reconnects and reads everything once.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BulkProgress, HistoryProgressMessage } from '../../lib/api/views.js';
import type { JobRecord } from '../jobs/types.js';
import type { SiteStatus } from '../site/status.js';
import { principalOf, sitesOf, type ConsoleSite } from './api.js';
import type { ConsolePrincipal, SessionStore } from './sessions.js';
import { jobView, siteView } from './views.js';

export const LIVE_PATH = '/console/live';

export interface LiveOptions {
  server: Server;
  events: EventEmitter;
  sessions: SessionStore;
  sites: ConsoleSite[];
  status: () => SiteStatus[];
  adminToken?: string;
  /** @defaultValue 30_000 */
  pingMs?: number;
}

/** When each site's realtime link last went up or down, from the runtime's 'realtime' events. */
export function trackRealtimeSince(events: EventEmitter, sites: ConsoleSite[], now = () => new Date()): (site: string) => string | null {
  const since = new Map<string, { connected: boolean | null; at: string }>();
  const started = now().toISOString();
  for (const s of sites) since.set(s.name, { connected: null, at: started });
  events.on('realtime', (site: string, connected: boolean) => {
    const prev = since.get(site);
    if (prev?.connected !== connected) since.set(site, { connected, at: now().toISOString() });
  });
  return (site) => since.get(site)?.at ?? null;
}

interface Client {
  ws: WebSocket;
  principal: ConsolePrincipal;
  alive: boolean;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ error: text })}`);
}

/** A browser's Origin must be this server (cross-site WebSocket hijacking); scripts send none. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function attachLive(opts: LiveOptions & { realtimeSince: (site: string) => string | null }): { close(): void; clients(): number } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Set<Client>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== LIVE_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const principal = principalOf(req, opts.sessions, opts.adminToken);
    if (!principal) return refuse(socket, 401, 'Unauthorized');
    if (!sameOrigin(req)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, principal, alive: true };
      clients.add(client);
      ws.on('pong', () => (client.alive = true));
      ws.on('close', () => clients.delete(client));
      ws.on('error', () => clients.delete(client));
      ws.send(JSON.stringify({ type: 'hello', sites: sitesOf(principal, opts.sites) }));
    });
  };
  opts.server.on('upgrade', onUpgrade);

  /** Clients that may see `site`; one whose session has lapsed or signed out of it is dropped. */
  const audience = (site: string): Client[] =>
    [...clients].filter((c) => {
      if (c.principal.kind === 'session' && !opts.sessions.get(c.principal.session.id)) {
        c.ws.close(4401, 'session ended');
        clients.delete(c);
        return false;
      }
      return sitesOf(c.principal, opts.sites).includes(site);
    });

  const send = (site: string, message: () => Record<string, unknown>) => {
    const targets = audience(site);
    if (!targets.length) return;
    const text = JSON.stringify(message());
    for (const c of targets) if (c.ws.readyState === c.ws.OPEN) c.ws.send(text);
  };

  const onJob = (job: JobRecord, outcome: string) => send(job.site, () => ({ type: 'job', outcome, job: jobView(job) }));
  const onSite = (site: string) =>
    send(site, () => {
      const s = opts.status().find((x) => x.name === site);
      return { type: 'site', site: s ? siteView(s, null, opts.realtimeSince(site)) : null };
    });
  // A bulk history run's checkpoint, after each page: the Order history view follows the run as it goes.
  const onProgress = (site: string, progress: BulkProgress) => send(site, (): HistoryProgressMessage & Record<string, unknown> => ({ type: 'history_progress', site, progress }));
  const siteEvents = ['realtime', 'probe', 'health', 'catchup', 'health_report', 'records'];
  opts.events.on('job', onJob);
  opts.events.on('history_progress', onProgress);
  for (const e of siteEvents) opts.events.on(e, onSite);

  // A link that died without a close frame (a suspended laptop) is found by a missed pong.
  const ping = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.ws.terminate();
        clients.delete(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, opts.pingMs ?? 30_000);
  ping.unref();

  return {
    close() {
      clearInterval(ping);
      opts.events.off('job', onJob);
      opts.events.off('history_progress', onProgress);
      for (const e of siteEvents) opts.events.off(e, onSite);
      opts.server.off('upgrade', onUpgrade);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
    },
    clients: () => clients.size,
  };
}
