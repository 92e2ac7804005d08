/**
 * Field controls (frappe/public/js/frappe/form/controls/*.js [v15], much reduced): one class
 * that renders a docfield as an input bound to `locals[doctype][docname][fieldname]`, or as
 * formatted static text when it may only be read.
 *
 * - Display status as `frappe.perm.get_field_display_status` + `Control.get_status` decide it:
 *   hidden (or hidden by `depends_on`) → None; no write permission, `read_only`, or a
 *   submitted/cancelled doc → Read; a Read field without a value → None.
 * - Data-like fields are `input.input-with-feedback.form-control[data-fieldname]`, Select a
 *   `select`, Check a checkbox, text types a `textarea`; Read shows `.control-value` with
 *   `frappe.format(value, df, {no_icon, inline}, doc)`.
 * - A change (`change` event) parses the input for the fieldtype (Int → cint, Float/Currency →
 *   flt, Date/Datetime from the user's date format, Check → 0/1) and calls
 *   `frappe.model.set_value`, which marks the form dirty and fires the change events.
 * - Links are plain text inputs (no search dropdown and no link validation in the preview).
 */
import $ from 'jquery';
import { __, frappe, locals, type Doc, type DocField } from './globals.js';
import { format } from './format.js';
import { cint, cstr, escape_html, flt, is_null, str_to_user, user_to_str } from './utils.js';

const TEXT_TYPES = ['Small Text', 'Text', 'Long Text', 'Code', 'Text Editor', 'HTML Editor', 'Markdown Editor', 'JSON'];
const INT_TYPES = ['Int', 'Check'];
const FLOAT_TYPES = ['Float', 'Currency', 'Percent'];
const STATIC_ONLY = ['Attach', 'Attach Image', 'Image', 'Signature', 'Geolocation', 'Rating', 'Read Only', 'Barcode', 'Table MultiSelect'];

export interface ControlOpts {
  df: DocField;
  parent: JQuery;
  frm?: any;
  doctype?: string;
  docname?: string;
  only_input?: boolean;
  grid?: any;
  grid_row?: any;
}

/** `frappe.perm.get_perm(doctype, doc)` from the DocType's permission rows and the user's roles. */
export function get_perm(doctype: string, doc?: Doc | null): Record<number, Record<string, number>> {
  const perm: Record<number, Record<string, number>> = { 0: {} };
  const meta = frappe.get_meta(doctype);
  const user = frappe.session?.user;
  const roles: string[] = frappe.boot?.user?.roles ?? [];
  const rights = ['select', 'read', 'write', 'create', 'delete', 'submit', 'cancel', 'amend', 'print', 'email', 'report', 'import', 'export', 'share'];
  if (user === 'Administrator') {
    for (const r of rights) perm[0][r] = 1;
    for (const p of meta?.permissions ?? []) perm[cint(p.permlevel)] ??= Object.fromEntries(rights.map((r) => [r, 1]));
    return perm;
  }
  for (const p of meta?.permissions ?? []) {
    if (!roles.includes(p.role)) continue;
    if (p.if_owner && doc && doc.owner !== user) continue;
    const level = cint(p.permlevel);
    perm[level] ??= {};
    for (const r of rights) if (p[r]) perm[level][r] = 1;
  }
  if (perm[0].read) perm[0].select = 1;
  return perm;
}

/** `frappe.perm.get_field_display_status(df, doc, perm)`. */
export function get_field_display_status(df: DocField, doc: Doc | null, perm: Record<number, Record<string, number>>): 'Write' | 'Read' | 'None' {
  if (df.hidden || df.hidden_due_to_dependency) return 'None';
  const p = perm[cint(df.permlevel)] ?? {};
  if (!p.read && !p.write) return 'None';
  let status: 'Write' | 'Read' = p.write ? 'Write' : 'Read';
  const docstatus = cint(doc?.docstatus);
  if (status === 'Write' && docstatus !== 0 && !(docstatus === 1 && df.allow_on_submit)) status = 'Read';
  if (status === 'Write' && (df.read_only || df.set_only_once && doc && !doc.__islocal && !is_null(doc[df.fieldname]))) status = 'Read';
  return status;
}

