/**
 * The records this product puts into a site, read from doctypes/ (reviewable JSON, nothing
 * site-specific) and hooks_manifest.json (desk bundles → Client Script / Form Script records),
 * in the order they must be applied: roles before the DocTypes whose permissions name them,
 * child DocTypes before the Table fields that point at them, statuses before the SLAs that use them.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HooksManifest } from '../../sidecar/manifest/schema.js';

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

/** Grants of the companion role on a DocType, as a Custom DocPerm row. */
export interface Grant {
  parent: string;
  flags: Record<string, 1>;
}

export interface DesiredState {
  records: DesiredRecord[];
  role: string;
  grants: Grant[];
}

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

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function strip(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_')));
}

function asRecord(raw: Record<string, unknown>, stage: number): DesiredRecord {
  const doctype = String(raw.doctype);
  const name = String(raw.name);
  const doc = strip(raw);
  delete doc.doctype;
  return { doctype, name, doc, stage, purpose: raw._purpose as string | undefined };
}

/** Read everything under `root` (the doctypes/ folder) and the manifest's desk bundles. */
export function loadDesired(root: string, manifest: HooksManifest, bundleDir: string): DesiredState {
  const records: DesiredRecord[] = [];
  const roleFile = readJson(join(root, 'roles', 'order_companion.json')) as {
    role: Record<string, unknown>;
    grants: ({ parent: string } & Record<string, unknown>)[];
  };
  records.push(asRecord(roleFile.role, STAGES.role));

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
  const grants: Grant[] = roleFile.grants.map(({ parent, ...flags }) => ({
    parent,
    flags: Object.fromEntries(Object.entries(flags).filter(([, v]) => v).map(([k]) => [k, 1])) as Record<string, 1>,
  }));
  return { records, role: String(roleFile.role.name), grants };
}
