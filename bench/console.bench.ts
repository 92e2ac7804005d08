/**
 * The ops console (issue 14), two figures, each with a baseline measured in the same run:
 *
 * 1. Bundle size of dist/console/ as build.mjs makes it: console.js and console.css, raw and gzip
 *    (level 9). Baseline: the same build without frappe-ui's "sideEffects": false applied to the
 *    .vue files the Vue plugin resolves (scripts/build/console.mjs says why it must be), into a
 *    temporary directory — every frappe-ui component then stays in the bundle.
 * 2. First render of the Jobs list over 1,000 failed jobs in Debian's chromium: a sidecar on an
 *    installed emulated site whose job store holds 1,000 dead letters, the page opened signed in
 *    (the session cookie set on the context), timed inside the page from navigation start
 *    (`performance.now()` is 0 there) to a MutationObserver seeing the first page's last job row
 *    (the API answers 50 a page; *Load more* brings the rest). Baseline: the same page over an empty
 *    list (to the "No failed jobs" row) — the shell, the sign-in check and the first API reads.
 *    Five runs each, alternating (the jobs are purged and enqueued again between modes); medians.
 *
 * Everything on 127.0.0.1; one emulator, one sidecar, one chromium, all closed at the end.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SITE } from '../test/helpers/emulator.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { installedSite, until } from '../test/helpers/sidecar.js';
import { CONSOLE_HANDLER, consoleLogin, person, startConsoleSidecar } from '../test/helpers/console.js';
import { median, writeResult } from './lib.js';

const ROOT = join(import.meta.dirname, '..');
const JOBS = 1000;
/** Rows of the Jobs list's first page (sidecar/console/api.ts PAGE_DEFAULT). */
const PAGE = 50;
const RUNS = 5;

type BuildConsole = (opts?: { outDir?: string; honourSideEffects?: boolean }) => Promise<{ sizes: Record<string, { bytes: number; gzip: number }> }>;

const gzip9 = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;

export async function run(): Promise<void> {
  const metrics: Record<string, number> = {};
  const baseline: Record<string, number> = {};

  // ---- 1. bundle sizes ---------------------------------------------------------------------
  for (const f of ['console.js', 'console.css']) {
    const file = join(ROOT, 'dist', 'console', f);
    const key = f.replace('.', '_');
    metrics[`${key}_bytes`] = readFileSync(file).length;
    metrics[`${key}_gzip_bytes`] = gzip9(file);
  }
  const { buildConsole } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build', 'console.mjs')).href)) as { buildConsole: BuildConsole };
  const tmp = mkdtempSync(join(tmpdir(), 'coc-console-bench-'));
  try {
    await buildConsole({ outDir: tmp, honourSideEffects: false });
    baseline.console_js_all_components_bytes = readFileSync(join(tmp, 'console.js')).length;
    baseline.console_js_all_components_gzip_bytes = gzip9(join(tmp, 'console.js'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  metrics.console_js_vs_all_components_gzip_ratio = metrics.console_js_gzip_bytes / baseline.console_js_all_components_gzip_bytes;

  // ---- 2. first render of the Jobs list over 1,000 failed jobs -------------------------------
  const site = await installedSite('UTC');
  await person(site, 'manager@example.com', ['System Manager']);
  const { sc } = await startConsoleSidecar(site);
  const browser = await launchBrowser();
  try {
    const { cookie } = await consoleLogin(sc.url!, 'manager@example.com', 'pw');
    const [name, value] = cookie!.split('=');
    const context = await browser.newContext({ baseURL: sc.url!, viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: name!, value: value!, domain: '127.0.0.1', path: '/console', httpOnly: true, sameSite: 'Strict' }]);
    // Records when the page first shows `want` job rows (or, for 0, the empty-list row).
    await context.addInitScript({
      content: `window.__want = Number(sessionStorage.getItem('want') || 0);
new MutationObserver((_, obs) => {
  const n = document.querySelectorAll('[data-testid="job-row"]').length;
  const done = window.__want ? n >= window.__want : !!document.querySelector('[data-testid="job-list-empty"]');
  if (done && window.__renderedAt === undefined) { window.__renderedAt = performance.now(); obs.disconnect(); }
}).observe(document, { childList: true, subtree: true });`,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);

    const fill = async (n: number) => {
      await sc.store.purge('failed');
      // A lead that does not exist: each job's GET answers 404, a permanent failure at the first attempt.
      for (let i = 0; i < n; i++) await sc.store.enqueue({ id: `bench-${n}-${i}-${Date.now()}`, name: CONSOLE_HANDLER, site: SITE, data: { name: `CRM-LEAD-MISSING-${i}` }, maxAttempts: 1 });
      await until(sc, async () => (await sc.store.counts()).failed === n && (await sc.store.counts()).waiting === 0 && (await sc.store.counts()).active === 0, `${n} dead letters`, 120_000);
    };
    const renderOnce = async (want: number): Promise<number> => {
      await page.goto('/console/');
      await page.evaluate((w) => sessionStorage.setItem('want', String(w)), want);
      await page.reload();
      await page.waitForFunction(() => (window as unknown as { __renderedAt?: number }).__renderedAt !== undefined);
      return page.evaluate(() => (window as unknown as { __renderedAt: number }).__renderedAt);
    };

    const full: number[] = [];
    const empty: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      await fill(JOBS);
      full.push(await renderOnce(PAGE));
      await fill(0);
      empty.push(await renderOnce(0));
    }
    metrics.render_first_page_of_1000_failed_jobs_ms = median(full);
    metrics.render_first_page_of_1000_failed_jobs_max_ms = Math.max(...full);
    baseline.render_empty_list_ms = median(empty);
    metrics.render_first_page_vs_empty_ratio = metrics.render_first_page_of_1000_failed_jobs_ms / baseline.render_empty_list_ms;
    metrics.render_runs = RUNS;
    await context.close();
  } finally {
    await browser.close();
    await sc.stop();
    await site.emu.close();
  }
  writeResult('console', metrics, baseline);
}
