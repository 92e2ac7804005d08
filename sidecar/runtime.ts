/**
 * The composition root, wiring only: config → one job store → the runner (sidecar/jobs/runner.ts:
 * the one enqueue and the one handler registry, shop handlers included) → one Site per configured
 * site (sidecar/site/site.ts: REST client, health, scheduler, catch-up, realtime) → the HTTP
 * server. The job store makes every piece of work durable, retried, and dead-lettered at worst.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import express from 'express';
import { DEFAULT_HEALTH, dailyCron } from '../lib/config/health.js';
import type { SidecarConfig } from '../lib/config/load.js';
import type { Logger } from '../lib/log.js';
import type { HooksManifest } from '../lib/manifest/schema.js';
import { createHealthHandlers } from './handlers/health/index.js';
import { refreshHealthGauges } from './handlers/health/state.js';
import type { HandlerRegistry } from './handlers/types.js';
import { createConsole } from './console/index.js';
import type { ConsoleOptions } from './console/api.js';
import { startHttpServer } from './http/server.js';
import { createJobStore } from './jobs/index.js';
import { handlerMeta } from './jobs/handler.js';
import { createRunner, logJobOutcome, type JobPolicy } from './jobs/runner.js';
import type { JobStore } from './jobs/types.js';
import { createMetrics, type Metrics } from './metrics.js';
import { scheduleEntries } from './scheduler.js';
import { createShopAdminRouter, refreshShopGauges, waitsForMapping } from './shops/admin.js';
import { createHistoryAdminRouter } from './handlers/order_history/admin.js';
import { BULK_HANDLER, reportingCheckpoints } from './handlers/order_history/bulk.js';
import { createShopHandlers } from './shops/handlers.js';
import { createApplyThread, threadableRest } from './shops/apply/host.js';
import { SHOP_JOB_POLICIES } from './shops/jobs.js';
import { createWebhookRouter } from './shops/webhooks/router.js';
import { createSite, type Site } from './site/site.js';
import { siteReady, type SiteStatus } from './site/status.js';
import { watchRecords } from './site/records_watch.js';
import type { WantedRecords } from './site/records_check.js';

export { siteReady, type SiteStatus };

export interface SidecarOptions {
  config: SidecarConfig;
  manifest: HooksManifest;
  handlers: HandlerRegistry;
  logger: Logger;
  metrics?: Metrics;
  /** Injected in tests; built from the config otherwise. */
  store?: JobStore;
  /** Retry timings of the REST client (tests shrink them); over the config's `rest`. */
  rest?: { timeoutMs?: number; readTimeoutMs?: number; writeTimeoutMs?: number; slowCallMs?: number; maxRetries?: number; backoffBaseMs?: number; backoffMaxMs?: number; hedgeReadsAfterMs?: number | false };
  /** @defaultValue 30_000 */
  healthIntervalMs?: number;
  /** Realtime reconnect base delay. @defaultValue 1000 */
  reconnectBaseMs?: number;
  /** Skip the HTTP server (tests that do not need it). */
  http?: boolean;
  /**
   * Retry policy for jobs whose handler and spec do not set their own (the store's defaults
   * otherwise: 8 attempts from 1 s). The order of the layers: sidecar/jobs/runner.ts.
   */
  jobDefaults?: JobPolicy;
  /** How often each site's records are checked against this release's (sidecar/site/records_watch.ts). @defaultValue 1 hour */
  recordsCheckIntervalMs?: number;
  /** This release's records (tests); read from the package otherwise. */
  wantedRecords?: () => WantedRecords;
  /** How the ops console checks a Frappe sign-in (tests); frappe-js-sdk against the site otherwise. */
  consoleSignIn?: ConsoleOptions['signIn'];
  /**
   * Apply Shopify orders in a worker thread, off the thread acknowledging webhooks
   * (sidecar/shops/apply/host.ts). `false`: in-process. @defaultValue true
   */
  applyThread?: boolean;
}

/**
 * What the runtime reports as it happens (for embedding, tests and future admin UIs):
 * `job` (job, outcome), `realtime` (site, connected, reason?), `probe` (site, eventsArrive, error?),
 * `health` (site, ok, error?), `catchup` (site, documents), `health_report` (site: its status shows
 * the health check that just finished), `records` (site: its records check just finished),
 * `history_progress` (site, progress: a bulk history run's checkpoint, just written).
 */
export type SidecarEvents = EventEmitter;

export interface Sidecar {
  readonly events: SidecarEvents;
  readonly store: JobStore;
  readonly metrics: Metrics;
  readonly url: string | null;
  status(): SiteStatus[];
  ready(): boolean;
  /** Run a catch-up pass for every site now (and wait for it). */
  catchUpNow(): Promise<void>;
  stop(deadlineMs?: number): Promise<void>;
}

