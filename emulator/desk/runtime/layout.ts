/**
 * The form layout (frappe/public/js/frappe/form/layout.js, tab.js, section.js [v15], reduced):
 * the DocType's fields in order, split into tabs at each `Tab Break` (a leading "Details" tab
 * when the first field is not one), sections at `Section Break`, columns at `Column Break`.
 *
 * DOM: `.form-layout > .form-message.hidden` (the headline area of `frm.dashboard` /
 * `frm.set_intro`, coloured `yellow|blue|red|green|orange`, anything else blue), then
 * `.form-tabs-list > ul.nav.form-tabs > li.nav-item > a.nav-link[data-fieldname]` and
 * `.form-tab-content > .tab-pane[data-fieldname]`; sections are `.form-section`, fields
 * `.frappe-control[data-fieldname]`. A tab or section whose fields are all hidden is hidden.
 * `depends_on` / `mandatory_depends_on` / `read_only_depends_on` are evaluated on refresh and
 * after every change.
 */
import $ from 'jquery';
import { __, type DocField } from './globals.js';
import { Control, make_control } from './controls.js';
import { Grid } from './grid.js';
import { TABLE_FIELDS, get_docfield } from './model.js';
import { escape_html, evaluate, scrub } from './utils.js';

/** A Table field's control: a label-less wrapper around its grid. */
export class TableControl {
  df: DocField;
  frm: any;
  $wrapper: JQuery;
  wrapper: HTMLElement;
  grid: Grid;

  constructor(df: DocField, parent: JQuery, frm: any) {
    this.df = df;
    this.frm = frm;
    this.$wrapper = $(`<div class="frappe-control" data-fieldtype="${escape_html(df.fieldtype)}" data-fieldname="${escape_html(df.fieldname)}"></div>`).appendTo(parent);
    this.wrapper = this.$wrapper.get(0)!;
    this.grid = new Grid({ frm, df, parent: this.$wrapper, control: this });
  }

  refresh(): void {
    const df = this.frm.get_docfield(this.df.fieldname) ?? this.df;
    this.$wrapper.toggleClass('hide-control', Boolean(df.hidden || df.hidden_due_to_dependency));
    this.grid.refresh();
  }

  get_value(): unknown {
    return this.frm.doc[this.df.fieldname];
  }
}

/** A Section / Column / Tab break in `fields_dict`: hideable, nothing more. */
export class BreakControl {
  df: DocField;
  frm: any;
  $wrapper: JQuery;
  wrapper: HTMLElement;

  constructor(df: DocField, $wrapper: JQuery, frm: any) {
    this.df = df;
    this.frm = frm;
    this.$wrapper = $wrapper;
    this.wrapper = $wrapper.get(0)!;
  }

  refresh(): void {
    const df = this.frm.get_docfield(this.df.fieldname) ?? this.df;
    this.$wrapper.toggleClass('hide-control', Boolean(df.hidden || df.hidden_due_to_dependency));
  }
}

interface Tab {
  df: DocField;
  link: JQuery;
  pane: JQuery;
}

export class Layout {
  frm: any;
  doctype: string;
  wrapper: JQuery;
  message: JQuery;
  message_color = '';
  tabs_list: JQuery | null = null;
  tabs_content: JQuery | null = null;
  tabs: Tab[] = [];
  fields_dict: Record<string, any> = {};
  fields_list: any[] = [];
  sections: JQuery[] = [];
  dashboard_parent!: JQuery;

  constructor(opts: { parent: JQuery; frm: any; doctype: string }) {
    this.frm = opts.frm;
    this.doctype = opts.doctype;
    this.wrapper = $('<div class="form-layout">').appendTo(opts.parent);
    this.message = $('<div class="form-message hidden"></div>').appendTo(this.wrapper);
  }

