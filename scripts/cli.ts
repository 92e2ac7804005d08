#!/usr/bin/env node
/**
 * `crm-order-companion` — the command line: run the sidecar, ask a running one about its sites
 * and jobs, run the demo (emulated site + sidecar), run a bare emulator, check the manifest.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/server.js';
import { ConfigError, loadConfig } from '../lib/config/load.js';
import { builtinHandlers } from '../sidecar/handlers/index.js';
import { CompanionError } from '../lib/errors.js';
import { JobStoreLockedError } from '../sidecar/jobs/index.js';
import { createLogger, redactSecrets } from '../lib/log.js';
import { loadManifest, ManifestError } from '../lib/manifest/load.js';
import { startSidecar, type Sidecar } from '../sidecar/runtime.js';
import { runDemo, runningDemoSidecar } from './demo.js';
import { site as siteCommand, SiteCommandError } from './site/command.js';
import { ProgressClock, progressLine, summary, type RunProgress } from './history_progress.js';

/**
 * Each command's help, printed by `<command> --help` (anywhere after the command) and by
 * `help <command>`; the general usage is these blocks in order.
 */
const HELP: Record<string, string> = {
  start: `  start                         Run the sidecar (configuration from the environment or COC_CONFIG).
`,
  status: `  status [--url URL]            Readiness of a running sidecar, per site, and its last daily health check.
`,
  jobs: `  jobs list [--state S] [--limit N] [--url URL]
  jobs retry ID [--url URL]     Send a dead-lettered job back to the queue.
  jobs purge --state completed|failed [--url URL]
`,
  shops: `  shops list [--url URL]        Configured shops: watermark, failed and needs-mapping deliveries, inbox depth.
  shops replay DELIVERY [--url URL]
                                Apply a stored delivery (or reconciled order) again.
  shops backfill --shop ID --since DATE [--url URL]
                                Re-read a shop's orders updated since DATE (ISO-8601) and apply what is new.
`,
  history: `  history sync [--doctype "CRM Lead"|"HD Ticket"] [--since DATE] [--only-empty] [--dry-run] [--site NAME] [--url URL]
                                Rebuild the order history of every matched lead and ticket in a running sidecar,
                                with progress; run it again to resume or follow an unfinished run.
`,
  site: `  site plan|install|uninstall|doctor|export|import [--site NAME] [options]
                                Install into a Frappe site over REST (see README "Install into your site").
                                uninstall [--drop-data]; export --file F; import --file F [--dry-run]
`,
  demo: `  demo [--port 8000] [--host H] Start the demo: an emulated Frappe site with sample data and the sidecar.
`,
  emulator: `  emulator [--port 8000] [--host H] [--site NAME[:TIME_ZONE]]... [--seed demo] [--serve-site]
                                Start the Frappe v15 emulator (for tests and development).
`,
  manifest: `  manifest check [PATH]         Validate hooks_manifest.json (default: ./hooks_manifest.json).
`,
};

/** Where status, jobs and shops look for the sidecar when --url is not given. */
const URL_NOTE = `
--url defaults to COC_URL, else http://127.0.0.1:$COC_PORT, else the sidecar of a demo running on
this machine (as this user), else http://127.0.0.1:8090.
`;

const USAGE = `Usage: crm-order-companion <command> [options]

Commands:
${Object.values(HELP).join('')}  help [COMMAND]                Show this help, or one command's.
${URL_NOTE}`;

function commandHelp(command: string): string {
  return `Usage: crm-order-companion ${command} [options]\n\n${HELP[command]}${['status', 'jobs', 'shops', 'history'].includes(command) ? URL_NOTE : ''}`;
}

