/**
 * Generates TypeScript types from the DocType records in doctypes/ into lib/doctypes/*.gen.ts, so
 * the desk and the sidecar read one definition of a row instead of writing it by hand twice.
 *
 *   npm run gen:types          (or: npx tsx scripts/gen_types.ts)
 *
 * One file per DocType (doctypes/<dir>/<dir>.json → lib/doctypes/<dir>.gen.ts) and one per DocType
 * that custom fields are added to (doctypes/custom_fields/<dt>.json →
 * lib/doctypes/<dt>_custom_fields.gen.ts). Role grants and SLA records are data, not schemas: skipped.
 * test/doctypes_gen.test.ts regenerates into memory and fails when a committed file is stale.
 *
 * Field types follow the value a Frappe field holds (frappe/model/__init__.py lists the fieldtypes:
 * data_fieldtypes, no_value_fields, table_fields): numbers for Int/Float/Currency/Percent/Check,
 * strings for text, links, dates and times (Frappe sends dates as "YYYY-MM-DD" strings), a union of
 * the options for Select, and the child row type for Table fields. A field that is not mandatory
 * (`reqd`) may be null in a document Frappe returns.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface FieldDef {
  fieldname?: string;
  fieldtype?: string;
  label?: string;
  options?: string;
  reqd?: number;
  dt?: string;
}

interface DocTypeDef {
  doctype?: string;
  name?: string;
  istable?: number;
  issingle?: number;
  fields?: FieldDef[];
}

/** Layout-only fieldtypes: they hold no value (frappe/model/__init__.py no_value_fields / display_fieldtypes). */
const NO_VALUE = new Set(['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Image', 'Fold', 'Heading']);
const NUMBER = new Set(['Int', 'Long Int', 'Float', 'Currency', 'Percent', 'Check', 'Rating', 'Duration']);
const TABLE = new Set(['Table', 'Table MultiSelect']);

/** "CRM Lead Order Item" → "CrmLeadOrderItem". */
export function typeName(doctype: string): string {
  return doctype
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
}

/** "CRM Lead Order Item" → "crm_lead_order_item" (Frappe's scrub, frappe/__init__.py). */
function scrub(doctype: string): string {
  return doctype.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
}

function selectUnion(options: string | undefined): string {
  const values = (options ?? '').split('\n');
  const unique = [...new Set(values.map((v) => v.trim()))];
  if (unique.length === 0 || (unique.length === 1 && unique[0] === '')) return 'string';
  return unique.map((v) => JSON.stringify(v)).join(' | ');
}

function fieldType(f: FieldDef, known: Map<string, string>, imports: Set<string>): string {
  const ft = f.fieldtype ?? 'Data';
  if (NUMBER.has(ft)) return 'number';
  if (ft === 'Select') return selectUnion(f.options);
  if (TABLE.has(ft)) {
    const child = f.options ? known.get(f.options) : undefined;
    if (!child) return 'Record<string, unknown>[]';
    imports.add(f.options!);
    return `${typeName(f.options!)}[]`;
  }
  return 'string';
}

function valueFields(fields: FieldDef[] | undefined): FieldDef[] {
  return (fields ?? []).filter((f) => f.fieldname && !NO_VALUE.has(f.fieldtype ?? 'Data'));
}

function doc(label: string | undefined, ft: string | undefined): string {
  return label ? `  /** ${label} (${ft ?? 'Data'}) */\n` : '';
}

function header(source: string): string {
  return `// Generated from ${source} by scripts/gen_types.ts — do not edit; run \`npm run gen:types\`.\n`;
}

function constName(doctype: string, suffix: string): string {
  return `${scrub(doctype).toUpperCase()}_${suffix}`;
}

function renderDocType(def: DocTypeDef, source: string, known: Map<string, string>): string {
  const name = def.name!;
  const tn = typeName(name);
  const imports = new Set<string>();
  const fields = valueFields(def.fields);
  const lines: string[] = [];
  lines.push(`/** A ${name} document${def.istable ? ' row (child table)' : ''}, as Frappe returns it. */`);
  lines.push(`export interface ${tn} {`);
  lines.push('  name?: string;');
  if (def.istable) {
    lines.push('  idx?: number;', '  parent?: string;', '  parenttype?: string;', '  parentfield?: string;');
  }
  for (const f of fields) {
    const t = fieldType(f, known, imports);
    lines.push(`${doc(f.label, f.fieldtype)}  ${f.fieldname}: ${t}${f.reqd ? '' : ' | null'};`);
  }
  lines.push('}', '');
  lines.push(`export const ${constName(name, 'DOCTYPE')} = ${JSON.stringify(name)};`, '');
  lines.push(`/** The value fields of ${name}, in form order. */`);
  lines.push(`export const ${constName(name, 'FIELDS')} = [${fields.map((f) => JSON.stringify(f.fieldname)).join(', ')}] as const;`);
  for (const f of fields.filter((x) => x.fieldtype === 'Select' && selectUnion(x.options) !== 'string')) {
    lines.push('', `export type ${tn}${typeName(f.fieldname!)} = ${tn}[${JSON.stringify(f.fieldname)}] & string;`);
  }
  const importLines = [...imports]
    .sort()
    .map((dt) => `import type { ${typeName(dt)} } from './${known.get(dt)}.gen.js';`);
  return [header(source), ...(importLines.length ? [...importLines, ''] : []), ...lines, ''].join('\n');
}

