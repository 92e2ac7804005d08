/**
 * Sample data for the demo and for tests that want a populated site: a small confectioner on
 * ERPNext with CRM and Helpdesk — customers and contacts, items, submitted sales orders, work
 * orders carrying the seed system's four production statuses, leads (converted and not), deals,
 * HD customers and tickets, and the SLA records. Everything goes through the normal insert path.
 */
import type { Doc } from '../core/database.js';
import { saveDoc, type Ctx } from '../core/document.js';
import type { Site } from '../core/site.js';
import { asAdmin, put } from '../sites.js';
import { addUser, type CreatedUser } from './users.js';

export const DEMO_PASSWORD = 'demo';

/** The seed system's Work Order statuses (crm_order_extension), as Select options. */
export const WORK_ORDER_STATUS_FIELDS = {
  custom_ops_status: ['PENDING', 'APPROVED', 'BLOCKED'],
  custom_ingredients_status: ['PENDING', 'IN_STOCK', 'OUT_OF_STOCK', 'ORDERED'],
  custom_production_status: ['PENDING', 'IN_PROGRESS', 'DONE'],
  custom_qa_status: ['AWAITING', 'APPROVED', 'REJECTED'],
} as const;

export interface DemoSummary {
  users: Record<string, CreatedUser>;
  customers: string[];
  sales_orders: string[];
  work_orders: string[];
  leads: string[];
  deals: string[];
  tickets: (string | number)[];
}

const ITEMS: [string, string, number][] = [
  ['CAKE-CHOC', 'Chocolate Cake', 24.5],
  ['CAKE-VAN', 'Vanilla Cake', 22],
  ['COOKIE-BOX', 'Cookie Box (24)', 12.75],
  ['MUFFIN-12', 'Muffins (12)', 9.9],
];

export interface DemoOrder {
  customer: string;
  /** [item_code, qty] or [item_code, qty, rate]; name and rate default to the demo item's. */
  lines: ([string, number] | [string, number, number])[];
  date: string;
  delivery?: string;
  docstatus?: 0 | 1;
}

/**
 * A Sales Order body for the demo company, with everything ERPNext's controller would otherwise fill
 * in (currency, price list, conversion rates, UOM): the emulator does not compute those (README).
 */
export function demoSalesOrder(o: DemoOrder): Doc {
  const delivery = o.delivery ?? o.date;
  return {
    doctype: 'Sales Order',
    customer: o.customer,
    order_type: 'Sales',
    transaction_date: o.date,
    delivery_date: delivery,
    company: 'Demo Confections',
    currency: 'USD',
    conversion_rate: 1,
    selling_price_list: 'Standard Selling',
    price_list_currency: 'USD',
    plc_conversion_rate: 1,
    docstatus: o.docstatus ?? 0,
    items: o.lines.map(([item_code, qty, rate]) => {
      const item = ITEMS.find((i) => i[0] === item_code);
      return { item_code, item_name: item?.[1] ?? item_code, qty, rate: rate ?? item?.[2] ?? 0, uom: 'Nos', stock_uom: 'Nos', conversion_factor: 1, delivery_date: delivery, warehouse: 'Finished Goods - DC' };
    }),
  };
}

/** Countries shop orders commonly ship to, with Frappe's lower-case codes (frappe/geo/country_info.json). */
const COUNTRIES: [string, string][] = [
  ['United States', 'us'],
  ['Canada', 'ca'],
  ['United Kingdom', 'gb'],
  ['Germany', 'de'],
  ['France', 'fr'],
  ['India', 'in'],
  ['Australia', 'au'],
];

/**
 * The accounts a shop sync books charges to, placed as ERPNext's "Standard" chart places them
 * (erpnext/accounts/doctype/account/chart_of_accounts/verified/standard_chart_of_accounts.py [v15]):
 * "Duties and Taxes" (group, type Tax) under Current Liabilities, "Freight and Forwarding Charges"
 * (Chargeable) under Indirect Expenses, "Sales" under Direct Income. "Sales Tax" is a company's own
 * addition. Root accounts skip the mandatory parent, as the chart installer does
 * (chart_of_accounts.py `create_charts`: `account.flags.ignore_mandatory = True` for roots).
 */
