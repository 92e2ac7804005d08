/**
 * The document lifecycle of frappe/frappe:frappe/model/document.py [v15] (insert, save, submit,
 * cancel) and frappe/model/delete_doc.py (delete), with the validations of
 * frappe/model/base_document.py: defaults, mandatory, selects, links (+ fetch_from),
 * uniqueness, set_only_once, update-after-submit, `modified` checks, docstatus transitions,
 * Version rows for track_changes DocTypes and `doc_update`/`list_update` after commit.
 */
import type { Doc } from './database.js';
import { formatDatetime, parseDatetime, parseTime, formatTime } from './datetime.js';
import { doesNotExist, FrappeError, noPermission, type ServerMessage } from './errors.js';
import {
  DEFAULT_FIELDS,
  NUMERIC_FIELDS,
  fieldLabel,
  isTableField,
  isValueField,
  type DocField,
  type DocTypeMeta,
} from './meta.js';
import { generateHash, setNewName } from './naming.js';
import { hasPermission, permlevelAccess, type PermType } from './permissions.js';
import { sanitizeContent } from './sanitize.js';
import type { Site } from './site.js';

export interface Ctx {
  site: Site;
  user: string;
  /** Messages `frappe.msgprint` queued during the request (non-raising ones). */
  messages: ServerMessage[];
}

export type Action = 'save' | 'submit' | 'cancel' | 'update_after_submit';

export interface HookArgs {
  ctx: Ctx;
  doc: Doc;
  /** The DB copy before this save (`get_doc_before_save()`); null on insert. */
  before: Doc | null;
  meta: DocTypeMeta;
  action: Action;
  flags: DocFlags;
}

export interface DocFlags {
  ignorePermissions?: boolean;
  ignoreMandatory?: boolean;
  ignoreLinks?: boolean;
  ignoreValidate?: boolean;
  ignoreVersion?: boolean;
  notifyUpdate?: boolean;
  /** Set by `update_parent_document_on_communication` and friends. */
  [key: string]: unknown;
}

type Hook = (args: HookArgs) => void;
export type HookName =
  | 'autoname'
  | 'before_insert'
  | 'before_validate'
  | 'validate'
  | 'before_save'
  | 'before_submit'
  | 'before_cancel'
  | 'before_update_after_submit'
  | 'after_insert'
  | 'on_update'
  | 'on_submit'
  | 'on_cancel'
  | 'on_update_after_submit'
  | 'on_change'
  | 'on_trash'
  | 'after_delete';

/** Controller methods and `doc_events` hooks, in registration order (controller first, then apps). */
const hooks = new Map<string, Map<HookName, Hook[]>>();

export function registerHook(doctype: string, name: HookName, fn: Hook): void {
  let byName = hooks.get(doctype);
  if (!byName) hooks.set(doctype, (byName = new Map()));
  byName.set(name, [...(byName.get(name) ?? []), fn]);
}

function run(name: HookName, args: HookArgs): void {
  for (const fn of hooks.get(args.meta.name)?.get(name) ?? []) fn(args);
  for (const fn of hooks.get('*')?.get(name) ?? []) fn(args);
}

// ---- reading ---------------------------------------------------------------------

export function requireMeta(site: Site, doctype: string): DocTypeMeta {
  const meta = site.meta(doctype);
  if (!meta) throw doesNotExist('DocType', doctype);
  return meta;
}

/** `frappe.get_doc(doctype, name)` with the caller's read permission (`check_permission("read")`). */
export function getDoc(ctx: Ctx, doctype: string, name: string, ptype: PermType | null = 'read'): Doc {
  const meta = requireMeta(ctx.site, doctype);
  const key = meta.issingle ? doctype : String(name);
  const doc = ctx.site.db.get(doctype, key) ?? (meta.issingle ? emptySingle(ctx, meta) : undefined);
  if (!doc) throw doesNotExist(doctype, String(name));
  if (ptype && !hasPermission(ctx.site, doctype, ptype, ctx.user, doc)) throw noPermission(doctype, ptype);
  return doc;
}

function emptySingle(ctx: Ctx, meta: DocTypeMeta): Doc {
  const doc = newDoc(ctx, meta.name, {});
  doc.name = meta.name;
  return doc;
}

/** Case-insensitive lookup of a name, as MariaDB's default collation matches it. */
export function findName(site: Site, doctype: string, name: unknown): string | undefined {
  if (name === null || name === undefined || name === '') return undefined;
  const text = String(name);
  if (site.db.exists(doctype, text)) return text;
  const folded = text.toLowerCase().trimEnd();
  for (const row of site.db.scan(doctype)) {
    if (String(row.name).toLowerCase().trimEnd() === folded) return String(row.name);
  }
  return undefined;
}

// ---- defaults ----------------------------------------------------------------------

/**
 * `frappe.new_doc` defaults (frappe/model/create_new.py `get_new_doc` [v15]): field `default`
 * (with `Today`, `now`, `__user`), Select → first option, numeric → 0, tables → [].
 */
export function defaultValue(ctx: Ctx, df: DocField): unknown {
  const d = df.default;
  if (d !== undefined && d !== null && d !== '') {
    const text = String(d);
    if (text.toLowerCase() === 'today') return ctx.site.today();
    if (text.toLowerCase() === 'now') return df.fieldtype === 'Time' ? ctx.site.now().slice(11) : ctx.site.now();
    if (text === '__user') return ctx.user;
    if (text.startsWith(':')) return null;
    return cast(df, text);
  }
  // get_static_default_value: a Select defaults to its first option — "" when that is blank.
  if (df.fieldtype === 'Select' && df.options) return df.options.split('\n')[0];
  if (NUMERIC_FIELDS.has(df.fieldtype) && df.fieldtype !== 'Duration') return 0;
  return null;
}

export function newDoc(ctx: Ctx, doctype: string, data: Doc, parent?: { doc: Doc; field: string }): Doc {
  const meta = requireMeta(ctx.site, doctype);
  const doc: Doc = { doctype };
  for (const df of meta.fields) {
    if (isTableField(df)) doc[df.fieldname] = [];
    else if (isValueField(df)) doc[df.fieldname] = defaultValue(ctx, df);
  }
  Object.assign(doc, data);
  if (parent) {
    doc.parent = parent.doc.name ?? null;
    doc.parenttype = parent.doc.doctype;
    doc.parentfield = parent.field;
  }
  doc.doctype = doctype;
  return doc;
}

