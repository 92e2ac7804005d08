/**
 * The document lifecycle of frappe/frappe:frappe/model/document.py [v15]: insert and save (which
 * also submit, cancel and update after submit, by docstatus transition), in Frappe's order of
 * permission checks, hooks, child rows, validations and the write, then the post-save methods:
 * `doc_update`/`list_update` and the Version row of a track_changes DocType.
 */
import type { Doc } from '../database.js';
import { doesNotExist, FrappeError, noPermission, permissionCheckLog } from '../errors.js';
import { isTableField, type DocTypeMeta } from '../meta.js';
import { setNewName } from '../naming.js';
import { hasPermission, type PermType } from '../permissions.js';
import { castAll } from './cast.js';
import { markUnsaved, prepareChildren } from './children.js';
import type { Ctx, DocFlags } from './context.js';
import { newDoc, setMissingDefaults } from './defaults.js';
import { run, type Action, type HookArgs } from './hooks.js';
import { checkNoLinks } from './links.js';
import { findName, requireMeta } from './lookup.js';
import {
  validateAll,
  validateHigherPermLevels,
  validateLinks,
  validateSetOnlyOnce,
  validateUnique,
  validateUpdateAfterSubmit,
} from './validation.js';
import { versionDiff } from './version_diff.js';
import { keepMemoryTypes, memoryTypes, write } from './write.js';

/**
 * `Document.check_permission` → `has_permission(doctype, ptype, doc)`, which msgprints its check log
 * (print_logs), then `raise_no_permission_to` (recording restricted-item-insert-403).
 */
function checkPermission(ctx: Ctx, meta: DocTypeMeta, ptype: PermType, doc: Doc, flags: DocFlags): void {
  if (flags.ignorePermissions) return;
  if (hasPermission(ctx.site, meta.name, ptype, ctx.user, doc)) return;
  const roleGrants = hasPermission(ctx.site, meta.name, 'read', ctx.user);
  throw noPermission(meta.name, ptype, undefined, permissionCheckLog(ctx.user, meta.name, { roleGrants, document: { name: doc.name } }));
}

/** `Document.insert()` [v15]. `data` may carry child rows; docstatus 1 inserts and submits. */
export function insertDoc(ctx: Ctx, data: Doc, flags: DocFlags = {}): Doc {
  const doctype = String(data.doctype ?? '');
  const meta = requireMeta(ctx.site, doctype);
  if (meta.istable) {
    throw new FrappeError('ValidationError', { message: `Cannot insert a child table row (${doctype}) on its own`, excText: doctype });
  }
  const doc = newDoc(ctx, doctype, {});
  for (const [k, v] of Object.entries(data)) if (v !== undefined) doc[k] = v;
  castAll(meta, doc);
  setMissingDefaults(ctx, meta, doc);
  // `_set_defaults` → update_if_missing(frappe.new_doc(...)): make_new_doc (frappe/model/create_new.py
  // [v15]) gives a non-Single `"__unsaved": 1`, which the document keeps through after_insert and
  // the post-save methods — a payload taken there carries it (recordings rt-communication-received
  // / -sent: docinfo_update) — until insert's "clear unsaved flag" at the end (no answer has it).
  if (!meta.issingle) doc.__unsaved = 1;
  const now = ctx.site.now();
  doc.owner = ctx.user;
  doc.creation = now;
  doc.modified = now;
  doc.modified_by = ctx.user;
  doc.docstatus = Number(doc.docstatus ?? 0) || 0;
  doc.idx = Number(doc.idx ?? 0) || 0;
  // Document.__init__ → append → _init_child: child rows carry their idx from the start, so the
  // link check below can name "Row #n".
  for (const tf of meta.fields.filter(isTableField)) {
    const rows = doc[tf.fieldname];
    if (!Array.isArray(rows)) continue;
    rows.forEach((r: unknown, i: number) => {
      if (r && typeof r === 'object' && !(Number((r as Doc).idx) > 0)) (r as Doc).idx = i + 1;
    });
  }
  // check_if_latest → check_docstatus_transition(0)
  const action = transition(ctx, meta, 0, doc, flags);
  const args: HookArgs = { ctx, doc, before: null, meta, action, flags };
  validateLinks(ctx, meta, doc, flags);
  checkPermission(ctx, meta, 'create', doc, flags);
  run('before_insert', args);
  if (meta.issingle) doc.name = doctype;
  else if (flags.setName) doc.name = flags.setName as string; // insert(set_name=…) skips autoname
  else {
    const prompt = meta.autoname?.toLowerCase() === 'prompt';
    // set_new_name: a client-supplied name survives only for Prompt DocTypes.
    if (!prompt) doc.name = null;
    run('autoname', args);
    setNewName(ctx.site, meta, doc, Boolean(doc.name) && !prompt);
  }
  validateHigherPermLevels(ctx, meta, doc, null, flags);
  prepareChildren(ctx, meta, doc, now, null);
  runBeforeSave(args);
  validateAll(ctx, meta, doc, flags, null);
  // db_insert: primary key, then unique indexes.
  if (!meta.issingle && findName(ctx.site, doctype, doc.name)) {
    throw new FrappeError('DuplicateEntryError', {
      extraMessages: [{ message: `${doctype} <strong>${doc.name}</strong> already exists`, title: 'Duplicate Name', indicator: 'red' }],
      excText: `('${doctype}', '${doc.name}', IntegrityError(1062, "Duplicate entry '${doc.name}' for key 'PRIMARY'"))`,
    });
  }
  validateUnique(ctx, meta, doc);
  write(ctx, meta, doc);
  run('after_insert', args);
  postSave(args);
  delete doc.__unsaved;
  const inserted = ctx.site.db.get(doctype, String(doc.name));
  return inserted ? markUnsaved(meta, keepMemoryTypes(inserted, memoryTypes.get(doc)), doc) : doc;
}

