/**
 * `crm-order-companion history sync` end to end, through the built CLI (dist/cli.js) and a sidecar
 * started as `crm-order-companion start` in its own process: the command shows progress and the
 * summary; the sidecar SIGKILLed half-way (right after its first page's checkpoint) and started
 * again, the same command resumes the run — no table written twice, every matched lead synced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BULK_PAGE } from '../../sidecar/handlers/order_history/bulk.js';
import { SITE, control } from '../helpers/emulator.js';
import { installedSite, type InstalledSite } from '../helpers/sidecar.js';
import { seedBulkLeads, type BulkSeed } from '../fixtures/bulk_history_seed.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const children: ChildProcess[] = [];
let site: InstalledSite;
let seed: BulkSeed;

beforeAll(async () => {
  site = await installedSite('UTC', { seed: 'demo' });
  // The thousand leads: four pages, three of them still to do when the sidecar is killed.
  seed = seedBulkLeads(site.emu.site(SITE), 1000);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await site?.emu.close();
});

interface Proc {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first stdout line that `match` accepts (lines already seen included). */
  line(match: (line: string) => boolean, what: string): Promise<string>;
  exited: Promise<number | null>;
}

function launch(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((x) => x.match(l))) w.resolve(l);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (match: (l: string) => boolean, what: string) => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return Promise.race([
      new Promise<string>((resolve) => waiters.push({ match, resolve })),
      exited.then((code): never => {
        throw new Error(`${args[0]} exited (${code}) before ${what}: ${stderr}`);
      }),
    ]);
  };
  return { child, lines, line, exited };
}

const event = (name: string) => (l: string) => l.includes(`"event":"${name}"`);

/** `crm-order-companion start` on the emulated site; resolves with its HTTP URL once it listens. */
async function startSidecar(dataDir: string): Promise<{ proc: Proc; url: string }> {
  const proc = launch(['start'], {
    FRAPPE_URL: site.emu.url,
    FRAPPE_SITE: SITE,
    FRAPPE_API_KEY: site.companion.key,
    FRAPPE_API_SECRET: site.companion.secret,
    COC_DATA_DIR: dataDir,
    COC_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const listening = await proc.line((l) => l.includes('sidecar listening on'), 'listening');
  return { proc, url: (JSON.parse(listening) as { url: string }).url };
}

it('SIGKILL of the sidecar half-way, a restart, the same command again: the rest is synced, nothing twice', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'coc-bulk-resume-'));
  const first = await startSidecar(dataDir);
  // A real site's pace, so the run is still on its second page when the sidecar is killed.
  await control(site.emu, '/latency', { meanMs: 20, jitterMs: 0 });
  await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');

  const follow = launch(['history', 'sync', '--doctype', 'CRM Lead', '--url', first.url], {});
  expect(await follow.line((l) => l.startsWith('started bulk order history sync'), 'the start line')).toContain(`on ${SITE}`);
  await first.proc.line(event('order_history_bulk_page'), 'the first page');
  first.proc.child.kill('SIGKILL');
  await first.proc.exited;
  // The command loses its sidecar and says so, without a stack.
  expect(await follow.exited).not.toBe(0);

  const second = await startSidecar(dataDir);
  const again = launch(['history', 'sync', '--doctype', 'CRM Lead', '--url', second.url], {});
  expect(await again.line((l) => l.startsWith('resuming bulk order history sync'), 'the resume line')).toContain(`on ${SITE}`);
  // The restarted sidecar went on from the checkpoint: its first page is the second one.
  const resumedAt = JSON.parse(await second.proc.line(event('order_history_bulk_page'), 'a page after the restart')) as { done: number };
  expect(resumedAt.done).toBe(2 * BULK_PAGE);
  expect(await again.exited).toBe(0);
  await control(site.emu, '/latency', undefined, 'DELETE');
  second.proc.child.kill('SIGTERM');
  await second.proc.exited;

  const out = again.lines.join('\n');
  const total = seed.all.length + 4; // and the demo's four leads
  expect(out).toContain(`finished: ${total} of ${total} on ${SITE}`);
  // Plain progress lines (not a terminal): done/total, share, counts.
  expect(again.lines.some((l) => new RegExp(`^${total}/${total} \\(100%\\)`).test(l))).toBe(true);
  expect(out).toMatch(new RegExp(`ambiguous +2\\n +CRM Lead ${seed.ambiguous[0]}: `));
  expect(out).toMatch(new RegExp(`no customer +${seed.none.length + 1}\\n`));

  const counts: Record<string, number> = await control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
  const writes = new Map(seed.all.map((name) => [name, counts[`PUT /api/resource/CRM Lead/${name}`] ?? 0]));
  const matched = [...seed.linked, ...seed.deal, ...seed.contact, ...seed.byName];
  for (const name of matched) expect(writes.get(name), name).toBe(1);
  for (const name of [...seed.none, ...seed.ambiguous]) expect(writes.get(name), name).toBe(0);
}, 90_000); // two sidecar processes and a thousand leads at 20 ms a call: about 20 s here
