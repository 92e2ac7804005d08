/**
 * The whitelisted methods the desk uses to open and save a form:
 *
 * - `frappe.desk.form.load.getdoctype(doctype, with_parent, cached_timestamp)`
 *   (frappe/frappe:frappe/desk/form/load.py + frappe/desk/form/meta.py [v15]): `docs` = the
 *   DocType's form meta followed by the metas of its Table fields' DocTypes
 *   (`get_meta_bundle`), plus `user_settings` (a JSON string). The form meta is the DocType
 *   with Custom Fields placed and Property Setters applied (what `frappe.get_meta` holds), its
 *   `fields` renumbered `idx` 1…n in that order, and the asset keys of `FormMeta.as_dict`;
 *   `__custom_js` concatenates the enabled Client Scripts with `dt` = the DocType and view
 *   "Form", by `creation` ascending, each as `"\n// <name>\n<script>\n\n"`, then
 *   `"\n\n//# sourceURL=<scrubbed doctype>__custom_js"` (`add_custom_script`); child metas
 *   carry no scripts (`load_assets` skips tables). `cached_timestamp` equal to the DocType's
 *   `modified` answers `"use_cache"`; `with_parent` on a child table found in a parent's
 *   DocFields answers the parent's bundle and `parent_dt`.
 * - `frappe.desk.form.load.getdoc(doctype, name)` (load.py): `{docs: [doc], docinfo,
 *   _link_titles}`, the doc without null values (`as_dict(no_nulls=True)` of the JSON
 *   handler). A missing doc answers `{"message": []}` when the user may read the DocType; no
 *   read permission on the DocType → 403 `_error_message` "No permission for <DocType>" (no
 *   traceback, `check_doctype_permission`); a doc the user may not read → 403 "Insufficient
 *   Permission for <strong><DocType> <name></strong>".
 * - `frappe.desk.form.save.savedocs(doc, action)` (frappe/frappe:frappe/desk/form/save.py
 *   [v15]), POST/PUT only: `doc` is the JSON of the whole document; `action` Save / Submit /
 *   Update / Cancel sets docstatus 0 / 1 / 1 / 2; a doc or row flagged `__islocal` is new
 *   (its temporary name becomes `localname`); the save checks `modified` against the database
 *   (TimestampMismatchError 417 when stale). Answers `{docs: [doc.as_dict()], docinfo}` and an
 *   alert "Saved" (or "Submitted"), green, in `_server_messages`.
 *
 * Permissions go through the same `hasPermission` as `frappe.client.get`.
 */
import type { Doc } from '../core/database.js';
import { getDoc, insertDoc, requireMeta, saveDoc, type Ctx } from '../core/document.js';
import { FrappeError, type ServerMessage } from '../core/errors.js';
import { isTableField } from '../core/meta.js';
import { applyFieldlevelReadPermissions, hasPermission, type PermType } from '../core/permissions.js';
import type { MethodDef } from './method_types.js';
import { withoutNulls } from './respond.js';
import { pyJsonLoads } from '../core/py_json.js';

/** A method result that *is* the response body (Frappe methods that fill `frappe.response` and return None). */
export class ResponseBody {
  constructor(readonly body: Record<string, unknown>) {}
}

/** `frappe.scrub`. */
function scrub(txt: string): string {
  return txt.replace(/ /g, '_').replace(/-/g, '_').toLowerCase();
}

function required(form: Record<string, unknown>, name: string, fn: string): unknown {
  if (form[name] === undefined) {
    throw new FrappeError('TypeError', { excText: `${fn}() missing 1 required positional argument: '${name}'`, httpStatus: 500 });
  }
  return form[name];
}

/** `FormMeta.add_custom_script` (frappe/desk/form/meta.py [v15]). */
export function customScripts(ctx: Ctx, doctype: string): { form: string; list: string } {
  const scripts = ctx.site.db
    .all('Client Script')
    .filter((s) => s.dt === doctype && Number(s.enabled) === 1)
    .sort((a, b) => String(a.creation).localeCompare(String(b.creation)) || String(a.name).localeCompare(String(b.name)));
  let form = '';
  let list = '';
  for (const s of scripts) {
    if (!s.script) continue;
    const block = `\n// ${s.name}\n${s.script}\n\n`;
    if (s.view === 'List') list += block;
    else if (s.view === 'Form') form += block;
  }
  const file = scrub(doctype);
  form += `\n\n//# sourceURL=${file}__custom_js`;
  list += `\n\n//# sourceURL=${file}__custom_list_js`;
  return { form, list };
}

