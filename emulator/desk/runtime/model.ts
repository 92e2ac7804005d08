/**
 * The client model: `locals`, `frappe.model` (sync, set_value + change events, add_child,
 * clear_doc, with_doctype, with_doc, the `doc_update` listener) and `frappe.meta`
 * (docfield_map / docfield_list / per-document docfield copies).
 *
 * Mirrors frappe/public/js/frappe/model/model.js, model/sync.js, model/meta.js and
 * model/create_new.js [v15]:
 * - `sync(r)` adds docs to `locals`, or updates an already loaded doc *in place* (so `frm.doc`
 *   stays the same object and keys missing from the server copy are dropped); DocType docs feed
 *   `frappe.meta`; `r.docinfo` goes to `frappe.model.docinfo`.
 * - `set_value` only triggers when the value changes; triggers run `frappe.model.events`
 *   (`frappe.model.on(doctype, fieldname | "*", fn)`) serially.
 * - `frappe.meta.get_docfield(dt, fieldname, docname)` / `get_docfields(dt, docname)` return
 *   copies made once per docname (`make_docfield_copy_for`), so a property set on them sticks to
 *   that document for the page session, across reloads.
 * - `doc_update` (realtime): for the open form, a different `modified` reloads a clean form
 *   (debounced) or marks a dirty one `__needs_refresh` and shows the conflict message; other
 *   clean docs are dropped from `locals`.
 */
import { __, frappe, locals, type Doc, type DocField } from './globals.js';
import { call } from './request.js';
import { copy_dict, run_serially, slug } from './utils.js';

export const TABLE_FIELDS = ['Table', 'Table MultiSelect'];
export const LAYOUT_FIELDS = ['Section Break', 'Column Break', 'Tab Break', 'Fold'];
export const NO_VALUE_TYPES = ['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Table', 'Table MultiSelect', 'Button', 'Image', 'Fold', 'Heading'];
export const STD_FIELDS = ['name', 'owner', 'creation', 'modified', 'modified_by', '_user_tags', '_comments', '_assign', '_liked_by', 'docstatus', 'idx'];
export const CHILD_TABLE_FIELDS = ['parent', 'parentfield', 'parenttype'];

interface ModelEvent {
  fn: (fieldname: string, value: unknown, doc: Doc, skip_dirty_trigger?: boolean) => unknown;
}

const events: Record<string, Record<string, ModelEvent[]>> = {};
const docinfo: Record<string, Record<string, any>> = {};
const new_names: Record<string, string> = {};
let new_name_counter = 0;

// ---- meta ----------------------------------------------------------------------------

const docfield_map: Record<string, Record<string, DocField>> = {};
const docfield_list: Record<string, DocField[]> = {};
const docfield_copy: Record<string, Record<string, Record<string, DocField>>> = {};

export function get_meta(doctype: string): Doc | null {
  return locals.DocType?.[doctype] ?? null;
}

function add_field(df: DocField): void {
  const parent = df.parent as string;
  (docfield_map[parent] ??= {})[df.fieldname || df.label] = df;
  const list = (docfield_list[parent] ??= []);
  if (list.some((d) => d.fieldname === df.fieldname)) return;
  list.push(df);
}

function meta_sync(doc: Doc): void {
  for (const df of (doc.fields as DocField[]) ?? []) add_field(df);
}

export function make_docfield_copy_for(doctype: string, docname: string, docfields: DocField[] | null = null): void {
  const c = ((docfield_copy[doctype] ??= {})[docname] ??= {});
  for (const df of docfields || docfield_list[doctype] || []) c[df.fieldname || df.label] = copy_dict(df);
}

function get_docfield_copy(doctype: string, docname: string | null | undefined, template: DocField[] | null = null): Record<string, DocField> {
  if (!docname) return docfield_map[doctype] ?? {};
  if (!docfield_copy[doctype]?.[docname]) make_docfield_copy_for(doctype, docname, template);
  return docfield_copy[doctype][docname];
}

