/**
 * Frappe's JSON response envelope (frappe/frappe:frappe/utils/response.py `build_response`,
 * `report_error`; frappe/app.py `handle_exception` [v15]).
 */
import type { Response } from 'express';
import type { Doc } from '../core/database.js';
import { FrappeError, type ServerMessage } from '../core/errors.js';

/** `_server_messages`: a JSON string of a list of JSON strings. */
export function encodeServerMessages(messages: ServerMessage[]): string {
  return JSON.stringify(messages.map((m) => JSON.stringify(m)));
}

/** `as_dict(no_nulls=True)`, recursively through child rows: what `/api/resource` returns. */
export function withoutNulls(doc: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(doc)) {
    if (v === null || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((row) => (row && typeof row === 'object' ? withoutNulls(row as Doc) : row)) : v;
  }
  return out;
}

export function sendJson(res: Response, status: number, body: Record<string, unknown>, messages: ServerMessage[] = []): void {
  if (messages.length) body._server_messages = encodeServerMessages(messages);
  // werkzeug's Response(mimetype="application/json") names no charset (every recording's
  // content-type is exactly `application/json`). Express's `type`/`set` would append one, so the
  // header is set directly and the body sent as a Buffer (which Express leaves alone).
  res.status(status);
  res.setHeader('Content-Type', 'application/json');
  res.send(Buffer.from(JSON.stringify(body), 'utf8'));
}

/**
 * `report_error`: `exc_type` always; `exception` and `exc` (traceback) when System Settings
 * `allow_error_traceback` is on (default 1) and the status is not 404 and the error is not one
 * Frappe raises with tracebacks disabled; `_server_messages` when something was msgprinted;
 * `_error_message` from `frappe.flags.error_message`.
 */
export function sendError(res: Response, err: unknown, opts: { traceback: boolean; messages?: ServerMessage[]; extra?: Record<string, unknown> }): void {
  const fe =
    err instanceof FrappeError
      ? err
      : new FrappeError('Exception', {
          httpStatus: 500,
          excText: err instanceof Error ? err.message : String(err),
        });
  const body: Record<string, unknown> = { ...(opts.extra ?? {}) };
  body.exc_type = fe.excType;
  if (opts.traceback && !fe.suppressTraceback) {
    const line = fe.tracebackLine();
    body.exception = line;
    body.exc = JSON.stringify([`Traceback (most recent call last):\n  File "apps/frappe/frappe/app.py", line 114, in application\n    response = frappe.api.handle(request)\n${line}\n`]);
  }
  if (fe.errorMessage) body._error_message = fe.errorMessage;
  const messages = [...(opts.messages ?? []), ...fe.serverMessages];
  sendJson(res, fe.httpStatus, body, messages);
}
