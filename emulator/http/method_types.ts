/**
 * The shape of one whitelisted method, shared by the method tables (methods.ts for frappe.client and
 * the other REST methods, desk_methods.ts for the ones Desk calls) so neither imports the other's.
 */
import type { Ctx } from '../core/document.js';
import type { Auth, FormDict } from './request.js';

export interface MethodCall {
  ctx: Ctx;
  form: FormDict;
  auth: Auth;
  httpMethod: string;
}

export interface MethodDef {
  allowGuest?: boolean;
  /** HTTP methods the whitelist allows; default GET, POST, PUT, DELETE. */
  methods?: string[];
  run: (call: MethodCall) => unknown;
}
