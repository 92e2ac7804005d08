/**
 * Document naming (frappe/frappe:frappe/model/naming.py [v15]): `set_new_name` → controller
 * `autoname()` or the DocType's `autoname` rule: hash, autoincrement, `field:x`,
 * `naming_series:`, `Prompt`, `format:…`, or an inline series like `ABC-.#####`.
 */
import { randomBytes } from 'node:crypto';
import type { Doc } from './database.js';
import { FrappeError } from './errors.js';
import type { DocTypeMeta } from './meta.js';
import type { Site } from './site.js';

/** `frappe.generate_hash(length=10)`. */
export function generateHash(length = 10): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

/**
 * `NamingSeries(series).generate_next_name(doc)`: a series without `#` gets `.#####` appended;
 * parts between dots are date tokens, `#` counters, `{field}`/field names, or literal text.
 */
export function nextSeriesName(site: Site, series: string, doc: Doc): string {
  const key = series.includes('#') ? series : `${series}.#####`;
  const parts = key.split('.');
  const today = site.today();
  const [yyyy, mm, dd] = today.split('-');
  let prefix = '';
  let name = '';
  let counted = false;
  for (const part of parts) {
    if (!part) continue;
    if (part.startsWith('#')) {
      if (!counted) {
        const n = site.db.nextSeries(prefix);
        name += String(n).padStart(part.length, '0');
        counted = true;
      }
      continue;
    }
    const value = seriesPart(part, { yyyy, mm, dd }, doc);
    if (!counted) prefix += value;
    name += value;
  }
  return name;
}

function seriesPart(part: string, date: { yyyy: string; mm: string; dd: string }, doc: Doc): string {
  switch (part) {
    case 'YY':
      return date.yyyy.slice(2);
    case 'YYYY':
      return date.yyyy;
    case 'MM':
      return date.mm;
    case 'DD':
      return date.dd;
    case 'FY':
      return date.yyyy;
    default: {
      const m = /^\{(.+)\}$/.exec(part);
      if (m) return String(doc[m[1]] ?? '');
      if (part in doc && typeof doc[part] === 'string' && /^[a-z_]+$/.test(part)) return doc[part] as string;
      return part;
    }
  }
}

/** `format:PRE-{field}-{####}` (naming.py `_format_autoname`). */
function formatName(site: Site, format: string, doc: Doc): string {
  const [yyyy, mm, dd] = site.today().split('-');
  let prefix = '';
  let counted = false;
  return format.replace(/\{([^}]+)\}/g, (_m, token: string, offset: number) => {
    if (token.startsWith('#')) {
      prefix = format.slice(0, offset);
      if (counted) return '';
      counted = true;
      return String(site.db.nextSeries(prefix)).padStart(token.length, '0');
    }
    if (token === 'YYYY') return yyyy;
    if (token === 'YY') return yyyy.slice(2);
    if (token === 'MM') return mm;
    if (token === 'DD') return dd;
    return String(doc[token] ?? '');
  });
}

/**
 * Name a new document unless a controller already did. Client-supplied names are kept only
 * for Prompt DocTypes (`name` or `__newname`); every other rule discards them
 * (naming.py `set_new_name` [v15]).
 */
export function setNewName(site: Site, meta: DocTypeMeta, doc: Doc, controllerNamed: boolean): void {
  if (controllerNamed && doc.name) return;
  const autoname = (meta.autoname ?? '').trim();
  const supplied = (doc.__newname as string) || (doc.name as string) || '';
  delete doc.__newname;
  if (meta.istable || autoname.toLowerCase() === 'hash') {
    doc.name = generateHash();
  } else if (autoname === 'autoincrement') {
    doc.name = site.db.nextSeries(`__autoincrement:${meta.name}`);
  } else if (autoname.toLowerCase() === 'prompt') {
    if (!supplied) throw new FrappeError('ValidationError', { message: 'Please set the document name', excText: 'Please set the document name' });
    doc.name = supplied;
  } else if (autoname.startsWith('field:')) {
    const fieldname = autoname.slice(6).trim();
    const value = String(doc[fieldname] ?? '').trim();
    if (!value) {
      const label = meta.fields.find((f) => f.fieldname === fieldname)?.label ?? fieldname;
      throw new FrappeError('ValidationError', { message: `${label} is required`, excText: `${label} is required` });
    }
    doc.name = value;
  } else if (autoname.startsWith('naming_series:')) {
    const series = (doc.naming_series as string) || defaultSeries(meta);
    if (!series) throw new FrappeError('ValidationError', { message: 'Naming Series mandatory', excText: 'Naming Series mandatory' });
    doc.name = nextSeriesName(site, series, doc);
  } else if (autoname.startsWith('format:')) {
    doc.name = formatName(site, autoname.slice(7), doc);
  } else if (autoname.includes('#') || autoname.includes('.')) {
    doc.name = nextSeriesName(site, autoname, doc);
  } else {
    // No rule: Frappe falls back to a random hash.
    doc.name = generateHash();
  }
  validateName(meta, doc);
}

function defaultSeries(meta: DocTypeMeta): string {
  const df = meta.fields.find((f) => f.fieldname === 'naming_series');
  return (df?.default as string) || (df?.options ?? '').split('\n').find(Boolean) || '';
}

/** naming.py `validate_name`: no empty names, none starting with "New ", no forbidden characters. */
function validateName(meta: DocTypeMeta, doc: Doc): void {
  const name = String(doc.name ?? '').trim();
  if (!name) throw new FrappeError('NameError', { message: 'No Name Specified for ' + meta.name, excText: 'No Name Specified for ' + meta.name, httpStatus: 409 });
  if (name.startsWith('New ' + meta.name)) {
    throw new FrappeError('NameError', {
      message: `There were some errors setting the name, please contact the administrator`,
      httpStatus: 409,
    });
  }
  doc.name = typeof doc.name === 'number' ? doc.name : name;
}
