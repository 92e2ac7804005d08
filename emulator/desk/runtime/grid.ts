/**
 * The child-table grid of a Table field: frappe/public/js/frappe/form/grid.js, grid_row.js,
 * grid_pagination.js [v15], reduced to what a form preview needs.
 *
 * - Columns: the child DocType's `in_list_view` fields (not hidden, readable at their
 *   permlevel, not layout fields), sized by `columns` or 2 (Small Text 3, Check 1) while the
 *   total stays within 11 of 12, plus the row index and a select checkbox.
 * - Cells: `.grid-row[data-name][data-idx] > .data-row > .grid-static-col[data-fieldname]
 *   > .static-area`, filled by `frappe.format(value, df, null, doc)` with the *row's* docfield.
 * - Docfields: the grid's template is `frappe.meta.get_docfields(child, frm.docname)`; each row
 *   gets its own copy (`get_docfields(child, row.name, null, template)`), made once per row
 *   name. `update_docfield_property(field, prop, value)` sets it on every rendered row's copy and
 *   on the template (so rows added or rendered later inherit it), then refreshes (debounced
 *   100 ms). Before the grid has rendered (`grid_rows` unset) it does nothing, as in Frappe.
 * - Paging: the child DocType's `grid_page_length` or 50 rows a page; `.grid-pagination` holds First / ‹ / page input / of N / › / Last
 *   when there are more rows than that.
 * - Editing: with the child DocType's `editable_grid` and a writable Table field, a click on a
 *   row turns it into inputs (read-only columns stay static); a change calls
 *   `frappe.model.set_value` → the form marks itself dirty, re-renders the cell through the
 *   formatter and triggers the child event. Clicking elsewhere puts the row back to static.
 *   Without `editable_grid` a click opens the row form (`form_render` event).
 * - Add Row triggers `<table>_add`; Delete (selected rows) `before_<table>_remove` +
 *   `<table>_remove`.
 */
import $ from 'jquery';
import { __, frappe, locals, type Doc, type DocField } from './globals.js';
import { make_control, get_field_display_status, type Control } from './controls.js';
import { format } from './format.js';
import { LAYOUT_FIELDS, NO_VALUE_TYPES, add_child, clear_doc, get_docfield, get_docfields } from './model.js';
import { debounce, evaluate, icon, run_serially, timeout } from './utils.js';

let editable_row: GridRow | null = null;
let open_grid_row: GridRow | null = null;

export function close_grid_form(): void {
  open_grid_row?.toggle_view(false);
  editable_row?.toggle_editable_row(false);
}

type Column = JQuery & { df: DocField; static_area: JQuery; field_area: JQuery; field?: Control; column_index: number };

export class GridPagination {
  grid: Grid;
  wrapper: JQuery;
  page_length = 50;
  page_index = 1;
  total_pages: number;
  $page_number: JQuery | null = null;

  constructor(opts: { grid: Grid; wrapper: JQuery }) {
    this.grid = opts.grid;
    this.wrapper = opts.wrapper;
    // DocType `grid_page_length` (later v15 patches), else 50.
    this.page_length = Number(this.grid.meta?.grid_page_length) || 50;
    this.total_pages = Math.ceil(this.grid.data.length / this.page_length);
    this.render_pagination();
  }

  render_pagination(): void {
    const area = this.wrapper.find('.grid-pagination');
    if (this.grid.data.length <= this.page_length) {
      area.html('');
      this.$page_number = null;
      return;
    }
    area.html(`<button class="btn btn-secondary btn-xs first-page"><span>${__('First')}</span></button>
      <button class="btn btn-secondary btn-xs prev-page">${icon('left', 'xs')}<span class="sr-text">‹</span></button>
      <div class="page-text">
        <input class="current-page-number page-number" type="text" value="${this.page_index}"/>
        <span>${__('of')}</span>
        <span class="total-page-number page-number"> ${this.total_pages} </span>
      </div>
      <button class="btn btn-secondary btn-xs next-page">${icon('right', 'xs')}<span class="sr-text">›</span></button>
      <button class="btn btn-secondary btn-xs last-page"><span>${__('Last')}</span></button>`);
    this.$page_number = area.find('.current-page-number');
    area.find('.prev-page').on('click', () => this.render_prev_page());
    area.find('.next-page').on('click', () => this.render_next_page());
    area.find('.first-page').on('click', () => this.go_to_page(1));
    area.find('.last-page').on('click', () => this.go_to_page(this.total_pages));
    this.$page_number.on('focusout', (e) => {
      const v = parseInt((e.currentTarget as HTMLInputElement).value, 10);
      if (this.page_index === v) return;
      this.page_index = Math.min(Math.max(Number.isNaN(v) ? 1 : v, 1), this.total_pages);
      this.go_to_page();
    });
  }

