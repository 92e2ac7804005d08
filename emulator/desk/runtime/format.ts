/**
 * `frappe.format(value, df, options, doc)` and `frappe.form.formatters` as in
 * frappe/public/js/frappe/form/formatters.js [v15]: `df.formatter` wins, else the formatter of
 * the fieldtype without spaces (`frappe.form.get_formatter`), falling back to `Data`; string
 * results pass `frappe.dom.remove_script_and_style`. Numbers right-align in
 * `<div style='text-align: right'>` unless `options.inline` / `options.only_value`; `Data`
 * consults `frappe.meta.docfield_map[df.parent][df.fieldname].formatter`
 * (`_apply_custom_formatter`); Link renders `<a href="/app/<slug>/<value>">` when the user can
 * read the target DocType.
 *
 * Deviation: text values (Data, Select, Link labels, Text, Small Text, Long Text, …) are
 * HTML-escaped here. Frappe escapes on the way in (it sanitises HTML in text fields when a
 * document is saved), so its formatters can print values raw; the emulator stores what it is
 * given, so the preview escapes when it prints.
 */
import { __, frappe } from './globals.js';
import { get_field_currency } from './model.js';
import {
  cint,
  cstr,
  escape_html,
  flt,
  format_currency,
  format_number,
  get_formatted_duration,
  icon,
  is_null,
  remove_script_and_style,
  replace_newlines,
  slug,
  str_to_user,
} from './utils.js';

type Formatter = (value: any, df: any, options?: any, doc?: any) => any;

function right(value: unknown, options?: any): string {
  if (options && (options.inline || options.only_value)) return String(value);
  return `<div style='text-align: right'>${value}</div>`;
}

function apply_custom_formatter(value: unknown, df: any): unknown {
  if (df) {
    const std = frappe.meta.docfield_map?.[df.parent]?.[df.fieldname];
    if (std && typeof std.formatter === 'function') return std.formatter(value, df);
  }
  return value;
}