/** `update_if_missing`: fill what the caller left empty with the DocType's defaults. */
/**
 * `doc.append(field, data)` from a hook → `_init_child` (frappe/model/base_document.py [v15]): a
 * full child row at the end of the table. Hooks run after the request's rows were prepared, so the
 * row gets its name, idx and timestamps here. Answers the row.
 */
export function appendChild(ctx: Ctx, doc: Doc, field: string, childDoctype: string, data: Doc): Doc {
  const rows = ((doc[field] as Doc[] | undefined) ?? []).slice();
  const now = ctx.site.now();
  const row: Doc = {
    ...newDoc(ctx, childDoctype, data, { doc, field }),
    name: generateHash(),
    idx: rows.length + 1,
    docstatus: doc.docstatus ?? 0,
    owner: doc.owner ?? ctx.user,
    creation: now,
    modified: now,
    modified_by: ctx.user,
  };
  rows.push(row);
  doc[field] = rows;
  return row;
}

function setMissingDefaults(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  for (const df of meta.fields) {
    if (isTableField(df)) {
      if (!Array.isArray(doc[df.fieldname])) doc[df.fieldname] = [];
      continue;
    }
    if (!isValueField(df)) continue;
    if (doc[df.fieldname] === undefined || doc[df.fieldname] === null) {
      const v = defaultValue(ctx, df);
      if (v !== null) doc[df.fieldname] = v;
      else if (doc[df.fieldname] === undefined) doc[df.fieldname] = null;
    }
  }
}

// ---- casting -------------------------------------------------------------------------

/** `cint`/`flt`/date normalisation done by `_fix_numeric_types` and the DB driver. */
export function cast(df: DocField, value: unknown): unknown {
  if (value === undefined) return null;
  switch (df.fieldtype) {
    case 'Int':
    case 'Check': {
      if (value === null || value === '') return 0;
      if (typeof value === 'boolean') return value ? 1 : 0;
      const n = parseInt(String(value), 10);
      return Number.isNaN(n) ? 0 : n;
    }
    case 'Float':
    case 'Currency':
    case 'Percent':
    case 'Duration':
    case 'Rating': {
      if (value === null || value === '') return df.fieldtype === 'Duration' ? null : 0;
      const n = typeof value === 'number' ? value : parseFloat(String(value));
      return Number.isNaN(n) ? 0 : n;
    }
    case 'Date': {
      if (value === null || value === '') return null;
      const us = parseDatetime(String(value));
      return us === null ? value : formatDatetime(us).slice(0, 10);
    }
    case 'Datetime': {
      if (value === null || value === '') return null;
      const us = parseDatetime(String(value));
      return us === null ? value : formatDatetime(us);
    }
    case 'Time': {
      if (value === null || value === '') return null;
      const s = parseTime(String(value));
      return s === null ? value : formatTime(s);
    }
    default:
      return value;
  }
}

function castAll(meta: DocTypeMeta, doc: Doc): void {
  for (const df of meta.fields) {
    if (isValueField(df) && df.fieldname in doc) doc[df.fieldname] = cast(df, doc[df.fieldname]);
  }
}

// ---- validation ----------------------------------------------------------------------

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  return String(v).replace(/<[^>]*>/g, '').trim() === '';
}

/** `_validate_mandatory` (base_document.py/document.py [v15]): msgprint per field, then MandatoryError. */
function validateMandatory(ctx: Ctx, meta: DocTypeMeta, doc: Doc, flags: DocFlags): void {
  if (flags.ignoreMandatory) return;
  const missing: [string, string][] = [];
  const check = (m: DocTypeMeta, d: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (!df.reqd) continue;
      if (!isEmpty(d[df.fieldname])) continue;
      let msg: string;
      if (isTableField(df)) msg = `Error: Data missing in table: ${fieldLabel(df)}`;
      else if (row) msg = `Error: <strong>${m.name}</strong> Row #${row.idx}: Value missing for: ${fieldLabel(df)}`;
      else msg = `Error: Value missing for ${m.name}: ${fieldLabel(df)}`;
      missing.push([df.fieldname, msg]);
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row, row));
  if (!missing.length) return;
  throw new FrappeError('MandatoryError', {
    extraMessages: missing.map(([, msg]) => ({ message: msg, title: 'Message' })),
    excText: `[${meta.name}, ${doc.name}]: ${missing.map(([f]) => f).join(', ')}`,
  });
}

/** `_validate_selects`: a Select value must be one of its options. */
function validateSelects(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const check = (m: DocTypeMeta, d: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (df.fieldtype !== 'Select' || !df.options || df.fieldname === 'naming_series') continue;
      const value = typeof d[df.fieldname] === 'string' ? (d[df.fieldname] as string).trim() : d[df.fieldname];
      if (value === null || value === undefined || value === '') continue;
      const options = df.options.split('\n');
      if (options.includes(String(value))) continue;
      // base_document.py `_validate_selects` [v15]: '{0} {1} cannot be "{2}". It should be one of "{3}"'.
      const prefix = row ? `Row #${row.idx}:` : '';
      const message = `${prefix} ${fieldLabel(df)} cannot be "${value}". It should be one of "${options.join('", "')}"`;
      throw new FrappeError('ValidationError', { message, title: 'Message', excText: message });
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row, row));
}

const EMAIL_RE = /^[^@\s<>"',;]+@[^@\s<>"',;]+\.[^@\s<>"',;]+$/;

/** `_validate_data_fields` (base_document.py [v15]): Data fields with options Email, on the document and its rows. */
function validateDataFields(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const check = (m: DocTypeMeta, d: Doc) => {
    for (const df of m.fields) {
      if (df.fieldtype !== 'Data' || df.options !== 'Email') continue;
      const value = d[df.fieldname];
      if (!value) continue;
      for (const part of String(value).split(/[,\n]/).map((x) => x.trim()).filter(Boolean)) {
        const address = /<([^>]+)>/.exec(part)?.[1] ?? part;
        if (!EMAIL_RE.test(address)) {
          const message = `${part} is not a valid Email Address`;
          throw new FrappeError('InvalidEmailAddressError', { message, title: 'Message', excText: message, httpStatus: 417 });
        }
      }
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row));
}

/**
 * `_validate_links` → `get_invalid_links` (base_document.py [v15]): every Link / Dynamic Link
 * value must exist; the stored value takes the target's exact name (case fixed, as MariaDB
 * matches case-insensitively); `fetch_from` fields are filled from the link target; links to
 * cancelled documents raise CancelledLinkError.
 */
function validateLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc, flags: DocFlags): void {
  if (flags.ignoreLinks) return;
  const invalid: string[] = [];
  const cancelled: string[] = [];
  const check = (m: DocTypeMeta, d: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (df.fieldtype !== 'Link' && df.fieldtype !== 'Dynamic Link') continue;
      const value = d[df.fieldname];
      if (value === null || value === undefined || value === '') continue;
      const target = df.fieldtype === 'Link' ? df.options : (d[df.options ?? ''] as string | undefined);
      if (!target) continue;
      const targetMeta = ctx.site.meta(target);
      // A Link to a DocType this emulator does not ship cannot be checked (README: not emulated).
      if (!targetMeta) continue;
      const name = targetMeta.issingle ? target : findName(ctx.site, target, value);
      const label = row ? `Row #${row.idx}: ${fieldLabel(df)}` : fieldLabel(df);
      if (!name) {
        invalid.push(`${label}: ${value}`);
        continue;
      }
      const targetDoc = ctx.site.db.get(target, name);
      // `get_invalid_links` sets the field to `frappe.db.get_value(doctype, docname, "name")`: the
      // target's name as its column holds it — an int for autoincrement DocTypes (bigint `name`,
      // frappe/model/naming.py `autoincrement`), the exact case for text names.
      d[df.fieldname] = targetMeta.issingle ? value : (targetDoc?.name ?? name);
      if ((meta.is_submittable || m.is_submittable) && targetMeta.is_submittable && targetDoc?.docstatus === 2) cancelled.push(`${label}: ${value}`);
      for (const fetch of m.fields) {
        if (!fetch.fetch_from || !fetch.fetch_from.startsWith(`${df.fieldname}.`)) continue;
        if (fetch.fetch_if_empty && !isEmpty(d[fetch.fieldname])) continue;
        const source = fetch.fetch_from.slice(df.fieldname.length + 1);
        if (targetDoc && source in targetDoc) d[fetch.fieldname] = cast(fetch, targetDoc[source]);
      }
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row, row));
  if (invalid.length) {
    const message = `Could not find ${invalid.join(', ')}`;
    throw new FrappeError('LinkValidationError', { message, title: 'Message', excText: message });
  }
  if (cancelled.length) {
    const message = `Cannot link cancelled document: ${cancelled.join(', ')}`;
    throw new FrappeError('CancelledLinkError', { message, title: 'Message', excText: message });
  }
}

/** Unique columns and the primary key, as the DB's unique indexes enforce them on insert/update. */
function validateUnique(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  for (const df of meta.fields) {
    if (!df.unique || !isValueField(df)) continue;
    const value = doc[df.fieldname];
    if (value === null || value === undefined || value === '') continue;
    const folded = String(value).toLowerCase().trimEnd();
    for (const other of ctx.site.db.scan(meta.name)) {
      if (other.name === doc.name) continue;
      if (String(other[df.fieldname] ?? '').toLowerCase().trimEnd() === folded) {
        // base_document.py `show_unique_validation_message` [v15].
        throw new FrappeError('UniqueValidationError', {
          extraMessages: [{ message: `${fieldLabel(df)} must be unique`, title: 'Message' }],
          excText: `('${meta.name}', '${doc.name}', IntegrityError(1062, "Duplicate entry '${value}' for key '${df.fieldname}'"))`,
        });
      }
    }
  }
}

/**
 * `validate_set_only_once` (frappe/model/document.py [v15]): on every save of an existing document
 * the value must equal the stored one — Python `value != original_value`, so types count: after
 * `_validate_links` set a Link/Dynamic Link to an autoincrement DocType to the target's integer
 * name, the stored varchar text ("10") differs from it (10) and the save fails (reference note
 * crm-helpdesk.md "HD Ticket names are autoincrement integers", seen on the real site: issue 11
 * item 3). Date/Datetime/Time compare as text; tables row by row. The emulator treats empty text
 * and null as one (its storage does not keep MariaDB's '' / NULL apart).
 */
function validateSetOnlyOnce(meta: DocTypeMeta, doc: Doc, before: Doc): void {
  const norm = (v: unknown) => (v === undefined || v === '' ? null : v);
  for (const df of meta.fields) {
    if (!df.set_only_once) continue;
    const a = norm(before[df.fieldname]);
    const b = norm(doc[df.fieldname]);
    let same: boolean;
    if (isTableField(df)) {
      same = JSON.stringify(a ?? []) === JSON.stringify(b ?? []) || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((r, i) => (r as Doc).name === (b[i] as Doc).name));
    } else if (df.fieldtype === 'Date' || df.fieldtype === 'Datetime' || df.fieldtype === 'Time') {
      same = String(a) === String(b);
    } else same = a === b;
    if (!same) {
      const message = `Value cannot be changed for <strong>${fieldLabel(df)}</strong>`;
      throw new FrappeError('CannotChangeConstantError', { message, title: 'Message', excText: message });
    }
  }
}

const MAX_LENGTH_TYPES = new Set(['Data', 'Link', 'Dynamic Link', 'Password', 'Select', 'Read Only', 'Attach', 'Attach Image', 'Color', 'Autocomplete']);

/** `_validate_length`: varchar(140) columns (or `length`) refuse longer values. */
function validateLength(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const check = (m: DocTypeMeta, d: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (!MAX_LENGTH_TYPES.has(df.fieldtype)) continue;
      const value = d[df.fieldname];
      if (typeof value !== 'string') continue;
      const max = Number(df.length) || 140;
      if (value.length <= max) continue;
      const reference = row ? `${m.name}, Row ${row.idx}` : `${m.name} ${d.name ?? ''}`.trim();
      const message = `${reference}: '${fieldLabel(df)}' (${value}) will get truncated, as max characters allowed is ${max}`;
      throw new FrappeError('CharacterLengthExceededError', { message, title: 'Value too big', excText: message, httpStatus: 417 });
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row, row));
}

/** `_validate_non_negative`: `non_negative` numbers may not go below zero. */
function validateNonNegative(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const check = (m: DocTypeMeta, d: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (!df.non_negative || Number(d[df.fieldname] ?? 0) >= 0) continue;
      const message = `${row ? `Row #${row.idx}: ` : ''}${fieldLabel(df)} cannot be negative`;
      throw new FrappeError('NonNegativeError', { message, title: 'Negative Value', excText: message, httpStatus: 417 });
    }
  };
  check(meta, doc);
  forEachChild(ctx, meta, doc, (cm, row) => check(cm, row, row));
}

