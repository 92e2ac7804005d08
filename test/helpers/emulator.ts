/**
 * Test helpers: an emulator per test file on a free 127.0.0.1 port, a small HTTP client that
 * speaks to it as a Frappe client would, and Socket.IO helpers that wait for events instead of
 * sleeping.
 */
import { io as ioClient, type Socket } from 'socket.io-client';
import { startEmulator, type RunningEmulator, type StartOptions } from '../../emulator/server.js';

export const SITE = 'test.localhost';

export async function start(opts: StartOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], ...opts });
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ClientOptions {
  site?: string;
  /** `token key:secret` */
  token?: { key: string; secret: string };
  sid?: string;
  csrf?: string;
  headers?: Record<string, string>;
}

/** A minimal Frappe REST caller: JSON bodies, query args JSON-encoded like frappe-js-sdk does. */
export function client(emu: { url: string }, opts: ClientOptions = {}) {
  const headers = (extra?: Record<string, string>): Record<string, string> => {
    const h: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}), ...(extra ?? {}) };
    if (opts.site) h['X-Frappe-Site-Name'] = opts.site;
    if (opts.token) h.Authorization = `token ${opts.token.key}:${opts.token.secret}`;
    if (opts.sid) h.Cookie = `sid=${opts.sid}`;
    if (opts.csrf) h['X-Frappe-CSRF-Token'] = opts.csrf;
    return h;
  };
  const qs = (query?: Record<string, unknown>) => {
    if (!query) return '';
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      p.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    const s = p.toString();
    return s ? `?${s}` : '';
  };
  const call = async (method: string, path: string, init: { query?: Record<string, unknown>; json?: unknown; headers?: Record<string, string>; rawBody?: string } = {}): Promise<Reply> => {
    const h = headers(init.headers);
    let body: string | undefined;
    if (init.json !== undefined) {
      h['Content-Type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.rawBody !== undefined) body = init.rawBody;
    const res = await fetch(`${emu.url}${path}${qs(init.query)}`, { method, headers: h, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const resource = (doctype: string, name?: string) =>
    `/api/resource/${encodeURIComponent(doctype)}${name === undefined ? '' : `/${encodeURIComponent(String(name))}`}`;
  return {
    call,
    list: (doctype: string, query: Record<string, unknown> = {}) => call('GET', resource(doctype), { query }),
    get: (doctype: string, name: string | number) => call('GET', resource(doctype, String(name))),
    insert: (doctype: string, doc: Record<string, unknown>) => call('POST', resource(doctype), { json: doc }),
    update: (doctype: string, name: string | number, doc: Record<string, unknown>) => call('PUT', resource(doctype, String(name)), { json: doc }),
    remove: (doctype: string, name: string | number) => call('DELETE', resource(doctype, String(name))),
    method: (name: string, args: Record<string, unknown> = {}, httpMethod = 'POST') =>
      httpMethod === 'GET' ? call('GET', `/api/method/${name}`, { query: args }) : call(httpMethod, `/api/method/${name}`, { json: args }),
  };
}

export type Client = ReturnType<typeof client>;

/** POST /__emulator/... */
export async function control(emu: { url: string }, path: string, body?: unknown, method = 'POST'): Promise<any> {
  const res = await fetch(`${emu.url}/__emulator${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`control ${path} failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A user with roles and API keys; returns a client authenticated with its token. */
export async function userClient(emu: { url: string }, email: string, roles: string[], site = SITE): Promise<Client & { user: string }> {
  const u = await control(emu, `/sites/${site}/users`, { email, roles, generate_keys: true, password: 'pw' });
  return Object.assign(client(emu, { site, token: { key: u.api_key, secret: u.api_secret } }), { user: u.name as string });
}

export function adminClient(emu: { url: string }, site = SITE): Promise<Client & { user: string }> {
  return userClient(emu, `admin-${Math.random().toString(36).slice(2, 8)}@example.com`, ['System Manager'], site);
}

/** Sign in with a password: returns the sid cookie value. */
export async function login(emu: { url: string }, usr: string, pwd: string, site = SITE): Promise<string> {
  const res = await fetch(`${emu.url}/api/method/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Frappe-Site-Name': site },
    body: JSON.stringify({ usr, pwd }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
  return cookie!.split(';')[0].slice(4);
}

export async function setClock(emu: { url: string }, isoInstant: string): Promise<void> {
  await control(emu, '/clock', { now: isoInstant, freeze: true });
}

// ---- realtime -------------------------------------------------------------------------

export interface SocketOptions {
  namespace?: string;
  headers?: Record<string, string>;
}

/** Connect like a Node client of a v15 site; resolves on connect, rejects with Frappe's connect_error text. */
export function connect(emu: { url: string }, opts: SocketOptions): Promise<Socket> {
  const socket = ioClient(`${emu.url}/${opts.namespace ?? SITE}`, {
    transports: ['websocket'],
    extraHeaders: opts.headers ?? {},
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The headers a sidecar sends to a v15 site reached at `url` (realtime/middlewares/authenticate.js [v15]: namespace, Origin, Cookie, Authorization checks). */
export function tokenSocketHeaders(emu: { url: string }, key: string, secret: string, site = SITE): Record<string, string> {
  return {
    Origin: emu.url,
    Authorization: `token ${key}:${secret}`,
    Cookie: 'frappe_sidecar=1',
    'X-Frappe-Site-Name': site,
  };
}

/** Resolve with the next `event` whose payload passes `match`. */
export function nextEvent<T = any>(socket: Socket, event: string, match: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const handler = (payload: T) => {
      if (!match(payload)) return;
      socket.off(event, handler);
      resolve(payload);
    };
    socket.on(event, handler);
  });
}

/** Collect every `event` until stopped (to assert what did *not* arrive before a later barrier event). */
export function record<T = any>(socket: Socket, event: string): { events: T[]; stop(): void } {
  const events: T[] = [];
  const handler = (p: T) => events.push(p);
  socket.on(event, handler);
  return { events, stop: () => socket.off(event, handler) };
}

/** Emit a subscription and wait until the server has finished its permission callback. */
export async function subscribe(emu: { url: string }, socket: Socket, event: string, ...args: unknown[]): Promise<string[]> {
  socket.emit(event, ...args);
  // The server answers `ping` in order, so once `pong` arrives the subscribe was received;
  // then wait for its permission callback to settle.
  await new Promise<void>((resolve) => {
    socket.once('pong', () => resolve());
    socket.emit('ping');
  });
  for (;;) {
    const views: { id: string; rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${encodeURIComponent(SITE)}`, undefined, 'GET');
    const me = views.find((v) => v.id === socket.id);
    if (!me) throw new Error('socket not known to the emulator');
    if (me.pending === 0) return me.rooms;
    await new Promise((r) => setImmediate(r));
  }
}
