/**
 * `site plan`: what `install` would do, per record — create, update (with a field diff) or
 * unchanged — read from the site through REST, changing nothing.
 */
import type { FrappeClient } from '../../lib/frappe/client.js';
import { FrappeApiError } from '../../lib/frappe/errors.js';
import { PERM_FLAGS, STAGES, type DesiredRecord, type DesiredState, type Grant } from '../../lib/site/records.js';

export { PERM_FLAGS };

export type Action = 'create' | 'update' | 'unchanged';

export interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

export interface RecordPlan {
  kind: 'record';
  record: DesiredRecord;
  action: Action;
  changes: Change[];
  /** The site's copy (for restoring on uninstall), when it exists. */
  current: Record<string, unknown> | null;
  /** Fields of the file the site's DocType does not have (not sent, not compared). */
  skipped?: string[];
}

/** Custom DocPerm rows for one DocType: one of our roles' row, plus copies of the standard rules the first time. */
export interface GrantPlan {
  kind: 'grant';
  /** The role (of doctypes/roles/) the row is for. */
  role: string;
  grant: Grant;
  action: Action;
  changes: Change[];
  /**
   * Standard DocPerm rows copied to Custom DocPerm first (Frappe's Role Permissions Manager does the
   * same): on the first grant of any role on a DocType that has no Custom DocPerm yet, so once per DocType.
   */
  copyStandard: Record<string, unknown>[];
  /** The existing Custom DocPerm row of our role, if any. */
  existing: Record<string, unknown> | null;
}

export type PlanEntry = RecordPlan | GrantPlan;

/** Child tables are compared row by row, matched on these keys. */
const ROW_KEYS: Record<string, string[]> = {
  fields: ['fieldname', 'fieldtype'],
  permissions: ['role', 'permlevel'],
  priorities: ['priority'],
  working_hours: ['workday'],
  holidays: ['date'],
};

const SERVER_KEYS = new Set(['name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx', 'parent', 'parentfield', 'parenttype', 'doctype']);