export class Control {
  df: DocField;
  frm: any;
  doctype: string;
  docname: string;
  only_input: boolean;
  grid?: any;
  grid_row?: any;
  $wrapper: JQuery;
  wrapper: HTMLElement;
  $input: JQuery | null = null;
  $static: JQuery;
  input_area: JQuery;
  input_made = false;
  $label: JQuery | null = null;
  last_value: unknown = undefined;
  get_query?: unknown;
  change?: (e?: unknown) => void;

  constructor(opts: ControlOpts) {
    this.df = opts.df;
    this.frm = opts.frm;
    this.doctype = opts.doctype ?? this.frm?.doctype;
    this.docname = opts.docname ?? this.frm?.docname;
    this.only_input = Boolean(opts.only_input);
    this.grid = opts.grid;
    this.grid_row = opts.grid_row;
    const fieldtype = escape_html(this.df.fieldtype);
    const fieldname = escape_html(this.df.fieldname);
    if (this.only_input) {
      this.$wrapper = $(`<div class="frappe-control" data-fieldtype="${fieldtype}" data-fieldname="${fieldname}"></div>`).appendTo(opts.parent);
      this.$static = $('<div class="control-value like-disabled-input" style="display: none;"></div>').appendTo(this.$wrapper);
      this.input_area = this.$wrapper;
    } else {
      this.$wrapper = $(`<div class="frappe-control input-max-width" data-fieldtype="${fieldtype}" data-fieldname="${fieldname}" title="${fieldname}">
          <div class="form-group">
            <div class="clearfix"><label class="control-label"></label><span class="help"></span></div>
            <div class="control-input-wrapper">
              <div class="control-input"></div>
              <div class="control-value like-disabled-input" style="display: none;"></div>
              <p class="help-box small text-muted"></p>
            </div>
          </div>
        </div>`).appendTo(opts.parent);
      this.$label = this.$wrapper.find('.control-label');
      this.$static = this.$wrapper.find('.control-value');
      this.input_area = this.$wrapper.find('.control-input');
      if (this.df.description) this.$wrapper.find('.help-box').html(__(this.df.description));
    }
    this.wrapper = this.$wrapper.get(0)!;
    // Buttons always; other inputs only once the field is writable (controls make inputs lazily).
    if (this.df.fieldtype === 'Button') this.make_input(this.input_area);
  }

  get doc(): Doc | null {
    return locals[this.doctype]?.[this.docname] ?? null;
  }

  make_input(parent: JQuery): void {
    this.input_made = true;
    const ft = this.df.fieldtype;
    const attrs = `data-fieldtype="${escape_html(ft)}" data-fieldname="${escape_html(this.df.fieldname)}"`;
    if (ft === 'Check') {
      this.$input = $(`<input type="checkbox" autocomplete="off" class="input-with-feedback" ${attrs}>`);
      $('<div class="checkbox"><label></label></div>').appendTo(parent).find('label').append(this.$input);
    } else if (ft === 'Select') {
      this.$input = $(`<select class="input-with-feedback form-control ellipsis" ${attrs}></select>`).appendTo(parent);
      this.set_options();
    } else if (TEXT_TYPES.includes(ft)) {
      this.$input = $(`<textarea class="input-with-feedback form-control" ${attrs}></textarea>`).appendTo(parent);
    } else if (ft === 'Button') {
      this.$input = $(`<button class="btn btn-xs btn-default" ${attrs}>${__(this.df.label || this.df.fieldname)}</button>`).appendTo(parent);
      this.$input.on('click', () => {
        if (this.df.click) return this.df.click();
        if (this.frm) this.frm.script_manager.trigger(this.df.fieldname, this.doctype, this.docname);
        return undefined;
      });
      return;
    } else if (ft === 'HTML' || ft === 'Heading' || STATIC_ONLY.includes(ft)) {
      this.$input = null;
      return;
    } else {
      this.$input = $(`<input type="text" autocomplete="off" class="input-with-feedback form-control" ${attrs}>`).appendTo(parent);
    }
    this.$input.on('change', () => this.on_change());
  }