export function sort_docfields(map: Record<string, DocField>): DocField[] {
  return Object.values(map)
    .filter((df) => df.fieldname || df.label)
    .sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0));
}

/** `frappe.meta.get_docfields(doctype, docname, filters, template)`. */
export function get_docfields(doctype: string, docname?: string | null, filters?: Record<string, unknown> | null, template: DocField[] | null = null): DocField[] {
  let list = sort_docfields(get_docfield_copy(doctype, docname, template));
  if (filters) list = list.filter((df) => Object.entries(filters).every(([k, v]) => df[k] === v));
  return list;
}

/** `frappe.meta.get_docfield(doctype, fieldname, docname)`. */
export function get_docfield(doctype: string, fieldname: string, docname?: string | null): DocField | undefined {
  return get_docfield_copy(doctype, docname)[fieldname];
}

export function get_table_fields(doctype: string): DocField[] {
  return (docfield_list[doctype] ?? []).filter((df) => TABLE_FIELDS.includes(df.fieldtype));
}

/** `frappe.meta.get_field_currency(df, doc)` (meta.js): `options` names a field holding the currency. */
export function get_field_currency(df: DocField, doc?: Doc | null): string | null {
  let currency: string | null = frappe.boot?.sysdefaults?.currency ?? null;
  const frm = (window as any).cur_frm;
  if (!doc && frm) doc = frm.doc;
  if (df && df.options) {
    if (doc && String(df.options).includes(':')) {
      const parts = String(df.options).split(':');
      if (parts.length === 3) {
        const docname = doc[parts[1]] || frm?.doc?.[parts[1]];
        currency = ((get_value(parts[0], docname, parts[2]) || get_value(`:${parts[0]}`, docname, parts[2])) as string | undefined) || currency;
      }
    } else if (doc && doc[df.options]) currency = doc[df.options];
    else if (frm && frm.doc[df.options]) currency = frm.doc[df.options];
  }
  return currency;
}

// ---- docs ------------------------------------------------------------------------------

export function get_doc(doctype: string | Doc, name?: string): Doc | null {
  if (!name && typeof doctype === 'object') return doctype;
  const dt = doctype as string;
  if (!name) name = dt;
  return locals[dt]?.[name] ?? null;
}

export function get_value(doctype: string, filters: unknown, fieldname: string): unknown {
  if (!filters) return undefined;
  const doc = locals[doctype]?.[String(filters)];
  return doc ? doc[fieldname] : undefined;
}

export function get_new_name(doctype: string): string {
  new_name_counter++;
  return `new-${slug(doctype)}-${Math.random().toString(36).slice(2, 6)}${new_name_counter}`;
}

function is_table_doctype(doctype: string): boolean {
  return Boolean(get_meta(doctype)?.istable);
}

export function add_to_locals(doc: Doc): void {
  locals[doc.doctype] ??= {};
  if (!doc.name && doc.__islocal) doc.name = get_new_name(doc.doctype);
  locals[doc.doctype][doc.name] = doc;
  const is_table = get_meta(doc.doctype) ? is_table_doctype(doc.doctype) : Boolean(doc.parentfield);
  if (!is_table) {
    for (const key of Object.keys(doc)) {
      const value = doc[key];
      if (!Array.isArray(value)) continue;
      for (const d of value) {
        if (d && typeof d === 'object' && d.doctype) {
          if (!d.parent) d.parent = doc.name;
          add_to_locals(d);
        }
      }
    }
  }
}

function clear_keys(source: Doc, target: Doc): void {
  for (const key of Object.keys(target)) if (source[key] === undefined) delete target[key];
}

