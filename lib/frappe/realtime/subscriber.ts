/**
 * The realtime link to one site, connected the way a v15 site requires (frappe/frappe realtime/middlewares/authenticate.js
 * and its get_site_name; realtime/utils.js get_url for the callback): namespace = site name, an `Origin` whose host equals the host we dial (the server calls
 * back to that URL to learn who we are), `Authorization: token key:secret`, a Cookie header without
 * `sid` (v15.55 refuses sockets with no cookie at all; a `sid` would win over the token), and
 * `X-Frappe-Site-Name` to pin the namespace. Newer sites accept the same headers.
 *
 * Reconnects forever with backoff — also after a refused handshake, which socket.io-client does not
 * retry by itself — and re-subscribes its DocType rooms on every connect, since the server keeps
 * no subscriptions across connections.
 */
import { io, type Socket } from 'socket.io-client';
import type { Logger } from '../../log.js';
import { redactSecrets } from '../../log.js';

/** The gauges and counters the link updates; the sidecar passes its prom-client metrics (sidecar/metrics.ts). */
export interface RealtimeMetrics {
  realtimeConnected: { set(labels: { site: string }, value: number): void };
  realtimeEvents: { inc(labels: { site: string; event: string }): void };
}

export interface ListUpdate {
  doctype: string;
  name: string;
  user?: string;
}

export interface SubscriberOptions {
  site: string;
  /** The site's URL; the Origin we send. */
  url: string;
  /** Where to dial Socket.IO; defaults to `url`. */
  realtimeUrl?: string;
  apiKey: string;
  apiSecret: () => string;
  doctypes: string[];
  logger: Logger;
  metrics?: RealtimeMetrics;
  /** First reconnect delay. @defaultValue 1000 */
  reconnectBaseMs?: number;
  /** Reconnect delay cap. @defaultValue 30_000 */
  reconnectMaxMs?: number;
  onConnect?: () => void;
  onDisconnect?: (reason: string) => void;
  /** A handshake was refused or failed, with Frappe's reason. */
  onRefused?: (reason: string) => void;
  onListUpdate?: (event: ListUpdate, heardAtMs: number) => void;
}

export interface Subscriber {
  readonly connected: boolean;
  /** Frappe's reason for the last refused handshake, until a connect succeeds. */
  readonly lastError: string | null;
  /** Call `fn` on every `event` the server sends (across reconnects) until the returned function is called. */
  listen(event: string, fn: () => void): () => void;
  close(): void;
}

/** The handshake headers a v15 site requires of a token client (frappe/frappe realtime/middlewares/authenticate.js). */
export function realtimeHeaders(site: { name: string; url: string; apiKey: string; apiSecret: () => string }): Record<string, string> {
  return {
    Origin: site.url,
    Authorization: `token ${site.apiKey}:${site.apiSecret()}`,
    Cookie: 'coc_sidecar=1',
    'X-Frappe-Site-Name': site.name,
  };
}

export function createSubscriber(opts: SubscriberOptions): Subscriber {
  const base = opts.reconnectBaseMs ?? 1000;
  const max = opts.reconnectMaxMs ?? 30_000;
  const dial = (opts.realtimeUrl ?? opts.url).replace(/\/+$/, '');
  const log = opts.logger.child({ site: opts.site, component: 'realtime' });
  let lastError: string | null = null;
  let refusedInARow = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const socket: Socket = io(`${dial}/${opts.site}`, {
    transports: ['websocket'],
    reconnection: true,
    reconnectionDelay: base,
    reconnectionDelayMax: max,
    randomizationFactor: 0.5,
    extraHeaders: realtimeHeaders({ name: opts.site, url: opts.url, apiKey: opts.apiKey, apiSecret: opts.apiSecret }),
  });

  // Headers are fixed when the socket is built; refresh them before every redial so a rotated
  // secret (a secret file re-read on use) reaches the realtime link too, not only REST.
  const refreshHeaders = () => {
    (socket.io.opts as { extraHeaders?: Record<string, string> }).extraHeaders = realtimeHeaders({
      name: opts.site,
      url: opts.url,
      apiKey: opts.apiKey,
      apiSecret: opts.apiSecret,
    });
  };
  socket.io.on('reconnect_attempt', refreshHeaders);

  socket.on('connect', () => {
    if (lastError) log.info({ event: 'realtime_connected' }, `realtime connected to ${opts.site} after: ${lastError}`);
    else log.info({ event: 'realtime_connected' }, `realtime connected to ${opts.site}`);
    lastError = null;
    refusedInARow = 0;
    opts.metrics?.realtimeConnected.set({ site: opts.site }, 1);
    for (const doctype of opts.doctypes) socket.emit('doctype_subscribe', doctype);
    opts.onConnect?.();
  });

  socket.on('disconnect', (reason) => {
    opts.metrics?.realtimeConnected.set({ site: opts.site }, 0);
    if (closed) {
      log.debug({ event: 'realtime_closed' }, `realtime link to ${opts.site} closed`);
      return;
    }
    log.warn({ event: 'realtime_disconnected', reason }, `realtime link to ${opts.site} lost (${reason}); reconnecting`);
    opts.onDisconnect?.(reason);
    // A server-side disconnect is not retried by socket.io-client: dial again ourselves.
    if (reason === 'io server disconnect' && !closed) scheduleRetry();
  });

  socket.on('connect_error', (err: Error) => {
    opts.metrics?.realtimeConnected.set({ site: opts.site }, 0);
    const reason = redactSecrets(err.message || String(err));
    refusedInARow += 1;
    // One line per cause, not one per attempt: repeat only when the cause changes or every 20th try.
    if (reason !== lastError || refusedInARow % 20 === 0) {
      log.error({ event: 'realtime_refused', reason, attempts: refusedInARow }, `realtime handshake with ${opts.site} failed: ${reason}`);
    }
    lastError = reason;
    opts.onRefused?.(reason);
    // Middleware refusals leave the socket inactive: socket.io-client will not retry those.
    if (!socket.active) scheduleRetry();
  });

  socket.on('list_update', (payload: ListUpdate) => {
    opts.metrics?.realtimeEvents.inc({ site: opts.site, event: 'list_update' });
    if (payload?.doctype && payload?.name !== undefined) opts.onListUpdate?.(payload, Date.now());
  });

  function scheduleRetry(): void {
    if (retryTimer || closed) return;
    const delay = Math.min(max, base * 2 ** Math.min(refusedInARow, 10)) * (0.5 + Math.random() * 0.5);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!closed && !socket.connected) {
        refreshHeaders();
        socket.connect();
      }
    }, delay);
    retryTimer.unref();
  }

  return {
    get connected() {
      return socket.connected;
    },
    get lastError() {
      return lastError;
    },
    listen(event, fn) {
      const handler = () => fn();
      socket.on(event, handler);
      return () => void socket.off(event, handler);
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket.close();
      opts.metrics?.realtimeConnected.set({ site: opts.site }, 0);
    },
  };
}
