/**
 * The order-history Client Scripts (desk/, built to dist/desk/, installed by the installer) in
 * Debian's chromium, on the emulator's desk preview, with the sidecar answering: the Fetch button
 * under Actions, its alerts in order, the table it fills, a badge per status cell, the HD Ticket
 * form, a ticket with nothing to match, a stopped sidecar, and a Work Order change reaching the
 * open form without a click. Screenshots go to test-artifacts/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, client, control, login, type Client } from '../helpers/emulator.js';
import { deskSession, launchBrowser, type DeskSession } from '../helpers/browser.js';
import { startOrderHistorySidecar, installedSite, type InstalledSite } from '../helpers/sidecar.js';


const TABLE = 'custom_order_history';
const ACTIONS = '.custom-actions .inner-group-button[data-label="Actions"]';
const FETCH = `${ACTIONS} .dropdown-menu a.dropdown-item[data-label="${encodeURIComponent('Fetch Order History')}"]`;
/** The form's "Fetching order history…" line while a request runs (frm.set_intro). */
const WAITING = '.form-layout > .form-message:not(.hidden) .order-companion-waiting';
const cell = (idx: number, field: string) => `.frappe-control[data-fieldname="${TABLE}"] .grid-body .grid-row[data-idx="${idx}"] .grid-static-col[data-fieldname="${field}"] .static-area`;

let site: InstalledSite;
let sc: Sidecar | null = null;
let browser: Browser;
let root: Client;
const sessions: DeskSession[] = [];

async function open(user: string, doctype: string, name: string): Promise<DeskSession> {
  const s = await deskSession(browser, site.emu, user, 'demo');
  sessions.push(s);
  await s.openForm(doctype, name);
  await s.waitForSocket();
  await s.waitForRoom(`doc:${doctype}/${name}`);
  return s;
}

/** The alerts shown so far, oldest first: [colour, text]. */
async function alerts(s: DeskSession): Promise<[string, string][]> {
  return s.page.evaluate(() => (window as any).__alertLog ?? []);
}

/** Record every alert as it is added (they disappear after a few seconds). */
async function watchAlerts(s: DeskSession): Promise<void> {
  await s.page.evaluate(() => {
    const log: [string, string][] = ((window as any).__alertLog = []);
    const container = () => document.querySelector('#alert-container');
    const seen = new WeakSet<Element>();
    const scan = () => {
      for (const el of Array.from(document.querySelectorAll('#alert-container .desk-alert'))) {
        if (seen.has(el)) continue;
        seen.add(el);
        const colour = ['green', 'blue', 'orange', 'yellow', 'red'].find((c) => el.classList.contains(c)) ?? '';
        log.push([colour, (el.querySelector('.alert-message')?.textContent ?? '').trim()]);
      }
    };
    new MutationObserver(scan).observe(container()?.parentElement ?? document.body, { childList: true, subtree: true });
    scan();
  });
}

async function clickFetch(s: DeskSession): Promise<void> {
  await s.page.click(`${ACTIONS} > button[data-toggle="dropdown"]`);
  await s.page.click(FETCH);
}

async function waitForAlert(s: DeskSession, colour: string, text: string | RegExp): Promise<void> {
  await s.page.waitForFunction(
    ([c, t, isRe]) => ((window as any).__alertLog ?? []).some(([colour, msg]: [string, string]) => colour === c && (isRe ? new RegExp(t).test(msg) : msg === t)),
    [colour, typeof text === 'string' ? text : text.source, typeof text !== 'string'] as const,
    { timeout: 20_000 },
  ).catch(async (e) => {
    throw new Error(`${e.message}\nalerts: ${JSON.stringify(await alerts(s))}\nconsole: ${s.console.join('\n')}\nrequests: ${JSON.stringify((await root.list('Order Sync Request', { fields: JSON.stringify(['name', 'status', 'message']), limit_page_length: 0 })).body)}`);
  });
}

/**
 * Every status cell of the table: its badge's colour class and label, by row and field, and whether
 * the whole label shows (not cut by the pill's ellipsis nor by its column's edge).
 */
