/**
 * The seed's backup and recovery: `site export` writes the records an administrator tunes on a
 * live site (the CRM SLAs with their priorities and working hours, the lead statuses their
 * conditions name, the product's desk scripts) to one JSON file; `site import` puts them into a
 * site again — creating what is missing, updating what differs, leaving the rest alone — so the
 * same file can be applied twice, or to a fresh site after a restore.
 *
 * Only the DocTypes below are ever written: the file is data an operator may edit by hand, and a
 * recovery tool must not become a way to write arbitrary DocTypes.
 */
import { z } from 'zod';
import { CompanionError } from '../../lib/errors.js';
import type { FrappeClient } from '../../lib/frappe/client.js';
import type { Filter } from '../../lib/frappe/types.js';
import type { HooksManifest } from '../../lib/manifest/schema.js';

export const EXPORT_FORMAT = 'crm-order-companion/export';
export const EXPORT_VERSION = 1;

export const SLA_DOCTYPE = 'CRM Service Level Agreement';
export const SCRIPT_DOCTYPES = ['Client Script', 'CRM Form Script', 'HD Form Script'] as const;

/** In dependency order: what an SLA links to comes before the SLA; scripts depend on nothing here. */
export const TRANSFER_DOCTYPES = [
  'CRM Holiday List',
  'CRM Lead Status',
  'CRM Deal Status',
  SLA_DOCTYPE,
  ...SCRIPT_DOCTYPES,
] as const;

/** Names the product gives its desk records (hooks_manifest.json `desk[].record.name`, doctypes/). */
export const PRODUCT_MARKERS = ['Order Companion', 'Order History'];

export interface ExportRecord {
  doctype: string;
  name: string;
  doc: Record<string, unknown>;
}

export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  site: string;
  /** ISO-8601 instant. */
  exportedAt: string;
  records: ExportRecord[];
}

export interface ExportOptions {
  /** Desk records the manifest installs; their names are exported exactly. */
  manifest?: Pick<HooksManifest, 'desk'>;
  now?: () => Date;
}

// ---- stripping server-managed keys ------------------------------------------------------------

/** Set by the server on every save (frappe/model/__init__.py `default_fields`, plus the `_` meta columns). */
const SERVER_KEYS = new Set(['owner', 'creation', 'modified', 'modified_by', 'idx', 'docstatus', '_user_tags', '_comments', '_assign', '_liked_by', '_seen']);
/** Child rows additionally get their identity and place from the parent (`BaseDocument._init_child`). */
const CHILD_KEYS = new Set([...SERVER_KEYS, 'name', 'parent', 'parenttype', 'parentfield', 'doctype']);

function isRow(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stripRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k, v]) => !CHILD_KEYS.has(k) && v !== null && v !== undefined));
}

/** The document as a file holds it: no server-managed keys, no nulls, child rows without identity. */
export function stripDoc(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (SERVER_KEYS.has(k) || k === 'doctype' || v === null || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((r) => (isRow(r) ? stripRow(r) : r)) : v;
  }
  return out;
}

// ---- export ----------------------------------------------------------------------------------

function statusOf(err: unknown): number | undefined {
  const e = err as { name?: string; status?: number } | null;
  return e?.name === 'FrappeApiError' ? e.status : undefined;
}

async function allNames(client: FrappeClient, doctype: string, filters: Filter[] = []): Promise<string[]> {
  const rows = await client.getList<{ name: string }>(doctype, { fields: ['name'], filters, orderBy: 'name asc', limitPageLength: 0 });
  return rows.map((r) => r.name);
}

/** Quoted literals in an SLA condition (`doc.status == 'OPEN'`, `doc.status in ('New', 'OPEN')`). */
function quotedLiterals(condition: unknown): string[] {
  if (typeof condition !== 'string') return [];
  return [...condition.matchAll(/'([^'\\]*)'|"([^"\\]*)"/g)].map((m) => m[1] ?? m[2]);
}

