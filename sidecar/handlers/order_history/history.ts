/**
 * The order history of a Customer as table rows: its submitted Sales Orders (newest first), their
 * lines, and the latest Work Order per (sales order, item) with the four production statuses. Two
 * list calls for one customer or for a batch of hundreds, whatever the number of orders (more only
 * past 5,000 lines or 500 orders: pages, and `in` chunks of 500).
 */
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { HISTORY_ROW_FIELDS, type HistoryRow } from '../../../lib/doctypes/order_history_row.gen.js';
import type { WorkOrderCustomFields } from '../../../lib/doctypes/work_order_custom_fields.gen.js';

export type { HistoryRow };

/** The columns compared and written, as doctypes/crm_lead_order_item/crm_lead_order_item.json defines them. */
export const ROW_FIELDS: readonly (keyof HistoryRow)[] = HISTORY_ROW_FIELDS;

export const NO_WORK_ORDER = { ops_status: 'PENDING', material_status: 'PENDING', production_status: 'PENDING', qa_status: 'AWAITING' } as const;

const CHUNK = 500;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const str = (v: unknown): string => (v == null ? '' : String(v));
const num = (v: unknown): number => (v == null || v === '' ? 0 : Number(v));

interface Ctx {
  client: FrappeClient;
  signal?: AbortSignal;
}

/** A Sales Order line as the one listing of orders and their lines answers it (aliases of the join). */
interface OrderLine {
  name: string;
  customer: string;
  delivery_date?: string | null;
  line_idx?: number | null;
  item_code?: string | null;
  item_name?: string | null;
  qty?: number | null;
  rate?: number | null;
  amount?: number | null;
  line_delivery_date?: string | null;
}

interface Wo extends Partial<WorkOrderCustomFields> {
  name: string;
  sales_order?: string;
  production_item?: string;
}

/** Lines per listing page: one call for most customers' whole history, a few for the largest. */
const LINES_PAGE = 5000;

/**
 * The submitted Sales Orders of these customers with their lines, in one listing: Frappe joins the
 * child table whose fields are selected (db_query.py `extract_tables`; read permission on a child
 * table is the parent's), one row per line. Every column of the sort is qualified: both tables have
 * name, idx and creation, and MariaDB refuses an ambiguous ORDER BY (recording contact-list-or-child-eq).
 */
async function orderLines(ctx: Ctx, customers: string[]): Promise<OrderLine[]> {
  const lines: OrderLine[] = [];
  for await (const line of ctx.client.listAll<OrderLine>('Sales Order', {
    fields: [
      'name',
      'customer',
      'delivery_date',
      '`tabSales Order Item`.`idx` as line_idx',
      '`tabSales Order Item`.`item_code` as item_code',
      '`tabSales Order Item`.`item_name` as item_name',
      '`tabSales Order Item`.`qty` as qty',
      '`tabSales Order Item`.`rate` as rate',
      '`tabSales Order Item`.`amount` as amount',
      '`tabSales Order Item`.`delivery_date` as line_delivery_date',
    ],
    filters: [
      customers.length === 1 ? ['customer', '=', customers[0]!] : ['customer', 'in', customers],
      ['docstatus', '=', 1],
    ],
    orderBy: '`tabSales Order`.`transaction_date` desc, `tabSales Order`.`name` desc, `tabSales Order Item`.`idx` asc',
    pageSize: LINES_PAGE,
    signal: ctx.signal,
  })) {
    lines.push(line);
  }
  return lines;
}

/** The order history of each of these customers (every one in the answer, [] for none). */
export async function buildHistories(ctx: Ctx, customers: string[]): Promise<Map<string, HistoryRow[]>> {
  const wanted = [...new Set(customers)];
  const out = new Map<string, HistoryRow[]>(wanted.map((c) => [c, []]));
  if (!wanted.length) return out;
  const lines: OrderLine[] = [];
  for (const part of chunks(wanted, CHUNK)) lines.push(...(await orderLines(ctx, part)));
  const names = [...new Set(lines.map((l) => l.name))];

  const workOrders: Wo[] = [];
  for (const part of chunks(names, CHUNK)) {
    workOrders.push(
      ...(await ctx.client.getList<Wo>('Work Order', {
        fields: ['name', 'sales_order', 'production_item', 'creation', 'custom_ops_status', 'custom_ingredients_status', 'custom_production_status', 'custom_qa_status'],
        filters: [
          part.length === 1 ? ['sales_order', '=', part[0]!] : ['sales_order', 'in', part],
          ['docstatus', '!=', 2],
        ],
        orderBy: 'creation desc, name desc',
        limitPageLength: 0,
        signal: ctx.signal,
      })),
    );
  }

  // Newest first: the first one seen per (sales order, item) is the latest.
  const latest = new Map<string, Wo>();
  for (const wo of workOrders) {
    const key = `${str(wo.sales_order)}\u0000${str(wo.production_item)}`;
    if (!latest.has(key)) latest.set(key, wo);
  }

  // Lines come newest order first, each order's lines by idx (the listing's sort).
  for (const line of lines) {
    if (line.line_idx == null) continue; // a submitted order without lines: nothing to show
    const wo = latest.get(`${line.name}\u0000${str(line.item_code)}`);
    out.get(line.customer)?.push({
      sales_order: line.name,
      item_code: str(line.item_code),
      item_name: str(line.item_name),
      qty: num(line.qty),
      rate: num(line.rate),
      amount: num(line.amount),
      delivery_date: str(line.line_delivery_date || line.delivery_date) || null,
      ops_status: wo?.custom_ops_status || NO_WORK_ORDER.ops_status,
      material_status: wo?.custom_ingredients_status || NO_WORK_ORDER.material_status,
      production_status: wo?.custom_production_status || NO_WORK_ORDER.production_status,
      qa_status: wo?.custom_qa_status || NO_WORK_ORDER.qa_status,
    });
  }
  return out;
}

export async function buildHistory(ctx: Ctx, customer: string): Promise<HistoryRow[]> {
  return (await buildHistories(ctx, [customer])).get(customer) ?? [];
}

/** What a stored table row looks like in our terms, to compare before writing. */
function normalise(row: Record<string, unknown>): string {
  return ROW_FIELDS.map((f) => {
    const v = row[f];
    if (f === 'qty' || f === 'rate' || f === 'amount') return String(num(v));
    if (f === 'delivery_date') return str(v).slice(0, 10);
    return str(v);
  }).join('\u0001');
}

export function sameRows(existing: unknown, rows: HistoryRow[]): boolean {
  const current = Array.isArray(existing) ? (existing as Record<string, unknown>[]) : [];
  if (current.length !== rows.length) return false;
  const sorted = [...current].sort((a, b) => num(a.idx) - num(b.idx));
  return sorted.every((r, i) => normalise(r) === normalise(rows[i] as unknown as Record<string, unknown>));
}

export function distinctOrders(rows: HistoryRow[]): number {
  return new Set(rows.map((r) => r.sales_order)).size;
}
