/**
 * The one place a Frappe answer (or the lack of one) becomes a typed error: status to class in a
 * single switch, so a misclassified status has one place to be read and fixed.
 *
 * - no answer (connection refused/reset, timeout) and 5xx, HTML or JSON → FrappeUnavailableError
 * - 429 → FrappeThrottledError
 * - any other 4xx → FrappeApiError (permanent: isPermanent matches its name)
 *
 * An answer that is not Frappe's (an HTML 404 page, a 2xx that is not JSON, JSON without Frappe's
 * error envelope) or a refused connection says so first: "no Frappe site answers at <url>", then
 * what came back, so a wrong URL or site name is not mistaken for a missing record.
 *
 * Errors carry method, path, status and Frappe's decoded messages; never headers, the query
 * string or the body we sent, so nothing secret can ride along when they are stored or logged.
 */
import { CompanionError, FrappeThrottledError, FrappeUnavailableError, RetriableError } from '../errors.js';
import { redactSecrets } from '../log.js';

export interface FrappeApiErrorInit {
  method: string;
  /** Decoded path without the query string, e.g. `/api/resource/CRM Lead/CRM-LEAD-2026-00001`. */
  path: string;
  status: number;
  excType?: string;
  messages?: string[];
  errorMessage?: string;
  /** Replaces the detail after `→ <status> <excType>: ` (used for 401). */
  detail?: string;
  /** Replaces the whole message (an answer that is not Frappe's says so first). */
  headlineOverride?: string;
  cause?: unknown;
}

/** Frappe refused the request (4xx other than 429): retrying the same request cannot help. */
export class FrappeApiError extends CompanionError {
  readonly retriable = false;
  readonly status: number;
  /** `exc_type`, e.g. `TimestampMismatchError`; absent when the answer was not Frappe's JSON. */
  readonly excType?: string;
  /** `_server_messages`, decoded from its two JSON layers, HTML tags stripped. */
  readonly messages: string[];
  /** `_error_message` (permission denials), HTML tags stripped. */
  readonly errorMessage?: string;
  readonly method: string;
  readonly path: string;

  constructor(init: FrappeApiErrorInit) {
    const messages = init.messages ?? [];
    const detail = init.detail ?? (messages.length ? messages.join(' | ') : init.errorMessage);
    super('frappe_error', init.headlineOverride ?? headline(init.method, init.path, init.status, init.excType, detail), { cause: init.cause });
    this.status = init.status;
    this.excType = init.excType;
    this.messages = messages;
    this.errorMessage = init.errorMessage;
    this.method = init.method;
    this.path = init.path;
  }
}

/** `PUT /api/resource/CRM Lead/X → 417 TimestampMismatchError: Error: …`, scrubbed of known secrets. */
function headline(method: string, path: string, status: number | string, excType: string | undefined, detail: string | undefined): string {
  const what = [String(status), excType].filter(Boolean).join(' ');
  return redactSecrets(`${method} ${path} → ${what}${detail ? `: ${detail}` : ''}`);
}

export function isTimestampMismatch(err: unknown): boolean {
  const e = err as { name?: string; excType?: string } | null;
  return e?.name === 'FrappeApiError' && e.excType === 'TimestampMismatchError';
}