  update_page_numbers(): void {
    const total = Math.ceil(this.grid.data.length / this.page_length);
    if (this.total_pages !== total) {
      this.total_pages = total;
      this.render_pagination();
    }
  }

  check_page_number(): void {
    if (this.page_index > this.total_pages && this.page_index > 1) this.go_to_page(this.page_index - 1);
  }

  render_next_page(): void {
    if (this.page_index * this.page_length < this.grid.data.length) {
      this.page_index++;
      this.go_to_page();
    }
  }

  render_prev_page(): void {
    if (this.page_index > 1) {
      this.page_index--;
      this.go_to_page();
    }
  }

  go_to_page(index?: number, _from_refresh = false): void {
    if (!index) index = this.page_index;
    else this.page_index = index;
    const $rows = this.grid.wrapper.find('.rows').empty();
    this.grid.render_result_rows($rows, true);
    this.$page_number?.val(String(index));
    this.update_page_numbers();
  }

  go_to_last_page_to_add_row(): void {
    if (this.grid.data.length === this.page_length * this.total_pages) this.go_to_page(this.total_pages + 1);
    else if (this.page_index !== this.total_pages) this.go_to_page(this.total_pages);
  }

  get_result_length(): number {
    return Math.min(this.grid.data.length, this.page_index * this.page_length);
  }
}

export class GridRow {
  grid: Grid;
  frm: any;
  doc: Doc | null;
  parent: JQuery;
  parent_df: DocField;
  docfields: DocField[];
  header_row: boolean;
  wrapper: JQuery;
  row: JQuery;
  columns: Record<string, Column> = {};
  columns_list: Column[] = [];
  on_grid_fields_dict: Record<string, Control> = {};
  row_check?: JQuery;
  row_index?: JQuery;
  grid_form: JQuery | null = null;
  grid_form_fields: Record<string, Control> = {};

  constructor(opts: { parent: JQuery; parent_df: DocField; docfields: DocField[]; frm: any; grid: Grid; doc?: Doc | null; header_row?: boolean }) {
    this.grid = opts.grid;
    this.frm = opts.frm;
    this.doc = opts.doc ?? null;
    this.parent = opts.parent;
    this.parent_df = opts.parent_df;
    this.docfields = opts.docfields;
    this.header_row = Boolean(opts.header_row);
    this.set_docfields();
    this.wrapper = $('<div class="grid-row"></div>');
    this.row = $('<div class="data-row row"></div>')
      .appendTo(this.wrapper)
      .on('click', (e) => {
        const t = $(e.target);
        if (t.hasClass('grid-row-check') || t.hasClass('row-index') || t.parent().hasClass('row-index')) return undefined;
        if (this.grid.allow_on_grid_editing() && this.grid.is_editable()) return undefined;
        if (!this.doc) return undefined;
        this.toggle_view();
        return false;
      });
    this.render_row();
    this.wrapper.data({ grid_row: this, doc: this.doc || '' });
    this.wrapper.appendTo(this.parent);
  }

  set_docfields(): void {
    if (this.doc && this.parent_df.options) this.docfields = get_docfields(this.parent_df.options, this.doc.name, null, this.grid.docfields);
  }

  set_row_index(): void {
    if (this.doc) {
      this.wrapper.attr('data-name', this.doc.name).attr('data-idx', this.doc.idx);
      this.wrapper.find('.row-index span').html(String(this.doc.idx));
    }
  }

  select(checked: boolean): void {
    if (this.doc) this.doc.__checked = checked ? 1 : 0;
  }

  refresh_check(): void {
    this.wrapper.find('.grid-row-check').prop('checked', this.doc ? Boolean(this.doc.__checked) : false);
  }

