/**
 * `frappe.get_list` / `DatabaseQuery.execute` (frappe/frappe:frappe/model/db_query.py [v15])
 * over the in-memory tables, with MariaDB's semantics where they show through:
 * - comparisons of text are case-insensitive and ignore trailing spaces (utf8mb4_unicode_ci);
 * - a filter wraps the column in `ifnull(col, fallback)` unless the operator is `=`/`like` with a
 *   value or the column is numeric (`prepare_filter_condition`), so `response_by < X` also
 *   matches rows whose response_by is NULL (fallback '0001-01-01 00:00:00');
 * - no `order_by` means no ORDER BY at all (`set_order_by` [v15]): rows come in primary-key
 *   order, as a clustered-index scan returns them — not by `modified`;
 * - a child table named by a field or a filter is LEFT JOINed (`prepare_args`: `tabChild on
 *   (parenttype = X and parent = name)`), so a parent comes back once per matching child row
 *   (recording contact-list-or-child-in), and an unqualified column both tables have is MariaDB's
 *   error 1052 (recordings contact-list-or-child-eq, address-list-child-filters);
 * - a `like` value has its backslashes doubled (`prepare_filter_condition`), so `\_` is a literal
 *   backslash and any one character, never a literal `_` (recording customer-list-or-like-escaped);
 * - over REST (`frappe.client.get_list` → `frappe/desk/reportview.py` `validate_args`) a field the
 *   DocType lacks, in fields or filters, is 417 DataError "Field not permitted in query: f"
 *   (recordings crm-deal-list-erpnext-customer, hd-customer-list-erpnext-customer).
 */
import type { Doc } from './database.js';
import { FrappeError, noListPermission } from './errors.js';
import {
  CHILD_TABLE_FIELDS,
  DEFAULT_FIELDS,
  NUMERIC_FIELDS,
  OPTIONAL_FIELDS,
  isTableField,
  isValueField,
  type DocField,
  type DocTypeMeta,
} from './meta.js';
import { hasPermission, permissionQueryFilter, rolePermissions } from './permissions.js';
import type { Site } from './site.js';
import { pyJsonLoads } from './py_json.js';

export interface ListArgs {
  doctype: string;
  fields?: unknown;
  filters?: unknown;
  or_filters?: unknown;
  order_by?: string | null;
  group_by?: string | null;
  limit_start?: number;
  limit_page_length?: number;
  as_dict?: boolean;
  parent?: string | null;
  ignorePermissions?: boolean;
}

/** In 15.55.1's order, as its "Operator must be one of …" message lists them (recording list-bad-operator). */
export const VALID_OPERATORS = [
  '=',
  '!=',
  '>',
  '<',
  '>=',
  '<=',
  'like',
  'not like',
  'in',
  'not in',
  'is',
  'between',
  'timespan',
  'previous',
  'next',
  'ancestors of',
  'descendants of',
  'not ancestors of',
  'not descendants of',
  'descendants of (inclusive)',
];

interface Filter {
  doctype: string;
  fieldname: string;
  operator: string;
  value: unknown;
}

/**
 * A joined row: the parent document plus, for each joined child DocType, one of its rows (null when
 * the LEFT JOIN found none).
 */
interface JoinedRow {
  doc: Doc;
  children: Map<string, Doc | null>;
}

function operationalError(message: string): FrappeError {
  return new FrappeError('OperationalError', { excText: message, httpStatus: 500, message: undefined });
}

// ---- parsing ---------------------------------------------------------------------

/** `frappe.utils.data.get_filter` / DatabaseQuery.build_filter_conditions input forms. */
export function parseFilters(doctype: string, input: unknown): Filter[] {
  if (input === null || input === undefined || input === '') return [];
  if (typeof input === 'string') {
    input = pyJsonLoads(input);
  }
  const out: Filter[] = [];
  if (Array.isArray(input)) {
    for (const f of input) {
      if (!Array.isArray(f)) {
        throw new FrappeError('ValidationError', { message: `Filter must be a tuple or list (in a list)`, excText: 'Filter must be a tuple or list (in a list)' });
      }
      if (f.length === 3) out.push(makeFilter(doctype, f[0], f[1], f[2]));
      else if (f.length >= 4) out.push(makeFilter(f[0] || doctype, f[1], f[2], f[3]));
      else if (f.length === 2) out.push(makeFilter(doctype, f[0], '=', f[1]));
      else throw new FrappeError('ValidationError', { message: 'Filter must have 4 values (doctype, fieldname, operator, value): ' + JSON.stringify(f), excText: 'Filter must have 4 values' });
    }
  } else if (typeof input === 'object') {
    for (const [key, v] of Object.entries(input as Record<string, unknown>)) {
      if (Array.isArray(v)) out.push(makeFilter(doctype, key, v[0], v[1]));
      else out.push(makeFilter(doctype, key, '=', v));
    }
  }
  return out;
}

