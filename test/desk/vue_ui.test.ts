/**
 * The CRM Form Script and HD Form Script bundles (dist/desk/*_ui.js), loaded the way Frappe CRM's
 * script.js (v1.52.1, the real site's, and newer) and Helpdesk v1.14.0's formCustomisation.ts load
 * them (`new Function`), with fake page helpers:
 * `call` is a real HTTP call to an emulated site (sales / support user sessions) with a sidecar
 * answering Order Sync Requests; `toast` and the dialog helpers record what they get.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusColour, statusLabel, STATUS_FIELDS } from '../../desk/order_history/badges.js';
import { contrast } from '../helpers/contrast.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, client, login, type Client } from '../helpers/emulator.js';
import { startOrderHistorySidecar, installedSite, type InstalledSite } from '../helpers/sidecar.js';

const ROOT = join(import.meta.dirname, '..', '..');
const crmScript = () => readFileSync(join(ROOT, 'dist', 'desk', 'crm_lead_crm_ui.js'), 'utf8');
const hdScript = () => readFileSync(join(ROOT, 'dist', 'desk', 'hd_ticket_helpdesk_ui.js'), 'utf8');

/** Inline badge colours the dialog must use, per indicator. */
const BADGE_BACKGROUND: Record<string, string> = { green: '#e4f5e9', blue: '#e6f4ff', orange: '#fff1e7', red: '#ffe7e7', gray: '#f3f3f3' };

let site: InstalledSite;
let sc: Sidecar;
let sales: Client;
let support: Client;
let leads: string[];

/** frappe-ui `call`: POST /api/method/<method>, resolve `message`, reject with the server's `messages`. */
function callAs(c: Client) {
  const calls: string[] = [];
  const call = async (method: string, args: Record<string, unknown> = {}) => {
    calls.push(method);
    const res = await c.method(method, args);
    if (res.status === 200) return res.body.message;
    let messages: string[] = [];
    try {
      messages = (JSON.parse(res.body._server_messages ?? '[]') as string[]).map((m) => String((JSON.parse(m) as { message?: string }).message ?? m));
    } catch {
      /* none */
    }
    throw Object.assign(new Error(messages[0] ?? `${method} failed (${res.status})`), { messages, exc_type: res.body.exc_type });
  };
  return { call, calls };
}

function recorder() {
  const toasts: [kind: string, message: string][] = [];
  const dialogs: Record<string, any>[] = [];
  const toast = {
    success: (m: string) => toasts.push(['success', m]),
    error: (m: string) => toasts.push(['error', m]),
    info: (m: string) => toasts.push(['info', m]),
    warning: (m: string) => toasts.push(['warning', m]),
  };
  const createDialog = (o: Record<string, any>) => {
    dialogs.push(o);
    return o;
  };
  return { toasts, dialogs, toast, createDialog };
}