  render_row(): void {
    this.set_row_index();
    if (!this.row_index) {
      const txt = this.doc ? this.doc.idx : __('No.', null, "Title of the 'row number' column");
      this.row_check = $(`<div class="row-check sortable-handle col"><input type="checkbox" class="grid-row-check" tabindex="-1"></div>`).appendTo(this.row);
      this.row_index = $(`<div class="row-index sortable-handle col"><span>${txt}</span></div>`)
        .appendTo(this.row)
        .on('click', (e) => {
          if (!$(e.target).hasClass('grid-row-check') && this.doc) this.toggle_view();
        });
    }
    this.setup_columns();
    if (this.doc && !this.row.find('.btn-open-row').length) {
      $(`<div class="col"><div class="btn-open-row" title="${__('Edit', '', 'Edit grid row')}"><a>${icon('edit', 'xs')}<span class="sr-text">✎</span></a></div></div>`)
        .appendTo(this.row)
        .find('.btn-open-row')
        .on('click', () => {
          this.toggle_view();
          return false;
        });
    } else if (!this.doc && !this.row.find('.grid-static-col.col-configure').length) {
      $('<div class="col grid-static-col col-configure"></div>').appendTo(this.row);
    }
    this.refresh_check();
    if (this.frm && this.doc) $(this.frm.wrapper).trigger('grid-row-render', [this]);
  }

  setup_columns(): void {
    this.grid.setup_visible_columns();
    this.grid.visible_columns.forEach(([col_df, colsize], ci) => {
      const df = this.docfields.find((f) => f?.fieldname === col_df.fieldname) ?? col_df;
      this.set_dependant_property(df);
      let txt = this.doc ? format(this.doc[df.fieldname], df, null, this.doc) : __(df.label, null, df.parent);
      if (this.doc && df.fieldtype === 'Select') txt = __(txt);
      let column: Column;
      if (!this.columns[df.fieldname]) column = this.make_column(df, colsize, txt, ci);
      else {
        column = this.columns[df.fieldname];
        this.refresh_field(df.fieldname, txt);
      }
      if (this.doc) {
        if (df.reqd && !txt) column.addClass('error');
        if (df.reqd || df.bold) column.addClass('bold');
      }
    });
  }

  set_dependant_property(df: DocField): boolean {
    let changed = false;
    for (const { expr, prop, negate } of [
      { expr: 'depends_on', prop: 'hidden_due_to_dependency', negate: true },
      { expr: 'mandatory_depends_on', prop: 'reqd', negate: false },
      { expr: 'read_only_depends_on', prop: 'read_only', negate: false },
    ]) {
      if (!df[expr] || !this.doc) continue;
      const expression = String(df[expr]);
      let out: unknown;
      if (expression.startsWith('eval:')) {
        try {
          out = evaluate(expression.slice(5), { doc: this.doc, parent: this.frm ? this.frm.doc : this.doc });
        } catch {
          out = false;
        }
      } else out = Boolean(this.doc[expression]);
      const v = (negate ? !out : out) ? 1 : 0;
      changed ||= df[prop] !== v;
      df[prop] = v;
    }
    return changed;
  }

  make_column(df: DocField, colsize: number, txt: unknown, ci: number): Column {
    let add_class = ['Text', 'Small Text'].includes(df.fieldtype) ? ' grid-overflow-no-ellipsis' : '';
    add_class += ['Int', 'Currency', 'Float', 'Percent'].includes(df.fieldtype) ? ' text-right' : '';
    add_class += df.fieldtype === 'Check' ? ' text-center' : '';
    const $col = $(`<div class="col grid-static-col col-xs-${colsize}${add_class}"></div>`)
      .attr('data-fieldname', df.fieldname)
      .attr('data-fieldtype', df.fieldtype)
      .data('df', df)
      .appendTo(this.row) as Column;
    $col.on('click', () => {
      let out: unknown;
      if (editable_row !== this) out = this.toggle_editable_row();
      const input = $col.find('input[type="text"]:visible, select:visible, textarea:visible').first();
      if (input.length && !input.is(':focus')) input.trigger('focus');
      return out;
    });
    $col.field_area = $('<div class="field-area"></div>').appendTo($col).toggle(false);
    $col.static_area = $('<div class="static-area ellipsis"></div>').appendTo($col).html(String(txt ?? ''));
    if (!this.doc) $col.attr('title', String(txt ?? ''));
    if (df.fieldname) $col.static_area.toggleClass('reqd', Boolean(df.reqd));
    $col.df = df;
    $col.column_index = ci;
    this.columns[df.fieldname] = $col;
    this.columns_list.push($col);
    return $col;
  }

