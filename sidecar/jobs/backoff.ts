/**
 * What both job stores share about running a job — the retry delay, and giving up on a handler that
 * ignores its abort signal — so a job behaves the same whichever store runs it.
 */

/** Upper bound of the exponential part of a retry delay. */
export const MAX_BACKOFF_MS = 5 * 60_000;

/** Attempts before a job is dead-lettered when its spec does not say. */
export const DEFAULT_MAX_ATTEMPTS = 8;

/** First retry delay when a job's spec does not say. */
export const DEFAULT_BACKOFF_MS = 1000;

/** `retryAfterMs` of an error (a RetriableError, or one that crossed a boundary as JSON), else 0. */
export function retryAfterOf(err: unknown): number {
  const value = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Delay before retrying after failed attempt `attempt` (1-based):
 * max(retryAfterMs, random in [0, min(5 min, backoffMs · 2^(attempt-1)))).
 * Full jitter spreads a burst of failures (a site coming back up) instead of retrying in lockstep;
 * the server's Retry-After is a floor because retrying earlier only earns another 429.
 */
export function retryDelayMs(attempt: number, backoffMs: number, err: unknown, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity for huge attempt counts, and min() then picks the cap.
  const capMs = Math.min(MAX_BACKOFF_MS, Math.max(0, backoffMs) * 2 ** exponent);
  const jitteredMs = Math.floor(random() * capMs);
  return Math.max(retryAfterOf(err), jitteredMs);
}

/** Settles with `work`, or rejects as soon as `signal` aborts, so a handler ignoring it cannot hold a store. */
export function raceAbort(work: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