function makeFilter(doctype: string, fieldname: unknown, operator: unknown, value: unknown): Filter {
  const op = String(operator ?? '=').toLowerCase().trim();
  if (!VALID_OPERATORS.includes(op)) {
    const message = `Operator must be one of ${VALID_OPERATORS.join(', ')}`;
    throw new FrappeError('ValidationError', { message, excText: message });
  }
  let field = String(fieldname);
  const m = /^`?tab([^`]+)`?\.`?([^`]+)`?$/.exec(field);
  if (m) {
    doctype = m[1];
    field = m[2];
  }
  return { doctype, fieldname: field.replace(/`/g, ''), operator: op, value };
}

interface FieldSpec {
  kind: 'field' | 'star' | 'agg';
  doctype: string;
  /** For a joined child column, the parent's table field that holds it. */
  tableField?: string;
  column: string;
  alias: string;
  fn?: string;
  distinct?: boolean;
  /** An aggregate over a bare column name, which `set_field_tables` does not qualify. */
  unqualified?: boolean;
}

function parseFields(site: Site, meta: DocTypeMeta, input: unknown): FieldSpec[] {
  let list: unknown = input;
  if (list === undefined || list === null || list === '') list = ['name'];
  if (typeof list === 'string') {
    const text = list.trim();
    if (text.startsWith('[')) {
      list = pyJsonLoads(text);
    } else list = text.split(',');
  }
  if (!Array.isArray(list)) list = [String(list)];
  const specs: FieldSpec[] = [];
  for (const raw of list as unknown[]) {
    const text = String(raw).trim();
    if (!text) continue;
    const aliasMatch = /^(.*?)\s+as\s+`?([A-Za-z0-9_ ]+?)`?$/i.exec(text);
    const expr = (aliasMatch ? aliasMatch[1] : text).trim();
    const alias = aliasMatch?.[2];
    const agg = /^(count|sum|min|max|avg)\s*\(\s*(distinct\s+)?(.+?)\s*\)$/i.exec(expr);
    if (agg) {
      const target = agg[3] === '*' ? 'name' : agg[3];
      const resolved = resolveColumn(site, meta, target);
      const unqualified = agg[3] !== '*' && !agg[3].includes('.');
      specs.push({ kind: 'agg', fn: agg[1].toLowerCase(), distinct: Boolean(agg[2]), ...resolved, alias: alias ?? `${agg[1].toLowerCase()}(${agg[3]})`, unqualified });
      continue;
    }
    if (expr === '*' || /^`?tab[^`]*`?\.\*$/.test(expr)) {
      specs.push({ kind: 'star', doctype: meta.name, column: '*', alias: '*' });
      continue;
    }
    const resolved = resolveColumn(site, meta, expr.replace(/^distinct\s+/i, ''));
    specs.push({ kind: 'field', ...resolved, alias: alias ?? resolved.column });
  }
  return specs;
}

/** `fieldname`, `` `tabX`.`f` ``, or `table_field.f` (a child or, for Links, a linked column). */
function resolveColumn(site: Site, meta: DocTypeMeta, expr: string): { doctype: string; column: string; tableField?: string } {
  const clean = expr.replace(/`/g, '');
  const tab = /^tab(.+)\.([^.]+)$/.exec(clean);
  if (tab) {
    if (tab[1] === meta.name) return { doctype: meta.name, column: checkColumn(site, meta, tab[2]) };
    const tf = meta.fields.find((f) => isTableField(f) && f.options === tab[1]);
    if (!tf) throw operationalError(`(1054, "Unknown column '${clean}' in 'field list'")`);
    return { doctype: tab[1], column: checkColumn(site, site.meta(tab[1])!, tab[2]), tableField: tf.fieldname };
  }
  const dot = /^([a-z0-9_]+)\.([a-z0-9_]+)$/i.exec(clean);
  if (dot) {
    const tf = meta.fields.find((f) => f.fieldname === dot[1] && isTableField(f));
    if (tf) return { doctype: tf.options!, column: checkColumn(site, site.meta(tf.options!)!, dot[2]), tableField: tf.fieldname };
    throw operationalError(`(1054, "Unknown column '${clean}' in 'field list'")`);
  }
  return { doctype: meta.name, column: checkColumn(site, meta, clean) };
}

function columnsOf(meta: DocTypeMeta): string[] {
  const cols = [...DEFAULT_FIELDS.filter((f) => f !== 'doctype')];
  if (meta.istable) cols.push(...CHILD_TABLE_FIELDS);
  for (const df of meta.fields) if (isValueField(df)) cols.push(df.fieldname);
  if (!meta.istable) cols.push(...OPTIONAL_FIELDS);
  return cols;
}

function checkColumn(_site: Site, meta: DocTypeMeta, column: string): string {
  if (columnsOf(meta).includes(column)) return column;
  throw operationalError(`(1054, "Unknown column '${column}' in 'field list'")`);
}

// ---- comparing ----------------------------------------------------------------------

type Kind = 'text' | 'number' | 'date' | 'datetime';

function kindOf(df: DocField | undefined, column: string, meta?: DocTypeMeta): Kind {
  if (['creation', 'modified'].includes(column)) return 'datetime';
  // autoincrement DocTypes have a bigint primary key (frappe/model/naming.py `is_autoincremented`).
  if (column === 'name' && meta?.autoname === 'autoincrement') return 'number';
  if (['docstatus', 'idx'].includes(column)) return 'number';
  if (!df) return 'text';
  if (NUMERIC_FIELDS.has(df.fieldtype)) return 'number';
  if (df.fieldtype === 'Date') return 'date';
  if (df.fieldtype === 'Datetime') return 'datetime';
  return 'text';
}

/** utf8mb4_unicode_ci: case-insensitive, trailing spaces ignored. */
function fold(v: unknown): string {
  return String(v).toLowerCase().replace(/\s+$/, '');
}

function compare(kind: Kind, a: unknown, b: unknown): number {
  if (kind === 'number') {
    const x = Number(a ?? 0);
    const y = Number(b ?? 0);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (kind === 'date' || kind === 'datetime') {
    const x = normaliseDate(String(a), kind);
    const y = normaliseDate(String(b), kind);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = fold(a);
  const y = fold(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Datetime texts already normalised: a filter on `modified` compares every row of a table, and the
 * same few thousand stamps recur in every listing. Only a speed-up of this emulator (MariaDB
 * compares DATETIMEs natively); cleared when full, so it cannot grow without bound.
 */
const normalisedDatetimes = new Map<string, string>();
const NORMALISED_MAX = 100_000;

/** MariaDB casts '2026-01-01' to '2026-01-01 00:00:00' when comparing with a DATETIME column. */
function normaliseDate(text: string, kind: Kind): string {
  if (kind === 'date') return text.trim().replace('T', ' ').slice(0, 10);
  const known = normalisedDatetimes.get(text);
  if (known !== undefined) return known;
  const out = normaliseDatetime(text);
  if (normalisedDatetimes.size >= NORMALISED_MAX) normalisedDatetimes.clear();
  normalisedDatetimes.set(text, out);
  return out;
}

function normaliseDatetime(text: string): string {
  const t = text.trim().replace('T', ' ');
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return `${t} 00:00:00.000000`;
  const m = /^(\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}(?::\d{2})?)(?:\.(\d+))?/.exec(t);
  if (!m) return t;
  const [d, time] = m[1].split(' ');
  const [hh, mi, ss = '00'] = time.split(':');
  return `${d} ${hh.padStart(2, '0')}:${mi}:${ss}.${(m[2] ?? '').padEnd(6, '0')}`;
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'i');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function fallbackFor(kind: Kind, column: string, op: string): unknown {
  if ((op === '>' || op === '<') && (column === 'creation' || column === 'modified')) return null;
  if (kind === 'datetime') return '0001-01-01 00:00:00';
  if (kind === 'date') return '0001-01-01';
  if (kind === 'number') return 0;
  return '';
}

/**
 * An `in` list as the set of its compared forms, built once per filter (a list of many names
 * against every row was quadratic). Same equality as `compare(...) === 0`: folded text, or numbers.
 */
const inSets = new WeakMap<Filter, Set<unknown>>();
function inSet(filter: Filter, kind: 'number' | 'text'): Set<unknown> {
  let set = inSets.get(filter);
  if (!set) {
    let values: unknown[] = Array.isArray(filter.value) ? filter.value : String(filter.value ?? '').split(',');
    values = values.map((x) => String(x ?? '').trim());
    if (!values.length) values = [''];
    set = new Set(values.map((x) => (kind === 'number' ? Number(x ?? 0) : fold(x))));
    inSets.set(filter, set);
  }
  return set;
}

function matches(filter: Filter, meta: DocTypeMeta, value: unknown): boolean {
  const df = meta.fields.find((f) => f.fieldname === filter.fieldname);
  const kind = kindOf(df, filter.fieldname, meta);
  let op = filter.operator;
  let target = filter.value;
  if (op === 'is') {
    const set = String(target).toLowerCase() === 'set';
    const v = value ?? '';
    return set ? String(v) !== '' : String(v) === '';
  }
  if (op === 'in' || op === 'not in') {
    const v = value ?? '';
    const hit = inSet(filter, kind === 'number' ? 'number' : 'text').has(kind === 'number' ? Number(v) : fold(v));
    return op === 'in' ? hit : !hit;
  }
  if (op === 'between') {
    const [from, to] = Array.isArray(target) ? target : [target, target];
    const v = value ?? fallbackFor(kind, filter.fieldname, op);
    if (v === null) return false;
    if (kind === 'datetime') {
      // get_between_date_filter [v15]: date bounds on a Datetime run from 00:00:00 to 23:59:59.999999.
      const end = /^\d{4}-\d{2}-\d{2}$/.test(String(to)) ? `${to} 23:59:59.999999` : String(to);
      return compare(kind, v, from) >= 0 && compare(kind, v, end) <= 0;
    }
    return compare(kind, v, from) >= 0 && compare(kind, v, to) <= 0;
  }
  if (op === 'timespan' || op === 'previous' || op === 'next') {
    throw new FrappeError('ValidationError', { message: `Operator ${op} is not supported by the emulator`, excText: op });
  }
  if (op.includes('descendants') || op.includes('ancestors')) {
    throw new FrappeError('ValidationError', { message: `Operator ${op} is not supported by the emulator`, excText: op });
  }
  // ifnull() unless `=`/`like` with a truthy value, or a numeric column (never NULL in Frappe's schema).
  const plain = (target && (op === '=' || op === 'like')) || kind === 'number';
  let v = value;
  if (v === null || v === undefined) {
    if (plain) return false;
    v = fallbackFor(kind, filter.fieldname, op);
    if (v === null) return false;
  }
  if (op === 'like' || op === 'not like') {
    // prepare_filter_condition [v15]: `value.replace("\\", "\\\\")` "because like uses backslash for
    // escaping", then frappe.db.escape: the pattern MariaDB gets has every backslash doubled, so `\_`
    // is a literal backslash then any one character (recording customer-list-or-like-escaped).
    const pattern = typeof target === 'string' ? target.replace(/\\/g, '\\\\') : String(target ?? '');
    const hit = likeToRegExp(pattern).test(String(v));
    return op === 'like' ? hit : !hit;
  }
  if (target === null || target === undefined) target = kind === 'number' ? 0 : '';
  if (kind === 'number' && typeof target === 'string' && target.trim() !== '' && Number.isNaN(Number(target))) {
    // A text value against a numeric column: MariaDB casts it to 0.
    target = 0;
  }
  const c = compare(kind, v, target);
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
  }
  return false;
}


/** A filter with the table it reads: the DocType itself, or a joined child DocType. */
interface Located {
  f: Filter;
  /** The joined child DocType, when the filter is on one. */
  childDoctype?: string;
  childMeta?: DocTypeMeta;
}

/**
 * Which table a filter reads. A 4-item filter names its DocType; a field the DocType lacks is
 * looked up in its child tables (`frappe.utils.data.get_filter` → `meta.get_field` fallback over
 * table fields [v15]). Either way a child table is joined (`prepare_filter_condition` →
 * `append_table`, frappe/frappe:frappe/model/db_query.py [v15]).
 */
function locateFilter(site: Site, meta: DocTypeMeta, f: Filter): Located {
  if (f.doctype !== meta.name) {
    const childMeta = site.meta(f.doctype);
    // frappe.get_meta of the filter's DocType (reportview.py validate_filters, get_filter) fails first.
    if (!childMeta) throw new FrappeError('DoesNotExistError', { message: `DocType ${f.doctype} not found`, excText: `DocType ${f.doctype} not found` });
    checkWhereColumn(childMeta, f.fieldname);
    return { f, childDoctype: childMeta.name, childMeta };
  }
  if (columnsOf(meta).includes(f.fieldname)) return { f };
  for (const tf of meta.fields.filter(isTableField)) {
    const childMeta = site.meta(tf.options ?? '');
    if (childMeta?.fields.some((x) => x.fieldname === f.fieldname && isValueField(x))) {
      return { f: { ...f, doctype: childMeta.name }, childDoctype: childMeta.name, childMeta };
    }
  }
  throw operationalError(`(1054, "Unknown column '${f.fieldname}' in 'where clause'")`);
}

function checkWhereColumn(meta: DocTypeMeta, column: string): void {
  if (!columnsOf(meta).includes(column)) throw operationalError(`(1054, "Unknown column '${column}' in 'where clause'")`);
}

function rowMatches(meta: DocTypeMeta, row: JoinedRow, located: Located): boolean {
  if (!located.childDoctype) return matches(located.f, meta, row.doc[located.f.fieldname]);
  // The joined row of that child table; a LEFT JOIN that found none compares NULL.
  const child = row.children.get(located.childDoctype) ?? null;
  return matches(located.f, located.childMeta!, child ? child[located.f.fieldname] : null);
}

// ---- validating (REST) -----------------------------------------------------------------------

const STANDARD_FIELDS = new Set([...DEFAULT_FIELDS, ...OPTIONAL_FIELDS, ...CHILD_TABLE_FIELDS]);

/** `is_standard` (frappe/frappe:frappe/desk/reportview.py [v15]). */
function isStandard(fieldname: string): boolean {
  const bare = fieldname.includes('.') ? fieldname.split('.')[1].replace(/`/g, '') : fieldname;
  return STANDARD_FIELDS.has(bare);
}

function fieldNotPermitted(fieldname: string): FrappeError {
  // reportview.py `raise_invalid_field`: frappe.throw(_("Field not permitted in query") + f": {fieldname}", frappe.DataError).
  const message = `Field not permitted in query: ${fieldname}`;
  return new FrappeError('DataError', { message, excText: message });
}

/** `get_parenttype_and_fieldname` + `meta.get_field` (reportview.py [v15]): does the field exist? */
function docfieldExists(site: Site, meta: DocTypeMeta, field: string): boolean {
  let target: DocTypeMeta | undefined = meta;
  let fieldname = field.replace(/`/g, '');
  if (fieldname.includes('.')) {
    const [table, col] = fieldname.split('.');
    const df = meta.fields.find((f) => f.fieldname === table);
    target = df ? site.meta(df.options ?? '') : table.startsWith('tab') ? site.meta(table.slice(3)) : undefined;
    fieldname = col;
  }
  // An unknown table is the SQL layer's error (1054 from resolveColumn), not this one.
  if (!target) return true;
  return target.fields.some((f) => f.fieldname === fieldname);
}

/** The column a `fields` entry names, as `extract_fieldnames(field)[0]` finds it (reportview.py [v15]). */
function fieldnameOf(raw: string): string {
  let text = raw.trim().replace(/\s+as\s+.*$/i, '').trim();
  const fn = /^[a-z_]+\s*\(\s*(?:distinct\s+)?(.*?)\s*\)$/i.exec(text);
  if (fn) text = fn[1];
  return text.replace(/^distinct\s+/i, '').trim();
}

/**
 * `validate_args` (frappe/frappe:frappe/desk/reportview.py [v15]), which `frappe.client.get_list`
 * runs before `frappe.get_list` (frappe/client.py [v15]; traceback of recording
 * crm-deal-list-erpnext-customer): every field in `fields` and every filter's field must exist
 * on the DocType (or the child DocType a 4-item filter names) unless it is a standard column.
 */
function validateArgs(site: Site, meta: DocTypeMeta, fields: unknown, filters: unknown, orFilters: unknown): void {
  let list: unknown = fields;
  if (typeof list === 'string') {
    try {
      list = list.trim() === '*' ? ['*'] : JSON.parse(list);
    } catch {
      list = null; // parseFields reports the JSON error
    }
  }
  const wildcard = Array.isArray(list) && list.length === 1 && String(list[0]).trim() === '*';
  if (Array.isArray(list) && !wildcard) {
    for (const raw of list) {
      const fieldname = fieldnameOf(String(raw));
      if (!fieldname || fieldname === '*' || /^tab.+\.\*$/.test(fieldname.replace(/`/g, ''))) continue;
      if (isStandard(fieldname)) continue;
      if (!docfieldExists(site, meta, fieldname)) throw fieldNotPermitted(fieldname);
    }
  }
  for (const input of [filters, orFilters]) {
    let parsed: unknown = input;
    if (typeof parsed === 'string' && parsed !== '') {
      try {
        parsed = JSON.parse(parsed);
      } catch {
        continue; // parseFilters reports the JSON error
      }
    }
    if (Array.isArray(parsed)) {
      for (const c of parsed) {
        if (!Array.isArray(c)) continue;
        if (c.length === 3) {
          const fieldname = String(c[0]);
          if (!isStandard(fieldname) && !docfieldExists(site, meta, fieldname)) throw fieldNotPermitted(fieldname);
        } else if (c.length >= 4) {
          const fieldname = String(c[1]);
          const other = site.meta(String(c[0]));
          if (!isStandard(fieldname) && other && !other.fields.some((f) => f.fieldname === fieldname)) throw fieldNotPermitted(fieldname);
        }
      }
    } else if (parsed && typeof parsed === 'object') {
      for (const fieldname of Object.keys(parsed)) {
        if (!isStandard(fieldname) && !docfieldExists(site, meta, fieldname)) throw fieldNotPermitted(fieldname);
      }
    }
  }
}