/** `frappe.model.update_in_locals`: refresh a loaded doc in place, row by row. */
function update_in_locals(doc: Doc): void {
  const local = locals[doc.doctype][doc.name];
  for (const fieldname of Object.keys(doc)) {
    const df = docfield_map[doc.doctype]?.[fieldname];
    if (df && TABLE_FIELDS.includes(df.fieldtype)) {
      if (!Array.isArray(doc[fieldname])) doc[fieldname] = [];
      if (!Array.isArray(local[fieldname])) local[fieldname] = [];
      const rows: Doc[] = doc[fieldname];
      const localRows: Doc[] = local[fieldname];
      rows.forEach((d, i) => {
        const ld = localRows[i];
        if (ld) {
          locals[d.doctype] ??= {};
          if (ld.name !== d.name && locals[ld.doctype]) delete locals[ld.doctype][ld.name];
          locals[d.doctype][d.name] = ld;
          Object.assign(ld, d);
          clear_keys(d, ld);
        } else {
          localRows.push(d);
          if (!d.parent) d.parent = doc.name;
          add_to_locals(d);
        }
      });
      if (localRows.length > rows.length) {
        for (let i = rows.length; i < localRows.length; i++) {
          const d = localRows[i];
          if (locals[d.doctype]?.[d.name]) delete locals[d.doctype][d.name];
        }
        localRows.length = rows.length;
      }
    } else local[fieldname] = doc[fieldname];
  }
  clear_keys(doc, local);
}

/** `frappe.model.sync(r)`. */
export function sync(r: any): Doc[] {
  if (!r.docs && !r.docinfo) r = { docs: r };
  if ($isPlain(r.docs)) r.docs = [r.docs];
  for (const d of (r.docs as Doc[]) ?? []) {
    if (locals[d.doctype]?.[d.name]) update_in_locals(d);
    else add_to_locals(d);
    const local = locals[d.doctype][d.name];
    local.__last_sync_on = new Date();
    if (d.doctype === 'DocType') meta_sync(d);
    if (d.localname) {
      new_names[d.localname] = d.name;
      delete locals[d.doctype][d.localname];
    }
  }
  if (r.docinfo) {
    const di = r.docinfo;
    (docinfo[di.doctype] ??= {})[di.name] = di;
  }
  return r.docs ?? [];
}

function $isPlain(v: unknown): boolean {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v);
}

/** `frappe.model.clear_doc(doctype, name)`: drop a doc (and its rows) from `locals`; a row also leaves its parent. */
export function clear_doc(doctype: string, docname: string): void {
  const doc = locals[doctype]?.[docname];
  if (!doc) return;
  const parent = doc.parenttype ? { dt: doc.parenttype as string, name: doc.parent as string, field: doc.parentfield as string } : null;
  delete locals[doctype][docname];
  for (const df of get_table_fields(doctype)) for (const d of (doc[df.fieldname] as Doc[]) ?? []) clear_doc(d.doctype, d.name);
  if (parent && locals[parent.dt]?.[parent.name]) {
    const p = locals[parent.dt][parent.name];
    let idx = 1;
    p[parent.field] = ((p[parent.field] as Doc[]) ?? []).filter((d) => d.name !== docname);
    for (const d of p[parent.field]) d.idx = idx++;
  }
}

/** `frappe.model.remove_from_locals`: also forgets that the form has opened the doc, so `onload` runs again. */
export function remove_from_locals(doctype: string, name: string): void {
  clear_doc(doctype, name);
  const view = frappe.views?.formview?.[doctype];
  if (view?.frm) delete view.frm.opendocs[name];
}

/** `frappe.model.on(doctype, fieldname, fn)`. */
export function on(doctype: string, fieldname: string, fn: ModelEvent['fn']): void {
  ((events[doctype] ??= {})[fieldname] ??= []).push({ fn });
}

export function trigger(fieldname: string, value: unknown, doc: Doc, skip_dirty_trigger = false): Promise<unknown> {
  const tasks: (() => unknown)[] = [];
  const enqueue = (list?: ModelEvent[]) => list?.forEach((e) => tasks.push(() => e.fn(fieldname, value, doc, skip_dirty_trigger)));
  if (events[doc.doctype]) {
    enqueue(events[doc.doctype][fieldname]);
    enqueue(events[doc.doctype]['*']);
  }
  return run_serially(tasks);
}