/** Python's `str()` of a value as Frappe holds it for a field (floats keep their `.0`; None). */
function pyStr(df: DocField | null, value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'number') {
    const float = df ? NUMERIC_FIELDS.has(df.fieldtype) && !['Int', 'Check'].includes(df.fieldtype) : false;
    return float && Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
  }
  return String(value);
}

/**
 * `validate_update_after_submit` → `_validate_update_after_submit` (frappe/model/document.py +
 * base_document.py [v15]): on a submitted document only `allow_on_submit` fields may change. The
 * parent's value fields and then its tables (compared by row count) are checked in meta order;
 * then every row, except new rows of an `allow_on_submit` table, against its stored copy — a new
 * row in any other table has no stored copy, and `frappe.get_doc` of it raises DoesNotExistError.
 * Message: "{Row #n:} Not allowed to change <b>label</b> after submission from <b>old</b> to <b>new</b>",
 * title "Cannot Update After Submit".
 */
function validateUpdateAfterSubmit(ctx: Ctx, meta: DocTypeMeta, doc: Doc, before: Doc): void {
  const fail = (df: DocField, old: string, now: string, row?: Doc): never => {
    const prefix = row ? `Row #${row.idx}:` : '';
    const message = `${prefix} Not allowed to change <strong>${fieldLabel(df)}</strong> after submission from <strong>${old}</strong> to <strong>${now}</strong>`;
    throw new FrappeError('UpdateAfterSubmitError', { message, title: 'Cannot Update After Submit', excText: message });
  };
  const check = (m: DocTypeMeta, d: Doc, old: Doc, row?: Doc) => {
    for (const df of m.fields) {
      if (!isValueField(df) || df.allow_on_submit || df.is_virtual) continue;
      const a = old[df.fieldname] ?? null;
      const b = d[df.fieldname] ?? null;
      if (!a && !b) continue; // `if df and not df.allow_on_submit and (self.get(key) or db_value)`
      if (JSON.stringify(cast(df, a)) === JSON.stringify(cast(df, b))) continue;
      fail(df, pyStr(df, a), pyStr(df, cast(df, b)), row);
    }
  };
  check(meta, doc, before);
  const tables = meta.fields.filter(isTableField);
  for (const tf of tables) {
    if (tf.allow_on_submit) continue;
    const oldRows = (before[tf.fieldname] as Doc[]) ?? [];
    const newRows = (doc[tf.fieldname] as Doc[]) ?? [];
    if ((oldRows.length || newRows.length) && oldRows.length !== newRows.length) fail(tf, String(oldRows.length), String(newRows.length));
  }
  for (const tf of tables) {
    const childMeta = ctx.site.meta(tf.options ?? '');
    if (!childMeta) continue;
    const oldRows = (before[tf.fieldname] as Doc[]) ?? [];
    for (const row of (doc[tf.fieldname] as Doc[]) ?? []) {
      const old = oldRows.find((o) => o.name === row.name);
      if (!old) {
        if (tf.allow_on_submit) continue;
        throw doesNotExist(childMeta.name, String(row.name));
      }
      check(childMeta, row, old, row);
    }
  }
}

function forEachChild(ctx: Ctx, meta: DocTypeMeta, doc: Doc, fn: (m: DocTypeMeta, row: Doc) => void): void {
  for (const tf of meta.fields.filter(isTableField)) {
    const childMeta = ctx.site.meta(tf.options ?? '');
    if (!childMeta) continue;
    for (const row of (doc[tf.fieldname] as Doc[]) ?? []) fn(childMeta, row);
  }
}

// ---- children ---------------------------------------------------------------------------

/**
 * `set_parent_in_children` + `_init_child`: every row becomes a full child document with
 * parent/parenttype/parentfield/idx; rows without a name are new and get a hash name.
 */
/**
 * Child rows that came in without a name, per document being saved: its insert or save answer marks
 * them `"__unsaved": 1` — and only them, rows sent with their name carry no flag (recordings
 * doctype-insert-custom, sla-update-replace-table, lead-put-table-rows vs client-submit; the
 * recordings' README lists it among the JSON types to compare). The stored rows never hold it.
 */
const unsavedRows = new WeakMap<Doc, Set<string>>();

function markUnsaved(meta: DocTypeMeta, out: Doc, doc: Doc): Doc {
  const names = unsavedRows.get(doc);
  if (!names?.size) return out;
  for (const tf of meta.fields.filter(isTableField)) {
    for (const row of (out[tf.fieldname] as Doc[] | undefined) ?? []) if (names.has(String(row.name))) row.__unsaved = 1;
  }
  return out;
}

function prepareChildren(ctx: Ctx, meta: DocTypeMeta, doc: Doc, now: string, before: Doc | null): void {
  const unsaved = new Set<string>();
  unsavedRows.set(doc, unsaved);
  for (const tf of meta.fields.filter(isTableField)) {
    const childMeta = ctx.site.meta(tf.options ?? '');
    const rows = doc[tf.fieldname];
    if (!Array.isArray(rows)) {
      doc[tf.fieldname] = [];
      continue;
    }
    const oldRows = new Map(((before?.[tf.fieldname] as Doc[]) ?? []).map((r) => [r.name as string, r]));
    doc[tf.fieldname] = rows.map((raw: unknown, i: number) => {
      const input = (raw && typeof raw === 'object' ? raw : {}) as Doc;
      const existing = input.name ? oldRows.get(input.name as string) : undefined;
      const row: Doc = childMeta ? newDoc(ctx, childMeta.name, {}) : { doctype: tf.options };
      if (existing) Object.assign(row, existing);
      Object.assign(row, input);
      if (childMeta) {
        castAll(childMeta, row);
        setMissingDefaults(ctx, childMeta, row);
      }
      row.doctype = tf.options;
      // Insert renames every row (set_new_name); a save keeps a new row's supplied name (set_name_in_children).
      row.name = existing ? existing.name : before && input.name ? input.name : generateHash();
      if (!input.name) unsaved.add(String(row.name));
      delete row.__unsaved;
      row.parent = doc.name;
      row.parenttype = meta.name;
      row.parentfield = tf.fieldname;
      row.idx = typeof input.idx === 'number' && input.idx > 0 ? input.idx : i + 1;
      row.docstatus = doc.docstatus;
      row.owner = existing?.owner ?? doc.owner;
      row.creation = existing?.creation ?? now;
      row.modified = now;
      row.modified_by = ctx.user;
      return row;
    });
  }
}

// ---- insert / save ------------------------------------------------------------------------

/** Field types that only lay the form out (frappe/model/__init__.py `display_fieldtypes` [v15]). */
const DISPLAY_FIELDTYPES = new Set(['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Image', 'Fold', 'Heading']);