/** `parseArgs` refusals (unknown option, missing value, stray argument) are the user's typing, not a crash. */
function isArgsError(err: unknown): err is Error {
  return typeof (err as { code?: unknown } | null)?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && Object.hasOwn(HELP, command) && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    return await run(command, rest);
  } catch (err) {
    if (command !== undefined && isArgsError(err)) throw new UsageError(`${command}: ${err.message.split('. ')[0]}\n\n${commandHelp(command)}`);
    throw err;
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case 'start':
      parseArgs({ args: rest, options: {} });
      return start();
    case 'status':
      return status(rest);
    case 'jobs':
      return jobs(rest);
    case 'shops':
      return shops(rest);
    case 'history':
      return history(rest);
    case 'site':
      return siteCommand(rest);
    case 'demo':
      return demo(rest);
    case 'emulator':
      return emulator(rest);
    case 'manifest':
      return manifest(rest);
    case 'help':
      if (rest[0] !== undefined && Object.hasOwn(HELP, rest[0])) {
        process.stdout.write(commandHelp(rest[0]));
        return 0;
      }
      if (rest[0] === undefined) {
        process.stdout.write(USAGE);
        return 0;
      }
      process.stderr.write(`Unknown command "${rest[0]}".\n\n${USAGE}`);
      return 2;
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

function portOf(value: string | undefined, dflt: number): number {
  const port = value === undefined ? dflt : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, got "${value}"`);
  return port;
}

class UsageError extends Error {}

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' } } });
  await runDemo(
    {
      port: portOf(values.port ?? process.env.PORT, 8000),
      host: values.host ?? '127.0.0.1',
      sidecarPort: portOf(process.env.COC_PORT, 0),
      timeZone: process.env.DEMO_TIME_ZONE,
      logLevel: process.env.LOG_LEVEL ?? 'warn',
    },
    waitForSignal(),
  );
  return 0;
}

async function start(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const manifest = loadManifest(resolve(process.env.COC_MANIFEST ?? 'hooks_manifest.json'));
  // Listen first: a SIGTERM during start-up must still shut down cleanly.
  const signal = waitForSignal();
  const sidecar: Sidecar = await startSidecar({ config, manifest, handlers: builtinHandlers, logger });
  await signal;
  logger.info('shutting down: no new work; running jobs get 10 s to finish');
  await sidecar.stop(10_000);
  return 0;
}

/** --url, else COC_URL, else COC_PORT on this host, else a running demo's sidecar, else 127.0.0.1:8090. */
function sidecarUrl(value: string | undefined): string {
  const url = value ?? process.env.COC_URL ?? (process.env.COC_PORT ? `http://127.0.0.1:${process.env.COC_PORT}` : (runningDemoSidecar() ?? 'http://127.0.0.1:8090'));
  return url.replace(/\/+$/, '');
}

/** The admin token the sidecar was given: COC_ADMIN_TOKEN, or the variable COC_CONFIG's `adminTokenEnv` names. */
function adminToken(): string | undefined {
  if (process.env.COC_ADMIN_TOKEN) return process.env.COC_ADMIN_TOKEN;
  if (!process.env.COC_CONFIG) return undefined;
  try {
    const name = (JSON.parse(readFileSync(resolve(process.env.COC_CONFIG), 'utf8')) as { adminTokenEnv?: string }).adminTokenEnv;
    return name ? process.env[name] : undefined;
  } catch {
    return undefined;
  }
}

async function api(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(init.headers as Record<string, string> | undefined) };
  const token = adminToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: globalThis.Response;
  try {
    res = await fetch(`${url}${path}`, { ...init, headers });
  } catch {
    throw new UsageError(`no sidecar answers at ${url} (is it running? pass --url or set COC_URL)`);
  }
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

/** How often `history sync` asks the sidecar how far the run is. */
const FOLLOW_EVERY_MS = 500;

async function history(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'sync') throw new UsageError('usage: history sync [--doctype "CRM Lead"|"HD Ticket"] [--since DATE] [--only-empty] [--dry-run] [--site NAME]');
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      site: { type: 'string' },
      doctype: { type: 'string' },
      since: { type: 'string' },
      'only-empty': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
  });
  const url = sidecarUrl(values.url);
  const { status: code, body } = await api(url, '/admin/history/sync', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ site: values.site, doctype: values.doctype, since: values.since, onlyEmpty: values['only-empty'] || undefined, dryRun: values['dry-run'] || undefined }),
  });
  if (code !== 200 && code !== 202) throw new UsageError(body.error ?? `sidecar answered ${code}`);
  const tty = Boolean(process.stdout.isTTY);
  process.stdout.write(`${body.resumed ? 'resuming' : 'started'} bulk order history sync ${body.run} on ${body.site}\n`);
  const detach = () => {
    process.stdout.write(`${tty ? '\n' : ''}stopped following; the sync goes on in the sidecar (run the same command again to follow it)\n`);
    process.exit(130);
  };
  process.once('SIGINT', detach);
  const clock = new ProgressClock();
  let lastDone = -1;
  for (;;) {
    const { status: got, body: now } = await api(url, `/admin/history/sync/${encodeURIComponent(body.site)}/${encodeURIComponent(body.run)}`);
    if (got !== 200) throw new UsageError(now.error ?? `sidecar answered ${got}`);
    const p = now.progress as RunProgress | null;
    if (p) {
      const speed = clock.observe(p);
      if (tty) process.stdout.write(`\r${progressLine(p, speed, true)}\x1b[K`);
      else if (p.done !== lastDone) process.stdout.write(`${progressLine(p, speed, false)}\n`);
      lastDone = p.done;
      if (p.state !== 'running') {
        process.off('SIGINT', detach);
        process.stdout.write(`${tty ? '\n' : ''}${summary(p)}`);
        return p.state === 'done' && p.failedCount === 0 ? 0 : 1;
      }
    }
    // A run the sidecar gave up on (dead-lettered) without a final checkpoint still ends here.
    if (now.job?.state === 'failed' && p?.state === 'running') {
      process.stdout.write(`${tty ? '\n' : ''}the sync job failed: ${now.job.lastError ?? 'unknown error'}; run the same command again to resume it\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
  }
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' } } });
  const { body } = await api(sidecarUrl(values.url), '/readyz');
  for (const s of body.sites ?? []) {
    process.stdout.write(`${s.ready ? 'ready    ' : 'NOT READY'}  ${s.site}  rest: ${s.rest}  realtime: ${s.realtime}${s.events ? `  events: ${s.events}` : ''}${s.health ? `  health: ${s.health}` : ''}\n`);
    for (const f of s.findings ?? []) process.stdout.write(`           health: ${f}\n`);
  }
  return body.ready ? 0 : 1;
}

async function jobs(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { url: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } } });
  const url = sidecarUrl(values.url);
  if (sub === 'list') {
    const q = new URLSearchParams();
    if (values.state) q.set('state', values.state);
    if (values.limit) q.set('limit', values.limit);
    const { status: code, body } = await api(url, `/admin/jobs?${q}`);
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`waiting ${body.counts.waiting}, active ${body.counts.active}, completed ${body.counts.completed}, failed ${body.counts.failed}\n`);
    for (const j of body.jobs) process.stdout.write(`${j.state.padEnd(9)} ${j.attempts}/${j.maxAttempts}  ${j.id}${j.lastError ? `\n          ${j.lastError}` : ''}\n`);
    return 0;
  }
  if (sub === 'retry') {
    const id = positionals[0];
    if (!id) throw new UsageError('usage: jobs retry ID');
    const { status: code, body } = await api(url, `/admin/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST' });
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`queued again: ${id}\n`);
    return 0;
  }
  if (sub === 'purge') {
    if (values.state !== 'completed' && values.state !== 'failed') throw new UsageError('usage: jobs purge --state completed|failed');
    const { status: code, body } = await api(url, `/admin/jobs?state=${values.state}`, { method: 'DELETE' });
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`purged ${body.purged} ${values.state} job(s)\n`);
    return 0;
  }
  throw new UsageError('usage: jobs list|retry|purge');
}

