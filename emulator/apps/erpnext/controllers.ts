/**
 * The few ERPNext controller behaviours the product reads back (frappe/erpnext [v15]):
 * Customer naming by customer name (selling/doctype/customer/customer.py `autoname`,
 * Selling Settings' default "Customer Name"), Warehouse and BOM names, Account (./account.ts),
 * Sales Order amounts, taxes and totals (controllers/taxes_and_totals.py via ./taxes_and_totals.ts;
 * controllers/accounts_controller.py `validate_tax_account_company`), Sales Order status
 * (controllers/status_updater.py `set_status`) and cancel rules (selling/doctype/sales_order/
 * sales_order.py `on_cancel`), Work Order status on submit.
 */
import type { Doc } from '../../core/database.js';
import { findName, registerHook, msgprint } from '../../core/document.js';
import { doesNotExist, FrappeError } from '../../core/errors.js';
import { registerAccount } from './account.js';
import { registerNestedSets } from './nestedset.js';
import { calculateTaxesAndTotals, flt } from './taxes_and_totals.js';

/**
 * `set_status` (erpnext/controllers/status_updater.py [v15]) with the Sales Order `status_map`,
 * evaluated last entry first. It returns early for a new document (`is_new()`), and Document.insert
 * keeps `__islocal` set through validate and on_submit — so an order inserted with docstatus 1
 * keeps the status it was sent with ("Draft" by default) until a later save recomputes it.
 */
function salesOrderStatus(doc: Doc): string {
  const delivered = flt(doc.per_delivered);
  const billed = flt(doc.per_billed);
  const skip = Number(doc.skip_delivery_note ?? 0) === 1;
  const ds = Number(doc.docstatus ?? 0);
  if (doc.status === 'On Hold') return 'On Hold';
  if (doc.status === 'Closed' && ds !== 2) return 'Closed';
  if (ds === 2) return 'Cancelled';
  if (ds === 1) {
    if ((delivered >= 100 || skip) && billed >= 100) return 'Completed';
    if (delivered < 100 && billed >= 100 && !skip) return 'To Deliver';
    if ((delivered >= 100 || skip) && billed < 100) return 'To Bill';
    if (delivered < 100 && billed < 100) return 'To Deliver and Bill';
  }
  return 'Draft';
}

/**
 * `raise_link_exists_exception` (frappe/frappe [v15] frappe/model/delete_doc.py): the error
 * `check_no_back_links_exist` raises after `on_cancel` when a submitted document links this one.
 */
function linkExists(doctype: string, name: string, refDoctype: string, refName: string, row: string): FrappeError {
  const message = `Cannot delete or cancel because ${doctype} <a href="/app/Form/${doctype}/${name}">${name}</a> is linked with ${refDoctype} <a href="/app/Form/${refDoctype}/${refName}">${refName}</a> ${row}`;
  return new FrappeError('LinkExistsError', { message, excText: message, httpStatus: 417 });
}

