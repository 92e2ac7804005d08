/**
 * The records this product puts into a site, read from doctypes/ (reviewable JSON, nothing
 * site-specific) and hooks_manifest.json (desk bundles → Client Script / Form Script records),
 * in the order they must be applied: roles (one per file of doctypes/roles/) before the DocTypes
 * whose permissions name them, child DocTypes before the Table fields that point at them, statuses
 * before the SLAs that use them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HooksManifest } from '../manifest/schema.js';

export interface DesiredRecord {
  doctype: string;
  name: string;
  /** The body sent to Frappe (keys starting with `_` are notes for reviewers and are dropped). */
  doc: Record<string, unknown>;
  /** Apply order; uninstall runs the reverse. */
  stage: number;
  /** Why the record exists, for plan output and the README. */
  purpose?: string;
}

/** Grants of one of our roles on a DocType, as a Custom DocPerm row. */
export interface Grant {
  parent: string;
  /**
   * Field level the row covers: 0 for the document, N for the fields Frappe marks `permlevel: N`
   * (ERPNext's Sales Order `ignore_pricing_rule` is 1, and a write without level-1 rights is
   * silently reset by frappe/model/document.py `validate_higher_perm_levels`). @defaultValue 0
   */
  permlevel: number;
  flags: Record<string, 1>;
}

/** One file of doctypes/roles/: a Role record and what it may do, as Custom DocPerm rows. */
export interface DesiredRole {
  /** The Role's name (its `role_name`). */
  name: string;
  /** The file it was read from, e.g. `order_companion.json`. */
  file: string;
  purpose?: string;
  grants: Grant[];
}

export interface DesiredState {
  records: DesiredRecord[];
  /** Every role file, in file-name order; their Role records are among `records`. */
  roles: DesiredRole[];
  /** The product's version (package.json beside doctypes/), when there is one. */
  version?: string;
}

/** Every permission column of a (Custom) DocPerm row, in Frappe's order (core/doctype/docperm). */
export const PERM_FLAGS = ['if_owner', 'select', 'read', 'write', 'create', 'delete', 'submit', 'cancel', 'amend', 'report', 'export', 'import', 'share', 'print', 'email'];

export const STAGES = {
  role: 10,
  childDocType: 20,
  docType: 30,
  customField: 40,
  grant: 50,
  status: 60,
  sla: 70,
  script: 80,
} as const;

export const STATE_DOCTYPE = 'Order Companion Settings';

/**
 * What the last complete install left in the install state (Order Companion Settings'
 * `install_state`, `product`): the release, when, and the digest of every record it made match
 * ({@link desiredDigests}). The sidecar's records check reads it.
 */
