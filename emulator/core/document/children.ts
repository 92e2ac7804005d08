/**
 * Child table rows: turning the rows a request sent into full child documents on insert and save
 * (`set_parent_in_children` + `_init_child` in frappe/model/base_document.py [v15]), appending a row
 * from a hook (`doc.append`), and marking in the answer the rows that came in without a name.
 */
import type { Doc } from '../database.js';
import { isTableField, type DocTypeMeta } from '../meta.js';
import { generateHash } from '../naming.js';
import { castAll } from './cast.js';
import type { Ctx } from './context.js';
import { newDoc, setMissingDefaults } from './defaults.js';

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

/**
 * Child rows that came in without a name, per document being saved: its insert or save answer marks
 * them `"__unsaved": 1` — and only them, rows sent with their name carry no flag (recordings
 * doctype-insert-custom, sla-update-replace-table, lead-put-table-rows vs client-submit; the
 * recordings' README lists it among the JSON types to compare). The stored rows never hold it.
 */
const unsavedRows = new WeakMap<Doc, Set<string>>();

export function markUnsaved(meta: DocTypeMeta, out: Doc, doc: Doc): Doc {
  const names = unsavedRows.get(doc);
  if (!names?.size) return out;
  for (const tf of meta.fields.filter(isTableField)) {
    for (const row of (out[tf.fieldname] as Doc[] | undefined) ?? []) if (names.has(String(row.name))) row.__unsaved = 1;
  }
  return out;
}

/**
 * `set_parent_in_children` + `_init_child`: every row becomes a full child document with
 * parent/parenttype/parentfield/idx; rows without a name are new and get a hash name.
 */
export function prepareChildren(ctx: Ctx, meta: DocTypeMeta, doc: Doc, now: string, before: Doc | null): void {
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