export const DEMO_ACCOUNTS = {
  salesTax: 'Sales Tax - DC',
  freight: 'Freight and Forwarding Charges - DC',
  sales: 'Sales - DC',
} as const;

function accounts(ctx: Ctx, company: string, abbr: string): void {
  const tree: [string, string | null, Doc][] = [
    ['Source of Funds (Liabilities)', null, { is_group: 1, root_type: 'Liability' }],
    ['Current Liabilities', 'Source of Funds (Liabilities)', { is_group: 1 }],
    ['Duties and Taxes', 'Current Liabilities', { is_group: 1, account_type: 'Tax' }],
    ['Sales Tax', 'Duties and Taxes', { account_type: 'Tax' }],
    ['Income', null, { is_group: 1, root_type: 'Income' }],
    ['Direct Income', 'Income', { is_group: 1 }],
    ['Sales', 'Direct Income', {}],
    ['Expenses', null, { is_group: 1, root_type: 'Expense' }],
    ['Indirect Expenses', 'Expenses', { is_group: 1 }],
    ['Freight and Forwarding Charges', 'Indirect Expenses', { account_type: 'Chargeable' }],
  ];
  for (const [account_name, parent, extra] of tree) {
    const doc: Doc = { doctype: 'Account', account_name, company, ...extra };
    if (parent) doc.parent_account = `${parent} - ${abbr}`;
    put(ctx, doc, parent ? {} : { ignoreMandatory: true });
  }
}

const CUSTOMERS: { name: string; type: string; contact: [string, string, string, string] }[] = [
  { name: 'Acme Foods', type: 'Company', contact: ['Alice', 'Archer', 'alice@acmefoods.example', '+1 555 0101'] },
  { name: 'Brightside Cafe', type: 'Company', contact: ['Ben', 'Brooks', 'ben@brightside.example', '+1 555 0102'] },
  { name: 'Carla Mendes', type: 'Individual', contact: ['Carla', 'Mendes', 'carla.mendes@mail.example', '+1 555 0103'] },
  { name: 'Delta Hotels', type: 'Company', contact: ['Dana', 'Diaz', 'dana@deltahotels.example', '+1 555 0104'] },
];

export function seedDemo(site: Site): DemoSummary {
  const users: Record<string, CreatedUser> = {
    sales: addUser(site, { email: 'sales@example.com', first_name: 'Sam', last_name: 'Sales', roles: ['Sales User'], password: DEMO_PASSWORD }),
    support: addUser(site, { email: 'support@example.com', first_name: 'Sky', last_name: 'Support', roles: ['Agent'], password: DEMO_PASSWORD }),
    ops: addUser(site, { email: 'ops@example.com', first_name: 'Olly', last_name: 'Ops', roles: ['Manufacturing User', 'Stock User'], password: DEMO_PASSWORD }),
    sidecar: addUser(site, { email: 'sidecar@example.com', first_name: 'Companion', last_name: 'Sync', roles: ['System Manager', 'Sales Manager', 'Sales User', 'Stock User', 'Manufacturing User', 'Agent'], generate_keys: true }),
  };
  return asAdmin(site, (ctx) => {
    masters(ctx);
    const customers = CUSTOMERS.map((c) => {
      const customer = put(ctx, { doctype: 'Customer', customer_name: c.name, customer_type: c.type, customer_group: 'Commercial', territory: 'All Territories' });
      const [first_name, last_name, email, phone] = c.contact;
      put(ctx, {
        doctype: 'Contact',
        first_name,
        last_name,
        email_ids: [{ email_id: email, is_primary: 1 }],
        phone_nos: [{ phone, is_primary_mobile_no: 1 }],
        links: [{ link_doctype: 'Customer', link_name: customer.name }],
      });
      return String(customer.name);
    });
    const { salesOrders, workOrders } = orders(ctx, customers);
    const { leads, deals } = crm(ctx, users.sales.name);
    const tickets = helpdesk(ctx);
    return { users, customers, sales_orders: salesOrders, work_orders: workOrders, leads, deals, tickets };
  });
}