/** `FormMeta(doctype).as_dict()`: the merged meta as a DocType document plus the asset keys. */
export function formMeta(ctx: Ctx, doctype: string): Doc {
  const meta = requireMeta(ctx.site, doctype);
  const record = ctx.site.db.get('DocType', doctype) ?? {};
  const doc: Doc = {};
  const tables = new Set(['fields', 'permissions', 'actions', 'links', 'states']);
  for (const [k, v] of Object.entries(record)) {
    if (tables.has(k) || k.startsWith('_') || v === null || v === undefined) continue;
    doc[k] = v;
  }
  for (const [k, v] of Object.entries(meta)) {
    if (tables.has(k) || k.startsWith('_') || v === null || v === undefined) continue;
    doc[k] = v;
  }
  doc.doctype = 'DocType';
  doc.name = doctype;
  const rowNames = new Map(((record.fields as Doc[]) ?? []).map((r) => [r.fieldname, r.name]));
  doc.fields = meta.fields.map((f, i) => ({
    ...f,
    doctype: 'DocField',
    name: f.is_custom_field ? `${doctype}-${f.fieldname}` : (rowNames.get(f.fieldname) ?? `${doctype}-${f.fieldname}`),
    parent: doctype,
    parentfield: 'fields',
    parenttype: 'DocType',
    idx: i + 1,
  }));
  const customPerms = ctx.site.db.all('Custom DocPerm').some((p) => p.parent === doctype);
  doc.permissions = meta.permissions.map((p, i) => ({
    ...p,
    doctype: customPerms ? 'Custom DocPerm' : 'DocPerm',
    parent: doctype,
    parentfield: 'permissions',
    parenttype: 'DocType',
    idx: i + 1,
  }));
  doc.actions = [];
  doc.links = [];
  doc.states = [];
  const assets: Record<string, unknown> = {
    __js: null,
    __css: null,
    __list_js: null,
    __calendar_js: null,
    __map_js: null,
    __linked_with: null,
    __messages: null,
    __print_formats: null,
    __workflow_docs: null,
    __form_grid_templates: null,
    __listview_template: null,
    __tree_js: null,
    __dashboard: null,
    __kanban_column_fields: null,
    __templates: null,
    __custom_js: null,
    __custom_list_js: null,
  };
  if (!meta.istable) {
    const scripts = customScripts(ctx, doctype);
    Object.assign(assets, {
      __print_formats: [],
      __workflow_docs: [],
      __dashboard: {},
      __kanban_column_fields: [],
      __custom_js: scripts.form,
      __custom_list_js: scripts.list,
    });
  }
  return { ...doc, ...assets };
}

/** `get_meta_bundle`: the meta, then the metas of its Table fields' DocTypes. */
function metaBundle(ctx: Ctx, doctype: string): Doc[] {
  const meta = requireMeta(ctx.site, doctype);
  const bundle = [formMeta(ctx, doctype)];
  for (const df of meta.fields.filter(isTableField)) if (df.options && ctx.site.meta(df.options)) bundle.push(formMeta(ctx, df.options));
  return bundle;
}

/** `frappe.model.meta.get_parent_dt`: the first DocType whose own DocFields hold this child table. */
function parentDt(ctx: Ctx, doctype: string): string | null {
  for (const dt of ctx.site.db.scan('DocType')) {
    if (((dt.fields as Doc[]) ?? []).some((f) => ['Table', 'Table MultiSelect'].includes(String(f.fieldtype)) && f.options === doctype)) return String(dt.name);
  }
  return null;
}

/** `frappe.permissions.check_doctype_permission`: PermissionError without traceback. */
function checkDoctypePermission(ctx: Ctx, doctype: string): void {
  if (!hasPermission(ctx.site, doctype, 'read', ctx.user)) {
    throw new FrappeError('PermissionError', { errorMessage: `No permission for ${doctype}`, suppressTraceback: true });
  }
}

const RIGHTS: PermType[] = ['select', 'read', 'write', 'create', 'delete', 'submit', 'cancel', 'amend', 'print', 'email', 'report', 'import', 'export', 'share'];

