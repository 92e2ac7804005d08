/**
 * `frappe.ui.form.on` / `off` / `handlers` and the form's ScriptManager, as in
 * frappe/public/js/frappe/form/script_manager.js [v15]:
 * - `frappe.ui.form.on(doctype, {event: fn, …})` or `(doctype, event, fn)` appends handlers
 *   (wrapped so a throwing handler is logged with `console.error(handler)` and rethrown) and,
 *   when the open form is of that doctype, makes the last one `frm.events[event]`.
 * - `trigger(event, doctype = frm.doctype, name = frm.docname)` runs the doctype's handlers,
 *   then `"*"` handlers, then old-style `frm.cscript[event]`, serially
 *   (`frappe.run_serially`); a handler's returned promise is awaited, otherwise the chain waits
 *   for requests in flight (`frappe.after_server_call`). `setup` handlers run at once.
 *   Handlers get `(frm, cdt, cdn)`.
 * - `setup()` runs the meta's `__js`, then `__custom_js` (the site's enabled Form Client
 *   Scripts) through `new Function`, the latter in a try/catch that msgprints
 *   "Error in Client Script" with the stack; then triggers `setup`.
 */
import { __, frappe } from './globals.js';
import { after_server_call } from './request.js';
import { run_serially } from './utils.js';

type Handler = (...args: any[]) => unknown;

const handlers: Record<string, Record<string, Handler[]>> = {};

export function get_event_handler_list(doctype: string, fieldname: string): Handler[] {
  return ((handlers[doctype] ??= {})[fieldname] ??= []);
}

export function form_on(doctype: string, fieldname: string | Record<string, Handler>, handler?: Handler): void {
  const add = (name: string, fn: Handler) => {
    const list = get_event_handler_list(doctype, name);
    const wrapped: Handler = (...args) => {
      try {
        return fn(...args);
      } catch (error) {
        console.error(fn);
        throw error;
      }
    };
    list.push(wrapped);
    const frm = (window as any).cur_frm;
    if (frm && frm.doctype === doctype) frm.events[name] = wrapped;
  };
  if (!handler && fieldname && typeof fieldname === 'object') {
    for (const [key, fn] of Object.entries(fieldname)) if (typeof fn === 'function') add(key, fn);
  } else add(fieldname as string, handler as Handler);
}

export function form_off(doctype: string, fieldname: string): void {
  const list = get_event_handler_list(doctype, fieldname);
  if (list.length) handlers[doctype][fieldname] = [];
  const frm = (window as any).cur_frm;
  if (frm && frm.doctype === doctype && frm.events[fieldname]) delete frm.events[fieldname];
  if (frm && frm.cscript && frm.cscript[fieldname]) delete frm.cscript[fieldname];
}

export class ScriptManager {
  frm: any;

  constructor(opts: { frm: any }) {
    this.frm = opts.frm;
  }

  trigger(event_name: string, doctype?: string, name?: string): Promise<unknown> {
    const dt = doctype || this.frm.doctype;
    const dn = name || this.frm.docname;
    const tasks: (() => unknown)[] = [];
    const h = this.get_handlers(event_name, dt);
    this.frm.selected_doc = frappe.get_doc(dt, dn);
    const runner = (fn: Handler | string, old_style: boolean) => {
      const out: any = old_style ? this.frm.cscript[fn as string](this.frm.doc, dt, dn) : (fn as Handler)(this.frm, dt, dn);
      if (out && typeof out.then === 'function') return out;
      return after_server_call();
    };
    for (const fn of h.new_style) {
      if (event_name === 'setup') runner(fn, false);
      else tasks.push(() => runner(fn, false));
    }
    for (const fn of h.old_style) {
      if (event_name === 'setup') runner(fn, true);
      else tasks.push(() => runner(fn, true));
    }
    return run_serially(tasks);
  }

  has_handlers(event_name: string, doctype: string): boolean {
    const h = this.get_handlers(event_name, doctype);
    return Boolean(h.old_style.length || h.new_style.length);
  }

  get_handlers(event_name: string, doctype: string): { new_style: Handler[]; old_style: string[] } {
    const out = { new_style: [] as Handler[], old_style: [] as string[] };
    out.new_style.push(...(handlers[doctype]?.[event_name] ?? []));
    out.new_style.push(...(handlers['*']?.[event_name] ?? []));
    if (this.frm.cscript?.[event_name]) out.old_style.push(event_name);
    if (this.frm.cscript?.[`custom_${event_name}`]) out.old_style.push(`custom_${event_name}`);
    return out;
  }

  setup(): void {
    const meta = this.frm.meta;
    if (meta.__js) new Function(meta.__js)();
    if (meta.__custom_js) {
      try {
        new Function(meta.__custom_js)();
      } catch (e) {
        frappe.msgprint({
          title: __('Error in Client Script'),
          indicator: 'orange',
          message: `<pre class="small"><code>${(e as Error)?.stack ?? String(e)}</code></pre>`,
        });
      }
    }
    this.trigger('setup');
  }

  log_error(caller: string, e: unknown): void {
    frappe.show_alert({ message: __('Error in Client Script.'), indicator: 'error' });
    console.log(`----- error in client script -----\nmethod: ${caller}`);
    console.log(e);
  }
}

export function install_script_manager(): void {
  frappe.ui ??= {};
  frappe.ui.form ??= {};
  frappe.ui.form.handlers = handlers;
  frappe.ui.form.get_event_handler_list = get_event_handler_list;
  frappe.ui.form.on = form_on;
  frappe.ui.form.on_change = form_on;
  frappe.ui.form.off = form_off;
  frappe.ui.form.trigger = (doctype: string, fieldname: string) => (window as any).cur_frm?.script_manager.trigger(fieldname, doctype);
  frappe.ui.form.ScriptManager = ScriptManager;
}
