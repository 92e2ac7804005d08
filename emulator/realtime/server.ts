/**
 * The realtime server of a v15 bench (frappe/frappe:realtime/index.js,
 * realtime/middlewares/authenticate.js, realtime/handlers/frappe_handlers.js [v15]):
 * Socket.IO v4, one namespace per site, the handshake checks in Frappe's order, an HTTP
 * callback to the *Origin* URL to learn who the socket is, rooms joined on connect and on
 * subscribe (each subscription gated by another callback, silently), and no buffering —
 * a disconnected client misses events for good.
 */
import http from 'node:http';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { EmulatorState, RealtimeHub } from '../state.js';
import type { RealtimeMessage } from '../core/site.js';
import { REALTIME_CALLBACK_HEADER } from './callback_header.js';

interface SocketData {
  site: string;
  user: string;
  userType: string | null;
  sid?: string;
  authorization?: string;
  origin: string;
  /** Permission callbacks still in flight (tests wait for 0 instead of sleeping). */
  pending: number;
}

export interface SocketView {
  id: string;
  user: string;
  user_type: string | null;
  rooms: string[];
  pending: number;
}

/** realtime/utils.js `get_hostname` [v15]: strip scheme, path and port. */
export function getHostname(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let u = url;
  if (u.includes('://')) u = u.split('/')[2];
  return u.includes(':') ? u.slice(0, u.indexOf(':')) : u;
}

function cookieSid(cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'sid') return v.join('=');
  }
  return undefined;
}

/**
 * Browsers and systemd resolve `*.localhost` to loopback; Node's resolver does not. Multi-site
 * setups in tests name sites `x.localhost`, so the callback resolves them the way a browser would.
 */
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options, callback);
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  417: 'Expectation Failed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A GET to the site like v15's superagent call: `?sid=` when the cookie has one, else `Authorization`. */
function callback(
  data: Pick<SocketData, 'origin' | 'sid' | 'authorization'>,
  path: string,
  query: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(data.origin + path);
  if (data.sid) url.searchParams.set('sid', data.sid);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const headers: Record<string, string> = { Accept: 'application/json', [REALTIME_CALLBACK_HEADER]: '1' };
  if (!data.sid && data.authorization) headers.Authorization = data.authorization;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers, lookup: loopbackLookup, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('Timeout of 10000ms exceeded')));
    req.on('error', reject);
    req.end();
  });
}

