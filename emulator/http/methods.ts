/**
 * Whitelisted methods reachable at `/api/method/<dotted.path>` (frappe/frappe:frappe/handler.py
 * `handle` / `is_whitelisted` [v15]): `frappe.client.*` (frappe/client.py), the realtime
 * permission callbacks (frappe/realtime.py), auth helpers (frappe/auth.py), `generate_keys`
 * (frappe/core/doctype/user/user.py) and `trigger_indicator_hide`
 * (frappe/desk/doctype/notification_log/notification_log.py).
 */
import type { Doc } from '../core/database.js';
import {
  deleteDoc,
  getDoc,
  insertDoc,
  requireMeta,
  saveDoc,
  type Ctx,
} from '../core/document.js';
import { FrappeError, doesNotExist } from '../core/errors.js';
import { CHILD_TABLE_FIELDS, DEFAULT_FIELDS, isTableField } from '../core/meta.js';
import { generateHash } from '../core/naming.js';
import { applyFieldlevelReadPermissions, hasPermission, type PermType } from '../core/permissions.js';
import { getList } from '../core/query.js';
import type { FormDict } from './request.js';
import { DESK_METHODS } from './desk_methods.js';
import type { MethodDef } from './method_def.js';
import { getExchangeRate } from '../apps/erpnext/exchange_rate.js';
import { EMAIL_METHODS } from '../apps/frappe/email.js';

export type { MethodCall, MethodDef } from './method_def.js';

/** Python truthiness of a form value (`"0"` is a true string; only empty is false). */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** `frappe.parse_json` / `json.loads` of an argument that may already be structured. */
function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new FrappeError('JSONDecodeError', { excText: 'Expecting value: line 1 column 1 (char 0)', httpStatus: 500 });
  }
}

/** `get_safe_filters`: JSON if it parses, else the raw string (a name). */
function safeFilters(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function required(form: FormDict, name: string, fn: string): unknown {
  if (form[name] === undefined) {
    throw new FrappeError('TypeError', { excText: `${fn}() missing 1 required positional argument: '${name}'`, httpStatus: 500 });
  }
  return form[name];
}

/** `check_parent_permission` (frappe/model/db_query.py [v15]). */
function checkParentPermission(ctx: Ctx, parent: unknown, child: string): void {
  if (parent) {
    const pm = ctx.site.meta(String(parent));
    if (pm?.fields.some((f) => isTableField(f) && f.options === child)) {
      if (hasPermission(ctx.site, String(parent), 'read', ctx.user)) return;
    }
  }
  throw new FrappeError('PermissionError', {});
}

/** `frappe.get_doc(dict)`: a document built from the caller's JSON (tables it omits become empty). */
function docFromJson(ctx: Ctx, value: unknown): Doc {
  const doc = parseJson(value);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new FrappeError('ValidationError', { message: 'doc must be a JSON object', excText: 'doc must be a JSON object' });
  }
  const d = doc as Doc;
  requireMeta(ctx.site, String(d.doctype ?? ''));
  return d;
}

/** Save a caller-built doc as `frappe.get_doc(doc).save()` does: `modified` from the JSON is checked. */
function saveFromJson(ctx: Ctx, d: Doc): Doc {
  const meta = requireMeta(ctx.site, String(d.doctype));
  const full: Doc = { ...d };
  for (const tf of meta.fields.filter(isTableField)) if (!Array.isArray(full[tf.fieldname])) full[tf.fieldname] = [];
  if (!full.name) return insertDoc(ctx, full);
  return saveDoc(ctx, full, full.modified === undefined || full.modified === null ? '' : String(full.modified));
}

/** `insert_doc`: a child row (has `parenttype`) is appended to its parent, which is saved and returned. */
function insertOne(ctx: Ctx, d: Doc): Doc {
  if (d.parenttype) {
    const parent = getDoc(ctx, String(d.parenttype), String(d.parent), null);
    const field = String(d.parentfield ?? '');
    const rows = (parent[field] as Doc[]) ?? [];
    parent[field] = [...rows, { ...d, name: undefined }];
    return saveDoc(ctx, parent, null);
  }
  return insertDoc(ctx, d);
}

