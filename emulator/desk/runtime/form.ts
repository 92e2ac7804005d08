/**
 * The form controller `frm` (frappe/public/js/frappe/form/form.js [v15]) with its toolbar
 * (form/toolbar.js), dashboard headline (form/dashboard.js) and save (form/save.js), reduced
 * to what a preview of Client Scripts needs.
 *
 * Life cycle as in Frappe: `refresh(docname)` sets `cur_frm`; the first time, `setup()` builds
 * page + layout and runs the ScriptManager (client scripts, then `setup`); a doc opened for the
 * first time triggers `before_load` → `onload` and renders; `render_form` runs serially
 * `refresh_header` (title, indicator, primary action, dashboard reset, **clear_custom_buttons**),
 * `form-refresh`, `refresh_fields`, the `refresh` event, `onload_post_render` (first render
 * only); then `show_conflict_message()` when the doc `__needs_refresh`.
 * `reload_doc()` drops the doc from `locals` (and from `opendocs`, so `onload` runs again),
 * re-fetches it with `getdoc` and refreshes. `save()` runs `validate`, `before_save`, calls
 * `frappe.desk.form.save.savedocs` (action "Save") and on success triggers `after_save` and
 * refreshes.
 *
 * The preview marks progress on `<body>`: `data-form-ready="true"` after the first complete
 * render and `data-form-render-count` counting complete renders.
 */
import $ from 'jquery';
import { __, frappe, locals, set_cur_frm, type Doc, type DocField } from './globals.js';
import { get_perm } from './controls.js';
import { Layout } from './layout.js';
import { TABLE_FIELDS, add_child, clear_table, get_docfield, get_docfields, get_meta, remove_from_locals, with_doc } from './model.js';
import { Page } from './page.js';
import { call } from './request.js';
import { ScriptManager } from './script_manager.js';
import { cstr, debounce, guess_colour, is_null, run_serially, strip_html } from './utils.js';

/** `frappe.get_indicator(doc, doctype)` (list/list_view.js [v15]), without workflows/listview settings. */
export function get_indicator(doc: Doc, doctype?: string): [string, string] | null {
  if (doc.__unsaved) return [__('Not Saved'), 'orange'];
  const meta = get_meta(doctype || doc.doctype);
  const submittable = Boolean(meta?.is_submittable);
  if (submittable && doc.docstatus === 0) return [__('Draft'), 'red'];
  if (submittable && doc.docstatus === 2) return [__('Cancelled'), 'red'];
  if (submittable && doc.docstatus === 1) return [__('Submitted'), 'blue'];
  if (doc.status) return [__(doc.status), guess_colour(doc.status)];
  if (frappe.meta.has_field(doc.doctype, 'enabled')) return doc.enabled ? [__('Enabled'), 'blue'] : [__('Disabled'), 'grey'];
  if (frappe.meta.has_field(doc.doctype, 'disabled')) return doc.disabled ? [__('Disabled'), 'grey'] : [__('Enabled'), 'blue'];
  return null;
}

export class Dashboard {
  frm: Form;
  parent: JQuery;

  constructor(parent: JQuery, frm: Form) {
    this.parent = parent;
    this.frm = frm;
  }

  refresh(): void {
    this.reset();
  }

  after_refresh(): void {
    /* nothing: no connections / heatmap in the preview */
  }

  reset(): void {
    this.hide();
    this.clear_headline();
    this.parent.find('.custom, .form-stats').remove();
  }

  show(): void {
    this.parent.removeClass('hidden');
  }

  hide(): void {
    this.parent.addClass('hidden');
  }

  set_headline(html: string, color?: string): void {
    this.frm.layout.show_message(html, color);
  }

  clear_headline(): void {
    this.frm.layout.show_message();
  }

  set_headline_alert(text?: string, color?: string): void {
    if (text) this.set_headline(`<div>${text}</div>`, color);
    else this.clear_headline();
  }

  add_comment(text: string, alert_class?: string, permanent?: boolean): void {
    this.set_headline_alert(text, alert_class);
    if (!permanent) window.setTimeout(() => this.clear_headline(), 10000);
  }

  clear_comment(): void {
    this.clear_headline();
  }

