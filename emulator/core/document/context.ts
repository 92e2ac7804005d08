/**
 * What every step of a document operation is handed: the request context (site, user, the
 * non-raising messages `frappe.msgprint` queued) and the flags a caller sets on the document
 * (`doc.flags.ignore_permissions` and friends in frappe/model/document.py [v15]), with msgprint,
 * which only adds to that context.
 */
import type { ServerMessage } from '../errors.js';
import type { Site } from '../site.js';

export interface Ctx {
  site: Site;
  user: string;
  /** Messages `frappe.msgprint` queued during the request (non-raising ones). */
  messages: ServerMessage[];
}

export interface DocFlags {
  ignorePermissions?: boolean;
  ignoreMandatory?: boolean;
  ignoreLinks?: boolean;
  ignoreValidate?: boolean;
  ignoreVersion?: boolean;
  notifyUpdate?: boolean;
  /** Set by `update_parent_document_on_communication` and friends. */
  [key: string]: unknown;
}

/** `frappe.msgprint` without raising: shows in `_server_messages` of a successful response. */
export function msgprint(ctx: Ctx, message: string, title = 'Message', indicator?: string): void {
  ctx.messages.push(indicator ? { message, title, indicator } : { message, title });
}
