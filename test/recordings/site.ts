/**
 * The emulated counterpart of the recorded site: `site1.local` in Asia/Kolkata, the product
 * installed by its own installer (as test/helpers/sidecar.ts does), the masters the recordings'
 * README lists under "Site fixtures the cases assume", Administrator with API keys (`<admin>`),
 * and the run's records the recorder made without recording a case for them.
 */
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { install } from '../../scripts/site/install.js';
import { loadDesired } from '../../lib/site/records.js';
import { createFrappeClient } from '../../lib/frappe/client.js';
import { loadManifest } from '../../lib/manifest/load.js';
import { client, control, login, type Client } from '../helpers/emulator.js';
import { ROOT } from './recordings.js';

export const SITE = 'site1.local';
export const ADMIN_PASSWORD = 'admin';

/** 18:49:50 IST, when the recorded site was installed (FCRM Settings `modified` in `single-get-fcrm-settings`). */
const INSTALLED_AT = '2026-12-02T13:19:50Z';
/** 20:01:20 IST, just before the recording's first insert (`role-insert`, 20:01:20.55). */
export const RUN_STARTS_AT = '2026-12-02T14:31:20Z';

export interface ReplaySite {
  emu: RunningEmulator;
  admin: { key: string; secret: string };
  root: Client;
}

