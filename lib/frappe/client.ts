/**
 * A thin typed client for Frappe's REST API v1 (frappe/api/v1.py, frappe/client.py), on Node's fetch.
 *
 * Why not frappe-js-sdk: it is built on axios, has no timeouts or retries, throws plain objects
 * (no stack, `instanceof Error` false, `_server_messages` left as raw JSON), and when there is no
 * response at all it fails with a TypeError reading `error.response.data`, losing the most
 * retriable failure of all (frappe/frappe-js-sdk src/db/index.ts, in releases before src/utils/error.ts). We keep its good habits: `Filter<T>`/`FrappeDoc<T>`
 * types, credentials read lazily on every request, and one place for the wire format.
 *
 * Retries live in `request()`: network errors, timeouts, 5xx and 429 are retried with exponential
 * backoff and full jitter; other 4xx never are. A Retry-After longer than `backoffMaxMs` ends the
 * retries at once: the job store is better placed to wait that long than a held request.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { RetriableError, isRetriable } from '../errors.js';
import { redactSecrets, registerSecret, type Logger } from '../log.js';
import { errorFromNoResponse, errorFromResponse, isTimestampMismatch, withFinalNote } from './errors.js';
import type { Filter, FrappeDoc, ListAllArgs, ListArgs, MethodResponse, OrderBy, ResourceResponse } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface FrappeClientOptions {
  /** Site name, sent as `X-Frappe-Site-Name` and used as the `site` metric label. */
  site: string;
  /** Where the bench answers, e.g. `https://erp.example.com` or `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** Read on every request, so a rotated key takes effect without rebuilding the client. */
  apiKey: () => string;
  apiSecret: () => string;
  /** Send `X-Frappe-Site-Name`; turn off when a proxy maps the Host to the site. @defaultValue true */
  sendSiteHeader?: boolean;
  /**
   * Per attempt, covering the whole answer (headers and body), for both reads and writes unless
   * `readTimeoutMs` / `writeTimeoutMs` say otherwise. Kept for callers that want one figure.
   */
  timeoutMs?: number;
  /**
   * Per attempt of a GET. Short: a read that has not answered by now is retried at once (it is
   * idempotent), so a hung read costs seconds, not a write's patience.
   * @defaultValue min(timeoutMs, 5_000)
   */
  readTimeoutMs?: number;
  /**
   * Per attempt of a POST/PUT/DELETE/PATCH. Long: a write that timed out may still commit, and a
   * POST is then not resent in-process (unless its caller says `idempotent`: a unique key on the
   * site refuses a second copy), so giving up early only turns a slow success into a job retry. The ceiling when `writeTimeoutFloorMs` lets the timeout adapt. @defaultValue timeoutMs,
   * else 15_000
   */
  writeTimeoutMs?: number;
  /**
   * Writes time out by their endpoint's own pace (per method and DocType or method name): twenty times the median of its last 64 answers,
   * at least this, at most `writeTimeoutMs` — and the full `writeTimeoutMs` until 16 answers of
   * that endpoint are known. A request the site left hanging then costs seconds rather than the
   * ceiling, while an endpoint that is slow by nature (a bulk update) keeps the time it needs.
   * `false`: every write gets `writeTimeoutMs`. @defaultValue 3_000 (false when `timeoutMs` is set)
   */
  writeTimeoutFloorMs?: number | false;
  /**
   * A call outstanding this long counts as a wait (`onWait`). Unset: four times the median
   * of this client's last 64 answered calls of the same kind (reads, writes), at least 100 ms, and
   * 1 s until 16 are known — slow for this site, whatever its usual pace.
   */
  slowCallMs?: number;
  /**
   * A GET outstanding this long is sent once more beside the first, and the first answer wins (the
   * other is aborted): a read is idempotent, so a request that one gunicorn worker left hanging
   * costs the hedge delay rather than the read timeout. At most one extra request, and only for
   * reads slower than this site's usual pace. `false` turns it off. @defaultValue the slow threshold
   * of `slowCallMs`
   */
  hedgeReadsAfterMs?: number | false;
  /** Retries after the first attempt. @defaultValue 4 */
  maxRetries?: number;
  /** First backoff ceiling; doubles each retry (full jitter below it). @defaultValue 250 */
  backoffBaseMs?: number;
  /** Backoff ceiling, and the longest Retry-After honoured in-process. @defaultValue 10_000 */
  backoffMaxMs?: number;
  /**
   * Called when a call has been outstanding `slowCallMs`, and when a backoff wait starts; answers
   * what to call once the wait is over. The sidecar passes its job store's stall hook
   * (sidecar/jobs/stall.ts), so a job waiting on a slow site hands its worker slot back.
   */
  onWait?: () => () => void;
  metrics?: RestMetrics;
  logger?: Logger;
  fetch?: typeof fetch;
  /** How backoff waits; tests record the delays instead of waiting. Rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). @defaultValue Math.random */
  random?: () => number;
  /** Clock for HTTP-date Retry-After values. @defaultValue Date.now */
  now?: () => number;
}

