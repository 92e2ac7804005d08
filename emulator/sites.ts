/**
 * `bench new-site` + `install-app frappe erpnext crm helpdesk`, in memory: DocTypes, roles,
 * Administrator/Guest, System Settings, and the masters each app's install creates
 * (frappe/crm:crm/install.py, frappe/helpdesk:helpdesk/setup/install.py).
 */
import type { Doc } from './core/database.js';
import { insertDoc, type Ctx } from './core/document.js';
import { loadStandardMetas } from './core/meta.js';
import { Site } from './core/site.js';
import { registerApps } from './apps/index.js';
import type { EmulatorState } from './state.js';

export interface SiteOptions {
  /** System Settings time zone; Frappe's default is Asia/Kolkata. */
  timeZone?: string;
}

export function createSite(state: EmulatorState, name: string, opts: SiteOptions = {}): Site {
  registerApps();
  const site = new Site(name, state.clock, state.sink);
  bootstrap(site, opts);
  state.sites.set(name, site);
  return site;
}

export function resetSite(site: Site, opts: SiteOptions = {}): void {
  site.db.clear();
  site.sessions.clear();
  site.requestCounts.clear();
  bootstrap(site, { timeZone: opts.timeZone ?? site.timeZone() });
}

/** Run `fn` as Administrator with install flags, committed as one transaction. */
export function asAdmin<T>(site: Site, fn: (ctx: Ctx) => T): T {
  const ctx: Ctx = { site, user: 'Administrator', messages: [] };
  const wasInstalling = site.installing;
  site.installing = true;
  site.db.begin();
  try {
    const out = fn(ctx);
    site.db.commit();
    return out;
  } catch (e) {
    site.db.rollback();
    throw e;
  } finally {
    site.installing = wasInstalling;
  }
}

export function put(ctx: Ctx, doc: Doc, flags: Record<string, unknown> = {}): Doc {
  return insertDoc(ctx, doc, { ignorePermissions: true, ...flags });
}

