/**
 * Finding what a document operation names: a DocType's meta (DoesNotExistError when the site has
 * none), a document's exact name matched case-insensitively as MariaDB does, and the URL slug of a
 * DocType name. Kept apart from read.ts because new documents need the meta too, and read.ts builds
 * on new documents.
 */
import { doesNotExist } from '../errors.js';
import type { DocTypeMeta } from '../meta.js';
import type { Site } from '../site.js';

export function requireMeta(site: Site, doctype: string): DocTypeMeta {
  const meta = site.meta(doctype);
  if (!meta) throw doesNotExist('DocType', doctype);
  return meta;
}

/** Case-insensitive lookup of a name, as MariaDB's default collation matches it. */
export function findName(site: Site, doctype: string, name: unknown): string | undefined {
  if (name === null || name === undefined || name === '') return undefined;
  const text = String(name);
  if (site.db.exists(doctype, text)) return text;
  const folded = text.toLowerCase().trimEnd();
  for (const row of site.db.scan(doctype)) {
    if (String(row.name).toLowerCase().trimEnd() === folded) return String(row.name);
  }
  return undefined;
}

export function slug(doctype: string): string {
  return doctype.toLowerCase().replace(/ /g, '-');
}
