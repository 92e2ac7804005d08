/**
 * The ops console served under the site's own host name, in Debian's chromium (playwright-core):
 * a person already signed in to the site's desk (its `sid` cookie in the browser) clicks
 * *Continue as your … user* and is in, without typing a password; a user without the role sees the
 * refusal under the button. Chromium resolves every `*.localhost` name to the loopback address,
 * so `http://test.localhost:<port>` reaches the sidecar on 127.0.0.1 with the site's name as Host.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, login } from '../helpers/emulator.js';
import { launchBrowser } from '../helpers/browser.js';
import { installedSite, type InstalledSite } from '../helpers/sidecar.js';
import { person, startConsoleSidecar } from '../helpers/console.js';

let site: InstalledSite;
let sc: Sidecar;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  site = await installedSite('UTC');
  await person(site, 'manager@example.com', ['System Manager']);
  await person(site, 'clerk@example.com', ['Sales User']);
  ({ sc } = await startConsoleSidecar(site));
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await sc?.stop();
  await site?.emu.close();
});

/** A page on the console under the site's host name, with the desk's sid cookie of `user`. */
async function consoleAs(user: string) {
  const base = `http://${SITE}:${new URL(sc.url!).port}`;
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await context.addCookies([{ name: 'sid', value: await login(site.emu, user, 'pw'), domain: SITE, path: '/', httpOnly: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto('/console/');
  return { page, errors };
}

describe('ops console with the Frappe session', () => {
  it('a System Manager signed in to the desk continues without a password', async () => {
    const { page, errors } = await consoleAs('manager@example.com');
    const button = page.locator('[data-testid="signin-session"]');
    expect(await button.innerText()).toBe(`Continue as your ${SITE} user`);
    await button.click();
    await page.locator(`[data-testid="site-card"][data-site="${SITE}"]`).waitFor();
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor();
    expect(errors).toEqual([]);
  }, 60_000);

  it('a user without the role is told why, and the password form stays', async () => {
    const { page, errors } = await consoleAs('clerk@example.com');
    await page.locator('[data-testid="signin-session"]').click();
    await page.locator('[data-testid="signin-session-error"]', { hasText: 'clerk@example.com may not open the console' }).waitFor();
    expect(await page.locator('[data-testid="signin-submit"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="site-card"]').count()).toBe(0);
    // Chromium logs the refused fetch's 403 as an error line: the one expected.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  }, 60_000);
});