function masters(ctx: Ctx): void {
  // USD as frappe/geo/country_info.json describes it (setup creates Currency records from it):
  // the smallest fraction decides ERPNext's rounded totals.
  put(ctx, { doctype: 'Currency', currency_name: 'USD', symbol: '$', enabled: 1, fraction: 'Cent', fraction_units: 100, smallest_currency_fraction_value: 0.01, number_format: '#,###.##' }, { setName: 'USD' });
  put(ctx, { doctype: 'Currency', currency_name: 'CAD', symbol: 'CA$', enabled: 1, fraction: 'Cent', fraction_units: 100, smallest_currency_fraction_value: 0.01, number_format: '#,###.##' }, { setName: 'CAD' });
  for (const [country_name, code] of COUNTRIES) put(ctx, { doctype: 'Country', country_name, code }, { setName: country_name });
  put(ctx, { doctype: 'Company', company_name: 'Demo Confections', abbr: 'DC', default_currency: 'USD', country: 'United States' });
  put(ctx, { doctype: 'Customer Group', customer_group_name: 'All Customer Groups', is_group: 1 });
  put(ctx, { doctype: 'Customer Group', customer_group_name: 'Commercial', parent_customer_group: 'All Customer Groups' });
  put(ctx, { doctype: 'Customer Group', customer_group_name: 'Individual', parent_customer_group: 'All Customer Groups' });
  put(ctx, { doctype: 'Territory', territory_name: 'All Territories', is_group: 1 });
  accounts(ctx, 'Demo Confections', 'DC');
  put(ctx, { doctype: 'Item Group', item_group_name: 'All Item Groups', is_group: 1 });
  put(ctx, { doctype: 'Item Group', item_group_name: 'Products', parent_item_group: 'All Item Groups' });
  put(ctx, { doctype: 'UOM', uom_name: 'Nos', must_be_whole_number: 1 });
  for (const w of ['Stores', 'Work In Progress', 'Finished Goods']) put(ctx, { doctype: 'Warehouse', warehouse_name: w, company: 'Demo Confections' });
  put(ctx, { doctype: 'Price List', price_list_name: 'Standard Selling', currency: 'USD', selling: 1, enabled: 1 });
  for (const [item_code, item_name, standard_rate] of ITEMS) {
    put(ctx, { doctype: 'Item', item_code, item_name, item_group: 'Products', stock_uom: 'Nos', is_stock_item: 1, standard_rate, description: item_name });
    put(ctx, { doctype: 'BOM', item: item_code, company: 'Demo Confections', quantity: 1, currency: 'USD', is_active: 1, is_default: 1, docstatus: 1 }, { ignoreMandatory: true });
  }
  // The seed system's Work Order customisations and ERPNext CRM Settings' Deal field.
  let after = 'status';
  for (const [fieldname, options] of Object.entries(WORK_ORDER_STATUS_FIELDS)) {
    const label = fieldname.replace('custom_', '').replace('_status', '').toUpperCase() + ' Status';
    put(ctx, { doctype: 'Custom Field', dt: 'Work Order', fieldname, label, fieldtype: 'Select', options: options.join('\n'), insert_after: after, default: options[0] });
    after = fieldname;
  }
  // Neither CRM v1.52.1's CRM Deal nor Helpdesk v1.14.0's HD Customer has `erpnext_customer`
  // (recordings crm-deal-list-erpnext-customer, hd-customer-list-erpnext-customer): the ERPNext
  // integration adds it as a Custom Field (frappe/crm:crm/fcrm/doctype/erpnext_crm_settings/
  // erpnext_crm_settings.py `create_custom_fields_in_frappe_crm`: Data "Customer in ERPNext" after
  // lead_name). The demo site has the integration on, and its helpdesk the same field.
  put(ctx, { doctype: 'Custom Field', dt: 'CRM Deal', fieldname: 'erpnext_customer', label: 'Customer in ERPNext', fieldtype: 'Data', insert_after: 'lead_name' });
  put(ctx, { doctype: 'Custom Field', dt: 'HD Customer', fieldname: 'erpnext_customer', label: 'Customer in ERPNext', fieldtype: 'Data', insert_after: 'domain' });
}