/** scriptHelpers.js getClassNames: strip comments, then every `class Name`. */
function crmLoaderClassNames(script: string): string[] {
  const withoutComments = script.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return [...withoutComments.matchAll(/class\s+([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}

/**
 * Which Frappe CRM loader a page is built with. `v1.52.1` is the release the real site ran
 * (frappe/crm:frontend/src/data/script.js and frontend/src/data/document.js [v1.52.1]); `newer`
 * is CRM after it (the same files on develop, 2026), which the product also supports.
 */
type CrmLoader = 'v1.52.1' | 'newer';
const CRM_LOADERS: CrmLoader[] = ['v1.52.1', 'newer'];

/**
 * A CRM Lead page built the way the chosen CRM builds it.
 *
 * The page context is the frappe-ui document resource (frappe/frappe-ui:src/resources/documentResource.js):
 * own keys doctype, name, doc, auto, get, setValue, setValueDebounced, delete, reload, setDoc.
 *
 * script.js [v1.52.1]:
 * - setupScript sets `helpers.createDialog / toast / socket / router / call / throwError`;
 * - evaluateFormClass runs `new Function(...helperKeys, "\n\t\t" + script + "\n\t\treturn " + className + ";\n\t")(...helperValues)`
 *   and setupHelperMethods puts the `actions` / `statuses` getter/setter on the prototype;
 * - setupFormController(FormClass, meta, document, parentInstance, isChildDoctype) sets
 *   `document.actions ||= []`, `document.statuses ||= []`, `new FormClass()` (no arguments),
 *   `_originalDocumentContext`, `_isChildDoctype`, copies the document's OWN keys onto the instance
 *   (not the helpers: `this.call` / `this.toast` / `this.createDialog` are undefined), `getMeta`,
 *   and `doc` as a proxy over `document.doc`.
 * - document.js [v1.52.1]: setupFormScript ends with triggerOnLoad (`onLoad?.() || on_load?.() || onload?.()`);
 *   triggerOnRefresh calls `refresh?.()`.
 *
 * script.js / document.js newer: setupScript adds `formDialog`; setupFormController takes the
 * helpers and copies them onto the instance before the document's keys, and sets `_className`;
 * triggerOnRender calls `onRender?.() || on_render?.() || refresh?.()`.
 */
async function crmPage(c: Client, name: string, loader: CrmLoader = 'v1.52.1') {
  const { call, calls } = callAs(c);
  const rec = recorder();
  const helpers: Record<string, unknown> = {};
  helpers.createDialog = rec.createDialog;
  helpers.toast = rec.toast;
  helpers.socket = null;
  helpers.router = null;
  helpers.call = call;
  if (loader === 'newer') helpers.formDialog = () => undefined;
  helpers.throwError = (m: string) => {
    rec.toast.error(m);
    throw new Error(m);
  };
  const get = {
    fetch: async () => {
      context.doc = await call('frappe.client.get', { doctype: 'CRM Lead', name });
      return context.doc;
    },
  };
  const context: Record<string, any> = {
    doctype: 'CRM Lead',
    name,
    doc: {},
    auto: undefined,
    get,
    setValue: {},
    setValueDebounced: {},
    delete: {},
    reload: () => get.fetch(),
    setDoc: (doc: Record<string, any>) => {
      context.doc = doc;
    },
  };
  await get.fetch();

  const script = crmScript();
  const [className] = crmLoaderClassNames(script);
  const FormClass = new Function(...Object.keys(helpers), `\n\t\t${script}\n\t\treturn ${className};\n\t`)(...Object.values(helpers));
  if (!Object.prototype.hasOwnProperty.call(FormClass.prototype, 'actions')) {
    Object.defineProperty(FormClass.prototype, 'actions', {
      configurable: true,
      enumerable: true,
      get(this: { _originalDocumentContext?: typeof context }) {
        return this._originalDocumentContext ? this._originalDocumentContext.actions : [];
      },
      set(this: { _originalDocumentContext?: typeof context }, v: unknown) {
        if (!this._originalDocumentContext) return;
        this._originalDocumentContext.actions = Array.isArray(v) ? v : [];
      },
    });
  }
  context.actions = context.actions || [];
  context.statuses = context.statuses || [];
  const instance = new FormClass();
  instance._originalDocumentContext = context;
  instance._isChildDoctype = className !== 'CRMLead';
  if (loader === 'newer') for (const key in helpers) instance[key] = helpers[key];
  for (const key in context) if (Object.hasOwn(context, key)) instance[key] = context[key];
  instance.getMeta = async () => undefined;
  instance.doc = new Proxy({}, { get: (_t, p) => context.doc?.[p as string], has: (_t, p) => p in (context.doc ?? {}) });
  if (loader === 'newer') instance._className = className;

  /** document.js triggerOnLoad, as setupFormScript runs it once the controllers exist. */
  const load = async () => {
    await (instance.onLoad?.() || instance.on_load?.() || instance.onload?.());
  };
  /** v1.52.1: triggerOnRefresh; newer: triggerOnRender. */
  const render = async () => {
    if (loader === 'v1.52.1') await instance.refresh?.();
    else await (instance.onRender?.() || instance.on_render?.() || instance.refresh?.());
  };
  await load();
  return { instance, context, calls, load, render, ...rec, FormClass };
}

/**
 * The Helpdesk agent page (frappe/helpdesk [v1.14.0]): formCustomisation.ts parseScript runs
 * `new Function(script + "\nreturn setupForm")()` and awaits it with the context that
 * components/ticket-agent/TicketHeader.vue builds — doc, call, router, toast, $dialog, updateField,
 * createToast (toast.create) — no `this`.
 */
async function hdPage(c: Client, ticket: Record<string, unknown>) {
  const { call, calls } = callAs(c);
  const rec = recorder();
  const setupForm = new Function(hdScript() + '\nreturn setupForm')();
  const ctx = { doc: ticket, call, router: null, toast: rec.toast, $dialog: rec.createDialog, updateField: () => undefined, createToast: () => undefined };
  const form = await setupForm(ctx);
  return { form, calls, ...rec };
}

function item(actions: any[], label: string): { label: string; onClick: () => unknown } {
  const group = actions.find((a) => a.group === 'Order History');
  expect(group, 'the Order History group').toBeTruthy();
  const found = group.items.find((i: { label: string }) => i.label === label);
  expect(found, label).toBeTruthy();
  return found;
}

async function requestsFor(name: string): Promise<number> {
  const res = await site.root.list('Order Sync Request', { filters: [['reference_name', '=', name]], fields: ['name'], limit_page_length: 0 });
  return res.body.data.length;
}

/** Every row of the dialog table, with the badge of each status column. */
function parseTable(html: string) {
  return [...html.matchAll(/<tr data-order="([^"]*)">([\s\S]*?)<\/tr>/g)].map(([, order, cells]) => ({
    order,
    badges: [...cells.matchAll(/<span data-status="([^"]*)" data-indicator="([^"]*)" title="[^"]*" style="([^"]*)">([^<]*)<\/span>/g)].map(([, status, indicator, style, label]) => ({ status, indicator, style, label })),
  }));
}

beforeAll(async () => {
  // Short polls for the test; the waits stay the product's (15 s queued / 120 s running).
  (globalThis as { orderCompanion?: unknown }).orderCompanion = { pollFirstMs: 20, pollMaxMs: 200 };
  site = await installedSite('UTC', { seed: 'demo' });
  leads = site.emu.seeds[SITE].leads;
  sales = client(site.emu, { site: SITE, sid: await login(site.emu, 'sales@example.com', 'demo') });
  support = client(site.emu, { site: SITE, sid: await login(site.emu, 'support@example.com', 'demo') });
  sc = await startOrderHistorySidecar(site);
});

afterAll(async () => {
  delete (globalThis as { orderCompanion?: unknown }).orderCompanion;
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('the built CRM Form Script', () => {
  it('is one class for the CRM loader: CRMLead, first and only', () => {
    const script = crmScript();
    expect(script.startsWith('class CRMLead {')).toBe(true);
    expect(crmLoaderClassNames(script)).toEqual(['CRMLead']);
  });

  it('installs as an enabled CRM Form Script for CRM Lead (Form view)', async () => {
    const res = await site.root.get('CRM Form Script', 'CRM Lead - Order History');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ dt: 'CRM Lead', view: 'Form', enabled: 1, script: crmScript() });
  });

});

describe.each(CRM_LOADERS)('the CRM Form Script on the %s CRM loader', (loader) => {
  it('onLoad / onRender put one "Order History" group with Show and Fetch in the header', async () => {
    const page = await crmPage(sales, leads[1], loader);
    expect(page.FormClass.name).toBe('CRMLead');
    // What `this` holds: the document resource's own keys always, the page helpers only in newer CRM.
    expect(typeof page.instance.reload).toBe('function');
    expect(page.instance.name).toBe(leads[1]);
    for (const helper of ['call', 'toast', 'createDialog']) {
      if (loader === 'v1.52.1') expect(page.instance[helper], helper).toBeUndefined();
      else expect(page.instance[helper], helper).toBeDefined();
    }
    expect(page.context.actions).toHaveLength(1);
    page.context.actions = [{ label: 'Someone else', onClick: () => undefined }, ...page.context.actions];
    await page.load();
    await page.render();
    expect(page.context.actions).toHaveLength(2);
    const group = page.context.actions.find((a: any) => a.group === 'Order History');
    expect(group).toMatchObject({ group: 'Order History', buttonLabel: 'Order History' });
    expect(group.items.map((i: { label: string }) => i.label)).toEqual(['Show order history', 'Fetch order history']);
  });

  it('Show on a lead with no history: the empty note', async () => {
    const page = await crmPage(sales, leads[3], loader);
    await page.render();
    await item(page.context.actions, 'Show order history').onClick();
    expect(page.dialogs).toHaveLength(1);
    expect(page.dialogs[0].message).toBe('No order history yet — use Fetch order history.');
    expect(page.dialogs[0].html).toBeUndefined();
  });

  it('Fetch: one request however often it is clicked, "Fetching…", "Synced 1 order", the page doc reloaded; Show: a row per line, labelled badges', async () => {
    const lead = leads[1];
    // Each loader's run starts from a lead without history (the other run may have fetched it).
    const cleared = await site.root.update('CRM Lead', lead, { custom_order_history: [] });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    const page = await crmPage(sales, lead, loader);
    await page.render();
    expect(page.context.doc.custom_order_history ?? []).toEqual([]);
    const before = await requestsFor(lead);
    const fetch = item(page.context.actions, 'Fetch order history');
    await Promise.all([fetch.onClick(), fetch.onClick()]);
    expect(await requestsFor(lead)).toBe(before + 1);
    expect(page.toasts).toEqual([
      ['info', 'Fetching order history…'],
      ['success', 'Synced 1 order'],
    ]);
    // The reload replaced the page's document: the table is there without leaving the page.
    const rows = [...page.context.doc.custom_order_history].sort((a: any, b: any) => a.idx - b.idx);
    expect(rows).toHaveLength(3);

    await item(page.context.actions, 'Show order history').onClick();
    const html: string = page.dialogs[0].html;
    expect(page.dialogs[0].title).toBe('Order History');
    const table = parseTable(html);
    expect(table).toHaveLength(rows.length);
    table.forEach((tr, i) => {
      expect(tr.order).toBe(rows[i].sales_order);
      expect(tr.badges.map((b) => b.status)).toEqual(STATUS_FIELDS.map((f) => rows[i][f]));
      for (const b of tr.badges) {
        expect(b.indicator).toBe(statusColour(b.status));
        expect(b.label).toBe(statusLabel(b.status));
        expect(b.style).toContain(`background-color:${BADGE_BACKGROUND[b.indicator]}`);
        // WCAG AA for the badge's 12 px text: at least 4.5:1 on its background.
        const [, background, color] = b.style.match(/background-color:(#[0-9a-f]{6});color:(#[0-9a-f]{6})/) ?? [];
        expect(contrast(color!, background!), `${b.label} text on its background`).toBeGreaterThanOrEqual(4.5);
      }
    });
    // The statuses of this customer's work orders, as the seed has them.
    expect(table[0].badges.map((b) => [b.label, b.indicator])).toEqual([
      ['Blocked', 'red'],
      ['Out of Stock', 'red'],
      ['Pending', 'orange'],
      ['Awaiting', 'orange'],
    ]);
    expect(table[1].badges.map((b) => [b.label, b.indicator])).toEqual([
      ['Approved', 'green'],
      ['In Stock', 'green'],
      ['Done', 'green'],
      ['Rejected', 'red'],
    ]);
    expect(html).toContain('CAKE-VAN');
    expect(html).not.toMatch(/class\s/);
  });

  it('Fetch for a lead no customer matches: the failure message', async () => {
    const page = await crmPage(sales, leads[3], loader);
    await page.render();
    await item(page.context.actions, 'Fetch order history').onClick();
    expect(page.toasts[0]).toEqual(['info', 'Fetching order history…']);
    expect(page.toasts[1][0]).toBe('error');
    expect(page.toasts[1][1]).toContain('no ERPNext customer matches');
  });

  it('escapes what it shows (values as the page holds them, e.g. unsaved)', async () => {
    const page = await crmPage(sales, leads[3], loader);
    await page.render();
    page.context.doc = {
      ...page.context.doc,
      custom_order_history: [{ idx: 1, sales_order: 'SO-<b>1</b>', item_code: 'X"><img src=x onerror=alert(1)>', item_name: '<script>x</script>', qty: 2, delivery_date: '2026-04-01', ops_status: 'APPROVED', material_status: '"><i>', production_status: 'DONE', qa_status: 'AWAITING' }],
    };
    await item(page.context.actions, 'Show order history').onClick();
    const html: string = page.dialogs[0].html;
    expect(html).not.toMatch(/<img|<b>|<script|<i>/);
    expect(html).toContain('SO-&#60;b&#62;1&#60;/b&#62;');
    expect(html).toContain('data-status="&#34;&#62;&#60;i&#62;" data-indicator="gray"');
  });
});

describe('the built HD Form Script', () => {
  it('starts with function setupForm and installs as an enabled HD Form Script (Form)', async () => {
    expect(hdScript().startsWith('function setupForm(ctx) {')).toBe(true);
    const res = await site.root.get('HD Form Script', 'HD Ticket - Order History');
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ dt: 'HD Ticket', apply_to: 'Form', enabled: 1, script: hdScript() });
  });

  it('a ticket with neither customer nor contact: the desk message, no request', async () => {
    const created = await support.insert('HD Ticket', { subject: 'Who am I?', raised_by: 'stranger@nowhere.example' });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const ticket = created.body.data;
    expect(ticket.customer ?? null).toBeNull();
    expect(ticket.contact ?? null).toBeNull();
    const page = await hdPage(support, { name: ticket.name, subject: ticket.subject });
    await item(page.form.actions, 'Fetch order history').onClick();
    expect(page.toasts).toEqual([['warning', 'This ticket has no customer or contact yet. Set its Customer or Contact, then fetch the order history.']]);
    expect(page.calls).not.toContain('frappe.client.insert');
    expect(await requestsFor(String(ticket.name))).toBe(0);
  });

  it('Fetch then Show on a customer\'s ticket: "Synced N orders", then the rows read from the ticket', async () => {
    const ticket = String(site.emu.seeds[SITE].tickets[0]);
    // The page's doc as older Helpdesk's get_one gives it: no custom child table.
    const page = await hdPage(support, { name: ticket, subject: 'Where is my cookie order?' });
    expect(page.form.actions).toHaveLength(1);
    expect(page.form.actions[0]).toMatchObject({ group: 'Order History', buttonLabel: 'Order History' });
    await item(page.form.actions, 'Fetch order history').onClick();
    expect(page.toasts).toEqual([
      ['info', 'Fetching order history…'],
      ['success', 'Synced 2 orders'],
    ]);
    await item(page.form.actions, 'Show order history').onClick();
    const table = parseTable(page.dialogs[0].html);
    expect(table).toHaveLength(3);
    for (const tr of table) expect(tr.badges).toHaveLength(4);
  });
});

describe('a page whose toast has loading / dismiss (frappe-ui on vue-sonner)', () => {
  it('"Fetching order history…" stays until the answer, then is dismissed; the answer is worded from the count', async () => {
    const ticket = String(site.emu.seeds[SITE].tickets[0]);
    const page = await hdPage(support, { name: ticket, subject: 'Where is my cookie order?' });
    const shown = new Set<number>();
    let next = 0;
    Object.assign(page.toast, {
      loading: (m: string) => {
        page.toasts.push(['loading', m]);
        shown.add(++next);
        return next;
      },
      dismiss: (id: number) => {
        page.toasts.push(['dismiss', String(id)]);
        shown.delete(id);
      },
    });
    await item(page.form.actions, 'Fetch order history').onClick();
    expect(page.toasts).toEqual([
      ['loading', 'Fetching order history…'],
      ['dismiss', '1'],
      ['success', 'Synced 2 orders'],
    ]);
    expect(shown.size).toBe(0);
  });

  it('a request nobody answers: the waiting toast is dismissed at the timeout too', async () => {
    const saved = (globalThis as { orderCompanion?: unknown }).orderCompanion;
    (globalThis as { orderCompanion?: unknown }).orderCompanion = { pollFirstMs: 20, pollMaxMs: 100, responseTimeoutMs: 300 };
    try {
      const toasts: [string, string][] = [];
      const toast = {
        success: (m: string) => toasts.push(['success', m]),
        error: (m: string) => toasts.push(['error', m]),
        warning: (m: string) => toasts.push(['warning', m]),
        loading: (m: string) => (toasts.push(['loading', m]), 7),
        dismiss: (id: number) => toasts.push(['dismiss', String(id)]),
      };
      // A request that stays Queued (no sidecar picks it up): the built HD Form Script, with a page
      // whose `call` inserts and reads a request nobody answers.
      let calls = 0;
      const call = async (method: string) => (method === 'frappe.client.get' && calls++ === 0 ? { name: 'x', customer: 'C' } : { name: 'never-picked-up', status: 'Queued' });
      const setupForm = new Function(hdScript() + '\nreturn setupForm')();
      const form = await setupForm({ doc: { name: String(site.emu.seeds[SITE].tickets[0]) }, call, router: null, toast, $dialog: () => undefined, updateField: () => undefined, createToast: () => undefined });
      await item(form.actions, 'Fetch order history').onClick();
      expect(toasts).toEqual([
        ['loading', 'Fetching order history…'],
        ['dismiss', '7'],
        ['warning', 'The order sync service is not responding'],
      ]);
    } finally {
      (globalThis as { orderCompanion?: unknown }).orderCompanion = saved;
    }
  });
});

describe('with no sync service running', () => {
  it('a request nobody picks up: "not responding" once the queued limit passes, and the request stays queued', async () => {
    await sc.stop(1000);
    (globalThis as { orderCompanion?: unknown }).orderCompanion = { pollFirstMs: 20, pollMaxMs: 100, responseTimeoutMs: 400 };
    const lead = leads[0];
    const page = await crmPage(sales, lead);
    await page.render();
    const started = Date.now();
    await item(page.context.actions, 'Fetch order history').onClick();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(page.toasts).toEqual([
      ['info', 'Fetching order history…'],
      ['warning', 'The order sync service is not responding'],
    ]);
    const queued = await site.root.list('Order Sync Request', { filters: [['reference_name', '=', lead]], fields: ['status'], limit_page_length: 0 });
    expect(queued.body.data.map((r: { status: string }) => r.status)).toContain('Queued');
  });
});
