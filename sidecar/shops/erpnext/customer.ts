/**
 * The ERPNext Customer an order belongs to (as frappe/ecommerce_integrations shopify/customer.py maps it, with the connector's races closed):
 * 1. the Customer whose `custom_external_customer_id` is this shop customer (or, for an order with
 *    only an email, `email:<address>`), a unique field, so a retry after a half-done attempt finds it;
 * 2. a Customer linked to a Contact with the order's email (people sales already know);
 * 3. otherwise a new Customer with its Contact and Address;
 * guest orders with no email go to the shop's configured default customer.
 * Creation runs under a lock per customer key, so two first orders of a new customer make one.
 * What was ensured is remembered for a while (remembered.ts), so a returning customer's next order
 * asks nothing.
 */
import { createHash } from 'node:crypto';
import { PermanentError } from '../../../lib/errors.js';
import { FrappeApiError } from '../../../lib/frappe/errors.js';
import type { Filter } from '../../../lib/frappe/types.js';
import type { HandlerContext } from '../../handlers/types.js';
import { shopKey, type ShopConfig } from '../../../lib/config/shops.js';
import { describeOrder, type ShopAddress, type ShopOrder } from '../order.js';
import { recallCustomer, rememberCustomer, type ResolveOptions } from './remembered.js';

export function customerKey(shop: ShopConfig, order: ShopOrder): string | null {
  if (order.customer?.id) return `${shop.platform}:${shopKey(shop)}:customer:${order.customer.id}`;
  if (order.customer?.email) return `email:${order.customer.email.trim().toLowerCase()}`;
  return null;
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof FrappeApiError && (err.excType === 'UniqueValidationError' || err.excType === 'DuplicateEntryError');
}

function displayName(order: ShopOrder): string {
  const c = order.customer;
  const name = [c?.firstName, c?.lastName].filter(Boolean).join(' ').trim();
  return name || order.billingAddress?.name || order.shippingAddress?.name || c?.email || `${order.platform} customer ${c?.id ?? ''}`.trim();
}

async function byKey(ctx: HandlerContext, key: string): Promise<string | null> {
  const rows = await ctx.client.getList<{ name: string }>('Customer', {
    filters: [['custom_external_customer_id', '=', key]],
    orderBy: 'name asc',
    limitPageLength: 1,
    signal: ctx.signal,
  });
  return rows[0]?.name ?? null;
}

/**
 * Names in first-seen order, once each. A filter on a child table is a LEFT JOIN in Frappe
 * (frappe/model/db_query.py `prepare_args`), so a parent comes back once per matching child row.
 */
function distinctNames<T extends { name: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    if (seen.has(r.name)) return false;
    seen.add(r.name);
    return true;
  });
}

/**
 * Order of a list that joins a child table: the parent's columns qualified, since `creation`,
 * `name` … exist in both tables and MariaDB refuses an unqualified one (1052 "Column 'creation' in
 * ORDER BY is ambiguous"); db_query.py `validate_order_by_and_group_by` accepts `` `tabX`.`col` ``
 * for a table of the query. `name` breaks ties between rows created in the same microsecond.
 */
function oldestFirst(doctype: string): string {
  return `\`tab${doctype}\`.\`creation\` asc, \`tab${doctype}\`.\`name\` asc`;
}

