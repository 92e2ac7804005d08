/**
 * `frappe.call` / `frappe.xcall` / `frappe.request.*` with the wire behaviour of
 * frappe/public/js/frappe/request.js [v15]:
 *
 * - `frappe.call({method, args, callback, error, always, freeze, btn, type = "POST", headers,
 *   silent, url})` or `frappe.call(method, args, callback)`; URL `/api/method/<method>`; jQuery
 *   `$.ajax` with form-encoded `args` where plain objects/arrays are JSON-stringified; headers
 *   `X-Frappe-CSRF-Token`, `Accept: application/json`, `X-Frappe-CMD` and, when args carry a
 *   doctype, `X-Frappe-Doctype`; `cache: false`. Returns the jqXHR (a jQuery deferred).
 * - A response carrying `docs`/`docinfo` is synced into `locals` before the callback.
 * - Per status: 200 → `callback(r)`; 417 / 501 → `error(r)`; 500 → `error()` + "Server Error"
 *   dialog; 403 / 404 / 502 / 504 / 508 → a message (403: "Not permitted" with `_error_message`)
 *   and, as in Frappe, no `error` callback except 504. Anything unhandled → `error(xhr)`.
 * - `always(r)` after `frappe.request.cleanup`, which msgprints `_server_messages` (unless
 *   `silent`) and `console.error`s each traceback in `exc`.
 * - `frappe.xcall(method, params)` → Promise of `r.message`, rejected (with `r.message`) where
 *   `error` is called.
 */
import $ from 'jquery';
import { __, frappe } from './globals.js';
import { freeze, hide_msgprint, msgprint, unfreeze, Dialog } from './messages.js';

interface CallOpts {
  method?: string;
  args?: Record<string, unknown>;
  callback?: (r: any, text?: string) => unknown;
  error?: (r: any, text?: string) => unknown;
  always?: (r: any) => unknown;
  freeze?: boolean;
  freeze_message?: string;
  btn?: unknown;
  type?: string;
  headers?: Record<string, string>;
  error_handlers?: Record<string, (r: any) => void>;
  silent?: boolean;
  quiet?: boolean;
  async?: boolean;
  url?: string;
  doc?: { doctype: string; name: string };
  [key: string]: unknown;
}

interface RequestOpts {
  type: string;
  args: Record<string, any>;
  success?: (r: any, text?: string) => unknown;
  error?: (r?: any, text?: string) => unknown;
  success_callback?: (r: any, text?: string) => unknown;
  error_callback?: (r?: any, text?: string) => unknown;
  always?: (r: any) => unknown;
  btn?: unknown;
  freeze?: boolean;
  freeze_message?: string;
  headers: Record<string, string>;
  error_handlers: Record<string, (r: any) => void>;
  async?: boolean;
  silent?: boolean;
  url: string;
}

const request: any = {
  url: '/',
  ajax_count: 0,
  waiting_for_ajax: [] as (() => void)[],
  error_handlers: {} as Record<string, ((r: any) => void)[]>,
};

/** `frappe.call`. */
export function call(opts: CallOpts | string, ...rest: unknown[]): JQuery.jqXHR | Promise<void> {
  let o: CallOpts;
  if (typeof opts === 'string') {
    o = { method: opts, args: rest[0] as Record<string, unknown>, callback: rest[1] as CallOpts['callback'], headers: rest[2] as Record<string, string> };
  } else o = opts;
  const args: Record<string, any> = { ...(o.args ?? {}) };
  if (args.freeze) {
    o.freeze = o.freeze || Boolean(args.freeze);
    o.freeze_message = o.freeze_message || (args.freeze_message as string);
  }
  if (o.doc) {
    Object.assign(args, { cmd: 'run_doc_method', docs: frappe.get_doc(o.doc.doctype, o.doc.name), method: o.method, args: o.args });
  } else if (o.method) args.cmd = o.method;

  const callback = (data: any, text?: string) => (o.callback ? o.callback(data, text) : undefined);
  let url = o.url;
  if (!url) {
    url = `/api/method/${args.cmd}`;
    delete args.cmd;
  }
  return request_call({
    type: o.type || 'POST',
    args,
    success: callback,
    error: o.error,
    always: o.always,
    btn: o.btn,
    freeze: o.freeze,
    freeze_message: o.freeze_message,
    headers: o.headers || {},
    error_handlers: o.error_handlers || {},
    async: o.async,
    silent: o.silent,
    url,
  });
}

