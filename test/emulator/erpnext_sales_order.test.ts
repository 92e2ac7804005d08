// REST contract: ERPNext v15 Sales Orders as a shop sync makes them — taxes and charges on accounts,
// insert-and-submit, unique external ids, update after submit, cancel rules — and the Account
// DocType they book to. Every `it` names the Frappe/ERPNext source it pins in a comment above it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { asAdmin, put } from '../../emulator/sites.js';
import { DEMO_ACCOUNTS, demoSalesOrder } from '../../emulator/seed/demo.js';
import { SITE, adminClient, client, login, start, userClient, type Client, type Reply } from '../helpers/emulator.js';
import { expectError, rand, serverMessages } from '../helpers/assertions.js';

let emu: RunningEmulator;
let root: Client; // Administrator, by sid
let admin: Client; // System Manager
let sync: Client; // the sidecar's roles: System Manager, Sales Manager, Sales User
let accounts: Client; // Accounts Manager
let sales: Client; // Sales User only

const OTHER = { company: 'Other Confections', abbr: 'OC' };

beforeAll(async () => {
  emu = await start({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }] });
  root = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
  admin = await adminClient(emu);
  sync = await userClient(emu, `so-sync-${rand()}@example.com`, ['System Manager', 'Sales Manager', 'Sales User', 'Stock User']);
  accounts = await userClient(emu, `so-accounts-${rand()}@example.com`, ['Accounts Manager']);
  sales = await userClient(emu, `so-sales-${rand()}@example.com`, ['Sales User']);

  // The product's Custom Fields (what its installer adds).
  const fields: Record<string, unknown>[] = [
    { dt: 'Sales Order', fieldname: 'custom_external_order_id', label: 'External Order ID', fieldtype: 'Data', unique: 1, insert_after: 'po_no' },
    { dt: 'Sales Order', fieldname: 'custom_external_updated_at', label: 'External Updated At', fieldtype: 'Data', allow_on_submit: 1, insert_after: 'custom_external_order_id' },
    { dt: 'Sales Order', fieldname: 'custom_external_status', label: 'External Status', fieldtype: 'Data', allow_on_submit: 1, insert_after: 'custom_external_updated_at' },
    { dt: 'Customer', fieldname: 'custom_external_customer_id', label: 'External Customer ID', fieldtype: 'Data', unique: 1 },
  ];
  for (const f of fields) {
    const r = await root.insert('Custom Field', f);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }

  // A second company with its own tax account. ERPNext creates a company's chart on insert
  // (the emulator does not), with the roots inserted under ignore_mandatory — so do that here.
  expect((await admin.insert('Company', { company_name: OTHER.company, abbr: OTHER.abbr, default_currency: 'USD', country: 'United States' })).status).toBe(200);
  asAdmin(emu.site(SITE), (ctx) => {
    put(ctx, { doctype: 'Account', account_name: 'Source of Funds (Liabilities)', company: OTHER.company, is_group: 1, root_type: 'Liability' }, { ignoreMandatory: true });
  });
  const dt = await accounts.insert('Account', { account_name: 'Duties and Taxes', company: OTHER.company, parent_account: `Source of Funds (Liabilities) - ${OTHER.abbr}`, is_group: 1, account_type: 'Tax' });
  expect(dt.status, JSON.stringify(dt.body)).toBe(200);
  const st = await accounts.insert('Account', { account_name: 'Sales Tax', company: OTHER.company, parent_account: `Duties and Taxes - ${OTHER.abbr}`, account_type: 'Tax' });
  expect(st.status, JSON.stringify(st.body)).toBe(200);

  // A foreign currency without a smallest fraction (rounded totals go to whole units).
  expect((await admin.insert('Currency', { currency_name: 'EUR', symbol: '€', enabled: 1 })).status).toBe(200);
});
afterAll(() => emu.close());

const today = () => emu.site(SITE).today();

/** Two lines: 2 × 24.50 + 3 × 12.75 = 87.25. */
function order(extra: Record<string, unknown> = {}, docstatus: 0 | 1 = 0): Record<string, unknown> {
  return {
    ...demoSalesOrder({ customer: 'Acme Foods', lines: [['CAKE-CHOC', 2], ['COOKIE-BOX', 3]], date: today(), docstatus }),
    ...extra,
  };
}