  /** Inline editing (grid_row.js `toggle_editable_row`). */
  toggle_editable_row(show?: boolean): false | undefined {
    if (this.grid.allow_on_grid_editing() && this.grid.is_editable() && this.doc && show !== false) {
      if (editable_row && editable_row !== this) editable_row.toggle_editable_row(false);
      this.row.toggleClass('editable-row', true);
      for (const column of this.columns_list) {
        this.make_control(column);
        column.static_area.toggle(false);
        column.field_area.toggle(true);
      }
      editable_row = this;
      return false;
    }
    this.row.toggleClass('editable-row', false);
    for (const column of this.columns_list) {
      if (!column.df.hidden) column.static_area.toggle(true);
      column.field_area?.toggle(false);
    }
    if (editable_row === this) editable_row = null;
    return undefined;
  }

  make_control(column: Column): void {
    if (column.field || !this.doc) return;
    const df = column.df;
    const field = make_control({
      df,
      parent: column.field_area,
      only_input: true,
      frm: this.grid.frm,
      doctype: this.doc.doctype,
      docname: this.doc.name,
      grid: this.grid,
      grid_row: this,
    });
    field.get_query = this.grid.get_field(df.fieldname).get_query;
    field.refresh();
    field.$input?.addClass('input-sm').attr('data-col-idx', column.column_index).attr('placeholder', __(df.placeholder || df.label));
    column.field = field;
    this.on_grid_fields_dict[df.fieldname] = field;
  }

  refresh(): void {
    if (this.frm && this.doc) this.doc = locals[this.doc.doctype]?.[this.doc.name] ?? this.doc;
    this.render_row();
    for (const field of Object.values(this.grid_form_fields)) {
      field.docname = this.doc?.name ?? field.docname;
      field.refresh();
    }
  }

  /** grid_row.js `refresh_field(fieldname, txt)`: re-format the cell with this row's docfield. */
  refresh_field(fieldname: string, txt?: unknown): void {
    const df = this.docfields.find((f) => f?.fieldname === fieldname);
    if (df && this.doc) txt = format(this.doc[fieldname], df, null, this.doc);
    if (!txt && this.frm && this.doc) txt = format(this.doc[fieldname], df, null, this.frm.doc);
    const column = this.columns[fieldname];
    if (column) {
      column.static_area.html(String(txt ?? ''));
      if (df && df.reqd) column.toggleClass('error', txt === null || txt === '');
    }
    const field = this.on_grid_fields_dict[fieldname];
    if (field) {
      if (this.doc) field.docname = this.doc.name;
      field.refresh();
    }
    this.grid_form_fields[fieldname]?.refresh();
  }

  get_field(fieldname: string): Control {
    const field = this.on_grid_fields_dict[fieldname] ?? this.grid_form_fields[fieldname];
    if (field) return field;
    throw `fieldname ${fieldname} not found`;
  }

  /** The row form (grid_row_form.js), opened by the edit button or a click on a non-editable grid. */
  toggle_view(show?: boolean, callback?: () => void): this {
    if (!this.doc) return this;
    if (this.frm) this.doc = locals[this.doc.doctype]?.[this.doc.name] ?? this.doc;
    if (show === undefined) show = open_grid_row !== this;
    if (show && open_grid_row && open_grid_row !== this) open_grid_row.toggle_view(false);
    if (show) this.show_form();
    else this.hide_form();
    callback?.();
    return this;
  }