// ---- decoding Frappe's error envelope (frappe/utils/response.py report_error, frappe/app.py handle_exception) ---------------------------------------

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Messages are desk HTML (`<strong>`, `<details>`): keep the text a log line or a job record can show. */
export function stripHtml(text: string): string {
  return text
    // Block-level tags separate sentences (`<summary>…</summary>Function …`); inline ones do not.
    .replace(/<\/?(?:br|p|div|details|summary|li|ul|ol|tr|td|h\d)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/** `_server_messages` is a JSON string of a list of JSON strings, each `{message, title, …}`. */
export function decodeServerMessages(raw: unknown): string[] {
  if (typeof raw !== 'string' || raw === '') return [];
  let outer: unknown;
  try {
    outer = JSON.parse(raw);
  } catch {
    return [stripHtml(raw)];
  }
  if (!Array.isArray(outer)) return [];
  const out: string[] = [];
  for (const item of outer) {
    let m: unknown = item;
    if (typeof item === 'string') {
      try {
        m = JSON.parse(item);
      } catch {
        m = item; // an old-style plain string message
      }
    }
    const text = typeof m === 'string' ? m : m && typeof m === 'object' ? (m as { message?: unknown }).message : undefined;
    if (text !== undefined && text !== null && String(text).trim() !== '') out.push(stripHtml(String(text)));
  }
  return out;
}

/** `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export interface FailedResponse {
  site: string;
  /** The site's base URL, named when the answer is not Frappe's. */
  url?: string;
  method: string;
  path: string;
  status: number;
  headers: Headers;
  /** The body as text; parsed here so HTML from a proxy is handled in the same place as JSON. */
  bodyText: string;
  nowMs: number;
}

interface Envelope {
  exc_type?: unknown;
  exception?: unknown;
  _server_messages?: unknown;
  _error_message?: unknown;
}

/**
 * Errors made when no Frappe site answered (see the header). Kept in a set rather than a class so
 * the 4xx stays a FrappeApiError and a refused connection a FrappeUnavailableError (retriable).
 */
const noFrappe = new WeakSet<object>();

/** True when the error says no Frappe site answered: a foreign answer or a refused connection. */
export function isNoFrappeAnswer(err: unknown): boolean {
  return typeof err === 'object' && err !== null && noFrappe.has(err);
}

function markNoFrappe<T extends object>(err: T): T {
  noFrappe.add(err);
  return err;
}

const FIX_URL = 'check the site URL (FRAPPE_URL, or "url" in COC_CONFIG) and the site name (FRAPPE_SITE, or "name"): a bench answers a site name it does not host with an HTML 404';

/**
 * Frappe answers every failed v1 API request (`/api/method`, `/api/resource`) with its JSON
 * envelope, `exc_type` always among it: frappe/frappe:frappe/app.py [v15] `handle_exception` builds
 * the answer with frappe/frappe:frappe/utils/response.py [v15] `report_error`, which sets it; every
 * 4xx/5xx case in the recordings has it (e.g. `delete-missing-404`, `auth-bad-secret-401`).
 */
function isFrappeEnvelope(body: Envelope | null): boolean {
  return body !== null && ['exc_type', 'exception', '_server_messages', '_error_message'].some((k) => k in body);
}

/** What a foreign answer was, for the sentence: "an HTML page ("404 Not Found")". */
function describeForeign(r: FailedResponse, body: Envelope | null): string {
  const type = (r.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(r.bodyText)?.[1];
  const text = stripHtml(title ?? r.bodyText).slice(0, 120);
  const quoted = text ? ` ("${text}")` : '';
  if (!r.bodyText.trim()) return 'an empty body';
  if (body) return `JSON that is not Frappe's${quoted}`;
  if (/html/i.test(type) || /^\s*</.test(r.bodyText)) return `an HTML page${quoted}`;
  return `${type || 'text'} that is not JSON${quoted}`;
}

/** Map a non-2xx answer to its error class. */
export function errorFromResponse(r: FailedResponse): FrappeApiError | FrappeUnavailableError | FrappeThrottledError {
  let body: Envelope | null = null;
  try {
    const parsed: unknown = JSON.parse(r.bodyText);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Envelope;
  } catch {
    /* a proxy's HTML page, or nothing */
  }
  const excType = typeof body?.exc_type === 'string' ? body.exc_type : undefined;
  const messages = decodeServerMessages(body?._server_messages);
  const errorMessage = typeof body?._error_message === 'string' ? stripHtml(body._error_message) : undefined;
  // What to say when Frappe queued no message: the traceback's last line, or the page's text.
  // A bare `frappe.exceptions.PermissionError` line says nothing exc_type does not.
  const exception = typeof body?.exception === 'string' && body.exception.includes(': ') ? body.exception : undefined;
  const fallback =
    exception !== undefined
      ? exception
      : body
        ? undefined
        : r.bodyText.trim()
          ? `${stripHtml(r.bodyText).slice(0, 200)} (not a Frappe JSON answer)`
          : undefined;
  const detail = messages.length ? messages.join(' | ') : (errorMessage ?? fallback);
  const retryAfterMs = parseRetryAfter(r.headers.get('retry-after'), r.nowMs);

  // Not Frappe's answer, and not a passing fault (429, or a proxy's 5xx while a worker restarts,
  // stay as they are: retried): what answered is not the site the configuration names.
  if (!isFrappeEnvelope(body) && r.status !== 429 && r.status < 500) {
    const at = r.url ? `at ${r.url} ` : '';
    const what = describeForeign(r, body);
    return markNoFrappe(
      new FrappeApiError({
        method: r.method,
        path: r.path,
        status: r.status,
        detail: `${what} (not a Frappe JSON answer)`,
        headlineOverride: redactSecrets(`no Frappe site answers ${at}for site ${r.site}: ${r.method} ${r.path} → ${r.status} with ${what} (not a Frappe JSON answer); ${FIX_URL}`),
      }),
    );
  }

  switch (true) {
    case r.status === 429:
      return new FrappeThrottledError(headline(r.method, r.path, r.status, excType, detail), { retryAfterMs });
    case r.status >= 500:
      return new FrappeUnavailableError(headline(r.method, r.path, r.status, excType, detail), { retryAfterMs });
    case r.status === 401:
      // The key is not named either: it identifies the integration user, and the message gets stored.
      return new FrappeApiError({
        method: r.method,
        path: r.path,
        status: r.status,
        excType,
        messages,
        errorMessage,
        detail: `the API key/secret was refused by site ${r.site} (check the key pair configured for this site)`,
      });
    default:
      return new FrappeApiError({ method: r.method, path: r.path, status: r.status, excType, messages, errorMessage, detail: messages.length || errorMessage ? undefined : fallback });
  }
}

/** Connection errors that mean nothing listens at the URL (or its host does not resolve). */
const NOTHING_THERE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** No answer at all: the connection failed or the per-attempt timeout fired. */
export function errorFromNoResponse(opts: { method: string; path: string; cause: unknown; timeoutMs?: number; url?: string }): FrappeUnavailableError {
  if (opts.timeoutMs !== undefined) {
    return new FrappeUnavailableError(headline(opts.method, opts.path, 'no answer', undefined, `timed out after ${opts.timeoutMs} ms`), { cause: opts.cause });
  }
  const c = opts.cause as { message?: string; cause?: { code?: string; message?: string } } | null;
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, "other side closed") in its cause.
  const why = [c?.message, c?.cause?.code ?? c?.cause?.message].filter(Boolean).join(': ');
  const code = c?.cause?.code ?? (c as { code?: string } | null)?.code;
  if (opts.url && code && NOTHING_THERE.has(code)) {
    const sentence = code === 'ECONNREFUSED' ? 'nothing accepts connections there' : 'its host name does not resolve';
    return markNoFrappe(
      new FrappeUnavailableError(redactSecrets(`no Frappe site answers at ${opts.url}: ${sentence} (${opts.method} ${opts.path} → no answer: ${why}); is the site up, and is the URL right?`), { cause: opts.cause }),
    );
  }
  return new FrappeUnavailableError(headline(opts.method, opts.path, 'no answer', undefined, why || 'network error'), { cause: opts.cause });
}

/** The same retriable error with a note that retries are over (same class, so isRetriable still holds). */
export function withFinalNote(err: RetriableError, note: string): RetriableError {
  const message = `${err.message} (${note})`;
  const options = { cause: err.cause, retryAfterMs: err.retryAfterMs };
  if (err instanceof FrappeThrottledError) return new FrappeThrottledError(message, options);
  if (err instanceof FrappeUnavailableError) {
    const again = new FrappeUnavailableError(message, options);
    return isNoFrappeAnswer(err) ? markNoFrappe(again) : again;
  }
  return new RetriableError(err.code, message, options);
}
