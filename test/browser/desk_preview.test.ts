// The emulator's desk preview in Debian's chromium: a site's Client Scripts run unchanged against
// Frappe v15's desk APIs (frappe/public/js/frappe/form/*.js, ui/page.js, ui/messages.js,
// request.js, socketio_client.js, model/model.js). Every `it` names the Frappe source it pins.
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { SITE, client, login, userClient, type Client } from '../helpers/emulator.js';
import { deskSession, launchBrowser, type DeskSession } from '../helpers/browser.js';

const LINE = 'Preview Order Line';
const ROWS = 60;

/** The Client Script under test: plain script-body JS, as a site stores it. */
const LEAD_SCRIPT = String.raw`
frappe.ui.form.on('CRM Lead', {
  setup(frm) {
    window.__setup_runs = (window.__setup_runs || 0) + 1;
  },
  refresh(frm) {
    window.__refresh_runs = (window.__refresh_runs || 0) + 1;
    const ping = frm.add_custom_button(__('Ping {0}', ['server']), () => {
      return frappe.xcall('ping').then((r) => {
        frappe.show_alert({ message: __('Pong: {0}', [r]), indicator: 'green' });
      });
    }, __('Actions'));
    const again = frm.add_custom_button(__('Ping {0}', ['server']), () => {}, __('Actions'));
    const plain = frm.add_custom_button('Plain Button', () => frappe.show_alert('plain'));
    window.__button_returns = { grouped: ping && ping.is('a.dropdown-item'), duplicate: again === undefined, plain: plain && plain.is('button.btn') };
    // Set once per form: the docfield copies must keep it across refreshes, paging, new rows and reloads.
    if (!frm.__status_formatter) {
      frm.__status_formatter = true;
      frm.fields_dict.preview_lines.grid.update_docfield_property('status', 'formatter', (value, df, options, doc) => {
        return '<span class="preview-status" data-idx="' + doc.idx + '">[' + (value || '') + ']</span>';
      });
    }
  },
});
frappe.ui.form.on('Preview Order Line', {
  item(frm, cdt, cdn) {
    window.__item_changes = (window.__item_changes || []).concat([locals[cdt][cdn].item]);
  },
  status(frm, cdt, cdn) {
    window.__status_changes = (window.__status_changes || 0) + 1;
  },
  preview_lines_add(frm, cdt, cdn) {
    window.__rows_added = (window.__rows_added || []).concat([cdn]);
  },
});
`;

/** A second enabled script: records the form events in order (script_manager.js trigger). */
const EVENTS_SCRIPT = String.raw`
window.__events = [];
const log = (e) => (frm) => { window.__events.push(e); };
frappe.ui.form.on('CRM Lead', {
  setup: log('setup'),
  before_load: log('before_load'),
  onload: log('onload'),
  refresh: log('refresh'),
  onload_post_render: log('onload_post_render'),
  validate: log('validate'),
  before_save(frm) {
    window.__events.push('before_save');
    return new Promise((resolve) => setTimeout(resolve, 50)).then(() => window.__events.push('before_save done'));
  },
  after_save: log('after_save'),
  on_tab_change: log('on_tab_change'),
  job_title(frm) { window.__events.push('job_title=' + frm.doc.job_title); },
});
`;

let emu: RunningEmulator;
let browser: Browser;
let admin: Client;
let other: Client & { user: string };
let session: DeskSession | null = null;
let lead: string;
let ticket: string;

