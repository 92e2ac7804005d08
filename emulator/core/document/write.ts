/**
 * Writing a validated document to the database (`db_insert`/`db_update`): the row as its columns
 * hold it (numbers in text columns become text, a Single's `idx` text), passwords moved to `__Auth`,
 * while the document in memory, which insert and save answer with, keeps the types it had.
 */
import type { Doc } from '../database.js';
import { DEFAULT_FIELDS, isTableField, isValueField, type DocField, type DocTypeMeta } from '../meta.js';
import { cast, columnValue } from './cast.js';
import { tableOnlyColumns } from './columns.js';
import type { Ctx } from './context.js';

/**
 * Field types stored in varchar/text columns (frappe/database/mariadb/database.py `type_map` [v15]):
 * a number written there reads back as text, e.g. a Dynamic Link holding an HD Ticket's integer name.
 */
const TEXT_COLUMN_TYPES = new Set(['Data', 'Link', 'Dynamic Link', 'Select', 'Small Text', 'Text', 'Long Text', 'Read Only', 'Autocomplete', 'Phone', 'Color', 'Barcode']);

/**
 * What the document in memory holds where its column holds something else: per field (and per
 * child row, by name) the column's value and the value in memory.
 */
interface Memory {
  fields: Map<string, [unknown, unknown]>;
  rows: Map<string, Map<string, [unknown, unknown]>>;
}

export const memoryTypes = new WeakMap<Doc, Memory>();

/** The column's form of a value field, and whether it differs from the value in memory. */
function column(df: DocField, value: unknown): unknown {
  if (TEXT_COLUMN_TYPES.has(df.fieldtype) && typeof value === 'number') return String(value);
  return columnValue(df, value ?? null);
}

function remember(into: Map<string, [unknown, unknown]>, df: DocField, value: unknown, stored: unknown): void {
  if (stored !== (value ?? null)) into.set(df.fieldname, [stored, value]);
}

/** A table-only column (columns.ts) the row lacks: the column's default, None in memory. */
function fillTableColumns(doctype: string, row: Doc, kept: Map<string, [unknown, unknown]>): void {
  for (const col of tableOnlyColumns(doctype)) {
    if (row[col.fieldname] !== undefined && row[col.fieldname] !== null) continue;
    row[col.fieldname] = cast(col, col.default);
    kept.set(col.fieldname, [row[col.fieldname], null]);
  }
}

export function write(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  const memory: Memory = { fields: new Map(), rows: new Map() };
  memoryTypes.set(doc, memory);
  const row: Doc = {};
  for (const k of DEFAULT_FIELDS) row[k] = doc[k] ?? null;
  for (const df of meta.fields) {
    if (isTableField(df)) {
      const childMeta = ctx.site.meta(df.options ?? '');
      row[df.fieldname] = ((doc[df.fieldname] as Doc[]) ?? []).map((r) => {
        const out: Doc = { ...r, docstatus: doc.docstatus };
        const kept = new Map<string, [unknown, unknown]>();
        for (const cf of (childMeta?.fields ?? []).filter(isValueField)) {
          if (!(cf.fieldname in r)) continue;
          out[cf.fieldname] = column(cf, r[cf.fieldname]);
          remember(kept, cf, r[cf.fieldname], out[cf.fieldname]);
        }
        fillTableColumns(String(df.options ?? ''), out, kept);
        if (kept.size) memory.rows.set(String(r.name), kept);
        return out;
      });
    } else if (isValueField(df)) {
      row[df.fieldname] = column(df, doc[df.fieldname]);
      remember(memory.fields, df, doc[df.fieldname], row[df.fieldname]);
    }
  }
  fillTableColumns(meta.name, row, memory.fields);
  for (const k of ['_user_tags', '_comments', '_assign', '_liked_by', '_seen']) if (doc[k] !== undefined) row[k] = doc[k];
  if (meta.issingle) {
    // A Single lives in tabSingles as field/value text: no `creation` is kept, and `idx`, which no
    // DocField casts back (get_singles_dict), reads back as the text "0" (recordings single-put,
    // single-get-fcrm-settings); the save's own answer keeps the number it had in memory.
    delete row.creation;
    delete doc.creation;
    row.idx = String(row.idx ?? 0);
    memory.fields.set('idx', [row.idx, Number(row.idx)]);
  }
  savePasswords(ctx, meta, row);
  ctx.site.db.put(meta.name, String(row.name), row);
  Object.assign(doc, row);
  // The document in memory keeps the values it had (an int name `_validate_links` gave a link, a
  // Time as sent); only the column holds their text.
  keepMemoryTypes(doc, memory);
}

/**
 * Insert and save answer with the document as it is in memory (api/v1.py `create_doc`/`update_doc`
 * return `doc`), so a link set to an integer name is a number there and text when read back, and a
 * Time is as it was sent (recording sla-insert) where a read answers "0:00:00" (sla-get).
 */
export function keepMemoryTypes(out: Doc, memory: Memory | undefined): Doc {
  if (!memory) return out;
  const restore = (d: Doc, kept: Map<string, [unknown, unknown]>) => {
    for (const [field, [stored, value]] of kept) if (d[field] === stored) d[field] = value;
  };
  restore(out, memory.fields);
  if (!memory.rows.size) return out;
  for (const v of Object.values(out)) {
    if (!Array.isArray(v)) continue;
    for (const r of v) {
      const kept = r && typeof r === 'object' ? memory.rows.get(String((r as Doc).name)) : undefined;
      if (kept) restore(r as Doc, kept);
    }
  }
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
