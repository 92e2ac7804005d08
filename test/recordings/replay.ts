/**
 * Replay the recordings against one emulator: every REST case in run order (with the event cases
 * where they ran), then the handshakes. Recorded names, datetimes and secrets are rewritten into
 * what this emulator answered before (`Substitutions`), and each answer is compared (compare.ts).
 */
import { createServer } from 'node:net';
import { io as ioClient, type Socket } from 'socket.io-client';
import { compare, Substitutions, type Difference, DATETIME } from './compare.js';
import { isHandshake, loadRecordings, runOrder, type EventCase, type HandshakeCase, type RestAction, type RestCase } from './recordings.js';
import { ADMIN_PASSWORD, PRECONDITIONS, SITE, amendRequest, replaySite, type ReplaySite } from './site.js';
import { control } from '../helpers/emulator.js';
import { asAdmin, put } from '../../emulator/sites.js';

export interface CaseResult {
  case: string;
  kind: 'rest' | 'handshake' | 'events';
  diffs: Difference[];
}

interface Secrets {
  admin: string;
  bad: string;
  restricted?: string;
  sid?: string;
}

/** Naive IST (the site's zone) → epoch ms. */
function istToEpochMs(naive: string): number {
  return Date.parse(`${naive.replace(' ', 'T')}+05:30`);
}

/** The recorded run's window (README: 20:00–20:02 Asia/Kolkata). */
const RUN_WINDOW = ['2026-12-02 20:00:00', '2026-12-02 20:03:00'];

export class Replay {
  readonly subs = new Substitutions();
  readonly results: CaseResult[] = [];
  private secrets!: Secrets;
  private site!: ReplaySite;
  private restrictedUser = '';
  /** The latest moment the recorded run is known to have reached (naive IST). */
  private recordedNow = RUN_WINDOW[0];
  private sockets: { admin?: Socket; restricted?: Socket } = {};
  private buffers = new Map<Socket, { event: string; data: unknown }[]>();

  async run(): Promise<CaseResult[]> {
    const { rest, realtime } = loadRecordings();
    this.site = await replaySite();
    this.secrets = { admin: `${this.site.admin.key}:${this.site.admin.secret}`, bad: `${this.site.admin.key}:not-the-secret` };
    try {
      for (const step of runOrder(rest, realtime)) {
        const ids = step.kind === 'rest' ? [step.case.case] : step.case.actions.flatMap((a) => ('rest_case' in a && a.rest_case ? [a.rest_case] : []));
        for (const p of PRECONDITIONS.filter((p) => ids.includes(p.before))) await this.precondition(p);
        if (step.kind === 'rest') await this.restCase(step.case);
        else await this.eventCase(step.case, rest);
      }
      for (const c of realtime) if (isHandshake(c)) await this.handshake(c);
    } finally {
      for (const s of Object.values(this.sockets)) s?.close();
      await this.site.emu.close();
    }
    return this.results;
  }

  // ---- the clock -------------------------------------------------------------------