export function attachRealtime(server: http.Server, state: EmulatorState): { io: Server; hub: RealtimeHub } {
  const io = new Server(server, {
    cors: { origin: true, credentials: true },
    cleanupEmptyChildNamespaces: true,
    // Test control "down": as if the socketio process were stopped behind the proxy — the
    // transport itself fails (clients see "websocket error"), before any Frappe handshake check.
    allowRequest: (_req, callback) => callback(null, state.faults.realtime !== 'down'),
  });

  const siteNameOf = (socket: Socket): string | undefined => {
    const h = socket.request.headers;
    const fromHost = getHostname(h.host);
    if (h['x-frappe-site-name']) return getHostname(String(h['x-frappe-site-name']));
    if (fromHost && ['localhost', '127.0.0.1'].includes(fromHost) && state.options.defaultSite) return state.options.defaultSite;
    if (h.origin) return getHostname(h.origin);
    return fromHost;
  };

  const sites = io.of(/^\/.*$/);

  sites.use(async (socket, next) => {
    const h = socket.request.headers;
    // authenticate.js [v15], in order. (v15 forgets to `return` after the namespace error; the
    // socket is refused either way.)
    const namespace = socket.nsp.name.slice(1);
    const site = siteNameOf(socket);
    if (namespace !== site) return next(new Error('Invalid namespace'));
    if (getHostname(h.host) !== getHostname(h.origin)) return next(new Error('Invalid origin'));
    if (!h.cookie) return next(new Error('No cookie transmitted.'));
    const sid = cookieSid(h.cookie);
    const authorization = h.authorization ? String(h.authorization) : undefined;
    if (!sid && !authorization) return next(new Error('No authentication method used. Use cookie or authorization header.'));
    const data: SocketData = { site: namespace, user: 'Guest', userType: null, sid, authorization, origin: String(h.origin), pending: 0 };
    try {
      const res = await callback(data, '/api/method/frappe.realtime.get_user_info', {});
      if (res.status < 200 || res.status >= 300) {
        return next(new Error(`Unauthorized: Error: ${STATUS_TEXT[res.status] ?? res.status}`));
      }
      const message = (res.body as { message?: { user?: string; user_type?: string | null } })?.message ?? {};
      data.user = message.user ?? 'Guest';
      data.userType = message.user_type ?? null;
    } catch (err) {
      return next(new Error(`Unauthorized: Error: ${(err as Error).message}`));
    }
    socket.data = data;
    next();
  });

  sites.on('connection', (socket) => {
    const data = socket.data as SocketData;
    // frappe_handlers.js [v15]: user room, website room, and `all` only for System Users
    // (a token socket has user_type null in v15 and so never joins `all`).
    socket.join(`user:${data.user}`);
    socket.join('website');
    if (data.userType === 'System User') socket.join('all');

    const gated = (path: string, query: Record<string, string>, onAllowed: () => void) => {
      data.pending += 1;
      callback(data, path, query)
        .then(
          (res) =>
            new Promise<void>((joined) =>
              // Only a 200 joins; a 403 (or anything else) is ignored without telling the client.
              // Joins may be held by a test control (a slow realtime server); pending until then.
              state.faults.join(() => {
                if (res.status === 200 && socket.connected) onAllowed();
                joined();
              }),
            ),
        )
        .catch(() => undefined)
        .finally(() => {
          data.pending -= 1;
        });
    };

    socket.on('ping', () => socket.emit('pong'));
    socket.on('doctype_subscribe', (doctype: unknown) => {
      gated('/api/method/frappe.realtime.can_subscribe_doctype', { doctype: String(doctype) }, () => {
        socket.join(`doctype:${doctype}`);
      });
    });
    socket.on('doctype_unsubscribe', (doctype: unknown) => socket.leave(`doctype:${doctype}`));
    socket.on('task_subscribe', (id: unknown) => socket.join(`task_progress:${id}`));
    socket.on('task_unsubscribe', (id: unknown) => socket.leave(`task_progress:${id}`));
    socket.on('progress_subscribe', (id: unknown) => socket.join(`task_progress:${id}`));
    socket.on('doc_subscribe', (doctype: unknown, docname: unknown) => {
      gated('/api/method/frappe.realtime.can_subscribe_doc', { doctype: String(doctype), docname: String(docname) }, () => {
        socket.join(`doc:${doctype}/${docname}`);
      });
    });
    socket.on('doc_unsubscribe', (doctype: unknown, docname: unknown) => socket.leave(`doc:${doctype}/${docname}`));
    socket.on('doc_open', (doctype: unknown, docname: unknown) => {
      gated('/api/method/frappe.realtime.can_subscribe_doc', { doctype: String(doctype), docname: String(docname) }, () => {
        const room = `open_doc:${doctype}/${docname}`;
        socket.join(room);
        notifyViewers(socket, room, String(doctype), String(docname));
      });
    });
    socket.on('doc_close', (doctype: unknown, docname: unknown) => {
      const room = `open_doc:${doctype}/${docname}`;
      socket.leave(room);
      notifyViewers(socket, room, String(doctype), String(docname));
    });
  });

  /** `notify_subscribed_doc_users`: the users in an open_doc room, unless the only viewer is self. */
  function notifyViewers(socket: Socket, room: string, doctype: string, docname: string): void {
    const sockets = socket.nsp.adapter.rooms.get(room) ?? new Set<string>();
    const users = [...new Set([...sockets].map((id) => (socket.nsp.sockets.get(id)?.data as SocketData | undefined)?.user).filter(Boolean))];
    if (users.length === 1 && users[0] === (socket.data as SocketData).user) return;
    socket.nsp.to(room).emit('doc_viewers', { doctype, docname, users });
  }

  const hub: RealtimeHub = {
    emit(site: string, msg: RealtimeMessage) {
      // Never `io.of(name)` here: that would create a static namespace that skips the handshake checks.
      io._nsps.get(`/${site}`)?.to(msg.room).emit(msg.event, msg.message);
    },
    sockets(site: string): SocketView[] {
      const nsp = io._nsps.get(`/${site}`);
      if (!nsp) return [];
      return [...nsp.sockets.values()].map((sock) => {
        const d = sock.data as SocketData;
        return { id: sock.id, user: d.user, user_type: d.userType, rooms: [...sock.rooms].filter((r) => r !== sock.id), pending: d.pending };
      });
    },
    disconnectAll(site?: string) {
      for (const [name, nsp] of io._nsps) {
        if (site && name !== `/${site}`) continue;
        nsp.disconnectSockets(true);
      }
    },
  };
  return { io, hub };
}