  show_form(): void {
    if (!this.doc) return;
    if (!this.grid_form) {
      this.grid_form = $(`<div class="grid-form form-in-grid">
          <div class="grid-form-heading"><span class="grid-form-title">${__('Editing Row')} #<span class="grid-form-row-index"></span></span>
            <button class="btn btn-secondary btn-xs grid-collapse-row">${__('Collapse')}</button></div>
          <div class="grid-form-body"></div>
        </div>`).appendTo(this.wrapper);
      this.grid_form.find('.grid-collapse-row').on('click', () => {
        this.toggle_view(false);
        return false;
      });
      const body = this.grid_form.find('.grid-form-body');
      for (const df of this.docfields) {
        if (!df.fieldname || LAYOUT_FIELDS.includes(df.fieldtype) || (NO_VALUE_TYPES.includes(df.fieldtype) && !['HTML', 'Button'].includes(df.fieldtype))) continue;
        const field = make_control({ df, parent: body, frm: this.frm, doctype: this.doc.doctype, docname: this.doc.name, grid: this.grid, grid_row: this });
        this.grid_form_fields[df.fieldname] = field;
      }
    }
    this.grid_form.find('.grid-form-row-index').text(String(this.doc.idx));
    for (const f of Object.values(this.grid_form_fields)) {
      f.docname = this.doc.name;
      f.refresh();
    }
    this.grid_form.css('display', 'block');
    this.row.toggle(false);
    this.wrapper.addClass('grid-row-open');
    open_grid_row = this;
    if (this.frm) {
      this.frm.cur_grid = this;
      this.frm.script_manager.trigger(`${this.doc.parentfield}_on_form_rendered`);
      this.frm.script_manager.trigger('form_render', this.doc.doctype, this.doc.name);
    }
  }

  hide_form(): void {
    this.row.toggle(true);
    this.refresh();
    if (this.frm) this.frm.cur_grid = null;
    this.grid_form?.css('display', 'none');
    this.wrapper.removeClass('grid-row-open');
    if (open_grid_row === this) open_grid_row = null;
  }

  remove(): void {
    if (!this.grid.is_editable() || !this.doc) return;
    if (open_grid_row === this) this.hide_form();
    const doc = this.doc;
    const table = this.grid.df.fieldname;
    run_serially([
      () => this.frm.script_manager.trigger(`before_${table}_remove`, doc.doctype, doc.name),
      () => {
        clear_doc(doc.doctype, doc.name);
        this.frm.script_manager.trigger(`${table}_remove`, doc.doctype, doc.name);
        this.frm.dirty();
        this.grid.refresh();
      },
    ]).catch((e) => console.trace(e));
  }
}

export class Grid {
  frm: any;
  df: DocField;
  parent: JQuery;
  doctype: string;
  meta: Doc | null;
  control: any;
  wrapper!: JQuery;
  form_grid!: JQuery;
  data: Doc[] = [];
  docfields: DocField[] = [];
  fields_map: Record<string, DocField> = {};
  fieldinfo: Record<string, Record<string, unknown>> = {};
  grid_rows: GridRow[] | undefined;
  grid_rows_by_docname: Record<string, GridRow> = {};
  grid_pagination!: GridPagination;
  visible_columns: [DocField, number][] = [];
  header_row: GridRow | null = null;
  display_status: 'Write' | 'Read' | 'None' = 'Write';
  custom_buttons: Record<string, JQuery> = {};
  grid_buttons!: JQuery;
  grid_custom_buttons!: JQuery;
  remove_rows_button!: JQuery;
  cannot_add_rows = false;
  is_grid = true;
  debounced_refresh: () => void;

  constructor(opts: { frm: any; df: DocField; parent: JQuery; control?: any }) {
    this.frm = opts.frm;
    this.df = opts.df;
    this.parent = opts.parent;
    this.control = opts.control;
    this.doctype = this.df.options;
    this.meta = frappe.get_meta(this.doctype);
    this.debounced_refresh = debounce(() => this.refresh(), 100);
  }

  get perm(): any {
    return this.frm?.perm;
  }

  allow_on_grid_editing(): boolean {
    return Boolean(!this.meta || this.meta.editable_grid);
  }

  is_editable(): boolean {
    return this.display_status === 'Write';
  }

