/**
 * The validations a save runs on a document and its child rows (frappe/model/base_document.py and
 * document.py [v15]): mandatory, Email data fields, selects, links (+ fetch_from), uniqueness,
 * set_only_once, length, non-negative numbers, update-after-submit, and the reset of fields above
 * the user's permlevel. Each raises the Frappe error and message the real site answers with; the
 * lifecycle decides which run for which action.
 */
import type { Doc } from '../database.js';
import { doesNotExist, FrappeError } from '../errors.js';
import {
  NO_VALUE_FIELDS,
  NUMERIC_FIELDS,
  fieldLabel,
  isTableField,
  isValueField,
  type DocField,
  type DocTypeMeta,
} from '../meta.js';
import { permlevelAccess } from '../permissions.js';
import { sanitizeContent } from '../sanitize.js';
import { cast, castAll, columnValue } from './cast.js';
import type { Ctx, DocFlags } from './context.js';
import { newDoc } from './defaults.js';
import { findName } from './lookup.js';

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
export function validateLinks(ctx: Ctx, meta: DocTypeMeta, doc: Doc, flags: DocFlags): void {
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
      // `get_fields_to_fetch(df.fieldname)`, less the fetch_if_empty ones that already hold a value.
      const toFetch = m.fields.filter(
        (f) => !NO_VALUE_FIELDS.has(f.fieldtype) && f.fetch_from?.startsWith(`${df.fieldname}.`) && !(f.fetch_if_empty && !isEmpty(d[f.fieldname])),
      );
      if (!name) {
        // With fields to fetch, get_invalid_links reads them with `frappe.db.get_value(…, as_dict=True)`,
        // which answers None for a missing target, and `if values:` then skips the link: neither
        // fetched nor reported (base_document.py 15.55.1; recording so-insert-missing-customer-accepted,
        // a Sales Order for a Customer that does not exist, whose customer_name fetches from it).
        // Without any, `_dict(name=None)` is truthy and the link is invalid.
        if (!toFetch.length) invalid.push(`${label}: ${value}`);
        continue;
      }
      const targetDoc = ctx.site.db.get(target, name);
      // `get_invalid_links` sets the field to `frappe.db.get_value(doctype, docname, "name")`: the
      // target's name as its column holds it — an int for autoincrement DocTypes (bigint `name`,
      // frappe/model/naming.py `autoincrement`), the exact case for text names.
      d[df.fieldname] = targetMeta.issingle ? value : (targetDoc?.name ?? name);
      if ((meta.is_submittable || m.is_submittable) && targetMeta.is_submittable && targetDoc?.docstatus === 2) cancelled.push(`${label}: ${value}`);
      for (const fetch of toFetch) {
        const source = (fetch.fetch_from ?? "").slice(df.fieldname.length + 1);
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
export function validateUnique(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
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
 * frappe/helpdesk hd_ticket.json autoname "autoincrement", seen on the real site: issue 11
 * item 3). Date/Datetime/Time compare as text; tables row by row. The emulator treats empty text
 * and null as one (its storage does not keep MariaDB's '' / NULL apart).
 */
export function validateSetOnlyOnce(meta: DocTypeMeta, doc: Doc, before: Doc): void {
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
export function validateUpdateAfterSubmit(ctx: Ctx, meta: DocTypeMeta, doc: Doc, before: Doc): void {
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
      if (JSON.stringify(columnValue(df, cast(df, a))) === JSON.stringify(columnValue(df, cast(df, b)))) continue;
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

/** Field types that only lay the form out (frappe/model/__init__.py `display_fieldtypes` [v15]). */
const DISPLAY_FIELDTYPES = new Set(['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Image', 'Fold', 'Heading']);

/**
 * `validate_higher_perm_levels` → `reset_values_if_no_permlevel_access` (frappe/model/document.py,
 * base_document.py [v15]): a field whose permlevel > 0 the user cannot write keeps its stored value
 * (its default on insert) whatever was sent — silently, no error. Rows of tables are reset only on a
 * save, from their stored copy. Skipped for Administrator, `ignore_permissions` and installs. A
 * table is not a display field type, so a permlevel-1 table (User.roles) is reset as a whole.
 */
export function validateHigherPermLevels(ctx: Ctx, meta: DocTypeMeta, doc: Doc, before: Doc | null, flags: DocFlags): void {
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

export function validateAll(ctx: Ctx, meta: DocTypeMeta, doc: Doc, flags: DocFlags, before: Doc | null): void {
  castAll(meta, doc);
  validateMandatory(ctx, meta, doc, flags);
  validateDataFields(ctx, meta, doc);
  validateSelects(ctx, meta, doc);
  validateNonNegative(ctx, meta, doc);
  validateLength(ctx, meta, doc);
  sanitizeContent(ctx.site, meta, doc);
  if (before) validateSetOnlyOnce(meta, doc, before);
}