// ---- ordering -----------------------------------------------------------------------------

interface OrderTerm {
  column: string;
  desc: boolean;
  kind: Kind;
  /** The joined child DocType the column belongs to. */
  childDoctype?: string;
  /** An aggregate alias: read from the aggregated row. */
  alias?: boolean;
}

function ambiguous(column: string, where: string): FrappeError {
  return operationalError(`(1052, "Column '${column}' in ${where} is ambiguous")`);
}

/**
 * `set_order_by` passes an explicit `order_by` through as written (db_query.py [v15]); then
 * `validate_order_by_and_group_by` wants a `` `tabX`. `` prefix to name a table of the query ("Please
 * select atleast 1 column from X to sort/group"). MariaDB resolves an unqualified name against the
 * select list first, then the tables: in two joined tables it is error 1052 "Column 'creation' in
 * ORDER BY is ambiguous" (recordings contact-list-or-child-eq, address-list-child-filters).
 */
function parseOrderBy(site: Site, meta: DocTypeMeta, orderBy: string, specs: FieldSpec[], joined: string[]): OrderTerm[] {
  const lower = orderBy.toLowerCase();
  if (lower.includes('select') && lower.includes(' from ')) {
    throw new FrappeError('ValidationError', { message: 'Cannot use sub-query in order by', excText: 'Cannot use sub-query in order by' });
  }
  const terms: OrderTerm[] = [];
  for (const part of orderBy.split(',')) {
    const trimmed = part.trim();
    // The column may be `tabX`.`col`, with a space inside the table name.
    const m = /^((?:`[^`]+`|[^\s`]+)(?:\.(?:`[^`]+`|[^\s`]+))?)(?:\s+(\S+))?$/.exec(trimmed);
    if (!trimmed) continue;
    if (!m) throw operationalError(`(1064, "You have an error in your SQL syntax near '${trimmed}'")`);
    const dir = (m[2] ?? 'asc').toLowerCase();
    if (!['asc', 'desc'].includes(dir)) throw operationalError(`(1064, "You have an error in your SQL syntax near '${trimmed}'")`);
    const written = m[1];
    const raw = written.replace(/`/g, '');
    const desc = dir === 'desc';
    /** A column of the parent or of a joined child table, typed by that table's field. */
    const columnTerm = (doctype: string, column: string): OrderTerm => {
      const m2 = doctype === meta.name ? meta : site.meta(doctype)!;
      return { column, desc, kind: kindOf(m2.fields.find((f) => f.fieldname === column), column, m2), childDoctype: doctype !== meta.name ? doctype : undefined };
    };
    if (written.startsWith('`tab') && written.includes('.')) {
      const table = raw.split('.')[0].slice(3);
      if (table !== meta.name && !joined.includes(table)) {
        const message = `Please select atleast 1 column from ${table} to sort/group`;
        throw new FrappeError('ValidationError', { message, excText: message });
      }
    }
    const agg = specs.find((s) => s.alias === raw && s.kind === 'agg');
    if (agg) {
      terms.push({ column: agg.alias, desc, kind: 'number', alias: true });
      continue;
    }
    if (!raw.includes('.') && joined.length) {
      // The select list first (a field selected as `tabX`.`col` answers to `col`) …
      const selected = specs.find((s) => s.kind === 'field' && s.alias === raw);
      if (selected) {
        terms.push(columnTerm(selected.doctype, selected.column));
        continue;
      }
      // … then every table of the FROM clause.
      const owners = [meta, ...joined.map((d) => site.meta(d)!)].filter((m2) => columnsOf(m2).includes(raw));
      if (owners.length > 1) throw ambiguous(raw, 'ORDER BY');
      if (owners.length === 1 && owners[0] !== meta) {
        terms.push(columnTerm(owners[0]!.name, raw));
        continue;
      }
    }
    const resolved = resolveColumn(site, meta, raw);
    terms.push(columnTerm(resolved.doctype, resolved.column));
  }
  return terms;
}

