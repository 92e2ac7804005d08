/**
 * Browser helpers for desk tests: Debian's chromium through playwright-core (never a downloaded
 * browser), a fresh context per test with the user's `sid` cookie, a form opened at
 * `/app/<doctype-slug>/<name>` and awaited until the desk preview has rendered it, console
 * errors collected, screenshots in test-artifacts/. Only 127.0.0.1 is ever contacted.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { DESK_RUNTIME_PATH } from '../../emulator/http/desk.js';
import { control, login, SITE } from './emulator.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(DESK_RUNTIME_PATH)) throw new Error(`${DESK_RUNTIME_PATH} is missing: run \`node build.mjs\` first`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** `/app/<slug>/<name>` as frappe.router builds it (router.js `slug`: lower case, spaces → dashes). */
export function formPath(doctype: string, name: string | number): string {
  return `/app/${encodeURIComponent(doctype.toLowerCase().replace(/ /g, '-'))}/${encodeURIComponent(String(name))}`;
}

export interface DeskSession {
  context: BrowserContext;
  page: Page;
  /** Console messages of type "error" and uncaught page errors, in order. */
  errors: string[];
  /** Every console message, for diagnostics. */
  console: string[];
  user: string;
  sid: string;
  /** Open a form and wait until it has rendered (body[data-form-ready]). */
  openForm(doctype: string, name: string | number): Promise<void>;
  /** Wait until the form has completed `count` renders in total (refresh, reload, save each add one). */
  waitForRenders(count: number, timeout?: number): Promise<void>;
  renders(): Promise<number>;
  /** Wait until the browser's socket is connected (`frappe.realtime.socket.connected`). */
  waitForSocket(timeout?: number): Promise<void>;
  /** Wait until the emulator's realtime server shows this user's socket in `room`, permission callbacks settled. */
  waitForRoom(room: string, timeout?: number): Promise<void>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A browser context signed in as `user` (password login against the emulator, then the `sid`
 * cookie set for the emulator's host) with one page.
 */
export async function deskSession(browser: Browser, emu: { url: string }, user: string, password: string, site = SITE): Promise<DeskSession> {
  const sid = await login(emu, user, password, site);
  const url = new URL(emu.url);
  const context = await browser.newContext({ baseURL: emu.url, viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: 'sid', value: sid, domain: url.hostname, path: '/', httpOnly: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  // Actions and waits fail with a location instead of running into the test's timeout.
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    consoleLines.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

  const renders = () => page.evaluate(() => Number(document.body.dataset.formRenderCount ?? 0));
  const session: DeskSession = {
    context,
    page,
    errors,
    console: consoleLines,
    user,
    sid,
    async openForm(doctype, name) {
      const res = await page.goto(formPath(doctype, name));
      if (!res || res.status() !== 200) throw new Error(`GET ${formPath(doctype, name)} → ${res?.status()}`);
      await page.waitForFunction(() => document.body.dataset.formReady === 'true' || document.body.dataset.formReady === 'error', undefined, { timeout: 15_000 });
      const state = await page.evaluate(() => document.body.dataset.formReady);
      if (state !== 'true') throw new Error(`form did not render: ${await page.locator('#body').innerText()}`);
    },
    async waitForRenders(count, timeout = 15_000) {
      await page.waitForFunction((n) => Number(document.body.dataset.formRenderCount ?? 0) >= n, count, { timeout });
    },
    renders,
    async waitForSocket(timeout = 15_000) {
      await page.waitForFunction(() => Boolean((window as any).frappe?.realtime?.socket?.connected), undefined, { timeout });
    },
    async waitForRoom(room, timeout = 15_000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const views: { user: string; rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${encodeURIComponent(site)}`, undefined, 'GET');
        if (views.some((v) => v.user === user && v.rooms.includes(room) && v.pending === 0)) return;
        if (Date.now() > deadline) throw new Error(`no socket of ${user} joined ${room}: ${JSON.stringify(views)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name.replace(/[^a-z0-9_.-]+/gi, '_')}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
    },
  };
  return session;
}
