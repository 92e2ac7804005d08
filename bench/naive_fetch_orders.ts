/**
 * BASELINE ONLY — never used by the product. A faithful port of the seed system's Server Script
 * `fetch_orders` (issue #6), kept so bench/order_history.bench.ts can measure the product's order
 * history sync against what it replaces, in the same run on an identical site.
 *
 * What the seed did, call for call, here over plain `fetch` with token auth:
 *   1. read the lead (`frappe.get_doc("CRM Lead", name)`)                           1 GET
 *   2. match the Customer by exact name only
 *      (`frappe.get_all("Customer", filters={"customer_name": lead.lead_name})`)     1 list
 *   3. list the customer's submitted Sales Orders                                    1 list
 *   4. per order, fetch it with its items (`frappe.get_doc("Sales Order", so)`)      1 GET per order
 *   5. per item, the latest Work Order for (sales order, item)                       1 list per item
 *   6. save the lead with the rows                                                   1 PUT
 * so 3 × orders + 4 calls for orders of two lines. Its known bug is kept on purpose: every row's
 * `amount` is the ORDER's total, not the line's (the bench does not assert amounts).
 */
import type { HistoryRow } from '../sidecar/handlers/order_history/history.js';
import type { WorkOrderCustomFields } from '../lib/doctypes/work_order_custom_fields.gen.js';

export interface NaiveSite {
  /** Where the emulator answers, e.g. http://127.0.0.1:PORT */
  url: string;
  site: string;
  key: string;
  secret: string;
}

/** The same row shape as the product writes, so the bench can compare the two tables. */
export type NaiveRow = HistoryRow;

interface SoItem {
  item_code: string;
  item_name?: string;
  qty?: number;
  rate?: number;
  delivery_date?: string | null;
}

interface SalesOrder {
  name: string;
  delivery_date?: string | null;
  grand_total?: number;
  items?: SoItem[];
}

type WorkOrder = Partial<WorkOrderCustomFields>;

function resource(doctype: string, name?: string): string {
  return `/api/resource/${encodeURIComponent(doctype)}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

function query(args: Record<string, unknown>): string {
  return new URLSearchParams(Object.entries(args).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
}

/** Rebuild `custom_order_history` of CRM Lead `lead` the way the seed's script did; answers the rows it wrote. */
export async function naiveFetchOrders(s: NaiveSite, lead: string): Promise<NaiveRow[]> {
  const headers = { Authorization: `token ${s.key}:${s.secret}`, 'Content-Type': 'application/json', 'X-Frappe-Site-Name': s.site };
  const send = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${s.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { data: T }).data;
  };
  const list = <T>(doctype: string, args: Record<string, unknown>) => send<T[]>('GET', `${resource(doctype)}?${query(args)}`);

  const doc = await send<{ lead_name?: string }>('GET', resource('CRM Lead', lead));
  // Exact name only: no contacts, no deals, no case or whitespace folding.
  const customers = await list<{ name: string }>('Customer', { fields: ['name'], filters: [['customer_name', '=', doc.lead_name ?? '']], limit_page_length: 0 });
  if (!customers.length) throw new Error(`No customer found for ${doc.lead_name}`);
  const customer = customers[0].name;

  // frappe.get_all has no page limit server-side; over REST that is limit_page_length=0.
  const orders = await list<{ name: string }>('Sales Order', {
    fields: ['name'],
    filters: [['customer', '=', customer], ['docstatus', '=', 1]],
    order_by: 'transaction_date desc',
    limit_page_length: 0,
  });

  const rows: NaiveRow[] = [];
  for (const { name } of orders) {
    const so = await send<SalesOrder>('GET', resource('Sales Order', name));
    for (const item of so.items ?? []) {
      const [wo] = await list<WorkOrder>('Work Order', {
        fields: ['name', 'custom_ops_status', 'custom_ingredients_status', 'custom_production_status', 'custom_qa_status'],
        filters: [['sales_order', '=', so.name], ['production_item', '=', item.item_code]],
        order_by: 'creation desc',
        limit_page_length: 1,
      });
      rows.push({
        sales_order: so.name,
        item_code: item.item_code,
        item_name: item.item_name ?? item.item_code,
        qty: Number(item.qty ?? 0),
        rate: Number(item.rate ?? 0),
        amount: Number(so.grand_total ?? 0), // the seed's bug: the order total on every line
        delivery_date: item.delivery_date || so.delivery_date || null,
        ops_status: wo?.custom_ops_status || 'PENDING',
        material_status: wo?.custom_ingredients_status || 'PENDING',
        production_status: wo?.custom_production_status || 'PENDING',
        qa_status: wo?.custom_qa_status || 'AWAITING',
      });
    }
  }

  await send('PUT', resource('CRM Lead', lead), { custom_order_history: rows });
  return rows;
}