async function contactFor(ctx: HandlerContext, email: string): Promise<{ name: string; customers: string[] } | null> {
  // Primary email or any Contact Email row (Frappe joins the child table named in a filter).
  const contacts = distinctNames(
    await ctx.client.getList<{ name: string }>('Contact', {
      orFilters: [
        ['email_id', '=', email],
        ['Contact Email', 'email_id', '=', email],
      ],
      orderBy: oldestFirst('Contact'),
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
  if (!contacts.length) return null;
  const links = await ctx.client.getList<{ link_name: string }>('Dynamic Link', {
    parent: 'Contact',
    fields: ['parent', 'link_name'],
    filters: [
      ['parent', 'in', contacts.map((c) => c.name)],
      ['link_doctype', '=', 'Customer'],
    ],
    orderBy: 'parent asc, idx asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  return { name: contacts[0]!.name, customers: [...new Set(links.map((l) => l.link_name))] };
}

/**
 * The ERPNext Country of each address, in one call: by ISO code first, else by name (MariaDB
 * compares both case-insensitively); null where neither is a Country.
 */
async function countryNames(ctx: HandlerContext, addresses: ShopAddress[]): Promise<(string | null)[]> {
  const codes = [...new Set(addresses.flatMap((a) => (a.countryCode ? [a.countryCode.toLowerCase()] : [])))];
  const names = [...new Set(addresses.flatMap((a) => (a.countryName ? [a.countryName] : [])))];
  if (!codes.length && !names.length) return addresses.map(() => null);
  type Row = { name: string; code: string | null };
  const either: Filter<Row>[] = [];
  if (codes.length) either.push(['code', 'in', codes]);
  if (names.length) either.push(['name', 'in', names]);
  const rows = await ctx.client.getList<Row>('Country', {
    fields: ['name', 'code'],
    orFilters: either,
    orderBy: 'name asc',
    limitPageLength: 0,
    signal: ctx.signal,
  });
  return addresses.map((a) => {
    const byCode = a.countryCode ? rows.find((r) => (r.code ?? '').toLowerCase() === a.countryCode!.toLowerCase()) : undefined;
    const byName = a.countryName ? rows.find((r) => r.name.toLowerCase() === a.countryName!.toLowerCase()) : undefined;
    return (byCode ?? byName)?.name ?? null;
  });
}

/**
 * Unique marker fields (doctypes/custom_fields/contact.json, address.json): the digest of what
 * identifies the record for the shop sync, so the insert may be sent again after a timeout or a
 * 5xx — a first copy that did commit makes the next one a unique violation (the DB's unique index,
 * frappe/model/base_document.py db_insert), never a second record. Contact and Address have no
 * such field of their own: their names get a number appended when taken (frappe/contacts/doctype/
 * contact/contact.py, address/address.py autoname), so a second copy would simply be saved.
 */
export const CONTACT_MARKER = 'custom_external_contact_id';
export const ADDRESS_MARKER = 'custom_external_address_id';

/** A Data field holds 140 characters; a Customer name and an email together may not fit. */
export function markerOf(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/**
 * Insert a document carrying its unique marker, resendable: the client sends it again after a
 * timeout or a 5xx, and a unique violation means an earlier copy landed — confirmed by one read on
 * the marker, so a violation for any other reason still fails the job.
 */
async function insertOnce(ctx: HandlerContext, doctype: string, field: string, marker: string, doc: Record<string, unknown>): Promise<void> {
  try {
    await ctx.client.insert(doctype, { ...doc, [field]: marker }, { signal: ctx.signal, idempotent: true });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const there = await ctx.client.getList<{ name: string }>(doctype, { filters: [[field, '=', marker]], orderBy: 'name asc', limitPageLength: 1, signal: ctx.signal });
    if (!there.length) throw err;
    ctx.logger.debug({ doctype, name: there[0]!.name }, `${doctype} insert was resent after a lost answer; the first copy is there`);
  }
}

/** A Contact for the order's email, unless one exists (`existing`, looked up once by the caller). */
async function ensureContact(ctx: HandlerContext, customer: string, order: ShopOrder, existing: { name: string } | null): Promise<void> {
  const email = order.customer?.email;
  if (!email || existing) return;
  await insertOnce(ctx, 'Contact', CONTACT_MARKER, markerOf('Contact', customer, email.trim().toLowerCase()), {
    first_name: order.customer?.firstName || displayName(order),
    last_name: order.customer?.lastName || undefined,
    email_ids: [{ email_id: email, is_primary: 1 }],
    ...(order.customer?.phone ? { phone_nos: [{ phone: order.customer.phone, is_primary_phone: 1 }] } : {}),
    links: [{ link_doctype: 'Customer', link_name: customer }],
  });
}

type StoredAddress = { name: string; address_type: string; address_line1: string; pincode: string | null };

async function addressesOf(ctx: HandlerContext, customer: string): Promise<StoredAddress[]> {
  return distinctNames(
    await ctx.client.getList<StoredAddress>('Address', {
      fields: ['name', 'address_type', 'address_line1', 'pincode'],
      filters: [
        ['Dynamic Link', 'link_doctype', '=', 'Customer'],
        ['Dynamic Link', 'link_name', '=', customer],
      ],
      orderBy: oldestFirst('Address'),
      limitPageLength: 0,
      signal: ctx.signal,
    }),
  );
}

const sameAddress = (e: StoredAddress, a: ShopAddress, type: string) => e.address_type === type && e.address_line1 === a.line1 && (e.pincode ?? '') === (a.zip ?? '');

/** What identifies an address for the remembered entry: what sameAddress compares. */
export const addressFingerprint = (a: ShopAddress, type: string) => JSON.stringify([type, a.line1, a.zip ?? '']);

function wantedAddresses(order: ShopOrder): [ShopAddress, 'Billing' | 'Shipping'][] {
  const wanted: [ShopAddress, 'Billing' | 'Shipping'][] = [];
  if (order.billingAddress) wanted.push([order.billingAddress, 'Billing']);
  if (order.shippingAddress) wanted.push([order.shippingAddress, 'Shipping']);
  return wanted;
}

/**
 * The order's addresses linked to the customer, adding those that are not. `known` are remembered
 * as there; `fresh`: the customer was made just now, so it has none to list. Returns the
 * fingerprints of the addresses now known to be there.
 */
async function ensureAddresses(ctx: HandlerContext, customer: string, order: ShopOrder, known: string[], fresh: boolean): Promise<string[]> {
  const wanted = wantedAddresses(order).filter(([a, type]) => !known.includes(addressFingerprint(a, type)));
  if (!wanted.length) return [];
  const existing = fresh ? [] : await addressesOf(ctx, customer);
  const there: string[] = [];
  const toAdd = wanted.filter(([a, type]) => {
    if (!existing.some((e) => sameAddress(e, a, type))) return true;
    there.push(addressFingerprint(a, type));
    return false;
  });
  const countries = toAdd.length ? await countryNames(ctx, toAdd.map(([a]) => a)) : [];
  for (const [i, [a, type]] of toAdd.entries()) {
    const country = countries[i];
    if (!country) {
      ctx.logger.warn({ order: order.id, country: a.countryCode ?? a.countryName }, `${describeOrder(order)}: ${type} address skipped, no ERPNext Country for "${a.countryCode ?? a.countryName ?? '?'}"`);
      continue;
    }
    await insertOnce(ctx, 'Address', ADDRESS_MARKER, markerOf('Address', customer, type, a.line1, a.zip ?? ''), {
      address_title: a.company || a.name,
      address_type: type,
      address_line1: a.line1,
      address_line2: a.line2,
      city: a.city,
      state: a.state,
      pincode: a.zip,
      country,
      phone: a.phone,
      email_id: order.customer?.email,
      links: [{ link_doctype: 'Customer', link_name: customer }],
    });
    there.push(addressFingerprint(a, type));
  }
  return there;
}

/**
 * The Customer name for the order, creating Customer/Contact/Address when it is new. What an
 * earlier order of the same customer key ensured within the remembered window (remembered.ts) is
 * not asked again; `fresh` ignores it (the site refused an order built from it).
 */
export async function resolveCustomer(ctx: HandlerContext, shop: ShopConfig, order: ShopOrder, opts: ResolveOptions = {}): Promise<string> {
  const key = customerKey(shop, order);
  if (!key) {
    if (shop.erpnext.defaultCustomer) return shop.erpnext.defaultCustomer;
    throw new PermanentError(
      `${describeOrder(order)} has no customer and no email (a guest or POS order); set shops[${shop.id}].erpnext.defaultCustomer to receive such orders`,
    );
  }
  const email = order.customer?.email;
  const emailKey = email?.trim().toLowerCase();
  const memo = opts.fresh ? null : await recallCustomer(ctx, shop, key);
  if (memo && opts.recalled) opts.recalled.used = true;
  const emailKnown = !emailKey || Boolean(memo?.emails.includes(emailKey));
  // Everything this order needs was ensured by an earlier one: nothing to ask, nothing to create.
  if (memo && emailKnown && wantedAddresses(order).every(([a, type]) => memo.addresses.includes(addressFingerprint(a, type)))) return memo.customer;

  return ctx.lock(`shops.customer|${key}`, async () => {
    let customer = memo?.customer ?? null;
    // undefined: not looked up yet (the customer was remembered).
    let contact: { name: string; customers: string[] } | null | undefined;
    if (!customer) {
      // Independent lookups: sent together, so the order waits for one round trip, not two.
      [customer, contact] = await Promise.all([byKey(ctx, key), email ? contactFor(ctx, email) : Promise.resolve(null)]);
      if (!customer && contact) {
        if (contact.customers.length === 1) customer = contact.customers[0]!;
        else if (contact.customers.length > 1) {
          // Several customers share the address: do not guess, and do not make a third.
          throw new PermanentError(`${describeOrder(order)}: the email ${email} belongs to several customers (${contact.customers.join(', ')}); link the shop customer to one of them`);
        }
      }
    }
    let created = false;
    if (!customer) {
      try {
        const made = await ctx.client.insert<{ name: string }>(
          'Customer',
          {
            customer_name: displayName(order),
            customer_type: 'Individual',
            customer_group: shop.erpnext.customerGroup,
            territory: shop.erpnext.territory,
            custom_external_customer_id: key,
          },
          // Resendable: custom_external_customer_id is unique, so a copy that committed makes the
          // next one a unique violation, read back below.
          { signal: ctx.signal, idempotent: true },
        );
        customer = made.name;
        created = true;
      } catch (err) {
        // The unique key makes a lost answer safe: the row exists, so read it.
        if (!isUniqueViolation(err)) throw err;
        customer = await byKey(ctx, key);
        if (!customer) throw err;
      }
      ctx.logger.info({ shop: shop.id, customer, order: order.id }, `${describeOrder(order)}: created Customer ${customer}`);
    }
    if (email && !emailKnown) await ensureContact(ctx, customer, order, contact === undefined ? await contactFor(ctx, email) : contact);
    const addresses = await ensureAddresses(ctx, customer, order, memo?.addresses ?? [], created);
    await rememberCustomer(ctx, shop, key, {
      customer,
      emails: [...new Set([...(memo?.emails ?? []), ...(emailKey ? [emailKey] : [])])],
      addresses: [...new Set([...(memo?.addresses ?? []), ...addresses])],
    });
    return customer;
  });
}