  set_options(): void {
    if (!this.$input || this.df.fieldtype !== 'Select') return;
    const options = Array.isArray(this.df.options) ? this.df.options : cstr(this.df.options).split('\n');
    const current = this.$input.val();
    this.$input.empty();
    for (const o of options) {
      const value = typeof o === 'object' ? o.value : o;
      const label = typeof o === 'object' ? o.label : o;
      $('<option>').attr('value', value).text(__(label)).appendTo(this.$input);
    }
    if (current !== undefined) this.$input.val(current as string);
  }

  /** The input's value, parsed for the fieldtype (`parse` of each control). */
  get_input_value(): unknown {
    if (!this.$input) return this.get_value();
    const ft = this.df.fieldtype;
    if (ft === 'Check') return this.$input.prop('checked') ? 1 : 0;
    const raw = this.$input.val() as string;
    if (INT_TYPES.includes(ft)) return cint(raw);
    if (FLOAT_TYPES.includes(ft)) return flt(raw);
    if (ft === 'Date' || ft === 'Datetime') return raw ? user_to_str(raw) : null;
    return raw === '' && ['Link', 'Date', 'Datetime', 'Time', 'Dynamic Link'].includes(ft) ? null : raw;
  }

  on_change(): void {
    const value = this.get_input_value();
    const result = this.set_value(value);
    Promise.resolve(result).then(() => this.df.change?.());
  }

  get_value(): unknown {
    return this.doc ? this.doc[this.df.fieldname] : undefined;
  }

  set_value(value: unknown): Promise<unknown> {
    this.last_value = value;
    return frappe.model.set_value(this.doctype, this.docname, this.df.fieldname, value, this.df.fieldtype);
  }

  get_status(): 'Write' | 'Read' | 'None' {
    if (this.grid) {
      if (this.df.hidden) return 'None';
      const editable = this.grid.is_editable() && !this.df.read_only;
      return editable ? 'Write' : 'Read';
    }
    const perm = this.frm?.perm ?? { 0: { read: 1, write: 1 } };
    let status = get_field_display_status(this.df, this.doc, perm);
    if (status === 'Read' && is_null(this.get_value()) && !['HTML', 'Image', 'Button', 'Heading'].includes(this.df.fieldtype) && !this.grid) status = 'None';
    return status;
  }

  input_display_value(value: unknown): string {
    const ft = this.df.fieldtype;
    if (value === null || value === undefined) return '';
    if (ft === 'Date') return str_to_user(value, false, true);
    if (ft === 'Datetime') return str_to_user(value);
    return String(value);
  }

  refresh(): void {
    const status = this.get_status();
    this.$wrapper.toggleClass('hide-control', status === 'None');
    if (this.$label) {
      this.$label.html(__(this.df.label || '')).toggleClass('reqd', Boolean(this.df.reqd));
    }
    const ft = this.df.fieldtype;
    if (ft === 'HTML') {
      if (this.df.options) this.$wrapper.find('.control-input').html(this.df.options);
      return;
    }
    if (ft === 'Heading') {
      this.$wrapper.find('.control-input').html(`<h4 class="form-section-heading">${__(this.df.label || '')}</h4>`);
      return;
    }
    if (status === 'None') return;
    const value = this.get_value();
    if (status === 'Write' && !this.input_made) this.make_input(this.input_area);
    if (status === 'Write' && this.$input) {
      if (this.only_input) this.$input.toggle(true);
      else this.input_area.toggle(true);
      this.$static.toggle(false);
      if (ft === 'Select') this.set_options();
      if (ft === 'Check') this.$input.prop('checked', Boolean(cint(value)));
      else if (ft !== 'Button') {
        const display = this.input_display_value(value);
        if (this.$input.val() !== display) this.$input.val(display);
      }
      this.$wrapper.toggleClass('has-error', Boolean(this.df.reqd) && is_null(value));
    } else {
      if (this.only_input) this.$input?.toggle(false);
      else this.input_area.toggle(false);
      this.$static.toggle(true).html(format(value, this.df, { no_icon: true, inline: true }, this.doc));
    }
  }
}

export function make_control(opts: ControlOpts): Control {
  return new Control(opts);
}

export function install_controls(): void {
  frappe.ui.form.make_control = make_control;
  frappe.ui.form.Control = Control;
  frappe.perm = { get_perm, get_field_display_status };
}