  add_indicator(label: string, color: string): JQuery {
    this.show();
    let stats = this.parent.find('.form-stats');
    if (!stats.length) stats = $('<div class="form-stats form-dashboard-section"><div class="row"></div></div>').appendTo(this.parent);
    const n = stats.find('.row > div').length + 1;
    const cls = n > 3 ? 'col-md-3' : 'col-md-4';
    return $(`<div class="${cls}"><span class="indicator ${color}">${label}</span></div>`).appendTo(stats.find('.row'));
  }

  add_section(body_html: string, label: string | null = null, css_class = 'custom', hidden = false): JQuery {
    this.show();
    const section = $(`<div class="form-dashboard-section ${css_class}${hidden ? ' hidden' : ''}">${label ? `<div class="section-head">${label}</div>` : ''}<div class="section-body">${body_html}</div></div>`).appendTo(this.parent);
    return section.find('.section-body');
  }

  add_progress(title: string, percent: number, message = ''): JQuery {
    return this.add_section(`<div class="progress-chart"><div class="progress"><div class="progress-bar" style="width: ${percent}%"></div></div><p class="progress-message text-muted small">${message}</p></div>`, title);
  }
}

class Toolbar {
  frm: Form;
  page: Page;

  constructor(frm: Form) {
    this.frm = frm;
    this.page = frm.page;
    frm.$wrapper.on('dirty', () => {
      this.set_indicator();
      this.set_primary_action();
    });
  }

  refresh(): void {
    this.set_title();
    this.set_indicator();
    this.set_primary_action();
  }

  set_title(): void {
    const frm = this.frm;
    let title: string;
    if (frm.is_new()) title = __('New {0}', [__(frm.meta.name)]);
    else if (frm.meta.title_field) title = strip_html(cstr(frm.doc[frm.meta.title_field]).trim() || frm.docname);
    else title = frm.docname;
    this.page.set_title(title, null, true, `${title} - ${__(frm.doctype)}`, frm.docname);
    this.page.$title_area.attr('data-docname', frm.docname);
    let sub = this.page.$title_area.find('.title-docname');
    if (!sub.length) sub = $('<span class="title-docname text-muted"></span>').insertAfter(this.page.$title_area.find('.title-text'));
    sub.text(title === frm.docname ? '' : frm.docname);
  }

  set_indicator(): void {
    const ind = get_indicator(this.frm.doc, this.frm.doctype);
    if (ind) this.page.set_indicator(ind[0], ind[1]);
    else this.page.clear_indicator();
  }

  get_action_status(): string | null {
    const frm = this.frm;
    const docstatus = frm.doc.docstatus ?? 0;
    let status: string | null = null;
    if (docstatus === 0) status = frm.meta.is_submittable && !frm.is_dirty() && !frm.is_new() ? 'Submit' : 'Save';
    else if (docstatus === 1 && frm.doc.__unsaved) status = 'Update';
    const perm = frm.action_perm_type_map[status ?? ''];
    if (status && !frm.perm[0]?.[perm]) status = null;
    return status;
  }

  set_primary_action(): void {
    if (this.frm.save_disabled) {
      this.page.clear_primary_action();
      return;
    }
    const status = this.get_action_status();
    if (!status) {
      this.page.clear_primary_action();
      return;
    }
    const working = { Save: __('Saving'), Submit: __('Submitting'), Update: __('Updating') }[status];
    this.page.set_primary_action(
      __(status),
      () => {
        if (status === 'Submit') return this.frm.save('Submit');
        return this.frm.save_or_update();
      },
      '',
      working,
    );
  }
}

export class Form {
  doctype: string;
  docname = '';
  meta: Doc;
  parent: JQuery;
  in_form: boolean;
  doc!: Doc;
  opendocs: Record<string, boolean> = {};
  custom_buttons: Record<string, JQuery> = {};
  events: Record<string, (...args: any[]) => unknown> = {};
  cscript: Record<string, any>;
  fetch_dict: Record<string, any> = {};
  grids: { grid: any }[] = [];
  perm: Record<number, Record<string, number>> = { 0: {} };
  action_perm_type_map: Record<string, string> = { Create: 'create', Save: 'write', Submit: 'submit', Update: 'submit', Cancel: 'cancel', Amend: 'amend', Delete: 'delete' };
  setup_done = false;
  save_disabled = false;
  hidden = false;
  wrapper!: HTMLElement;
  $wrapper!: JQuery;
  page!: Page;
  layout!: Layout;
  fields_dict: Record<string, any> = {};
  fields: any[] = [];
  dashboard!: Dashboard;
  toolbar!: Toolbar;
  script_manager!: ScriptManager;
  debounced_reload_doc: () => void;
  selected_doc: Doc | null = null;
  active_tab_map: Record<string, unknown> = {};
  cur_grid: unknown = null;
  render_count = 0;

