/**
 * Sidecar fast path and guarantee, against the emulator on 127.0.0.1:
 * - realtime: a document saved → its handler starts, p50/p95 over 1,000 events; baseline: the same
 *   events heard by a bare socket.io client (the floor any subscriber pays);
 * - catch-up: 10,000 documents changed while the realtime link was down → all handled after
 *   reconnect; time from the link being up again (when the runtime starts the pass) to the last
 *   handler, REST calls from the moment realtime is restored; baseline: one REST listing of those
 *   10,000 names. The reconnect backoff before it (socket.io's, after an outage as long as the
 *   inserts take) is reported apart (`…_reconnect_wait_ms`): it is the client's retry schedule,
 *   not catch-up work.
 * - catch-up again with every REST call held 20 ± 5 ms by the emulator's latency profile
 *   (metrics `…_20ms`), BENCH_MISSED_20MS (2,000) documents; baseline: one listing at that profile.
 *   The realtime figures need no such variant: the event path makes no REST call (the handler here
 *   records the moment and returns).
 * Bounded in count; each phase has a time limit and stops by itself.
 */
import pino from 'pino';
import { io } from 'socket.io-client';
import { startEmulator } from '../emulator/server.js';
import { asAdmin, put } from '../emulator/sites.js';
import { parseManifest } from '../lib/manifest/load.js';
import { startSidecar } from '../sidecar/runtime.js';
import { median, percentile, writeResult } from './lib.js';
import { localConfig } from '../test/helpers/config.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000);
const MISSED = Number(process.env.BENCH_MISSED ?? 10_000);
const MISSED_20MS = Number(process.env.BENCH_MISSED_20MS ?? 2_000);
const SITE = 'bench.localhost';

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())]);
}

