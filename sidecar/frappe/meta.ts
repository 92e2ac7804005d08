/**
 * Which fields a DocType has on this site, for fields that only some sites have: `erpnext_customer`
 * on CRM Deal exists only when CRM's ERPNext integration created it as a Custom Field
 * (frappe/crm:crm/fcrm/doctype/erpnext_crm_settings/erpnext_crm_settings.py), and Helpdesk v1.14.0's
 * HD Customer has none. Naming a field the DocType lacks in a list call is
 * `417 DataError: Field not permitted in query` (frappe/desk/reportview.py `validate_args`, run by
 * frappe.client.get_list), so such a field must be looked up before it is used.
 *
 * The meta comes from `frappe.desk.form.load.getdoctype` (frappe/desk/form/load.py [v15]): a
 * whitelisted method with no permission check of its own, so the sidecar's user, which holds only
 * the product's roles and may not read DocType or Custom Field, can call it. Its `docs[0]` is
 * `frappe.get_meta` of the DocType, Custom Fields included.
 *
 * One read per DocType per site per {@link META_TTL_MS}, shared by every job on this client (the
 * runtime keeps one client per site); concurrent lookups share one request. Should a site refuse
 * the meta (403), the field is `unknown`: callers try it and take a DataError as its absence.
 */
import { methodPath, type FrappeClient } from '../../lib/frappe/client.js';
import { FrappeApiError } from '../../lib/frappe/errors.js';

/** A Custom Field added or removed on the site is seen within this long. */
export const META_TTL_MS = 10 * 60_000;

/** What the site's meta says of a field; `unknown` when the site would not give its meta. */
export type FieldState = 'present' | 'absent' | 'unknown';

interface Entry {
  at: number;
  /** The DocType's fieldnames; null when the meta read was refused (403). */
  fields: Promise<Set<string> | null>;
  /** Fields the site refused in a query since the meta was read. */
  absent: Set<string>;
}

const caches = new WeakMap<FrappeClient, Map<string, Entry>>();

export interface MetaOptions {
  signal?: AbortSignal;
  /** @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue {@link META_TTL_MS} */
  ttlMs?: number;
}

function cacheOf(client: FrappeClient): Map<string, Entry> {
  let cache = caches.get(client);
  if (!cache) {
    cache = new Map();
    caches.set(client, cache);
  }
  return cache;
}

async function readFields(client: FrappeClient, doctype: string, signal?: AbortSignal): Promise<Set<string> | null> {
  let body: { docs?: { name?: string; fields?: { fieldname?: string }[] }[] };
  try {
    body = await client.request('GET', methodPath('frappe.desk.form.load.getdoctype'), { query: { doctype }, signal });
  } catch (err) {
    // A site that refuses the meta to this user: the field is tried, and a DataError answers it.
    if (err instanceof FrappeApiError && err.status === 403) return null;
    throw err;
  }
  const meta = body?.docs?.find((d) => d.name === doctype) ?? body?.docs?.[0];
  if (!meta || !Array.isArray(meta.fields)) throw new Error(`frappe.desk.form.load.getdoctype answered no meta for ${doctype}`);
  return new Set(meta.fields.map((f) => String(f.fieldname ?? '')).filter(Boolean));
}

function entryFor(client: FrappeClient, doctype: string, opts: MetaOptions): Entry {
  const now = (opts.now ?? Date.now)();
  const ttl = opts.ttlMs ?? META_TTL_MS;
  const cache = cacheOf(client);
  let entry = cache.get(doctype);
  if (!entry || now - entry.at >= ttl) {
    const fresh: Entry = { at: now, fields: readFields(client, doctype, opts.signal), absent: new Set() };
    cache.set(doctype, fresh);
    // A failed read is not remembered: the next lookup asks again.
    fresh.fields.catch(() => {
      if (cache.get(doctype) === fresh) cache.delete(doctype);
    });
    entry = fresh;
  }
  return entry;
}

/** Does `doctype` have `fieldname` on the client's site (a DocField or a Custom Field)? */
export async function fieldState(client: FrappeClient, doctype: string, fieldname: string, opts: MetaOptions = {}): Promise<FieldState> {
  const entry = entryFor(client, doctype, opts);
  const fields = await entry.fields;
  if (entry.absent.has(fieldname)) return 'absent';
  if (fields === null) return 'unknown';
  return fields.has(fieldname) ? 'present' : 'absent';
}

/**
 * The site refused a query naming `fieldname` (removed since the meta was read, or a meta that could
 * not be read): it is absent until the meta is read again.
 */
export function markAbsent(client: FrappeClient, doctype: string, fieldname: string): void {
  caches.get(client)?.get(doctype)?.absent.add(fieldname);
}

/** `417 DataError: Field not permitted in query: <fieldname>` (frappe/desk/reportview.py `raise_invalid_field`). */
export function isFieldNotPermitted(err: unknown, fieldname: string): boolean {
  return err instanceof FrappeApiError && err.excType === 'DataError' && err.messages.some((m) => m.includes(`Field not permitted in query: ${fieldname}`));
}
