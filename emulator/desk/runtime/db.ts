/**
 * `frappe.db` as in frappe/public/js/frappe/db.js [v15]: thin wrappers over `frappe.client.*`.
 * `get_value` / `get_doc` / `get_list` / `count` / `get_single_value` are GETs; `get_value`
 * returns the `frappe.call` deferred (it resolves with `r`, so callers read `r.message`);
 * `get_doc` resolves with the document (after syncing it into `locals`); `insert` is
 * `frappe.xcall("frappe.client.insert", {doc})`.
 */
import { frappe } from './globals.js';
import { call, xcall } from './request.js';

export function install_db(): void {
  frappe.db = {
    get_list(doctype: string, args: Record<string, unknown> = {}) {
      const a: Record<string, unknown> = { ...args, doctype };
      a.fields ??= ['name'];
      if (!('limit' in a) && !('limit_page_length' in a)) a.limit = 20;
      if ('limit' in a) {
        a.limit_page_length = a.limit;
        delete a.limit;
      }
      return new Promise((resolve) => {
        call({ method: 'frappe.client.get_list', args: a, type: 'GET', callback: (r: any) => resolve(r.message) });
      });
    },
    exists(doctype: string, name: string) {
      return new Promise((resolve) => {
        (frappe.db.get_value(doctype, { name }, 'name') as any).then((r: any) => resolve(Boolean(r.message && r.message.name)));
      });
    },
    get_value(doctype: string, filters: unknown, fieldname: unknown, callback?: (m: unknown) => void, parent_doc?: string) {
      return call({
        method: 'frappe.client.get_value',
        type: 'GET',
        args: { doctype, fieldname: fieldname as any, filters: filters as any, parent: parent_doc },
        callback: (r: any) => callback?.(r.message),
      });
    },
    get_single_value(doctype: string, field: string) {
      return new Promise((resolve) => {
        (call({ method: 'frappe.client.get_single_value', args: { doctype, field }, type: 'GET' }) as any).then((r: any) => resolve(r ? r.message : null));
      });
    },
    set_value(doctype: string, docname: string, fieldname: unknown, value?: unknown, callback?: (m: unknown) => void) {
      return call({
        method: 'frappe.client.set_value',
        args: { doctype, name: docname, fieldname: fieldname as any, value },
        callback: (r: any) => callback?.(r.message),
      });
    },
    get_doc(doctype: string, name?: string | null, filters: unknown = null) {
      return new Promise((resolve, reject) => {
        (
          call({
            method: 'frappe.client.get',
            type: 'GET',
            args: { doctype, name, filters: filters as any },
            callback: (r: any) => {
              frappe.model.sync(r.message);
              resolve(r.message);
            },
          }) as any
        ).fail(reject);
      });
    },
    insert(doc: Record<string, unknown>) {
      return xcall('frappe.client.insert', { doc });
    },
    delete_doc(doctype: string, name: string) {
      return new Promise((resolve) => {
        call('frappe.client.delete', { doctype, name }, (r: any) => resolve(r.message));
      });
    },
    count(doctype: string, args: Record<string, unknown> = {}) {
      return new Promise((resolve) => {
        (call({ method: 'frappe.client.get_count', type: 'GET', args: { ...args, doctype } }) as any).then((r: any) => resolve(r.message));
      });
    },
  };
}