  constructor(doctype: string, parent: JQuery, in_form = true) {
    this.doctype = doctype;
    this.parent = parent;
    this.in_form = in_form;
    this.cscript = { frm: this };
    this.meta = get_meta(doctype)!;
    this.debounced_reload_doc = debounce(() => this.reload_doc(), 1000);
  }

  setup(): void {
    this.$wrapper = $('<div class="form-container"></div>').appendTo(this.parent);
    this.wrapper = this.$wrapper.get(0)!;
    this.page = new Page(this.$wrapper);
    this.$wrapper.on('hide', () => this.script_manager.trigger('on_hide'));
    this.toolbar = new Toolbar(this);
    this.layout = new Layout({ parent: this.page.main, frm: this, doctype: this.doctype });
    this.layout.make(frappe.meta.sort_docfields(frappe.meta.docfield_map[this.doctype] ?? {}));
    this.fields_dict = this.layout.fields_dict;
    this.fields = this.layout.fields_list;
    this.grids = this.fields.filter((f) => f.grid).map((f) => ({ grid: f.grid }));
    this.dashboard = new Dashboard(this.layout.dashboard_parent, this);
    this.script_manager = new ScriptManager({ frm: this });
    this.script_manager.setup();
    this.watch_model_updates();
    this.setup_done = true;
  }

  watch_model_updates(): void {
    frappe.model.on(this.doctype, '*', (fieldname: string, _value: unknown, doc: Doc, skip_dirty_trigger = false) => {
      if (doc.name !== this.docname) return undefined;
      if (!skip_dirty_trigger) this.dirty();
      this.fields_dict[fieldname]?.refresh?.();
      this.layout.refresh_dependency(true);
      this.layout.refresh_sections();
      return this.script_manager.trigger(fieldname, doc.doctype, doc.name);
    });
    for (const df of (frappe.meta.docfield_list[this.doctype] ?? []) as DocField[]) {
      if (!TABLE_FIELDS.includes(df.fieldtype)) continue;
      frappe.model.on(df.options, '*', (fieldname: string, value: unknown, doc: Doc) => {
        if (doc.parent === this.docname && doc.parentfield === df.fieldname) {
          this.dirty();
          this.fields_dict[df.fieldname]?.grid?.set_value(fieldname, value, doc);
          return this.script_manager.trigger(fieldname, doc.doctype, doc.name);
        }
        return undefined;
      });
    }
  }

  // ---- refresh ----------------------------------------------------------------------

  refresh(docname?: string): void {
    const switched = Boolean(docname);
    if (docname) this.switch_doc(docname);
    set_cur_frm(this);
    if (!this.docname) return;
    this.save_disabled = false;
    this.doc = frappe.get_doc(this.doctype, this.docname);
    if (!this.doc) return;
    this.perm = get_perm(this.doctype, this.doc);
    if (!this.perm[0]?.read) {
      frappe.msgprint({ title: __('Not Permitted'), indicator: 'red', message: `${__(this.doctype)} ${__(cstr(this.docname))}` });
      return;
    }
    for (const g of this.grids) g.grid.refresh();
    if (!this.setup_done) this.setup();
    this.trigger_onload(switched);
    this.$wrapper
      .removeClass('validated-form')
      .toggleClass('editable-form', this.doc.docstatus === 0)
      .toggleClass('submitted-form', this.doc.docstatus === 1)
      .toggleClass('cancelled-form', this.doc.docstatus === 2);
    this.show_conflict_message();
  }

  switch_doc(docname: string): void {
    for (const g of this.grids) {
      g.grid.visible_columns = [];
      g.grid.grid_pagination?.go_to_page(1, true);
    }
    frappe.ui.form.close_grid_form();
    this.docname = docname;
    if (this.doc && !this.is_new()) frappe.realtime.doc_subscribe(this.doctype, docname);
  }