/** `get_docinfo` (load.py): timeline data of a document. The emulator has Versions and Communications; the rest is empty. */
export function docinfo(ctx: Ctx, doctype: string, doc: Doc): Record<string, unknown> {
  const meta = requireMeta(ctx.site, doctype);
  const name = doc.name;
  const versions = meta.track_changes
    ? ctx.site.db
        .all('Version')
        .filter((v) => v.ref_doctype === doctype && String(v.docname) === String(name))
        .sort((a, b) => String(b.creation).localeCompare(String(a.creation)))
        .slice(0, 10)
        .map((v) => ({ name: v.name, owner: v.owner, creation: v.creation, data: v.data }))
    : [];
  const comms = ctx.site.db
    .all('Communication')
    .filter((c) => ['Communication', 'Automated Message'].includes(String(c.communication_type)))
    .filter((c) => (c.reference_doctype === doctype && String(c.reference_name) === String(name)) || ((c.timeline_links as Doc[]) ?? []).some((l) => l.link_doctype === doctype && String(l.link_name) === String(name)))
    .sort((a, b) => String(b.communication_date ?? '').localeCompare(String(a.communication_date ?? '')))
    .slice(0, 21)
    .map((c) => ({
      name: c.name,
      communication_type: c.communication_type,
      communication_medium: c.communication_medium ?? null,
      communication_date: c.communication_date ?? null,
      content: c.content ?? null,
      sender: c.sender ?? null,
      sender_full_name: c.sender_full_name ?? null,
      cc: c.cc ?? null,
      bcc: c.bcc ?? null,
      creation: c.creation,
      subject: c.subject ?? null,
      delivery_status: c.delivery_status ?? null,
      _liked_by: c._liked_by ?? null,
      reference_doctype: c.reference_doctype ?? null,
      reference_name: c.reference_name ?? null,
      read_by_recipient: c.read_by_recipient ?? 0,
      recipients: c.recipients ?? null,
      attachments: '[]',
    }));
  const permissions: Record<string, number> = {};
  for (const r of RIGHTS) permissions[r] = hasPermission(ctx.site, doctype, r, ctx.user, doc) ? 1 : 0;
  // frappe/permissions.py get_doc_permissions: no submit unless submittable, no import unless
  // importable — even for Administrator (recording desk-getdoc).
  const flags = meta as unknown as Record<string, unknown>;
  if (!Number(flags.is_submittable ?? 0)) permissions.submit = 0;
  if (!Number(flags.allow_import ?? 0)) permissions.import = 0;
  return {
    user_info: {},
    comments: [],
    shared: [],
    assignment_logs: [],
    attachment_logs: [],
    info_logs: [],
    like_logs: [],
    workflow_logs: [],
    doctype,
    name,
    attachments: [],
    communications: comms.filter((c) => c.communication_type !== 'Automated Message'),
    automated_messages: comms.filter((c) => c.communication_type === 'Automated Message'),
    versions,
    assignments: [],
    permissions,
    views: [],
    energy_point_logs: [],
    additional_timeline_content: [],
    milestones: [],
    // document_follow.is_document_followed: the Document Follow lookup, None when there is none
    // (recording desk-getdoc).
    is_document_followed: null,
    tags: '',
    document_email: null,
  };
}

/**
 * frappe/desk/form/load.py `get_title_values_for_link_and_dynamic_link_fields`: for each Link and
 * Dynamic Link field with a value whose target DocType has a title_field and
 * show_title_field_in_link, `"<doctype>::<name>": title` (recording desk-getdoc).
 */
function linkTitles(ctx: Ctx, doctype: string, doc: Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const df of ctx.site.meta(doctype)?.fields ?? []) {
    if ((df.fieldtype !== 'Link' && df.fieldtype !== 'Dynamic Link') || !doc[df.fieldname]) continue;
    const target = df.fieldtype === 'Link' ? df.options : (doc[String(df.options)] as string | undefined);
    const tmeta = target ? (ctx.site.meta(String(target)) as (Record<string, unknown> & { title_field?: string }) | undefined) : undefined;
    if (!tmeta?.title_field || !Number(tmeta.show_title_field_in_link ?? 0)) continue;
    const value = String(doc[df.fieldname]);
    out[`${target}::${value}`] = ctx.site.db.get(String(target), value)?.[tmeta.title_field] ?? null;
  }
  return out;
}

/** Drop the desk's client-side keys (`__islocal`, `__unsaved`, `__last_sync_on`, …): they are never stored. */
function stripClientKeys(d: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(d)) {
    if (k.startsWith('__')) continue;
    out[k] = Array.isArray(v) ? v.map((row) => (row && typeof row === 'object' && !Array.isArray(row) ? stripClientKeys(row as Doc) : row)) : v;
  }
  return out;
}

