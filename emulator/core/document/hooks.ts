/**
 * Controller methods and `doc_events` hooks (frappe/model/document.py [v15] `run_method`): apps
 * register them per DocType (or `*` for every DocType) and the lifecycle runs them by name with the
 * document, its stored copy and the action under way.
 */
import type { Doc } from '../database.js';
import type { DocTypeMeta } from '../meta.js';
import type { Ctx, DocFlags } from './context.js';

export type Action = 'save' | 'submit' | 'cancel' | 'update_after_submit';

export interface HookArgs {
  ctx: Ctx;
  doc: Doc;
  /** The DB copy before this save (`get_doc_before_save()`); null on insert. */
  before: Doc | null;
  meta: DocTypeMeta;
  action: Action;
  flags: DocFlags;
}

type Hook = (args: HookArgs) => void;
export type HookName =
  | 'autoname'
  | 'before_insert'
  | 'before_validate'
  | 'validate'
  | 'before_save'
  | 'before_submit'
  | 'before_cancel'
  | 'before_update_after_submit'
  | 'after_insert'
  | 'on_update'
  | 'on_submit'
  | 'on_cancel'
  | 'on_update_after_submit'
  | 'on_change'
  | 'on_trash'
  | 'after_delete';

/** Controller methods and `doc_events` hooks, in registration order (controller first, then apps). */
const hooks = new Map<string, Map<HookName, Hook[]>>();

export function registerHook(doctype: string, name: HookName, fn: Hook): void {
  let byName = hooks.get(doctype);
  if (!byName) hooks.set(doctype, (byName = new Map()));
  byName.set(name, [...(byName.get(name) ?? []), fn]);
}

export function run(name: HookName, args: HookArgs): void {
  for (const fn of hooks.get(args.meta.name)?.get(name) ?? []) fn(args);
  for (const fn of hooks.get('*')?.get(name) ?? []) fn(args);
}