const shipping = (amount = 7.5) => ({ charge_type: 'Actual', account_head: DEMO_ACCOUNTS.freight, description: 'Standard shipping', tax_amount: amount });
const salesTax = (rate = 8.25) => ({ charge_type: 'On Net Total', account_head: DEMO_ACCOUNTS.salesTax, description: 'Sales tax', rate });

function messages(r: Reply): string[] {
  return serverMessages(r.body).map((m) => String(m.message));
}

async function submitted(extra: Record<string, unknown> = {}): Promise<any> {
  const r = await sync.insert('Sales Order', order({ taxes: [shipping()], ...extra }, 1));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

// ---- demo data ---------------------------------------------------------------------------------

describe('demo masters for shop orders', () => {
  // erpnext/accounts/doctype/account/chart_of_accounts/verified/standard_chart_of_accounts.py
  // (Duties and Taxes: group of type Tax under Current Liabilities; Freight and Forwarding Charges:
  // Chargeable under Indirect Expenses) + account.py set_root_and_report_type
  it('seeds the tax and freight accounts under the standard chart, typed as ERPNext types them', async () => {
    const tax = (await sales.get('Account', DEMO_ACCOUNTS.salesTax)).body.data;
    expect(tax).toMatchObject({ account_name: 'Sales Tax', company: 'Demo Confections', account_type: 'Tax', parent_account: 'Duties and Taxes - DC', root_type: 'Liability', report_type: 'Balance Sheet', is_group: 0, account_currency: 'USD' });
    const freight = (await sales.get('Account', DEMO_ACCOUNTS.freight)).body.data;
    expect(freight).toMatchObject({ account_type: 'Chargeable', parent_account: 'Indirect Expenses - DC', root_type: 'Expense', report_type: 'Profit and Loss' });
  });

  // frappe/geo/country_info.json (lower-case ISO codes) + erpnext/setup/setup_wizard/operations/install_fixtures.py
  // (Customer Group "Individual", Territory "All Territories")
  it('seeds the countries shop orders ship to, the Individual customer group and All Territories', async () => {
    const r = await sales.list('Country', { fields: ['name', 'code'], limit_page_length: 0 });
    const codes = Object.fromEntries((r.body.data as { name: string; code: string }[]).map((c) => [c.name, c.code]));
    expect(codes).toMatchObject({ 'United States': 'us', Canada: 'ca', 'United Kingdom': 'gb', Germany: 'de', France: 'fr', India: 'in', Australia: 'au' });
    expect((await sales.get('Customer Group', 'Individual')).status).toBe(200);
    expect((await sales.get('Territory', 'All Territories')).status).toBe(200);
  });
});

// ---- Account ------------------------------------------------------------------------------------

describe('Account', () => {
  // erpnext/accounts/doctype/account/account.py (autoname → get_account_autoname: "<number> - <name> - <abbr>";
  // validate_account_currency: the company's currency) + account.json (Accounts Manager may create)
  it('is named "<number> - <account name> - <abbr>" and inherits root and report type from its parent', async () => {
    const r = await accounts.insert('Account', { account_name: ' Shipping Income ', account_number: '4110', parent_account: 'Direct Income - DC', company: 'Demo Confections' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ name: '4110 - Shipping Income - DC', root_type: 'Income', report_type: 'Profit and Loss', account_currency: 'USD' });
    const plain = await accounts.insert('Account', { account_name: 'Marketplace Fees', parent_account: 'Indirect Expenses - DC', company: 'Demo Confections', account_type: 'Chargeable' });
    expect(plain.body.data.name).toBe('Marketplace Fees - DC');
  });

  // erpnext/accounts/utils.py (validate_field_number: "{0} Number {1} is already used in {2} {3}")
  it('refuses an account number already used in the company', async () => {
    const r = await accounts.insert('Account', { account_name: 'Other Income', account_number: '4110', parent_account: 'Direct Income - DC', company: 'Demo Confections' });
    expectError(r, 417, 'ValidationError');
    expect(messages(r)).toContain('Account Number 4110 is already used in account 4110 - Shipping Income - DC');
  });

  // erpnext/accounts/doctype/account/account.py (validate_parent)
  it('refuses a ledger as parent, and a parent of another company', async () => {
    const ledger = await accounts.insert('Account', { account_name: 'Under Sales', parent_account: DEMO_ACCOUNTS.sales, company: 'Demo Confections' });
    expectError(ledger, 417, 'ValidationError');
    expect(messages(ledger)).toContain(`Account Under Sales - DC: Parent account ${DEMO_ACCOUNTS.sales} can not be a ledger`);
    const foreign = await accounts.insert('Account', { account_name: 'Cross Tax', parent_account: `Duties and Taxes - ${OTHER.abbr}`, company: 'Demo Confections' });
    expectError(foreign, 417, 'ValidationError');
    expect(messages(foreign)).toContain(`Account Cross Tax - DC: Parent account Duties and Taxes - ${OTHER.abbr} does not belong to company: Demo Confections`);
  });

  // erpnext/accounts/doctype/account/account.json (Sales User: read/report/print/email only)
  it('is readable to a Sales User, who may not create one', async () => {
    expect((await sales.get('Account', DEMO_ACCOUNTS.freight)).status).toBe(200);
    const r = await sales.insert('Account', { account_name: 'Nope', parent_account: 'Indirect Expenses - DC', company: 'Demo Confections' });
    expectError(r, 403, 'PermissionError');
  });
});

// ---- taxes and totals ---------------------------------------------------------------------------

describe('Sales Order taxes and totals', () => {
  // erpnext/controllers/taxes_and_totals.py (calculate_item_values, calculate_net_total, calculate_taxes:
  // Actual as given, On Net Total = rate % of each item's net amount; set_cumulative_total;
  // calculate_totals; set_rounded_total with round_based_on_smallest_currency_fraction: USD's 0.01)
  it('Actual and On Net Total rows: tax amounts, running totals, grand and rounded totals', async () => {
    const r = await sync.insert('Sales Order', order({ taxes: [shipping(), salesTax()] }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const so = r.body.data;
    expect(so).toMatchObject({ total_qty: 5, total: 87.25, net_total: 87.25, base_total: 87.25, base_net_total: 87.25 });
    expect(so.items.map((i: any) => [i.amount, i.net_amount, i.base_amount])).toEqual([[49, 49, 49], [38.25, 38.25, 38.25]]);
    const [ship, tax] = so.taxes;
    expect(ship).toMatchObject({ idx: 1, charge_type: 'Actual', rate: 0, tax_amount: 7.5, tax_amount_after_discount_amount: 7.5, total: 94.75, base_tax_amount: 7.5, base_total: 94.75, account_currency: 'USD' });
    expect(tax).toMatchObject({ idx: 2, charge_type: 'On Net Total', rate: 8.25, tax_amount: 7.2, total: 101.95, base_tax_amount: 7.2, base_total: 101.95 });
    expect(so).toMatchObject({
      total_taxes_and_charges: 14.7,
      base_total_taxes_and_charges: 14.7,
      grand_total: 101.95,
      base_grand_total: 101.95,
      rounded_total: 101.95,
      base_rounded_total: 101.95,
      rounding_adjustment: 0,
      base_rounding_adjustment: 0,
    });
    // _cleanup: json.dumps(item_wise_tax_detail, separators=(",", ":")) — [rate, amount] per item, floats as Python prints them
    expect(ship.item_wise_tax_detail).toBe('{"CAKE-CHOC":[0.0,4.212034383954155],"COOKIE-BOX":[0.0,3.2879656160458453]}');
    expect(JSON.parse(tax.item_wise_tax_detail)).toEqual({ 'CAKE-CHOC': [8.25, 4.0425], 'COOKIE-BOX': [8.25, 3.155625] });
  });

  // erpnext/controllers/taxes_and_totals.py (_set_in_company_currency: base_x = flt(flt(x) × conversion_rate);
  // set_rounded_total: no smallest fraction → rounded(); rounding_adjustment = rounded_total − grand_total)
  it('base_* values at the conversion rate; whole-unit rounding for a currency without a smallest fraction', async () => {
    const r = await sync.insert('Sales Order', order({ currency: 'EUR', conversion_rate: 1.1, price_list_currency: 'EUR', plc_conversion_rate: 1.1, taxes: [shipping(), salesTax()] }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const so = r.body.data;
    expect(so.items.map((i: any) => i.base_amount)).toEqual([53.9, 42.08]);
    expect(so).toMatchObject({ net_total: 87.25, base_net_total: 95.98, grand_total: 101.95, base_grand_total: 112.15, total_taxes_and_charges: 14.7, base_total_taxes_and_charges: 16.17 });
    expect(so.taxes.map((t: any) => [t.base_tax_amount, t.base_total])).toEqual([[8.25, 104.23], [7.92, 112.15]]);
    expect(so).toMatchObject({ rounded_total: 102, rounding_adjustment: 0.05, base_rounded_total: 112.2, base_rounding_adjustment: 0.06 });
  });

  // erpnext/controllers/taxes_and_totals.py (set_rounded_total → is_rounded_total_disabled)
  it('disable_rounded_total zeroes the rounded totals', async () => {
    const r = await sync.insert('Sales Order', order({ currency: 'EUR', conversion_rate: 1.1, disable_rounded_total: 1, taxes: [shipping()] }));
    expect(r.body.data).toMatchObject({ grand_total: 94.75, rounded_total: 0, base_rounded_total: 0, rounding_adjustment: 0 });
  });

  // erpnext/controllers/taxes_and_totals.py (validate_conversion_rate: the company's currency forces rate 1)
  it('an order in the company currency gets conversion rate 1 whatever was sent', async () => {
    const r = await sync.insert('Sales Order', order({ conversion_rate: 3, taxes: [shipping()] }));
    expect(r.body.data).toMatchObject({ conversion_rate: 1, base_grand_total: 94.75 });
  });

  // erpnext/controllers/accounts_controller.py (validate_taxes_and_charges)
  it('refuses a row id on an Actual row', async () => {
    const r = await sync.insert('Sales Order', order({ taxes: [{ ...shipping(), row_id: '1' }] }));
    expectError(r, 417, 'ValidationError');
    expect(messages(r)).toContain("Can refer row only if the charge type is 'On Previous Row Amount' or 'Previous Row Total'");
  });

  // Emulator limit (README): other charge types are refused, not computed
  it('refuses charge types the emulator does not compute, saying so', async () => {
    const r = await sync.insert('Sales Order', order({ taxes: [shipping(), { charge_type: 'On Previous Row Total', row_id: '1', account_head: DEMO_ACCOUNTS.salesTax, description: 'Tax on tax', rate: 5 }] }));
    expectError(r, 417, 'ValidationError');
    expect(messages(r)[0]).toMatch(/^The emulator does not compute taxes of type 'On Previous Row Total'/);
  });

  // erpnext/controllers/accounts_controller.py (validate_tax_account_company)
  it('an account of another company: 417 ValidationError "Row #n: Account … does not belong to company …"', async () => {
    const r = await sync.insert('Sales Order', order({ taxes: [shipping(), { charge_type: 'Actual', account_head: `Sales Tax - ${OTHER.abbr}`, description: 'Tax', tax_amount: 3 }] }));
    expectError(r, 417, 'ValidationError');
    expect(messages(r)).toEqual([`Row #2: Account Sales Tax - ${OTHER.abbr} does not belong to company Demo Confections`]);
    expect(r.body.exception).toBe(`frappe.exceptions.ValidationError: Row #2: Account Sales Tax - ${OTHER.abbr} does not belong to company Demo Confections`);
  });

  // frappe/model/base_document.py (get_invalid_links, 15.55.1: account_currency fetches from
  // account_head, so a missing Account is neither fetched nor reported — recording
  // so-insert-missing-customer-accepted) + erpnext/controllers/accounts_controller.py
  // (validate_tax_account_company: the missing Account belongs to no company)
  // frappe/model/base_document.py (get_invalid_links, 15.55.1: customer_name fetches from customer,
  // so the link check lets a missing Customer through) + erpnext/controllers/selling_controller.py
  // (set_missing_lead_customer_details → erpnext/accounts/party.py _get_party_details → frappe.get_doc)
  it('a customer that does not exist: 404 DoesNotExistError from ERPNext, not a LinkValidationError', async () => {
    const r = await sync.insert('Sales Order', order({ customer: 'No Such Customer' }));
    expectError(r, 404, 'DoesNotExistError');
    expect(messages(r)).toEqual(['Customer No Such Customer not found']);
  });

  it('an account that does not exist: 417 ValidationError from the company check, not from the link check', async () => {
    const r = await sync.insert('Sales Order', order({ taxes: [{ ...shipping(), account_head: 'Nowhere - DC' }] }));
    expectError(r, 417, 'ValidationError');
    expect(messages(r)[0]).toMatch(/^Row #1: Account Nowhere - DC does not belong to company /);
  });
});

// ---- insert and submit --------------------------------------------------------------------------

describe('insert with docstatus 1', () => {
  // frappe/model/document.py (insert → check_if_latest → check_docstatus_transition(0): docstatus 1 is a
  // submit; validate + before_submit, then on_update + on_submit) + erpnext/controllers/status_updater.py
  // (set_status returns early while the document is new, and insert keeps __islocal until it is done)
  it('POST /api/resource inserts and submits in one step; the status stays as sent ("Draft")', async () => {
    const so = await submitted();
    expect(so.docstatus).toBe(1);
    expect(so.items.every((i: any) => i.docstatus === 1)).toBe(true);
    expect(so.taxes.every((t: any) => t.docstatus === 1)).toBe(true);
    expect(so.status).toBe('Draft');
    expect(so.grand_total).toBe(94.75);
    const stored = (await sync.get('Sales Order', so.name)).body.data;
    expect(stored).toMatchObject({ docstatus: 1, status: 'Draft' });
  });

  // frappe/client.py (insert → frappe.get_doc(doc).insert())
  it('frappe.client.insert does the same', async () => {
    const r = await sync.method('frappe.client.insert', { doc: { doctype: 'Sales Order', ...order({ taxes: [shipping()] }, 1) } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message.docstatus).toBe(1);
  });

  // erpnext/controllers/status_updater.py (status_map "Sales Order", evaluated on the submit of a saved draft)
  it('a saved draft submitted later becomes "To Deliver and Bill"', async () => {
    const draft = (await sync.insert('Sales Order', order({ taxes: [shipping()] }))).body.data;
    expect(draft.status).toBe('Draft');
    const r = await sync.update('Sales Order', draft.name, { docstatus: 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ docstatus: 1, status: 'To Deliver and Bill' });
  });
});

// ---- unique external ids --------------------------------------------------------------------------

describe('unique Custom Fields', () => {
  // frappe/model/base_document.py (db_insert: IntegrityError 1062 on the unique index →
  // show_unique_validation_message → msgprint "{label} must be unique", raise UniqueValidationError)
  // + frappe/exceptions.py (UniqueValidationError(ValidationError): 417)
  it('a second Sales Order with the same external id: 417 UniqueValidationError', async () => {
    const id = `shopify:demo:${rand()}`;
    await submitted({ custom_external_order_id: id });
    const r = await sync.insert('Sales Order', order({ custom_external_order_id: id }, 1));
    expectError(r, 417, 'UniqueValidationError');
    expect(messages(r)).toEqual(['External Order ID must be unique']);
    expect(r.body.exception).toMatch(new RegExp(`^frappe\\.exceptions\\.UniqueValidationError: \\('Sales Order', 'SAL-ORD-\\d{4}-\\d{5}', IntegrityError\\(1062, "Duplicate entry '${id}' for key 'custom_external_order_id'"\\)\\)$`));
  });

  // MariaDB keeps the cancelled row (and its value) in the unique index
  it('…also while the first order is cancelled', async () => {
    const id = `etsy:demo:${rand()}`;
    const first = await submitted({ custom_external_order_id: id });
    const c = await sync.method('frappe.client.cancel', { doctype: 'Sales Order', name: first.name });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    const r = await sync.insert('Sales Order', order({ custom_external_order_id: id }, 1));
    expectError(r, 417, 'UniqueValidationError');
  });

  // the unique index compares with the column's case-insensitive collation; requests commit one at a time
  it('…also for concurrent inserts (one wins) and for a case variant', async () => {
    const id = `shopify:race:${rand()}`;
    const [a, b] = await Promise.all([sync.insert('Sales Order', order({ custom_external_order_id: id }, 1)), sync.insert('Sales Order', order({ custom_external_order_id: id }, 1))]);
    expect([a.status, b.status].sort()).toEqual([200, 417]);
    expect([a, b].find((r) => r.status === 417)!.body.exc_type).toBe('UniqueValidationError');
    const upper = await sync.insert('Sales Order', order({ custom_external_order_id: id.toUpperCase() }, 1));
    expectError(upper, 417, 'UniqueValidationError');
    const list = await sync.list('Sales Order', { filters: [['custom_external_order_id', '=', id]], limit_page_length: 0 });
    expect(list.body.data).toHaveLength(1);
  });

  // base_document.py db_update → same IntegrityError path on an update
  it('…and on an update of a draft to a taken value', async () => {
    const id = `shopify:upd:${rand()}`;
    await submitted({ custom_external_order_id: id });
    const draft = (await sync.insert('Sales Order', order())).body.data;
    const r = await sync.update('Sales Order', draft.name, { custom_external_order_id: id });
    expectError(r, 417, 'UniqueValidationError');
  });

  // same for the Customer's external id
  it('a second Customer with the same external customer id: 417 UniqueValidationError', async () => {
    const key = `shopify:demo:cust-${rand()}`;
    const a = await sync.insert('Customer', { customer_name: `Shop Buyer ${rand()}`, customer_type: 'Individual', customer_group: 'Individual', territory: 'All Territories', custom_external_customer_id: key });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const b = await sync.insert('Customer', { customer_name: `Shop Buyer ${rand()}`, customer_type: 'Individual', customer_group: 'Individual', territory: 'All Territories', custom_external_customer_id: key });
    expectError(b, 417, 'UniqueValidationError');
    expect(messages(b)).toEqual(['External Customer ID must be unique']);
  });
});

// ---- update after submit ------------------------------------------------------------------------

describe('update after submit', () => {
  // frappe/model/document.py (check_docstatus_transition 1 → 1: update_after_submit) +
  // base_document.py (_validate_update_after_submit skips allow_on_submit fields, Custom Fields included)
  it('PUT and frappe.client.set_value may change allow_on_submit Custom Fields', async () => {
    const so = await submitted({ custom_external_order_id: `shopify:aos:${rand()}`, custom_external_updated_at: '2026-01-01T10:00:00Z' });
    const r = await sync.update('Sales Order', so.name, { custom_external_updated_at: '2026-01-02T10:00:00Z', custom_external_status: 'Cancelled in shop' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ docstatus: 1, custom_external_updated_at: '2026-01-02T10:00:00Z', custom_external_status: 'Cancelled in shop', grand_total: 94.75 });
    const s = await sync.method('frappe.client.set_value', { doctype: 'Sales Order', name: so.name, fieldname: 'custom_external_status', value: 'Open' });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.message.custom_external_status).toBe('Open');
  });

  // base_document.py (_validate_update_after_submit: a table's row count, then each row's fields;
  // "{0} Not allowed to change {1} after submission from {2} to {3}", title "Cannot Update After Submit")
  it('adding an item: 417 UpdateAfterSubmitError on Items', async () => {
    const so = await submitted();
    const items = [...so.items, { item_code: 'MUFFIN-12', item_name: 'Muffins (12)', qty: 1, rate: 9.9, uom: 'Nos', conversion_factor: 1 }];
    const r = await sync.update('Sales Order', so.name, { items });
    expectError(r, 417, 'UpdateAfterSubmitError');
    const [m] = serverMessages(r.body);
    expect(m).toMatchObject({ message: ' Not allowed to change <strong>Items</strong> after submission from <strong>2</strong> to <strong>3</strong>', title: 'Cannot Update After Submit', indicator: 'red' });
    expect((await sync.get('Sales Order', so.name)).body.data.items).toHaveLength(2);
  });

  it('changing an item rate or a parent field: 417 UpdateAfterSubmitError naming the row and values', async () => {
    const so = await submitted();
    const items = so.items.map((i: any, n: number) => (n === 0 ? { ...i, rate: 30 } : i));
    const r = await sync.update('Sales Order', so.name, { items });
    expectError(r, 417, 'UpdateAfterSubmitError');
    expect(messages(r)).toEqual(['Row #1: Not allowed to change <strong>Rate</strong> after submission from <strong>24.5</strong> to <strong>30.0</strong>']);
    const t = await sync.method('frappe.client.set_value', { doctype: 'Sales Order', name: so.name, fieldname: 'order_type', value: 'Maintenance' });
    expectError(t, 417, 'UpdateAfterSubmitError');
    expect(messages(t)).toEqual([' Not allowed to change <strong>Order Type</strong> after submission from <strong>Sales</strong> to <strong>Maintenance</strong>']);
  });

  it('changing the external order id (not allow_on_submit): 417 UpdateAfterSubmitError', async () => {
    const so = await submitted({ custom_external_order_id: `shopify:fixed:${rand()}` });
    const r = await sync.method('frappe.client.set_value', { doctype: 'Sales Order', name: so.name, fieldname: 'custom_external_order_id', value: 'other' });
    expectError(r, 417, 'UpdateAfterSubmitError');
    expect(messages(r)[0]).toContain('Not allowed to change <strong>External Order ID</strong> after submission');
  });
});

// ---- cancel --------------------------------------------------------------------------------------

describe('cancel', () => {
  // frappe/model/document.py (check_docstatus_transition 1 → 2, check cancel permission) +
  // erpnext/selling/doctype/sales_order/sales_order.py (on_cancel: status Cancelled)
  it('a plain submitted order cancels: docstatus 2, status Cancelled', async () => {
    const so = await submitted();
    const r = await sync.method('frappe.client.cancel', { doctype: 'Sales Order', name: so.name });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message).toMatchObject({ docstatus: 2, status: 'Cancelled' });
  });

  // frappe/model/document.py (run_post_save_methods → check_no_back_links_exist) + frappe/model/delete_doc.py
  // (raise_link_exists_exception → LinkExistsError); the emulator stands in for the submitted Sales Invoice
  // / Delivery Note with per_billed / per_delivered (README)
  it('an order billed or delivered in part: 417 LinkExistsError, and nothing changes', async () => {
    const billed = await submitted({ per_billed: 50 });
    const r = await sync.method('frappe.client.cancel', { doctype: 'Sales Order', name: billed.name });
    expectError(r, 417, 'LinkExistsError');
    const year = today().slice(0, 4);
    expect(messages(r)).toEqual([
      `Cannot delete or cancel because Sales Order <a href="/app/Form/Sales Order/${billed.name}">${billed.name}</a> is linked with Sales Invoice <a href="/app/Form/Sales Invoice/ACC-SINV-${year}-00000">ACC-SINV-${year}-00000</a> at Row: 1`,
    ]);
    expect((await sync.get('Sales Order', billed.name)).body.data).toMatchObject({ docstatus: 1 });

    const delivered = await submitted({ per_delivered: 100 });
    const p = await sync.update('Sales Order', delivered.name, { docstatus: 2 });
    expectError(p, 417, 'LinkExistsError');
    expect(messages(p)[0]).toContain('is linked with Delivery Note');
  });
});

// ---- submit permission (last: it replaces the Sales Order permissions) ----------------------------

describe('submit permission', () => {
  // frappe/model/document.py (check_docstatus_transition(0) with docstatus 1 → check_permission("submit"))
  // + frappe/permissions.py (Custom DocPerm rows replace the DocType's permissions)
  it('inserting with docstatus 1 needs the submit right, not only create', async () => {
    const role = `Order Clerk ${rand()}`;
    expect((await root.insert('Role', { role_name: role, desk_access: 1 })).status).toBe(200);
    expect((await root.insert('Custom DocPerm', { parent: 'Sales Order', role, permlevel: 0, read: 1, write: 1, create: 1 })).status).toBe(200);
    const clerk = await userClient(emu, `so-clerk-${rand()}@example.com`, [role]);
    const denied = await clerk.insert('Sales Order', order({}, 1));
    expectError(denied, 403, 'PermissionError');
    // raise_no_permission_to (15.55.1): the new document has no name yet, hence the two spaces.
    expect(denied.body._error_message).toBe("You need the 'submit' permission on <strong>Sales Order</strong>  to perform this action.");
    const draft = await clerk.insert('Sales Order', order({}, 0));
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
  });
});

describe('erpnext.setup.utils.get_exchange_rate', () => {
  const rate = async (query: Record<string, unknown>) => (await sales.call('GET', '/api/method/erpnext.setup.utils.get_exchange_rate', { query })).body;

  it('1 for one currency, the latest Currency Exchange on or before the date, and 0 with a message without one', async () => {
    expect((await rate({ from_currency: 'USD', to_currency: 'USD' })).message).toBe(1);
    for (const [date, exchange_rate] of [['2026-01-01', 0.7], ['2026-06-01', 0.73], ['2027-01-01', 0.9]] as const) {
      const r = await accounts.insert('Currency Exchange', { date, from_currency: 'CAD', to_currency: 'USD', exchange_rate });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data.name).toBe(`${date}-CAD-USD`);
    }
    expect((await rate({ from_currency: 'CAD', to_currency: 'USD', transaction_date: '2026-11-20', args: 'for_selling' })).message).toBe(0.73);
    const none = await rate({ from_currency: 'GBP', to_currency: 'USD', transaction_date: '2026-11-20' });
    expect(none.message).toBe(0);
    expect(serverMessages(none).map((m) => m.message).join(' ')).toContain('Unable to find exchange rate for GBP to USD for key date 2026-11-20');
  });
});