export interface InstalledProduct {
  version: string | null;
  installedAt: string;
  digests: Record<string, string>;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function strip(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_')));
}

/**
 * Frappe fills a permission flag the row does not send with the DocPerm default, and write,
 * create, delete, report, share, print and email default to 1 (recordings `doctype-get`,
 * `restricted-sync-request-put`): every DocType permission row is sent with every flag, 0 or 1.
 */
function explicitPermissions(doc: Record<string, unknown>): void {
  if (!Array.isArray(doc.permissions)) return;
  doc.permissions = (doc.permissions as Record<string, unknown>[]).map((row) => {
    const full: Record<string, unknown> = { ...row, permlevel: Number(row.permlevel ?? 0) };
    for (const flag of PERM_FLAGS) full[flag] = row[flag] ? 1 : 0;
    return full;
  });
}

/** `<shop>`-like text: a tag as Frappe's HTML sanitiser sees one (frappe/utils/html_utils.py `sanitize_html`). */
const HTML_LIKE = /<\/?[A-Za-z][^<>]*>/;

/**
 * Frappe escapes tag-like text in every field but Code ones on save (base_document.py
 * `_sanitize_content`), so a site would never store what the file says and every install would
 * "update" it again: refuse it here, before anything talks to a site.
 */
function refuseHtmlLike(where: string, value: unknown, path = ''): void {
  if (typeof value === 'string') {
    if (HTML_LIKE.test(value)) throw new Error(`${where}${path}: "${value.match(HTML_LIKE)![0]}" looks like HTML, which Frappe escapes on save; write it without angle brackets`);
  } else if (Array.isArray(value)) value.forEach((v, i) => refuseHtmlLike(where, v, `${path}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) refuseHtmlLike(where, v, `${path}.${k}`);
}

function asRecord(raw: Record<string, unknown>, stage: number): DesiredRecord {
  const doctype = String(raw.doctype);
  const name = String(raw.name);
  const doc = strip(raw);
  delete doc.doctype;
  if (doctype === 'DocType') explicitPermissions(doc);
  refuseHtmlLike(`${doctype} "${name}"`, doc);
  return { doctype, name, doc, stage, purpose: raw._purpose as string | undefined };
}

/** Read everything under `root` (the doctypes/ folder) and the manifest's desk bundles. */
export function loadDesired(root: string, manifest: HooksManifest, bundleDir: string): DesiredState {
  const records: DesiredRecord[] = [];
  const roles = loadRoles(root);
  for (const r of roles) records.push({ ...r.record, purpose: r.role.purpose });

  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const file = join(root, dir.name, `${dir.name}.json`);
    if (!existsSync(file)) continue;
    const raw = readJson(file) as Record<string, unknown>;
    if (raw.doctype !== 'DocType') continue;
    records.push(asRecord(raw, raw.istable ? STAGES.childDocType : STAGES.docType));
  }
  for (const file of readdirSync(join(root, 'custom_fields')).sort()) {
    for (const raw of readJson(join(root, 'custom_fields', file)) as Record<string, unknown>[]) records.push(asRecord(raw, STAGES.customField));
  }
  for (const file of readdirSync(join(root, 'sla')).sort()) {
    for (const raw of readJson(join(root, 'sla', file)) as Record<string, unknown>[]) {
      records.push(asRecord(raw, raw.doctype === 'CRM Service Level Agreement' ? STAGES.sla : STAGES.status));
    }
  }
  for (const target of manifest.desk) {
    const bundle = join(bundleDir, `${target.name}.js`);
    if (!existsSync(bundle)) throw new Error(`desk bundle ${bundle} is missing: run \`npm run build\` first`);
    const script = readFileSync(bundle, 'utf8');
    const doc: Record<string, unknown> =
      target.record.doctype === 'Client Script'
        ? { dt: target.doctype, view: target.record.view, enabled: 1, script }
        : { dt: target.doctype, enabled: 1, script, ...(target.record.doctype === 'CRM Form Script' ? { view: target.record.view } : { apply_to: target.record.view }) };
    records.push({ doctype: target.record.doctype, name: target.record.name, doc, stage: STAGES.script, purpose: `desk bundle ${target.name}` });
  }
  // Within a stage, a Tab Break comes before the Table placed after it (file order), so keep it stable.
  records.sort((a, b) => a.stage - b.stage);
  const pkg = join(root, '..', 'package.json');
  const version = existsSync(pkg) ? (readJson(pkg) as { version?: unknown }).version : undefined;
  return { records, roles: roles.map((r) => r.role), ...(typeof version === 'string' ? { version } : {}) };
}

/** How the install state and the sidecar name a record: "DocType/name". */
export function recordKey(r: { doctype: string; name: string }): string {
  return `${r.doctype}/${r.name}`;
}

/** JSON with object keys sorted, so the same document always reads the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A short fingerprint of what a record's file says (its body as sent, before the installer fits it
 * to the site): the installer stores one per record it made match, and the sidecar compares its
 * own files' against them to tell which records a newer release changed.
 */
export function recordDigest(record: DesiredRecord): string {
  return createHash('sha256').update(canonical({ doctype: record.doctype, name: record.name, doc: record.doc })).digest('hex').slice(0, 16);
}

/** Every record's digest by key; a role's grants are part of its Role record's. */
export function desiredDigests(desired: DesiredState): Record<string, string> {
  const grants = new Map(desired.roles.map((r) => [r.name, r.grants]));
  return Object.fromEntries(
    desired.records.map((r) => {
      const g = r.doctype === 'Role' ? grants.get(r.name) : undefined;
      return [recordKey(r), recordDigest(g ? { ...r, doc: { ...r.doc, _grants: g } } : r)];
    }),
  );
}

interface RoleFile {
  _purpose?: string;
  role: Record<string, unknown>;
  grants: ({ parent: string } & Record<string, unknown>)[];
}

/**
 * Every `roles/*.json` under `root` (the doctypes/ folder), in file-name order: its Role record
 * and its grants. A malformed file is refused here, before anything talks to a site.
 */
export function loadRoles(root: string): { role: DesiredRole; record: DesiredRecord }[] {
  const dir = join(root, 'roles');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (!files.length) throw new Error(`${dir} holds no role file`);
  const out: { role: DesiredRole; record: DesiredRecord }[] = [];
  for (const file of files) {
    const raw = readJson(join(dir, file)) as RoleFile;
    const bad = (why: string) => new Error(`doctypes/roles/${file}: ${why}`);
    if (!raw || typeof raw !== 'object' || !raw.role || typeof raw.role !== 'object') throw bad('no "role" record');
    if (raw.role.doctype !== 'Role' || typeof raw.role.name !== 'string' || !raw.role.name) throw bad('"role" must be a Role record with a name');
    if (raw.role.role_name !== undefined && raw.role.role_name !== raw.role.name) throw bad(`role_name "${String(raw.role.role_name)}" differs from name "${raw.role.name}"`);
    if (!Array.isArray(raw.grants)) throw bad('no "grants" list');
    const name = raw.role.name;
    if (out.some((o) => o.role.name === name)) throw bad(`the role "${name}" is also defined in ${out.find((o) => o.role.name === name)!.role.file}`);
    const parents = new Set<string>();
    const grants: Grant[] = raw.grants.map(({ parent, permlevel: level = 0, ...flags }) => {
      if (typeof parent !== 'string' || !parent) throw bad('a grant without "parent"');
      if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 9) throw bad(`${parent}: "permlevel" must be an integer from 0 to 9`);
      const permlevel = level;
      const key = `${parent}|${permlevel}`;
      if (parents.has(key)) throw bad(`${parent} is granted twice${permlevel ? ` at permlevel ${permlevel}` : ''}`);
      parents.add(key);
      for (const [k, v] of Object.entries(flags)) {
        if (!PERM_FLAGS.includes(k)) throw bad(`${parent}: "${k}" is not a permission column (${PERM_FLAGS.join(', ')})`);
        if (v !== 0 && v !== 1) throw bad(`${parent}: "${k}" must be 0 or 1`);
      }
      return { parent, permlevel, flags: Object.fromEntries(Object.entries(flags).filter(([, v]) => v).map(([k]) => [k, 1])) as Record<string, 1> };
    });
    out.push({ role: { name, file, purpose: raw._purpose, grants }, record: asRecord(raw.role, STAGES.role) });
  }
  return out;
}
