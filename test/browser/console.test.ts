/**
 * The ops console in Debian's chromium (playwright-core), served by a sidecar on an installed
 * emulated site: a wrong password shows Frappe's message, a System Manager signs in and sees the
 * site card, a job failed by an injected REST fault appears in the Jobs table without a reload, and
 * Retry completes it. No console errors on the way. A screenshot of each view goes to
 * test-artifacts/ and to docs/ (README's "Ops console").
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control } from '../helpers/emulator.js';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.js';
import { installedSite, type InstalledSite } from '../helpers/sidecar.js';
import { CONSOLE_HANDLER, person, startConsoleSidecar } from '../helpers/console.js';

const DOCS = join(import.meta.dirname, '..', '..', 'docs');

let site: InstalledSite;
let sc: Sidecar;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
const consoleLines: string[] = [];

async function screenshot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  copyFileSync(path, join(DOCS, `${name}.png`));
}

beforeAll(async () => {
  site = await installedSite('Europe/Berlin');
  await person(site, 'manager@example.com', ['System Manager']);
  ({ sc } = await startConsoleSidecar(site));
  browser = await launchBrowser();
  context = await browser.newContext({ baseURL: sc.url!, viewport: { width: 1280, height: 900 } });
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
  await sc?.stop();
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
    await expect.poll(() => form.locator('[data-testid="signin-error"]').innerText()).toContain('Invalid login credentials');
    await screenshot('console-signin');

    await form.locator('input[name="pwd"]').fill('pw');
    await form.locator('[data-testid="signin-submit"]').click();
    const card = page.locator(`[data-testid="site-card"][data-site="${SITE}"]`);
    await card.waitFor();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    await card.locator('[data-testid="site-realtime"][data-state="connected"]').waitFor();
    expect(await card.innerText()).toContain('Europe/Berlin');
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
    await screenshot('console-retried');

    // Chromium logs every 4xx answer to fetch as an error line: the wrong password's 401 is the one expected.
    expect(errors, consoleLines.join('\n')).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  }, 60_000);
});