/** Find a child row by name across its parents (for PUT/set_value on a child DocType). */
export function findChild(ctx: Ctx, doctype: string, name: string): { parentType: string; parent: Doc; field: string } | null {
  for (const dt of ctx.site.db.scan('DocType')) {
    const pm = ctx.site.meta(String(dt.name));
    if (!pm || pm.istable) continue;
    for (const tf of pm.fields.filter((f) => isTableField(f) && f.options === doctype)) {
      for (const p of ctx.site.db.scan(pm.name)) {
        if (((p[tf.fieldname] as Doc[]) ?? []).some((r) => r.name === name)) {
          return { parentType: pm.name, parent: structuredClone(p), field: tf.fieldname };
        }
      }
    }
  }
  return null;
}

const UNSAFE_ONLY = ['POST', 'PUT'];
/** frappe/client.py `insert_many`: documents per request. */
const INSERT_MANY_LIMIT = 200;

export const METHODS: Record<string, MethodDef> = {
  ping: { allowGuest: true, run: () => 'pong' },

  'frappe.auth.get_logged_user': { run: ({ ctx }) => ctx.user },

  'frappe.client.get_list': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'get_list'));
      return getList(ctx.site, ctx.user, {
        doctype,
        fields: form.fields,
        filters: form.filters,
        or_filters: form.or_filters,
        group_by: form.group_by as string,
        order_by: form.order_by as string,
        limit_start: form.limit_start as number,
        limit_page_length: (form.limit_page_length ?? 20) as number,
        as_dict: form.as_dict === undefined ? true : truthy(form.as_dict),
        parent: form.parent as string,
      });
    },
  },

  'frappe.client.get_count': {
    // frappe.db.count: no permission check in v15.
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'get_count'));
      requireMeta(ctx.site, doctype);
      const rows = getList(ctx.site, 'Administrator', {
        doctype,
        filters: safeFilters(form.filters),
        fields: ['name'],
        limit_page_length: 0,
        ignorePermissions: true,
      });
      return rows.length;
    },
  },

  'frappe.client.get': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'get'));
      const meta = requireMeta(ctx.site, doctype);
      if (meta.istable) checkParentPermission(ctx, form.parent, doctype);
      let doc: Doc;
      if (form.name !== undefined && form.name !== '') doc = getDoc(ctx, doctype, String(form.name), null);
      else if (form.filters !== undefined) {
        // get_doc(doctype, filters) → db.get_value, which orders by `modified desc` by default.
        const found = getList(ctx.site, 'Administrator', {
          doctype,
          filters: safeFilters(form.filters),
          fields: ['name'],
          order_by: 'modified desc',
          limit_page_length: 1,
          ignorePermissions: true,
        }) as Doc[];
        if (!found.length) throw doesNotExist(doctype, JSON.stringify(form.filters));
        doc = getDoc(ctx, doctype, String(found[0].name), null);
      } else doc = getDoc(ctx, doctype, doctype, null);
      if (!hasPermission(ctx.site, doctype, 'read', ctx.user, doc)) {
        throw new FrappeError('PermissionError', { errorMessage: `Insufficient Permission for ${doctype} (<strong>read</strong>)` });
      }
      // frappe/client.py `get`: `doc.apply_fieldlevel_read_permissions()` before `as_dict()`.
      return applyFieldlevelReadPermissions(ctx.site, doc, ctx.user);
    },
  },

  'frappe.client.get_value': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'get_value'));
      const fieldname = required(form, 'fieldname', 'get_value');
      const meta = requireMeta(ctx.site, doctype);
      if (meta.istable) checkParentPermission(ctx, form.parent, doctype);
      if (!meta.istable && !hasPermission(ctx.site, doctype, 'read', ctx.user)) {
        const message = `No permission for ${doctype}`;
        throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
      }
      let filters = safeFilters(form.filters);
      if (typeof filters === 'string') filters = { name: filters };
      let fields: unknown[];
      try {
        const parsed = typeof fieldname === 'string' ? JSON.parse(fieldname) : fieldname;
        fields = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        fields = [fieldname];
      }
      const asDict = form.as_dict === undefined ? true : truthy(form.as_dict);
      let rows: Doc[];
      if (meta.issingle) {
        const single = ctx.site.db.get(doctype, doctype) ?? {};
        rows = [Object.fromEntries(fields.map((f) => [String(f), single[String(f)] ?? null]))];
      } else {
        rows = getList(ctx.site, ctx.user, {
          doctype,
          filters: filters && (typeof filters !== 'object' || Object.keys(filters as object).length) ? filters : undefined,
          fields,
          limit_page_length: 1,
          parent: form.parent as string,
        }) as Doc[];
      }
      if (asDict) return rows[0] ?? {};
      if (!rows.length) return undefined;
      const values = Object.values(rows[0]);
      return fields.length > 1 ? values : values[0];
    },
  },

  'frappe.client.get_single_value': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'get_single_value'));
      const field = String(required(form, 'field', 'get_single_value'));
      if (!hasPermission(ctx.site, doctype, 'read', ctx.user)) {
        const message = `No permission for ${doctype}`;
        throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
      }
      const doc = getDoc(ctx, doctype, doctype, null);
      return doc[field] ?? null;
    },
  },

  'frappe.client.set_value': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'set_value'));
      const name = String(required(form, 'name', 'set_value'));
      const fieldname = required(form, 'fieldname', 'set_value');
      if (typeof fieldname === 'string' && [...DEFAULT_FIELDS, ...CHILD_TABLE_FIELDS].includes(fieldname)) {
        throw new FrappeError('ValidationError', { message: 'Cannot edit standard fields', excText: 'Cannot edit standard fields' });
      }
      let values: Record<string, unknown>;
      if (!truthy(form.value)) {
        if (typeof fieldname === 'string') {
          try {
            values = JSON.parse(fieldname);
          } catch {
            values = { [fieldname]: '' };
          }
        } else values = fieldname as Record<string, unknown>;
      } else values = { [String(fieldname)]: form.value };
      const meta = requireMeta(ctx.site, doctype);
      if (!meta.istable) {
        const doc = getDoc(ctx, doctype, name, null);
        Object.assign(doc, values);
        return saveDoc(ctx, doc, 'modified' in values ? String(values.modified) : null);
      }
      const found = findChild(ctx, doctype, name);
      if (!found) throw doesNotExist(doctype, name);
      const rows = found.parent[found.field] as Doc[];
      Object.assign(rows.find((r) => r.name === name)!, values);
      return saveDoc(ctx, found.parent, null);
    },
  },

  'frappe.client.insert': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => insertOne(ctx, docFromJson(ctx, required(form, 'doc', 'insert'))),
  },

  // frappe/frappe:frappe/client.py `insert_many` [v15]: `len(docs) > 200` → frappe.throw("Only 200
  // inserts allowed in one request") before anything is inserted; else `[insert_doc(doc).name for
  // doc in docs]` — each document through insert_doc with the caller's permissions (create, or
  // write on the parent for a child row), in the request's one transaction: one refused document
  // rolls back the others. The answer lists one name per document, in order (a child row's is its
  // parent's, so names can repeat).
  'frappe.client.insert_many': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      const docs = parseJson(required(form, 'docs', 'insert_many'));
      if (!Array.isArray(docs)) throw new FrappeError('TypeError', { excText: 'docs must be a list', httpStatus: 500 });
      if (docs.length > INSERT_MANY_LIMIT) {
        const message = `Only ${INSERT_MANY_LIMIT} inserts allowed in one request`;
        throw new FrappeError('ValidationError', { message, excText: message });
      }
      return docs.map((d) => insertOne(ctx, d as Doc).name);
    },
  },

  'frappe.client.save': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => saveFromJson(ctx, docFromJson(ctx, required(form, 'doc', 'save'))),
  },

  'frappe.client.submit': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      const d = docFromJson(ctx, required(form, 'doc', 'submit'));
      d.docstatus = 1;
      return saveFromJson(ctx, d);
    },
  },

  'frappe.client.cancel': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'cancel'));
      const doc = getDoc(ctx, doctype, String(required(form, 'name', 'cancel')), null);
      doc.docstatus = 2;
      return saveDoc(ctx, doc, null);
    },
  },

  'frappe.client.delete': {
    methods: ['POST', 'DELETE'],
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'delete'));
      const name = String(required(form, 'name', 'delete'));
      if (requireMeta(ctx.site, doctype).istable) {
        const found = findChild(ctx, doctype, name);
        if (!found) throw doesNotExist(doctype, name);
        found.parent[found.field] = (found.parent[found.field] as Doc[]).filter((r) => r.name !== name);
        saveDoc(ctx, found.parent, null);
        return undefined;
      }
      deleteDoc(ctx, doctype, name);
      return undefined;
    },
  },

  'frappe.client.bulk_update': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      const raw = required(form, 'docs', 'bulk_update');
      // `json.loads(docs)` unguarded: anything but a string is a TypeError.
      if (typeof raw !== 'string') {
        throw new FrappeError('TypeError', { excText: `the JSON object must be str, bytes or bytearray, not ${Array.isArray(raw) ? 'list' : 'dict'}`, httpStatus: 500 });
      }
      const docs = parseJson(raw);
      const failed: { doc: unknown; exc: string }[] = [];
      for (const raw of (docs as Doc[]) ?? []) {
        const d = { ...raw };
        delete d.flags;
        try {
          const doc = getDoc(ctx, String(d.doctype), String(d.docname), null);
          for (const [k, v] of Object.entries(d)) if (k !== 'docname' && k !== 'doctype' && k !== 'name') doc[k] = v;
          saveDoc(ctx, doc, 'modified' in d ? String(d.modified) : null);
        } catch (e) {
          const fe = e instanceof FrappeError ? e : null;
          // What frappe.throw logged before the exception was caught still goes out in _server_messages.
          if (fe) ctx.messages.push(...fe.serverMessages);
          failed.push({ doc: d, exc: `Traceback (most recent call last):\n${fe ? fe.tracebackLine() : String(e)}\n` });
        }
      }
      return { failed_docs: failed };
    },
  },

  'frappe.client.has_permission': {
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'has_permission'));
      const docname = String(required(form, 'docname', 'has_permission'));
      const ptype = String(form.perm_type ?? 'read').toLowerCase() as PermType;
      const doc = ctx.site.db.get(doctype, docname);
      if (!doc) throw doesNotExist(doctype, docname);
      return { has_permission: hasPermission(ctx.site, doctype, ptype, ctx.user, doc) };
    },
  },

  'frappe.client.get_time_zone': {
    allowGuest: true,
    run: ({ ctx }) => ({ time_zone: ctx.site.timeZone() }),
  },

  /**
   * frappe/realtime.py [v15] `get_user_info` (allow_guest): `user_type` comes from session data,
   * which `frappe.set_user` resets for token auth — so a token caller gets `null` (issue #31862).
   */
  'frappe.realtime.get_user_info': {
    allowGuest: true,
    run: ({ ctx, auth }) => ({
      user: ctx.user,
      user_type: auth.via === 'session' ? auth.session!.userType : auth.via === 'guest' ? 'Guest' : null,
    }),
  },

  'frappe.realtime.can_subscribe_doctype': {
    allowGuest: true,
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'can_subscribe_doctype'));
      if (!hasPermission(ctx.site, doctype, 'read', ctx.user)) throw new FrappeError('PermissionError', {});
      return true;
    },
  },

  'frappe.realtime.can_subscribe_doc': {
    allowGuest: true,
    run: ({ ctx, form }) => {
      const doctype = String(required(form, 'doctype', 'can_subscribe_doc'));
      const docname = String(required(form, 'docname', 'can_subscribe_doc'));
      // frappe.has_permission(doctype, doc=docname) loads the document: a missing one is a 404.
      const doc = ctx.site.db.get(doctype, docname);
      if (!doc) throw doesNotExist(doctype, docname);
      if (!hasPermission(ctx.site, doctype, 'read', ctx.user, doc)) throw new FrappeError('PermissionError', {});
      return true;
    },
  },

  /**
   * frappe/desk/doctype/notification_log/notification_log.py `trigger_indicator_hide` [v15]: any
   * signed-in user; `publish_realtime("indicator_hide", user=frappe.session.user)` goes to room
   * `user:<user>` at once (not after commit), writes nothing and returns None.
   */
  'frappe.desk.doctype.notification_log.notification_log.trigger_indicator_hide': {
    run: ({ ctx }) => {
      ctx.site.publishNow('indicator_hide', {}, `user:${ctx.user}`);
      return undefined;
    },
  },

  /** frappe/core/doctype/user/user.py `generate_keys` [v15]: System Manager only; a new secret each call. */
  'frappe.core.doctype.user.user.generate_keys': {
    methods: UNSAFE_ONLY,
    run: ({ ctx, form }) => {
      if (ctx.user !== 'Administrator' && !ctx.site.rolesOf(ctx.user).includes('System Manager')) {
        const message = 'You need to be System Manager to access this';
        throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
      }
      const user = getDoc(ctx, 'User', String(required(form, 'user', 'generate_keys')), null);
      const secret = generateHash(15);
      if (!user.api_key) user.api_key = generateHash(15);
      user.api_secret = secret;
      saveDoc(ctx, user, null);
      return { api_secret: secret };
    },
  },

  /**
   * frappe/core/doctype/user/user.py `get_roles` [v15]: `frappe.get_roles(form_dict.uid)`, open to
   * any logged-in user (the way a user without read on User learns its roles).
   */
  'frappe.core.doctype.user.user.get_roles': {
    run: ({ ctx, form }) => ctx.site.rolesOf(String(required(form, 'uid', 'get_roles'))),
  },

  /**
   * frappe/core/page/permission_manager/permission_manager.py `reset` [v15]: System Manager only;
   * `reset_perms` deletes the DocType's Custom DocPerms (frappe.db.delete: no hooks) and
   * `clear_permissions_cache` clears its cached meta.
   */
  'frappe.core.page.permission_manager.permission_manager.reset': {
    run: ({ ctx, form }) => {
      if (ctx.user !== 'Administrator' && !ctx.site.rolesOf(ctx.user).includes('System Manager')) {
        const message = 'You need to be System Manager to access this';
        throw new FrappeError('PermissionError', { message, title: 'Message', excText: message });
      }
      const doctype = String(required(form, 'doctype', 'reset'));
      for (const p of ctx.site.db.all('Custom DocPerm')) if (p.parent === doctype) ctx.site.db.remove('Custom DocPerm', String(p.name));
      ctx.site.invalidateMeta();
      return null;
    },
  },

  /** erpnext/setup/utils.py [v15]: see ../apps/erpnext/exchange_rate.ts. */
  'erpnext.setup.utils.get_exchange_rate': {
    run: ({ ctx, form }) => getExchangeRate(ctx, form),
  },

  // The desk's form load / save methods (frappe/desk/form/load.py, save.py): see desk_methods.ts.
  ...DESK_METHODS,
  // frappe/core/doctype/communication/email.py `make`: see ../apps/frappe/email.ts.
  ...EMAIL_METHODS,
};
