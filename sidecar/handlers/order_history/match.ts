/**
 * Which ERPNext Customer a CRM Lead or HD Ticket is about (README "Order history"). Matching works on
 * a batch of leads or tickets at once — one Fetch is a batch of one, a bulk sync a page of hundreds —
 * and every step is one list call for the whole batch (`in` filters), never one call per row, so
 * both follow the same rules. Each answer is exactly one Customer or an error that says why not:
 * NoCustomerError ("no ERPNext customer matches …") or AmbiguousCustomerError ("ambiguous: …").
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
export async function withErpnextCustomer<T>(ctx: Ctx, doctype: string, list: () => Promise<T[]>): Promise<T[]> {
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

export class NoCustomerError extends PermanentError {
  override readonly name = 'NoCustomerError';
}

export class AmbiguousCustomerError extends PermanentError {
  override readonly name = 'AmbiguousCustomerError';
  constructor(
    message: string,
    readonly customers: string[],
  ) {
    super(message);
  }
}

/** A batch's answer for one lead or ticket. */
export type MatchOutcome = { ok: true; customer: string } | { ok: false; error: NoCustomerError | AmbiguousCustomerError };

/** One customer, an ambiguity, or null when `customers` is empty. */
function pick(customers: string[], what: string): MatchOutcome | null {
  const list = uniq(customers).sort();
  if (list.length === 0) return null;
  if (list.length > 1) return { ok: false, error: new AmbiguousCustomerError(`ambiguous: ${what} matches ${describeList(list)}`, list) };
  return { ok: true, customer: list[0]! };
}

function unwrap(outcome: MatchOutcome | undefined, what: string): string {
  if (!outcome) throw new NoCustomerError(`no ERPNext customer matches ${what}`);
  if (!outcome.ok) throw outcome.error;
  return outcome.customer;
}

interface ContactKeys {
  /** Contacts named outright (an HD Ticket's contact). */
  contacts?: string[];
  emails: string[];
  phones: string[];
}

type ContactRow = Row & Record<'email_id' | 'mobile_no' | 'phone' | 'row_email' | 'row_phone' | 'customer', unknown>;

/**
 * For each key set, the Customers linked to the Contacts it names or whose email (primary or any
 * Contact Email row) or phone is one of its keys — one list call for all of them. Frappe joins the
 * child tables named in the fields and filters (db_query.py `extract_tables`,
 * `prepare_filter_condition`): the Contact Email / Contact Phone rows sit in the same OR as the
 * contact's own fields, the Dynamic Link rows must name a Customer, and a contact comes back once
 * per combination of joined rows. The joined rows' values, selected under aliases, tell which key
 * each row matched. Emails compare as MariaDB's collation does: case-insensitively.
 */