/** `frappe.model.set_value(doctype, docname, fieldname | {field: value}, value, fieldtype, skip_dirty_trigger)`. */
export function set_value(doctype: string | Doc, docname: unknown, fieldname?: unknown, value?: unknown, fieldtype?: string, skip_dirty_trigger = false): Promise<unknown> {
  let doc: Doc | null;
  if (typeof doctype === 'object') {
    doc = doctype;
    value = fieldname;
    fieldname = docname;
  } else doc = locals[doctype]?.[String(docname)] ?? null;
  const to_update: Record<string, unknown> = typeof fieldname === 'object' && fieldname ? (fieldname as Record<string, unknown>) : { [String(fieldname)]: value };
  const tasks: (() => unknown)[] = [];
  for (const [key, v] of Object.entries(to_update)) {
    if (doc && doc[key] !== v) {
      if (doc.__unedited && !(!doc[key] && !v)) doc.__unedited = false;
      doc[key] = v;
      const d = doc;
      tasks.push(() => trigger(key, v, d, skip_dirty_trigger));
    } else if (doc && ['Link', 'Dynamic Link'].includes(fieldtype ?? '')) {
      const d = doc;
      tasks.push(() => trigger(key, v, d, skip_dirty_trigger));
    }
  }
  return run_serially(tasks);
}

/** `frappe.model.get_default_value` reduced to the DocField default (and 0 for Check). */
function default_value(df: DocField): unknown {
  if (df.default !== undefined && df.default !== null && df.default !== '') {
    const d = String(df.default);
    if (d.toLowerCase() === 'today') return frappe.datetime.get_today();
    if (d === '__user') return frappe.session?.user;
    if (['Int', 'Check'].includes(df.fieldtype)) return parseInt(d, 10) || 0;
    if (['Float', 'Currency', 'Percent'].includes(df.fieldtype)) return parseFloat(d) || 0;
    return d;
  }
  if (df.fieldtype === 'Check') return 0;
  return undefined;
}

/** `frappe.model.add_child(parent_doc, doctype, parentfield, idx)`. */
export function add_child(parent_doc: Doc, doctype: string, parentfield: string, idx?: number | null): Doc {
  const d: Doc = {
    doctype,
    name: get_new_name(doctype),
    __islocal: 1,
    __unsaved: 1,
    owner: frappe.session?.user,
    docstatus: 0,
    parent: parent_doc.name,
    parentfield,
    parenttype: parent_doc.doctype,
  };
  for (const df of docfield_list[doctype] ?? []) {
    const v = default_value(df);
    if (v !== undefined && df.fieldname) d[df.fieldname] = v;
  }
  locals[doctype] ??= {};
  locals[doctype][d.name] = d;
  const rows: Doc[] = (parent_doc[parentfield] ??= []);
  if (idx) {
    rows.splice(idx - 1, 0, d);
    rows.forEach((r, i) => (r.idx = i + 1));
  } else {
    d.idx = rows.length + 1;
    rows.push(d);
  }
  return d;
}

export function clear_table(doc: Doc, parentfield: string): void {
  for (const d of [...((doc[parentfield] as Doc[]) ?? [])]) delete locals[d.doctype]?.[d.name];
  doc[parentfield] = [];
}

export function get_children(doc: Doc, parentfield: string): Doc[] {
  return (doc[parentfield] as Doc[]) ?? [];
}

/** `frappe.model.with_doctype(doctype, callback)`: `getdoctype` with `with_parent=1`, once per page. */
export function with_doctype(doctype: string, callback?: (r?: any) => void): Promise<void> {
  if (locals.DocType[doctype]) {
    callback?.();
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    call({
      method: 'frappe.desk.form.load.getdoctype',
      type: 'GET',
      args: { doctype, with_parent: 1 },
      callback: (r: any) => {
        if (r.exc) {
          frappe.msgprint(__('Unable to load: {0}', [__(doctype)]));
          reject(new Error('No doctype'));
          return;
        }
        frappe.model.user_settings[doctype] = JSON.parse(r.user_settings || '{}');
        callback?.(r);
        resolve();
      },
      error: () => reject(new Error(`Unable to load ${doctype}`)),
    });
  });
}