  trigger_onload(switched: boolean): void {
    this.cscript.is_onload = false;
    if (!this.opendocs[this.docname]) {
      this.cscript.is_onload = true;
      this.initialize_new_doc();
      $(document).trigger('form-load', [this]);
    } else this.render_form(switched);
  }

  initialize_new_doc(): void {
    this.script_manager.trigger('before_load', this.doctype, this.docname).then(() => {
      this.script_manager.trigger('onload');
      this.opendocs[this.docname] = true;
      this.render_form();
    });
  }

  render_form(switched = false): void {
    if (this.meta.istable) return;
    this.layout.attach_doc_and_docfields(this.doctype, this.docname);
    this.layout.show_message();
    run_serially([
      () => this.refresh_header(switched),
      () => $(document).trigger('form-refresh', [this]),
      () => this.refresh_fields(),
      () => this.script_manager.trigger('refresh'),
      () => {
        if (this.cscript.is_onload) return this.script_manager.trigger('onload_post_render');
        return undefined;
      },
      () => this.dashboard.after_refresh(),
      () => this.mark_rendered(),
    ]).catch((e) => {
      this.mark_rendered();
      throw e;
    });
    this.$wrapper.trigger('render_complete');
  }

  private mark_rendered(): void {
    this.render_count++;
    document.body.dataset.formRenderCount = String(this.render_count);
    document.body.dataset.formReady = 'true';
    $(document).trigger('form-rendered', [this]);
  }

  refresh_header(_switched = false): void {
    frappe.utils.set_title(this.meta.issingle ? this.doctype : this.docname);
    this.toolbar.refresh();
    this.dashboard.refresh();
    this.clear_custom_buttons();
  }

  refresh_fields(): void {
    this.layout.refresh();
    this.cleanup_refresh();
  }

  cleanup_refresh(): void {
    if (this.meta.autoname === 'naming_series:' && !this.doc.__islocal) this.toggle_display('naming_series', false);
    if (this.fields_dict.amended_from) this.toggle_display('amended_from', Boolean(this.doc.amended_from));
  }

  show_conflict_message(): void {
    if (!this.doc.__needs_refresh) return;
    if (this.doc.__unsaved) {
      this.dashboard.clear_headline();
      this.dashboard.set_headline_alert(
        `${__('This form has been modified after you have loaded it')}<button class="btn btn-xs btn-primary pull-right" onclick="cur_frm.reload_doc()">${__('Refresh')}</button>`,
        'alert-warning',
      );
    } else this.debounced_reload_doc();
  }

  reload_doc(): Promise<unknown> | undefined {
    if (this.doc.__islocal) return undefined;
    remove_from_locals(this.doctype, this.docname);
    return with_doc(this.doctype, this.docname, () => this.refresh());
  }

  refresh_field(fname: string): void {
    const f = this.fields_dict[fname];
    if (f && f.refresh) {
      f.refresh();
      this.layout.refresh_dependency();
      this.layout.refresh_sections();
    }
  }

  // ---- state ------------------------------------------------------------------------

  dirty(): void {
    this.doc.__unsaved = 1;
    this.$wrapper.trigger('dirty');
  }

  is_dirty(): boolean {
    return Boolean(this.doc.__unsaved);
  }

  is_new(): boolean {
    return Boolean(this.doc?.__islocal);
  }

  get_doc(): Doc {
    return locals[this.doctype][this.docname];
  }

  get_title(): string {
    return this.meta.title_field ? this.doc[this.meta.title_field] : String(this.doc.name);
  }

  get_perm(permlevel: number, access_type: string): number | null {
    return this.perm[permlevel] ? this.perm[permlevel][access_type] ?? null : null;
  }

  has_perm(ptype: string): boolean {
    return Boolean(this.perm[0]?.[ptype]);
  }

  get_docinfo(): any {
    return frappe.model.docinfo[this.doctype]?.[this.docname];
  }

  get_docfields(): DocField[] {
    return get_docfields(this.doctype, this.docname);
  }