function renderCustomFields(dt: string, fields: FieldDef[], source: string, known: Map<string, string>): string {
  const tn = `${typeName(dt)}CustomFields`;
  const imports = new Set<string>();
  const lines: string[] = [];
  lines.push(`/** The fields this app adds to ${dt} (Custom Field records). */`);
  lines.push(`export interface ${tn} {`);
  for (const f of valueFields(fields)) {
    lines.push(`${doc(f.label, f.fieldtype)}  ${f.fieldname}: ${fieldType(f, known, imports)}${f.reqd ? '' : ' | null'};`);
  }
  lines.push('}', '');
  lines.push(`export const ${constName(dt, 'CUSTOM_FIELDS')} = [${valueFields(fields).map((f) => JSON.stringify(f.fieldname)).join(', ')}] as const;`);
  const importLines = [...imports]
    .sort()
    .map((d) => `import type { ${typeName(d)} } from './${known.get(d)}.gen.js';`);
  return [header(source), ...(importLines.length ? [...importLines, ''] : []), ...lines, ''].join('\n');
}

/**
 * Names shared by several DocTypes with the same value fields: one type the desk and the sidecar
 * both use. The generator refuses to emit one when the DocTypes' fields drift apart.
 */
const SHARED_ROWS: { file: string; type: string; what: string; doctypes: string[] }[] = [
  {
    file: 'order_history_row',
    type: 'HistoryRow',
    what: "One line of a customer's order history (the Order History table of a CRM Lead or an HD Ticket).",
    doctypes: ['CRM Lead Order Item', 'HD Ticket Order Item'],
  },
];

function fieldSignature(def: DocTypeDef, known: Map<string, string>): string {
  return valueFields(def.fields)
    .map((f) => `${f.fieldname}:${fieldType(f, known, new Set())}:${f.reqd ? 1 : 0}`)
    .join(',');
}

function renderSharedRow(shared: (typeof SHARED_ROWS)[number], defs: Map<string, { def: DocTypeDef; source: string }>, known: Map<string, string>): string {
  const [first, ...rest] = shared.doctypes.map((dt) => {
    const d = defs.get(dt);
    if (!d) throw new Error(`gen_types: ${shared.type} names ${dt}, which doctypes/ does not define`);
    return d;
  });
  for (const other of rest) {
    if (fieldSignature(other.def, known) !== fieldSignature(first!.def, known)) {
      throw new Error(`gen_types: ${shared.type}: ${other.def.name} and ${first!.def.name} no longer have the same fields`);
    }
  }
  const lines = [
    header([first!, ...rest].map((d) => d.source).join(', ')),
    ...shared.doctypes.map((dt) => `import type { ${typeName(dt)} } from './${known.get(dt)}.gen.js';`),
    '',
    `/** ${shared.what} ${shared.doctypes.join(' and ')} have the same fields. */`,
    `export type ${shared.type} = ${typeName(shared.doctypes[0]!)};`,
    '',
    `/** The value fields of a ${shared.type}, in form order. */`,
    `export const ${shared.type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_FIELDS = [${valueFields(first!.def.fields).map((f) => JSON.stringify(f.fieldname)).join(', ')}] as const;`,
    '',
    ...rest.map((d) => `/** Compile-time proof that ${d.def.name} rows are ${shared.type}s and back. */\nexport type ${typeName(d.def.name!)}Is${shared.type} = [${typeName(d.def.name!)}, ${shared.type}] extends [${shared.type}, ${typeName(d.def.name!)}] ? true : never;\n`),
  ];
  return lines.join('\n');
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Every generated file as (path relative to root → content), in a stable order. Pure apart from
 * reading doctypes/: the test compares it with the committed files.
 */
export function generateDoctypeTypes(root: string): Map<string, string> {
  const doctypesDir = join(root, 'doctypes');
  const dirs = readdirSync(doctypesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const defs: { def: DocTypeDef; source: string; base: string }[] = [];
  const custom: { path: string; source: string }[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(join(doctypesDir, dir)).filter((f) => f.endsWith('.json')).sort()) {
      const path = join(doctypesDir, dir, file);
      const source = relative(root, path).split('\\').join('/');
      const data = readJson(path);
      if (dir === 'custom_fields') custom.push({ path, source });
      else if (!Array.isArray(data) && (data as DocTypeDef).doctype === 'DocType') {
        defs.push({ def: data as DocTypeDef, source, base: file.replace(/\.json$/, '') });
      }
    }
  }
  const known = new Map(defs.map((d) => [d.def.name!, d.base]));
  const out = new Map<string, string>();
  for (const { def, source, base } of defs) out.set(`lib/doctypes/${base}.gen.ts`, renderDocType(def, source, known));
  for (const { path, source } of custom) {
    const records = readJson(path) as FieldDef[];
    const byDt = new Map<string, FieldDef[]>();
    for (const r of records) if (r.dt) byDt.set(r.dt, [...(byDt.get(r.dt) ?? []), r]);
    for (const [dt, fields] of [...byDt].sort(([a], [b]) => a.localeCompare(b))) {
      out.set(`lib/doctypes/${scrub(dt)}_custom_fields.gen.ts`, renderCustomFields(dt, fields, source, known));
    }
  }
  const byName = new Map(defs.map((d) => [d.def.name!, d]));
  for (const shared of SHARED_ROWS) out.set(`lib/doctypes/${shared.file}.gen.ts`, renderSharedRow(shared, byName, known));
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(here, '..');
  for (const [rel, content] of generateDoctypeTypes(root)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
    console.log(`wrote ${rel}`);
  }
}