/** Submitted orders with several lines; one draft, one cancelled; work orders for most lines. */
function orders(ctx: Ctx, customers: string[]): { salesOrders: string[]; workOrders: string[] } {
  const plan: { customer: string; lines: [string, number][]; days: number; state: 'submitted' | 'draft' | 'cancelled' }[] = [
    { customer: customers[0], lines: [['CAKE-CHOC', 10], ['COOKIE-BOX', 40]], days: 3, state: 'submitted' },
    { customer: customers[0], lines: [['MUFFIN-12', 25]], days: 7, state: 'submitted' },
    { customer: customers[0], lines: [['CAKE-VAN', 5]], days: 10, state: 'draft' },
    { customer: customers[1], lines: [['CAKE-VAN', 6], ['CAKE-CHOC', 6], ['MUFFIN-12', 12]], days: 2, state: 'submitted' },
    { customer: customers[2], lines: [['CAKE-CHOC', 1]], days: 1, state: 'submitted' },
    { customer: customers[3], lines: [['COOKIE-BOX', 100]], days: 14, state: 'submitted' },
    { customer: customers[3], lines: [['CAKE-VAN', 3]], days: 5, state: 'cancelled' },
  ];
  const today = ctx.site.today();
  const salesOrders: string[] = [];
  const workOrders: string[] = [];
  const statuses: [string, string, string, string][] = [
    ['APPROVED', 'IN_STOCK', 'DONE', 'APPROVED'],
    ['APPROVED', 'IN_STOCK', 'IN_PROGRESS', 'AWAITING'],
    ['PENDING', 'ORDERED', 'PENDING', 'AWAITING'],
    ['BLOCKED', 'OUT_OF_STOCK', 'PENDING', 'AWAITING'],
    ['APPROVED', 'IN_STOCK', 'DONE', 'REJECTED'],
  ];
  let k = 0;
  for (const o of plan) {
    const delivery = addDays(today, o.days);
    // Saved, then submitted, as staff do in the desk: the submit recomputes the status
    // ("To Deliver and Bill"), which an insert with docstatus 1 would leave at "Draft".
    const draft = put(ctx, demoSalesOrder({ customer: o.customer, lines: o.lines, date: today, delivery, docstatus: 0 }));
    const so = o.state === 'draft' ? draft : saveDoc(ctx, { ...draft, docstatus: 1 }, null, { ignorePermissions: true });
    salesOrders.push(String(so.name));
    if (o.state === 'cancelled') {
      const cancelled = { ...so, docstatus: 2 };
      putSave(ctx, cancelled);
      continue;
    }
    if (o.state !== 'submitted') continue;
    for (const row of so.items as Doc[]) {
      if (k % 6 === 5) {
        k++;
        continue; // some lines have no work order yet: PENDING / AWAITING in the history
      }
      const [ops, ingredients, production, qa] = statuses[k % statuses.length];
      const wo = put(ctx, demoWorkOrder(so, row, { ops, ingredients, production, qa }));
      workOrders.push(String(wo.name));
      k++;
    }
  }
  return { salesOrders, workOrders };
}

