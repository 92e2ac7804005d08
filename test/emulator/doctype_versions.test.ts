/**
 * The emulator's DocType JSON against the versions it claims (README "Emulator version baseline"):
 * every `_source` names its repository and version, and the field sets match the answers of the
 * real Frappe 15.55.1 / CRM v1.52.1 / Helpdesk v1.14.0 site in ../shared/recordings/frappe-v15.55.1/.
 *
 * What an answer proves (frappe/frappe:frappe/model/base_document.py `as_dict` [v15]): a
 * `frappe.client.*` answer lists every field, nulls included, and every table; a REST answer
 * (frappe/frappe:frappe/utils/response.py json_handler → `as_dict(no_nulls=True)`) drops nulls but
 * never a Check (always 0/1, `_fix_numeric_types`) or a table (a list, maybe empty).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableOnlyColumns } from '../../emulator/core/document/columns.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCTYPES = join(ROOT, 'emulator', 'doctypes');
const REST = join(ROOT, '..', 'shared', 'recordings', 'frappe-v15.55.1', 'rest.jsonl');

interface Field {
  fieldname: string;
  fieldtype: string;
}
interface Meta {
  name: string;
  _source: string;
  fields: Field[];
}

const CLAIMED: Record<string, RegExp> = {
  frappe: /^frappe\/frappe@v15\.55\.1:frappe\/\S+\.json — \S/,
  crm: /^frappe\/crm@v1\.52\.1:crm\/\S+\.json — \S/,
  helpdesk: /^frappe\/helpdesk@v1\.14\.0:helpdesk\/\S+\.json — \S/,
  erpnext: /^ERPNext v15 \(reference, not version-pinned: /,
};

/** Newer than the claimed release, kept on purpose; each also named in the JSON's `_source`. */
const KEPT: Record<string, string[]> = {
  'FCRM Settings': ['auto_mark_replied_on_response', 'auto_reopen_on_new_communication', 'update_timestamp_on_new_communication'],
  'HD Ticket': ['status_category', 'last_agent_response', 'last_customer_response'],
};

/** Layout types hold no value (frappe/frappe:frappe/model/__init__.py no_value_fields, display fields [v15]). */
const NO_VALUE = new Set(['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Heading', 'Fold', 'Image']);
const STANDARD = new Set(['name', 'owner', 'creation', 'modified', 'modified_by', 'docstatus', 'idx', 'doctype', 'parent', 'parentfield', 'parenttype', '__unsaved']);

function metas(): { app: string; meta: Meta }[] {
  return readdirSync(DOCTYPES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(DOCTYPES, d.name)).filter((f) => f.endsWith('.json')).map((f) => ({ app: d.name, meta: JSON.parse(readFileSync(join(DOCTYPES, d.name, f), 'utf8')) as Meta })));
}

interface Seen {
  doctype: string;
  keys: string[];
  /** The answer lists every field, nulls included. */
  complete: boolean;
  where: string;
}

/** Every document (and child row) in a 200 answer of the recordings. */
function recordedDocs(): Seen[] {
  if (!existsSync(REST)) throw new Error(`Recordings not found: ${REST} (../shared/recordings/frappe-v15.55.1/ beside the clone)`);
  const out: Seen[] = [];
  const visit = (doc: Record<string, unknown>, complete: boolean, where: string) => {
    out.push({ doctype: String(doc.doctype), keys: Object.keys(doc), complete, where });
    for (const [k, v] of Object.entries(doc)) {
      if (Array.isArray(v) && v.length && typeof v[0] === 'object' && v[0] && 'doctype' in v[0]) visit(v[0] as Record<string, unknown>, complete, `${where}.${k}[0]`);
    }
  };
  for (const line of readFileSync(REST, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as { case: string; request: { path: string }; response: { status: number; body: Record<string, unknown> } };
    if (c.response.status !== 200 || !c.response.body || typeof c.response.body !== 'object') continue;
    const doc = (c.response.body.data ?? c.response.body.message) as Record<string, unknown> | undefined;
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && typeof doc.doctype === 'string') visit(doc, c.request.path.startsWith('/api/method/'), c.case);
  }
  return out;
}

describe('emulator DocType JSON and the claimed versions', () => {
  it('every JSON says which release it comes from', () => {
    for (const { app, meta } of metas()) {
      expect(CLAIMED[app], app).toBeDefined();
      expect(meta._source, `${app}: ${meta.name}`).toMatch(CLAIMED[app]);
      for (const kept of KEPT[meta.name] ?? []) expect(meta._source, `${meta.name} names ${kept}`).toContain(kept);
    }
  });

  it('CRM Lead Status has no type field (CRM v1.52.1; recording lead-status-insert)', () => {
    const status = metas().find((m) => m.meta.name === 'CRM Lead Status')!.meta;
    expect(status.fields.map((f) => f.fieldname)).not.toContain('type');
  });

  it('field sets match the recorded site (CRM, Helpdesk and Frappe DocTypes; ERPNext is reference only)', () => {
    const byName = new Map(metas().filter((m) => m.app !== 'erpnext').map((m) => [m.meta.name, m.meta]));
    const problems: string[] = [];
    let checked = 0;
    for (const seen of recordedDocs()) {
      const meta = byName.get(seen.doctype);
      if (!meta) continue; // ERPNext, or a DocType the recording run created
      checked += 1;
      const kept = new Set(KEPT[meta.name] ?? []);
      const fields = meta.fields.filter((f) => !NO_VALUE.has(f.fieldtype));
      // A table-only column (emulator/core/document/columns.ts) is in rows read from the table, not
      // in rows an insert built from what it was sent (doctype-get, doctype-put vs doctype-insert-custom).
      const columns = tableOnlyColumns(meta.name).map((f) => f.fieldname);
      const names = new Set([...fields.map((f) => f.fieldname), ...columns]);
      const keys = new Set(seen.keys.filter((k) => !STANDARD.has(k) && !k.startsWith('custom_')));
      for (const k of keys) if (!names.has(k)) problems.push(`${seen.where}: ${meta.name} lacks ${k}`);
      for (const f of fields) {
        if (keys.has(f.fieldname) || kept.has(f.fieldname)) continue;
        // Both kinds of answer always carry Checks and tables; a complete one carries every field.
        if (seen.complete || f.fieldtype === 'Check' || f.fieldtype === 'Table') problems.push(`${seen.where}: ${meta.name}.${f.fieldname} (${f.fieldtype}) is not on the real site`);
      }
      const inserted = seen.where.includes('-insert');
      for (const c of columns) if (keys.has(c) === inserted) problems.push(`${seen.where}: ${meta.name}.${c} (a table-only column) ${inserted ? 'is in an insert' : 'is not read back'}`);
    }
    expect(checked).toBeGreaterThan(40);
    expect(problems).toEqual([]);
  });
});