  make(): void {
    this.wrapper = $(`<div class="grid-field">
        <label class="control-label">${__(this.df.label || '')}</label>
        <p class="text-muted small grid-description"></p>
        <div class="grid-custom-buttons"></div>
        <div class="form-grid-container">
          <div class="form-grid">
            <div class="grid-heading-row"></div>
            <div class="grid-body">
              <div class="rows"></div>
              <div class="grid-empty text-center">${__('No Data')}</div>
            </div>
          </div>
        </div>
        <div class="small form-clickable-section grid-footer">
          <div class="flex justify-between">
            <div class="grid-buttons">
              <button type="button" class="btn btn-xs btn-danger grid-remove-rows hidden" data-action="delete_rows">${__('Delete')}</button>
              <button type="button" class="btn btn-xs btn-secondary grid-add-row">${__('Add Row')}</button>
            </div>
            <div class="grid-pagination"></div>
          </div>
        </div>
      </div>`).appendTo(this.parent);
    const desc = this.wrapper.find('.grid-description');
    if (this.df.description) desc.html(__(this.df.description));
    else desc.hide();
    this.form_grid = this.wrapper.find('.form-grid');
    this.grid_buttons = this.wrapper.find('.grid-buttons');
    this.grid_custom_buttons = this.wrapper.find('.grid-custom-buttons');
    this.remove_rows_button = this.grid_buttons.find('.grid-remove-rows');
    this.remove_rows_button.on('click', () => this.delete_rows());
    this.wrapper.find('.grid-add-row').on('click', () => {
      this.add_new_row(null, null, true, null, true);
      return false;
    });
    this.grid_pagination = new GridPagination({ grid: this, wrapper: this.wrapper });
    this.wrapper.on('click', '.grid-row-check', (e) => {
      const $check = $(e.currentTarget);
      const checked = Boolean($check.prop('checked'));
      if ($check.parents('.grid-heading-row:first').length) {
        this.form_grid.find('.grid-body .grid-row-check').prop('checked', checked);
        const { page_index, page_length } = this.grid_pagination;
        for (let ri = (page_index - 1) * page_length; ri < this.grid_pagination.get_result_length(); ri++) this.grid_rows?.[ri]?.select(checked);
      } else {
        const docname = $check.parents('.grid-row:first').attr('data-name');
        if (docname) this.grid_rows_by_docname[docname]?.select(checked);
      }
      this.refresh_remove_rows_button();
    });
  }

  get_data(): Doc[] {
    return (this.frm ? this.frm.doc[this.df.fieldname] : this.df.data) || [];
  }

  setup_fields(): void {
    if (this.frm && this.frm.docname) this.df = get_docfield(this.frm.doctype, this.df.fieldname, this.frm.docname) ?? this.df;
    this.docfields = this.doctype && this.frm ? get_docfields(this.doctype, this.frm.docname) : this.df.fields ?? [];
    for (const df of this.docfields) this.fields_map[df.fieldname] = df;
  }

  refresh(): void {
    if (this.frm && this.frm.setting_dependency) return;
    this.data = this.get_data();
    if (!this.wrapper) this.make();
    const $rows = this.wrapper.find('.rows');
    this.setup_fields();
    this.display_status = this.frm ? get_field_display_status(this.df, this.frm.doc, this.frm.perm) : 'Write';
    if (this.display_status === 'None') return;
    this.make_head();
    this.grid_rows ??= [];
    this.truncate_rows();
    this.grid_rows_by_docname = {};
    this.grid_pagination.update_page_numbers();
    this.render_result_rows($rows, false);
    this.grid_pagination.check_page_number();
    this.wrapper.find('.grid-empty').toggleClass('hidden', Boolean(this.data.length));
    this.setup_toolbar();
    this.wrapper.find('.grid-row-check').prop('disabled', this.display_status === 'Read');
    this.form_grid.toggleClass('error', Boolean(this.df.reqd && !this.data.length));
    this.refresh_remove_rows_button();
    this.wrapper.trigger('change');
  }

  make_head(): void {
    if (this.header_row) this.wrapper.find('.grid-heading-row .grid-row').remove();
    this.header_row = new GridRow({ parent: this.wrapper.find('.grid-heading-row'), parent_df: this.df, docfields: this.docfields, frm: this.frm, grid: this, header_row: true });
  }

  truncate_rows(): void {
    const rows = this.grid_rows!;
    if (rows.length > this.data.length) {
      for (let i = this.data.length; i < rows.length; i++) rows[i]?.wrapper.remove();
      rows.splice(this.data.length);
    }
  }

