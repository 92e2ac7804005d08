/**
 * The diff a Version row records for a track_changes DocType (frappe/core/doctype/version/version.py
 * [v15] `get_diff`): changed values, added and removed child rows, and changed rows. The lifecycle
 * writes the Version itself, after a save.
 */
import type { Doc } from '../database.js';
import { isTableField, isValueField, type DocTypeMeta } from '../meta.js';
import type { Ctx } from './context.js';

/** Fields whose changes Version does not record (frappe/core/doctype/version/version.py `get_diff` [v15] diffs every value field). */
const VERSION_SKIP = new Set(['Password']);

export function versionDiff(ctx: Ctx, meta: DocTypeMeta, old: Doc, cur: Doc): Record<string, unknown> | null {
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