const ACTIONS: Record<string, number> = { Save: 0, Submit: 1, Update: 1, Cancel: 2 };

export const DESK_METHODS: Record<string, MethodDef> = {
  'frappe.desk.form.load.getdoctype': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'getdoctype'));
      requireMeta(ctx.site, doctype);
      const body: Record<string, unknown> = {};
      let docs: Doc[] = [];
      let parent: string | null = null;
      const withParent = form.with_parent !== undefined && !['', '0', 'false', 'False', 0, false, null].includes(form.with_parent as never);
      if (withParent && ctx.site.meta(doctype)?.istable && (parent = parentDt(ctx, doctype))) {
        docs = metaBundle(ctx, parent);
        body.parent_dt = parent;
      }
      if (!docs.length) docs = metaBundle(ctx, doctype);
      body.user_settings = '{}';
      if (form.cached_timestamp && docs[0].modified === form.cached_timestamp) {
        body.message = 'use_cache';
        return new ResponseBody(body);
      }
      return new ResponseBody({ docs, ...body });
    },
  },

  'frappe.desk.form.load.getdoc': {
    run: ({ ctx, form }) => {
      const doctype = form.doctype ? String(form.doctype) : '';
      const name = form.name !== undefined && form.name !== null ? String(form.name) : '';
      if (!doctype || !name) throw new FrappeError('Exception', { excText: 'doctype and name required!', httpStatus: 500 });
      const meta = requireMeta(ctx.site, doctype);
      const stored = ctx.site.db.get(doctype, meta.issingle ? doctype : name);
      if (!stored && !meta.issingle) {
        checkDoctypePermission(ctx, doctype);
        return [];
      }
      const doc = stored ?? getDoc(ctx, doctype, doctype, null);
      if (!hasPermission(ctx.site, doctype, 'read', ctx.user, doc)) {
        checkDoctypePermission(ctx, doctype);
        throw new FrappeError('PermissionError', {
          errorMessage: `Insufficient Permission for <strong>${doctype} ${name}</strong>`,
          excText: `('read', '${doctype}', '${name}')`,
        });
      }
      // frappe/desk/form/load.py `getdoc`: `doc.apply_fieldlevel_read_permissions()`.
      return new ResponseBody({ docs: [withoutNulls(applyFieldlevelReadPermissions(ctx.site, doc, ctx.user))], docinfo: docinfo(ctx, doctype, doc), _link_titles: linkTitles(ctx, doctype, doc) });
    },
  },

  'frappe.desk.form.save.savedocs': {
    methods: ['POST', 'PUT'],
    run: ({ ctx, form }) => {
      const raw = required(form, 'doc', 'savedocs');
      const action = String(required(form, 'action', 'savedocs'));
      let parsed: unknown = raw;
      if (typeof raw === 'string') {
        parsed = pyJsonLoads(raw);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new FrappeError('TypeError', { excText: 'the JSON object must be str, bytes or bytearray', httpStatus: 500 });
      }
      const input = parsed as Doc;
      const meta = requireMeta(ctx.site, String(input.doctype ?? ''));
      if (!(action in ACTIONS)) throw new FrappeError('KeyError', { excText: `'${action}'`, httpStatus: 500 });
      // set_local_name: new docs and rows lose their temporary names.
      const isNew = Boolean(input.__islocal);
      const localname = isNew ? input.name : undefined;
      const doc = stripClientKeys(input);
      if (isNew) doc.name = input.__newname ?? null;
      for (const tf of meta.fields.filter(isTableField)) {
        const rows = (input[tf.fieldname] as Doc[]) ?? [];
        (doc[tf.fieldname] as Doc[] | undefined)?.forEach((row, i) => {
          if (rows[i]?.__islocal || isNew) row.name = null;
        });
      }
      doc.docstatus = ACTIONS[action];
      let saved: Doc;
      if (isNew) saved = insertDoc(ctx, doc);
      else saved = saveDoc(ctx, doc, doc.modified === undefined || doc.modified === null ? '' : String(doc.modified));
      ctx.messages.push({ message: saved.docstatus === 1 ? 'Submitted' : 'Saved', title: 'Message', indicator: 'green', alert: 1 } as ServerMessage);
      const out: Doc = { ...saved };
      if (localname) out.localname = localname;
      return new ResponseBody({ docs: [out], docinfo: docinfo(ctx, meta.name, saved) });
    },
  },
};