async function customersByContact(ctx: Ctx, wanted: ContactKeys[]): Promise<string[][]> {
  const named = uniq(wanted.flatMap((w) => w.contacts ?? []));
  const emails = uniq(wanted.flatMap((w) => w.emails));
  const phones = uniq(wanted.flatMap((w) => w.phones));
  const orFilters: Filter[] = [];
  if (named.length) orFilters.push(['name', 'in', named]);
  if (emails.length) orFilters.push(['email_id', 'in', emails], ['Contact Email', 'email_id', 'in', emails]);
  if (phones.length) orFilters.push(['mobile_no', 'in', phones], ['phone', 'in', phones], ['Contact Phone', 'phone', 'in', phones]);
  if (!orFilters.length) return wanted.map(() => []);
  const fields = ['name', 'email_id', 'mobile_no', 'phone', '`tabDynamic Link`.`link_name` as customer'];
  if (emails.length) fields.push('`tabContact Email`.`email_id` as row_email');
  if (phones.length) fields.push('`tabContact Phone`.`phone` as row_phone');
  const rows = await ctx.client.getList<ContactRow>('Contact', {
    fields,
    filters: [['Dynamic Link', 'link_doctype', '=', 'Customer']],
    orFilters,
    orderBy: '`tabContact`.`name` asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  const index = new Map<string, Set<string>>();
  const add = (key: string, value: string) => {
    if (!key || !value) return;
    const set = index.get(key) ?? new Set<string>();
    set.add(value);
    index.set(key, set);
  };
  const customersOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const contact = text(r.name);
    const set = customersOf.get(contact) ?? new Set<string>();
    if (text(r.customer)) set.add(text(r.customer));
    customersOf.set(contact, set);
    add(`c:${contact}`, contact);
    add(`e:${norm(r.email_id)}`, contact);
    add(`e:${norm(r.row_email)}`, contact);
    for (const p of [r.mobile_no, r.phone, r.row_phone]) add(`p:${text(p)}`, contact);
  }
  return wanted.map((w) => {
    const keys = [...(w.contacts ?? []).map((c) => `c:${c}`), ...w.emails.map((e) => `e:${norm(e)}`), ...w.phones.map((p) => `p:${p}`)];
    const contacts = new Set(keys.flatMap((k) => [...(index.get(k) ?? [])]));
    return uniq([...contacts].flatMap((c) => [...(customersOf.get(c) ?? [])]));
  });
}

/** For each name list, the Customers whose customer_name equals one of them (trimmed, case-insensitive): one list call. */
async function customersNamed(ctx: Ctx, wanted: string[][]): Promise<string[][]> {
  const all = uniq(wanted.flat().map(norm));
  if (!all.length) return wanted.map(() => []);
  const rows = await ctx.client.getList<Row & { customer_name?: string }>('Customer', {
    fields: ['name', 'customer_name'],
    orFilters: all.map((n): Filter => ['customer_name', 'like', likeAnyWhere(n)]),
    orderBy: 'name asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  const byName = new Map<string, string[]>();
  for (const r of rows) byName.set(norm(r.customer_name), [...(byName.get(norm(r.customer_name)) ?? []), r.name]);
  return wanted.map((names) => uniq(names.map(norm).flatMap((n) => byName.get(n) ?? [])));
}

export interface LeadLike {
  name: string;
  custom_customer?: string | null;
  /** CRM sets it when the lead is converted into a deal (crm/fcrm/doctype/crm_lead/crm_lead.py convert_to_deal). */
  converted?: number | boolean | null;
  email?: string | null;
  mobile_no?: string | null;
  phone?: string | null;
  organization?: string | null;
  lead_name?: string | null;
  first_name?: string | null;
  last_name?: string | null;
}

/** The lead fields matching reads, for a list call that pages through leads. */
export const LEAD_MATCH_FIELDS = ['name', 'custom_customer', 'converted', 'email', 'mobile_no', 'phone', 'organization', 'lead_name', 'first_name', 'last_name'] as const;

/** Customers of the CRM Deals converted from these leads, by lead; none on a site without erpnext_customer. */
async function dealCustomers(ctx: Ctx, leads: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!leads.length) return out;
  const deals = await withErpnextCustomer(ctx, 'CRM Deal', () =>
    ctx.client.getList<{ lead: string | null; erpnext_customer?: string }>('CRM Deal', {
      fields: ['name', 'lead', ERPNEXT_CUSTOMER],
      filters: [
        ['lead', 'in', leads],
        [ERPNEXT_CUSTOMER, 'is', 'set'],
      ],
      orderBy: 'creation desc, name desc',
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  for (const d of deals) out.set(text(d.lead), [...(out.get(text(d.lead)) ?? []), text(d.erpnext_customer)]);
  return out;
}

/**
 * The customer of each lead, in this order of evidence: its own `custom_customer`; the
 * erpnext_customer of the deals it was converted into (only a converted lead has any, so an
 * unconverted batch makes no deal call); the Customers linked to Contacts sharing its email or
 * phone; a Customer named like its organization or its person. A step's ambiguity is final.
 */
export async function matchLeads(ctx: Ctx, leads: LeadLike[]): Promise<Map<string, MatchOutcome>> {
  const out = new Map<string, MatchOutcome>();
  const what = (l: LeadLike) => `CRM Lead ${l.name}`;
  let open = leads.filter((l) => {
    const explicit = text(l.custom_customer);
    if (explicit) out.set(l.name, { ok: true, customer: explicit });
    return !explicit;
  });

  const deals = await dealCustomers(ctx, open.filter((l) => Boolean(Number(l.converted ?? 0))).map((l) => l.name));
  open = open.filter((l) => !settle(out, l.name, pick(deals.get(l.name) ?? [], `${what(l)} (through its deals)`)));

  const keys = open.map((l): ContactKeys => ({ emails: uniq([text(l.email)]), phones: uniq([text(l.mobile_no), text(l.phone)]) }));
  const byContact = await customersByContact(ctx, keys);
  open = open.filter((l, i) => {
    const k = keys[i]!;
    return !settle(out, l.name, pick(byContact[i]!, `${what(l)} (through contacts ${[...k.emails, ...k.phones].join(', ')})`));
  });

  const names = open.map((l) => {
    const person = text(l.lead_name) || [text(l.first_name), text(l.last_name)].filter(Boolean).join(' ');
    return uniq([text(l.organization), person]);
  });
  const named = await customersNamed(ctx, names);
  open.forEach((l, i) => {
    const n = names[i]!;
    if (settle(out, l.name, pick(named[i]!, `${what(l)} (by name ${n.map((x) => `"${x}"`).join(' / ')})`))) return;
    const k = { emails: uniq([text(l.email)]), phones: uniq([text(l.mobile_no), text(l.phone)]) };
    const tried = [...k.emails, ...k.phones, ...n.map((x) => `"${x}"`)];
    out.set(l.name, { ok: false, error: new NoCustomerError(`no ERPNext customer matches ${what(l)}${tried.length ? ` (tried ${tried.join(', ')})` : ''}`) });
  });
  return out;
}

/** Record an outcome when there is one; true when the lead or ticket is settled. */
function settle(out: Map<string, MatchOutcome>, name: string, outcome: MatchOutcome | null): boolean {
  if (!outcome) return false;
  out.set(name, outcome);
  return true;
}

export async function matchLeadCustomer(ctx: Ctx, lead: LeadLike): Promise<string> {
  return unwrap((await matchLeads(ctx, [lead])).get(lead.name), `CRM Lead ${lead.name}`);
}

export interface TicketLike {
  name: string | number;
  customer?: string | null;
  contact?: string | null;
  raised_by?: string | null;
}

/** The ticket fields matching reads. */
export const TICKET_MATCH_FIELDS = ['name', 'customer', 'contact', 'raised_by'] as const;

/** The erpnext_customer of these HD Customers; none on a site whose HD Customer has no such field. */
async function hdCustomerLinks(ctx: Ctx, hdCustomers: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!hdCustomers.length) return out;
  const rows = await withErpnextCustomer(ctx, 'HD Customer', () =>
    ctx.client.getList<{ name: string; erpnext_customer?: string }>('HD Customer', {
      fields: ['name', ERPNEXT_CUSTOMER],
      filters: [['name', 'in', hdCustomers]],
      orderBy: 'name asc',
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  for (const r of rows) if (text(r.erpnext_customer)) out.set(text(r.name), text(r.erpnext_customer));
  return out;
}

const emailOf = (raisedBy: unknown): string => text(raisedBy).replace(/^.*<([^>]+)>.*$/, '$1');

/**
 * The customer of each ticket: its HD Customer's erpnext_customer where the site has that field;
 * else the Customers linked to its contact or to Contacts sharing the email it was raised by.
 */
export async function matchTickets(ctx: Ctx, tickets: TicketLike[]): Promise<Map<string, MatchOutcome>> {
  const out = new Map<string, MatchOutcome>();
  const byHd = await hdCustomerLinks(ctx, uniq(tickets.map((t) => text(t.customer))));
  const open = tickets.filter((t) => {
    const linked = byHd.get(text(t.customer));
    if (linked) out.set(String(t.name), { ok: true, customer: linked });
    return !linked;
  });
  const emails = open.map((t) => emailOf(t.raised_by));
  const byContact = await customersByContact(ctx, open.map((t, i) => ({ contacts: uniq([text(t.contact)]), emails: uniq([emails[i]!]), phones: [] })));
  open.forEach((t, i) => {
    const what = `HD Ticket ${t.name}`;
    const email = emails[i]!;
    if (settle(out, String(t.name), pick(byContact[i]!, `${what} (through contacts ${uniq([text(t.contact), email]).join(', ')})`))) return;
    out.set(String(t.name), {
      ok: false,
      error: new NoCustomerError(`no ERPNext customer matches ${what} (HD Customer ${text(t.customer) || 'not set'}${email ? `, ${email}` : ''})`),
    });
  });
  return out;
}

export async function matchTicketCustomer(ctx: Ctx, ticket: TicketLike): Promise<string> {
  return unwrap((await matchTickets(ctx, [ticket])).get(String(ticket.name)), `HD Ticket ${ticket.name}`);
}