/** A submitted Work Order for one Sales Order line of the demo company, with the seed's four statuses. */
export function demoWorkOrder(so: Doc, row: Doc, status: { ops: string; ingredients: string; production: string; qa: string }): Doc {
  return {
    doctype: 'Work Order',
    production_item: row.item_code,
    item_name: row.item_name,
    bom_no: `BOM-${row.item_code}-001`,
    qty: row.qty,
    sales_order: so.name,
    sales_order_item: row.name,
    company: 'Demo Confections',
    wip_warehouse: 'Work In Progress - DC',
    fg_warehouse: 'Finished Goods - DC',
    stock_uom: 'Nos',
    expected_delivery_date: row.delivery_date,
    custom_ops_status: status.ops,
    custom_ingredients_status: status.ingredients,
    custom_production_status: status.production,
    custom_qa_status: status.qa,
    docstatus: 1,
  };
}

/** A cancel goes through the normal save path (docstatus 1 → 2). */
function putSave(ctx: Ctx, doc: Doc): void {
  saveDoc(ctx, doc, null, { ignorePermissions: true });
}

function crm(ctx: Ctx, salesUser: string): { leads: string[]; deals: string[] } {
  // The seed system's first-response SLA for new leads: 2 hours, around the clock.
  put(ctx, {
    doctype: 'CRM Service Level Agreement',
    sla_name: 'Lead Response SLA',
    apply_on: 'CRM Lead',
    enabled: 1,
    condition: "doc.status == 'New'",
    priorities: [{ priority: 'Open', first_response_time: 7200, default_priority: 1 }],
    working_hours: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map((workday) => ({ workday, start_time: '00:00:00', end_time: '23:59:59' })),
  });
  const leads: string[] = [];
  const deals: string[] = [];
  const acme = put(ctx, { doctype: 'CRM Lead', first_name: 'Alice', last_name: 'Archer', email: 'alice@acmefoods.example', organization: 'Acme Foods', lead_owner: salesUser, status: 'Qualified', converted: 1 });
  leads.push(String(acme.name));
  const deal = put(ctx, { doctype: 'CRM Deal', lead: acme.name, deal_owner: salesUser, erpnext_customer: 'Acme Foods', status: 'Negotiation' });
  deals.push(String(deal.name));
  leads.push(String(put(ctx, { doctype: 'CRM Lead', first_name: 'Ben', last_name: 'Brooks', email: 'ben@brightside.example', organization: 'Brightside Cafe', lead_owner: salesUser, status: 'Contacted' }).name));
  leads.push(String(put(ctx, { doctype: 'CRM Lead', first_name: '  carla', last_name: 'MENDES ', lead_owner: salesUser, status: 'New' }).name));
  leads.push(String(put(ctx, { doctype: 'CRM Lead', first_name: 'Nora', last_name: 'Newman', email: 'nora@newprospect.example', organization: 'New Prospect Ltd', lead_owner: salesUser, status: 'New' }).name));
  return { leads, deals };
}

function helpdesk(ctx: Ctx): (string | number)[] {
  const contactOf = (email: string) => ctx.site.db.all('Contact').find((c) => c.email_id === email)?.name;
  put(ctx, { doctype: 'HD Customer', customer_name: 'Acme Foods', erpnext_customer: 'Acme Foods', contacts: [{ contact_name: contactOf('alice@acmefoods.example'), is_primary: 1 }] });
  put(ctx, { doctype: 'HD Customer', customer_name: 'Delta Hotels', erpnext_customer: 'Delta Hotels', contacts: [{ contact_name: contactOf('dana@deltahotels.example'), is_primary: 1 }] });
  const t1 = put(ctx, { doctype: 'HD Ticket', subject: 'Where is my cookie order?', raised_by: 'alice@acmefoods.example', description: 'Our order of 40 cookie boxes — any news?' });
  const t2 = put(ctx, { doctype: 'HD Ticket', subject: 'Change delivery address', raised_by: 'dana@deltahotels.example', priority: 'High' });
  return [t1.name as string | number, t2.name as string | number];
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
