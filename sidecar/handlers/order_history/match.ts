/**
 * Which ERPNext Customer a CRM Lead or HD Ticket is about (README "Order history"). Every step is a
 * handful of batched list calls (`in` filters), never one call per row; the answer is exactly one
 * Customer or a PermanentError that says why not ("no ERPNext customer matches …" / "ambiguous: …").
 */
import { PermanentError } from '../../../lib/errors.js';
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { fieldState, isFieldNotPermitted, markAbsent } from '../../frappe/meta.js';
import type { Filter } from '../../../lib/frappe/types.js';

export const CRM_LEAD = 'CRM Lead';
export const HD_TICKET = 'HD Ticket';

type Row = Record<string, unknown> & { name: string };

interface Ctx {
  client: FrappeClient;
  signal?: AbortSignal;
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : v == null ? '' : String(v).trim());
const uniq = (xs: string[]): string[] => [...new Set(xs.filter(Boolean))];
const norm = (v: unknown): string => text(v).replace(/\s+/g, ' ').toLowerCase();

/**
 * `erpnext_customer` on CRM Deal and HD Customer is optional: CRM's ERPNext integration creates it
 * on CRM Deal as a Custom Field (frappe/crm:crm/fcrm/doctype/erpnext_crm_settings/
 * erpnext_crm_settings.py), Helpdesk v1.14.0's HD Customer has none, and naming a missing field in
 * a list call is 417 DataError (recordings crm-deal-list-erpnext-customer,
 * hd-customer-list-erpnext-customer). Where it is missing, matching goes on by contact and name.
 */
export const ERPNEXT_CUSTOMER = 'erpnext_customer';

/**
 * Rows of a list call that names `erpnext_customer` on `doctype`; none when the site has no such
 * field — known from the site's meta, or from the site refusing the field in the query (removed
 * since the meta was read, or a meta this user may not read): then it counts as absent until the
 * meta is read again.
 */
async function withErpnextCustomer<T>(ctx: Ctx, doctype: string, list: () => Promise<T[]>): Promise<T[]> {
  if ((await fieldState(ctx.client, doctype, ERPNEXT_CUSTOMER, { signal: ctx.signal })) === 'absent') return [];
  try {
    return await list();
  } catch (err) {
    if (!isFieldNotPermitted(err, ERPNEXT_CUSTOMER)) throw err;
    markAbsent(ctx.client, doctype, ERPNEXT_CUSTOMER);
    return [];
  }
}

