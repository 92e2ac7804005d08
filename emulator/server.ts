/**
 * Start an emulated Frappe v15 bench: HTTP (REST + desk shell) and Socket.IO on one port — the
 * way a production site is reached through nginx — hosting one or more sites.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from './http/app.js';
import { attachRealtime } from './realtime/server.js';
import { seedDemo, type DemoSummary } from './seed/demo.js';
import { createSite } from './sites.js';
import { EmulatorState, type EmulatorOptions } from './state.js';
import type { Site } from './core/site.js';

export interface SiteSpec {
  name: string;
  timeZone?: string;
  /** Load the demo data set. */
  seed?: 'demo';
}

export interface StartOptions extends EmulatorOptions {
  port?: number;
  host?: string;
  sites?: SiteSpec[];
}

export interface RunningEmulator {
  url: string;
  port: number;
  state: EmulatorState;
  site(name: string): Site;
  seeds: Record<string, DemoSummary>;
  close(): Promise<void>;
}

export async function startEmulator(opts: StartOptions = {}): Promise<RunningEmulator> {
  const state = new EmulatorState(opts);
  const seeds: Record<string, DemoSummary> = {};
  for (const spec of opts.sites ?? []) {
    const site = createSite(state, spec.name, { timeZone: spec.timeZone });
    if (spec.seed === 'demo') seeds[spec.name] = seedDemo(site);
  }
  const server = http.createServer(createHttpApp(state));
  const { io, hub } = attachRealtime(server, state);
  state.realtime = hub;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  state.url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  return {
    url: state.url,
    port,
    state,
    seeds,
    site(name: string) {
      const s = state.sites.get(name);
      if (!s) throw new Error(`no site ${name}`);
      return s;
    },
    async close() {
      for (const res of state.hungResponses) res.destroy();
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