/**
 * `validate_higher_perm_levels` → `reset_values_if_no_permlevel_access` (frappe/model/document.py,
 * base_document.py [v15]): a field whose permlevel > 0 the user cannot write keeps its stored value
 * (its default on insert) whatever was sent — silently, no error. Rows of tables are reset only on a
 * save, from their stored copy. Skipped for Administrator, `ignore_permissions` and installs. A
 * table is not a display field type, so a permlevel-1 table (User.roles) is reset as a whole.
 */
function validateHigherPermLevels(ctx: Ctx, meta: DocTypeMeta, doc: Doc, before: Doc | null, flags: DocFlags): void {
  if (flags.ignorePermissions || ctx.site.installing || ctx.user === 'Administrator') return;
  const access = permlevelAccess(ctx.site, meta, ctx.user, 'write');
  const layout = (df: DocField) => DISPLAY_FIELDTYPES.has(df.fieldtype);
  const high = meta.fields.filter((df) => Number(df.permlevel ?? 0) > 0 && !layout(df) && !access.has(Number(df.permlevel)));
  if (high.length) {
    const ref = before ?? newDoc(ctx, meta.name, {});
    for (const df of high) doc[df.fieldname] = structuredClone(ref[df.fieldname] ?? (isTableField(df) ? [] : null));
  }
  if (!before) return;
  for (const tf of meta.fields.filter(isTableField)) {
    const childMeta = ctx.site.meta(tf.options ?? '');
    const hidden = (childMeta?.fields ?? []).filter((df) => Number(df.permlevel ?? 0) > 0 && !layout(df) && !access.has(Number(df.permlevel)));
    if (!hidden.length) continue;
    const stored = new Map(((before[tf.fieldname] as Doc[]) ?? []).map((r) => [r.name, r]));
    for (const row of (doc[tf.fieldname] as Doc[]) ?? []) {
      const old = stored.get(row.name);
      if (!old) continue;
      for (const df of hidden) row[df.fieldname] = old[df.fieldname] ?? null;
    }
  }
}

function checkPermission(ctx: Ctx, meta: DocTypeMeta, ptype: PermType, doc: Doc, flags: DocFlags): void {
  if (flags.ignorePermissions) return;
  if (!hasPermission(ctx.site, meta.name, ptype, ctx.user, doc)) throw noPermission(meta.name, ptype);
}

/** `Document.insert()` [v15]. `data` may carry child rows; docstatus 1 inserts and submits. */
export function insertDoc(ctx: Ctx, data: Doc, flags: DocFlags = {}): Doc {
  const doctype = String(data.doctype ?? '');
  const meta = requireMeta(ctx.site, doctype);
  if (meta.istable) {
    throw new FrappeError('ValidationError', { message: `Cannot insert a child table row (${doctype}) on its own`, excText: doctype });
  }
  const doc = newDoc(ctx, doctype, {});
  for (const [k, v] of Object.entries(data)) if (v !== undefined) doc[k] = v;
  castAll(meta, doc);
  setMissingDefaults(ctx, meta, doc);
  const now = ctx.site.now();
  doc.owner = ctx.user;
  doc.creation = now;
  doc.modified = now;
  doc.modified_by = ctx.user;
  doc.docstatus = Number(doc.docstatus ?? 0) || 0;
  doc.idx = Number(doc.idx ?? 0) || 0;
  // Document.__init__ → append → _init_child: child rows carry their idx from the start, so the
  // link check below can name "Row #n".
  for (const tf of meta.fields.filter(isTableField)) {
    const rows = doc[tf.fieldname];
    if (!Array.isArray(rows)) continue;
    rows.forEach((r: unknown, i: number) => {
      if (r && typeof r === 'object' && !(Number((r as Doc).idx) > 0)) (r as Doc).idx = i + 1;
    });
  }
  // check_if_latest → check_docstatus_transition(0)
  const action = transition(ctx, meta, 0, doc, flags);
  const args: HookArgs = { ctx, doc, before: null, meta, action, flags };
  validateLinks(ctx, meta, doc, flags);
  checkPermission(ctx, meta, 'create', doc, flags);
  run('before_insert', args);
  if (meta.issingle) doc.name = doctype;
  else if (flags.setName) doc.name = flags.setName as string; // insert(set_name=…) skips autoname
  else {
    const prompt = meta.autoname?.toLowerCase() === 'prompt';
    // set_new_name: a client-supplied name survives only for Prompt DocTypes.
    if (!prompt) doc.name = null;
    run('autoname', args);
    setNewName(ctx.site, meta, doc, Boolean(doc.name) && !prompt);
  }
  validateHigherPermLevels(ctx, meta, doc, null, flags);
  prepareChildren(ctx, meta, doc, now, null);
  runBeforeSave(args);
  validateAll(ctx, meta, doc, flags, null);
  // db_insert: primary key, then unique indexes.
  if (!meta.issingle && findName(ctx.site, doctype, doc.name)) {
    throw new FrappeError('DuplicateEntryError', {
      extraMessages: [{ message: `${doctype} <strong>${doc.name}</strong> already exists`, title: 'Duplicate Name', indicator: 'red' }],
      excText: `('${doctype}', '${doc.name}', IntegrityError(1062, "Duplicate entry '${doc.name}' for key 'PRIMARY'"))`,
    });
  }
  validateUnique(ctx, meta, doc);
  write(ctx, meta, doc);
  run('after_insert', args);
  postSave(args);
  const inserted = ctx.site.db.get(doctype, String(doc.name));
  return inserted ? markUnsaved(meta, keepMemoryTypes(inserted, memoryTypes.get(doc)), doc) : doc;
}

/**
 * `Document.save()` [v15] of `doc` (the full document after the caller's changes).
 * `originalModified` is what the caller believes `modified` is; null skips the check
 * (REST PUT without `modified` is last-write-wins because the doc is loaded from the DB).
 */