/** The counters the client increments; the sidecar passes its prom-client counters (sidecar/metrics.ts). */
export interface RestMetrics {
  restCalls: { inc(labels: { site: string; method: string; endpoint: string; outcome: string }): void };
  restRetries: { inc(labels: { site: string; endpoint: string }): void };
}

export interface RequestOptions {
  /** Query args; objects and arrays are JSON-encoded, null/undefined dropped. */
  query?: Record<string, unknown>;
  /** JSON body. Frappe ignores query args when the body is JSON (frappe/app.py make_form_dict: a JSON body is the whole form_dict), so not both. */
  json?: unknown;
  signal?: AbortSignal;
  /**
   * May the request be sent again after an ambiguous failure (timeout, 5xx, dropped connection)?
   * @defaultValue true for GET/PUT/DELETE, false for POST — a POST that timed out may have been
   * committed, and sending it again would insert twice. A non-idempotent request is retried only
   * when it surely was not processed (429, connection refused); otherwise the retriable error goes
   * to the job, whose handler is idempotent.
   */
  idempotent?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** See {@link RequestOptions.idempotent}. */
  idempotent?: boolean;
}

export interface SaveWithLatestOptions {
  /** Read-change-write rounds before giving up on a busy document. @defaultValue 3 */
  attempts?: number;
  signal?: AbortSignal;
  /**
   * The document as the caller just read it: the first round changes and writes it without reading
   * again; only a TimestampMismatchError (someone saved in between) costs a fresh read.
   */
  read?: FrappeDoc<unknown>;
}

export type Patch<T> = Partial<T> & Record<string, unknown>;

export interface FrappeClient {
  readonly site: string;
  /** One REST call with retries; answers the parsed JSON body. `path` must already be encoded. */
  request<T = unknown>(method: HttpMethod, path: string, opts?: RequestOptions): Promise<T>;
  getList<T = { name: string }>(doctype: string, args: ListArgs<T>): Promise<T[]>;
  /** Every matching row, `pageSize` at a time, until a page comes back short. */
  listAll<T = { name: string }>(doctype: string, args: ListAllArgs<T>): AsyncGenerator<T, void, undefined>;
  getCount<T = FrappeDoc>(doctype: string, filters?: Filter<T>[], opts?: CallOptions): Promise<number>;
  getDoc<T = {}>(doctype: string, name: string, opts?: CallOptions): Promise<FrappeDoc<T>>;
  insert<T = {}>(doctype: string, doc: Patch<T>, opts?: CallOptions): Promise<FrappeDoc<T>>;
  /** PUT: fields not in `patch` are kept; a table field in `patch` replaces the whole table. */
  update<T = {}>(doctype: string, name: string, patch: Patch<T>, opts?: CallOptions): Promise<FrappeDoc<T>>;
  remove(doctype: string, name: string, opts?: CallOptions): Promise<void>;
  /** A whitelisted method; answers `message`, undefined when the method returned None. */
  call<T = unknown>(method: string, args?: Record<string, unknown>, httpMethod?: HttpMethod, opts?: CallOptions): Promise<T | undefined>;
  /**
   * Read the document, let `change` compute a patch from it, and PUT the patch with the `modified`
   * that was read, so a concurrent write makes Frappe answer 417 TimestampMismatchError instead of
   * being overwritten; then read again and re-apply. Answers the saved document, or null when
   * `change` says there is nothing to do (null or an empty patch).
   */
  saveWithLatest<T = {}>(
    doctype: string,
    name: string,
    change: (latest: FrappeDoc<T>) => Patch<T> | null | Promise<Patch<T> | null>,
    opts?: SaveWithLatestOptions,
  ): Promise<FrappeDoc<T> | null>;
  /** The HTTP `Date` of the last answer from the site, or null when none carried one yet. */
  lastServerDate(): Date | null;
  /**
   * The site's clock now, from the `Date` header of a `ping` (second precision, truncated). Not
   * our own clock: the site decides what "overdue" means, and the two may disagree (skew, tests).
   * Falls back to the local clock, with a warning, when the answer has no `Date`.
   */
  serverNow(opts?: CallOptions): Promise<Date>;
}

