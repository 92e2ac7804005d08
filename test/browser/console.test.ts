/**
 * The ops console in Debian's chromium (playwright-core), served by a sidecar on an installed
 * emulated site: a wrong password shows Frappe's message, a System Manager signs in and sees the
 * site card, a job failed by an injected REST fault appears in the Jobs table without a reload, and
 * Retry completes it; the Shop inbox shows each reconciliation run against the Shopify double as it
 * finishes (counts, watermarks, a refused token's error) and lists a delivery waiting for a mapping
 * with its reason, and Retry completes it once mapped; Run history sync starts a run, a second click resumes it, and the
 * Order history view shows it done, the leads it found without a customer (linked to CRM), and the
 * site's Order Sync Requests a desk user made, Done and Failed; the SLA view, live after a sweep of overdue leads, shows its
 * last sweep, the counts per DocType and per owner and the failures-per-day chart (earlier days
 * recorded beforehand); the site card says its records are this release's; the Jobs list shows one
 * page of 50 and Load more brings the rest. No console errors on the way. A screenshot of each view goes to
 * test-artifacts/ and to docs/ (README's "Ops console").
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.js';
import { installedSite, until, type InstalledSite } from '../helpers/sidecar.js';
import { CONSOLE_HANDLER, person, relay, startConsoleSidecar } from '../helpers/console.js';
import { SHOPIFY_DOMAIN, SHOPIFY_SECRET, SHOPIFY_TOKEN, shopifyShop } from '../helpers/shops.js';
import { createShopifyDouble, type ShopifyDouble } from '../../doubles/shopify/index.js';
import { NeedsMappingError } from '../../sidecar/shops/erpnext/errors.js';
import { createSlaHandlers } from '../../sidecar/handlers/sla.js';
import { createOrderHistoryHandlers } from '../../sidecar/handlers/order_history/index.js';
import { SweepTally, recordSweep } from '../../sidecar/handlers/sla_stats.js';
import { handlerMeta } from '../../sidecar/jobs/handler.js';
import { siteWallClock } from '../../lib/frappe/time.js';

/** A stand-in shop delivery: it waits for an item mapping until the test "adds" it. */
const UNMAPPED_HANDLER = 'shops.test.unmapped';
let mapped = false;

const DOCS = join(import.meta.dirname, '..', '..', 'docs');
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
/** Jobs of a handler nobody registered: each is dead-lettered at once. */
const UNHANDLED = 'console.test.unhandled';

let site: InstalledSite;
let shopify: ShopifyDouble;
let sc: Sidecar;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Between the browser and the sidecar, so the second case can cut the network. */
let net: Awaited<ReturnType<typeof relay>>;
const errors: string[] = [];
const consoleLines: string[] = [];

/** One view (a section of the page) to test-artifacts/ and docs/. */
async function viewShot(testid: string, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.locator(`[data-testid="${testid}"]`).screenshot({ path });
  copyFileSync(path, join(DOCS, `${name}.png`));
}

async function screenshot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  copyFileSync(path, join(DOCS, `${name}.png`));
}

