/**
 * DocType meta: the shape of Frappe's DocType JSON (frappe/frappe:frappe/core/doctype/doctype/doctype.json,
 * docfield.json, docperm.json [v15]) and the merge Frappe's `Meta` does on load
 * (frappe/frappe:frappe/model/meta.py [v15]): DocFields, then Custom Fields placed by
 * `insert_after` (`sort_fields`), Property Setters applied, and Custom DocPerms replacing
 * DocPerms when any exist for the DocType (`frappe.permissions.get_doctype_perms`).
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DocField {
  fieldname: string;
  fieldtype: string;
  label?: string;
  options?: string;
  reqd?: number;
  unique?: number;
  default?: string;
  read_only?: number;
  hidden?: number;
  set_only_once?: number;
  allow_on_submit?: number;
  no_copy?: number;
  permlevel?: number;
  fetch_from?: string;
  non_negative?: number;
  length?: number;
  in_list_view?: number;
  insert_after?: string;
  is_virtual?: number;
  /** Set on fields that come from a Custom Field record. */
  is_custom_field?: number;
  [key: string]: unknown;
}

export interface DocPerm {
  role: string;
  permlevel?: number;
  if_owner?: number;
  read?: number;
  write?: number;
  create?: number;
  delete?: number;
  submit?: number;
  cancel?: number;
  amend?: number;
  report?: number;
  export?: number;
  import?: number;
  print?: number;
  email?: number;
  share?: number;
  select?: number;
}

export interface DocTypeMeta {
  name: string;
  module?: string;
  istable?: number;
  issingle?: number;
  is_submittable?: number;
  track_changes?: number;
  read_only?: number;
  in_create?: number;
  custom?: number;
  autoname?: string;
  naming_rule?: string;
  title_field?: string;
  sort_field?: string;
  sort_order?: string;
  fields: DocField[];
  permissions: DocPerm[];
  _source?: string;
  [key: string]: unknown;
}

/** Field types that hold no value (frappe/model/__init__.py `no_value_fields` + layout fields [v15]). */
export const NO_VALUE_FIELDS = new Set([
  'Section Break',
  'Column Break',
  'Tab Break',
  'HTML',
  'Table',
  'Table MultiSelect',
  'Button',
  'Image',
  'Fold',
  'Heading',
]);
export const TABLE_FIELDS = new Set(['Table', 'Table MultiSelect']);
export const NUMERIC_FIELDS = new Set(['Int', 'Float', 'Currency', 'Percent', 'Check', 'Duration', 'Rating']);

/** Standard columns every document has (frappe/model/__init__.py `default_fields` [v15]). */
export const DEFAULT_FIELDS = ['doctype', 'name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx'];
export const CHILD_TABLE_FIELDS = ['parent', 'parentfield', 'parenttype'];
export const OPTIONAL_FIELDS = ['_user_tags', '_comments', '_assign', '_liked_by', '_seen'];

export function isValueField(df: DocField): boolean {
  return !NO_VALUE_FIELDS.has(df.fieldtype);
}

export function isTableField(df: DocField): boolean {
  return TABLE_FIELDS.has(df.fieldtype);
}

/** The folder holding the shipped DocType JSON, found from this module whether run from source or from dist/. */
export function doctypesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'emulator', 'doctypes');
    if (existsSync(candidate)) return candidate;
    const sibling = join(dir, 'doctypes');
    if (existsSync(sibling) && dir.endsWith('emulator')) return sibling;
    dir = resolve(dir, '..');
  }
  throw new Error('emulator/doctypes not found next to the emulator code');
}

let standardCache: DocTypeMeta[] | null = null;

/** Every DocType JSON shipped under emulator/doctypes/<app>/. */
export function loadStandardMetas(): DocTypeMeta[] {
  if (standardCache) return standardCache;
  const root = doctypesDir();
  const metas: DocTypeMeta[] = [];
  for (const app of readdirSync(root, { withFileTypes: true })) {
    if (!app.isDirectory()) continue;
    for (const file of readdirSync(join(root, app.name))) {
      if (!file.endsWith('.json')) continue;
      const meta = JSON.parse(readFileSync(join(root, app.name, file), 'utf8')) as DocTypeMeta;
      meta.fields ??= [];
      meta.permissions ??= [];
      (meta as Record<string, unknown>)._app = app.name;
      metas.push(meta);
    }
  }
  standardCache = metas;
  return metas;
}

/**
 * `Meta.sort_fields` (frappe/frappe:frappe/model/meta.py [v15], without a `field_order` Property
 * Setter): standard fields in their order; a custom field with `insert_after` goes right after that
 * field (fields after the same one keep their order, chains resolve iteratively,
 * `_update_field_order_based_on_insert_after`); an unknown `insert_after` goes to the end; and a
 * custom field without `insert_after` goes to position 0 (`field_order.insert(0, …)`), so each later
 * one lands before the earlier ones. A Tab Break added that way becomes the form's first tab
 * (seen on a real 15.55.1 site: issue 11 item 7).
 */
export function placeCustomFields(standard: DocField[], custom: DocField[]): DocField[] {
  const byTarget = new Map<string, DocField[]>();
  const top: DocField[] = [];
  for (const cf of custom) {
    if (!cf.insert_after) {
      top.unshift(cf);
      continue;
    }
    byTarget.set(cf.insert_after, [...(byTarget.get(cf.insert_after) ?? []), cf]);
  }
  const placed = new Set<DocField>();
  const out: DocField[] = [];
  const emit = (f: DocField) => {
    out.push(f);
    placed.add(f);
    // Fields inserted after `f` follow it in creation order; chains resolve recursively.
    for (const next of byTarget.get(f.fieldname) ?? []) if (!placed.has(next)) emit(next);
  };
  for (const f of top) emit(f);
  for (const f of standard) emit(f);
  // Unknown insert_after: appended at the end.
  for (const cf of custom) if (!placed.has(cf)) emit(cf);
  return out;
}

export function fieldLabel(df: DocField): string {
  return df.label || df.fieldname;
}
