/**
 * Killing the sidecar with SIGKILL mid-job and starting it again completes the job exactly once
 * (embedded store: a job left active by a dead process runs again on the next start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { SITE, client, control } from '../helpers/emulator.js';

let emu: RunningEmulator;
const children: ChildProcess[] = [];

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await emu.close();
});

/** Start the fixture and resolve with a function that waits for a given stdout line. */
function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/sidecar_process.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  const waiters: { word: string; resolve: () => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.filter((w) => w.word === line)) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const wait = (word: string) =>
    lines.includes(word)
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push({ word, resolve })),
          exited.then((code) => {
            throw new Error(`sidecar exited (${code}) before "${word}": ${stderr}`);
          }),
        ]);
  return { child, wait, exited };
}

it('SIGKILL mid-job, restart: the job completes exactly once', async () => {
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'crash@example.com', roles: ['Sales Manager'], generate_keys: true });
  const env = {
    FRAPPE_URL: emu.url,
    FRAPPE_SITE: SITE,
    FRAPPE_API_KEY: u.api_key,
    FRAPPE_API_SECRET: u.api_secret,
    COC_DATA_DIR: mkdtempSync(join(tmpdir(), 'coc-crash-data-')),
    FIXTURE_DIR: mkdtempSync(join(tmpdir(), 'coc-crash-fixture-')),
  };
  const first = launch(env);
  await first.wait('ready');
  // Wait until the emulator has joined the sidecar to the room, so the insert is heard live.
  for (;;) {
    const views: { rooms: string[]; pending: number }[] = await control(emu, `/realtime/sockets?site=${SITE}`, undefined, 'GET');
    if (views.some((v) => v.pending === 0 && v.rooms.includes('doctype:CRM Lead'))) break;
    await new Promise((r) => setImmediate(r));
  }
  const lead = await client(emu, { site: SITE, token: { key: u.api_key, secret: u.api_secret } }).insert('CRM Lead', { first_name: 'Crash' });
  expect(lead.status).toBe(200);
  await first.wait('started');
  first.child.kill('SIGKILL');
  await first.exited;

  const second = launch(env);
  await second.wait('completed');
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  const completions = readFileSync(join(env.FIXTURE_DIR, 'completions'), 'utf8').trim().split('\n');
  expect(completions).toHaveLength(1);
  expect(completions[0]).toContain(lead.body.data.name);
}, 60_000);