async function shops(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { url: { type: 'string' }, shop: { type: 'string' }, since: { type: 'string' } } });
  const url = sidecarUrl(values.url);
  if (sub === 'list') {
    const { status: code, body } = await api(url, '/admin/shops');
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`inbox: ${body.inbox} delivery/order job(s) waiting or running\n`);
    if (!body.shops.length) process.stdout.write('no shops configured (add "shops" to the COC_CONFIG file; see README "Shop order sync")\n');
    for (const s of body.shops) {
      process.stdout.write(`${s.id}  ${s.platform} ${s.shop} → ${s.site}  reconciled to ${s.watermark ?? 'never'}${s.reconcile ? '' : ' (reconciliation off)'}  failed ${s.failed}, needs mapping ${s.needsMapping.length}\n`);
      for (const n of s.needsMapping) process.stdout.write(`    ${n.id}\n      ${n.error}\n`);
    }
    return 0;
  }
  if (sub === 'replay') {
    const id = positionals[0];
    if (!id) throw new UsageError('usage: shops replay DELIVERY (a job id from `shops list` or `jobs list`)');
    const { status: code, body } = await api(url, `/admin/shops/replay/${encodeURIComponent(id)}`, { method: 'POST' });
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`replaying ${id} as ${body.job}\n`);
    return 0;
  }
  if (sub === 'backfill') {
    if (!values.shop || !values.since) throw new UsageError('usage: shops backfill --shop ID --since 2026-11-01[T00:00:00Z]');
    const { status: code, body } = await api(url, `/admin/shops/${encodeURIComponent(values.shop)}/backfill`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ since: values.since }),
    });
    if (code !== 200) throw new UsageError(body.error ?? `sidecar answered ${code}`);
    process.stdout.write(`backfill of ${body.shop} since ${body.since} queued as ${body.job}\n`);
    return 0;
  }
  throw new UsageError('usage: shops list|replay|backfill');
}