export function saveDoc(ctx: Ctx, doc: Doc, originalModified: string | null, flags: DocFlags = {}): Doc {
  const meta = requireMeta(ctx.site, String(doc.doctype));
  const key = meta.issingle ? meta.name : String(doc.name);
  const stored = ctx.site.db.get(meta.name, key);
  if (!stored) {
    if (meta.issingle) return insertDoc(ctx, { ...doc, doctype: meta.name }, flags);
    throw doesNotExist(meta.name, key);
  }
  const before = stored;
  castAll(meta, doc);
  setMissingDefaults(ctx, meta, doc);
  checkPermission(ctx, meta, 'write', before, flags);
  const now = ctx.site.now();
  doc.name = before.name;
  doc.owner = before.owner;
  doc.creation = before.creation;
  doc.modified = now;
  doc.modified_by = ctx.user;
  doc.docstatus = Number(doc.docstatus ?? 0) || 0;
  // check_if_latest [v15]: string compare of DB `modified` with the caller's copy.
  if (originalModified !== null && String(before.modified) !== String(originalModified)) {
    const message = `Error: Document has been modified after you have opened it (${before.modified}, ${now}). Please refresh to get the latest document.`;
    throw new FrappeError('TimestampMismatchError', { message, title: 'Message', excText: message });
  }
  const action = transition(ctx, meta, Number(before.docstatus ?? 0), doc, flags);
  const args: HookArgs = { ctx, doc, before, meta, action, flags };
  prepareChildren(ctx, meta, doc, now, before);
  validateHigherPermLevels(ctx, meta, doc, before, flags);
  // `_validate_links` returns early for a cancel.
  if (action !== 'cancel') validateLinks(ctx, meta, doc, flags);
  runBeforeSave(args);
  if (action !== 'cancel') validateAll(ctx, meta, doc, flags, before);
  if (action === 'update_after_submit') validateUpdateAfterSubmit(ctx, meta, doc, before);
  if (action === 'update_after_submit' || action === 'submit') validateSetOnlyOnce(meta, doc, before);
  validateUnique(ctx, meta, doc);
  write(ctx, meta, doc);
  postSave(args);
  const saved = ctx.site.db.get(meta.name, key);
  return saved ? markUnsaved(meta, keepMemoryTypes(saved, memoryTypes.get(doc)), doc) : doc;
}

/** `check_docstatus_transition` [v15]. */
function transition(ctx: Ctx, meta: DocTypeMeta, from: number, doc: Doc, flags: DocFlags): Action {
  const to = Number(doc.docstatus ?? 0);
  if (from === 0) {
    if (to === 0) return 'save';
    if (to === 1) {
      checkPermission(ctx, meta, 'submit', doc, flags);
      return 'submit';
    }
    if (to === 2) {
      // Raised directly (no msgprint), so no _server_messages.
      throw new FrappeError('DocstatusTransitionError', { excText: 'Cannot change docstatus from 0 (Draft) to 2 (Cancelled)' });
    }
  } else if (from === 1) {
    if (to === 1) {
      checkPermission(ctx, meta, 'submit', doc, flags);
      return 'update_after_submit';
    }
    if (to === 2) {
      checkPermission(ctx, meta, 'cancel', doc, flags);
      return 'cancel';
    }
    if (to === 0) {
      // Raised directly (no msgprint), so no _server_messages.
      throw new FrappeError('DocstatusTransitionError', { excText: 'Cannot change docstatus from 1 (Submitted) to 0 (Draft)' });
    }
  } else if (from === 2) {
    throw new FrappeError('ValidationError', { excText: 'Cannot edit cancelled document' });
  }
  throw new FrappeError('ValidationError', { excText: 'Invalid docstatus' });
}

function runBeforeSave(args: HookArgs): void {
  if (args.flags.ignoreValidate) return;
  switch (args.action) {
    case 'save':
      run('before_validate', args);
      run('validate', args);
      run('before_save', args);
      break;
    case 'submit':
      run('before_validate', args);
      run('validate', args);
      run('before_submit', args);
      break;
    case 'cancel':
      run('before_cancel', args);
      break;
    case 'update_after_submit':
      run('before_update_after_submit', args);
      break;
  }
}

function validateAll(ctx: Ctx, meta: DocTypeMeta, doc: Doc, flags: DocFlags, before: Doc | null): void {
  castAll(meta, doc);
  validateMandatory(ctx, meta, doc, flags);
  validateDataFields(ctx, meta, doc);
  validateSelects(ctx, meta, doc);
  validateNonNegative(ctx, meta, doc);
  validateLength(ctx, meta, doc);
  sanitizeContent(ctx.site, meta, doc);
  if (before) validateSetOnlyOnce(meta, doc, before);
}

/**
 * Field types stored in varchar/text columns (frappe/database/mariadb/database.py `type_map` [v15]):
 * a number written there reads back as text, e.g. a Dynamic Link holding an HD Ticket's integer name.
 */
const TEXT_COLUMN_TYPES = new Set(['Data', 'Link', 'Dynamic Link', 'Select', 'Small Text', 'Text', 'Long Text', 'Read Only', 'Autocomplete', 'Phone', 'Color', 'Barcode']);

const memoryTypes = new WeakMap<Doc, Map<string, number>>();

function write(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const memory = new Map<string, number>();
  for (const df of meta.fields) {
    if (TEXT_COLUMN_TYPES.has(df.fieldtype) && typeof doc[df.fieldname] === 'number') memory.set(df.fieldname, doc[df.fieldname] as number);
  }
  memoryTypes.set(doc, memory);
  const row: Doc = {};
  for (const k of DEFAULT_FIELDS) row[k] = doc[k] ?? null;
  for (const df of meta.fields) {
    if (isTableField(df)) row[df.fieldname] = ((doc[df.fieldname] as Doc[]) ?? []).map((r) => ({ ...r, docstatus: doc.docstatus }));
    else if (isValueField(df)) row[df.fieldname] = TEXT_COLUMN_TYPES.has(df.fieldtype) && typeof doc[df.fieldname] === 'number' ? String(doc[df.fieldname]) : (doc[df.fieldname] ?? null);
  }
  for (const k of ['_user_tags', '_comments', '_assign', '_liked_by', '_seen']) if (doc[k] !== undefined) row[k] = doc[k];
  if (meta.issingle) {
    // A Single lives in tabSingles as field/value text: no `creation` is kept, and `idx`, which no
    // DocField casts back (get_singles_dict), reads back as the text "0" (recordings single-put,
    // single-get-fcrm-settings); the save's own answer keeps the number it had in memory.
    delete row.creation;
    delete doc.creation;
    memory.set('idx', Number(row.idx ?? 0));
    row.idx = String(row.idx ?? 0);
  }
  savePasswords(ctx, meta, row);
  ctx.site.db.put(meta.name, String(row.name), row);
  Object.assign(doc, row);
  // The document in memory keeps the value `_validate_links` gave it (an int name); only the
  // column holds its text.
  keepMemoryTypes(doc, memory);
}

/**
 * Insert and save answer with the document as it is in memory (api/v1.py `create_doc`/`update_doc`
 * return `doc`), so a link set to an integer name is a number there and text when read back.
 */