  make(fields: DocField[]): void {
    const has_tabs = fields.some((df) => df.fieldtype === 'Tab Break');
    let list = fields;
    if (has_tabs && fields[0]?.fieldtype !== 'Tab Break') list = [{ fieldtype: 'Tab Break', fieldname: '__details', label: __('Details') }, ...fields];
    let page: JQuery;
    if (has_tabs) {
      this.tabs_list = $('<div class="form-tabs-list"><ul class="nav form-tabs" role="tablist"></ul></div>').appendTo(this.wrapper).find('ul');
      this.tabs_content = $('<div class="form-tab-content tab-content"></div>').appendTo(this.wrapper);
      page = $();
    } else page = $('<div class="form-page"></div>').appendTo(this.wrapper);
    this.dashboard_parent = $('<div class="form-dashboard hidden"></div>');
    if (!has_tabs) page.prepend(this.dashboard_parent);

    let section: JQuery | null = null;
    let column: JQuery | null = null;
    const new_section = (df: DocField | null) => {
      section = $(`<div class="form-section card-section row"></div>`).appendTo(page);
      if (df) {
        section.attr('data-fieldname', df.fieldname);
        if (df.label) $(`<div class="section-head">${__(df.label)}</div>`).appendTo(section);
        this.fields_dict[df.fieldname] = new BreakControl(df, section, this.frm);
      }
      $('<div class="section-body"></div>').appendTo(section);
      this.sections.push(section);
      column = null;
    };
    const new_column = (df: DocField | null) => {
      if (!section) new_section(null);
      column = $('<div class="form-column col"></div>').appendTo(section!.find('.section-body').first());
      if (df) {
        column.attr('data-fieldname', df.fieldname);
        if (df.label) $(`<div class="column-label">${__(df.label)}</div>`).appendTo(column);
        this.fields_dict[df.fieldname] = new BreakControl(df, column, this.frm);
      }
    };

    for (const df of list) {
      if (df.fieldtype === 'Tab Break') {
        const id = `${scrub(this.doctype).replace(/_/g, '-')}-${df.fieldname}`;
        const active = this.tabs.length === 0;
        const link = $(`<li class="nav-item"><a class="nav-link${active ? ' active' : ''}" id="${id}-tab" data-fieldname="${escape_html(df.fieldname)}" href="#${id}" role="tab">${__(df.label || df.fieldname)}</a></li>`).appendTo(this.tabs_list!);
        const pane = $(`<div class="tab-pane form-tab${active ? ' active show' : ''}" id="${id}" role="tabpanel" data-fieldname="${escape_html(df.fieldname)}"></div>`).appendTo(this.tabs_content!);
        page = $('<div class="form-page"></div>').appendTo(pane);
        if (active) page.prepend(this.dashboard_parent);
        const tab: Tab = { df, link, pane };
        this.tabs.push(tab);
        link.find('a').on('click', (e) => {
          e.preventDefault();
          this.set_active_tab(tab);
        });
        if (df.fieldname !== '__details') this.fields_dict[df.fieldname] = new BreakControl(df, pane, this.frm);
        section = null;
        column = null;
        continue;
      }
      if (df.fieldtype === 'Section Break') {
        new_section(df);
        continue;
      }
      if (df.fieldtype === 'Column Break') {
        new_column(df);
        continue;
      }
      if (!column) new_column(null);
      let control: Control | TableControl;
      if (TABLE_FIELDS.includes(df.fieldtype)) control = new TableControl(df, column!, this.frm);
      else control = make_control({ df, parent: column!, frm: this.frm });
      this.fields_dict[df.fieldname] = control;
      this.fields_list.push(control);
    }
  }

  /** layout.js `attach_doc_and_docfields`: controls read and write this doc, through its own docfield copies. */
  attach_doc_and_docfields(doctype: string, docname: string): void {
    for (const [fieldname, f] of Object.entries(this.fields_dict)) {
      const df = get_docfield(doctype, fieldname, docname);
      if (df) f.df = df;
      if (f instanceof Control) {
        f.doctype = doctype;
        f.docname = docname;
      }
    }
  }

  set_active_tab(tab: Tab): void {
    for (const t of this.tabs) {
      const on = t === tab;
      t.link.find('a').toggleClass('active', on);
      t.pane.toggleClass('active show', on);
    }
    this.frm.set_active_tab(tab);
  }

  get_active_tab(): Tab | undefined {
    return this.tabs.find((t) => t.pane.hasClass('active'));
  }

  /**
   * layout.js `refresh_dependency`: evaluate the `*depends_on` expressions of every field;
   * with `refresh_fields`, re-render the fields that have one (after a value changed).
   */
  refresh_dependency(refresh_fields = false): void {
    const doc = this.frm.doc;
    if (!doc) return;
    const dependent: string[] = [];
    for (const df of this.frm.get_docfields()) {
      let has = false;
      for (const [expr, prop, negate] of [
        ['depends_on', 'hidden_due_to_dependency', true],
        ['mandatory_depends_on', 'reqd', false],
        ['read_only_depends_on', 'read_only', false],
      ] as const) {
        if (!df[expr]) continue;
        has = true;
        const expression = String(df[expr]);
        let out: unknown;
        if (typeof df[expr] === 'function') out = df[expr](doc);
        else if (expression.startsWith('eval:')) {
          try {
            out = evaluate(expression.slice(5), { doc, parent: doc });
          } catch {
            out = false;
          }
        } else if (expression.startsWith('fn:')) out = true;
        else {
          const v = doc[expression];
          out = Array.isArray(v) ? v.length > 0 : Boolean(v);
        }
        df[prop] = (negate ? !out : out) ? 1 : 0;
      }
      if (has) dependent.push(df.fieldname);
    }
    if (refresh_fields) for (const fieldname of dependent) this.fields_dict[fieldname]?.refresh();
  }

  refresh(): void {
    this.refresh_dependency();
    for (const f of Object.values(this.fields_dict)) f.refresh();
    this.refresh_sections();
  }

  /** Hide sections and tabs that show no field. */
  refresh_sections(): void {
    for (const section of this.sections) {
      const visible = section.find('.frappe-control:not(.hide-control)').length > 0;
      section.toggleClass('empty-section', !visible).toggleClass('visible-section', visible);
    }
    for (const tab of this.tabs) {
      const visible = tab.pane.find('.frappe-control:not(.hide-control)').length > 0;
      tab.link.toggleClass('hide', !visible);
    }
    const active = this.get_active_tab();
    if (active && active.link.hasClass('hide')) {
      const first = this.tabs.find((t) => !t.link.hasClass('hide'));
      if (first) this.set_active_tab(first);
    }
  }

  /** layout.js `show_message(html, color)`. */
  show_message(html?: string, color?: string): void {
    if (this.message_color) this.message.removeClass(this.message_color);
    this.message_color = color && ['yellow', 'blue', 'red', 'green', 'orange'].includes(color) ? color : 'blue';
    if (html) {
      let h = html;
      if (!h.startsWith('<')) h = `<div>${h}</div>`;
      this.message.removeClass('hidden').addClass(this.message_color);
      $(h).appendTo(this.message);
      const close = $('<div class="close-message">×</div>').appendTo(this.message);
      close.on('click', () => this.message.empty().addClass('hidden'));
    } else this.message.empty().addClass('hidden');
  }
}