/** `frappe.xcall(method, params)`. */
export function xcall(method: string, params?: Record<string, unknown>): Promise<any> {
  return new Promise((resolve, reject) => {
    call({ method, args: params, callback: (r) => resolve(r.message), error: (r) => reject(r?.message) });
  });
}

function prepare(opts: RequestOpts): void {
  $('body').attr('data-ajax-state', 'triggered');
  if (opts.btn) $(opts.btn as HTMLElement).prop('disabled', true);
  if (opts.freeze) freeze(opts.freeze_message);
  for (const key of Object.keys(opts.args)) {
    const v = opts.args[key];
    if (v && ($.isPlainObject(v) || Array.isArray(v))) opts.args[key] = JSON.stringify(v);
  }
  opts.success_callback = opts.success;
  opts.error_callback = opts.error;
  delete opts.success;
  delete opts.error;
}

function report_error(xhr: JQuery.jqXHR): void {
  let data: any = {};
  try {
    data = JSON.parse(xhr.responseText);
  } catch {
    data = {};
  }
  let exc = '';
  if (data.exc) {
    try {
      exc = (JSON.parse(data.exc) || []).join('\n');
    } catch {
      exc = data.exc;
    }
  }
  if (!exc) return;
  if (!frappe.error_dialog) {
    frappe.error_dialog = new Dialog({ title: __('Server Error') });
    frappe.error_dialog.wrapper.classList.add('msgprint-dialog');
  }
  const parts = exc.trim().split('\n');
  frappe.error_dialog.$body.html(parts[parts.length - 1]);
  frappe.error_dialog.show();
}

function cleanup(opts: RequestOpts, r: any): void {
  if (opts.btn) $(opts.btn as HTMLElement).prop('disabled', false);
  $('body').attr('data-ajax-state', 'complete');
  if (opts.freeze) unfreeze();
  if (r) {
    const handlers = [...(request.error_handlers[r.exc_type] || []), opts.error_handlers?.[r.exc_type]].filter(Boolean);
    if (r.exc_type) handlers.forEach((h: (r: any) => void) => h(r));
    if (r._server_messages && !opts.silent && handlers.length === 0) {
      r._server_messages = JSON.parse(r._server_messages);
      hide_msgprint();
      msgprint(r._server_messages);
    }
    if (r.exc) {
      r.exc = JSON.parse(r.exc);
      if (Array.isArray(r.exc)) r.exc.forEach((e: string) => e && console.error(e));
      else console.error(r.exc);
    }
  }
  frappe.last_response = r;
}