async function badges(s: DeskSession): Promise<{ idx: number; field: string; colour: string; label: string; status: string; fits: boolean; contrast: number }[]> {
  return s.page.evaluate((table) => {
    // WCAG 2.x contrast of the pill's computed text colour on its computed background.
    const rgb = (css: string) => (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lum = (css: string) => {
      const [r, g, b] = rgb(css).map((v) => v / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const ratio = (a: string, b: string) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    const out: { idx: number; field: string; colour: string; label: string; status: string; fits: boolean; contrast: number }[] = [];
    for (const row of Array.from(document.querySelectorAll(`.frappe-control[data-fieldname="${table}"] .grid-body .grid-row[data-idx]`))) {
      for (const field of ['ops_status', 'material_status', 'production_status', 'qa_status']) {
        const pill = row.querySelector(`.grid-static-col[data-fieldname="${field}"] .static-area .indicator-pill`);
        if (!pill) continue;
        const colour = ['green', 'blue', 'orange', 'yellow', 'red', 'gray'].find((c) => pill.classList.contains(c)) ?? '';
        const col = pill.closest('.grid-static-col')!.getBoundingClientRect();
        const box = pill.getBoundingClientRect();
        const fits = pill.scrollWidth <= pill.clientWidth && box.left >= col.left && box.right <= col.right;
        const style = getComputedStyle(pill);
        const contrast = ratio(style.color, style.backgroundColor);
        out.push({ idx: Number((row as HTMLElement).dataset.idx), field, colour, label: pill.textContent!.trim(), status: (pill as HTMLElement).dataset.status ?? '', fits, contrast });
      }
    }
    return out;
  }, TABLE);
}

const EXPECTED_COLOUR: Record<string, string> = {
  APPROVED: 'green', IN_STOCK: 'green', DONE: 'green', IN_PROGRESS: 'blue',
  PENDING: 'orange', ORDERED: 'orange', AWAITING: 'orange', BLOCKED: 'red', OUT_OF_STOCK: 'red', REJECTED: 'red',
};
const EXPECTED_LABEL: Record<string, string> = {
  APPROVED: 'Approved', IN_STOCK: 'In Stock', DONE: 'Done', IN_PROGRESS: 'In Progress', PENDING: 'Pending',
  ORDERED: 'Ordered', AWAITING: 'Awaiting', BLOCKED: 'Blocked', OUT_OF_STOCK: 'Out of Stock', REJECTED: 'Rejected',
};

async function storedRows(doctype: string, name: string): Promise<any[]> {
  const res = await root.get(doctype, name);
  return [...(res.body.data.custom_order_history ?? [])].sort((a: any, b: any) => a.idx - b.idx);
}

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  root = client(site.emu, { site: SITE, sid: await login(site.emu, 'Administrator', 'admin') });
  browser = await launchBrowser();
  sc = await startOrderHistorySidecar(site);
}, 60_000);

afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  await browser?.close();
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('CRM Lead', () => {
  it('Fetch shows its alerts in order, fills the table, and badges every status cell', async () => {
    const lead = site.emu.seeds[SITE].leads[0]!;
    expect(await storedRows('CRM Lead', lead)).toEqual([]);
    const s = await open('sales@example.com', 'CRM Lead', lead);
    await watchAlerts(s);
    const before = await s.renders();
    await clickFetch(s);
    await waitForAlert(s, 'green', 'Synced 2 orders');
    const seen = await alerts(s);
    expect(seen.map(([c, m]) => `${c}:${m}`).slice(0, 2)).toEqual(['blue:Fetching order history…', 'green:Synced 2 orders']);
    // The waiting line went with the answer.
    await s.page.waitForFunction((sel) => !document.querySelector(sel), WAITING);
    await s.waitForRenders(before + 1);
    await s.page.click('.form-tabs .nav-link[data-fieldname="custom_order_history_tab"]');
    const rows = await storedRows('CRM Lead', lead);
    expect(rows.length).toBe(3);
    await s.page.waitForSelector(cell(3, 'qa_status'));
    const shown = await badges(s);
    expect(shown).toHaveLength(rows.length * 4);
    for (const b of shown) {
      const row = rows[b.idx - 1];
      expect(b.status, `row ${b.idx} ${b.field}`).toBe(row[b.field]);
      expect(b.colour, `${b.status} colour`).toBe(EXPECTED_COLOUR[b.status]);
      expect(b.label).toBe(EXPECTED_LABEL[b.status]);
      expect(b.fits, `"${b.label}" (row ${b.idx} ${b.field}) is cut off in its column`).toBe(true);
      expect(b.contrast, `"${b.label}" text on its background`).toBeGreaterThanOrEqual(4.5);
    }
    // The sales order column is the order's name; amounts are per line.
    expect(await s.page.textContent(cell(1, 'sales_order'))).toContain(rows[0].sales_order);
    expect(s.errors).toEqual([]);
    await s.screenshot('crm-lead-order-history');
  }, 60_000);

  it("a Work Order's new QA status reaches the open form's badge without a click", async () => {
    const lead = site.emu.seeds[SITE].leads[0]!;
    const s = await open('sales@example.com', 'CRM Lead', lead);
    await s.page.click('.form-tabs .nav-link[data-fieldname="custom_order_history_tab"]');
    const rows = await storedRows('CRM Lead', lead);
    const target = rows.find((r) => r.item_code === 'CAKE-CHOC')!;
    const idx = target.idx as number;
    const wo = (await root.list('Work Order', {
      fields: JSON.stringify(['name']),
      filters: JSON.stringify([['sales_order', '=', target.sales_order], ['production_item', '=', 'CAKE-CHOC']]),
      order_by: 'creation desc',
      limit_page_length: 1,
    })).body.data[0].name;
    const next = target.qa_status === 'REJECTED' ? 'APPROVED' : 'REJECTED';
    const changedAt = Date.now();
    expect((await root.update('Work Order', wo, { custom_qa_status: next })).status).toBe(200);
    await s.page.waitForSelector(`${cell(idx, 'qa_status')} .indicator-pill[data-status="${next}"]`, { timeout: 15_000 });
    const elapsed = Date.now() - changedAt;
    const pill = await s.page.$eval(`${cell(idx, 'qa_status')} .indicator-pill`, (el) => ({ cls: el.className, text: el.textContent }));
    expect(pill.cls).toContain(EXPECTED_COLOUR[next]!);
    expect(pill.text).toBe(EXPECTED_LABEL[next]);
    // Reported, not asserted: timings belong to the benchmark (bench/desk.bench.ts).
    console.info(`work order change → badge on the open form: ${elapsed} ms`);
    expect(s.errors).toEqual([]);
  }, 60_000);

  it("with unsaved edits, the answer leaves Frappe's \"modified after you have loaded it\" notice in place and only the waiting line goes", async () => {
    const lead = site.emu.seeds[SITE].leads[0]!;
    // An empty table, so the sidecar's rebuild writes the lead and Frappe tells the open form.
    expect((await root.update('CRM Lead', lead, { custom_order_history: [] })).status).toBe(200);
    const s = await open('sales@example.com', 'CRM Lead', lead);
    await watchAlerts(s);
    await s.page.evaluate(() => (window as any).cur_frm.set_value('first_name', 'Edited, not saved'));
    expect(await s.page.evaluate(() => (window as any).cur_frm.is_dirty())).toBe(true);
    await clickFetch(s);
    await waitForAlert(s, 'green', 'Synced 2 orders');
    await s.page.waitForFunction(() => document.querySelector('.form-layout > .form-message')?.textContent?.includes('This form has been modified after you have loaded it'));
    await s.page.waitForFunction((sel) => !document.querySelector(sel), WAITING);
    // Still there once the request has finished (the answer is shown after the save's notice).
    expect(await s.page.textContent('.form-layout > .form-message')).toContain('This form has been modified after you have loaded it');
    expect(await s.page.isVisible('.form-layout > .form-message')).toBe(true);
    expect(s.errors).toEqual([]);
  }, 60_000);
});

describe('HD Ticket', () => {
  it('Fetch works the same on a ticket through its HD Customer', async () => {
    const ticket = String(site.emu.seeds[SITE].tickets[0]);
    const s = await open('support@example.com', 'HD Ticket', ticket);
    await watchAlerts(s);
    await clickFetch(s);
    await waitForAlert(s, 'green', 'Synced 2 orders');
    await s.page.click('.form-tabs .nav-link[data-fieldname="custom_order_history_tab"]');
    const rows = await storedRows('HD Ticket', ticket);
    await s.page.waitForSelector(cell(rows.length, 'qa_status'));
    const shown = await badges(s);
    expect(shown).toHaveLength(rows.length * 4);
    for (const b of shown) {
      expect(b.colour).toBe(EXPECTED_COLOUR[b.status]);
      expect(b.fits, `"${b.label}" (row ${b.idx} ${b.field}) is cut off in its column`).toBe(true);
    }
    expect(s.errors).toEqual([]);
    await s.screenshot('hd-ticket-order-history');
  }, 60_000);

  it('a ticket with no customer and no contact explains itself instead of sending a request', async () => {
    const agent = client(site.emu, { site: SITE, sid: await login(site.emu, 'support@example.com', 'demo') });
    const created = await agent.insert('HD Ticket', { subject: 'Question from a stranger', status: 'Open', raised_by: 'nobody@unknown.example' });
    expect(created.status).toBe(200);
    expect(created.body.data.customer ?? null).toBeNull();
    expect(created.body.data.contact ?? null).toBeNull();
    const requestsBefore = (await root.list('Order Sync Request', { limit_page_length: 0 })).body.data.length;
    const s = await open('support@example.com', 'HD Ticket', String(created.body.data.name));
    await clickFetch(s);
    await s.page.waitForSelector('.modal.show.msgprint-dialog');
    expect(await s.page.textContent('.modal.show.msgprint-dialog .msgprint')).toContain('no customer or contact');
    expect((await root.list('Order Sync Request', { limit_page_length: 0 })).body.data.length).toBe(requestsBefore);
  }, 60_000);
});

describe('a realtime server slower than the site', () => {
  it('an answer that comes before the form has joined the request room is shown at once, not at the timeout', async () => {
    const lead = site.emu.seeds[SITE].leads[0]!;
    const s = await deskSession(browser, site.emu, 'sales@example.com', 'demo');
    sessions.push(s);
    // Timers far beyond the wait below: only reading the request after the answer can pass.
    await s.page.addInitScript(() => {
      (window as any).orderCompanion = { responseTimeoutMs: 120_000, runningTimeoutMs: 120_000 };
    });
    await s.openForm('CRM Lead', lead);
    await s.waitForSocket();
    await s.waitForRoom(`doc:CRM Lead/${lead}`);
    await watchAlerts(s);
    // Frappe joins a room only after its permission callback, and says nothing when it does: here
    // the join waits until the sidecar has already marked the request Done.
    await control(site.emu, '/faults', { hold_joins: true });
    try {
      await clickFetch(s);
      await waitForAlert(s, 'green', /^Synced \d+ orders?$/);
      const sockets: { user: string; rooms: string[]; pending: number }[] = await control(site.emu, `/realtime/sockets?site=${encodeURIComponent(SITE)}`, undefined, 'GET');
      // The answer was found while the form was still outside the room.
      expect(sockets.some((v) => v.user === 'sales@example.com' && v.pending > 0 && !v.rooms.includes('doctype:Order Sync Request'))).toBe(true);
    } finally {
      await control(site.emu, '/faults', { hold_joins: false });
    }
  }, 60_000);
});

describe('no sync service', () => {
  it('with the sidecar stopped, the button is disabled while waiting and the timeout says so', async () => {
    await sc!.stop(1000);
    sc = null;
    const lead = site.emu.seeds[SITE].leads[1]!;
    const s = await deskSession(browser, site.emu, 'sales@example.com', 'demo');
    sessions.push(s);
    await s.page.addInitScript(() => {
      (window as any).orderCompanion = { responseTimeoutMs: 1500 };
    });
    await s.openForm('CRM Lead', lead);
    await s.waitForSocket();
    await watchAlerts(s);
    await clickFetch(s);
    await s.page.waitForFunction((sel) => document.querySelector(sel)?.classList.contains('disabled'), FETCH);
    await s.page.waitForSelector(WAITING, { state: 'visible' });
    await waitForAlert(s, 'orange', 'The order sync service is not responding');
    await s.page.waitForFunction((sel) => !document.querySelector(sel)?.classList.contains('disabled'), FETCH);
    expect(await s.page.$(WAITING)).toBeNull();
    expect(await s.page.$eval('.form-layout > .form-message', (el) => el.classList.contains('hidden'))).toBe(true);
    expect((await alerts(s)).map(([c, m]) => `${c}:${m}`)).toEqual(['blue:Fetching order history…', 'orange:The order sync service is not responding']);
    // The request stays queued; a sidecar that starts later still answers it (catch-up).
    const queued = (await root.list('Order Sync Request', { fields: JSON.stringify(['name', 'status']), filters: JSON.stringify([['reference_name', '=', lead]]), limit_page_length: 0 })).body.data;
    expect(queued.map((r: any) => r.status)).toEqual(['Queued']);
  }, 60_000);
});

describe('a long wait', () => {
  it('after the "Fetching…" alert has faded the form still says it is fetching, until the answer', async () => {
    expect(sc).toBeNull(); // stopped by the test above: nobody answers
    const lead = site.emu.seeds[SITE].leads[2]!;
    const s = await deskSession(browser, site.emu, 'sales@example.com', 'demo');
    sessions.push(s);
    // Longer than the blue alert's 5 s, so the wait outlives it.
    await s.page.addInitScript(() => {
      (window as any).orderCompanion = { responseTimeoutMs: 8000 };
    });
    await s.openForm('CRM Lead', lead);
    await s.waitForSocket();
    await watchAlerts(s);
    await clickFetch(s);
    await waitForAlert(s, 'blue', 'Fetching order history…');
    // The alert is gone from the page…
    await s.page.waitForFunction(() => !document.querySelector('#alert-container .desk-alert'), undefined, { timeout: 20_000 });
    // …and the request still waits: the form says so.
    expect(await alerts(s)).toEqual([['blue', 'Fetching order history…']]);
    expect(await s.page.isVisible(WAITING)).toBe(true);
    expect(await s.page.textContent(WAITING)).toBe('Fetching order history…');
    await waitForAlert(s, 'orange', 'The order sync service is not responding');
    await s.page.waitForFunction((sel) => !document.querySelector(sel), WAITING);
    expect(s.errors).toEqual([]);
  }, 60_000);
});

describe('signing in', () => {
  it('a guest opening a form is sent to /login and, once signed in, lands on the form', async () => {
    const lead = site.emu.seeds[SITE].leads[0]!;
    const context = await browser.newContext({ baseURL: site.emu.url });
    try {
      const page = await context.newPage();
      await page.goto(`/app/crm-lead/${lead}`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('#login_email', 'sales@example.com');
      await page.fill('#login_password', 'wrong');
      await page.click('.btn-login');
      await page.waitForFunction(() => document.getElementById('login_error')!.textContent !== '');
      expect(await page.textContent('#login_error')).toBe('Invalid login credentials');
      await page.fill('#login_password', 'demo');
      await page.click('.btn-login');
      await page.waitForFunction(() => document.body.dataset.formReady === 'true');
      expect(new URL(page.url()).pathname).toBe(`/app/crm-lead/${lead}`);
      expect(await page.textContent('.title-text')).toBeTruthy();
    } finally {
      await context.close();
    }
  }, 60_000);
});