  render_result_rows($rows: JQuery, append_row: boolean): void {
    if (!this.grid_rows) return;
    const { page_index, page_length } = this.grid_pagination;
    const end = this.grid_pagination.get_result_length();
    for (let ri = (page_index - 1) * page_length; ri < end; ri++) {
      const d = this.data[ri];
      if (!d) return;
      if (d.idx === undefined) d.idx = ri + 1;
      if (d.name === undefined) d.name = `row ${d.idx}`;
      let grid_row: GridRow;
      if (this.grid_rows[ri] && !append_row) {
        grid_row = this.grid_rows[ri];
        grid_row.doc = d;
        grid_row.refresh();
      } else {
        grid_row = new GridRow({ parent: $rows, parent_df: this.df, docfields: this.docfields, doc: d, frm: this.frm, grid: this });
        this.grid_rows[ri] = grid_row;
      }
      this.grid_rows_by_docname[d.name] = grid_row;
    }
  }

  setup_visible_columns(): void {
    if (this.visible_columns && this.visible_columns.length > 0) return;
    this.visible_columns = [];
    let total = 1;
    for (const f of this.docfields) {
      const df = this.fields_map[f.fieldname];
      if (!df || df.hidden || !df.in_list_view || LAYOUT_FIELDS.includes(df.fieldtype)) continue;
      if (this.frm && !this.frm.get_perm(df.permlevel || 0, 'read')) continue;
      df.colsize = df.columns ? Number(df.columns) : df.fieldtype === 'Small Text' ? 3 : df.fieldtype === 'Check' ? 1 : 2;
      total += df.colsize;
      if (total > 11) break;
      this.visible_columns.push([df, df.colsize]);
    }
    let passes = 0;
    while (total < 11 && passes < 12) {
      for (const col of this.visible_columns) {
        const df = col[0];
        if (col[1] > 1 && col[1] < 11 && !['name', 'idx'].includes(df.fieldname)) {
          if (passes < 3 && ['Int', 'Currency', 'Float', 'Check', 'Percent'].includes(df.fieldtype)) continue;
          col[1] += 1;
          total++;
        }
        if (total > 10) break;
      }
      passes++;
    }
  }

  setup_toolbar(): void {
    const editable = this.is_editable();
    if (editable) {
      this.wrapper.find('.grid-footer').toggle(true);
      this.wrapper.find('.grid-add-row').toggleClass('hidden', Boolean(this.cannot_add_rows || this.df.cannot_add_rows));
    } else if ((this.grid_rows?.length ?? 0) < this.grid_pagination.page_length && !this.df.allow_bulk_edit) {
      this.wrapper.find('.grid-footer').toggle(false);
    }
    this.wrapper.find('.grid-add-row').toggle(editable);
  }

  refresh_remove_rows_button(): void {
    if (this.df.cannot_delete_rows) return;
    this.remove_rows_button.toggleClass('hidden', !this.wrapper.find('.grid-body .grid-row-check:checked:first').length);
  }

  get_selected(): string[] {
    return (this.grid_rows || []).map((r) => (r.doc?.__checked ? r.doc.name : null)).filter(Boolean) as string[];
  }

  get_selected_children(): Doc[] {
    return (this.data || []).filter((row) => row.__checked);
  }

  delete_rows(): void {
    const tasks: (() => unknown)[] = [];
    let dirty = false;
    for (const doc of this.get_selected_children()) {
      tasks.push(() => {
        this.grid_rows_by_docname[doc.name]?.remove();
        dirty = true;
      });
      tasks.push(() => timeout(0.1));
    }
    tasks.push(() => {
      if (dirty) {
        this.refresh();
        this.frm?.script_manager.trigger(`${this.df.fieldname}_delete`, this.doctype);
      }
    });
    run_serially(tasks);
    this.wrapper.find('.grid-heading-row .grid-row-check:checked:first').prop('checked', false);
  }

  add_new_row(idx?: number | null, callback?: (() => void) | null, show?: boolean, _copy_doc?: Doc | null, go_to_last_page = false): Doc | undefined {
    if (!this.is_editable()) return undefined;
    if (go_to_last_page) this.grid_pagination.go_to_last_page_to_add_row();
    const d = add_child(this.frm.doc, this.df.options, this.df.fieldname, idx);
    d.__unedited = true;
    this.frm.script_manager.trigger(`${this.df.fieldname}_add`, d.doctype, d.name);
    this.refresh();
    if (show && !this.allow_on_grid_editing()) this.grid_rows_by_docname[d.name]?.toggle_view(true, callback ?? undefined);
    return d;
  }