/** Values as Frappe stores them: unset, "" and (for flags) 0 are all "nothing". */
function norm(v: unknown): string | null {
  if (v === undefined || v === null || v === '' || v === false || v === 0 || v === '0') return null;
  if (v === true) return '1';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return String(Number(v));
  // Time fields come back as Python's timedelta text: "0:00:00" is "00:00:00".
  if (typeof v === 'string' && /^\d{1,2}:\d{2}:\d{2}$/.test(v)) return v.padStart(8, '0');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function rowKey(table: string, row: Record<string, unknown>): string {
  const keys = ROW_KEYS[table] ?? ['name'];
  return keys.map((k) => norm(row[k] ?? (k === 'permlevel' ? 0 : null)) ?? '').join('|');
}

/** Fields of `desired` that differ on `current`, child tables compared on the keys we manage. */
export function diffDoc(desired: Record<string, unknown>, current: Record<string, unknown>): Change[] {
  const changes: Change[] = [];
  for (const [field, want] of Object.entries(desired)) {
    if (SERVER_KEYS.has(field)) continue;
    const have = current[field];
    if (Array.isArray(want)) {
      const rows = Array.isArray(have) ? (have as Record<string, unknown>[]) : [];
      const byKey = new Map(rows.map((r) => [rowKey(field, r), r]));
      const wantKeys = new Set<string>();
      let differs = rows.length !== want.length;
      for (const w of want as Record<string, unknown>[]) {
        const k = rowKey(field, w);
        wantKeys.add(k);
        const r = byKey.get(k);
        if (!r || Object.entries(w).some(([f, v]) => norm(v) !== norm(r[f]))) differs = true;
      }
      if (rows.some((r) => !wantKeys.has(rowKey(field, r)))) differs = true;
      if (differs) changes.push({ field, from: rows.map((r) => strip(r, want as Record<string, unknown>[])), to: want });
      continue;
    }
    if (norm(want) !== norm(have)) changes.push({ field, from: have ?? null, to: want });
  }
  return changes;
}

/** A current row reduced to the keys the desired rows use, so a diff reads like the JSON in doctypes/. */
function strip(row: Record<string, unknown>, like: Record<string, unknown>[]): Record<string, unknown> {
  const keys = new Set(like.flatMap((r) => Object.keys(r)));
  return Object.fromEntries(Object.entries(row).filter(([k]) => keys.has(k)));
}

export async function fetchDoc(client: FrappeClient, doctype: string, name: string): Promise<Record<string, unknown> | null> {
  try {
    return await client.getDoc<Record<string, unknown>>(doctype, name);
  } catch (e) {
    if (e instanceof FrappeApiError && e.status === 404) return null;
    throw e;
  }
}

/** "Sales Order", or "Sales Order (permlevel 1)" for a field-level row. */
export function grantTarget(grant: Grant): string {
  return grant.permlevel ? `${grant.parent} (permlevel ${grant.permlevel})` : grant.parent;
}

/** Every permission flag, 0 unless granted: dropping a flag from a role file is a change too. */
export function grantRow(grant: Grant, role: string): Record<string, unknown> {
  const row: Record<string, unknown> = { parent: grant.parent, role, permlevel: grant.permlevel };
  for (const flag of PERM_FLAGS) row[flag] = grant.flags[flag] ? 1 : 0;
  return row;
}

/**
 * `custom` is the DocType's Custom DocPerm rows as the site has them now; `copyPlanned` whether an
 * earlier grant in this plan (another role's) already copies its standard rules.
 */
async function planGrant(client: FrappeClient, role: string, grant: Grant, custom: Record<string, unknown>[], copyPlanned: boolean, ownDocType?: DesiredRecord): Promise<GrantPlan> {
  const want = grantRow(grant, role);
  const create = (copyStandard: Record<string, unknown>[]): GrantPlan => ({
    kind: 'grant',
    role,
    grant,
    action: 'create',
    changes: [{ field: `permissions of ${grantTarget(grant)} for ${role}`, from: null, to: want }],
    copyStandard,
    existing: null,
  });
  if (copyPlanned) return create([]);
  if (!custom.length) {
    // A DocType of ours that this install creates (it comes before the grants) has its file's rules.
    const dt = ((ownDocType ? await fetchDoc(client, 'DocType', grant.parent) : await client.getDoc<{ permissions?: Record<string, unknown>[] }>('DocType', grant.parent)) ??
      ownDocType!.doc) as { permissions?: Record<string, unknown>[] };
    const copyStandard = (dt.permissions ?? []).map((p) => {
      const row: Record<string, unknown> = { parent: grant.parent };
      for (const [k, v] of Object.entries(p)) if (!SERVER_KEYS.has(k) && v !== null && v !== undefined) row[k] = v;
      return row;
    });
    return create(copyStandard);
  }
  const existing = custom.find((p) => p.role === role && Number(p.permlevel ?? 0) === grant.permlevel) ?? null;
  if (!existing) return create([]);
  const changes = diffDoc(want, existing);
  return { kind: 'grant', role, grant, action: changes.length ? 'update' : 'unchanged', changes, copyStandard: [], existing };
}

/**
 * The fieldnames a DocType has on this site: its own fields and its Custom Fields. Frappe drops a
 * field it does not know on insert and never returns it, so a field the site's app version lacks
 * (CRM v1.52.1's CRM Lead Status has no `type`) must be neither sent nor compared. Null when the
 * DocType's meta cannot be read (the record is then sent as it is).
 */
async function siteFields(client: FrappeClient, doctype: string): Promise<Set<string> | null> {
  const dt = await fetchDoc(client, 'DocType', doctype);
  if (!dt) return null;
  const custom = await client.getList<{ fieldname: string }>('Custom Field', { fields: ['fieldname'], filters: [['dt', '=', doctype]], orderBy: 'name asc', limitPageLength: 0 });
  return new Set([...((dt.fields as { fieldname?: string }[]) ?? []).map((f) => String(f.fieldname ?? '')), ...custom.map((f) => f.fieldname)]);
}

/** `record` with only the fields the site's DocType has, and the names of those left out. */
function fitToSite(record: DesiredRecord, fields: Set<string> | null): { record: DesiredRecord; skipped: string[] } {
  if (!fields || record.doctype === 'DocType') return { record, skipped: [] };
  const skipped = Object.keys(record.doc).filter((k) => !SERVER_KEYS.has(k) && !fields.has(k));
  if (!skipped.length) return { record, skipped };
  return { record: { ...record, doc: Object.fromEntries(Object.entries(record.doc).filter(([k]) => !skipped.includes(k))) }, skipped };
}

export async function makePlan(client: FrappeClient, desired: DesiredState): Promise<PlanEntry[]> {
  const out: PlanEntry[] = [];
  const fieldsOf = new Map<string, Promise<Set<string> | null>>();
  let grantsPlanned = false;
  // Grants go after the DocTypes and fields (the roles must exist) and before statuses and SLAs;
  // role by role, in role-file order. Several roles may grant on one DocType: its Custom DocPerms
  // are read once, and its standard rules copied by the first grant only.
  const planGrants = async () => {
    if (grantsPlanned) return;
    grantsPlanned = true;
    const customOf = new Map<string, Record<string, unknown>[]>();
    const copying = new Set<string>();
    for (const role of desired.roles) {
      for (const g of role.grants) {
        if (!customOf.has(g.parent)) {
          customOf.set(
            g.parent,
            await client.getList<Record<string, unknown>>('Custom DocPerm', {
              fields: ['*'],
              filters: [['parent', '=', g.parent]],
              orderBy: 'creation asc, name asc',
              limitPageLength: 0,
            }),
          );
        }
        const own = desired.records.find((r) => r.doctype === 'DocType' && r.name === g.parent);
        const entry = await planGrant(client, role.name, g, customOf.get(g.parent)!, copying.has(g.parent), own);
        // No Custom DocPerm yet: this first grant copies the standard rules, for every later one too.
        if (!customOf.get(g.parent)!.length) copying.add(g.parent);
        out.push(entry);
      }
    }
  };
  for (const wanted of desired.records) {
    if (wanted.stage > STAGES.grant) await planGrants();
    if (!fieldsOf.has(wanted.doctype)) fieldsOf.set(wanted.doctype, siteFields(client, wanted.doctype));
    const { record, skipped } = fitToSite(wanted, await fieldsOf.get(wanted.doctype)!);
    const extra = skipped.length ? { skipped } : {};
    const current = await fetchDoc(client, record.doctype, record.name);
    if (!current) out.push({ kind: 'record', record, action: 'create', changes: [], current: null, ...extra });
    else {
      const changes = diffDoc(record.doc, current);
      out.push({ kind: 'record', record, action: changes.length ? 'update' : 'unchanged', changes, current, ...extra });
    }
  }
  await planGrants();
  return out;
}

export function describeEntry(e: PlanEntry): string {
  const what =
    e.kind === 'record'
      ? `${e.record.doctype} "${e.record.name}"${e.skipped?.length ? ` (the site's ${e.record.doctype} has no ${e.skipped.join(', ')}: left out)` : ''}`
      : `permissions of ${grantTarget(e.grant)} for role "${e.role}": ${grantedFlags(e.grant)}${e.copyStandard.length ? ` (first copying its ${e.copyStandard.length} standard rule(s) to Custom DocPerm)` : ''}`;
  return `${e.action.padEnd(9)} ${what}`;
}

/** `read, write, create` — what a grant allows, in DocPerm column order. */
export function grantedFlags(grant: Grant): string {
  return PERM_FLAGS.filter((f) => grant.flags[f]).join(', ') || 'nothing';
}

function show(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return text && text.length > 160 ? `${text.slice(0, 157)}…` : String(text);
}

export function formatPlan(plan: PlanEntry[]): string {
  const lines: string[] = [];
  for (const e of plan) {
    lines.push(describeEntry(e));
    if (e.action === 'update') for (const c of e.changes) lines.push(`            ${c.field}: ${show(c.from)} → ${show(c.to)}`);
  }
  const count = (a: Action) => plan.filter((e) => e.action === a).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged.`);
  return lines.join('\n');
}
