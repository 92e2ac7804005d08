/**
 * Writing a validated document to the database (`db_insert`/`db_update`): the row as its columns
 * hold it (numbers in text columns become text, a Single's `idx` text), passwords moved to `__Auth`,
 * while the document in memory, which insert and save answer with, keeps the types it had.
 */
import type { Doc } from '../database.js';
import { DEFAULT_FIELDS, isTableField, isValueField, type DocTypeMeta } from '../meta.js';
import type { Ctx } from './context.js';

/**
 * Field types stored in varchar/text columns (frappe/database/mariadb/database.py `type_map` [v15]):
 * a number written there reads back as text, e.g. a Dynamic Link holding an HD Ticket's integer name.
 */
const TEXT_COLUMN_TYPES = new Set(['Data', 'Link', 'Dynamic Link', 'Select', 'Small Text', 'Text', 'Long Text', 'Read Only', 'Autocomplete', 'Phone', 'Color', 'Barcode']);

export const memoryTypes = new WeakMap<Doc, Map<string, number>>();

export function write(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
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
export function keepMemoryTypes(out: Doc, memory: Map<string, number> | undefined): Doc {
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
