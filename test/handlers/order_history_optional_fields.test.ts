/**
 * Order history on a site like the one recorded (CRM v1.52.1, Helpdesk v1.14.0, no ERPNext
 * integration): CRM Deal and HD Customer have no `erpnext_customer`, and naming it in a list call is
 * 417 DataError (recordings crm-deal-list-erpnext-customer, hd-customer-list-erpnext-customer).
 * Matching reads the field from the site's meta once per site and goes on by contact and name;
 * a `like` on a customer name with `_` or `%` still finds it although Frappe doubles backslashes
 * (recording customer-list-or-like-escaped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFrappeClient, type FrappeClient } from '../../lib/frappe/client.js';
import { matchLeadCustomer, matchTicketCustomer } from '../../sidecar/handlers/order_history/match.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';
import { SITE } from '../helpers/emulator.js';
import { installedSite, startOrderHistorySidecar, until, type InstalledSite } from '../helpers/sidecar.js';

let site: InstalledSite;
let leads: string[];
let sc: Sidecar | undefined;

function ok(res: { status: number; body: any }): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** A client of the sidecar's user that records the paths it calls (a fresh meta cache each time). */
function companionClient(): { client: FrappeClient; paths: string[] } {
  const paths: string[] = [];
  const client = createFrappeClient({
    site: SITE,
    baseUrl: site.emu.url,
    apiKey: () => site.companion.key,
    apiSecret: () => site.companion.secret,
    backoffBaseMs: 1,
    fetch: (input, init) => {
      paths.push(decodeURIComponent(new URL(String(input)).pathname));
      return fetch(input, init);
    },
  });
  return { client, paths };
}

const customer = async (customer_name: string): Promise<string> =>
  ok(await site.root.insert('Customer', { customer_name, customer_type: 'Company', customer_group: 'Commercial', territory: 'All Territories' })).name;

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  leads = site.emu.seeds[SITE].leads;
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('with the ERPNext integration (its Custom Field on CRM Deal)', () => {
  it("a converted lead is matched through its deal's erpnext_customer", async () => {
    const { client, paths } = companionClient();
    expect(await matchLeadCustomer({ client }, ok(await site.root.get('CRM Lead', leads[0])))).toBe('Acme Foods');
    expect(paths.filter((p) => p.endsWith('/frappe.desk.form.load.getdoctype'))).toHaveLength(1);
  });
});

describe('without erpnext_customer on CRM Deal and HD Customer', () => {
  beforeAll(async () => {
    // The site as recorded: no integration, so no Custom Fields.
    for (const dt of ['CRM Deal', 'HD Customer']) expect((await site.root.remove('Custom Field', `${dt}-erpnext_customer`)).status).toBe(202);
  });

  it('a converted lead is matched through its contact, and the meta is read once for many leads', async () => {
    const { client, paths } = companionClient();
    expect(await matchLeadCustomer({ client }, ok(await site.root.get('CRM Lead', leads[0])))).toBe('Acme Foods');
    expect(await matchLeadCustomer({ client }, ok(await site.root.get('CRM Lead', leads[1])))).toBe('Brightside Cafe');
    expect(await matchLeadCustomer({ client }, ok(await site.root.get('CRM Lead', leads[2])))).toBe('Carla Mendes');
    expect(paths.filter((p) => p.endsWith('/frappe.desk.form.load.getdoctype'))).toHaveLength(1);
    expect(paths.filter((p) => p === '/api/resource/CRM Deal')).toEqual([]);
  });

  it('a ticket of an HD Customer is matched through its contact', async () => {
    const { client } = companionClient();
    const hd = ok(await site.root.insert('HD Customer', { customer_name: 'Acme Helpdesk Account' })).name;
    const ticket = ok(await site.root.insert('HD Ticket', { subject: 'Cookies?', status: 'Open', customer: hd, raised_by: 'alice@acmefoods.example' }));
    expect(await matchTicketCustomer({ client }, ticket)).toBe('Acme Foods');
  });

  it('customers with _ or % in their names are matched by name, exactly', async () => {
    const { client } = companionClient();
    const underscore = await customer('Ada_Love Ltd');
    await customer('AdaXLove Ltd'); // what `_` as a wildcard would also find
    const percent = await customer('100% Cotton Co');
    await customer('1000 Cotton Co');
    const lead1 = ok(await site.rep.insert('CRM Lead', { first_name: 'Ada', organization: 'ada_love  ltd', status: 'New' }));
    const lead2 = ok(await site.rep.insert('CRM Lead', { first_name: 'Cy', organization: '100% COTTON Co', status: 'New' }));
    expect(await matchLeadCustomer({ client }, lead1)).toBe(underscore);
    expect(await matchLeadCustomer({ client }, lead2)).toBe(percent);
  });

  it("a new customer's first order reaches its linked lead: the refresh does not dead-letter", async () => {
    sc = await startOrderHistorySidecar(site);
    const fresh = await customer('Fresh_Start Bakery');
    const lead = ok(await site.rep.insert('CRM Lead', { first_name: 'Fay', organization: 'Fresh_Start Bakery', custom_customer: fresh, status: 'New' })).name;
    const so = ok(await site.root.insert('Sales Order', demoSalesOrder({ customer: fresh, lines: [['MUFFIN-12', 2, 9.9]], date: '2026-03-01', delivery: '2026-04-20', docstatus: 1 }))).name;
    await until(
      sc,
      async () => ((ok(await site.root.get('CRM Lead', lead)).custom_order_history ?? []) as any[]).some((r) => r.sales_order === so),
      'the new order in the lead history',
    );
    const failed = (await sc.store.list('failed', 1000)).filter((j) => j.name.startsWith('order_history.'));
    expect(failed.map((j) => j.lastError)).toEqual([]);
  });
});

describe('a field removed after the meta was read', () => {
  it('the DataError makes matching go on without it, and the field counts as absent until the meta is read again', async () => {
    ok(await site.root.insert('Custom Field', { dt: 'CRM Deal', fieldname: 'erpnext_customer', label: 'Customer in ERPNext', fieldtype: 'Data', insert_after: 'lead_name' }));
    const { client, paths } = companionClient();
    const lead = ok(await site.root.get('CRM Lead', leads[0]));
    expect(await matchLeadCustomer({ client }, lead)).toBe('Acme Foods');
    expect((await site.root.remove('Custom Field', 'CRM Deal-erpnext_customer')).status).toBe(202);
    expect(await matchLeadCustomer({ client }, lead)).toBe('Acme Foods'); // through the contact now
    expect(await matchLeadCustomer({ client }, lead)).toBe('Acme Foods');
    expect(paths.filter((p) => p.endsWith('/frappe.desk.form.load.getdoctype'))).toHaveLength(1);
    expect(paths.filter((p) => p === '/api/resource/CRM Deal')).toHaveLength(2); // not a third time
  });
});