export function registerErpnext(): void {
  // currency_exchange.py autoname: "<date>-<from>-<to>", suffixed when only for one side.
  registerHook('Currency Exchange', 'autoname', ({ doc }) => {
    const purpose = Number(doc.for_buying ?? 1) && !Number(doc.for_selling ?? 1) ? '-Buying' : !Number(doc.for_buying ?? 1) && Number(doc.for_selling ?? 1) ? '-Selling' : '';
    doc.name = `${doc.date}-${doc.from_currency}-${doc.to_currency}${purpose}`;
  });

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

  registerAccount();
  registerNestedSets();

  registerHook('Sales Order', 'validate', ({ ctx, doc, before }) => {
    // AccountsController.validate → set_missing_values → SellingController.set_missing_lead_customer_details
    // → erpnext/accounts/party.py `_get_party_details` → frappe.get_doc("Customer", customer): a
    // Customer that does not exist is refused here, though Frappe's link check let it through (its
    // customer_name fetches from it; base_document.py get_invalid_links). The recorded site's stub
    // lacked this (recording so-insert-missing-customer-accepted, README: "the missing ERPNext validations").
    if (doc.customer && !findName(ctx.site, 'Customer', doc.customer)) throw doesNotExist('Customer', String(doc.customer));
    // AccountsController.validate → calculate_taxes_and_totals, then validate_tax_account_company
    calculateTaxesAndTotals(ctx, doc);
    for (const row of (doc.taxes as Doc[]) ?? []) {
      if (!row.account_head) continue;
      const account = ctx.site.db.get('Account', String(findName(ctx.site, 'Account', row.account_head)));
      if ((account?.company ?? null) !== doc.company) {
        const message = `Row #${row.idx}: Account ${row.account_head} does not belong to company ${doc.company}`;
        throw new FrappeError('ValidationError', { message, excText: message });
      }
    }
    // SellingController.set_qty_as_per_stock_uom; the order's delivery date on undated rows
    // (sales_order.py validate_delivery_date)
    for (const row of (doc.items as Doc[]) ?? []) {
      row.stock_qty = flt(row.qty) * flt(row.conversion_factor ?? 1);
      if (!row.delivery_date) row.delivery_date = doc.delivery_date ?? null;
    }
    // AccountsController.set_missing_item_details (erpnext/controllers/accounts_controller.py):
    // empty row fields take get_item_details' values (erpnext/stock/get_item_details.py) — the
    // Item's item_group and grant_commission, and the order's transaction_date (get_basic_details
    // hands it back) (recordings so-get, so-cancel: "Products", 1, the order's date).
    for (const row of (doc.items as Doc[]) ?? []) {
      const item = row.item_code ? ctx.site.db.get('Item', String(row.item_code)) : undefined;
      if (!item) continue;
      if (!row.item_group) row.item_group = item.item_group ?? null;
      if (!row.grant_commission) row.grant_commission = Number(item.grant_commission ?? 1);
      if (!row.transaction_date) row.transaction_date = doc.transaction_date ?? null;
    }
    // SalesOrder.validate → set_status(): a new document only resets an amendment to Draft
    if (before) doc.status = salesOrderStatus(doc);
    else if (doc.amended_from) doc.status = 'Draft';
  });
  registerHook('Sales Order', 'before_cancel', ({ doc }) => {
    // on_cancel: frappe.db.set_value(..., "status", "Cancelled")
    doc.status = 'Cancelled';
  });
  registerHook('Sales Order', 'on_cancel', ({ ctx, doc, before }) => {
    if (before?.status === 'Closed') {
      const message = 'Closed order cannot be cancelled. Unclose to cancel.';
      throw new FrappeError('ValidationError', { message, excText: message });
    }
    // Stand-in for Frappe's back-link check after on_cancel (check_no_back_links_exist): an order
    // with per_billed / per_delivered > 0 has a submitted Sales Invoice / Delivery Note whose item
    // rows link it (Sales Invoice Item.sales_order, Delivery Note Item.against_sales_order), so a
    // real site refuses the cancel with LinkExistsError. The emulator ships neither DocType, so it
    // refuses from the percentages and names the linked document with a placeholder (counter 00000
    // of the default naming series), as documented in the README.
    const billed = flt(doc.per_billed) > 0;
    const delivered = flt(doc.per_delivered) > 0;
    if (!billed && !delivered) return;
    const year = String(doc.transaction_date ?? ctx.site.today()).slice(0, 4);
    const [refDoctype, refName] = billed ? ['Sales Invoice', `ACC-SINV-${year}-00000`] : ['Delivery Note', `MAT-DN-${year}-00000`];
    throw linkExists('Sales Order', String(doc.name), refDoctype, refName, 'at Row: 1');
  });

  registerHook('Work Order', 'before_submit', ({ doc }) => {
    doc.status = 'Not Started';
  });
  registerHook('Work Order', 'before_cancel', ({ doc }) => {
    doc.status = 'Cancelled';
  });
}