const formatters: Record<string, Formatter> = {
  _right: right,
  _apply_custom_formatter: apply_custom_formatter,
  Data(value, df) {
    if (df && df.options === 'URL') {
      if (!value) return undefined;
      const v = escape_html(value);
      return `<a href="${v}" title="Open Link" target="_blank">${v}</a>`;
    }
    const v = value === null || value === undefined ? '' : escape_html(value);
    return apply_custom_formatter(v, df);
  },
  Autocomplete(value, df) {
    return __(formatters.Data(value, df));
  },
  Select(value, df) {
    return __(formatters.Data(value, df));
  },
  Float(value, df, options, doc) {
    if (value === null) return '';
    let precision: number | null = df.precision || cint(frappe.boot?.sysdefaults?.float_precision) || null;
    if (df.options && String(df.options).trim()) {
      df.precision = precision;
      return formatters.Currency(value, df, options, doc);
    }
    if (!(options || {}).always_show_decimals && !is_null(value)) {
      const decimals = cstr(value).split('.')[1];
      if (decimals === undefined || cint(decimals) === 0) precision = 0;
    }
    const v = value === null || value === undefined || value === '' ? '' : value;
    return right(v === '' ? '' : format_number(v, null, precision), options);
  },
  Int(value, df, options) {
    if (value === null) return '';
    if (cstr(df.options).trim() === 'File Size') return formatters.FileSize(value, df);
    return right(value === null || value === undefined ? '' : cint(value), options);
  },
  Percent(value, df, options) {
    if (value === null) return '';
    const precision = df.precision || cint(frappe.boot?.sysdefaults?.float_precision) || 2;
    return right(`${format_number(value, null, precision)}%`, options);
  },
  Currency(value, df, options, doc) {
    if (value === null) return '';
    const currency = get_field_currency(df, doc);
    let precision: number;
    if (typeof df.precision === 'number') precision = df.precision;
    else precision = cint(df.precision || frappe.boot?.sysdefaults?.currency_precision || 2);
    const v = value === undefined || value === '' ? '' : value;
    const out = v === '' ? '' : format_currency(flt(v), currency, precision);
    if (options && options.only_value) return out;
    return right(out, options);
  },
  Check(value) {
    return `<input type="checkbox" disabled class="disabled-${value ? 'selected' : 'deselected'}">`;
  },
  Link(value, df, options, doc) {
    const doctype = df._options || df.options;
    const original = value;
    if (options && (options.for_print || options.only_value)) return escape_html(value);
    let label = value;
    if (frappe.form.link_formatters[doctype] && doc && doctype !== doc.doctype) label = frappe.form.link_formatters[doctype](value, doc, df);
    if (!value) return '';
    if (df && df.link_onclick) {
      return `<a onclick="${String(df.link_onclick).replace(/"/g, '&quot;')}; return false;" href="#">${escape_html(label)}</a>`;
    }
    if (df && doctype && frappe.model.can_read(doctype)) {
      const a = document.createElement('a');
      a.href = `/app/${encodeURIComponent(slug(doctype))}/${encodeURIComponent(String(original))}`;
      a.dataset.doctype = doctype;
      a.dataset.name = String(original);
      a.dataset.value = String(original);
      a.innerText = __((options && options.label) || label);
      return a.outerHTML;
    }
    return escape_html(label);
  },
  Date(value) {
    return value ? str_to_user(value, false, true) : '';
  },
  Datetime(value) {
    return value ? str_to_user(value) : '';
  },
  Time(value) {
    return value ? str_to_user(value, true) : '';
  },
  Duration(value, df) {
    return (value && get_formatted_duration(value, { hide_days: df?.hide_days, hide_seconds: df?.hide_seconds })) || '0s';
  },
  Text(value, df) {
    let v = value;
    if (v) v = replace_newlines(escape_html(v));
    return apply_custom_formatter(v === null || v === undefined ? '' : v, df);
  },
  SmallText(value) {
    return formatters.Text(value, null);
  },
  LongText(value) {
    return formatters.Text(value, null);
  },
  TextEditor(value) {
    return `<div class="ql-editor read-mode">${cstr(value)}</div>`;
  },
  Code(value) {
    return `<pre>${escape_html(value)}</pre>`;
  },
  Email(value) {
    return escape_html(value);
  },
  FileSize(value) {
    const v = cint(value);
    if (v > 1048576) return `${(v / 1048576).toFixed(2)}M`;
    if (v > 1024) return `${(v / 1024).toFixed(2)}K`;
    return v;
  },
  Rating(value, df) {
    const stars = cint(df?.options) || 5;
    const filled = Math.round(flt(value) * stars);
    return `<div class="rating">${'★'.repeat(filled)}${'☆'.repeat(Math.max(0, stars - filled))}</div>`;
  },
  Color(value) {
    return value ? `<div><div class="selected-color" style="background-color: ${escape_html(value)}"></div><span class="color-value">${escape_html(value)}</span></div>` : '';
  },
  Icon(value) {
    return value ? `<div><div class="selected-icon">${icon(String(value), 'md')}</div><span class="icon-value">${escape_html(value)}</span></div>` : '';
  },
  Attach: format_attachment_url,
  AttachImage: format_attachment_url,
  TableMultiSelect(rows, df, options) {
    const meta = frappe.get_meta(df.options);
    const link = (meta?.fields ?? []).find((f: any) => f.fieldtype === 'Link');
    if (!link) return '';
    return ((rows as any[]) || []).map((row) => `<span class="text-nowrap">${format(row[link.fieldname], link, options, row)}</span>`).join(', ');
  },
};

function format_attachment_url(url: unknown): string {
  return url ? `<a href="${escape_html(url)}" target="_blank">${escape_html(url)}</a>` : '';
}

export function get_formatter(fieldtype?: string): Formatter {
  const ft = fieldtype || 'Data';
  return frappe.form.formatters[ft.replace(/ /g, '')] || frappe.form.formatters.Data;
}

/** `frappe.format(value, df, options, doc)`. */
export function format(value: unknown, df?: any, options?: any, doc?: any): any {
  if (!df) df = { fieldtype: 'Data' };
  let fieldtype = df.fieldtype || 'Data';
  if (fieldtype === 'Dynamic Link') {
    fieldtype = 'Link';
    df._options = doc ? doc[df.options] : null;
  }
  const formatter: Formatter = df.formatter || get_formatter(fieldtype);
  let formatted = formatter(value, df, options, doc);
  if (typeof formatted === 'string') formatted = remove_script_and_style(formatted);
  return formatted;
}

export function install_format(): void {
  frappe.form ??= {};
  frappe.form.formatters = formatters;
  frappe.form.link_formatters ??= {};
  frappe.form.link_formatters.User = (value: unknown, doc: any, df: any) => {
    const full = doc && (doc.full_name || (df && doc[`${df.fieldname}_full_name`]));
    return full || value;
  };
  frappe.form.get_formatter = get_formatter;
  frappe.format = format;
  frappe.get_format_helper = (doc: any) => ({
    ...doc,
    get_formatted: (fieldname: string) => format(doc[fieldname], frappe.meta.get_docfield(doc.doctype, fieldname), { inline: 1 }, doc),
  });
}