/** `frappe.model.with_doc(doctype, name, callback)`: `getdoc` unless loaded with docinfo. */
export function with_doc(doctype: string, name: string, callback?: (name: string, r?: any) => void): Promise<Doc | null> {
  return new Promise((resolve) => {
    if (!name) name = doctype;
    if (locals[doctype]?.[name] && docinfo[doctype]?.[name]) {
      callback?.(name);
      resolve(get_doc(doctype, name));
      return;
    }
    call({
      method: 'frappe.desk.form.load.getdoc',
      type: 'GET',
      args: { doctype, name },
      freeze: true,
      freeze_message: `${__('Loading')}...`,
      callback: (r: any) => {
        callback?.(name, r);
        resolve(get_doc(doctype, name));
      },
    });
  });
}

/** The `doc_update` handler of model.js `init` [v15]. */
function on_doc_update(data: { doctype: string; name: string; modified?: string }): void {
  const doc = locals[data.doctype]?.[data.name];
  if (!doc) return;
  const frm = (window as any).cur_frm;
  const route = frappe.get_route?.() ?? [];
  if (route[0] === 'Form' && frm && frm.doc && frm.doc.doctype === doc.doctype && frm.doc.name === doc.name) {
    if (data.modified !== frm.doc.modified && !frappe.ui.form.is_saving) {
      if (!frm.is_dirty()) frm.debounced_reload_doc();
      else {
        doc.__needs_refresh = true;
        frm.show_conflict_message();
      }
    }
  } else if (!doc.__unsaved) remove_from_locals(doc.doctype, doc.name);
  else doc.__needs_refresh = true;
}

export function install_model(): void {
  frappe.model = Object.assign(frappe.model ?? {}, {
    events,
    docinfo,
    new_names,
    user_settings: {},
    table_fields: TABLE_FIELDS,
    layout_fields: LAYOUT_FIELDS,
    no_value_type: NO_VALUE_TYPES,
    std_fields_list: STD_FIELDS,
    child_table_field_list: CHILD_TABLE_FIELDS,
    sync,
    add_to_locals,
    clear_doc,
    remove_from_locals,
    on,
    trigger,
    set_value,
    get_value,
    add_child,
    clear_table,
    get_children,
    get_new_name,
    with_doctype,
    with_doc,
    get_docinfo: (doctype: string, name: string) => docinfo[doctype]?.[name],
    has_value: (doctype: string, name: string, fieldname: string) => {
      const v = locals[doctype]?.[name]?.[fieldname];
      return !(v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length));
    },
    is_submittable: (doctype: string) => Boolean(get_meta(doctype)?.is_submittable),
    is_table: (doctype: string) => Boolean(get_meta(doctype)?.istable),
    can_read: (doctype: string) => Boolean(frappe.boot?.user?.can_read?.includes(doctype)),
    unscrub: (txt: string) => txt.replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
    init: () => frappe.realtime.on('doc_update', on_doc_update),
  });
  frappe.meta = Object.assign(frappe.meta ?? {}, {
    docfield_map,
    docfield_list,
    docfield_copy,
    sync: meta_sync,
    get_docfield,
    get_docfields,
    make_docfield_copy_for,
    sort_docfields,
    get_table_fields,
    get_field_currency,
    get_field: (doctype: string, fieldname: string) => docfield_map[doctype]?.[fieldname],
    has_field: (doctype: string, fieldname: string) => Boolean(docfield_map[doctype]?.[fieldname]),
  });
  frappe.get_doc = get_doc;
  frappe.get_meta = get_meta;
  frappe.get_list = (doctype: string) => Object.values(locals[doctype] ?? {});
}
