/**
 * The order history of one Customer as table rows: its submitted Sales Orders (newest first), their
 * lines, and the latest Work Order per (sales order, item) with the four production statuses. A
 * constant number of list calls whatever the number of orders (pages of 500, `in` chunks of 500).
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

interface SoItem {
  parent: string;
  idx: number;
  item_code?: string;
  item_name?: string;
  qty?: number;
  rate?: number;
  amount?: number;
  delivery_date?: string | null;
}

interface Wo extends Partial<WorkOrderCustomFields> {
  name: string;
  sales_order?: string;
  production_item?: string;
}

export async function buildHistory(ctx: Ctx, customer: string): Promise<HistoryRow[]> {
  const orders: { name: string; delivery_date?: string | null }[] = [];
  for await (const so of ctx.client.listAll<{ name: string; delivery_date?: string | null }>('Sales Order', {
    fields: ['name', 'transaction_date', 'delivery_date'],
    filters: [
      ['customer', '=', customer],
      ['docstatus', '=', 1],
    ],
    orderBy: 'transaction_date desc, name desc',
    pageSize: CHUNK,
    signal: ctx.signal,
  })) {
    orders.push(so);
  }
  if (!orders.length) return [];
  const names = orders.map((o) => o.name);

  const items: SoItem[] = [];
  const workOrders: Wo[] = [];
  for (const part of chunks(names, CHUNK)) {
    items.push(
      ...(await ctx.client.getList<SoItem>('Sales Order Item', {
        parent: 'Sales Order',
        fields: ['parent', 'idx', 'item_code', 'item_name', 'qty', 'rate', 'amount', 'delivery_date'],
        filters: [['parent', 'in', part]],
        orderBy: 'parent asc, idx asc',
        limitPageLength: 0,
        signal: ctx.signal,
      })),
    );
    workOrders.push(
      ...(await ctx.client.getList<Wo>('Work Order', {
        fields: ['name', 'sales_order', 'production_item', 'creation', 'custom_ops_status', 'custom_ingredients_status', 'custom_production_status', 'custom_qa_status'],
        filters: [
          ['sales_order', 'in', part],
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
  const byOrder = new Map<string, SoItem[]>();
  for (const it of items) {
    const list = byOrder.get(it.parent) ?? [];
    list.push(it);
    byOrder.set(it.parent, list);
  }

  const rows: HistoryRow[] = [];
  for (const so of orders) {
    const lines = (byOrder.get(so.name) ?? []).sort((a, b) => num(a.idx) - num(b.idx));
    for (const it of lines) {
      const wo = latest.get(`${so.name}\u0000${str(it.item_code)}`);
      rows.push({
        sales_order: so.name,
        item_code: str(it.item_code),
        item_name: str(it.item_name),
        qty: num(it.qty),
        rate: num(it.rate),
        amount: num(it.amount),
        delivery_date: str(it.delivery_date || so.delivery_date) || null,
        ops_status: wo?.custom_ops_status || NO_WORK_ORDER.ops_status,
        material_status: wo?.custom_ingredients_status || NO_WORK_ORDER.material_status,
        production_status: wo?.custom_production_status || NO_WORK_ORDER.production_status,
        qa_status: wo?.custom_qa_status || NO_WORK_ORDER.qa_status,
      });
    }
  }
  return rows;
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
