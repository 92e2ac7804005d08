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
 * runtime keeps one client per site); concurrent lookups share one request.
 */
import { methodPath, type FrappeClient } from './client.js';
import { FrappeApiError } from './errors.js';

/** A Custom Field added or removed on the site is seen within this long. */
export const META_TTL_MS = 10 * 60_000;

interface Entry {
  at: number;
  fields: Promise<Set<string>>;
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

async function readFields(client: FrappeClient, doctype: string, signal?: AbortSignal): Promise<Set<string>> {
  const body = await client.request<{ docs?: { name?: string; fields?: { fieldname?: string }[] }[] }>('GET', methodPath('frappe.desk.form.load.getdoctype'), {
    query: { doctype },
    signal,
  });
  const meta = body?.docs?.find((d) => d.name === doctype) ?? body?.docs?.[0];
  if (!meta || !Array.isArray(meta.fields)) throw new Error(`frappe.desk.form.load.getdoctype answered no meta for ${doctype}`);
  return new Set(meta.fields.map((f) => String(f.fieldname ?? '')).filter(Boolean));
}

/** Does `doctype` have `fieldname` on the client's site (a DocField or a Custom Field)? */
export async function hasField(client: FrappeClient, doctype: string, fieldname: string, opts: MetaOptions = {}): Promise<boolean> {
  const now = (opts.now ?? Date.now)();
  const ttl = opts.ttlMs ?? META_TTL_MS;
  const cache = cacheOf(client);
  let entry = cache.get(doctype);
  if (!entry || now - entry.at >= ttl) {
    entry = { at: now, fields: readFields(client, doctype, opts.signal) };
    cache.set(doctype, entry);
    // A failed read is not remembered: the next lookup asks again.
    entry.fields.catch(() => {
      if (cache.get(doctype) === entry) cache.delete(doctype);
    });
  }
  return (await entry.fields).has(fieldname);
}

/** Forget what is known of `doctype` on this site (after the site said the field is not there). */
export function forgetMeta(client: FrappeClient, doctype: string): void {
  caches.get(client)?.delete(doctype);
}

/** The site refused a query naming `fieldname`: the field was removed since the meta was read. */
export function isFieldNotPermitted(err: unknown, fieldname: string): boolean {
  return err instanceof FrappeApiError && err.excType === 'DataError' && err.messages.some((m) => m.includes(`Field not permitted in query: ${fieldname}`));
}