beforeAll(async () => {
  site = await installedSite('Europe/Berlin');
  await person(site, 'manager@example.com', ['System Manager']);
  await person(site, 'clerk@example.com', ['Sales User']);
  shopify = await createShopifyDouble({ shops: [{ domain: SHOPIFY_DOMAIN, accessToken: SHOPIFY_TOKEN, apiSecret: SHOPIFY_SECRET }] });
  ({ sc } = await startConsoleSidecar(site, {
    // A shop on the site, reconciled from the Shopify double, and a delivery handler that needs a mapping.
    shops: [shopifyShop(shopify.url)],
    handlers: {
      ...createSlaHandlers(),
      ...createOrderHistoryHandlers(),
      // The orders reconciliation finds complete as they are: applying them to ERPNext is test/shops/'s part.
      'shops.order': async () => undefined,
      [UNMAPPED_HANDLER]: async () => {
        if (!mapped) throw new NeedsMappingError('item code for SKU "FUDGE-9" is unknown (add it to skuMap)');
      },
    },
  }));
  net = await relay(sc.url!);
  browser = await launchBrowser();
  context = await browser.newContext({ baseURL: net.url, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    consoleLines.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await net?.close();
  await sc?.stop();
  await shopify?.close();
  await site?.emu.close();
});

describe('ops console in chromium', () => {
  it("signs in (after Frappe's message for a wrong password), sees the site, a failed job live, and Retry completes it", async () => {
    await page.goto('/console/');
    const form = page.locator('[data-testid="signin"]');
    await form.waitFor();
    await form.locator('input[name="usr"]').fill('manager@example.com');
    await form.locator('input[name="pwd"]').fill('wrong');
    await form.locator('[data-testid="signin-submit"]').click();
    await form.locator('[data-testid="signin-error"]', { hasText: 'Invalid login credentials' }).waitFor();
    await screenshot('console-signin');

    await form.locator('input[name="pwd"]').fill('pw');
    await form.locator('[data-testid="signin-submit"]').click();
    const card = page.locator(`[data-testid="site-card"][data-site="${SITE}"]`);
    await card.waitFor();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await card.locator('[data-testid="site-realtime"][data-state="connected"]').waitFor();
    expect(await card.innerText()).toContain('Europe/Berlin');
    // The records check ran on start: the site holds this release's records.
    await card.locator('[data-testid="site-records"][data-state="up_to_date"]').waitFor();
    expect(await card.locator('[data-testid="site-records-state"]').innerText()).toBe('up to date');
    expect(await card.locator('[data-testid="site-records-version"]').innerText()).toContain(`release ${VERSION}`);
    await page.locator('[data-testid="job-list-empty"]').waitFor();

    // A job whose REST call the site fails: dead-lettered, and on the page without a reload.
    const id = 'console-browser-1';
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'GET /api/resource/CRM Lead/', mode: 'error', status: 500 }] });
    const lead = (await site.rep.insert('CRM Lead', { first_name: 'Browser' })).body.data.name;
    await sc.store.enqueue({ id, name: CONSOLE_HANDLER, site: SITE, data: { name: lead }, maxAttempts: 1 });
    const row = page.locator(`[data-testid="job-row"][data-job="${id}"]`);
    await page.locator(`[data-testid="job-row"][data-job="${id}"][data-state="failed"]`).waitFor();
    expect(await row.locator('[data-testid="job-error"]').innerText()).toMatch(/FrappeUnavailableError/);
    await page.locator(`[data-testid="job-counts"] tr[data-handler="${CONSOLE_HANDLER}"] td[data-state="failed"]`, { hasText: '1' }).waitFor();
    await screenshot('console-sites-jobs');

    await control(site.emu, '/faults', undefined, 'DELETE');
    await row.locator('[data-testid="retry"]').click();
    await page.locator(`[data-testid="job-row"][data-job="${id}"][data-state="completed"]`).waitFor();
    expect((await sc.store.get(id))?.state).toBe('completed');
    // The counts follow (read once after a burst of pushes).
    await page.locator(`[data-testid="job-counts"] tr[data-handler="${CONSOLE_HANDLER}"] td[data-state="completed"]`, { hasText: '1' }).waitFor();
    await page.locator(`[data-testid="job-counts"] tr[data-handler="${CONSOLE_HANDLER}"] td[data-state="failed"]`, { hasText: '0' }).waitFor();
    await screenshot('console-retried');

    // Chromium logs every 4xx answer to fetch as an error line: the wrong password's 401 is the one expected.
    expect(errors, consoleLines.join('\n')).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  }, 60_000);

  it('the Jobs list shows one page of 50 with the total, and Load more brings the rest', async () => {
    errors.length = 0;
    // 60 dead letters at once (a handler nobody registered), then a fresh page load: one page, not 60 pushes.
    const ids = Array.from({ length: 60 }, (_, i) => `console-browser-page-${i}`);
    await sc.store.enqueueMany(ids.map((id) => ({ id, name: UNHANDLED, site: SITE, data: {}, maxAttempts: 1 })));
    await until(sc, async () => (await sc.store.countsBy()).rows.find((r) => r.name === UNHANDLED)?.counts.failed === 60, 'sixty dead letters');
    await page.reload();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await page.locator('[data-testid="jobs-shown"]', { hasText: '50 of 60 failed' }).waitFor();
    expect(await page.locator('[data-testid="job-row"]').count()).toBe(50);
    // Newest first: the last of the batch is on the first page, the first one is not.
    expect(await page.locator(`[data-testid="job-row"][data-job="${ids[59]}"]`).count()).toBe(1);
    expect(await page.locator(`[data-testid="job-row"][data-job="${ids[0]}"]`).count()).toBe(0);
    await page.locator(`[data-testid="job-counts"] tr[data-handler="${UNHANDLED}"] td[data-state="failed"]`, { hasText: '60' }).waitFor();
    await viewShot('jobs', 'console-jobs-paged');

    await page.locator('[data-testid="jobs-load-more"]').click();
    await page.locator('[data-testid="jobs-shown"]', { hasText: '60 of 60 failed' }).waitFor();
    expect(await page.locator('[data-testid="job-row"]').count()).toBe(60);
    expect(await page.locator(`[data-testid="job-row"][data-job="${ids[0]}"]`).count()).toBe(1);
    expect(await page.locator('[data-testid="jobs-load-more"]').count()).toBe(0);
    // Out of the way of the views below.
    await sc.store.purge('failed');
    expect(errors, consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('the Shop inbox shows each reconciliation run live with its counts and watermarks, a delivery waiting for a mapping with its reason, and Retry completes it once mapped', async () => {
    errors.length = 0;
    const shop = page.locator('[data-testid="shop-card"][data-shop="demo-shopify"]');
    await shop.waitFor();
    expect(await shop.locator('[data-testid="shop-reconcile"]').innerText()).toContain('watermark none yet');
    expect(await shop.locator('[data-testid="shop-runs"]').count()).toBe(0);

    // Runs as the scheduler's would be: two orders found, then one more beside the two applied, then a refused token.
    const demoShop = shopify.shop(SHOPIFY_DOMAIN);
    const buyer = (n: number) => ({ customer: { first_name: 'Run', last_name: `Buyer ${n}`, email: `run.buyer.${n}@example.com` }, line_items: [{ sku: 'COOKIE-BOX', title: 'Cookie Box', quantity: 1, price: '12.75' }] });
    demoShop.addOrder(buyer(1));
    demoShop.addOrder(buyer(2));
    const runRow = (job: string, outcome: string) => shop.locator(`[data-testid="reconcile-run"][data-job="${job}"][data-outcome="${outcome}"]`);
    const count = async (row: ReturnType<typeof runRow>, name: string) => row.locator(`[data-count="${name}"]`).innerText();
    await sc.store.enqueue({ id: 'console-browser-reconcile-1', name: 'shops.reconcile', site: SITE, data: { shop: 'demo-shopify' }, maxAttempts: 1 });
    // Shown on the job's event, no reload.
    const first = runRow('console-browser-reconcile-1', 'completed');
    await first.waitFor();
    expect([await count(first, 'listed'), await count(first, 'upToDate'), await count(first, 'enqueued'), await count(first, 'pages')]).toEqual(['2', '0', '2', '1']);
    expect(await first.locator('[data-testid="reconcile-run-watermark"]').innerText()).toMatch(/^— → /);

    // A minute later in the shop: the new order moves the watermark on.
    shopify.clock.advance(60_000);
    demoShop.addOrder(buyer(3));
    await sc.store.enqueue({ id: 'console-browser-reconcile-2', name: 'shops.reconcile', site: SITE, data: { shop: 'demo-shopify' }, maxAttempts: 1 });
    const second = runRow('console-browser-reconcile-2', 'completed');
    await second.waitFor();
    expect([await count(second, 'listed'), await count(second, 'upToDate'), await count(second, 'enqueued')]).toEqual(['3', '2', '1']);
    expect(await second.locator('[data-testid="reconcile-run-watermark"]').innerText()).toMatch(/^\S.* → \S/);

    shopify.failNext(1, { kind: 'http', status: 401 });
    await sc.store.enqueue({ id: 'console-browser-reconcile-3', name: 'shops.reconcile', site: SITE, data: { shop: 'demo-shopify' }, maxAttempts: 1 });
    const refused = runRow('console-browser-reconcile-3', 'failed');
    await refused.waitFor();
    expect(await refused.locator('[data-testid="reconcile-run-error"]').innerText()).toContain('the Admin API refused the access token (401)');
    expect(await refused.locator('[data-testid="reconcile-run-watermark"]').innerText()).toMatch(/^unchanged /);
    // Newest first.
    expect(await shop.locator('[data-testid="reconcile-run"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')))).toEqual([
      'console-browser-reconcile-3',
      'console-browser-reconcile-2',
      'console-browser-reconcile-1',
    ]);
    // The three orders the runs queued completed (stand-ins here).
    await shop.locator('[data-testid="shop-results"] [data-result="completed"]', { hasText: '3 completed' }).waitFor();
    const id = 'console-browser-unmapped';
    await sc.store.enqueue({ id, name: UNMAPPED_HANDLER, site: SITE, data: { shop: 'demo-shopify' }, maxAttempts: 1 });
    const row = shop.locator(`[data-testid="needs-mapping-row"][data-job="${id}"]`);
    await row.waitFor();
    expect(await row.locator('[data-testid="needs-mapping-reason"]').innerText()).toContain('SKU "FUDGE-9" is unknown');
    await shop.locator('[data-testid="shop-results"] [data-result="failed"]', { hasText: '1 failed' }).waitFor();
    await viewShot('shops', 'console-shops');

    mapped = true;
    await row.locator('[data-testid="shop-retry"]').click();
    await shop.locator('[data-testid="shop-results"] [data-result="completed"]', { hasText: '4 completed' }).waitFor();
    await shop.locator('[data-testid="shop-results"] [data-result="failed"]', { hasText: '0 failed' }).waitFor();
    expect(await row.count()).toBe(0);
    expect((await sc.store.get(id))?.state).toBe('completed');
    expect(errors, consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('Order history: Run history sync (dry run) runs one bulk sync, and the page shows its summary and job when it is done', async () => {
    errors.length = 0;
    const card = page.locator(`[data-testid="history-run-card"][data-site="${SITE}"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-state')).toBe('none');

    // A desk user's Fetch Order History on a lead linked to a customer, and on one no customer matches.
    const ok = (res: { status: number; body: any }) => (expect(res.status, JSON.stringify(res.body)).toBe(200), res.body.data);
    const customer = ok(await site.root.insert('Customer', { customer_name: 'Console Bakery', customer_type: 'Company' })).name;
    const linked = ok(await site.rep.insert('CRM Lead', { first_name: 'Linked', organization: 'Console Bakery', custom_customer: customer })).name;
    const stranger = ok(await site.rep.insert('CRM Lead', { first_name: 'Stranger', email: 'nobody@nowhere.example' })).name;
    for (const lead of [linked, stranger]) {
      const req = ok(await site.rep.insert('Order Sync Request', { reference_doctype: 'CRM Lead', reference_name: lead }));
      // The console's sidecar hears no realtime: the job the Fetch's event would start, enqueued as dispatch does.
      await sc.store.enqueue({ id: `browser-fetch|${req.name}`, name: 'order_history.request', site: SITE, data: { doctype: 'Order Sync Request', name: req.name, modified: req.modified, source: 'realtime', heardAtMs: Date.now() }, maxAttempts: 1 });
    }
    const requests = page.locator(`[data-testid="history-requests"][data-site="${SITE}"]`);
    await requests.locator('[data-testid="history-request-row"][data-status="Done"]', { hasText: linked }).waitFor();
    const failed = requests.locator('[data-testid="history-request-row"][data-status="Failed"]', { hasText: stranger });
    await failed.waitFor();
    expect(await failed.innerText()).toMatch(/customer/i);
    expect(await requests.locator(`a[href$="/crm/leads/${stranger}"]`).count()).toBe(1);
    // The site refuses the count a run starts with: the run dead-letters, unfinished, and the card says so.
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'frappe.client.get_count', mode: 'error', status: 403 }] });
    try {
      await page.locator('[data-testid="history-run"]').click();
      await page.locator('[data-testid="history-message"]', { hasText: 'Started run' }).waitFor();
      const run = /Started run (\S+) on/.exec(await page.locator('[data-testid="history-message"]').innerText())![1]!;
      await page.locator(`[data-testid="history-run-card"][data-site="${SITE}"][data-state="failed"]`).waitFor();
      // A second click, once the site answers again, resumes that run rather than starting another.
      await control(site.emu, '/faults', undefined, 'DELETE');
      await page.locator('[data-testid="history-run"]').click();
      await page.locator('[data-testid="history-message"]', { hasText: `Resumed run ${run} on ${SITE}` }).waitFor();
    } finally {
      await control(site.emu, '/faults', undefined, 'DELETE');
    }
    await page.locator(`[data-testid="history-run-card"][data-site="${SITE}"][data-state="done"]`).waitFor();
    expect(await card.innerText()).toContain('dry run');
    await card.locator('[data-testid="history-no-customer"]').waitFor();
    // The leads without a customer by name, each a link to its CRM page on the site.
    const without = card.locator('[data-testid="history-without-customer-item"]', { hasText: stranger });
    await without.waitFor();
    expect(await without.locator('a').getAttribute('href')).toBe(`${site.emu.url}/crm/leads/${encodeURIComponent(stranger)}`);
    expect(await card.locator('[data-testid="history-without-customer-item"]', { hasText: linked }).count()).toBe(0);
    await page.locator('[data-testid="history-job-row"][data-state="completed"]', { hasText: 'order_history.bulk' }).waitFor();
    expect(await page.locator('[data-testid="history-job-row"]', { hasText: 'order_history.bulk' }).count()).toBe(1);
    await viewShot('history', 'console-order-history');
    expect(errors, consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('SLA sweeps: a sweep of overdue leads shows live — its last-sweep line, the counts per DocType and per owner, the failures chart — and is listed', async () => {
    errors.length = 0;
    await page.locator('[data-testid="sla-empty"]').waitFor();
    const siteCard = page.locator(`[data-testid="sla-site"][data-site="${SITE}"]`);
    expect(await siteCard.locator('[data-testid="sla-last"]').innerText()).toContain('No sweep recorded yet');

    // Earlier days' sweeps, as the sweep records them (the chart's history): 6 days ago … yesterday.
    const earlier = [2, 0, 5, 1, 3, 4];
    for (const [i, failed] of earlier.entries()) {
      const at = Date.now() - (earlier.length - i) * 86_400_000;
      const tally = new SweepTally();
      tally.add('swept', 'CRM Lead', ['manager@example.com'], failed + 1);
      tally.add('failed', 'CRM Lead', ['manager@example.com'], failed);
      tally.add('notified', 'CRM Lead', ['manager@example.com'], failed);
      const record = { job: `console-browser-earlier-${i}`, startedAtMs: at, finishedAtMs: at + 900, siteAtMs: at, cutoff: siteWallClock(new Date(at), 'Europe/Berlin'), timeZone: 'Europe/Berlin', tally, errors: 0 };
      await sc.store.withLock(`${SITE}|sla.stats`, 5000, () => recordSweep(handlerMeta(sc.store), SITE, record));
    }

    // Three leads past their 2-hour first response: two of the manager's, one of the rep's.
    for (const [first_name, lead_owner] of [['Greta', 'manager@example.com'], ['Hugo', 'manager@example.com'], ['Ines', site.rep.user]]) {
      const res = await site.rep.insert('CRM Lead', { first_name, status: 'New', lead_owner });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });

    const id = 'console-browser-sweep';
    await sc.store.enqueue({ id, name: 'sla.sweep', site: SITE, data: { slot: 'console-test', timeZone: 'Europe/Berlin' }, maxAttempts: 1 });
    const row = page.locator(`[data-testid="sla-row"][data-job="${id}"][data-state="completed"]`);
    await row.waitFor();
    expect(await row.innerText()).toMatch(/\d+(\.\d)? (ms|s)/);

    // Read again on the sweep's job event: no reload.
    const last = siteCard.locator('[data-testid="sla-last"]');
    await last.filter({ hasText: 'Last sweep' }).waitFor();
    const owners = siteCard.locator('[data-testid="sla-by-owner"]');
    const cell = (table: typeof owners, key: string, count: string) => table.locator(`[data-testid="sla-count-row"][data-key="${key}"] [data-count="${count}"]`);
    expect(await cell(owners, 'manager@example.com', 'today-failed').innerText()).toBe('2');
    expect(await cell(owners, 'manager@example.com', 'today-notified').innerText()).toBe('2');
    expect(await cell(owners, site.rep.user, 'today-failed').innerText()).toBe('1');
    const doctypes = siteCard.locator('[data-testid="sla-by-doctype"]');
    const leadsFailedToday = Number(await cell(doctypes, 'CRM Lead', 'today-failed').innerText());
    expect(leadsFailedToday).toBeGreaterThanOrEqual(3);
    expect(await last.innerText()).toMatch(new RegExp(`took \\d+(\\.\\d)? (ms|s) · \\d+ swept, ${leadsFailedToday} failed, \\d+ notified`));

    // The chart: 14 days, today's bar the leads failed now, the earlier days as recorded.
    const bars = siteCard.locator('[data-testid="sla-chart"] [data-testid="sla-bar"]');
    expect(await bars.count()).toBe(14);
    const failedPerBar = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-failed'))));
    expect(failedPerBar.at(-1)).toBe(leadsFailedToday);
    expect(failedPerBar.slice(-7, -1)).toEqual(earlier);
    await viewShot('sla', 'console-sla');
    expect(errors, consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('a lost live link shows "reconnecting", recovers, and what failed meanwhile is on the page', async () => {
    errors.length = 0;
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    net.cut();
    await page.locator('[data-testid="live-state"][data-state="reconnecting"]').waitFor();
    expect(await page.locator('[data-testid="live-state"]').innerText()).toBe('reconnecting…');
    // A dead letter while the page is cut off: not pushed, but read once the link is back.
    const id = 'console-browser-offline';
    await control(site.emu, '/faults', { rules: [{ site: SITE, match: 'GET /api/resource/CRM Lead/', mode: 'error', status: 500 }] });
    const lead = (await site.rep.insert('CRM Lead', { first_name: 'Offline' })).body.data.name;
    await sc.store.enqueue({ id, name: CONSOLE_HANDLER, site: SITE, data: { name: lead }, maxAttempts: 1 });
    await until(sc, async () => (await sc.store.get(id))?.state === 'failed', `${id} dead-lettered`);
    await control(site.emu, '/faults', undefined, 'DELETE');
    net.restore();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await page.locator(`[data-testid="job-row"][data-job="${id}"][data-state="failed"]`).waitFor();
    // Chromium logs the refused reconnects, and the session checks made while the network is cut
    // (a network error, net::ERR_…, never an HTTP status); nothing else may fail.
    expect(errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource: net::ERR_/.test(e)), consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('a session the sidecar no longer knows sends the page back to the sign-in form, not into endless reconnects', async () => {
    errors.length = 0;
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    // The session ends behind the page's back (as when the sidecar restarts: sessions live in its memory).
    const cookie = (await context.cookies()).find((c) => c.name === 'coc_console')!;
    const out = await fetch(`${sc.url}/console/api/logout`, { method: 'POST', headers: { Cookie: `coc_console=${cookie.value}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(out.status).toBe(200);
    net.cut();
    net.restore();
    await page.locator('[data-testid="session-ended"]').waitFor();
    await page.locator('[data-testid="signin"]').waitFor();
    expect(await page.locator('[data-testid="site-card"]').count()).toBe(0);
    // Chromium's log lines for the refused reconnect (401) and a request the cut broke (net::ERR_…); nothing else may fail.
    expect(errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource: net::ERR_/.test(e)), consoleLines.join('\n')).toEqual([]);
  }, 60_000);

  it('a user with neither role is refused: the message, no session, no data on the page', async () => {
    const other = await browser.newContext({ baseURL: sc.url!, viewport: { width: 1280, height: 700 } });
    try {
      const p = await other.newPage();
      const pageErrors: string[] = [];
      p.on('pageerror', (e) => pageErrors.push(e.message));
      await p.goto('/console/');
      const form = p.locator('[data-testid="signin"]');
      await form.locator('input[name="usr"]').fill('clerk@example.com');
      await form.locator('input[name="pwd"]').fill('pw');
      await form.locator('[data-testid="signin-submit"]').click();
      await form.locator('[data-testid="signin-error"]', { hasText: 'may not open the console' }).waitFor();
      expect(await p.locator('[data-testid="site-card"]').count()).toBe(0);
      expect(await p.locator('[data-testid="jobs"]').count()).toBe(0);
      expect(await other.cookies()).toEqual([]);
      expect(pageErrors).toEqual([]);
      await p.screenshot({ path: join(ARTIFACTS, 'console-refused.png'), fullPage: true });
    } finally {
      await other.close();
    }
  }, 60_000);
});