/** The leads of the CRM Deals made for `customer` (none on a site whose CRM Deal has no erpnext_customer). */
export async function leadsOfCustomerDeals(ctx: Ctx, customer: string): Promise<string[]> {
  const deals = await withErpnextCustomer(ctx, 'CRM Deal', () =>
    ctx.client.getList<{ name: string; lead: string | null }>('CRM Deal', {
      fields: ['name', 'lead'],
      filters: [[ERPNEXT_CUSTOMER, '=', customer]],
      orderBy: 'name asc',
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  return uniq(deals.map((d) => text(d.lead)));
}

/** The HD Customers of `customer` (none on a site whose HD Customer has no erpnext_customer). */
export async function hdCustomersOf(ctx: Ctx, customer: string): Promise<string[]> {
  const rows = await withErpnextCustomer(ctx, 'HD Customer', () =>
    ctx.client.getList<{ name: string }>('HD Customer', {
      filters: [[ERPNEXT_CUSTOMER, '=', customer]],
      orderBy: 'name asc',
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  return uniq(rows.map((r) => text(r.name)));
}

/**
 * A `like` pattern that finds every customer_name equal to `name` up to letter case and spacing:
 * each word, in order, anything between. Frappe doubles the backslashes of a `like` value
 * (frappe/model/db_query.py `prepare_filter_condition`), so escaping `_` or `%` as `\_` matches
 * nothing (recording customer-list-or-like-escaped); left as they are they are wildcards, which
 * also match themselves. The rows are then compared exactly (`norm`), in Node.
 */
function likeAnyWhere(name: string): string {
  return `%${name.split(' ').filter(Boolean).join('%')}%`;
}

function describeList(names: string[]): string {
  const parts = names.map((n) => `Customer ${n}`);
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** One customer, or ambiguous; null when `customers` is empty. */
function pick(customers: string[], what: string): string | null {
  const list = uniq(customers).sort();
  if (list.length === 0) return null;
  if (list.length > 1) throw new PermanentError(`ambiguous: ${what} matches ${describeList(list)}`);
  return list[0];
}

/** The Customers linked (Dynamic Link) to any of these Contacts: one child-table list call. */
async function customersOfContacts(ctx: Ctx, contacts: string[]): Promise<string[]> {
  if (!contacts.length) return [];
  const links = await ctx.client.getList<{ link_name: string }>('Dynamic Link', {
    parent: 'Contact',
    fields: ['parent', 'link_name'],
    filters: [
      ['parent', 'in', contacts],
      ['link_doctype', '=', 'Customer'],
    ],
    orderBy: 'parent asc, idx asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  return uniq(links.map((l) => text(l.link_name)));
}

/**
 * Contacts whose email (primary or any Contact Email row) or phone matches, in one list call:
 * Frappe joins the child tables named in a filter (db_query.py), so the rows' fields can sit in the
 * same OR as the contact's own.
 */
async function contactsMatching(ctx: Ctx, emails: string[], phones: string[]): Promise<string[]> {
  const orFilters: Filter[] = [];
  if (emails.length) orFilters.push(['email_id', 'in', emails], ['Contact Email', 'email_id', 'in', emails]);
  if (phones.length) orFilters.push(['mobile_no', 'in', phones], ['phone', 'in', phones], ['Contact Phone', 'phone', 'in', phones]);
  if (!orFilters.length) return [];
  const rows = await ctx.client.getList<Row>('Contact', { fields: ['name'], orFilters, orderBy: 'name asc', limitPageLength: 0, signal: ctx.signal });
  return uniq(rows.map((r) => text(r.name)));
}

/** Customers whose customer_name equals one of `names` (trimmed, case-insensitive). */
async function customersNamed(ctx: Ctx, names: string[]): Promise<string[]> {
  const wanted = uniq(names.map(norm));
  if (!wanted.length) return [];
  const rows = await ctx.client.getList<Row & { customer_name?: string }>('Customer', {
    fields: ['name', 'customer_name'],
    orFilters: wanted.map((n): Filter => ['customer_name', 'like', likeAnyWhere(n)]),
    orderBy: 'name asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  return uniq(rows.filter((r) => wanted.includes(norm(r.customer_name))).map((r) => r.name));
}

export interface LeadLike {
  name: string;
  custom_customer?: string | null;
  email?: string | null;
  mobile_no?: string | null;
  phone?: string | null;
  organization?: string | null;
  lead_name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
}

export async function matchLeadCustomer(ctx: Ctx, lead: LeadLike): Promise<string> {
  const explicit = text(lead.custom_customer);
  if (explicit) return explicit;
  const what = `CRM Lead ${lead.name}`;

  const deals = await withErpnextCustomer(ctx, 'CRM Deal', () =>
    ctx.client.getList<{ erpnext_customer?: string }>('CRM Deal', {
      fields: ['name', ERPNEXT_CUSTOMER],
      filters: [
        ['lead', '=', lead.name],
        [ERPNEXT_CUSTOMER, 'is', 'set'],
      ],
      orderBy: 'creation desc, name desc',
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  const byDeal = pick(deals.map((d) => text(d.erpnext_customer)), `${what} (through its deals)`);
  if (byDeal) return byDeal;

  const emails = uniq([text(lead.email)]);
  const phones = uniq([text(lead.mobile_no), text(lead.phone)]);
  const byContact = pick(await customersOfContacts(ctx, await contactsMatching(ctx, emails, phones)), `${what} (through contacts ${[...emails, ...phones].join(', ')})`);
  if (byContact) return byContact;

  const leadName = text(lead.lead_name) || [text(lead.first_name), text(lead.last_name)].filter(Boolean).join(' ');
  const names = uniq([text(lead.organization), leadName]);
  const byName = pick(await customersNamed(ctx, names), `${what} (by name ${names.map((n) => `"${n}"`).join(' / ')})`);
  if (byName) return byName;

  const keys = [...emails, ...phones, ...names.map((n) => `"${n}"`)];
  throw new PermanentError(`no ERPNext customer matches ${what}${keys.length ? ` (tried ${keys.join(', ')})` : ''}`);
}

export interface TicketLike {
  name: string | number;
  customer?: string | null;
  contact?: string | null;
  raised_by?: string | null;
}

export async function matchTicketCustomer(ctx: Ctx, ticket: TicketLike): Promise<string> {
  const what = `HD Ticket ${ticket.name}`;
  const hdCustomer = text(ticket.customer);
  if (hdCustomer) {
    const rows = await withErpnextCustomer(ctx, 'HD Customer', () =>
      ctx.client.getList<{ erpnext_customer?: string }>('HD Customer', {
        fields: ['name', ERPNEXT_CUSTOMER],
        filters: [['name', '=', hdCustomer]],
        orderBy: 'name asc',
        limitPageLength: 1,
        signal: ctx.signal,
      }),
    );
    const linked = text(rows[0]?.erpnext_customer);
    if (linked) return linked;
  }
  const contacts: string[] = [];
  if (text(ticket.contact)) contacts.push(text(ticket.contact));
  const email = text(ticket.raised_by).replace(/^.*<([^>]+)>.*$/, '$1');
  if (email) contacts.push(...(await contactsMatching(ctx, [email], [])));
  const byContact = pick(await customersOfContacts(ctx, uniq(contacts)), `${what} (through contacts ${uniq([text(ticket.contact), email]).join(', ')})`);
  if (byContact) return byContact;
  throw new PermanentError(
    `no ERPNext customer matches ${what} (HD Customer ${hdCustomer || 'not set'}${email ? `, ${email}` : ''})`,
  );
}
