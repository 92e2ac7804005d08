/**
 * Frappe's exception classes as they reach the wire.
 *
 * Status codes are the `http_status_code` of each class in frappe/frappe:frappe/exceptions.py [v15];
 * the message/title pairs are what `frappe.throw` / `frappe.msgprint` put into `_server_messages`.
 */
import { randomBytes } from 'node:crypto';

export interface ServerMessage {
  message: string;
  title?: string;
  indicator?: string;
  raise_exception?: 1;
  __frappe_exc_id?: string;
}

/** exc_type → HTTP status, from frappe/exceptions.py [v15]. */
const STATUS: Record<string, number> = {
  ValidationError: 417,
  MandatoryError: 417,
  LinkValidationError: 417,
  CancelledLinkError: 417,
  TimestampMismatchError: 417,
  UniqueValidationError: 417,
  DocstatusTransitionError: 417,
  UpdateAfterSubmitError: 417,
  InvalidNameError: 417,
  DataError: 417,
  CannotChangeConstantError: 417,
  InvalidStatusError: 417,
  DoesNotExistError: 404,
  PageDoesNotExistError: 404,
  PermissionError: 403,
  DuplicateEntryError: 409,
  NameError: 409,
  AuthenticationError: 401,
  SessionExpired: 401,
  InvalidKeyError: 401,
  CSRFTokenError: 400,
  InvalidAuthorizationHeader: 400,
  InvalidAuthorizationPrefix: 400,
  InvalidAuthorizationToken: 400,
  TooManyRequestsError: 429,
  RateLimitExceededError: 429,
  SessionStopped: 503,
  InReadOnlyMode: 503,
  LinkExpired: 410,
  UnsupportedMediaType: 415,
};

/**
 * Python module path printed in `exception` (the last traceback line), e.g.
 * `frappe.exceptions.MandatoryError: [CRM Lead, x]: first_name`.
 */
const MODULE: Record<string, string> = {
  JSONDecodeError: 'json.decoder',
  // MariaDB errors surface as pymysql's (recording contact-list-or-child-eq:
  // "pymysql.err.OperationalError: (1052, …)").
  OperationalError: 'pymysql.err',
  TypeError: '',
  KeyError: '',
  AttributeError: '',
};

export class FrappeError extends Error {
  readonly excType: string;
  readonly httpStatus: number;
  /** What `frappe.throw`/`msgprint` queued; becomes `_server_messages`. */
  readonly serverMessages: ServerMessage[];
  /** `frappe.flags.error_message`; becomes `_error_message` (permission denials). */
  readonly errorMessage?: string;
  /** Text after the class name in the traceback's last line. */
  readonly excText: string;
  /** DoesNotExistError and CSRF errors carry no traceback keys by default. */
  readonly suppressTraceback: boolean;
  /** The traceback's last line when it is not `module.Class: text` (e.g. an ImportError's). */
  readonly exceptionLine?: string;

  constructor(
    excType: string,
    opts: {
      message?: string;
      title?: string;
      indicator?: string;
      excText?: string;
      errorMessage?: string;
      httpStatus?: number;
      silent?: boolean;
      suppressTraceback?: boolean;
      extraMessages?: ServerMessage[];
      exceptionLine?: string;
    } = {},
  ) {
    super(opts.message ?? opts.errorMessage ?? excType);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
    this.excType = excType;
    this.httpStatus = opts.httpStatus ?? STATUS[excType] ?? 500;
    const messages: ServerMessage[] = [...(opts.extraMessages ?? [])];
    if (opts.message !== undefined && !opts.silent) {
      const m: ServerMessage = { message: opts.message, title: opts.title ?? 'Message', raise_exception: 1 };
      if (opts.indicator ?? 'red') m.indicator = opts.indicator ?? 'red';
      // msgprint(raise_exception=…) tags the message with the id of the exception it raises,
      // `frappe.generate_hash()` (56 hex digits) — every recorded frappe.throw message has one
      // (e.g. recording lead-insert-bad-status-link).
      m.__frappe_exc_id = randomBytes(28).toString('hex');
      messages.push(m);
    }
    this.serverMessages = messages;
    this.errorMessage = opts.errorMessage;
    this.excText = opts.excText ?? opts.message ?? '';
    this.suppressTraceback = opts.suppressTraceback ?? (this.httpStatus === 404 || this.httpStatus === 400);
    this.exceptionLine = opts.exceptionLine;
  }