function keepMemoryTypes(out: Doc, memory: Map<string, number> | undefined): Doc {
  for (const [field, value] of memory ?? []) if (out[field] === String(value)) out[field] = value;
  return out;
}

/** `_save_passwords`: the secret goes to `__Auth`; the column keeps asterisks. */
function savePasswords(ctx: Ctx, meta: DocTypeMeta, row: Doc): void {
  for (const df of meta.fields) {
    if (df.fieldtype !== 'Password') continue;
    const value = row[df.fieldname];
    if (typeof value !== 'string' || !value || /^\*+$/.test(value)) continue;
    ctx.site.setPassword(meta.name, String(row.name), df.fieldname, value);
    row[df.fieldname] = '*'.repeat(value.length);
  }
}

/** `run_post_save_methods` [v15]. */
function postSave(args: HookArgs): void {
  switch (args.action) {
    case 'save':
      run('on_update', args);
      break;
    case 'submit':
      run('on_update', args);
      run('on_submit', args);
      break;
    case 'cancel':
      run('on_cancel', args);
      checkNoLinks(args.ctx, args.meta, args.doc, 'Cancel');
      break;
    case 'update_after_submit':
      run('on_update_after_submit', args);
      break;
  }
  if (args.flags.notifyUpdate !== false) notifyUpdate(args.ctx, args.meta, args.doc);
  saveVersion(args);
  run('on_change', args);
}

/**
 * `Document.notify_update` (frappe/frappe:frappe/model/document.py [v15]): `doc_update` to
 * `doc:<dt>/<name>` always; `list_update` to `doctype:<dt>` unless the DocType is read_only,
 * single or a child table. Both after commit.
 */
export function notifyUpdate(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  ctx.site.publish('doc_update', { modified: doc.modified, doctype: meta.name, name: doc.name }, `doc:${meta.name}/${doc.name}`);
  if (!meta.read_only && !meta.issingle && !meta.istable) {
    ctx.site.publish('list_update', { doctype: meta.name, name: doc.name, user: ctx.user }, `doctype:${meta.name}`);
  }
}

/** Fields whose changes Version does not record (frappe/core/doctype/version/version.py `get_diff` [v15] diffs every value field). */
const VERSION_SKIP = new Set(['Password']);

/**
 * `save_version`: only for track_changes DocTypes, only on update (an insert writes a Version only
 * with `updater_reference`), and only when something changed (version.py `set_diff`).
 */
function saveVersion({ ctx, meta, doc, before, flags }: HookArgs): void {
  if (!meta.track_changes || meta.name === 'Version' || flags.ignoreVersion || !before) return;
  const diff = versionDiff(ctx, meta, before, doc);
  if (!diff) return;
  insertDoc(
    ctx,
    { doctype: 'Version', ref_doctype: meta.name, docname: String(doc.name), data: JSON.stringify(diff, null, 1) },
    { ignorePermissions: true },
  );
}

function versionDiff(ctx: Ctx, meta: DocTypeMeta, old: Doc, cur: Doc): Record<string, unknown> | null {
  const changed: unknown[] = [];
  const added: unknown[] = [];
  const removed: unknown[] = [];
  const rowChanged: unknown[] = [];
  for (const df of meta.fields) {
    if (isTableField(df)) {
      const childMeta = ctx.site.meta(df.options ?? '');
      const oldRows = (old[df.fieldname] as Doc[]) ?? [];
      const newRows = (cur[df.fieldname] as Doc[]) ?? [];
      const oldByName = new Map(oldRows.map((r) => [r.name, r]));
      const newNames = new Set(newRows.map((r) => r.name));
      for (const [i, r] of newRows.entries()) {
        const o = oldByName.get(r.name);
        if (!o) {
          added.push([df.fieldname, r]);
          continue;
        }
        const rc: unknown[] = [];
        for (const cdf of childMeta?.fields ?? []) {
          if (!isValueField(cdf) || VERSION_SKIP.has(cdf.fieldtype)) continue;
          if (!sameValue(o[cdf.fieldname], r[cdf.fieldname])) rc.push([cdf.fieldname, o[cdf.fieldname] ?? null, r[cdf.fieldname] ?? null]);
        }
        if (rc.length) rowChanged.push([df.fieldname, i, r.name, rc]); // 0-based, as enumerate()
      }
      for (const r of oldRows) if (!newNames.has(r.name)) removed.push([df.fieldname, r]);
      continue;
    }
    if (!isValueField(df) || VERSION_SKIP.has(df.fieldtype)) continue;
    if (!sameValue(old[df.fieldname], cur[df.fieldname])) changed.push([df.fieldname, old[df.fieldname] ?? null, cur[df.fieldname] ?? null]);
  }
  if (!sameValue(old.docstatus, cur.docstatus)) changed.push(['docstatus', old.docstatus ?? 0, cur.docstatus ?? 0]);
  if (!changed.length && !added.length && !removed.length && !rowChanged.length) return null;
  return { added, changed, data_import: null, removed, row_changed: rowChanged, updater_reference: null };
}

function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
  return norm(a) === norm(b);
}

// ---- delete ---------------------------------------------------------------------------------

/** `frappe.delete_doc` (frappe/model/delete_doc.py [v15]). */
export function deleteDoc(ctx: Ctx, doctype: string, name: string, flags: DocFlags = {}): void {
  const meta = requireMeta(ctx.site, doctype);
  const doc = ctx.site.db.get(doctype, name);
  if (!doc) throw doesNotExist(doctype, name);
  if (!flags.ignorePermissions && !hasPermission(ctx.site, doctype, 'delete', ctx.user, doc)) {
    const message = `User not allowed to delete ${doctype}: ${name}`;
    throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
  }
  if (doc.docstatus === 1) {
    // delete_doc.py check_permission_and_not_submitted [v15] (recording so-delete-submitted).
    const message = `${doctype} ${name}: Submitted Record cannot be deleted. You must <a href='https://docs.erpnext.com//docs/user/manual/en/setting-up/articles/delete-submitted-document' target='_blank'> Cancel </a> it first.`;
    throw new FrappeError('ValidationError', { message, title: 'Message', excText: message });
  }
  const args: HookArgs = { ctx, doc, before: doc, meta, action: 'save', flags };
  run('on_trash', args);
  ctx.site.db.remove(doctype, name);
  try {
    checkNoLinks(ctx, meta, doc);
    checkNoDynamicLinks(ctx, meta, doc);
  } catch (err) {
    // delete_doc: a DocType that can be switched off says so instead (recordings role-delete-linked,
    // customer-delete-linked-417), after the link message.
    if (!(err instanceof FrappeError) || err.excType !== 'LinkExistsError' || !meta.fields.some((f) => f.fieldname === 'disabled' || f.fieldname === 'enabled')) throw err;
    const message = `You can disable this ${doctype} instead of deleting it.`;
    throw new FrappeError('LinkExistsError', { message, title: 'Message', excText: message, httpStatus: 417, extraMessages: err.serverMessages });
  }
  revertSeriesIfLast(ctx, meta, doc);
  run('after_delete', args);
  notifyUpdate(ctx, meta, doc);
}

