/**
 * Casting field values to the types their fieldtype stores (`cint`/`flt`, dates, datetimes and
 * times normalised), as Frappe's `_fix_numeric_types` and the DB driver do. Defaults, child rows,
 * validation and fetch_from all cast through here.
 */
import type { Doc } from '../database.js';
import { formatDatetime, parseDatetime, parseTime, formatTime } from '../datetime.js';
import { isValueField, type DocField, type DocTypeMeta } from '../meta.js';

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
      // A Time stays as it was sent while the document is in memory (`_fix_numeric_types` in
      // frappe/model/base_document.py [v15] casts numbers only): an insert answers "00:00:00" as
      // sent, and only the column reads back in timedelta's form (recordings sla-insert, sla-get).
      if (value === null || value === '') return null;
      return value;
    }
    default:
      return value;
  }
}

/**
 * The value as its column holds it and reads it back: a TIME column comes back as a `timedelta`,
 * which the JSON answer writes `str(timedelta)`, "0:00:00" (frappe/database/mariadb/database.py
 * `type_map` [v15]: Time → time(6); recording sla-get).
 */
export function columnValue(df: DocField, value: unknown): unknown {
  if (df.fieldtype !== 'Time' || typeof value !== 'string') return value;
  const s = parseTime(value);
  return s === null ? value : formatTime(s);
}

export function castAll(meta: DocTypeMeta, doc: Doc): void {
  for (const df of meta.fields) {
    if (isValueField(df) && df.fieldname in doc) doc[df.fieldname] = cast(df, doc[df.fieldname]);
  }
}