  /**
   * Keep the emulator's clock at or after the recorded run's: the cases that depend on time (the
   * 2-second SLA, the Helpdesk SLA's working hours, today's date) then behave as they did.
   */
  private noteRecordedTimes(value: unknown, key?: string): void {
    if (typeof value === 'string') {
      if ((key === 'creation' || key === 'modified') && DATETIME.test(value) && value > this.recordedNow && value < RUN_WINDOW[1]) this.recordedNow = value;
      return;
    }
    if (Array.isArray(value)) for (const v of value) this.noteRecordedTimes(v, key);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) this.noteRecordedTimes(v, k);
  }

  /** A datetime literal in a request that no answer produced is the recorder's reading of the site clock. */
  private noteRequestClock(texts: string[]): void {
    for (const t of texts) {
      for (const m of t.matchAll(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{6})?/g)) {
        if (this.subs.has(m[0]) || m[0] < RUN_WINDOW[0] || m[0] > RUN_WINDOW[1]) continue;
        if (m[0] > this.recordedNow) this.recordedNow = m[0];
      }
    }
  }

  private async syncClock(): Promise<void> {
    const target = istToEpochMs(this.recordedNow) + 1;
    const clock = await control(this.site.emu, '/clock', undefined, 'GET');
    if (Date.parse(clock.now) < target) await control(this.site.emu, '/clock', { now: new Date(target).toISOString() });
  }

  // ---- requests --------------------------------------------------------------------

  private secret(text: string): string {
    return text
      .replace('<admin>', this.secrets.admin)
      .replace('<bad>', this.secrets.bad)
      .replace('<restricted>', this.secrets.restricted ?? 'restricted-user-has-no-keys-yet')
      .replace('<sid>', this.secrets.sid ?? 'no-session-yet')
      .replace('<admin-password>', ADMIN_PASSWORD);
  }

  /** Rewrite recorded values in a request body: strings through the substitutions, numeric names where names go. */
  private body(v: unknown, key?: string): unknown {
    if (typeof v === 'string') {
      const numeric = this.subs.numbers().find(([r]) => String(r) === v);
      if (numeric && (key === 'name' || key === 'docname')) return String(numeric[1]);
      return this.secret(this.subs.text(v));
    }
    if (typeof v === 'number' && key === 'name') return this.subs.get(v) ?? v;
    if (Array.isArray(v)) return v.map((x) => this.body(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.body(x, k)]));
    return v;
  }

  /** A query value: JSON text (filters, fields) rewritten as JSON, so numeric names in `["name", "in", [10]]` follow too. */
  private queryValue(v: string): string {
    const text = this.subs.text(v);
    if (!this.subs.numbers().length) return text;
    try {
      const parsed = JSON.parse(text) as unknown;
      const walk = (x: unknown, field?: unknown): unknown => {
        if (Array.isArray(x)) {
          if (x.length >= 3 && x[0] === 'name') return [x[0], x[1], walk(x[2], 'name'), ...x.slice(3)];
          return x.map((y) => walk(y, field));
        }
        if (typeof x === 'number' && field === 'name') return this.subs.get(x) ?? x;
        return x;
      };
      return JSON.stringify(walk(parsed));
    } catch {
      return text;
    }
  }

  private path(p: string): string {
    return p
      .split('/')
      .map((seg) => {
        const raw = decodeURIComponent(seg);
        const numeric = /^\d+$/.test(raw) ? this.subs.get(Number(raw)) : undefined;
        return encodeURIComponent(numeric !== undefined ? String(numeric) : this.subs.text(raw));
      })
      .join('/');
  }

  private async send(method: string, path: string, headers: Record<string, string>, query?: Record<string, string>, body?: unknown) {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) h[k] = this.secret(v);
    const qs = query ? `?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, this.secret(this.queryValue(v))])).toString()}` : '';
    const res = await fetch(`${this.site.emu.url}${this.path(path)}${qs}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(this.body(amendRequest(method, path, body))),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* an HTML answer stays text */
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed, cookies: res.headers.getSetCookie() };
  }

  private async restCase(c: RestCase): Promise<Difference[]> {
    this.noteRequestClock([c.request.path, ...Object.values(c.request.query ?? {}), JSON.stringify(c.request.body ?? null)]);
    await this.syncClock();
    const got = await this.send(c.request.method, c.request.path, c.request.headers, c.request.query, c.request.body);
    if (UNORDERED[c.case]) inRecordedOrder(c.response.body, got.body, UNORDERED[c.case]);
    const diffs = compare(
      { status: c.response.status, 'content-type': c.response.headers['content-type'], body: c.response.body },
      { status: got.status, 'content-type': got.contentType, body: got.body },
      { subs: this.subs },
    );
    // REPLAY_DUMP=case-a,case-b prints what the emulator answered (for working on a mismatch).
    if (process.env.REPLAY_DUMP?.split(',').includes(c.case)) console.log(c.case, got.status, JSON.stringify(got.body));
    this.noteRecordedTimes(c.response.body);
    this.afterCase(c, got);
    this.results.push({ case: c.case, kind: 'rest', diffs });
    return diffs;
  }

  /** Secrets the run hands out: the session of `login-ok`, the Sales User's keys of `user-generate-keys`. */
  private afterCase(c: RestCase, got: { status: number; body: unknown; cookies: string[] }): void {
    if (c.case === 'login-ok') {
      const sid = got.cookies.find((k) => k.startsWith('sid='));
      if (sid) this.secrets.sid = sid.split(';')[0].slice(4);
    }
    if (c.case === 'user-insert-sales-user' && got.status === 200) this.restrictedUser = String((got.body as { data: { name: string } }).data.name);
    if (c.case === 'user-generate-keys' && got.status === 200) {
      const user = this.site.emu.site(SITE).db.get('User', this.restrictedUser);
      const secret = (got.body as { message: { api_secret: string } }).message.api_secret;
      this.secrets.restricted = `${String(user?.api_key)}:${secret}`;
    }
  }

  private async precondition(p: (typeof PRECONDITIONS)[number]): Promise<void> {
    await this.syncClock();
    const admin = { Accept: 'application/json', 'X-Frappe-Site-Name': SITE, Authorization: 'token <admin>' };
    if (p.remove) {
      const got = await this.send('DELETE', `/api/resource/${encodeURIComponent(p.doctype)}/${encodeURIComponent(p.recordedName)}`, admin);
      if (got.status !== 202) throw new Error(`precondition: delete ${p.doctype} ${p.recordedName} (${p.why}): ${got.status} ${JSON.stringify(got.body).slice(0, 300)}`);
      return;
    }
    if (p.submit) {
      const path = `/api/resource/${encodeURIComponent(p.doctype)}/${encodeURIComponent(p.recordedName)}`;
      const doc = (await this.send('GET', path, admin)).body as { data?: Record<string, unknown> };
      const got = await this.send('POST', '/api/method/frappe.client.submit', { ...admin, 'Content-Type': 'application/json' }, undefined, { doc: doc.data });
      if (got.status !== 200) throw new Error(`precondition: submit ${p.doctype} ${p.recordedName} (${p.why}): ${got.status} ${JSON.stringify(got.body).slice(0, 300)}`);
      return;
    }
    if (p.direct) {
      const doc = asAdmin(this.site.emu.site(SITE), (ctx) => put(ctx, { doctype: p.doctype, ...p.doc }, { ignoreMandatory: true }));
      const problem = this.subs.learn(p.recordedName, String(doc.name), { unique: true });
      if (problem) throw new Error(`precondition ${p.recordedName}: ${problem}`);
      return;
    }
    const got = await this.send('POST', `/api/resource/${encodeURIComponent(p.doctype)}`, {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'X-Frappe-Site-Name': SITE,
      Authorization: 'token <admin>',
    }, undefined, p.doc);
    if (got.status !== 200) throw new Error(`precondition ${p.doctype} ${p.recordedName} (${p.why}): ${got.status} ${JSON.stringify(got.body).slice(0, 400)}`);
    const data = (got.body as { data: { name: string; modified: string } }).data;
    if (p.recordedModified) this.subs.learn(p.recordedModified, data.modified);
    const problem = this.subs.learn(p.recordedName, data.name, { unique: true });
    if (problem) throw new Error(`precondition ${p.recordedName}: ${problem}`);
  }

  // ---- realtime --------------------------------------------------------------------

  private socketHeaders(auth: string): Record<string, string> {
    return { Origin: this.site.emu.url, Authorization: this.secret(auth), Cookie: 'coc_sidecar=1', 'X-Frappe-Site-Name': SITE };
  }

  private async open(role: 'admin' | 'restricted'): Promise<Socket> {
    const socket = await dial(this.site.emu.url, `/${SITE}`, this.socketHeaders(role === 'admin' ? 'token <admin>' : 'token <restricted>'));
    const buffer: { event: string; data: unknown }[] = [];
    socket.onAny((event: string, data: unknown) => {
      if (event !== 'pong') buffer.push({ event, data });
    });
    this.buffers.set(socket, buffer);
    this.sockets[role] = socket;
    return socket;
  }

  /** Emit, then wait until the server has run the emit's permission callback (the emulator's socket view). */
  private async emit(socket: Socket, args: unknown[]): Promise<void> {
    socket.emit(...(this.body(args) as [string, ...unknown[]]));
    await roundTrip(socket);
    for (;;) {
      const views: { id: string; pending: number }[] = await control(this.site.emu, `/realtime/sockets?site=${encodeURIComponent(SITE)}`, undefined, 'GET');
      if ((views.find((v) => v.id === socket.id)?.pending ?? 0) === 0) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Which socket a case's emits come from, by its `what` ("a Sales User socket subscribes …"). */
  private static readonly RESTRICTED_EMITS = new Set(['rt-sync-request-flow', 'rt-restricted-subscriptions']);

  private async eventCase(c: EventCase, rest: RestCase[]): Promise<void> {
    const diffs: Difference[] = [];
    if (!this.sockets.admin) {
      // "The admin socket joined the rooms of doctype_subscribe CRM Lead, Sales Order, Work Order,
      // Communication and the run's Sync Request DocType right after it connected."
      const admin = await this.open('admin');
      for (const dt of ['CRM Lead', 'Sales Order', 'Work Order', 'Communication', 'rec-684ooa Sync Request']) await this.emit(admin, ['doctype_subscribe', dt]);
    }
    if (Replay.RESTRICTED_EMITS.has(c.case) && !this.sockets.restricted) await this.open('restricted');
    // Whatever earlier cases caused is not this case's.
    for (const s of Object.values(this.sockets)) if (s) await roundTrip(s);
    for (const b of this.buffers.values()) b.length = 0;

    for (const [i, a] of c.actions.entries()) {
      if ('emit' in a) {
        const socket = Replay.RESTRICTED_EMITS.has(c.case) ? this.sockets.restricted! : this.sockets.admin!;
        await this.emit(socket, a.emit);
      } else if ('rest' in a) {
        diffs.push(...(await this.restAction(a, rest, `$.actions[${i}]`)));
      }
    }

    const twoSockets = c.events.some((e) => e.socket);
    for (const role of ['admin', 'restricted'] as const) {
      const socket = this.sockets[role];
      const expected = c.events.filter((e) => (e.socket ?? 'admin') === role).map(({ event, data }) => ({ event, data }));
      if (!socket) {
        if (expected.length) diffs.push({ path: `$.events(${role})`, problem: 'no such socket', recorded: expected.length });
        continue;
      }
      if (!twoSockets && role === 'restricted') continue;
      await waitFor(socket, this.buffers.get(socket)!, expected.length);
      await roundTrip(socket); // anything more the server sent before the pong is here now
      diffs.push(...compare(expected, [...this.buffers.get(socket)!], { subs: this.subs }, `$.events(${role})`));
    }
    diffs.push(...(await this.leadAfter(c)));
    this.results.push({ case: c.case, kind: 'events', diffs });

    if (c.case === 'rt-doctype-unsubscribe') {
      // "subscribe again afterwards"; the next case recorded one socket only.
      await this.emit(this.sockets.admin!, ['doctype_subscribe', 'CRM Lead']);
      this.sockets.restricted?.close();
      delete this.sockets.restricted;
    }
  }

  /**
   * `lead_after` / `lead_versions`: the lead the case's Communication references, read right away
   * and again once the emulator's clock has moved 3 s (nothing runs later on its own), and its
   * Version rows with the fields each one changed.
   */
  private async leadAfter(c: EventCase): Promise<Difference[]> {
    if (!c.lead_after && !c.lead_versions) return [];
    const ref = c.actions.find((a): a is RestAction => 'rest' in a && Boolean((a.rest.body as { reference_name?: string })?.reference_name));
    const name = this.subs.text(String((ref?.rest.body as { reference_name: string }).reference_name));
    const admin = { Accept: 'application/json', 'X-Frappe-Site-Name': SITE, Authorization: 'token <admin>' };
    const diffs: Difference[] = [];
    const read = async (recorded: Record<string, unknown>, path: string) => {
      const got = await this.send('GET', `/api/resource/CRM%20Lead/${encodeURIComponent(name)}`, admin);
      const doc = (got.body as { data?: Record<string, unknown> }).data ?? {};
      // A field absent from the answer is null in the recorded read (as_dict(no_nulls) drops it).
      const actual = Object.fromEntries(Object.keys(recorded).map((k) => [k, doc[k] ?? null]));
      diffs.push(...compare(recorded, actual, { subs: this.subs }, path));
    };
    if (c.lead_after) {
      await read(c.lead_after.immediately, '$.lead_after.immediately');
      await control(this.site.emu, '/clock', { advance_seconds: 3 });
      await read(c.lead_after.after_3s, '$.lead_after.after_3s');
    }
    if (c.lead_versions) {
      const got = await this.send('GET', '/api/resource/Version', admin, {
        fields: JSON.stringify(['owner', 'creation', 'data']),
        filters: JSON.stringify([['ref_doctype', '=', 'CRM Lead'], ['docname', '=', name]]),
        order_by: 'creation asc',
        limit_page_length: '0',
      });
      const rows = ((got.body as { data?: { owner: string; creation: string; data: string }[] }).data ?? []).map((v) => ({
        owner: v.owner,
        creation: v.creation,
        changed: (JSON.parse(v.data) as { changed?: unknown[][] }).changed ?? [],
      }));
      diffs.push(...compare(c.lead_versions, rows, { subs: this.subs }, '$.lead_versions'));
    }
    return diffs;
  }

  private async restAction(a: RestAction, rest: RestCase[], path: string): Promise<Difference[]> {
    if (a.rest_case) {
      const rc = rest.find((r) => r.case === a.rest_case)!;
      const restDiffs = await this.restCase(rc);
      // The REST case reports its own differences; the event case only needs the call to have gone through.
      return restDiffs.some((d) => d.path === '$.status') ? [{ path: `${path}.status`, problem: `REST case ${rc.case} answered differently` }] : [];
    }
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Frappe-Site-Name': SITE, Authorization: a.rest.auth };
    if (a.rest.body !== undefined) headers['Content-Type'] = 'application/json';
    this.noteRequestClock([JSON.stringify(a.rest.body ?? null)]);
    await this.syncClock();
    const got = await this.send(a.rest.method, a.rest.path, headers, undefined, a.rest.body);
    const recorded: Record<string, unknown> = { status: a.status };
    const actual: Record<string, unknown> = { status: got.status };
    const body = got.body as { data?: Record<string, unknown>; exc_type?: string };
    if (a.exc_type !== undefined) {
      recorded.exc_type = a.exc_type;
      actual.exc_type = body?.exc_type;
    }
    if (a.result !== undefined && a.result !== null && typeof a.result === 'object') {
      const r = a.result as Record<string, unknown>;
      recorded.result = r;
      actual.result = Object.fromEntries(Object.keys(r).map((k) => [k, body?.data?.[k]]));
      this.noteRecordedTimes(r);
    }
    return compare(recorded, actual, { subs: this.subs }, path);
  }

  /** Handshake URLs and Origins name the recorded bench's ports; ours has one port for both. */
  private async handshake(c: HandshakeCase): Promise<void> {
    const deadPort = await unusedPort();
    const url = new URL(this.site.emu.url);
    const rewrite = (s: string) =>
      this.secret(s)
        .replace(/:(18000|19000)\b/g, `:${url.port}`)
        .replace(/:18999\b/g, `:${deadPort}`);
    const headers = Object.fromEntries(Object.entries(c.handshake.headers).map(([k, v]) => [k, rewrite(v)]));
    let result: { connected: boolean; error: { message: string; data: unknown } | null };
    try {
      const socket = await dial(this.site.emu.url, c.handshake.namespace, headers, c.handshake.path);
      socket.close();
      result = { connected: true, error: null };
    } catch (e) {
      const err = e as Error & { data?: unknown };
      result = { connected: false, error: { message: err.message, data: err.data ?? null } };
    }
    const recorded = JSON.parse(JSON.stringify(c.result).replace(/:18999\b/g, `:${deadPort}`)) as unknown;
    this.results.push({ case: c.case, kind: 'handshake', diffs: compare(recorded, result, { subs: this.subs }) });
  }
}

/**
 * Lists ordered by random hash names: `custom-docperm-list-fields` orders two Custom DocPerm rows
 * `name asc`, and their names are `frappe.generate_hash` values on both sides — their order is
 * chance. Such rows are compared in the recorded order, matched by the given column.
 */
const UNORDERED: Record<string, string> = { 'custom-docperm-list-fields': 'role' };

function inRecordedOrder(recorded: unknown, actual: unknown, column: string): void {
  const r = (recorded as { data?: Record<string, unknown>[] })?.data;
  const a = (actual as { data?: Record<string, unknown>[] })?.data;
  if (!Array.isArray(r) || !Array.isArray(a)) return;
  const rank = (row: Record<string, unknown>) => {
    const i = r.findIndex((x) => x[column] === row[column]);
    return i < 0 ? r.length : i;
  };
  a.sort((x, y) => rank(x) - rank(y));
}

function dial(base: string, namespace: string, headers: Record<string, string>, path?: string): Promise<Socket> {
  const socket = ioClient(`${base}${namespace}`, { transports: ['websocket'], extraHeaders: headers, reconnection: false, forceNew: true, ...(path ? { path } : {}) });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The emulator answers `ping` with `pong` in order: every event sent before it has arrived once it does. */
function roundTrip(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('pong', () => resolve());
    socket.emit('ping');
  });
}

/** Until `count` events are buffered, re-checking on each arrival; bounded only so a missing event fails the case. */
function waitFor(socket: Socket, buffer: unknown[], count: number, limitMs = 2000): Promise<void> {
  if (buffer.length >= count) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.offAny(check);
      resolve();
    };
    const check = () => {
      if (buffer.length >= count) queueMicrotask(done);
    };
    const timer = setTimeout(done, limitMs);
    socket.onAny(check);
  });
}

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