async function emulator(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      site: { type: 'string', multiple: true },
      seed: { type: 'string' },
      'serve-site': { type: 'boolean' },
    },
  });
  if (values.seed && values.seed !== 'demo') throw new UsageError('--seed takes "demo"');
  const specs = (values.site?.length ? values.site : ['site1.localhost']).map((s) => {
    const [name, timeZone] = s.split(':');
    return { name, timeZone, seed: values.seed as 'demo' | undefined };
  });
  const emu = await startEmulator({
    port: portOf(values.port ?? process.env.PORT, 8000),
    host: values.host ?? '127.0.0.1',
    sites: specs,
    serveSite: values['serve-site'] ? specs[0].name : undefined,
    defaultSite: specs[0].name,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`Frappe emulator listening on ${emu.url} with site(s) ${specs.map((s) => s.name).join(', ')}\n`);
  await waitForSignal();
  await emu.close();
  return 0;
}

function manifest(args: string[]): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [sub, path] = positionals;
  if (sub !== 'check' || positionals.length > 2) throw new UsageError('usage: manifest check [PATH]');
  const file = resolve(path ?? 'hooks_manifest.json');
  const m = loadManifest(file);
  process.stdout.write(`${file} is valid: ${m.desk.length} desk bundle(s), ${Object.keys(m.realtime).length} realtime DocType(s), ${Object.keys(m.scheduler.cron).length} cron schedule(s), ${m.webhooks.length} webhook route(s).\n`);
  return 0;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ManifestError || err instanceof ConfigError || err instanceof SiteCommandError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      process.stderr.write(`Port in use: ${e.message}. Choose another with --port / PORT (demo, emulator) or COC_PORT (start).\n`);
      process.exit(1);
    }
    // Failures with a sentence for the user (a site that refused or could not be reached, a locked
    // job store, a missing file): the sentence, not a stack trace.
    if (err instanceof CompanionError || err instanceof JobStoreLockedError || ['ENOENT', 'EACCES'].includes(e?.code ?? '')) {
      process.stderr.write(`${redactSecrets(e.message)}\n`);
      process.exit(1);
    }
    process.stderr.write(`${redactSecrets(e?.stack ?? String(err))}\n`);
    process.exit(1);
  },
);