export async function run(): Promise<void> {
  const emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
  const site = emu.site(SITE);
  const u = await fetch(`${emu.url}/__emulator/sites/${SITE}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', roles: ['Sales Manager'], generate_keys: true }),
  }).then((r) => r.json());
  const published = new Map<string, number>();
  const handled = new Map<string, number>();
  let onHandled: ((name: string) => void) | null = null;
  const sidecar = await startSidecar({
    config: localConfig({ name: SITE, url: emu.url, key: u.api_key, secret: u.api_secret }, { concurrency: 8 }),
    manifest: parseManifest({ app: 'crm_order_companion', realtime: { 'CRM Lead': { list_update: ['bench.record'] } } }),
    handlers: {
      'bench.record': async ({ job }) => {
        const name = String(job.data.name);
        if (!handled.has(name)) handled.set(name, Date.now());
        onHandled?.(name);
      },
    },
    logger: pino({ level: process.env.BENCH_LOG ?? 'warn' }),
    http: false,
    reconnectBaseMs: 50,
  });
  // Baseline listener: a bare socket.io client in the same room.
  const heardByClient = new Map<string, number>();
  const socket = io(`${emu.url}/${SITE}`, {
    transports: ['websocket'],
    extraHeaders: { Origin: emu.url, Cookie: 'x=1', Authorization: `token ${u.api_key}:${u.api_secret}`, 'X-Frappe-Site-Name': SITE },
  });
  socket.on('list_update', (p: { name: string }) => heardByClient.set(p.name, Date.now()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.emit('doctype_subscribe', 'CRM Lead');
  const waitAll = (names: string[], ms: number, what: string) =>
    deadline(
      new Promise<void>((resolve) => {
        // A set of the names still awaited: checking every name on every job would cost the
        // bench O(n²) and be measured as the sidecar's time.
        const pending = new Set(names.filter((n) => !handled.has(n)));
        const check = (name?: string) => {
          if (name !== undefined) pending.delete(name);
          if (pending.size === 0) {
            onHandled = null;
            resolve();
          }
        };
        onHandled = check;
        check();
      }),
      ms,
      what,
    );
  const insert = () => asAdmin(site, (ctx) => String(put(ctx, { doctype: 'CRM Lead', first_name: 'Bench', status: 'New' }).name));

  try {
    await deadline(
      (async () => {
        while (!sidecar.status()[0].realtime.connected) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'realtime link',
    );
    // Both listeners must be in the room before the first event (Frappe sends no acknowledgement).
    await deadline(
      (async () => {
        for (;;) {
          const views: { rooms: string[]; pending: number }[] = await fetch(`${emu.url}/__emulator/realtime/sockets?site=${SITE}`).then((r) => r.json());
          if (views.filter((v) => v.pending === 0 && v.rooms.includes('doctype:CRM Lead')).length >= 2) return;
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      10_000,
      'subscriptions',
    );
    await sidecar.catchUpNow();
    // One warm-up event through the whole path.
    const warm = insert();
    published.set(warm, Date.now());
    await waitAll([warm], 10_000, 'warm-up');

    // ---- realtime: one event at a time, so each latency is its own ----
    const names: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const t = Date.now();
      const name = insert();
      published.set(name, t);
      names.push(name);
      await waitAll([name], 10_000, `event ${i}`);
    }
    const toHandler = names.map((n) => handled.get(n)! - published.get(n)!);
    const toClient = names.filter((n) => heardByClient.has(n)).map((n) => heardByClient.get(n)! - published.get(n)!);

    // ---- catch-up: the link is down while `count` documents change ----
    const catchUp = async (count: number) => {
      await fetch(`${emu.url}/__emulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ realtime: 'down' }) });
      while (sidecar.status()[0].realtime.connected) await new Promise((r) => setTimeout(r, 10));
      const missed: string[] = [];
      for (let i = 0; i < count; i++) {
        missed.push(insert());
        // Inserting is synchronous: yield now and then, so keep-alive timers on both ends of the
        // control connection fire in time instead of one closing a socket the other reuses.
        if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      }
      site.requestCounts.clear();
      // The catch-up starts when the link is back up (the runtime emits `realtime` true, then
      // runs the pass); how long socket.io's reconnect backoff took to get there is its own figure.
      let linkUpAt = 0;
      const onLink = (_site: string, connected: boolean) => {
        if (connected && !linkUpAt) linkUpAt = Date.now();
      };
      sidecar.events.on('realtime', onLink);
      const t0 = Date.now();
      // Realtime back (DELETE /faults would clear the latency profile too).
      await fetch(`${emu.url}/__emulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ realtime: 'normal' }) });
      await waitAll(missed, 600_000, `catch-up of ${count}`);
      const end = Date.now();
      sidecar.events.off('realtime', onLink);
      const ms = end - linkUpAt;
      const reconnectWaitMs = linkUpAt - t0;
      const restCalls = [...site.requestCounts.values()].reduce((a, b) => a + b, 0);
      const b0 = Date.now();
      const listing = await fetch(
        `${emu.url}/api/resource/CRM Lead?${new URLSearchParams({ fields: '["name","modified"]', order_by: 'modified asc, name asc', limit_page_length: '0' })}`,
        { headers: { Authorization: `token ${u.api_key}:${u.api_secret}`, 'X-Frappe-Site-Name': SITE } },
      );
      await listing.json();
      return { ms, reconnectWaitMs, restCalls, listMs: Date.now() - b0 };
    };
    const at0 = await catchUp(MISSED);
    emu.state.latency.set({ meanMs: 20, jitterMs: 5, seed: 7 });
    const at20 = await catchUp(MISSED_20MS);
    emu.state.latency.clear();
    const catchupMs = at0.ms;
    const restCalls = at0.restCalls;
    const listMs = at0.listMs;

    writeResult(
      'sidecar_realtime',
      {
        event_to_handler_p50_ms: median(toHandler),
        event_to_handler_p95_ms: percentile(toHandler, 95),
        handler_vs_bare_client_p50_ratio: median(toHandler) / Math.max(1, median(toClient)),
        catchup_10000_ms: catchupMs,
        catchup_10000_reconnect_wait_ms: at0.reconnectWaitMs,
        catchup_10000_rest_calls: restCalls,
        catchup_docs_per_second: Math.round((MISSED / catchupMs) * 1000),
        catchup_vs_single_listing_ratio: catchupMs / Math.max(1, listMs),
        [`catchup_${MISSED_20MS}_ms_20ms`]: at20.ms,
        [`catchup_${MISSED_20MS}_reconnect_wait_ms_20ms`]: at20.reconnectWaitMs,
        [`catchup_${MISSED_20MS}_rest_calls_20ms`]: at20.restCalls,
        catchup_docs_per_second_20ms: Math.round((MISSED_20MS / at20.ms) * 1000),
        catchup_vs_single_listing_ratio_20ms: at20.ms / Math.max(1, at20.listMs),
      },
      {
        bare_client_p50_ms: median(toClient),
        bare_client_p95_ms: percentile(toClient, 95),
        single_listing_10000_ms: listMs,
        events: EVENTS,
        missed_documents: MISSED,
        [`single_listing_${MISSED_20MS}_ms_20ms`]: at20.listMs,
        missed_documents_20ms: MISSED_20MS,
      },
    );
  } finally {
    socket.close();
    await sidecar.stop(2000);
    await emu.close();
  }
}