/** Every handler id the manifest names must exist; all unknown ids are reported at once. */
export function checkHandlers(manifest: HooksManifest, handlers: HandlerRegistry): void {
  const named = new Set<string>();
  for (const events of Object.values(manifest.realtime)) for (const ids of Object.values(events)) for (const id of ids ?? []) named.add(id);
  for (const e of scheduleEntries(manifest)) named.add(e.handler);
  for (const w of manifest.webhooks) named.add(w.handler);
  for (const id of manifest.jobs) named.add(id);
  const unknown = [...named].filter((id) => !handlers[id]);
  if (unknown.length) throw new Error(`hooks_manifest.json names unknown handler(s): ${unknown.join(', ')}`);
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const { config, manifest, logger } = opts;
  const metrics = opts.metrics ?? createMetrics();
  const events = new EventEmitter();
  events.setMaxListeners(100);
  // Shop sync and the health check are configuration-driven (config.shops, config.health); their
  // handlers exist whether or not they are configured. The health check reads the job store's dead letters.
  const health = config.health ?? DEFAULT_HEALTH;
  // The config's timeouts, unless the caller's `rest` names a timeout of its own (timeoutMs sets both).
  const fromConfig = opts.rest?.timeoutMs !== undefined ? {} : Object.fromEntries(Object.entries(config.rest ?? {}).filter(([, v]) => v !== undefined));
  const threadRest = threadableRest({ ...fromConfig, ...opts.rest });
  const applyThread =
    opts.applyThread !== false && threadRest && config.shops.some((s) => s.platform === 'shopify')
      ? createApplyThread({ sites: config.sites, shops: config.shops, rest: threadRest, logger, metrics })
      : undefined;
  const handlers: HandlerRegistry = {
    ...createShopHandlers(config.shops, { applyThread }),
    ...createHealthHandlers(health, { failedJobs: () => store.list('failed', 10_000), waitsForMapping }),
    ...opts.handlers,
  };
  // A bulk history run's page checkpoints reach the console's live link as `history_progress`.
  const bulk = handlers[BULK_HANDLER];
  if (bulk) handlers[BULK_HANDLER] = reportingCheckpoints(bulk, (site, progress) => events.emit('history_progress', site, progress));
  checkHandlers(manifest, handlers);
  const store = opts.store ?? (await createJobStore(config.redisUrl ? { kind: 'bullmq', redisUrl: config.redisUrl } : { kind: 'embedded', dir: config.dataDir }));

  const sites = new Map<string, Site>();
  const runner = createRunner({ store, logger, metrics, handlers, policies: SHOP_JOB_POLICIES, jobDefaults: opts.jobDefaults, clientFor: (site) => sites.get(site)?.client });
  const meta = handlerMeta(store);
  for (const site of config.sites) {
    sites.set(site.name, createSite({
      config: site,
      manifest,
      enqueue: runner.enqueue,
      enqueueMany: runner.enqueueMany,
      meta,
      logger,
      metrics,
      events,
      rest: { metrics, logger, ...fromConfig, ...opts.rest },
      catchupIntervalMs: config.catchupIntervalMs,
      healthIntervalMs: opts.healthIntervalMs,
      realtimeProbeTimeoutMs: config.realtimeProbeTimeoutMs,
      reconnectBaseMs: opts.reconnectBaseMs,
      scheduleAt: { 'health.check': dailyCron(health.time) },
    }));
  }

  await runner.start({ concurrency: config.concurrency, maxStalled: config.maxStalledJobs ?? 64 }, {
    onJobFinished(job, outcome, error) {
      metrics.jobRuns.inc({ name: job.name, outcome });
      events.emit('job', job, outcome);
      logJobOutcome(logger, job, outcome, error);
      if (job.name === 'health.check') void sites.get(job.site)?.refreshHealth().then(() => events.emit('health_report', job.site));
    },
  });
  for (const site of sites.values()) await site.start();
  // In the background: readiness never waits for it, and a failure shows on the Sites card.
  const records = watchRecords({
    sites: [...sites].map(([name, s]) => ({ name, client: s.client })),
    wanted: opts.wantedRecords,
    intervalMs: opts.recordsCheckIntervalMs,
    onChecked: (site) => events.emit('records', site),
    logger,
  });

  const status = (): SiteStatus[] => [...sites].map(([name, s]) => ({ ...s.status(), records: records.get(name) }));
  const ready = () => status().every(siteReady);

  let http: { server: Server; close(): Promise<void> } | null = null;
  let url: string | null = null;
  if (opts.http !== false) {
    const webhooks = manifest.webhooks.length
      ? createWebhookRouter({ shops: config.shops, enqueue: runner.enqueue, metrics, logger, bodyLimitBytes: config.webhookBodyLimitBytes }, manifest.webhooks)
      : undefined;
    const started = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      store,
      metrics,
      status,
      ready,
      adminToken: config.adminToken,
      logger,
      webhooks,
      adminRoutes: express.Router().use(createShopAdminRouter(config.shops, store, runner.enqueue), createHistoryAdminRouter(config.sites.map((s) => s.name), store, runner.enqueue)),
      beforeMetrics: async () => {
        await refreshShopGauges(store, metrics);
        await refreshHealthGauges(meta, metrics, [...sites.keys()]);
      },
      console: createConsole({ sites: config.sites.map((s) => ({ name: s.name, url: s.url })), store, status, events, logger, adminToken: config.adminToken, signIn: opts.consoleSignIn, shops: config.shops, enqueue: runner.enqueue, clientFor: (site) => sites.get(site)?.client }),
    });
    http = started;
    url = started.url;
    logger.info({ url, sites: config.sites.map((s) => s.name), store: store.kind }, `sidecar listening on ${url}`);
  }

  return {
    events,
    store,
    metrics,
    get url() {
      return url;
    },
    status,
    ready,
    async catchUpNow() {
      await Promise.all([...sites.values()].map((s) => s.catchUp()));
    },
    async stop(deadlineMs = 10_000) {
      records.stop();
      await http?.close();
      await Promise.all([...sites.values()].map((s) => s.stop()));
      await store.stop(deadlineMs);
      await applyThread?.stop();
      await store.close();
    },
  };
}