  /** `frappe.exceptions.X: text` — the line Frappe puts in `exception`. */
  tracebackLine(): string {
    if (this.exceptionLine) return this.exceptionLine;
    const mod = MODULE[this.excType] ?? 'frappe.exceptions';
    const qualified = mod ? `${mod}.${this.excType}` : this.excType;
    return this.excText ? `${qualified}: ${this.excText}` : qualified;
  }
}

/** `frappe.throw(msg, exc)`: message goes to `_server_messages` with title "Message". */
export function frappeThrow(message: string, excType = 'ValidationError', title?: string): never {
  throw new FrappeError(excType, { message, title, excText: message });
}

export function doesNotExist(doctype: string, name: string): FrappeError {
  // frappe/model/document.py [v15] `raise frappe.DoesNotExistError(doctype=…)` → message
  // "{doctype} {name} not found" queued by frappe.throw in get_doc's load_from_db.
  return new FrappeError('DoesNotExistError', {
    message: `${doctype} ${name} not found`,
    title: 'Message',
    excText: `${doctype} ${name} not found`,
  });
}

/**
 * `Document.raise_no_permission_to` (frappe/frappe:frappe/model/document.py, 15.55.1): sets
 * `frappe.flags.error_message = "You need the '{ptype}' permission on <strong>{doctype}</strong> {name} to
 * perform this action."` (a new document has no name: two spaces, recording restricted-item-insert-403)
 * and raises a bare PermissionError.
 */
export function noPermission(doctype: string, ptype: string, name?: string | number | null, log?: ServerMessage): FrappeError {
  return new FrappeError('PermissionError', {
    errorMessage: `You need the '${ptype}' permission on <strong>${doctype}</strong> ${name ?? ''} to perform this action.`,
    ...(log ? { extraMessages: [log] } : {}),
  });
}

/**
 * frappe/permissions.py `has_permission` logs why it refused (`push_perm_check_log`) and its
 * `print_has_permission_check_logs` wrapper msgprints them joined by `<br>` — a plain message, no
 * `raise_exception`. The role line when no role of the user grants `ptype` on the DocType. A refused
 * document (15.55.1) first asks `frappe.has_permission(doc.doctype)` — read, no document — which
 * logs the role line itself when it fails; then "does not have access to this document", with
 * ": {doctype} - {name}" when that read check passed (recordings restricted-role-get-403: no read;
 * restricted-item-insert-403: read but no create, "Item - None" for a document not named yet).
 */
export function permissionCheckLog(user: string, doctype: string, opts: { roleGrants: boolean; document?: { name: unknown } }): ServerMessage {
  const lines: string[] = [];
  if (!opts.roleGrants) lines.push(`User <strong>${user}</strong> does not have doctype access via role permission for document <strong>${doctype}</strong>`);
  if (opts.document) {
    const which = opts.roleGrants ? `: ${doctype} - ${opts.document.name === null || opts.document.name === undefined ? 'None' : String(opts.document.name)}` : '';
    lines.push(`User <strong>${user}</strong> does not have access to this document${which}`);
  }
  return { message: lines.join('<br>'), title: 'Message' };
}

/**
 * A list read refused (frappe/model/db_query.py `check_read_permission` → `frappe.has_permission(…,
 * throw=True)`): the check log, `frappe.flags.error_message = "No permission for {doctype}"`, a bare
 * PermissionError (recordings restricted-custom-docperm-list-403, restricted-get-list-method-403).
 */
export function noListPermission(doctype: string, user = 'Guest'): FrappeError {
  return new FrappeError('PermissionError', {
    errorMessage: `No permission for ${doctype}`,
    extraMessages: [permissionCheckLog(user, doctype, { roleGrants: false })],
  });
}