  set_value(fieldname: string, _value: unknown, doc: Doc): void {
    if (this.display_status !== 'None' && doc?.name && this.grid_rows_by_docname?.[doc.name]) this.grid_rows_by_docname[doc.name].refresh_field(fieldname);
  }

  refresh_row(docname: string): void {
    this.grid_rows_by_docname[docname]?.refresh();
  }

  get_docfield(fieldname: string): DocField | undefined {
    return get_docfield(this.doctype, fieldname, this.frm ? this.frm.docname : null);
  }

  /** `grid.get_field(fieldname)`: the shared fieldinfo object (holds `get_query`), not a control. */
  get_field(fieldname: string): Record<string, unknown> {
    return (this.fieldinfo[fieldname] ??= {});
  }

  get_row(key: number | string): GridRow | undefined {
    if (typeof key === 'number') return key < 0 ? this.grid_rows?.[this.grid_rows.length + key] : this.grid_rows?.[key];
    return this.grid_rows_by_docname[key];
  }

  get_grid_row(key: number | string): GridRow | undefined {
    return this.get_row(key);
  }

  update_docfield_property(fieldname: string, property: string, value: unknown): void {
    if (!this.grid_rows) return;
    for (const row of this.grid_rows) {
      const docfield = row?.docfields?.find((d) => d.fieldname === fieldname);
      if (docfield) docfield[property] = value;
      else throw `field ${fieldname} not found`;
    }
    const template = this.docfields.find((d) => d.fieldname === fieldname);
    if (template) template[property] = value;
    this.debounced_refresh();
  }

  toggle_reqd(fieldname: string, reqd: unknown): void {
    this.update_docfield_property(fieldname, 'reqd', reqd);
    this.debounced_refresh();
  }

  toggle_enable(fieldname: string, enable: unknown): void {
    this.update_docfield_property(fieldname, 'read_only', enable ? 0 : 1);
    this.debounced_refresh();
  }

  /** Hiding or showing a column re-computes the visible columns (so the change shows at once). */
  toggle_display(fieldname: string, show: unknown): void {
    this.update_docfield_property(fieldname, 'hidden', show ? 0 : 1);
    this.visible_columns = [];
    for (const row of this.grid_rows ?? []) row.wrapper.remove();
    this.grid_rows = [];
    this.debounced_refresh();
  }

  set_column_disp(fieldname: string | string[], show: unknown): void {
    for (const f of Array.isArray(fieldname) ? fieldname : [fieldname]) this.toggle_display(f, show);
  }

  reset_grid(): void {
    this.visible_columns = [];
    this.grid_rows = [];
    this.wrapper.find('.grid-body .grid-row').remove();
    this.refresh();
  }

  add_custom_button(label: string, click: () => unknown, position = 'bottom'): JQuery {
    const $wrapper = position === 'top' ? this.grid_custom_buttons : this.grid_buttons;
    let $btn = this.custom_buttons[label];
    if (!$btn) {
      $btn = $('<button type="button" class="btn btn-secondary btn-xs btn-custom">').html(__(label)).prependTo($wrapper).on('click', click);
      this.custom_buttons[label] = $btn;
    } else $btn.removeClass('hidden');
    return $btn;
  }

  clear_custom_buttons(): void {
    this.grid_buttons.find('.btn-custom').addClass('hidden');
  }

  only_sortable(): void {
    /* rows are not draggable in the preview */
  }

  scroll_to_top(): void {
    this.wrapper.get(0)?.scrollIntoView?.();
  }
}

export function install_grid(): void {
  frappe.ui.form.get_open_grid_form = () => open_grid_row;
  frappe.ui.form.close_grid_form = close_grid_form;
  Object.defineProperty(frappe.ui.form, 'editable_row', { get: () => editable_row, configurable: true });
  frappe.ui.form.Grid = Grid;
  frappe.ui.form.GridRow = GridRow;
  // A click outside the row being edited puts it back to static cells.
  $(document).on('click', (e) => {
    if (!editable_row) return;
    if ($(e.target).closest('.grid-row').get(0) === editable_row.wrapper.get(0)) return;
    if (!document.body.contains(e.target as Node)) return;
    editable_row.toggle_editable_row(false);
  });
}
