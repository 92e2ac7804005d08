/**
 * What a whitelisted method is to the emulator's `/api/method/<name>` route (frappe/handler.py
 * execute_cmd → frappe.call): how it is called and who may call it. Its own module, so the method
 * tables (methods.ts, desk_methods.ts) can both name it without importing each other.
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