  get_docfield(fieldname1: string, fieldname2?: string): DocField | undefined {
    if (fieldname2) {
      const dt = this.get_docfield(fieldname1)?.options;
      return get_docfield(dt, fieldname2, this.docname);
    }
    return get_docfield(this.doctype, fieldname1, this.docname);
  }

  get_field(field: string): any {
    return this.fields_dict[field];
  }

  // ---- values -----------------------------------------------------------------------

  set_value(field: string | Record<string, unknown>, value?: unknown, if_missing?: boolean, skip_dirty_trigger = false): Promise<unknown> {
    const _set = (f: string, v: unknown): Promise<unknown> => {
      const fieldobj = this.fields_dict[f];
      if (!fieldobj) {
        frappe.msgprint(__('Field {0} not found.', [f]));
        throw 'frm.set_value';
      }
      if (if_missing && frappe.model.has_value(this.doctype, this.doc.name, f)) return Promise.resolve();
      if (TABLE_FIELDS.includes(fieldobj.df.fieldtype) && Array.isArray(v)) {
        clear_table(this.doc, f);
        v.forEach((d: Doc, idx: number) => {
          const child = add_child(this.doc, fieldobj.df.options, f, idx + 1);
          const copy = { ...d };
          for (const k of [...frappe.model.std_fields_list, ...frappe.model.child_table_field_list]) delete copy[k];
          Object.assign(child, copy);
        });
        this.refresh_field(f);
        return Promise.resolve();
      }
      return frappe.model.set_value(this.doctype, this.doc.name, f, v, fieldobj.df.fieldtype, skip_dirty_trigger);
    };
    if (typeof field === 'string') return _set(field, value);
    return run_serially(Object.entries(field).filter(([f]) => this.get_field(f)).map(([f, v]) => () => _set(f, v)));
  }

  add_child(fieldname: string, values?: Doc): Doc {
    const df = get_docfield(this.doctype, fieldname);
    const d = add_child(this.doc, df!.options, fieldname);
    if (values) {
      const copy = { ...values };
      delete copy.idx;
      delete copy.name;
      Object.assign(d, copy);
    }
    return d;
  }

  clear_table(fieldname: string): void {
    clear_table(this.doc, fieldname);
  }

  field_map(fnames: string | string[], fn: (df: DocField) => void): void {
    let list: string[];
    if (typeof fnames === 'string') list = fnames === '*' ? Object.keys(this.fields_dict) : [fnames];
    else list = fnames;
    for (const fieldname of list) {
      const df = get_docfield(this.doctype, fieldname, this.docname);
      if (df) {
        fn(df);
        this.refresh_field(fieldname);
      }
    }
  }

  toggle_enable(fnames: string | string[], enable: unknown): void {
    this.field_map(fnames, (df) => (df.read_only = enable ? 0 : 1));
  }

  toggle_reqd(fnames: string | string[], mandatory: unknown): void {
    this.field_map(fnames, (df) => (df.reqd = mandatory ? 1 : 0));
  }

  toggle_display(fnames: string | string[], show: unknown): void {
    this.field_map(fnames, (df) => (df.hidden = show ? 0 : 1));
  }

  set_df_property(fieldname: string, property: string, value: unknown, docname?: string, table_field?: string, table_row_name: string | null = null): void {
    let df: DocField | undefined;
    if (!docname || !table_field) df = this.get_docfield(fieldname);
    else {
      const grid = this.fields_dict[fieldname].grid;
      const found = grid.docfields.filter((d: DocField) => d.fieldname === table_field);
      if (found.length) df = get_docfield(found[0].parent, table_field, table_row_name);
    }
    if (df && df[property] !== value) {
      df[property] = value;
      if (table_field && table_row_name) this.fields_dict[fieldname].grid.grid_rows_by_docname[table_row_name]?.refresh_field(table_field);
      else this.refresh_field(fieldname);
    }
  }

  set_query(fieldname: string, opt1: unknown, opt2?: unknown): void {
    if (opt2) this.fields_dict[opt1 as string].grid.get_field(fieldname).get_query = opt2;
    else if (this.fields_dict[fieldname]) this.fields_dict[fieldname].get_query = opt1;
  }

  set_intro(txt?: string, color?: string): void {
    this.dashboard.set_headline_alert(txt, color);
  }