/**
 * `Document.save()` [v15] of `doc` (the full document after the caller's changes).
 * `originalModified` is what the caller believes `modified` is; null skips the check
 * (REST PUT without `modified` is last-write-wins because the doc is loaded from the DB).
 */
export function saveDoc(ctx: Ctx, doc: Doc, originalModified: string | null, flags: DocFlags = {}): Doc {
  const meta = requireMeta(ctx.site, String(doc.doctype));
  const key = meta.issingle ? meta.name : String(doc.name);
  const stored = ctx.site.db.get(meta.name, key);
  if (!stored) {
    if (meta.issingle) return insertDoc(ctx, { ...doc, doctype: meta.name }, flags);
    throw doesNotExist(meta.name, key);
  }
  const before = stored;
  castAll(meta, doc);
  setMissingDefaults(ctx, meta, doc);
  checkPermission(ctx, meta, 'write', before, flags);
  const now = ctx.site.now();
  doc.name = before.name;
  doc.owner = before.owner;
  doc.creation = before.creation;
  doc.modified = now;
  doc.modified_by = ctx.user;
  doc.docstatus = Number(doc.docstatus ?? 0) || 0;
  // check_if_latest [v15]: string compare of DB `modified` with the caller's copy.
  if (originalModified !== null && String(before.modified) !== String(originalModified)) {
    const message = `Error: Document has been modified after you have opened it (${before.modified}, ${now}). Please refresh to get the latest document.`;
    throw new FrappeError('TimestampMismatchError', { message, title: 'Message', excText: message });
  }
  const action = transition(ctx, meta, Number(before.docstatus ?? 0), doc, flags);
  const args: HookArgs = { ctx, doc, before, meta, action, flags };
  prepareChildren(ctx, meta, doc, now, before);
  validateHigherPermLevels(ctx, meta, doc, before, flags);
  // `_validate_links` returns early for a cancel.
  if (action !== 'cancel') validateLinks(ctx, meta, doc, flags);
  runBeforeSave(args);
  if (action !== 'cancel') validateAll(ctx, meta, doc, flags, before);
  if (action === 'update_after_submit') validateUpdateAfterSubmit(ctx, meta, doc, before);
  if (action === 'update_after_submit' || action === 'submit') validateSetOnlyOnce(meta, doc, before);
  validateUnique(ctx, meta, doc);
  write(ctx, meta, doc);
  postSave(args);
  const saved = ctx.site.db.get(meta.name, key);
  return saved ? markUnsaved(meta, keepMemoryTypes(saved, memoryTypes.get(doc)), doc) : doc;
}

