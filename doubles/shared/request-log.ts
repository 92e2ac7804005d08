/**
 * Counts what reached a double, per path, so tests can assert "the sidecar made exactly two
 * GraphQL calls" or "it never polled receipts" without instrumenting the client.
 */
import type { NextFunction, Request, Response } from 'express';

export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Status the double answered with (set when the response finishes). */
  status?: number;
  at: number;
}

export interface RequestLog {
  readonly entries: readonly LoggedRequest[];
  /** Requests whose path equals `path` (or matches the RegExp); all requests when omitted. */
  count(path?: string | RegExp): number;
  /** `{ '/v3/...': 3, ... }` */
  byPath(): Record<string, number>;
  reset(): void;
}

export function createRequestLog(now: () => number): RequestLog & { middleware: (req: Request, res: Response, next: NextFunction) => void } {
  const entries: LoggedRequest[] = [];
  const matches = (e: LoggedRequest, path?: string | RegExp) =>
    path === undefined ? true : typeof path === 'string' ? e.path === path : path.test(e.path);
  return {
    entries,
    count: (path) => entries.filter((e) => matches(e, path)).length,
    byPath() {
      const out: Record<string, number> = {};
      for (const e of entries) out[e.path] = (out[e.path] ?? 0) + 1;
      return out;
    },
    reset() {
      entries.length = 0;
    },
    middleware(req, res, next) {
      const entry: LoggedRequest = { method: req.method, path: req.path, at: now() };
      entries.push(entry);
      res.on('finish', () => {
        entry.status = res.statusCode;
      });
      next();
    },
  };
}
