/**
 * The site-side checks of the daily health check (README "Daily health check"), each a fixed
 * handful of batched list calls — `in` filters over chunks of names, pages of 500 — never one call
 * per document.
 */
import type { Filter } from '../../../lib/frappe/types.js';
import { CRM_LEAD, ERPNEXT_CUSTOMER, HD_TICKET, withErpnextCustomer } from '../order_history/match.js';
import { TARGETS } from '../order_history/table.js';
import type { HandlerContext } from '../types.js';

export const CRM_DEAL = 'CRM Deal';
/** Names per `in` filter: keeps a GET's query string well under any proxy's limit. */
export const IN_CHUNK = 100;
const PAGE = 500;

type Ctx = Pick<HandlerContext, 'client' | 'signal'>;
type Row = Record<string, unknown> & { name: string };

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : v == null ? '' : String(v).trim());

function chunks<T>(items: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function listAll(ctx: Ctx, doctype: string, fields: string[], filters: Filter[], extra: { parent?: string } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of ctx.client.listAll<Row>(doctype, { fields, filters, orderBy: 'name asc', pageSize: PAGE, signal: ctx.signal, ...extra })) rows.push(row);
  return rows;
}

/** Rows of `doctype` whose `field` is one of `values`, listed a chunk of values at a time. */
async function listIn(ctx: Ctx, doctype: string, fields: string[], field: string, values: string[], extra: { parent?: string } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const chunk of chunks([...new Set(values)])) rows.push(...(await listAll(ctx, doctype, fields, [[field, 'in', chunk]], extra)));
  return rows;
}

export interface SlaFailures {
  total: number;
  byDoctype: Record<string, number>;
  names: string[];
}

/** `sla_status` (CRM) / `agreement_status` (Helpdesk) values that count as failed in the window. */
export const CRM_FAILING = ['Failed', 'First Response Due', 'Rolling Response Due'];

/**
 * SLAs that failed in [from, to) (site wall clock). CRM Lead and CRM Deal: `sla_status` Failed —
 * or still "due", which the SLA sweep (sla.ts) turns Failed within minutes — with `response_by`
 * in the window: CRM's apply_sla fails a document at its response deadline
 * (frappe/crm:crm/fcrm/doctype/crm_service_level_agreement/crm_service_level_agreement.py). HD
 * Ticket: `agreement_status` Failed (or due and overdue) with `response_by` or `resolution_by` in
 * the window, the two deadlines Helpdesk fails a ticket on
 * (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_service_level_agreement/hd_service_level_agreement.py).
 * Each document counts once.
 */
export async function slaFailures(ctx: Ctx, from: string, to: string, crmDoctypes: string[] = [CRM_LEAD, CRM_DEAL]): Promise<SlaFailures> {
  const byDoctype: Record<string, number> = {};
  const names: string[] = [];
  const inWindow = (field: string): Filter[] => [
    [field, '>=', from],
    [field, '<', to],
  ];
  for (const doctype of crmDoctypes) {
    const rows = await listAll(ctx, doctype, ['name'], [['sla_status', 'in', CRM_FAILING], ...inWindow('response_by')]);
    byDoctype[doctype] = rows.length;
    names.push(...rows.map((r) => `${doctype} ${r.name}`));
  }
  const byResponse = await listAll(ctx, HD_TICKET, ['name'], [['agreement_status', 'in', ['Failed', 'First Response Due']], ...inWindow('response_by')]);
  const byResolution = await listAll(ctx, HD_TICKET, ['name'], [['agreement_status', 'in', ['Failed', 'First Response Due', 'Resolution Due']], ...inWindow('resolution_by')]);
  const tickets = [...new Set([...byResponse, ...byResolution].map((r) => text(r.name)))];
  byDoctype[HD_TICKET] = tickets.length;
  names.push(...tickets.map((n) => `${HD_TICKET} ${n}`));
  return { total: names.length, byDoctype, names };
}

export interface UnsyncedOrders {
  /** Submitted Sales Orders since `since` whose customer has a matched lead or ticket. */
  matched: number;
  /** Of those, the ones in no lead's or ticket's order history. */
  unsynced: string[];
}

/**
 * Submitted Sales Orders with `transaction_date` on or after `since` whose customer has a lead or
 * ticket matched to it by an explicit link — a lead's `custom_customer`, a CRM Deal's
 * `erpnext_customer` (its lead), an HD Customer's `erpnext_customer` (its tickets): the links
 * order_history/index.ts follows back from a customer — and which no `CRM Lead Order Item` or
 * `HD Ticket Order Item` row names.
 */
export async function unsyncedOrders(ctx: Ctx, since: string): Promise<UnsyncedOrders> {
  const orders = await listAll(ctx, 'Sales Order', ['name', 'customer'], [
    ['docstatus', '=', 1],
    ['transaction_date', '>=', since],
  ]);
  if (!orders.length) return { matched: 0, unsynced: [] };
  const customers = [...new Set(orders.map((o) => text(o.customer)).filter(Boolean))];
  const matched = new Set<string>();
  for (const lead of await listIn(ctx, CRM_LEAD, ['name', 'custom_customer'], 'custom_customer', customers)) matched.add(text(lead.custom_customer));
  const deals = await withErpnextCustomer(ctx, CRM_DEAL, () => listIn(ctx, CRM_DEAL, ['name', 'lead', ERPNEXT_CUSTOMER], ERPNEXT_CUSTOMER, customers));
  for (const deal of deals) if (text(deal.lead)) matched.add(text(deal[ERPNEXT_CUSTOMER]));
  const hdCustomers = await withErpnextCustomer(ctx, 'HD Customer', () => listIn(ctx, 'HD Customer', ['name', ERPNEXT_CUSTOMER], ERPNEXT_CUSTOMER, customers));
  if (hdCustomers.length) {
    const customerOf = new Map(hdCustomers.map((h) => [text(h.name), text(h[ERPNEXT_CUSTOMER])]));
    const tickets = await listIn(ctx, HD_TICKET, ['name', 'customer'], 'customer', [...customerOf.keys()]);
    for (const t of tickets) {
      const c = customerOf.get(text(t.customer));
      if (c) matched.add(c);
    }
  }
  const candidates = orders.filter((o) => matched.has(text(o.customer))).map((o) => text(o.name));
  const shown = new Set<string>();
  for (const [parent, child] of Object.entries(TARGETS)) {
    for (const row of await listIn(ctx, child, ['parent', 'sales_order'], 'sales_order', candidates, { parent })) shown.add(text(row.sales_order));
  }
  return { matched: candidates.length, unsynced: candidates.filter((n) => !shown.has(n)) };
}
