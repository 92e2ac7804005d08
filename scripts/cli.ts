#!/usr/bin/env node
/**
 * `crm-order-companion` — the command line. For now: run the demo (the emulated site with
 * sample data; the sidecar and desk preview join it in later releases), run a bare emulator,
 * and check the hooks manifest.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/server.js';
import { loadManifest, ManifestError } from '../sidecar/manifest/load.js';
import { DEMO_PASSWORD } from '../emulator/seed/demo.js';

const USAGE = `Usage: crm-order-companion <command> [options]

Commands:
  demo [--port 8000]            Start the demo: an emulated Frappe site with sample data.
  emulator [--port 8000] [--site NAME[:TIME_ZONE]]... [--seed demo] [--serve-site]
                                Start the Frappe v15 emulator (for tests and development).
  manifest check [PATH]         Validate hooks_manifest.json (default: ./hooks_manifest.json).
  help                          Show this help.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return demo(rest);
    case 'emulator':
      return emulator(rest);
    case 'manifest':
      return manifest(rest);
    case undefined:
    case 'help':
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
  const site = 'demo.localhost';
  const emu = await startEmulator({
    port: portOf(values.port ?? process.env.PORT, 8000),
    host: values.host ?? '127.0.0.1',
    sites: [{ name: site, seed: 'demo', timeZone: process.env.DEMO_TIME_ZONE }],
    serveSite: site,
    defaultSite: site,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const seed = emu.seeds[site];
  process.stdout.write(`crm-order-companion demo is running.

  Site          ${site} (Frappe v15 emulator, time zone ${emu.site(site).timeZone()})
  REST API      ${emu.url}/api/resource/Sales%20Order
  Realtime      ${emu.url}/socket.io  (namespace /${site})
  Desk shell    ${emu.url}/app
  Controls      ${emu.url}/__emulator

  Sign in (POST ${emu.url}/api/method/login) as any of:
    Administrator / admin
${Object.values(seed.users)
  .filter((u) => !u.api_key)
  .map((u) => `    ${u.name} / ${DEMO_PASSWORD}`)
  .join('\n')}
  Sample data: ${seed.customers.length} customers, ${seed.sales_orders.length} sales orders, ${seed.work_orders.length} work orders, ${seed.leads.length} leads, ${seed.tickets.length} tickets.

Press Ctrl+C to stop.
`);
  await waitForSignal();
  await emu.close();
  return 0;
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
  const [sub, path] = args;
  if (sub !== 'check') throw new UsageError('usage: manifest check [PATH]');
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
    if (err instanceof UsageError || err instanceof ManifestError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      process.stderr.write(`Port in use: ${e.message}. Pass --port or set PORT.\n`);
      process.exit(1);
    }
    process.stderr.write(`${e?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
