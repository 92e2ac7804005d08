/**
 * One error hierarchy for the sidecar. Errors cross the job store as JSON, so code that branches
 * on them matches `name` as well as `instanceof` (see `isRetriable`, `isPermanent`).
 */
export type ErrorCode =
  | 'config_invalid'
  | 'frappe_unavailable'
  | 'frappe_throttled'
  | 'frappe_error'
  | 'shop_unavailable'
  | 'shop_throttled'
  | 'permanent'
  | 'timestamp_conflict';

export class CompanionError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A failure a later attempt may not see: the job is retried with backoff. */
export class RetriableError extends CompanionError {
  /** When the other side said how long to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** The site could not be reached, timed out, or answered 5xx. */
export class FrappeUnavailableError extends RetriableError {
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super('frappe_unavailable', message, options);
  }
}

/** The site answered 429. */
export class FrappeThrottledError extends RetriableError {
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super('frappe_throttled', message, options);
  }
}

/** Retrying cannot help (bad input, missing permission, missing document): dead-letter at once. */
export class PermanentError extends CompanionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('permanent', message, options);
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof RetriableError) return true;
  const name = (err as { name?: string } | null)?.name;
  return name === 'RetriableError' || name === 'FrappeUnavailableError' || name === 'FrappeThrottledError';
}

export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentError) return true;
  const name = (err as { name?: string } | null)?.name;
  return name === 'PermanentError' || name === 'FrappeApiError';
}

/** Text safe to store and log: the message (and cause chain), never request headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : '';
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}
