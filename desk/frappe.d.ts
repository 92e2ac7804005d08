/**
 * The slice of Frappe v15's desk API our Client Scripts use, typed from the desk sources named in
 * frappe/public/js/frappe/form/form.js, form/grid.js, ui/messages.js, request.js and
 * socketio_client.js (v15). Ambient, because in a Client Script these are page globals, not imports.
 */
/// <reference types="jquery" />
export {};

declare global {
  type Indicator = import('./order_history/badges.js').Indicator;

  interface FrappeDocfield {
    fieldname: string;
    fieldtype: string;
    label?: string;
    options?: string;
    formatter?: (value: unknown, df: FrappeDocfield, options: unknown, doc: Record<string, unknown>) => string;
  }

  interface FrappeGrid {
    update_docfield_property(fieldname: string, property: string, value: unknown): void;
    refresh(): void;
  }

  interface FrappeForm {
    doctype: string;
    docname: string;
    doc: Record<string, unknown> & { name: string; modified?: string };
    fields_dict: Record<string, { grid?: FrappeGrid } | undefined>;
    is_new(): boolean;
    is_dirty(): boolean;
    reload_doc(): Promise<unknown>;
    /** Returns the jQuery element of the button (a dropdown item when `group` is given). */
    add_custom_button(label: string, action: () => unknown, group?: string): JQuery | undefined;
    remove_custom_button(label: string, group?: string): void;
    /** A line in the form's message area (dashboard.js set_headline_alert); no text empties and hides the area. */
    set_intro(txt?: string, color?: Indicator): void;
    /** layout.js: `message` is the `.form-message` area `set_intro` / `show_message` append to. */
    layout: { message: JQuery };
  }

  interface FrappeRealtime {
    on(event: string, cb: (payload: any) => void): void;
    off(event: string, cb: (payload: any) => void): void;
    doc_subscribe(doctype: string, name: string): void;
    doc_unsubscribe(doctype: string, name: string): void;
    doctype_subscribe(doctype: string): void;
    doctype_unsubscribe(doctype: string): void;
  }

  interface FrappeStatic {
    ui: { form: { on(doctype: string, handlers: Record<string, (frm: FrappeForm, cdt?: string, cdn?: string) => unknown>): void } };
    show_alert(message: string | { message: string; indicator?: Indicator }, seconds?: number): void;
    msgprint(message: string | { message: string; title?: string; indicator?: Indicator }): void;
    call(opts: {
      method: string;
      args?: Record<string, unknown>;
      callback?: (r: { message?: any }) => void;
      error?: (r?: any) => void;
      always?: (r?: any) => void;
    }): unknown;
    realtime: FrappeRealtime;
    /** dom.js: a `<style>` in `<head>`, replacing one with the same id. */
    dom: { set_style(txt: string, id?: string): unknown };
  }

  const frappe: FrappeStatic;
  /** Frappe's translation function. */
  function __(text: string, args?: unknown[]): string;

  interface Window {
    /** Optional page-level overrides, e.g. set by an administrator's own script or by tests. */
    orderCompanion?: { responseTimeoutMs?: number; runningTimeoutMs?: number };
  }
}