/** `/api/resource/<doctype>[/<name>]`, both parts encoded (names may hold `/`, `#`, `?`, spaces). */
export function resourcePath(doctype: string, name?: string): string {
  const base = `/api/resource/${encodeURIComponent(doctype)}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

export function methodPath(method: string): string {
  return `/api/method/${encodeURIComponent(method)}`;
}

/** Frappe's query encoding (frappe-js-sdk `call.get`): objects as JSON, nulls dropped. */
export function encodeQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined) continue;
    params.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Metric label: the DocType without the document name (bounded cardinality), or the method. */
export function endpointOf(path: string): string {
  const p = safeDecode(path.split('?')[0]);
  const m = /^\/api(?:\/v1)?\/(resource|method)\/([^/]+)/.exec(p);
  if (m) return `/api/${m[1]}/${m[2]}`;
  return p;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function orderByText<T>(orderBy: OrderBy<T>): string {
  if (typeof orderBy === 'string') return orderBy;
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  return list.map((o) => `${String(o.field)} ${o.order}`).join(', ');
}

/**
 * The longest list URL (path and query) sent as a GET. gunicorn, which serves Frappe, refuses a
 * request line over 4094 bytes with a 400 (its `limit_request_line` default; bench does not raise
 * it), and proxies in front may allow less; a longer list call goes as a POST instead (getList).
 */
export const LIST_URL_BUDGET = 2000;

function withoutUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== null));
}

function listQuery<T>(args: Omit<ListArgs<T>, 'signal'>): Record<string, unknown> {
  return {
    fields: args.fields,
    filters: args.filters,
    or_filters: args.orFilters,
    order_by: orderByText(args.orderBy),
    group_by: args.groupBy,
    limit_start: args.limitStart,
    limit_page_length: args.limitPageLength ?? 20,
    parent: args.parent,
  };
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

/** Errors of attempts that ran out of time (as opposed to a refused or dropped connection). */
const timedOutErrors = new WeakSet<object>();
/** Errors of attempts the site (or its proxy) answered with a 5xx, by status. */
const answeredErrors = new WeakMap<object, number>();

/**
 * The failed request is over on the site: it answered 5xx (other than 504, a proxy that stopped
 * waiting while the worker may still run). A read made now tells whether a write committed, so a
 * caller can look before sending it again; after a timeout or a dropped connection it cannot.
 */
export function requestIsOver(err: unknown): boolean {
  const status = typeof err === 'object' && err !== null ? answeredErrors.get(err) : undefined;
  return status !== undefined && status !== 504;
}

/** Durations of the last answered calls of one kind, for what "slow" means on this site. */
class Paces {
  private readonly ms: number[] = [];
  private next = 0;
  add(ms: number): void {
    if (this.ms.length < 64) this.ms.push(ms);
    else this.ms[this.next] = ms;
    this.next = (this.next + 1) % 64;
  }
  /** The median of the last 64, once 16 are known. */
  median(): number | null {
    if (this.ms.length < 16) return null;
    const sorted = [...this.ms].sort((a, b) => a - b);
    return sorted[sorted.length >> 1]!;
  }
  slowAfterMs(): number {
    const median = this.median();
    return median === null ? 1_000 : Math.max(100, Math.ceil(4 * median));
  }
}

/** `to` (a copy of `from` with a note) keeps what `from` was marked with. */
function marked<E extends object>(from: object, to: E): E {
  if (timedOutErrors.has(from)) timedOutErrors.add(to);
  const status = answeredErrors.get(from);
  if (status !== undefined) answeredErrors.set(to, status);
  return to;
}

type Outcome = 'ok' | '4xx' | '5xx' | '429' | 'network' | 'timeout' | 'aborted' | 'hedge_lost';

/** The reason a hedged read's slower copy is aborted with. */
const HEDGE_LOST = new Error('a hedged copy of this read answered first');

/** A 429, or a connection that was refused: the site never processed the request. */
function surelyNotProcessed(err: RetriableError): boolean {
  if (err.code === 'frappe_throttled') return true;
  let cause: unknown = err.cause;
  for (let i = 0; i < 4 && cause; i++) {
    if ((cause as { code?: string }).code === 'ECONNREFUSED') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** The client for a configured site (sidecar, installer, doctor): the site's name, URL and keys. */
export function clientForSite(
  site: { name: string; url: string; apiKey: string; apiSecret: () => string },
  extra: Omit<FrappeClientOptions, 'site' | 'baseUrl' | 'apiKey' | 'apiSecret'> = {},
): FrappeClient {
  return createFrappeClient({ site: site.name, baseUrl: site.url, apiKey: () => site.apiKey, apiSecret: site.apiSecret, ...extra });
}

export function createFrappeClient(opts: FrappeClientOptions): FrappeClient {
  const site = opts.site;
  const onWait = opts.onWait ?? (() => () => {});
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const writeTimeoutMs = opts.writeTimeoutMs ?? opts.timeoutMs ?? 15_000;
  const readTimeoutMs = opts.readTimeoutMs ?? Math.min(opts.timeoutMs ?? Infinity, 5_000);
  const recent = { read: new Paces(), write: new Paces() };
  const slowAfterMs = (kind: 'read' | 'write') => opts.slowCallMs ?? recent[kind].slowAfterMs();
  const writeFloorMs = opts.writeTimeoutFloorMs ?? (opts.timeoutMs !== undefined ? false : 3_000);
  const writePaces = new Map<string, Paces>();
  const writeTimeoutFor = (key: string): number => {
    if (writeFloorMs === false) return writeTimeoutMs;
    const median = writePaces.get(key)?.median();
    if (median === null || median === undefined) return writeTimeoutMs;
    return Math.min(writeTimeoutMs, Math.max(writeFloorMs, Math.ceil(20 * median)));
  };
  const maxRetries = opts.maxRetries ?? 4;
  const backoffBaseMs = opts.backoffBaseMs ?? 250;
  const backoffMaxMs = opts.backoffMaxMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const sendSiteHeader = opts.sendSiteHeader ?? true;
  let registered: string | undefined;
  let serverDate: Date | null = null;

  function headers(hasBody: boolean): Record<string, string> {
    const secret = opts.apiSecret();
    // Registered once, and again only if the lazily read secret rotates, so redactSecrets
    // scrubs it from every free-text log line and error message.
    if (secret !== registered) {
      registerSecret(secret);
      registered = secret;
    }
    const h: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `token ${opts.apiKey()}:${secret}`,
    };
    if (sendSiteHeader) h['X-Frappe-Site-Name'] = site;
    if (hasBody) h['Content-Type'] = 'application/json';
    return h;
  }

  function count(method: string, endpoint: string, outcome: Outcome): void {
    opts.metrics?.restCalls.inc({ site, method, endpoint, outcome });
  }

  /** One attempt: answers the parsed body or throws a mapped error (or the caller's abort reason). */
  /** Remember the site's `Date` (RFC 9110 §6.6.1): every answer, error pages included, carries one. */
  function noteDate(headers: Headers): Date | null {
    const raw = headers.get('date');
    const ms = raw ? Date.parse(raw) : NaN;
    if (Number.isNaN(ms)) return null;
    serverDate = new Date(ms);
    return serverDate;
  }

  async function attempt<T>(method: HttpMethod, path: string, ro: RequestOptions, endpoint: string): Promise<T> {
    const readablePath = safeDecode(path.split('?')[0]);
    const kind = method === 'GET' ? 'read' : 'write';
    const timeoutMs = kind === 'read' ? readTimeoutMs : writeTimeoutFor(`${method} ${endpoint}`);
    const timeout = AbortSignal.timeout(timeoutMs);
    // Past slowCallMs the job waiting on this call hands its worker slot back until it settles.
    let resume: (() => void) | null = null;
    const slow = setTimeout(() => {
      resume = onWait();
    }, slowAfterMs(kind));
    const startedAt = performance.now();
    const signal = ro.signal ? AbortSignal.any([ro.signal, timeout]) : timeout;
    const hasBody = ro.json !== undefined;
    // Built outside the try: a credential getter that throws is a config problem, not a network one.
    const h = headers(hasBody);
    let status: number;
    let text: string;
    let resHeaders: Headers;
    try {
      const res = await doFetch(`${baseUrl}${path}${encodeQuery(ro.query)}`, {
        method,
        headers: h,
        body: hasBody ? JSON.stringify(ro.json) : undefined,
        signal,
      });
      status = res.status;
      resHeaders = res.headers;
      noteDate(res.headers);
      // The body is read under the same signal: a site that sends headers and then stalls still times out.
      text = await res.text();
      const tookMs = performance.now() - startedAt;
      recent[kind].add(tookMs);
      if (kind === 'write') {
        let paces = writePaces.get(`${method} ${endpoint}`);
        if (!paces) writePaces.set(`${method} ${endpoint}`, (paces = new Paces()));
        paces.add(tookMs);
      }
    } catch (err) {
      if (ro.signal?.aborted) {
        count(method, endpoint, ro.signal.reason === HEDGE_LOST ? 'hedge_lost' : 'aborted');
        throw ro.signal.reason;
      }
      const timedOut = timeout.aborted;
      count(method, endpoint, timedOut ? 'timeout' : 'network');
      const mapped = errorFromNoResponse({ method, path: readablePath, cause: err, timeoutMs: timedOut ? timeoutMs : undefined, url: baseUrl });
      if (timedOut) timedOutErrors.add(mapped);
      throw mapped;
    } finally {
      clearTimeout(slow);
      (resume as (() => void) | null)?.();
    }
    if (status >= 200 && status < 300) {
      count(method, endpoint, 'ok');
      if (text === '') return {} as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        // A 2xx that is not JSON comes from something in front of Frappe (a login page, a wrong
        // baseUrl): retrying will not change it, so it maps like a 4xx, to FrappeApiError.
        throw errorFromResponse({ site, url: baseUrl, method, path: readablePath, status, headers: resHeaders, bodyText: text, nowMs: now() });
      }
    }
    count(method, endpoint, status === 429 ? '429' : status >= 500 ? '5xx' : '4xx');
    const mapped = errorFromResponse({ site, url: baseUrl, method, path: readablePath, status, headers: resHeaders, bodyText: text, nowMs: now() });
    if (status >= 500) answeredErrors.set(mapped, status);
    throw mapped;
  }

  const hedgeAfterMs = (): number | null => {
    if (opts.hedgeReadsAfterMs === false) return null;
    return opts.hedgeReadsAfterMs ?? slowAfterMs('read');
  };

  /**
   * One GET, hedged: past the hedge delay a second copy goes out, the first answer wins and the
   * other copy is aborted. A definitive answer (2xx, or an error that is not retriable) settles it;
   * a retriable failure of one copy waits for the other, and the first such failure is what the
   * retry loop sees when both fail.
   */
  function hedgedRead<T>(path: string, ro: RequestOptions, endpoint: string): Promise<T> {
    const delayMs = hedgeAfterMs();
    if (delayMs === null) return attempt<T>('GET', path, ro, endpoint);
    return new Promise<T>((resolve, reject) => {
      const copies: AbortController[] = [];
      let pending = 0;
      let settled = false;
      let firstFailure: unknown = null;
      let timer: NodeJS.Timeout | null = null;
      const settle = (winner: AbortController | null, done: () => void): void => {
        settled = true;
        if (timer) clearTimeout(timer);
        for (const c of copies) if (c !== winner) c.abort(HEDGE_LOST);
        done();
      };
      const send = (): void => {
        const own = new AbortController();
        copies.push(own);
        pending += 1;
        const signal = ro.signal ? AbortSignal.any([ro.signal, own.signal]) : own.signal;
        attempt<T>('GET', path, { ...ro, signal }, endpoint).then(
          (value) => {
            if (!settled) settle(own, () => resolve(value));
          },
          (err: unknown) => {
            pending -= 1;
            if (settled) return;
            firstFailure ??= err;
            const definitive = !isRetriable(err) || ro.signal?.aborted;
            if (definitive) settle(own, () => reject(err));
            else if (pending === 0) settle(null, () => reject(firstFailure));
          },
        );
      };
      send();
      timer = setTimeout(() => {
        timer = null;
        if (settled) return;
        opts.metrics?.restRetries.inc({ site, endpoint });
        send();
      }, delayMs);
    });
  }

  async function request<T = unknown>(method: HttpMethod, path: string, ro: RequestOptions = {}): Promise<T> {
    if (ro.json !== undefined && ro.query && Object.keys(ro.query).length) {
      throw new TypeError(`${method} ${path}: Frappe ignores query args when the body is JSON; send one or the other`);
    }
    const endpoint = endpointOf(path);
    for (let n = 1; ; n++) {
      try {
        return await (method === 'GET' ? hedgedRead<T>(path, ro, endpoint) : attempt<T>(method, path, ro, endpoint));
      } catch (err) {
        if (!isRetriable(err) || ro.signal?.aborted) throw err;
        const e = err as RetriableError;
        if (!(ro.idempotent ?? method !== 'POST') && !surelyNotProcessed(e)) throw e;
        const retryAfterMs = e.retryAfterMs;
        const log = { site, method, endpoint, attempt: n, error: redactSecrets(e.message) };
        if (retryAfterMs !== undefined && retryAfterMs > backoffMaxMs) {
          opts.logger?.warn({ ...log, retryAfterMs }, 'Frappe asked to wait longer than the in-process backoff; leaving the retry to the job');
          throw marked(e, withFinalNote(e, `Retry-After ${retryAfterMs} ms exceeds the ${backoffMaxMs} ms backoff cap`));
        }
        if (n > maxRetries) {
          opts.logger?.warn(log, 'Frappe request failed; retries exhausted');
          throw marked(e, withFinalNote(e, `gave up after ${n} attempts`));
        }
        // Full jitter (AWS "Exponential Backoff and Jitter"): spread retries from many workers.
        const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (n - 1));
        // A read that timed out has waited its timeout already, and sending it again is harmless:
        // retry at once rather than hold the job for a backoff on top.
        const quick = method === 'GET' && timedOutErrors.has(e);
        const waitMs = quick ? 0 : Math.max(Math.floor(random() * ceiling), retryAfterMs ?? 0);
        opts.metrics?.restRetries.inc({ site, endpoint });
        const level = n === 1 ? 'debug' : 'warn';
        opts.logger?.[level]({ ...log, delayMs: waitMs }, 'retrying Frappe request');
        if (!quick) {
          // Waiting out a backoff is not work: the job holds no worker slot meanwhile.
          const resume = onWait();
          try {
            await sleep(waitMs, ro.signal);
          } finally {
            resume();
          }
        }
      }
    }
  }

  async function getList<T>(doctype: string, args: ListArgs<T>): Promise<T[]> {
    const query = listQuery(args);
    const path = resourcePath(doctype);
    if (path.length + encodeQuery(query).length <= LIST_URL_BUDGET) {
      const res = await request<ResourceResponse<T[]>>('GET', path, { query, signal: args.signal });
      return res.data;
    }
    // Too long for a request line (a batch's `in` filter): the same query in a POST body. The
    // whitelisted frappe.client.get_list takes any method and the /api/resource arguments
    // (frappe/client.py get_list → frappe/desk/reportview.py validate_args); it only reads.
    const res = await request<{ message: T[] }>('POST', methodPath('frappe.client.get_list'), {
      json: { doctype, ...withoutUndefined(query) },
      signal: args.signal,
      idempotent: true,
    });
    return res.message;
  }

  async function* listAll<T>(doctype: string, args: ListAllArgs<T>): AsyncGenerator<T, void, undefined> {
    const { pageSize = 100, ...rest } = args;
    if (!Number.isInteger(pageSize) || pageSize <= 0) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    let start = rest.limitStart ?? 0;
    for (;;) {
      const page = await getList<T>(doctype, { ...rest, limitStart: start, limitPageLength: pageSize });
      yield* page;
      if (page.length < pageSize) return;
      start += page.length;
    }
  }

  async function getCount<T>(doctype: string, filters?: Filter<T>[], co: CallOptions = {}): Promise<number> {
    const n = await call<number>('frappe.client.get_count', { doctype, filters }, 'GET', co);
    return Number(n ?? 0);
  }

  async function getDoc<T>(doctype: string, name: string, co: CallOptions = {}): Promise<FrappeDoc<T>> {
    const res = await request<ResourceResponse<FrappeDoc<T>>>('GET', resourcePath(doctype, name), { signal: co.signal });
    return res.data;
  }

  async function insert<T>(doctype: string, doc: Patch<T>, co: CallOptions = {}): Promise<FrappeDoc<T>> {
    const res = await request<ResourceResponse<FrappeDoc<T>>>('POST', resourcePath(doctype), { json: doc, signal: co.signal, idempotent: co.idempotent });
    return res.data;
  }

  async function update<T>(doctype: string, name: string, patch: Patch<T>, co: CallOptions = {}): Promise<FrappeDoc<T>> {
    const res = await request<ResourceResponse<FrappeDoc<T>>>('PUT', resourcePath(doctype, name), { json: patch, signal: co.signal });
    return res.data;
  }

  async function remove(doctype: string, name: string, co: CallOptions = {}): Promise<void> {
    await request('DELETE', resourcePath(doctype, name), { signal: co.signal });
  }

  async function call<T>(method: string, args: Record<string, unknown> = {}, httpMethod: HttpMethod = 'POST', co: CallOptions = {}): Promise<T | undefined> {
    const path = methodPath(method);
    // GET carries args in the query (a GET body is ignored); the rest send a JSON body.
    const ro: RequestOptions = httpMethod === 'GET' ? { query: args, signal: co.signal } : { json: args, signal: co.signal, idempotent: co.idempotent };
    const res = await request<MethodResponse<T>>(httpMethod, path, ro);
    return res.message;
  }

  async function saveWithLatest<T>(
    doctype: string,
    name: string,
    change: (latest: FrappeDoc<T>) => Patch<T> | null | Promise<Patch<T> | null>,
    so: SaveWithLatestOptions = {},
  ): Promise<FrappeDoc<T> | null> {
    const attempts = so.attempts ?? 3;
    let last: unknown;
    for (let n = 1; n <= attempts; n++) {
      const latest = n === 1 && so.read ? (so.read as FrappeDoc<T>) : await getDoc<T>(doctype, name, { signal: so.signal });
      const patch = await change(latest);
      if (patch === null || Object.keys(patch).length === 0) return null;
      try {
        // `modified` as read makes check_if_latest compare it with the stored value (frappe/model/document.py check_if_latest).
        return await update<T>(doctype, name, { ...patch, modified: latest.modified }, { signal: so.signal });
      } catch (err) {
        if (!isTimestampMismatch(err)) throw err;
        last = err;
        opts.logger?.debug({ site, doctype, attempt: n }, 'document changed between read and write; re-reading');
      }
    }
    // Contention, not a bad request: a later job attempt will likely find the document quiet.
    throw new RetriableError(
      'timestamp_conflict',
      redactSecrets(`${doctype} ${name} kept changing between read and write; gave up after ${attempts} attempts`),
      { cause: last },
    );
  }

  async function serverNow(co: CallOptions = {}): Promise<Date> {
    const before = serverDate;
    serverDate = null;
    await call<string>('ping', {}, 'GET', co);
    if (serverDate) return serverDate;
    serverDate = before;
    opts.logger?.warn({ site }, 'the site answered without an HTTP Date header; using the local clock as the site clock');
    return new Date(now());
  }

  return { site, request, getList, listAll, getCount, getDoc, insert, update, remove, call, saveWithLatest, lastServerDate: () => serverDate, serverNow };
}