async function must(what: string, reply: Promise<{ status: number; body: unknown }>): Promise<any> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`fixture ${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return (r.body as { data?: unknown; message?: unknown }).data ?? (r.body as { message?: unknown }).message;
}

export async function replaySite(): Promise<ReplaySite> {
  // One site behind the web port; the realtime server's localhost default is the same site.
  const emu = await startEmulator({ serveSite: SITE, defaultSite: SITE });
  await control(emu, '/clock', { now: INSTALLED_AT });
  await control(emu, '/sites', { name: SITE, time_zone: 'Asia/Kolkata' });

  const root = client(emu, { site: SITE, sid: await login(emu, 'Administrator', ADMIN_PASSWORD, SITE) });
  const keys = await must('Administrator keys', root.method('frappe.core.doctype.user.user.generate_keys', { user: 'Administrator' }));
  const adminUser = await must('Administrator', root.get('User', 'Administrator'));
  const admin = { key: String(adminUser.api_key), secret: String(keys.api_secret) };

  const c = createFrappeClient({ site: SITE, baseUrl: emu.url, apiKey: () => admin.key, apiSecret: () => admin.secret, backoffBaseMs: 1 });
  await install(c, loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')));

  // README "Site fixtures the cases assume": what a fresh CRM + Helpdesk + ERPNext-stub site has.
  const ensure = async (doctype: string, name: string, doc: Record<string, unknown>) => {
    const got = await root.get(doctype, name);
    if (got.status === 200) return;
    await must(`${doctype} ${name}`, root.insert(doctype, doc));
  };
  await ensure('Item Group', 'Products', { item_group_name: 'Products', is_group: 0 });
  await ensure('UOM', 'Nos', { uom_name: 'Nos', must_be_whole_number: 1 });
  await ensure('Customer Group', 'Individual', { customer_group_name: 'Individual', is_group: 0 });
  await ensure('Territory', 'Rest Of The World', { territory_name: 'Rest Of The World', is_group: 0 });
  await ensure('Currency', 'USD', { currency_name: 'USD', enabled: 1, symbol: '$' });
  await ensure('Price List', 'Standard Selling', { price_list_name: 'Standard Selling', currency: 'USD', selling: 1, enabled: 1 });
  await ensure('Country', 'United Kingdom', { country_name: 'United Kingdom', code: 'gb' });
  await ensure('Country', 'United States', { country_name: 'United States', code: 'us' });

  await control(emu, '/clock', { now: RUN_STARTS_AT });
  return { emu, admin, root };
}

/**
 * Records of the run that no recorded case created, placed before the first case that needs
 * them; each is inserted over REST as Administrator and its name mapped to the recorded one.
 */
export interface Precondition {
  before: string;
  why: string;
  doctype: string;
  /** The name the recording knows it by. */
  recordedName: string;
  doc: Record<string, unknown>;
  /** Its `modified` as the recording shows it (lead-list-keyset), learnt with the name. */
  recordedModified?: string;
  /** Written inside the emulator as an install would (a root Account has no parent to pass the REST checks). */
  direct?: boolean;
  /** Delete the recorded record (by its mapped name) instead of inserting `doc`. */
  remove?: boolean;
  /** Submit the recorded (draft) record with frappe.client.submit instead of inserting `doc`. */
  submit?: boolean;
}

/**
 * The one request the replay changes. The recorded site's stub Work Order did not require a BOM;
 * ERPNext does (frappe/erpnext work_order.json `bom_no` reqd), and ERPNext's source stays the
 * reference for Work Order validations (recordings README). So a Work Order insert without
 * `bom_no` is sent with the fixture BOM below, and only its `bom_no` is excepted in the answers.
 */
export const FIXTURE_BOM = 'BOM-rec-684ooa-CAKE-001';

export function amendRequest(method: string, path: string, body: unknown): unknown {
  if (method !== 'POST' || decodeURIComponent(path) !== '/api/resource/Work Order') return body;
  if (!body || typeof body !== 'object' || (body as { bom_no?: unknown }).bom_no) return body;
  return { ...body, bom_no: FIXTURE_BOM };
}

export const PRECONDITIONS: Precondition[] = [
  {
    before: 'company-get',
    why: 'company-get reads it (created 20:01:26.316 in the recording)',
    doctype: 'Company',
    recordedName: 'rec-684ooa Co',
    doc: { company_name: 'rec-684ooa Co', abbr: 'R4OOA', default_currency: 'USD', country: 'United States' },
  },
  ...(
    [
      ['rec-684ooa-CAKE', 'Chocolate cake', 0],
      ['rec-684ooa-TART', 'Lemon tart', 0],
      ['rec-684ooa-OLD', 'Retired scone', 1],
    ] as const
  ).map(([code, itemName, disabled]) => ({
    before: 'item-list-in-case-insensitive',
    why: 'item-list-in-case-insensitive finds CAKE, TART and the disabled OLD',
    doctype: 'Item',
    recordedName: code,
    doc: { item_code: code, item_name: itemName, item_group: 'Products', stock_uom: 'Nos', disabled, is_stock_item: 1 },
  })),
  ...['rec-684ooa Ada_Love', 'rec-684ooa AdaXLove'].map((customer_name) => ({
    before: 'customer-list-or-like-escaped',
    why: 'customer-list-or-like-escaped: names an escaped `\\_` must (and the doubled backslash does not) tell apart',
    doctype: 'Customer',
    recordedName: customer_name,
    doc: { customer_name, customer_type: 'Individual', customer_group: 'Individual', territory: 'Rest Of The World' },
  })),
  {
    before: 'contact-list-or-child-in',
    why: 'contact-list-or-child-in and dynamic-link-list-child find Bob, linked to both look-alike Customers',
    doctype: 'Contact',
    recordedName: 'rec-684ooa Bob-rec-684ooa Ada_Love',
    doc: {
      first_name: 'rec-684ooa Bob',
      email_ids: [{ email_id: 'rec-684ooa-bob@example.com', is_primary: 1 }],
      links: [
        { link_doctype: 'Customer', link_name: 'rec-684ooa Ada_Love' },
        { link_doctype: 'Customer', link_name: 'rec-684ooa AdaXLove' },
      ],
    },
  },
  {
    before: 'lead-insert-mandatory',
    why: 'CRM-LEAD-2026-00039 (Nurture: lead-list-filters-dict) was created right after lead-insert',
    doctype: 'CRM Lead',
    recordedName: 'CRM-LEAD-2026-00039',
    doc: { first_name: 'rec-684ooa Nora', status: 'Nurture' },
    recordedModified: '2026-12-02 20:01:27.585035',
  },
  {
    before: 'lead-insert-mandatory',
    why: 'CRM-LEAD-2026-00040 is in rec-684ooa OPEN (lead-status-delete-linked), no SLA (lead-list-lt-without-is-set)',
    doctype: 'CRM Lead',
    recordedName: 'CRM-LEAD-2026-00040',
    doc: { first_name: 'rec-684ooa Olga', status: 'rec-684ooa OPEN' },
    recordedModified: '2026-12-02 20:01:27.628510',
  },
  {
    before: 'custom-docperm-delete-202',
    why: 'restricted-insert-after-custom-docperm-delete calls 9q1ide1kaa "its last Custom DocPerm": the System Manager copy (custom-docperm-insert-copy) was deleted before, unrecorded',
    doctype: 'Custom DocPerm',
    recordedName: 'aena5ahkn3',
    doc: {},
    remove: true,
  },
  {
    before: 'so-insert-submitted',
    why: 'the Sales Orders charge their shipping to it',
    doctype: 'Account',
    recordedName: 'rec-684ooa Tax - R4OOA',
    doc: { account_name: 'rec-684ooa Tax', company: 'rec-684ooa Co', account_type: 'Tax', root_type: 'Liability', is_group: 0 },
    direct: true,
  },
  {
    before: 'wo-put-allow-on-submit',
    why: 'wo-put-allow-on-submit edits "a submitted Work Order" (docstatus 1, Not Started, modified 20:02:06.62): it was submitted after wo-insert, unrecorded',
    doctype: 'Work Order',
    recordedName: 'MFG-WO-2026-00007',
    doc: {},
    submit: true,
  },
  {
    before: 'wo-insert',
    why: 'the Work Orders are sent with it (amendRequest): a submitted, active, default BOM of the cake',
    doctype: 'BOM',
    recordedName: FIXTURE_BOM,
    doc: { name: FIXTURE_BOM, item: 'rec-684ooa-CAKE', company: 'rec-684ooa Co', quantity: 1, currency: 'USD', conversion_rate: 1, is_active: 1, is_default: 1, docstatus: 1 },
    direct: true,
  },
];