  set_indicator_formatter(fieldname: string, get_color: (doc: Doc) => string, get_text?: (doc: Doc) => string): void {
    let doctype = this.doctype;
    if (!frappe.meta.docfield_map[this.doctype]?.[fieldname]) {
      for (const df of frappe.meta.get_table_fields(this.doctype)) {
        if (frappe.meta.docfield_map[df.options]?.[fieldname]) {
          doctype = df.options;
          break;
        }
      }
    }
    frappe.meta.docfield_map[doctype][fieldname].formatter = (value: unknown, df: DocField, _options: unknown, doc: Doc) => {
      if (!value) return '';
      const label = get_text ? get_text(doc) : frappe.form.link_formatters[df.options] ? frappe.form.link_formatters[df.options](value, doc, df) : value;
      const name = encodeURIComponent(String(value));
      return `<a class="indicator ${get_color(doc || {})}" href="/app/${frappe.router.slug(df.options)}/${name}" data-doctype="${df.options}" data-name="${frappe.utils.escape_html(value)}">${label}</a>`;
    };
  }

  // ---- buttons --------------------------------------------------------------------------

  add_custom_button(label: string, fn: () => unknown, group?: string | null): JQuery | undefined {
    if (group && group.indexOf('fa fa-') !== -1) group = null;
    const btn = this.page.add_inner_button(label, fn, group);
    if (btn) {
      const menu_item = this.page.add_menu_item(group ? `${group} > ${label}` : label, fn, false);
      menu_item.parent().addClass('hidden-xl');
      this.custom_buttons[label] = btn;
    }
    return btn;
  }

  change_custom_button_type(label: string, group: string | null, type: string): void {
    this.page.change_inner_button_type(label, group, type);
  }

  clear_custom_buttons(): void {
    this.page.clear_inner_toolbar();
    this.page.clear_user_actions();
    this.custom_buttons = {};
  }

  remove_custom_button(label: string, group?: string): void {
    this.page.remove_inner_button(label, group);
    delete this.custom_buttons[label];
    const item = this.page.is_in_group_button_dropdown(this.page.menu, 'li > a.grey-link > span', group ? `${group} > ${label}` : label);
    if (item) item.parent().parent().remove();
  }

  disable_save(): void {
    this.save_disabled = true;
    this.page.clear_primary_action();
  }

  enable_save(): void {
    this.save_disabled = false;
    this.toolbar.set_primary_action();
  }

  set_active_tab(tab: unknown): void {
    this.active_tab_map[this.docname] = tab;
    this.script_manager.trigger('on_tab_change');
  }

  get_active_tab(): unknown {
    return this.active_tab_map[this.docname];
  }

  scroll_to_field(fieldname: string): boolean {
    const field = this.get_field(fieldname);
    if (!field?.$wrapper?.length) return false;
    field.$wrapper.get(0).scrollIntoView();
    return true;
  }

  trigger(event: string, doctype?: string, docname?: string): Promise<unknown> {
    return this.script_manager.trigger(event, doctype, docname);
  }

  call(opts: any, args?: Record<string, unknown>, callback?: (r: any) => void): unknown {
    if (typeof opts === 'string') opts = { method: opts, doc: this.doc, args, callback };
    if (!opts.doc) {
      const original = opts.callback;
      opts.callback = (r: any) => {
        if ($.isPlainObject(r.message)) this.set_value(r.message);
        original?.(r);
      };
    } else {
      const original = opts.callback;
      opts.callback = (r: any) => {
        if (!r.exc) this.refresh_fields();
        original?.(r);
      };
    }
    return call(opts);
  }

  // ---- save -------------------------------------------------------------------------------

  save_or_update(): Promise<void> | undefined {
    if (this.save_disabled) return undefined;
    if (this.doc.docstatus === 0) return this.save();
    if (this.doc.docstatus === 1 && this.doc.__unsaved) return this.save('Update');
    return undefined;
  }

  validate_form_action(action: string, resolve?: () => void): void {
    const perm_to_check = this.action_perm_type_map[action];
    if (!this.perm[0]?.[perm_to_check]) {
      resolve?.();
      frappe.throw(__("No permission to '{0}' {1}", [__(action), __(this.doc.doctype)]));
    }
  }

