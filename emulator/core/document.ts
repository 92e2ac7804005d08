/**
 * The document lifecycle of frappe/frappe:frappe/model/document.py [v15] (insert, save, submit,
 * cancel) and frappe/model/delete_doc.py (delete), with the validations of
 * frappe/model/base_document.py: defaults, mandatory, selects, links (+ fetch_from),
 * uniqueness, set_only_once, update-after-submit, `modified` checks, docstatus transitions,
 * Version rows for track_changes DocTypes and `doc_update`/`list_update` after commit.
 *
 * The code lives in core/document/, one file per concern; this entry keeps the exports importers use.
 */

export { cast } from './document/cast.js';
export { appendChild } from './document/children.js';
export { msgprint, type Ctx, type DocFlags } from './document/context.js';
export { defaultValue, newDoc } from './document/defaults.js';
export { deleteDoc } from './document/delete.js';
export { registerHook, type Action, type HookArgs, type HookName } from './document/hooks.js';
export { insertDoc, notifyUpdate, saveDoc } from './document/lifecycle.js';
export { findName, requireMeta, slug } from './document/lookup.js';
export { getDoc } from './document/read.js';
