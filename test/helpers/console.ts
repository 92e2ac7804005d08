/**
 * Ops console helpers: a sidecar with its HTTP server (and so the console) on an installed emulated
 * site, a handler that reads a CRM Lead (so an injected REST fault fails it), people to sign in
 * as, signing in over the API, and a live-link client that waits for the message a test expects.
 */
import { WebSocket } from 'ws';
import type { ShopConfig } from '../../lib/config/shops.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { HooksManifest } from '../../lib/manifest/schema.js';
import { BULK_HANDLER, bulkHandler } from '../../sidecar/handlers/order_history/bulk.js';
import type { HandlerRegistry } from '../../sidecar/handlers/types.js';
import { startSidecar, type Sidecar } from '../../sidecar/runtime.js';
import type { SiteStatus } from '../../sidecar/site/status.js';
import { SITE, control } from './emulator.js';
import { captureLogs, configFor, until, type InstalledSite } from './sidecar.js';

export const CONSOLE_HANDLER = 'console.test.read_lead';

/** Nothing wired to realtime: the only jobs are the ones a test enqueues. */
export const CONSOLE_MANIFEST = parseManifest({ app: 'crm_order_companion', realtime: {} });

export const consoleHandlers: HandlerRegistry = {
  [CONSOLE_HANDLER]: async ({ client, job }) => {
    await client.getDoc('CRM Lead', String(job.data.name));
  },
  // The console's *Run history sync* starts one of these.
  [BULK_HANDLER]: bulkHandler,
};

export async function startConsoleSidecar(
  site: InstalledSite,
  opts: { adminToken?: string; shops?: ShopConfig[]; handlers?: HandlerRegistry; manifest?: HooksManifest } = {},
): Promise<{ sc: Sidecar; logs: ReturnType<typeof captureLogs>['lines'] }> {
  const { lines, logger } = captureLogs();
  const config = { ...configFor(site), adminToken: opts.adminToken, ...(opts.shops ? { shops: opts.shops } : {}) };
  const sc = await startSidecar({
    config,
    manifest: opts.manifest ?? CONSOLE_MANIFEST,
    handlers: { ...consoleHandlers, ...opts.handlers },
    logger,
    rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 5000, maxRetries: 0 },
    jobDefaults: { maxAttempts: 1, backoffMs: 5 },
    reconnectBaseMs: 20,
  });
  await until(sc, () => sc.status()[0]!.rest.ok && sc.status()[0]!.realtime.connected, 'the site reachable and linked');
  return { sc, logs: lines };
}

/** A Frappe user with `roles` and the password "pw". */
export async function person(site: InstalledSite, email: string, roles: string[]): Promise<string> {
  const u = await control(site.emu, `/sites/${SITE}/users`, { email, roles, password: 'pw' });
  return String(u.name);
}

/** Sign in over the console API: the response, and the session cookie (name=value) if one was set. */
export async function consoleLogin(url: string, usr: string, pwd: string, cookie?: string, site = SITE): Promise<{ status: number; body: any; cookie: string | null; setCookie: string | null }> {
  const res = await fetch(`${url}/console/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify({ site, usr, pwd }),
  });
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, body: await res.json(), setCookie, cookie: setCookie ? setCookie.split(';')[0] : null };
}

export interface LiveClient {
  messages: any[];
  /** Resolve with the first message (already received or coming) that `match` accepts. */
  next(match: (m: any) => boolean, what: string, limitMs?: number): Promise<any>;
  close(): void;
}

export function liveClient(url: string, headers: Record<string, string>): Promise<LiveClient> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/console/live`, { headers });
  const messages: any[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    for (const w of [...waiters]) if (w.match(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new Error(`live link refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        messages,
        next(match, what, limitMs = 15_000) {
          const seen = messages.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no live message: ${what}; got ${JSON.stringify(messages)}`)), limitMs);
            waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)) });
          });
        },
        close: () => ws.close(),
      }),
    );
  });
}

/** The live link's answer to an upgrade without a session: the HTTP status it was refused with. */
export function liveRefusal(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/console/live`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      reject(new Error('the live link opened without a session'));
    });
    ws.once('error', () => undefined);
  });
}

/**
 * A TCP relay on 127.0.0.1 in front of the sidecar, so a test can lose the network between the
 * browser and the sidecar the way a real link is lost: `cut()` drops every connection and refuses
 * new ones until `restore()`. (Chromium's offline emulation leaves an open WebSocket alone.)
 */
export async function relay(target: string): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const { createServer, connect } = await import('node:net');
  const to = new URL(target);
  const open = new Set<import('node:net').Socket>();
  let refusing = false;
  const server = createServer((inbound) => {
    if (refusing) return inbound.destroy();
    const outbound = connect(Number(to.port), to.hostname);
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A site that is reachable, connected and hearing its events: what console tests without a real site show. */
export function readySiteStatus(name: string): SiteStatus {
  return {
    name,
    url: 'http://127.0.0.1:9',
    rest: { ok: true, error: null, user: 'companion@example.com', checkedAt: '2026-01-01T00:00:00.000Z' },
    realtime: { connected: true, error: null, eventsArrive: true, eventsError: null },
    timeZone: 'UTC',
    catchup: { running: false, lastRunAt: null, lastDocuments: 0, error: null },
  };
}