/** `check_docstatus_transition` [v15]. */
function transition(ctx: Ctx, meta: DocTypeMeta, from: number, doc: Doc, flags: DocFlags): Action {
  const to = Number(doc.docstatus ?? 0);
  if (from === 0) {
    if (to === 0) return 'save';
    if (to === 1) {
      checkPermission(ctx, meta, 'submit', doc, flags);
      return 'submit';
    }
    if (to === 2) {
      // Raised directly (no msgprint), so no _server_messages.
      throw new FrappeError('DocstatusTransitionError', { excText: 'Cannot change docstatus from 0 (Draft) to 2 (Cancelled)' });
    }
  } else if (from === 1) {
    if (to === 1) {
      checkPermission(ctx, meta, 'submit', doc, flags);
      return 'update_after_submit';
    }
    if (to === 2) {
      checkPermission(ctx, meta, 'cancel', doc, flags);
      return 'cancel';
    }
    if (to === 0) {
      // Raised directly (no msgprint), so no _server_messages.
      throw new FrappeError('DocstatusTransitionError', { excText: 'Cannot change docstatus from 1 (Submitted) to 0 (Draft)' });
    }
  } else if (from === 2) {
    throw new FrappeError('ValidationError', { excText: 'Cannot edit cancelled document' });
  }
  throw new FrappeError('ValidationError', { excText: 'Invalid docstatus' });
}

function runBeforeSave(args: HookArgs): void {
  if (args.flags.ignoreValidate) return;
  switch (args.action) {
    case 'save':
      run('before_validate', args);
      run('validate', args);
      run('before_save', args);
      break;
    case 'submit':
      run('before_validate', args);
      run('validate', args);
      run('before_submit', args);
      break;
    case 'cancel':
      run('before_cancel', args);
      break;
    case 'update_after_submit':
      run('before_update_after_submit', args);
      break;
  }
  setTitleField(args);
}

/**
 * `Document.set_title_field` [v15], the last step of `run_before_save_methods`: a DocType whose
 * title_field is `title` gets that field's default formatted with the document's values (None as
 * ""), e.g. ERPNext's Sales Order `title` = "{customer_name}" (recordings so-insert-submitted,
 * so-get: the customer's name). Any other title_field is left alone.
 */
function setTitleField({ meta, doc }: HookArgs): void {
  if (meta.title_field !== 'title') return;
  const df = meta.fields.find((f) => f.fieldname === 'title');
  if (!df) return;
  const template = df.default == null ? '' : String(df.default);
  doc.title = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, key: string) => (doc[key] == null ? '' : String(doc[key])));
}

/** `run_post_save_methods` [v15]. */
function postSave(args: HookArgs): void {
  switch (args.action) {
    case 'save':
      run('on_update', args);
      break;
    case 'submit':
      run('on_update', args);
      run('on_submit', args);
      break;
    case 'cancel':
      run('on_cancel', args);
      checkNoLinks(args.ctx, args.meta, args.doc, 'Cancel');
      break;
    case 'update_after_submit':
      run('on_update_after_submit', args);
      break;
  }
  if (args.flags.notifyUpdate !== false) notifyUpdate(args.ctx, args.meta, args.doc);
  saveVersion(args);
  run('on_change', args);
}

/**
 * `Document.notify_update` (frappe/frappe:frappe/model/document.py [v15]): `doc_update` to
 * `doc:<dt>/<name>` always; `list_update` to `doctype:<dt>` unless the DocType is read_only,
 * single or a child table. Both after commit.
 */
export function notifyUpdate(ctx: Ctx, meta: DocTypeMeta, doc: Doc): void {
  ctx.site.publish('doc_update', { modified: doc.modified, doctype: meta.name, name: doc.name }, `doc:${meta.name}/${doc.name}`);
  if (!meta.read_only && !meta.issingle && !meta.istable) {
    ctx.site.publish('list_update', { doctype: meta.name, name: doc.name, user: ctx.user }, `doctype:${meta.name}`);
  }
}

/**
 * `save_version`: only for track_changes DocTypes, only on update (an insert writes a Version only
 * with `updater_reference`), and only when something changed (version.py `set_diff`).
 */
function saveVersion({ ctx, meta, doc, before, flags }: HookArgs): void {
  if (!meta.track_changes || meta.name === 'Version' || flags.ignoreVersion || !before) return;
  const diff = versionDiff(ctx, meta, before, doc);
  if (!diff) return;
  insertDoc(
    ctx,
    { doctype: 'Version', ref_doctype: meta.name, docname: String(doc.name), data: JSON.stringify(diff, null, 1) },
    { ignorePermissions: true },
  );
}