export async function exportRecords(client: FrappeClient, opts: ExportOptions = {}): Promise<ExportFile> {
  const now = opts.now ?? (() => new Date());
  const slas: Record<string, unknown>[] = [];
  for (const name of await allNames(client, SLA_DOCTYPE)) slas.push(await client.getDoc<Record<string, unknown>>(SLA_DOCTYPE, name));

  // Statuses an SLA condition names (the condition is Python text; a status it names must exist
  // for the SLA to ever apply), and OPEN always: the follow-up SLA and the sidecar rely on it.
  const leadStatuses = new Set(await allNames(client, 'CRM Lead Status'));
  let dealStatuses: Set<string> | null = null;
  const wanted = new Map<string, Set<string>>([['CRM Lead Status', new Set(leadStatuses.has('OPEN') ? ['OPEN'] : [])]]);
  const holidayLists = new Set<string>();
  for (const sla of slas) {
    const target = sla.apply_on === 'CRM Deal' ? 'CRM Deal Status' : 'CRM Lead Status';
    if (target === 'CRM Deal Status' && dealStatuses === null) dealStatuses = new Set(await allNames(client, 'CRM Deal Status'));
    const existing = target === 'CRM Deal Status' ? dealStatuses! : leadStatuses;
    const names = wanted.get(target) ?? new Set<string>();
    for (const lit of quotedLiterals(sla.condition)) if (existing.has(lit)) names.add(lit);
    wanted.set(target, names);
    if (typeof sla.holiday_list === 'string' && sla.holiday_list) holidayLists.add(sla.holiday_list);
  }

  const records: ExportRecord[] = [];
  const add = (doctype: string, doc: Record<string, unknown>) => records.push({ doctype, name: String(doc.name), doc: stripDoc(doc) });
  for (const name of [...holidayLists].sort()) add('CRM Holiday List', await client.getDoc('CRM Holiday List', name));
  for (const doctype of ['CRM Lead Status', 'CRM Deal Status']) {
    for (const name of [...(wanted.get(doctype) ?? [])].sort()) add(doctype, await client.getDoc(doctype, name));
  }
  for (const sla of slas) add(SLA_DOCTYPE, sla);

  // Desk scripts: the manifest's record names exactly, and anything named after the product. Until
  // the manifest declares any, the net is wider (any name with "Order") so a hand-made script
  // from before the installer still gets backed up.
  const declared = new Set((opts.manifest?.desk ?? []).map((d) => `${d.record.doctype}\u0000${d.record.name}`));
  const wide = declared.size === 0;
  for (const doctype of SCRIPT_DOCTYPES) {
    let names: string[];
    try {
      names = await allNames(client, doctype, [['name', 'like', '%Order%']]);
    } catch (err) {
      if (statusOf(err) === 404) continue; // the app that owns this DocType is not installed
      throw err;
    }
    const declaredHere = (opts.manifest?.desk ?? []).filter((d) => d.record.doctype === doctype).map((d) => d.record.name);
    const picked = new Set(names.filter((n) => wide || declared.has(`${doctype}\u0000${n}`) || PRODUCT_MARKERS.some((m) => n.includes(m))));
    // A declared name without "Order" in it would escape the filter above: fetch it by name.
    for (const n of declaredHere) if (!names.includes(n)) picked.add(n);
    for (const name of [...picked].sort()) {
      try {
        add(doctype, await client.getDoc(doctype, name));
      } catch (err) {
        if (statusOf(err) !== 404) throw err; // declared but not installed yet: nothing to back up
      }
    }
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, site: client.site, exportedAt: now().toISOString(), records };
}

// ---- validation ------------------------------------------------------------------------------

const recordSchema = z
  .object({
    doctype: z.enum(TRANSFER_DOCTYPES, { message: `one of ${TRANSFER_DOCTYPES.join(', ')}` }),
    name: z.string().min(1, 'a document name'),
    doc: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.doc.name !== undefined && r.doc.name !== r.name) {
      ctx.addIssue({ code: 'custom', path: ['doc', 'name'], message: `"${String(r.doc.name)}" differs from the record name "${r.name}"` });
    }
    for (const [k, v] of Object.entries(r.doc)) {
      if (Array.isArray(v) && v.some((row) => !isRow(row))) ctx.addIssue({ code: 'custom', path: ['doc', k], message: 'a table must be a list of rows (objects)' });
    }
  });

const fileSchema = z
  .object({
    format: z.literal(EXPORT_FORMAT, { message: `must be "${EXPORT_FORMAT}"` }),
    version: z.literal(EXPORT_VERSION, { message: `must be ${EXPORT_VERSION}` }),
    site: z.string(),
    exportedAt: z.string(),
    records: z.array(recordSchema),
  })
  .strict();

export class ExportFileError extends CompanionError {
  constructor(readonly problems: string[]) {
    super('permanent', `The export file is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function pathText(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/** Parse and check a file's content; every problem is named by its key path. */
export function parseExportFile(value: unknown): ExportFile {
  const result = fileSchema.safeParse(value);
  if (result.success) return result.data as ExportFile;
  throw new ExportFileError(
    result.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `${pathText(i.path)}: unknown key ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      return `${pathText(i.path)}: ${i.message}`;
    }),
  );
}

// ---- import ----------------------------------------------------------------------------------

export type ImportAction = 'created' | 'updated' | 'unchanged';

export interface ImportResult {
  doctype: string;
  name: string;
  action: ImportAction;
  /** Top-level fields that differed (for `updated`). */
  changed?: string[];
}

export interface ImportReport {
  site: string;
  /** Nothing was written; the actions say what a real run would do. */
  dryRun: boolean;
  results: ImportResult[];
}

