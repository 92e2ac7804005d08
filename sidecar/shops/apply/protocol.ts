/**
 * The messages between the sidecar's main thread and the shop apply thread (host.ts, thread.ts).
 * Everything crosses by structured clone: plain data only — errors as their name, message and
 * what the job store decides on (permanent, retry-after), never an Error object.
 */
import { PermanentError, RetriableError, isPermanent, isRetriable } from '../../../lib/errors.js';
import { redactSecrets } from '../../../lib/log.js';
import type { JobRecord } from '../../jobs/types.js';

/** The job handlers whose Shopify work runs in the thread. */
export type ApplyJobName = 'shops.delivery' | 'shops.order';

/** A site as the thread's REST client needs it: the secret as a value (refreshed with every job). */
export interface ThreadSite {
  name: string;
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface ThreadData {
  sites: ThreadSite[];
  /** The shops, with every function (the secret getters) replaced by FN_MARK: the apply path reads none. */
  shops: unknown[];
  /** The REST client's timings (numbers and booleans only). */
  rest: Record<string, unknown>;
  logLevel: string;
  /** Values the main thread scrubs from text (lib/log.ts registerSecret): the thread scrubs them too. */
  secrets: string[];
}

export const FN_MARK = '__coc_function__';

export interface WireError {
  name: string;
  message: string;
  causeMessage?: string;
  code?: string;
  permanent: boolean;
  retriable: boolean;
  retryAfterMs?: number;
  /** Thrown as something other than an Error: `message` is its String() text. */
  plain?: true;
}

export type MetaOp =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: string }
  | { op: 'remember'; key: string; value: string; ttlMs: number }
  | { op: 'recall'; keys: string[] }
  | { op: 'forget'; keys: string[] }
  | { op: 'enqueue'; spec: Record<string, unknown> }
  /** Hold a key (HandlerContext.lock): answered once held. */
  | { op: 'lock'; key: string }
  /** Let go of a held key: answered with the lock's own outcome (a lost lease fails the job, as in-process). */
  | { op: 'unlock'; lock: number };

/** Fire-and-forget notes, sent in batches and always ahead of the next call or answer. */
export type ThreadEvent =
  | { k: 'log'; line: string }
  | { k: 'metric'; name: string; op: 'inc' | 'dec' | 'set' | 'observe'; labels?: Record<string, string>; value?: number }
  /** A call of run `run` started waiting (sidecar/jobs/stall.ts); `moving` ends wait `n`. */
  | { k: 'stall'; run: number; n: number }
  | { k: 'moving'; run: number; n: number };

export type ToThread =
  | { t: 'run'; run: number; handler: ApplyJobName; job: JobRecord; attempt: number; secrets: Record<string, string> }
  | { t: 'abort'; run: number }
  | { t: 'reply'; call: number; ok: true; value: unknown }
  | { t: 'reply'; call: number; ok: false; error: WireError };

export type FromThread =
  | { t: 'events'; events: ThreadEvent[] }
  | { t: 'call'; call: number; run: number; req: MetaOp }
  | { t: 'done'; run: number; error?: WireError };

export function toWire(err: unknown): WireError {
  // Scrubbed where it was thrown too: the thread knows the secrets it was handed.
  if (!(err instanceof Error)) {
    // Not an Error (a thrown string or object): the same text describeError would store, its name kept for isPermanent.
    const name = (err as { name?: unknown } | null)?.name;
    return { name: typeof name === 'string' ? name : '', message: redactSecrets(String(err)), plain: true, permanent: isPermanent(err), retriable: isRetriable(err) };
  }
  const code = (err as { code?: unknown }).code;
  const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return {
    name: err.name,
    message: redactSecrets(err.message),
    ...(err.cause instanceof Error ? { causeMessage: redactSecrets(err.cause.message) } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    permanent: isPermanent(err),
    retriable: isRetriable(err),
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  };
}

/**
 * The error again, as the job store and the dead letter must see it: the same "Name: message
 * (cause: …)" text (describeError), permanent or retriable as it was, its Retry-After kept.
 */
export function fromWire(w: WireError): Error {
  if (w.plain) {
    // describeError gives String(value) for a non-Error: this one's text, and its name for isPermanent.
    const text = w.message;
    return Object.assign(Object.create(null) as Error, { name: w.name, toString: () => text });
  }
  const options = w.causeMessage !== undefined ? { cause: new Error(w.causeMessage) } : {};
  let err: Error;
  if (w.permanent) err = new PermanentError(w.message, options);
  else if (w.retriable) err = new RetriableError('frappe_unavailable', w.message, { ...options, retryAfterMs: w.retryAfterMs });
  else err = new Error(w.message, options);
  err.name = w.name;
  if (w.code !== undefined) Object.defineProperty(err, 'code', { value: w.code, enumerable: true });
  if (!w.retriable && w.retryAfterMs !== undefined) Object.defineProperty(err, 'retryAfterMs', { value: w.retryAfterMs, enumerable: true });
  return err;
}