/** `check_if_doc_is_linked`: a Link from another (non-cancelled) document blocks the delete. */
function checkNoLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc, method: 'Delete' | 'Cancel' = 'Delete'): void {
  // frappe/hooks.py `ignore_links_on_delete` (Communication, Version, Notification Log, …); the
  // customisation records are the emulator's own shortcut. DocType is not ignored: its DocPerm rows
  // block deleting a Role they name (recording role-delete-linked).
  const ignore = new Set(['Version', 'Communication', 'Notification Log', 'Custom Field', 'Custom DocPerm', 'Property Setter']);
  for (const dtRow of ctx.site.db.scan('DocType')) {
    const other = ctx.site.meta(String(dtRow.name));
    if (!other || other.istable || ignore.has(other.name)) continue;
    const links = linkFieldsTo(ctx, other, meta.name);
    if (!links.length) continue;
    for (const row of ctx.site.db.scan(other.name)) {
      // A cancel is blocked only by submitted documents; a delete by any (delete_doc.py `check_if_doc_is_linked`).
      if (method === 'Cancel' && row.docstatus !== 1) continue;
      if (row.name === doc.name && other.name === meta.name) continue;
      for (const { table, field } of links) {
        const rows = table ? ((row[table] as Doc[]) ?? []) : [row];
        const hit = rows.find((r) => r[field] === doc.name);
        if (hit) throw linkExists(meta.name, String(doc.name), other.name, String(row.name), table ? `at Row: ${hit.idx}` : '');
      }
    }
  }
}

/**
 * `raise_link_exists_exception` (frappe/model/delete_doc.py [v15]): the same "delete or cancel"
 * sentence for a delete and a cancel, links as `/app/Form/<doctype>/<name>`, then the row (or
 * nothing, which leaves a trailing space) — recordings lead-status-delete-linked,
 * so-cancel-linked-by-submitted-wo, customer-delete-dynamic-linked.
 */
function linkExists(doctype: string, name: string, refDoctype: string, refName: string, row: string): FrappeError {
  const message = `Cannot delete or cancel because ${doctype} <a href="/app/Form/${doctype}/${name}">${name}</a> is linked with ${refDoctype === refName ? '' : refDoctype} <a href="/app/Form/${refDoctype}/${refName}">${refName}</a> ${row}`;
  return new FrappeError('LinkExistsError', { message, title: 'Message', excText: message, httpStatus: 417 });
}

/**
 * `check_if_doc_is_dynamically_linked` [v15]: a Dynamic Link field (in a document or in a child
 * row) that names this document blocks its delete — a Contact's links table naming a Customer
 * (recording customer-delete-dynamic-linked), a sync request's reference (restricted-lead-delete-dynamic-linked).
 */
function checkNoDynamicLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  for (const dtRow of ctx.site.db.scan('DocType')) {
    const other = ctx.site.meta(String(dtRow.name));
    if (!other || other.istable || other.name === 'Version' || other.name === 'Communication') continue;
    const targets: { table?: string; field: string; options: string }[] = [];
    for (const df of other.fields) {
      if (df.fieldtype === 'Dynamic Link' && df.options) targets.push({ field: df.fieldname, options: df.options });
      if (isTableField(df)) {
        for (const cdf of ctx.site.meta(df.options ?? '')?.fields ?? []) {
          if (cdf.fieldtype === 'Dynamic Link' && cdf.options) targets.push({ table: df.fieldname, field: cdf.fieldname, options: cdf.options });
        }
      }
    }
    if (!targets.length) continue;
    for (const row of ctx.site.db.scan(other.name)) {
      if (row.docstatus === 2) continue;
      for (const t of targets) {
        const rows = t.table ? ((row[t.table] as Doc[]) ?? []) : [row];
        const hit = rows.find((r) => r[t.options] === meta.name && String(r[t.field]) === String(doc.name));
        if (hit) throw linkExists(meta.name, String(doc.name), other.name, String(row.name), t.table ? `at Row: ${hit.idx}` : '');
      }
    }
  }
}

/**
 * `update_naming_series` → `revert_series_if_last` (frappe/model/naming.py [v15]): deleting the
 * newest document of a naming series winds the series back, so its name comes back for the next
 * document (recordings README "Generated names"; rt-restricted-subscriptions).
 */
function revertSeriesIfLast(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const autoname = (meta.autoname ?? '').trim();
  let series: string | null = null;
  if (autoname.startsWith('naming_series:')) series = (doc.naming_series as string) || null;
  else if (autoname && !/^(prompt|field:|hash|autoincrement|format:)/i.test(autoname) && (autoname.includes('#') || autoname.includes('.'))) series = autoname;
  if (!series) return;
  const name = String(doc.name);
  const digits = /(\d+)$/.exec(name);
  if (!digits) return;
  const prefix = name.slice(0, name.length - digits[1]!.length);
  ctx.site.db.revertSeries(prefix, Number(digits[1]));
}

function linkFieldsTo(ctx: Ctx, meta: DocTypeMeta, target: string): { table?: string; field: string }[] {
  const out: { table?: string; field: string }[] = [];
  for (const df of meta.fields) {
    if (df.fieldtype === 'Link' && df.options === target) out.push({ field: df.fieldname });
    if (isTableField(df)) {
      const cm = ctx.site.meta(df.options ?? '');
      for (const cdf of cm?.fields ?? []) if (cdf.fieldtype === 'Link' && cdf.options === target) out.push({ table: df.fieldname, field: cdf.fieldname });
    }
  }
  return out;
}

export function slug(doctype: string): string {
  return doctype.toLowerCase().replace(/ /g, '-');
}

/** `frappe.msgprint` without raising: shows in `_server_messages` of a successful response. */
export function msgprint(ctx: Ctx, message: string, title = 'Message', indicator?: string): void {
  ctx.messages.push(indicator ? { message, title, indicator } : { message, title });
}
