/**
 * The ops console on the sidecar's HTTP server: the page (dist/console/, built by build.mjs from
 * console/) at /console, its JSON API at /console/api (sidecar/console/api.ts), its live link at
 * /console/live (sidecar/console/live.ts).
 */
import type { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { createConsoleApi, type ConsoleOptions } from './api.js';
import { attachLive, trackRealtimeSince } from './live.js';
import { createSyncRequestReader } from './sync_requests.js';
import type { FrappeClient } from '../../lib/frappe/client.js';

export { OPERATOR_ROLE, CONSOLE_ROLES } from './sessions.js';
export { LIVE_PATH } from './live.js';

/**
 * Where the built page is: beside the bundled CLI (dist/cli.js → dist/console/) or, running from
 * the sources (tests, tsx), in the repository's dist/console/.
 */
export function consoleAssetsDir(): string | null {
  const candidates = [join(import.meta.dirname, 'console'), join(import.meta.dirname, '..', '..', 'dist', 'console')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

export interface ConsoleMount {
  /** Mounted at /console. */
  router: Router;
  /** Once the server listens: the live link on its upgrade requests. */
  attach(server: Server): { close(): void };
}

export function createConsole(
  opts: Omit<ConsoleOptions, 'realtimeSince' | 'syncRequests'> & {
    events: EventEmitter;
    assetsDir?: string | null;
    pingMs?: number;
    /** The runtime's REST client per site: the Order history view reads each site's Order Sync Requests with it. */
    clientFor?: (site: string) => FrappeClient | undefined;
    /** How long a site's Order Sync Requests are kept (tests). */
    requestsCacheMs?: number;
  },
): ConsoleMount {
  const realtimeSince = trackRealtimeSince(opts.events, opts.sites);
  const syncRequests = opts.clientFor ? createSyncRequestReader({ sites: opts.sites, clientFor: opts.clientFor, events: opts.events, cacheMs: opts.requestsCacheMs }) : undefined;
  const { router: api, sessions } = createConsoleApi({ ...opts, realtimeSince, syncRequests });
  const router = express.Router();
  router.use('/api', api);
  const dir = opts.assetsDir === undefined ? consoleAssetsDir() : opts.assetsDir;
  if (dir) {
    // The shell and its bundles are public (no data in them); the page then asks /console/api.
    router.use(
      express.static(dir, {
        index: 'index.html',
        fallthrough: true,
        setHeaders: (res) => {
          res.setHeader('X-Content-Type-Options', 'nosniff');
          res.setHeader('X-Frame-Options', 'DENY');
          // Own scripts only (Vue's templates are compiled at build time: no eval); frappe-ui sets inline styles.
          res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        },
      }),
    );
  } else {
    router.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('the console is not built: run `node build.mjs`');
    });
  }
  return {
    router,
    attach: (server) => attachLive({ server, events: opts.events, sessions, sites: opts.sites, status: opts.status, adminToken: opts.adminToken, realtimeSince, pingMs: opts.pingMs }),
  };
}