beforeAll(async () => {
  // serveSite/defaultSite: the browser reaches the site at 127.0.0.1, and so does the realtime
  // server's callback to the Origin (as a bench behind one host name).
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC', seed: 'demo' }], serveSite: SITE, defaultSite: SITE });
  browser = await launchBrowser();
  admin = client(emu, { site: SITE, sid: await login(emu, 'Administrator', 'admin') });
  other = await userClient(emu, 'preview-other@example.com', ['Sales User']);

  // The child table, the way a site gets one: a custom DocType (editable grid) and Custom Fields.
  const dt = await admin.insert('DocType', {
    name: LINE,
    module: 'Custom',
    custom: 1,
    istable: 1,
    editable_grid: 1,
    fields: [
      { fieldname: 'item', label: 'Item', fieldtype: 'Data', in_list_view: 1 },
      { fieldname: 'qty', label: 'Qty', fieldtype: 'Int', in_list_view: 1 },
      { fieldname: 'status', label: 'Status', fieldtype: 'Select', options: '\nOpen\nClosed', in_list_view: 1 },
      { fieldname: 'amount', label: 'Amount', fieldtype: 'Currency', in_list_view: 1, read_only: 1 },
    ],
    permissions: [],
  });
  expect(dt.status, JSON.stringify(dt.body)).toBe(200);
  for (const cf of [
    { fieldname: 'preview_tab', label: 'Order Lines', fieldtype: 'Tab Break', insert_after: 'status_change_log' },
    { fieldname: 'preview_lines', label: 'Order Lines', fieldtype: 'Table', options: LINE, insert_after: 'preview_tab' },
  ]) {
    const r = await admin.insert('Custom Field', { dt: 'CRM Lead', ...cf });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  const lines = Array.from({ length: ROWS }, (_, i) => ({ item: `Item ${i + 1}`, qty: i + 1, status: i % 2 ? 'Closed' : 'Open', amount: (i + 1) * 10 }));
  const created = await other.insert('CRM Lead', { first_name: 'Paula', last_name: 'Preview', status: 'New', preview_lines: lines });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  lead = created.body.data.name;
  ticket = String(emu.seeds[SITE].tickets[0]);

  const scripts = [
    { name: 'Preview Lead Actions', dt: 'CRM Lead', enabled: 1, script: LEAD_SCRIPT },
    { name: 'Preview Lead Events', dt: 'CRM Lead', enabled: 1, script: EVENTS_SCRIPT },
    { name: 'Preview Disabled', dt: 'CRM Lead', enabled: 0, script: "window.__disabled_ran = true; frappe.ui.form.on('CRM Lead', { refresh(frm) { frm.add_custom_button('Disabled Button', () => {}); } });" },
    { name: 'Preview Broken', dt: 'HD Ticket', enabled: 1, script: "throw new Error('boom from client script');" },
  ];
  for (const s of scripts) {
    const r = await admin.insert('Client Script', { view: 'Form', ...s });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
}, 60_000);

afterEach(async (ctx) => {
  if (session) {
    await session.screenshot(`desk_preview-${ctx.task.name}`);
    await session.close();
    session = null;
  }
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
});

async function openLead(user = 'sales@example.com', password = 'demo'): Promise<DeskSession> {
  session = await deskSession(browser, emu, user, password);
  await session.openForm('CRM Lead', lead);
  return session;
}

const statusCells = '.frappe-control[data-fieldname="preview_lines"] .grid-body .grid-row .grid-static-col[data-fieldname="status"] .static-area';

/** Every rendered status cell shows the formatter's output for its own row. */
async function expectFormatterEverywhere(s: DeskSession, rows: number): Promise<void> {
  await s.page.waitForFunction(
    ([sel, n]) => {
      const cells = Array.from(document.querySelectorAll(sel as string));
      return cells.length === n && cells.every((c) => c.querySelector('.preview-status'));
    },
    [statusCells, rows] as const,
    { timeout: 10_000 },
  );
  const cells = await s.page.$$eval(statusCells, (els) =>
    els.map((el) => ({ row: el.closest('.grid-row')!.getAttribute('data-idx'), idx: el.querySelector('.preview-status')!.getAttribute('data-idx'), text: el.textContent!.trim() })),
  );
  for (const c of cells) {
    expect(c.idx).toBe(c.row);
    expect(c.text).toMatch(/^\[(Open|Closed|)\]$/);
  }
}

describe('desk preview: Client Scripts on a CRM Lead form', { timeout: 60_000 }, () => {
  // frappe/public/js/frappe/form/form.js (add_custom_button → page.add_inner_button; refresh_header → clear_custom_buttons)
  // + frappe/public/js/frappe/ui/page.js (add_inner_button: grouped → a.dropdown-item in .inner-group-button, undefined for a repeat)
  // + frappe/public/js/frappe/ui/messages.js (show_alert) + frappe/public/js/frappe/request.js (xcall)
  // + frappe/desk/form/meta.py (add_custom_script: only enabled scripts)
  it('runs the enabled script: a grouped "Actions" button whose click calls the server and shows a green alert', async () => {
    const s = await openLead();
    const page = s.page;
    const group = page.locator('.page-actions .custom-actions .inner-group-button[data-label="Actions"]');
    await expect(group.locator('> button[data-toggle="dropdown"]').innerText()).resolves.toContain('Actions');
    const item = group.locator('.dropdown-menu a.dropdown-item[data-label="Ping%20server"]');
    await expect(item.count()).resolves.toBe(1);
    expect(await item.isVisible()).toBe(false);
    await expect(page.locator('.custom-actions > button[data-label="Plain%20Button"]').count()).resolves.toBe(1);
    expect(await page.evaluate(() => (window as any).__button_returns)).toEqual({ grouped: true, duplicate: true, plain: true });

    await group.locator('> button').click();
    await item.click();
    const alert = page.locator('#alert-container .desk-alert.green .alert-message', { hasText: 'Pong: pong' });
    await alert.waitFor();
    // The disabled script never ran.
    expect(await page.evaluate(() => (window as any).__disabled_ran)).toBeUndefined();
    await expect(page.locator('[data-label="Disabled%20Button"]').count()).resolves.toBe(0);
    // setup once, refresh once; a refresh clears and re-adds the buttons instead of doubling them.
    await page.evaluate(() => (window as any).cur_frm.refresh());
    await s.waitForRenders(2);
    await expect(group.locator('.dropdown-item').count()).resolves.toBe(1);
    expect(await page.evaluate(() => [(window as any).__setup_runs, (window as any).__refresh_runs])).toEqual([1, 2]);
    expect(s.errors).toEqual([]);
  });

  // frappe/public/js/frappe/form/grid.js (update_docfield_property, render_result_rows, add_new_row) + grid_row.js
  // (set_docfields: per-row docfield copies; toggle_editable_row; refresh_field) + grid_pagination.js (50 a page)
  // + frappe/public/js/frappe/form/formatters.js (frappe.format: df.formatter first) + form.js (reload_doc) + save.js
  it('a column formatter set once stays on every cell: paging, inline edits, new rows, save and reload', async () => {
    const s = await openLead();
    const page = s.page;
    await page.locator('.form-tabs .nav-link[data-fieldname="preview_tab"]').click();
    await expectFormatterEverywhere(s, 50);
    // The lead also has CRM's status change log table (one row since its insert): every row
    // locator below is scoped to the Order Lines grid.
    const pager = page.locator('.frappe-control[data-fieldname="preview_lines"] .grid-pagination');
    await expect(pager.locator('.total-page-number').innerText()).resolves.toBe('2');
    // Columns: the in_list_view fields, plus the row index.
    const heads = await page.$$eval('.frappe-control[data-fieldname="preview_lines"] .grid-heading-row .grid-static-col[data-fieldname]', (els) => els.map((e) => e.getAttribute('data-fieldname')));
    expect(heads).toEqual(['item', 'qty', 'status', 'amount']);

    await pager.locator('.next-page').click();
    await expect(pager.locator('.current-page-number').inputValue()).resolves.toBe('2');
    await expectFormatterEverywhere(s, ROWS - 50);
    await expect(page.locator('.frappe-control[data-fieldname="preview_lines"] .grid-body .grid-row').first().getAttribute('data-idx')).resolves.toBe('51');
    await pager.locator('.prev-page').click();
    await expectFormatterEverywhere(s, 50);

    // Inline edit of a Data cell: input, change → child doc, dirty form, child event, re-rendered row.
    const row2 = page.locator('.frappe-control[data-fieldname="preview_lines"] .grid-body .grid-row[data-idx="2"]');
    await row2.locator('.grid-static-col[data-fieldname="item"]').click();
    const input = row2.locator('.grid-static-col[data-fieldname="item"] .field-area input[data-fieldname="item"]');
    await input.waitFor();
    await input.fill('Edited item');
    await page.locator('.title-text').click(); // blur → change; a click outside the row closes it
    await row2.locator('.grid-static-col[data-fieldname="item"] .static-area', { hasText: 'Edited item' }).waitFor();
    expect(await row2.locator('.grid-static-col[data-fieldname="item"] .field-area').isVisible()).toBe(false);
    expect(await page.evaluate(() => (window as any).__item_changes)).toEqual(['Edited item']);
    await expect(page.locator('.page-head .indicator-pill').innerText()).resolves.toBe('Not Saved');
    // The read-only column stays static in the edited row.
    await row2.locator('.grid-static-col[data-fieldname="qty"]').click();
    expect(await row2.locator('.grid-static-col[data-fieldname="amount"] .field-area input').count()).toBe(0);
    // A Select cell: the change re-renders the cell through the formatter.
    const row3 = page.locator('.frappe-control[data-fieldname="preview_lines"] .grid-body .grid-row[data-idx="3"]');
    await row3.locator('.grid-static-col[data-fieldname="status"]').click();
    await row3.locator('.grid-static-col[data-fieldname="status"] select').selectOption('Closed');
    await page.locator('.title-text').click();
    await row3.locator('.grid-static-col[data-fieldname="status"] .static-area .preview-status', { hasText: '[Closed]' }).waitFor();
    expect(await page.evaluate(() => (window as any).__status_changes)).toBe(1);
    await expectFormatterEverywhere(s, 50);

    // Add Row: goes to the last page; the new row inherits the template's formatter.
    await page.locator('.frappe-control[data-fieldname="preview_lines"] .grid-add-row').click();
    const added = page.locator(`.frappe-control[data-fieldname="preview_lines"] .grid-body .grid-row[data-idx="${ROWS + 1}"] .grid-static-col[data-fieldname="status"] .preview-status`);
    await added.waitFor();
    expect(await added.innerText()).toBe('[]');
    expect(await page.evaluate(() => (window as any).__rows_added.length)).toBe(1);
    await expectFormatterEverywhere(s, ROWS + 1 - 50);

    // Save (savedocs): a green "Saved" alert, the untouched new row dropped, the edits stored.
    const renders = await s.renders();
    await page.locator('.page-head .primary-action').click();
    await page.locator('#alert-container .desk-alert.green .alert-message', { hasText: 'Saved' }).waitFor();
    await s.waitForRenders(renders + 1);
    const stored = (await admin.get('CRM Lead', lead)).body.data;
    expect(stored.preview_lines).toHaveLength(ROWS);
    expect(stored.preview_lines[1].item).toBe('Edited item');
    expect(stored.preview_lines[2].status).toBe('Closed');
    await expect(page.locator('.page-head .indicator-pill').innerText()).resolves.not.toBe('Not Saved');

    // reload_doc: re-fetched with getdoc, re-rendered; the formatter (set once) is still there.
    const before = await s.renders();
    await page.evaluate(() => (window as any).cur_frm.reload_doc());
    await s.waitForRenders(before + 1);
    await pager.locator('.first-page').click();
    await expectFormatterEverywhere(s, 50);
    expect(await page.evaluate(() => (window as any).__refresh_runs)).toBeGreaterThanOrEqual(3);
    expect(s.errors).toEqual([]);
  });

  // frappe/public/js/frappe/model/model.js (doc_update: a clean form reloads, a dirty one shows the conflict)
  // + frappe/public/js/frappe/form/form.js (show_conflict_message, debounced_reload_doc) + socketio_client.js (doc_subscribe on form-load)
  it('a doc_update from another user reloads a clean form and warns a dirty one', async () => {
    const s = await openLead();
    const page = s.page;
    await s.waitForSocket();
    await s.waitForRoom(`doc:CRM Lead/${lead}`);
    const before = await s.renders();
    const first = await other.update('CRM Lead', lead, { first_name: 'Realtime' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    await s.waitForRenders(before + 1);
    await expect(page.locator('.frappe-control[data-fieldname="first_name"] input').inputValue()).resolves.toBe('Realtime');
    await expect(page.locator(statusCells).locator('.preview-status').count()).resolves.toBe(50);

    // Dirty now: a second change elsewhere must not reload, only warn.
    const input = page.locator('.frappe-control[data-fieldname="first_name"] input');
    await input.fill('Local edit');
    await page.locator('.title-text').click();
    await expect(page.locator('.page-head .indicator-pill').innerText()).resolves.toBe('Not Saved');
    const rendersDirty = await s.renders();
    const second = await other.update('CRM Lead', lead, { job_title: 'Chief Taster' });
    expect(second.status).toBe(200);
    const message = page.locator('.form-layout > .form-message', { hasText: 'This form has been modified after you have loaded it' });
    await message.waitFor();
    expect(await message.locator('button.btn-primary').innerText()).toBe('Refresh');
    expect(await input.inputValue()).toBe('Local edit');
    expect(await s.renders()).toBe(rendersDirty);
    // Refresh = cur_frm.reload_doc(): the server's copy replaces the local edit.
    await message.locator('button.btn-primary').click();
    await s.waitForRenders(rendersDirty + 1);
    await expect(input.inputValue()).resolves.toBe('Realtime');
    expect(await page.evaluate(() => (window as any).cur_frm.doc.job_title)).toBe('Chief Taster');
    expect(await page.locator('.form-layout > .form-message').isVisible()).toBe(false);
    expect(s.errors).toEqual([]);
  });

  // frappe/public/js/frappe/form/form.js (events order, set_value, toggle_display, set_df_property, set_intro, save)
  // + dashboard.js (set_headline_alert) + layout.js (show_message colours, tabs) + db.js + request.js (error → msgprint)
  it('frm API: event order, set_value, field properties, headline, tabs, frappe.db and server errors', async () => {
    const s = await openLead();
    const page = s.page;
    expect(await page.evaluate(() => (window as any).__events)).toEqual(['setup', 'before_load', 'onload', 'refresh', 'onload_post_render']);

    // set_value: a promise; the change event runs; the form is dirty; the input shows the value.
    const events = await page.evaluate(async () => {
      const w = window as any;
      w.__events = [];
      const p = w.cur_frm.set_value('job_title', 'Taster');
      const isPromise = typeof p.then === 'function';
      await p;
      return { isPromise, events: w.__events, dirty: w.cur_frm.is_dirty() };
    });
    expect(events).toEqual({ isPromise: true, events: ['job_title=Taster'], dirty: true });
    await page.locator('.form-tabs .nav-link[data-fieldname="details"]').click();
    expect(await page.evaluate(() => (window as any).__events.at(-1))).toBe('on_tab_change');
    await expect(page.locator('.frappe-control[data-fieldname="job_title"] input').inputValue()).resolves.toBe('Taster');

    // Field properties on the form's docfield copies.
    await page.evaluate(() => {
      const frm = (window as any).cur_frm;
      frm.toggle_display('website', false);
      frm.set_df_property('job_title', 'read_only', 1);
      frm.set_intro('Check the order history', 'green');
    });
    expect(await page.locator('.frappe-control[data-fieldname="website"]').getAttribute('class')).toContain('hide-control');
    await expect(page.locator('.frappe-control[data-fieldname="job_title"] .control-value').innerText()).resolves.toBe('Taster');
    expect(await page.locator('.frappe-control[data-fieldname="job_title"] input').isVisible()).toBe(false);
    await expect(page.locator('.form-layout > .form-message.green').innerText()).resolves.toContain('Check the order history');
    await page.evaluate(() => (window as any).cur_frm.dashboard.set_headline_alert('Heads up', 'orange'));
    await expect(page.locator('.form-layout > .form-message.orange').innerText()).resolves.toContain('Heads up');
    await page.evaluate(() => (window as any).cur_frm.dashboard.clear_headline());
    expect(await page.locator('.form-layout > .form-message').isVisible()).toBe(false);
    // A grid column can be hidden.
    await page.evaluate(() => (window as any).cur_frm.fields_dict.preview_lines.grid.toggle_display('qty', false));
    await page.waitForFunction(() => !document.querySelector('.frappe-control[data-fieldname="preview_lines"] .grid-heading-row [data-fieldname="qty"]'));
    expect(await page.evaluate(() => (window as any).__('{0} of {1}', [1, 2]))).toBe('1 of 2');

    // frappe.db / frappe.call over the session (CSRF header included). get_doc syncs into locals, so
    // it reads another lead: on the open one it would replace the unsaved edit, as in Frappe.
    const demoLead = emu.seeds[SITE].leads[1];
    const db = await page.evaluate(async (name) => {
      const f = (window as any).frappe;
      const value = await f.db.get_value('CRM Lead', name, 'first_name');
      const doc = await f.db.get_doc('CRM Lead', name);
      const inserted = await f.db.insert({ doctype: 'CRM Lead', first_name: 'From Desk', status: 'New' });
      return { value: value.message, doc: [doc.doctype, doc.name], inserted: [inserted.doctype, inserted.first_name, inserted.owner] };
    }, demoLead);
    expect(db.value).toEqual({ first_name: 'Ben' });
    expect(db.doc).toEqual(['CRM Lead', demoLead]);
    expect(db.inserted).toEqual(['CRM Lead', 'From Desk', 'sales@example.com']);

    // A server error: xcall rejects, the message is shown in the msgprint dialog.
    const rejected = await page.evaluate(() =>
      (window as any).frappe.xcall('frappe.client.insert', { doc: { doctype: 'CRM Lead', status: 'New' } }).then(
        () => 'resolved',
        () => 'rejected',
      ),
    );
    expect(rejected).toBe('rejected');
    const dialog = page.locator('.modal.show.msgprint-dialog');
    await expect(dialog.locator('.msgprint').innerText()).resolves.toContain("A Lead requires either a person's name or an organization's name");
    await dialog.locator('.btn-modal-close').click();

    // Save runs validate and before_save (awaiting its promise) before savedocs, then after_save.
    await page.evaluate(() => ((window as any).__events = []));
    const renders = await s.renders();
    await page.evaluate(() => (window as any).cur_frm.save());
    await s.waitForRenders(renders + 1);
    expect(await page.evaluate(() => (window as any).__events)).toEqual(['validate', 'before_save', 'before_save done', 'after_save', 'refresh']);
    expect((await admin.get('CRM Lead', lead)).body.data.job_title).toBe('Taster');
    // The 417 above: the browser logs the failed request, request.js logs the traceback (console.error); nothing else.
    expect(s.errors.filter((e) => !e.includes('status of 417') && !e.startsWith('Traceback'))).toEqual([]);
  });

  // frappe/public/js/frappe/form/script_manager.js (setup: __custom_js in try/catch → msgprint "Error in Client Script", form still built)
  it('a throwing script shows "Error in Client Script" and the HD Ticket form still renders', async () => {
    session = await deskSession(browser, emu, 'support@example.com', 'demo');
    await session.openForm('HD Ticket', ticket);
    const page = session.page;
    const dialog = page.locator('.modal.show.msgprint-dialog');
    await expect(dialog.locator('.modal-title').innerText()).resolves.toBe('Error in Client Script');
    await expect(dialog.locator('.msgprint').innerText()).resolves.toContain('boom from client script');
    await expect(dialog.locator('.modal-header .indicator').getAttribute('class')).resolves.toContain('orange');
    await expect(page.locator('.title-text').innerText()).resolves.toBe('Where is my cookie order?');
    await expect(page.locator('.frappe-control[data-fieldname="subject"] input').inputValue()).resolves.toBe('Where is my cookie order?');
    expect(await page.locator('.form-tabs .nav-link').allInnerTexts()).toContain('Details');
    expect(session.errors).toEqual([]);
  });
});