function request_call(opts: RequestOpts): JQuery.jqXHR {
  prepare(opts);
  const statusCode: Record<number, (a: any, b?: any) => void> = {
    200: (data, xhr) => opts.success_callback?.(data, xhr.responseText),
    401: () => {
      msgprint({ title: __('Session Expired'), indicator: 'red', message: __('Your session has expired, please login again to continue.') });
    },
    404: () => {
      msgprint({ title: __('Not found'), indicator: 'red', message: __('The resource you are looking for is not available') });
    },
    403: (xhr) => {
      if (xhr.responseJSON && xhr.responseJSON._error_message) {
        msgprint({ title: __('Not permitted'), indicator: 'red', message: xhr.responseJSON._error_message });
        xhr.responseJSON._server_messages = null;
      } else if (xhr.responseJSON && xhr.responseJSON._server_messages) {
        // shown by cleanup
      } else {
        msgprint({
          title: __('Not permitted'),
          indicator: 'red',
          message: __('You do not have enough permissions to access this resource. Please contact your manager to get access.'),
        });
      }
    },
    508: () => {
      msgprint({ title: __('Please try again'), indicator: 'red', message: __('Another transaction is blocking this one. Please try again in a few seconds.') });
    },
    417: (xhr) => {
      let r = xhr.responseJSON;
      if (!r) {
        try {
          r = JSON.parse(xhr.responseText);
        } catch {
          r = xhr.responseText;
        }
      }
      opts.error_callback?.(r);
    },
    501: (data, xhr) => {
      const d = typeof data === 'string' ? JSON.parse(data) : data;
      opts.error_callback?.(d, xhr?.responseText);
    },
    500: (xhr) => {
      try {
        opts.error_callback?.();
      } finally {
        report_error(xhr);
      }
    },
    504: () => {
      msgprint(__('Request Timed Out'));
      opts.error_callback?.();
    },
    502: () => {
      msgprint(__('Internal Server Error'));
    },
  };

  const headers: Record<string, string> = {
    'X-Frappe-CSRF-Token': frappe.csrf_token,
    Accept: 'application/json',
    'X-Frappe-CMD': '',
    ...opts.headers,
  };
  if (opts.args && opts.args.doctype) headers['X-Frappe-Doctype'] = encodeURIComponent(String(opts.args.doctype));
  frappe.last_request = opts.args;

  return $.ajax({
    url: opts.url || request.url,
    data: opts.args,
    type: opts.type,
    dataType: 'json',
    async: opts.async,
    headers,
    cache: false,
  })
    .done((data: any, _text: string, xhr: JQuery.jqXHR) => {
      try {
        if (typeof data === 'string') data = JSON.parse(data);
        if (data.docs || data.docinfo) frappe.model.sync(data);
        if (data.__messages) Object.assign(frappe._messages, data.__messages);
        if (data._link_titles) {
          frappe._link_titles ??= {};
          Object.assign(frappe._link_titles, data._link_titles);
        }
        statusCode[xhr.status]?.(data, xhr);
      } catch (e) {
        console.log('Unable to handle success response', data);
        console.error(e);
      }
    })
    .always((data: any) => {
      let r: any = data;
      try {
        if (typeof r === 'string') r = JSON.parse(r);
        if (r && r.responseText) r = JSON.parse(r.responseText);
      } catch {
        r = null;
      }
      cleanup(opts, r);
      opts.always?.(r);
    })
    .fail((xhr: JQuery.jqXHR) => {
      try {
        const handler = statusCode[xhr.status];
        if (handler) {
          handler(xhr);
          return;
        }
        opts.error_callback?.(xhr);
      } catch (e) {
        console.log('Unable to handle failed response');
        console.error(e);
      }
    });
}

/** `frappe.after_server_call()`: a promise when requests are in flight, else null (request.js). */
export function after_server_call(): Promise<void> | null {
  if (request.ajax_count) return new Promise((resolve) => request.waiting_for_ajax.push(() => resolve()));
  return null;
}

/** `frappe.after_ajax(fn)`. */
export function after_ajax(fn?: () => unknown): Promise<unknown> {
  return new Promise((resolve) => {
    if (request.ajax_count) request.waiting_for_ajax.push(() => resolve(fn ? fn() : undefined));
    else resolve(fn ? fn() : undefined);
  });
}

export function install_request(): void {
  frappe.request = Object.assign(request, {
    call: request_call,
    prepare,
    cleanup,
    report_error,
    on_error: (type: string, handler: (r: any) => void) => {
      (request.error_handlers[type] ??= []).push(handler);
    },
  });
  frappe.call = call;
  frappe.xcall = xcall;
  frappe.after_server_call = after_server_call;
  frappe.after_ajax = after_ajax;
  frappe.is_online = () => true;
  $(document).on('ajaxSend', () => {
    request.ajax_count++;
  });
  $(document).on('ajaxComplete', () => {
    request.ajax_count--;
    if (!request.ajax_count) {
      const waiting: (() => void)[] = request.waiting_for_ajax;
      request.waiting_for_ajax = [];
      waiting.forEach((fn) => fn());
    }
  });
}
