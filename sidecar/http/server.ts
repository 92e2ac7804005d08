/**
 * The sidecar's HTTP face: liveness, readiness per site, Prometheus metrics, the admin endpoints
 * the CLI uses for jobs, the mount point for webhook routes, and the ops console (sidecar/console/).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { JobState, JobStore } from '../jobs/types.js';
import type { Logger } from '../../lib/log.js';
import type { Metrics } from '../metrics.js';
import { siteReady, type SiteStatus } from '../site/status.js';
import type { ConsoleMount } from '../console/index.js';

export interface HttpOptions {
  host: string;
  port: number;
  store: JobStore;
  metrics: Metrics;
  status: () => SiteStatus[];
  ready: () => boolean;
  adminToken?: string;
  logger: Logger;
  /** Webhook routers (shop sync), mounted under /webhooks. */
  webhooks?: Router;
  /** More admin routes (shop operations), behind the same loopback / token check. */
  adminRoutes?: Router;
  /** Runs before /metrics renders, to refresh gauges that are read from the job store. */
  beforeMetrics?: () => Promise<void>;
  /** The ops console: its page and API at /console, its live link on the server's upgrades. */
  console?: ConsoleMount;
}

const STATES: JobState[] = ['waiting', 'active', 'completed', 'failed'];

/** Constant-time comparison of digests, so neither content nor length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export async function startHttpServer(opts: HttpOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    const sites = opts.status().map((s) => ({
      site: s.name,
      ready: siteReady(s),
      rest: s.rest.ok ? 'ok' : (s.rest.error ?? 'not checked yet'),
      realtime: s.realtime.connected ? 'connected' : (s.realtime.error ?? 'not connected'),
      // A connected socket may still listen where this site publishes nothing (lib/frappe/realtime/probe.ts).
      events: s.realtime.eventsArrive ? 'arriving' : (s.realtime.eventsError ?? 'not checked yet'),
      // The last daily health check (sidecar/handlers/health/); it does not decide readiness.
      health: !s.health ? 'not run yet' : s.health.ok ? `ok (${s.health.day})` : `${s.health.findings.length} finding(s) (${s.health.day})`,
      findings: s.health?.findings.map((f) => f.message) ?? [],
    }));
    const ready = opts.ready();
    res.status(ready ? 200 : 503).json({ ready, sites });
  });

  app.get('/metrics', async (_req, res) => {
    const counts = await opts.store.counts();
    for (const state of STATES) opts.metrics.jobs.set({ state }, counts[state] ?? 0);
    await opts.beforeMetrics?.();
    res.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });

  // Admin: jobs. Loopback only unless a bearer token is configured.
  const admin = express.Router();
  admin.use((req: Request, res: Response, next: NextFunction) => {
    if (opts.adminToken) {
      if (!sameSecret(req.headers.authorization ?? '', `Bearer ${opts.adminToken}`)) {
        res.status(401).json({ error: 'admin token required (Authorization: Bearer …)' });
        return;
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      res.status(403).json({ error: 'admin endpoints answer loopback clients only; set COC_ADMIN_TOKEN to allow others' });
      return;
    }
    next();
  });
  admin.get('/jobs', async (req, res) => {
    const state = req.query.state as JobState | undefined;
    if (state && !STATES.includes(state)) {
      res.status(400).json({ error: `state must be one of ${STATES.join(', ')}` });
      return;
    }
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 100) || 100));
    res.json({ counts: await opts.store.counts(), jobs: await opts.store.list(state, limit) });
  });
  admin.post('/jobs/:id/retry', async (req, res) => {
    const id = String(req.params.id);
    const ok = await opts.store.retry(id);
    if (!ok) {
      const job = await opts.store.get(id);
      res.status(job ? 409 : 404).json({ error: job ? `job ${id} is ${job.state}, not failed` : `no job ${id}` });
      return;
    }
    res.json({ retried: id });
  });
  admin.delete('/jobs', async (req, res) => {
    const state = req.query.state;
    if (state !== 'completed' && state !== 'failed') {
      res.status(400).json({ error: 'state must be completed or failed' });
      return;
    }
    res.json({ purged: await opts.store.purge(state) });
  });
  if (opts.adminRoutes) admin.use(opts.adminRoutes);
  app.use('/admin', admin);

  if (opts.webhooks) app.use('/webhooks', opts.webhooks);
  if (opts.console) app.use('/console', opts.console.router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    opts.logger.error({ err }, 'http handler failed');
    res.status(500).json({ error: 'internal error' });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, () => resolve(s));
    s.once('error', reject);
  });
  const live = opts.console?.attach(server);
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    async close() {
      // Upgraded (WebSocket) connections are no longer the server's: the live link ends its own.
      live?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