  save(save_action?: string, callback?: (r: any) => void, btn?: unknown, on_error?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (btn) $(btn as HTMLElement).prop('disabled', true);
      frappe.ui.form.close_grid_form();
      this.validate_and_save(save_action, callback, btn, on_error, resolve, reject);
    }).catch((e) => {
      console.error(e);
    });
  }

  validate_and_save(save_action: string | undefined, callback: ((r: any) => void) | undefined, btn: unknown, on_error: (() => void) | undefined, resolve: () => void, reject: (e?: unknown) => void): void {
    const action = save_action || 'Save';
    this.validate_form_action(action, resolve);
    const after_save = (r: any) => {
      if (!r.exc) {
        this.script_manager.trigger('after_save');
        this.refresh();
      } else if (on_error) {
        on_error();
        reject();
      }
      callback?.(r);
      resolve();
    };
    const fail = (e?: unknown) => {
      if (e) console.error(e);
      if (btn) $(btn as HTMLElement).prop('disabled', false);
      if (on_error) {
        on_error();
        reject();
      }
    };
    if (action !== 'Update') {
      frappe.validated = true;
      run_serially([
        () => this.script_manager.trigger('validate'),
        () => this.script_manager.trigger('before_save'),
        () => {
          if (!frappe.validated) {
            fail();
            return;
          }
          save_doc(this, action, after_save, btn);
        },
      ]).catch(fail);
    } else save_doc(this, action, after_save, btn);
  }
}

/** form/save.js `frappe.ui.form.save(frm, action, callback, btn)`. */
export function save_doc(frm: Form, action: string, callback: (r: any) => void, btn?: unknown): void {
  if (btn) $(btn as HTMLElement).prop('disabled', true);
  const remove_empty_rows = () => {
    for (const df of frm.get_docfields()) {
      if (!TABLE_FIELDS.includes(df.fieldtype)) continue;
      const rows: Doc[] = frm.doc[df.fieldname] ?? [];
      const kept = rows.filter((r) => !r.__unedited);
      if (kept.length !== rows.length) {
        for (const r of rows) if (r.__unedited) delete locals[r.doctype]?.[r.name];
        kept.forEach((r, i) => (r.idx = i + 1));
        frm.doc[df.fieldname] = kept;
      }
    }
  };
  const check_mandatory = (): boolean => {
    const missing: string[] = [];
    for (const df of frm.get_docfields()) {
      if (!df.reqd || !df.fieldname || TABLE_FIELDS.includes(df.fieldtype)) continue;
      if (df.hidden || df.hidden_due_to_dependency) continue;
      if (is_null(frm.doc[df.fieldname])) missing.push(__(df.label || df.fieldname));
    }
    if (!missing.length) return true;
    frappe.msgprint({
      message: `${__('Mandatory fields required in {0}', [__(frm.doctype)])}<br><ul><li>${missing.join('</li><li>')}</li></ul>`,
      indicator: 'red',
      title: __('Missing Fields'),
    });
    frappe.validated = false;
    return false;
  };
  remove_empty_rows();
  frm.$wrapper.addClass('validated-form');
  if ((action !== 'Save' || frm.is_dirty()) && check_mandatory()) {
    if (frappe.ui.form.is_saving) {
      console.log('Already saving. Please wait a few moments.');
      throw 'saving';
    }
    frappe.ui.form.is_saving = true;
    call({
      freeze: true,
      method: 'frappe.desk.form.save.savedocs',
      args: { doc: frm.doc, action },
      btn,
      callback: (r: any) => {
        $(document).trigger('save', [frm.doc]);
        callback(r);
      },
      error: (r: any) => callback(r ?? { exc: 'error' }),
      always: () => {
        if (btn) $(btn as HTMLElement).prop('disabled', false);
        frappe.ui.form.is_saving = false;
      },
    });
  } else {
    if (!frm.is_dirty()) frappe.show_alert({ message: __('No changes in document'), indicator: 'orange' });
    if (btn) $(btn as HTMLElement).prop('disabled', false);
  }
}

export function install_form(): void {
  frappe.ui.form.Form = Form;
  frappe.ui.form.save = save_doc;
  frappe.ui.form.is_saving = false;
  frappe.get_indicator = get_indicator;
  frappe.validated = 0;
  frappe.views ??= {};
  frappe.views.formview ??= {};
}
