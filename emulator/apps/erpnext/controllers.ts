/**
 * The few ERPNext controller behaviours the product reads back (frappe/erpnext [v15]):
 * Customer naming by customer name (selling/doctype/customer/customer.py `autoname`,
 * Selling Settings' default "Customer Name"), Warehouse and BOM names, Sales Order amounts and
 * status (controllers/selling_controller.py, selling/doctype/sales_order/sales_order.py `set_status`),
 * Work Order status on submit.
 */
import type { Doc } from '../../core/database.js';
import { findName, registerHook, msgprint } from '../../core/document.js';

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function registerErpnext(): void {
  registerHook('Customer', 'autoname', ({ ctx, doc }) => {
    const base = String(doc.customer_name ?? '').trim();
    if (!findName(ctx.site, 'Customer', base)) {
      doc.name = base;
      return;
    }
    // get_customer_name: "<name> - N" with a note, when the name is taken.
    let n = 1;
    while (findName(ctx.site, 'Customer', `${base} - ${n}`)) n++;
    doc.name = `${base} - ${n}`;
    msgprint(ctx, `Changed customer name to '${doc.name}' as '${base}' already exists.`, 'Note', 'yellow');
  });

  registerHook('Warehouse', 'autoname', ({ ctx, doc }) => {
    const abbr = doc.company ? ctx.site.db.get('Company', String(doc.company))?.abbr : null;
    doc.name = abbr ? `${doc.warehouse_name} - ${abbr}` : String(doc.warehouse_name);
  });

  registerHook('BOM', 'autoname', ({ ctx, doc }) => {
    const prefix = `BOM-${doc.item}-`;
    const used = ctx.site.db.all('BOM').filter((b) => String(b.name).startsWith(prefix)).length;
    doc.name = `${prefix}${String(used + 1).padStart(3, '0')}`;
  });

  registerHook('Sales Order', 'validate', ({ doc }) => {
    let totalQty = 0;
    let total = 0;
    for (const row of (doc.items as Doc[]) ?? []) {
      const qty = Number(row.qty ?? 0);
      const rate = Number(row.rate ?? 0);
      row.amount = round2(qty * rate);
      row.net_rate = rate;
      row.net_amount = row.amount;
      row.stock_qty = qty * Number(row.conversion_factor ?? 1);
      if (!row.delivery_date) row.delivery_date = doc.delivery_date ?? null;
      totalQty += qty;
      total += Number(row.amount);
    }
    doc.total_qty = totalQty;
    doc.total = round2(total);
    doc.net_total = doc.total;
    doc.grand_total = doc.total;
    doc.rounded_total = Math.round(Number(doc.total));
  });
  const soStatus = ({ doc }: { doc: Doc }) => {
    if (doc.docstatus === 1 && (!doc.status || doc.status === 'Draft')) doc.status = 'To Deliver and Bill';
    if (doc.docstatus === 2) doc.status = 'Cancelled';
  };
  registerHook('Sales Order', 'before_submit', soStatus);
  registerHook('Sales Order', 'before_cancel', soStatus);

  registerHook('Work Order', 'before_submit', ({ doc }) => {
    doc.status = 'Not Started';
  });
  registerHook('Work Order', 'before_cancel', ({ doc }) => {
    doc.status = 'Cancelled';
  });
}