// ---- executing -------------------------------------------------------------------------------

function parseBool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  return !['0', 'false', 'no', 'off'].includes(s);
}

function parseIntArg(v: unknown, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = parseInt(String(v), 10);
  return Number.isNaN(n) ? dflt : n;
}

/** The rows of `doc` in tab<childDoctype>: every table field of that type (the join does not look at parentfield). */
function childRowsOf(meta: DocTypeMeta, doc: Doc, childDoctype: string): Doc[] {
  const out: Doc[] = [];
  for (const tf of meta.fields) {
    if (isTableField(tf) && tf.options === childDoctype) out.push(...(((doc[tf.fieldname] as Doc[]) ?? [])));
  }
  return out;
}

/**
 * `frappe.get_list`; `user` is the session user. A call with the user's permissions is a REST call
 * (`frappe.client.get_list`, `/api/resource`, `frappe.client.get_value`), so its fields and filters
 * are validated first (`validateArgs`); server-side reads pass `ignorePermissions`.
 */
export function getList(site: Site, user: string, args: ListArgs): Doc[] | unknown[][] {
  const meta = site.meta(args.doctype);
  if (!meta) {
    throw new FrappeError('DoesNotExistError', { message: `DocType ${args.doctype} not found`, excText: `DocType ${args.doctype} not found` });
  }
  if (!args.ignorePermissions) validateArgs(site, meta, args.fields, args.filters, args.or_filters);
  let parentDoctypes: string[] = [];
  if (meta.istable && !args.parent && args.ignorePermissions) {
    // Server-side counts (frappe.db.count) read the child table directly, across every parent.
    parentDoctypes = [...site.db.scan('DocType')]
      .map((d) => site.meta(String(d.name)))
      .filter((m): m is DocTypeMeta => Boolean(m?.fields.some((f) => isTableField(f) && f.options === meta.name)))
      .map((m) => m.name);
  } else if (meta.istable) {
    // get_list for a child DocType needs `parent` (the parent DocType) and read on it.
    if (!args.parent) {
      // check_parent_permission [v15]: a bare PermissionError.
      throw new FrappeError('PermissionError', {});
    }
    const parentMeta = site.meta(args.parent);
    const pointsAtChild = parentMeta?.fields.some((f) => isTableField(f) && f.options === meta.name);
    if (!parentMeta || !pointsAtChild || (!args.ignorePermissions && !hasPermission(site, args.parent, 'select', user))) {
      throw new FrappeError('PermissionError', { errorMessage: `Insufficient Permission for ${args.parent}` });
    }
    parentDoctypes = [args.parent];
  } else if (!args.ignorePermissions && user !== 'Administrator') {
    const { perms } = rolePermissions(site, meta, user);
    if (!perms.read && !perms.select) throw noListPermission(args.doctype, user);
  }

  const specs = parseFields(site, meta, args.fields);
  const filters = parseFilters(meta.name, args.filters).map((f) => locateFilter(site, meta, f));
  const orFilters = parseFilters(meta.name, args.or_filters).map((f) => locateFilter(site, meta, f));

  // FROM: the tables `extract_tables` (fields) and `prepare_filter_condition` (filters, then
  // or_filters) append, each LEFT JOINed on (parenttype, parent) (db_query.py `prepare_args` [v15]).
  const joined: string[] = [];
  const join = (doctype: string | undefined) => {
    if (doctype && doctype !== meta.name && !joined.includes(doctype)) joined.push(doctype);
  };
  for (const s of specs) if (s.kind !== 'star') join(s.doctype);
  for (const f of [...filters, ...orFilters]) join(f.childDoctype);

  let rows: JoinedRow[] = [];
  const base: Doc[] = [];
  if (meta.istable) {
    for (const parentDoctype of parentDoctypes) {
      const fields = site.meta(parentDoctype)!.fields.filter((df) => isTableField(df) && df.options === meta.name);
      for (const p of site.db.scan(parentDoctype)) {
        for (const df of fields) base.push(...((p[df.fieldname] as Doc[]) ?? []));
      }
    }
  } else if (meta.issingle) {
    const single = site.db.get(meta.name, meta.name);
    if (single) base.push(single);
  } else base.push(...site.db.scan(meta.name));
  for (const doc of base) {
    // One row per combination of joined child rows (a join of two child tables multiplies them).
    let combos: Map<string, Doc | null>[] = [new Map()];
    for (const childDoctype of joined) {
      const children = childRowsOf(meta, doc, childDoctype);
      const next: Map<string, Doc | null>[] = [];
      for (const combo of combos) {
        if (!children.length) next.push(new Map(combo).set(childDoctype, null));
        for (const c of children) next.push(new Map(combo).set(childDoctype, c));
      }
      combos = next;
    }
    for (const children of combos) rows.push({ doc, children });
  }

  // An unqualified aggregate column is left as written (`set_field_tables` skips count(/sum(/avg() [v15]).
  if (joined.length) {
    for (const s of specs) {
      if (s.kind !== 'agg' || s.unqualified !== true) continue;
      const owners = [meta, ...joined.map((d) => site.meta(d)!)].filter((m2) => columnsOf(m2).includes(s.column));
      if (owners.length > 1) throw ambiguous(s.column, 'field list');
    }
    const groupBy = (args.group_by ?? '').toString().trim();
    for (const g of groupBy ? groupBy.split(',') : []) {
      const col = g.trim().split(/\s+/)[0];
      if (col.includes('.')) continue;
      const bare = col.replace(/`/g, '');
      const owners = [meta, ...joined.map((d) => site.meta(d)!)].filter((m2) => columnsOf(m2).includes(bare));
      if (owners.length > 1) throw ambiguous(bare, 'group statement');
    }
  }

  // WHERE
  const permFilter = args.ignorePermissions ? null : permissionQueryFilter(site, meta.name, user);
  rows = rows.filter((r) => {
    if (permFilter && !permFilter(r.doc)) return false;
    if (!filters.every((f) => rowMatches(meta, r, f))) return false;
    if (orFilters.length && !orFilters.some((f) => rowMatches(meta, r, f))) return false;
    return true;
  });

  // Primary-key order is what a scan without ORDER BY yields.
  rows.sort((a, b) => {
    const c = compare(typeof a.doc.name === 'number' ? 'number' : 'text', a.doc.name, b.doc.name);
    if (c) return c;
    for (const d of joined) {
      const x = Number(a.children.get(d)?.idx ?? 0) - Number(b.children.get(d)?.idx ?? 0);
      if (x) return x;
    }
    return 0;
  });

  const orderBy = (args.order_by ?? '').toString().trim();
  const hasAgg = specs.some((s) => s.kind === 'agg');
  const groupBy = (args.group_by ?? '').toString().trim();

  let out: Doc[];
  if (hasAgg || groupBy) {
    out = aggregate(site, meta, rows, specs, groupBy);
    if (orderBy) {
      const terms = parseOrderBy(site, meta, orderBy, specs, joined);
      sortRows(out.map((d) => ({ doc: d, children: new Map() })), terms, (sorted) => (out = sorted.map((r) => r.doc)));
    }
  } else {
    if (orderBy) sortRows(rows, parseOrderBy(site, meta, orderBy, specs, joined), (sorted) => (rows = sorted));
    out = rows.map((r) => project(meta, r, specs));
  }

  const start = Math.max(0, parseIntArg(args.limit_start, 0));
  const length = parseIntArg(args.limit_page_length, 20);
  out = length > 0 ? out.slice(start, start + length) : out.slice(start);

  if (!parseBool(args.as_dict, true)) return out.map((d) => Object.values(d));
  return out;
}

function sortRows(rows: JoinedRow[], terms: OrderTerm[], done: (rows: JoinedRow[]) => void): void {
  const sorted = [...rows].sort((a, b) => {
    for (const t of terms) {
      const pick = (r: JoinedRow) => (t.childDoctype ? r.children.get(t.childDoctype)?.[t.column] : r.doc[t.column]);
      const av = pick(a);
      const bv = pick(b);
      // NULLs sort first ascending, last descending (MariaDB).
      const an = av === null || av === undefined;
      const bn = bv === null || bv === undefined;
      let c: number;
      if (an || bn) c = an && bn ? 0 : an ? -1 : 1;
      else c = compare(t.kind, av, bv);
      if (c) return t.desc ? -c : c;
    }
    return 0;
  });
  done(sorted);
}

function sourceOf(meta: DocTypeMeta, row: JoinedRow, doctype: string): Doc | null {
  return doctype === meta.name ? row.doc : (row.children.get(doctype) ?? null);
}

function project(meta: DocTypeMeta, row: JoinedRow, specs: FieldSpec[]): Doc {
  const out: Doc = {};
  for (const s of specs) {
    if (s.kind === 'star') {
      for (const col of columnsOf(meta)) out[col] = row.doc[col] ?? null;
      continue;
    }
    const source = sourceOf(meta, row, s.doctype);
    out[s.alias] = source ? (source[s.column] ?? null) : null;
  }
  return out;
}

function aggregate(site: Site, meta: DocTypeMeta, rows: JoinedRow[], specs: FieldSpec[], groupBy: string): Doc[] {
  const groups = new Map<string, JoinedRow[]>();
  const groupCols = groupBy
    ? groupBy.split(',').map((g) => resolveColumn(site, meta, g.trim().replace(/`/g, '')))
    : [];
  for (const r of rows) {
    const key = JSON.stringify(groupCols.map((g) => fold(sourceOf(meta, r, g.doctype)?.[g.column] ?? '')));
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (!groupCols.length && !groups.size) groups.set('[]', []);
  const out: Doc[] = [];
  for (const members of groups.values()) {
    const d: Doc = {};
    for (const s of specs) {
      const values = members
        .map((r) => sourceOf(meta, r, s.doctype)?.[s.column])
        .filter((v) => v !== null && v !== undefined);
      if (s.kind !== 'agg') {
        d[s.alias] = members.length ? (sourceOf(meta, members[0], s.doctype)?.[s.column] ?? null) : null;
        continue;
      }
      const distinct = s.distinct ? [...new Set(values.map((v) => String(v)))] : values;
      switch (s.fn) {
        case 'count':
          d[s.alias] = distinct.length;
          break;
        case 'sum':
          d[s.alias] = values.length ? values.reduce((a: number, v) => a + Number(v), 0) : null;
          break;
        case 'avg':
          d[s.alias] = values.length ? values.reduce((a: number, v) => a + Number(v), 0) / values.length : null;
          break;
        case 'min':
        case 'max': {
          const kind = kindOf((site.meta(s.doctype) ?? meta).fields.find((f) => f.fieldname === s.column), s.column);
          const sorted = [...values].sort((a, b) => compare(kind, a, b));
          d[s.alias] = sorted.length ? (s.fn === 'min' ? sorted[0] : sorted[sorted.length - 1]) : null;
          break;
        }
      }
    }
    out.push(d);
  }
  return out;
}
