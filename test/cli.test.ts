/**
 * The built CLI (dist/cli.js, as `npm test` builds it first): configuration errors, and the job
 * commands against a running sidecar.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';
import { PermanentError } from '../lib/errors.js';
import { parseManifest } from '../lib/manifest/load.js';
import { startSidecar, type Sidecar } from '../sidecar/runtime.js';
import { SITE, control } from './helpers/emulator.js';
import { localConfig } from './helpers/config.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let emu: RunningEmulator;
let sidecar: Sidecar;

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }], serveSite: SITE, defaultSite: SITE });
  const u = await control(emu, `/sites/${SITE}/users`, { email: 'cli@example.com', roles: ['Sales Manager'], generate_keys: true });
  sidecar = await startSidecar({
    config: localConfig({ name: SITE, url: emu.url, key: u.api_key, secret: u.api_secret }, { concurrency: 2 }),
    manifest: parseManifest({ app: 'crm_order_companion' }),
    handlers: {
      'test.fail': async () => {
        throw new PermanentError('always fails');
      },
    },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await sidecar.stop(1000);
  await emu.close();
});

describe('crm-order-companion CLI', () => {
  it('start with no configuration explains what to set, exit 2, no stack trace', async () => {
    const r = await cli(['start']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no site configured: set FRAPPE_URL, FRAPPE_API_KEY and FRAPPE_API_SECRET');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('every command answers --help with its own usage, and an unknown option with one line and exit 2', async () => {
    const commands: string[][] = [['start'], ['status'], ['jobs', 'list'], ['jobs', 'retry'], ['shops', 'backfill'], ['site', 'doctor'], ['site', 'install'], ['demo'], ['emulator'], ['manifest', 'check']];
    // Twenty CLI processes: started together rather than one after another, and given a budget
    // for that many process starts on a loaded machine.
    const answers = await Promise.all(commands.map(async (command) => ({ command, help: await cli([...command, '--help']), bad: await cli([...command, '--no-such-option']) })));
    for (const { command, help, bad } of answers) {
      expect(help, command.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain(`Usage: crm-order-companion ${command[0]}`);
      expect(help.stdout).toContain(`  ${command[0]} `);
      expect(bad.code, command.join(' ')).toBe(2);
      expect(bad.stderr.split('\n')[0]).toBe(`${command[0]}: Unknown option '--no-such-option'`);
      expect(bad.stderr).not.toMatch(/at .*\.js:\d+|ERR_PARSE_ARGS/);
    }
    expect(await cli(['help', 'site'])).toMatchObject({ code: 0, stdout: expect.stringContaining('site plan|install|uninstall|doctor') });
    const stray = await cli(['status', 'extra']);
    expect(stray.code).toBe(2);
    expect(stray.stderr.split('\n')[0]).toBe("status: Unexpected argument 'extra'");
  }, 60_000);

  it('jobs list / retry / purge and status talk to a running sidecar', async () => {
    const finished = new Promise<void>((resolve) => sidecar.events.once('job', () => resolve()));
    await sidecar.store.enqueue({ id: 'test.fail|cli', name: 'test.fail', site: SITE, data: {} });
    await finished;
    const list = await cli(['jobs', 'list', '--state', 'failed', '--url', sidecar.url!]);
    expect(list.code).toBe(0);
    // A permanent error dead-letters on the first of its 8 allowed attempts.
    expect(list.stdout).toMatch(/failed\s+1\/8\s+test\.fail\|cli/);
    expect(list.stdout).toContain('PermanentError: always fails');

    const again = new Promise<void>((resolve) => sidecar.events.once('job', () => resolve()));
    const retry = await cli(['jobs', 'retry', 'test.fail|cli', '--url', sidecar.url!]);
    expect(retry).toMatchObject({ code: 0, stdout: 'queued again: test.fail|cli\n' });
    await again;
    const missing = await cli(['jobs', 'retry', 'nope', '--url', sidecar.url!]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no job nope');

    const purge = await cli(['jobs', 'purge', '--state', 'failed', '--url', sidecar.url!]);
    expect(purge).toMatchObject({ code: 0, stdout: 'purged 1 failed job(s)\n' });

    // Ready once the site's probe event has arrived (lib/frappe/realtime/probe.ts).
    if (!sidecar.ready()) await new Promise((resolve) => sidecar.events.once('probe', resolve));
    const status = await cli(['status', '--url', sidecar.url!]);
    expect(status.stdout).toContain(SITE);
    expect(status.stdout).toMatch(/^ready\s+test\.localhost\s+rest: ok\s+realtime: connected\s+events: arriving\s+health: not run yet$/m);
    expect(status.code).toBe(0);
  });

  it('site plan / install / doctor run against a configured site', async () => {
    const u = await control(emu, `/sites/${SITE}/users`, { email: 'cli-admin@example.com', roles: ['System Manager'], generate_keys: true });
    const env = { FRAPPE_URL: emu.url, FRAPPE_SITE: SITE, FRAPPE_API_KEY: u.api_key, FRAPPE_API_SECRET: u.api_secret };
    const plan = await cli(['site', 'plan'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/create\s+Role "Order Companion"/);
    expect(plan.stdout).toMatch(/\d+ to create, 0 to update, 0 unchanged\./);
    const installed = await cli(['site', 'install'], env);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toMatch(/Installed into test\.localhost: \d+ change\(s\)\./);
    expect((await cli(['site', 'install'], env)).stdout).toContain('test.localhost is up to date: nothing to change.');
    const doctor = await cli(['site', 'doctor'], env);
    expect(doctor.stdout).toContain('realtime');
    expect(`${plan.stdout}${installed.stdout}${doctor.stdout}${doctor.stderr}`).not.toContain(u.api_secret);
  });

  it('site doctor / plan / install and the sidecar\'s health name a URL where no Frappe site answers, in one sentence', async () => {
    // Not Frappe: a web server that answers every request with its HTML 404 page.
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const env = { FRAPPE_URL: url, FRAPPE_API_KEY: 'some-key', FRAPPE_API_SECRET: 'some-secret-value' };
    const sentence = `no Frappe site answers at ${url} for site 127.0.0.1: `;
    try {
      for (const sub of ['plan', 'install']) {
        const r = await cli(['site', sub], env);
        expect(r.code, sub).toBe(1);
        expect(r.stderr.startsWith(sentence), r.stderr).toBe(true);
        expect(r.stderr).toContain('→ 404 with an HTML page ("404 Not Found")');
        expect(r.stderr).toContain('FRAPPE_SITE');
        expect(r.stderr).not.toMatch(/Custom DocPerm|at .*\.js:\d+/);
        expect(r.stdout).toBe('');
      }
      const doctor = await cli(['site', 'doctor'], env);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toContain(`✗ connect: ${sentence}`);
      expect(`${doctor.stdout}${doctor.stderr}`).not.toContain('some-secret-value');

      const foreign = await startSidecar({
        config: localConfig({ name: 'erp.example.com', url, key: 'some-key', secret: 'some-secret-value' }),
        manifest: parseManifest({ app: 'crm_order_companion' }),
        handlers: {},
        logger: pino({ level: 'silent' }),
      });
      try {
        const ready = (await (await fetch(`${foreign.url}/readyz`)).json()) as { sites: { rest: string }[] };
        expect(ready.sites[0]!.rest).toMatch(new RegExp(`no Frappe site answers at ${url.replace(/\./g, '\\.')} for site erp\\.example\\.com: GET /api/method/frappe\\.auth\\.get_logged_user → 404`));
        const status = await cli(['status', '--url', foreign.url!]);
        expect(status.stdout).toMatch(/NOT READY {2}erp\.example\.com {2}rest: .*no Frappe site answers at/);
      } finally {
        await foreign.stop(1000);
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('site plan from a package whose desk bundles are not built says to build, in one line', async () => {
    const { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    // The package as a checkout before `npm run build` left dist/desk/: the CLI, its records, no bundles.
    const root = join(import.meta.dirname, '..');
    const pkg = mkdtempSync(join(tmpdir(), 'coc-unbuilt-'));
    for (const f of ['package.json', 'hooks_manifest.json']) copyFileSync(join(root, f), join(pkg, f));
    for (const d of ['doctypes', 'node_modules']) symlinkSync(join(root, d), join(pkg, d));
    mkdirSync(join(pkg, 'dist'));
    copyFileSync(CLI, join(pkg, 'dist', 'cli.js'));
    const u = await control(emu, `/sites/${SITE}/users`, { email: 'cli-unbuilt@example.com', roles: ['System Manager'], generate_keys: true });
    const r = await run(process.execPath, [join(pkg, 'dist', 'cli.js'), 'site', 'plan'], {
      env: { PATH: process.env.PATH ?? '', FRAPPE_URL: emu.url, FRAPPE_SITE: SITE, FRAPPE_API_KEY: u.api_key, FRAPPE_API_SECRET: u.api_secret },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`desk bundle ${join(pkg, 'dist', 'desk', 'crm_lead.js')} is missing: run \`npm run build\` first\n`);
  });

  it('says so when no sidecar answers', async () => {
    const r = await cli(['jobs', 'list', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no sidecar answers at http://127.0.0.1:9');
  });
});

describe('demo (what npm start runs)', () => {
  it('starts the emulated site, installs the product, applies a Shopify order, prints where to look and a demo-only key, lets the CLI find its sidecar, and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync, mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    // A state file of its own, so a demo the developer runs meanwhile is neither found nor disturbed.
    const state = join(mkdtempSync(join(tmpdir(), 'coc-demo-state-')), 'demo.json');
    const child = spawn(process.execPath, [CLI, 'demo', '--port', '0'], { env: { PATH: process.env.PATH ?? '', COC_PORT: '0', COC_DEMO_STATE: state }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += String(d);
        if (out.includes('Press Ctrl+C to stop.')) resolve();
      });
      void exited.then((code) => reject(new Error(`demo exited (${code}) early: ${err}`)));
    });
    expect(out).toMatch(/Desk preview {2}http:\/\/127\.0\.0\.1:\d+\/app\/crm-lead\/CRM-LEAD-/);
    expect(out).toMatch(/order #1001 → Sales Order SAL-ORD-\d{4}-\d{5} \(submitted\)/);
    expect(out).toContain('sales@example.com / demo');
    expect(out).not.toMatch(/demo-secret-|demo-token-/);
    const login = out.match(/Sign in at {4}(http:\/\/127\.0\.0\.1:\d+)\/login/)![1]!;
    expect((await fetch(`${login}/login`)).status).toBe(200);

    // The sidecar's URL, and the sidecar user's key pair, said to be the demo's only.
    const sidecarUrl = out.match(/Sidecar {7}(http:\/\/127\.0\.0\.1:\d+) /)![1]!;
    expect((await fetch(`${sidecarUrl}/healthz`)).status).toBe(200);
    expect(out).toContain('API key and secret of the demo\'s sidecar user (demo-only:');
    const tryDoctor = out.match(/FRAPPE_URL=(\S+) FRAPPE_SITE=(\S+) FRAPPE_API_KEY=(\S+) FRAPPE_API_SECRET=(\S+) node dist\/cli\.js site doctor/)!;
    expect(tryDoctor[1]).toBe(login);
    const doctor = await cli(['site', 'doctor'], { FRAPPE_URL: tryDoctor[1]!, FRAPPE_SITE: tryDoctor[2]!, FRAPPE_API_KEY: tryDoctor[3]!, FRAPPE_API_SECRET: tryDoctor[4]! });
    expect(doctor.stdout).toContain(`✓ connect: REST answers at ${login} as sidecar@example.com`);

    // Without --url or COC_URL, status / jobs / shops talk to this demo's sidecar.
    const status = await cli(['status'], { COC_DEMO_STATE: state });
    expect(status.stdout).toMatch(/demo\.localhost {2}rest: ok/);
    const shops = await cli(['shops', 'list'], { COC_DEMO_STATE: state });
    expect(shops).toMatchObject({ code: 0, stdout: expect.stringContaining('demo-shopify  shopify demo-confections.myshopify.com → demo.localhost') });
    expect((await cli(['jobs', 'list'], { COC_DEMO_STATE: state })).stdout).toMatch(/^waiting \d+, active \d+, completed \d+/);
    // An explicit URL still wins.
    expect((await cli(['status', '--url', 'http://127.0.0.1:9'], { COC_DEMO_STATE: state })).stderr).toContain('no sidecar answers at http://127.0.0.1:9');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Gone with the demo; a file left by a demo that was killed outright is ignored too.
    expect(existsSync(state)).toBe(false);
    writeFileSync(state, JSON.stringify({ pid: child.pid, sidecarUrl }));
    const after = await cli(['status'], { COC_DEMO_STATE: state });
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('no sidecar answers at http://127.0.0.1:8090');
  }, 90_000);
});