function bootstrap(site: Site, opts: SiteOptions): void {
  site.installStandardDocTypes();
  asAdmin(site, (ctx) => {
    // Module Def records for every installed module (and "Custom"), as app installs create them.
    const modules = new Map<string, string>([['Custom', 'frappe']]);
    for (const meta of loadStandardMetas()) if (meta.module) modules.set(meta.module, String((meta as Record<string, unknown>)._app ?? 'frappe'));
    for (const [module_name, app] of modules) put(ctx, { doctype: 'Module Def', module_name, app_name: app, custom: module_name === 'Custom' ? 1 : 0 });
    const roles = new Set<string>(['System Manager', 'Script Manager', 'Report Manager']);
    for (const meta of loadStandardMetas()) for (const p of meta.permissions) roles.add(p.role);
    for (const role of [...roles].sort()) {
      const deskless = ['Guest', 'All', 'Customer', 'HD Customer', 'HD Customer Manager', 'Helpdesk Contact'].includes(role);
      put(ctx, { doctype: 'Role', role_name: role, desk_access: deskless ? 0 : 1 });
    }
    put(ctx, {
      doctype: 'System Settings',
      time_zone: opts.timeZone ?? 'Asia/Kolkata',
      language: 'en',
      allow_error_traceback: 1,
      date_format: 'dd-mm-yyyy',
      time_format: 'HH:mm:ss',
      number_format: '#,###.##',
      float_precision: '3',
    });
    put(ctx, { doctype: 'User', email: 'admin@example.com', first_name: 'Administrator', name: 'Administrator', user_type: 'System User' }, { setName: 'Administrator' });
    put(ctx, { doctype: 'User', email: 'guest@example.com', first_name: 'Guest', user_type: 'Website User' }, { setName: 'Guest' });
    ctx.site.setPassword('User', 'Administrator', 'password', 'admin');

    // frappe/crm:crm/install.py [v1.52.1]: CRM Lead Status has no `type` there (it came later;
    // recording lead-status-insert drops it).
    const leadStatuses: [string, string][] = [
      ['New', 'gray'], ['Contacted', 'orange'], ['Nurture', 'blue'],
      ['Qualified', 'green'], ['Converted', 'teal'], ['Unqualified', 'red'], ['Junk', 'purple'],
    ];
    leadStatuses.forEach(([lead_status, color], i) => put(ctx, { doctype: 'CRM Lead Status', lead_status, color, position: i + 1 }));
    const dealStatuses: [string, number, string][] = [
      ['Qualification', 10, 'Open'], ['Demo/Making', 25, 'Ongoing'], ['Proposal/Quotation', 50, 'Ongoing'],
      ['Negotiation', 70, 'Ongoing'], ['Ready to Close', 90, 'Ongoing'], ['Won', 100, 'Won'], ['Lost', 0, 'Lost'],
    ];
    dealStatuses.forEach(([deal_status, probability, type], i) => put(ctx, { doctype: 'CRM Deal Status', deal_status, probability, type, position: i + 1 }));
    for (const status of ['Open', 'Replied']) put(ctx, { doctype: 'CRM Communication Status', status });
    // crm/install.py add_standard_dropdown_items: the standard menu entries, in this order
    // (recording single-get-fcrm-settings; the separator has an empty label and no route).
    const dropdownItems: [string, string, string | null][] = [
      ['app_selector', 'Apps', null], ['toggle_theme', 'Toggle theme', 'moon'], ['settings', 'Settings', 'settings'],
      ['login_to_fc', 'Login to Frappe Cloud', null], ['about', 'About', 'info'], ['separator', '', null], ['logout', 'Log out', 'log-out'],
    ];
    const dropdown_items = dropdownItems.map(([name1, label, icon]) =>
      name1 === 'separator'
        ? { name1, label, type: 'Separator', is_standard: 1 }
        : { name1, label, type: 'Route', route: '#', icon, is_standard: 1 },
    );
    put(ctx, { doctype: 'FCRM Settings', dropdown_items }, { ignoreMandatory: true });

    // frappe/helpdesk:helpdesk/setup/install.py
    const ticketStatuses: [string, string, string][] = [
      ['Open', 'Open', 'Red'], ['Replied', 'Paused', 'Blue'], ['Resolved', 'Resolved', 'Green'], ['Closed', 'Resolved', 'Gray'],
    ];
    ticketStatuses.forEach(([label_agent, category, color], i) => put(ctx, { doctype: 'HD Ticket Status', label_agent, category, color, order: i + 1, enabled: 1 }));
    [['Low', 1], ['Medium', 2], ['High', 3], ['Urgent', 4]].forEach(([name, integer_value]) => put(ctx, { doctype: 'HD Ticket Priority', name, integer_value }));
    for (const name of ['Unspecified', 'Bug', 'Incident', 'Question']) put(ctx, { doctype: 'HD Ticket Type', name, is_system: name === 'Unspecified' ? 1 : 0 });
    put(ctx, { doctype: 'HD Settings', default_priority: 'Medium', default_ticket_type: 'Unspecified', default_ticket_status: 'Open', ticket_reopen_status: 'Open', auto_set_customer_from_contact: 1 }, { ignoreMandatory: true });
    const year = ctx.site.today().slice(0, 4);
    put(ctx, { doctype: 'HD Service Holiday List', holiday_list_name: 'Default', from_date: `${year}-01-01`, to_date: `${Number(year) + 1}-12-31`, holidays: [] });
    put(ctx, {
      doctype: 'HD Service Level Agreement',
      service_level: 'Default',
      description: 'Default Service Level Agreement',
      enabled: 1,
      default_sla: 1,
      default_priority: 'Medium',
      holiday_list: 'Default',
      apply_sla_for_resolution: 1,
      priorities: [
        { priority: 'Low', response_time: 24 * 3600, resolution_time: 72 * 3600 },
        { priority: 'Medium', response_time: 8 * 3600, resolution_time: 24 * 3600, default_priority: 1 },
        { priority: 'High', response_time: 3600, resolution_time: 4 * 3600 },
        { priority: 'Urgent', response_time: 1800, resolution_time: 2 * 3600 },
      ],
      support_and_resolution: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'].map((workday) => ({ workday, start_time: '10:00:00', end_time: '18:00:00' })),
    }, { ignoreMandatory: true });
  });
}