/** The site refused a record: what was applied before it stays applied. */
export class ImportStoppedError extends CompanionError {
  constructor(
    readonly failed: { doctype: string; name: string; action: 'read' | 'create' | 'update' },
    readonly reason: string,
    readonly applied: ImportResult[],
    readonly dryRun: boolean,
  ) {
    const done = applied.filter((r) => r.action !== 'unchanged');
    const summary = dryRun
      ? 'dry run: nothing was written'
      : done.length
        ? `already applied: ${done.map((r) => `${r.action} ${r.doctype} "${r.name}"`).join(', ')}`
        : 'nothing was written before it';
    super('frappe_error', `import stopped at ${failed.doctype} "${failed.name}" (${failed.action}): ${reason}; ${summary}; the records after it were not touched`);
  }
}

/** Frappe returns Time as `H:MM:SS` (timedelta) and drops zero microseconds; a file may pad them. */
function normalise(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const time = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(v);
    if (time) {
      const frac = (time[4] ?? '').replace(/0+$/, '');
      return `${time[1].padStart(2, '0')}:${time[2]}:${time[3]}${frac ? `.${frac}` : ''}`;
    }
    if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    return v;
  }
  return v;
}

function sameValue(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((row, i) => sameValue(row, have[i]));
  }
  if (isRow(want)) {
    if (!isRow(have)) return false;
    // Only the keys the file sets: the site fills defaults and identity keys of its own.
    return Object.entries(want).every(([k, v]) => CHILD_KEYS.has(k) || sameValue(v, have[k]));
  }
  return normalise(want) === normalise(have);
}

function changedFields(want: Record<string, unknown>, have: Record<string, unknown>): string[] {
  return Object.keys(want).filter((k) => k !== 'name' && !SERVER_KEYS.has(k) && !sameValue(want[k], have[k]));
}

function reasonOf(err: unknown): string {
  const e = err as { messages?: string[]; errorMessage?: string; message?: string } | null;
  const said = [...(e?.messages ?? []), ...(e?.errorMessage ? [e.errorMessage] : [])].join(' | ');
  return said || e?.message || String(err);
}

/**
 * Apply a file to a site, record by record in file order: create the missing (POST), update the
 * different (PUT, tables replaced as a whole), skip the equal. Stops at the first refusal with
 * `ImportStoppedError`, which names what was already applied.
 */
export async function importRecords(client: FrappeClient, file: unknown, opts: { dryRun?: boolean } = {}): Promise<ImportReport> {
  const parsed = parseExportFile(file);
  const dryRun = opts.dryRun ?? false;
  const results: ImportResult[] = [];
  for (const rec of parsed.records) {
    const want = stripDoc(rec.doc);
    delete want.name;
    let existing: Record<string, unknown> | null = null;
    try {
      existing = await client.getDoc<Record<string, unknown>>(rec.doctype, rec.name);
    } catch (err) {
      if (statusOf(err) !== 404) throw new ImportStoppedError({ doctype: rec.doctype, name: rec.name, action: 'read' }, reasonOf(err), results, dryRun);
    }
    if (existing === null) {
      if (!dryRun) {
        try {
          // `name` matters for Prompt-named DocTypes (scripts); field-named ones derive the same name.
          await client.insert(rec.doctype, { ...want, name: rec.name });
        } catch (err) {
          throw new ImportStoppedError({ doctype: rec.doctype, name: rec.name, action: 'create' }, reasonOf(err), results, dryRun);
        }
      }
      results.push({ doctype: rec.doctype, name: rec.name, action: 'created' });
      continue;
    }
    const changed = changedFields(want, existing);
    if (!changed.length) {
      results.push({ doctype: rec.doctype, name: rec.name, action: 'unchanged' });
      continue;
    }
    if (!dryRun) {
      try {
        // Only the differing fields: a table sent replaces the whole table, one left out stays.
        await client.update(rec.doctype, rec.name, Object.fromEntries(changed.map((k) => [k, want[k]])));
      } catch (err) {
        throw new ImportStoppedError({ doctype: rec.doctype, name: rec.name, action: 'update' }, reasonOf(err), results, dryRun);
      }
    }
    results.push({ doctype: rec.doctype, name: rec.name, action: 'updated', changed });
  }
  return { site: client.site, dryRun, results };
}

/** One line per record, then a count per action. */
export function formatImport(report: ImportReport): string {
  const verb = (a: ImportAction) => (report.dryRun && a !== 'unchanged' ? `would be ${a}` : a);
  const lines = report.results.map((r) => `${verb(r.action)}: ${r.doctype} "${r.name}"${r.changed ? ` (${r.changed.join(', ')})` : ''}`);
  const count = (a: ImportAction) => report.results.filter((r) => r.action === a).length;
  lines.push(
    `${report.site}${report.dryRun ? ' (dry run)' : ''}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`,
  );
  return lines.join('\n');
}
