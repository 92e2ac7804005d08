/**
 * The composition root: config → per-site REST client, realtime link, catch-up and scheduler →
 * one job store → handlers. Realtime is the fast path; the watermark is the guarantee; the job
 * store makes every piece of work durable, retried, and dead-lettered at worst.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { SidecarConfig, SiteConfig } from '../lib/config/load.js';
import { describeError } from '../lib/errors.js';
import { clientForSite, type FrappeClient } from '../lib/frappe/client.js';
import { handlerMeta } from './handlers/meta.js';
import type { HandlerRegistry } from './handlers/types.js';
import { startHttpServer } from './http/server.js';
import { siteReady, type SiteStatus } from './site/status.js';
import { createJobStore } from './jobs/index.js';
import { markStalled } from './jobs/stall.js';
import type { JobHandler, JobSpec, JobStore } from './jobs/types.js';
import { redactSecrets, type Logger } from '../lib/log.js';
import type { HooksManifest } from '../lib/manifest/schema.js';
import { createMetrics, type Metrics } from './metrics.js';
import { catchUp } from './realtime/catchup.js';
import { jobsForVersion, type DocVersion } from './realtime/dispatch.js';
import { PROBE_METHOD, PROBE_TIMEOUT_MS, probeRealtime } from '../lib/frappe/realtime/probe.js';
import { createSubscriber, type Subscriber } from '../lib/frappe/realtime/subscriber.js';
import { scheduleEntries, startScheduler } from './scheduler.js';
import { createShopAdminRouter, refreshShopGauges } from './shops/admin.js';
import { createShopHandlers } from './shops/handlers.js';
import { createWebhookRouter } from './shops/webhooks/router.js';

interface SiteRuntime {
  config: SiteConfig;
  client: FrappeClient;
  subscriber: Subscriber | null;
  scheduler: { stop(): void } | null;
  status: SiteStatus;
  catchupTimer: NodeJS.Timeout | null;
  healthTimer: NodeJS.Timeout | null;
  /** A catch-up pass is in flight; `again` asks for one more after it. */
  catchup: Promise<void> | null;
  again: boolean;
  /** The realtime probe of the current link: `gen` changes on every connect and disconnect. */
  probe: { gen: number; running: boolean; ok: boolean; error: string | null };
}

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
  rest?: { timeoutMs?: number; readTimeoutMs?: number; writeTimeoutMs?: number; slowCallMs?: number; maxRetries?: number; backoffBaseMs?: number; backoffMaxMs?: number };
  /** @defaultValue 30_000 */
  healthIntervalMs?: number;
  /** Realtime reconnect base delay. @defaultValue 1000 */
  reconnectBaseMs?: number;
  /** Skip the HTTP server (tests that do not need it). */
  http?: boolean;
  /** Retry policy for jobs that do not set their own (the store's defaults otherwise: 8 attempts from 1 s). */
  jobDefaults?: { maxAttempts?: number; backoffMs?: number };
}

/**
 * What the runtime reports as it happens (for embedding, tests and future admin UIs):
 * `job` (job, outcome), `realtime` (site, connected, reason?), `probe` (site, eventsArrive, error?),
 * `health` (site, ok, error?), `catchup` (site, documents).
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
  const unknown = [...named].filter((id) => !handlers[id]);
  if (unknown.length) throw new Error(`hooks_manifest.json names unknown handler(s): ${unknown.join(', ')}`);
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const { config, manifest, logger } = opts;
  // Shop sync is configuration-driven (config.shops); its handlers exist whether or not shops are set.
  const handlers: HandlerRegistry = { ...createShopHandlers(config.shops), ...opts.handlers };
  checkHandlers(manifest, handlers);
  const metrics = opts.metrics ?? createMetrics();
  const store = opts.store ?? (await createJobStore(config.redisUrl ? { kind: 'bullmq', redisUrl: config.redisUrl } : { kind: 'embedded', dir: config.dataDir }));
  const doctypes = Object.keys(manifest.realtime);
  const entries = scheduleEntries(manifest);
  const sites = new Map<string, SiteRuntime>();
  const events = new EventEmitter();
  events.setMaxListeners(100);
  let stopping = false;

  const enqueue = async (spec: JobSpec): Promise<boolean> => {
    const job: JobSpec = { ...opts.jobDefaults, ...spec };
    const added = await store.enqueue(job);
    if (added) logger.debug({ site: job.site, job: job.id }, 'job enqueued');
    return added;
  };

  const dispatch = async (v: DocVersion): Promise<void> => {
    for (const job of jobsForVersion(manifest, v)) await enqueue(job);
  };

  for (const site of config.sites) {
    // The config's timeouts, unless the caller's `rest` names a timeout of its own (timeoutMs sets both).
    const fromConfig = opts.rest?.timeoutMs !== undefined ? {} : Object.fromEntries(Object.entries(config.rest ?? {}).filter(([, v]) => v !== undefined));
    const client = clientForSite(site, { metrics, logger, onWait: markStalled, ...fromConfig, ...opts.rest });
    sites.set(site.name, {
      config: site,
      client,
      subscriber: null,
      scheduler: null,
      catchupTimer: null,
      healthTimer: null,
      catchup: null,
      again: false,
      probe: { gen: 0, running: false, ok: false, error: null },
      status: {
        name: site.name,
        url: site.url,
        rest: { ok: false, error: null, user: null, checkedAt: null },
        realtime: { connected: false, error: null, eventsArrive: false, eventsError: null },
        timeZone: null,
        catchup: { running: false, lastRunAt: null, lastDocuments: 0, error: null },
      },
    });
  }

  // ---- jobs ---------------------------------------------------------------------------------
  const meta = handlerMeta(store);
  const jobHandlers: Record<string, JobHandler> = {};
  for (const [id, handler] of Object.entries(handlers)) {
    jobHandlers[id] = async (job, jctx) => {
      const site = sites.get(job.site);
      if (!site) throw new Error(`job ${job.id} is for unknown site ${job.site}`);
      const heard = Number(job.data.heardAtMs);
      if (Number.isFinite(heard) && jctx.attempt === 1) {
        metrics.eventToHandler.observe({ site: job.site, source: String(job.data.source ?? 'realtime') }, (Date.now() - heard) / 1000);
      }
      await handler({ site: job.site, client: site.client, logger: logger.child({ site: job.site, job: job.id }), metrics, enqueue, job, signal: jctx.signal, attempt: jctx.attempt, meta, lock: (key, fn) => store.withLock(`${job.site}|${key}`, 30_000, fn) });
    };
  }
  await store.start(jobHandlers, { concurrency: config.concurrency, maxStalled: config.maxStalledJobs ?? 64 }, {
    onJobFinished(job, outcome, error) {
      metrics.jobRuns.inc({ name: job.name, outcome });
      events.emit('job', job, outcome);
      if (outcome === 'failed') logger.error({ site: job.site, job: job.id, error: job.lastError }, `job ${job.id} dead-lettered after ${job.attempts} attempt(s): ${job.lastError}`);
      else if (outcome === 'retried') logger.warn({ site: job.site, job: job.id, attempt: job.attempts }, `job ${job.id} failed, will retry: ${redactSecrets(describeError(error))}`);
    },
  });

  // ---- per site ---------------------------------------------------------------------------
  async function checkHealth(site: SiteRuntime): Promise<void> {
    const before = site.status.rest.error;
    const wasOk = site.status.rest.ok;
    try {
      const user = await site.client.call<string>('frappe.auth.get_logged_user', {}, 'GET');
      site.status.rest = { ok: true, error: null, user: user ?? null, checkedAt: new Date().toISOString() };
      if (!wasOk) events.emit('health', site.config.name, true);
      if (!wasOk) logger.info({ site: site.config.name, user }, `site ${site.config.name} reachable, signed in as ${user}`);
      if (!site.status.timeZone) {
        const tz = await site.client.call<{ time_zone: string }>('frappe.client.get_time_zone', {}, 'GET');
        site.status.timeZone = tz?.time_zone ?? null;
        if (site.status.timeZone && entries.length && !site.scheduler) {
          site.scheduler = startScheduler({ site: site.config.name, timeZone: site.status.timeZone, entries, enqueue, logger });
        }
      }
      // A link that has not proven it hears the site (a failed or deaf probe) is asked again.
      if (!site.probe.ok) void runProbe(site);
    } catch (e) {
      const error = redactSecrets(describeError(e));
      site.status.rest = { ok: false, error, user: null, checkedAt: new Date().toISOString() };
      if (error !== before) {
        logger.error({ site: site.config.name, event: 'site_unhealthy', error }, `site ${site.config.name} is not usable: ${error}`);
        events.emit('health', site.config.name, false, error);
      }
    }
  }

  function runCatchup(site: SiteRuntime): Promise<void> {
    if (site.catchup) {
      site.again = true;
      return site.catchup;
    }
    const pass = async () => {
      site.status.catchup.running = true;
      let documents = 0;
      try {
        for (const doctype of doctypes) {
          if (stopping) break;
          const key = `wm|${site.config.name}|${doctype}`;
          const result = await catchUp({
            site: site.config.name,
            doctype,
            client: site.client,
            logger,
            getWatermark: () => store.getMeta(key),
            setWatermark: (m) => store.setMeta(key, m),
            shouldStop: () => stopping,
            onVersion: (name, modified) => {
              metrics.catchupDocuments.inc({ site: site.config.name, doctype });
              return dispatch({ site: site.config.name, doctype, name, modified, source: 'catchup', heardAtMs: Date.now() });
            },
          });
          documents += result.documents;
        }
        site.status.catchup = { running: false, lastRunAt: new Date().toISOString(), lastDocuments: documents, error: null };
        events.emit('catchup', site.config.name, documents);
      } catch (e) {
        const error = redactSecrets(describeError(e));
        site.status.catchup = { ...site.status.catchup, running: false, error };
        logger.warn({ site: site.config.name, error }, `catch-up for ${site.config.name} failed; will try again: ${error}`);
      }
    };
    site.catchup = (async () => {
      do {
        site.again = false;
        await pass();
      } while (site.again && !stopping);
      site.catchup = null;
    })();
    return site.catchup;
  }

  /**
   * Prove that this site's events reach the current link (lib/frappe/realtime/probe.ts): readiness waits for
   * it, and a sidecar that listens on another site's namespace says so instead of being ready.
   * Runs once per connect (again if the link changed while it ran) and on health checks until it
   * succeeds.
   */
  async function runProbe(site: SiteRuntime): Promise<void> {
    const sub = site.subscriber;
    if (!sub || site.probe.running) return;
    site.probe.running = true;
    try {
      while (sub.connected && !stopping) {
        const gen = site.probe.gen;
        const result = await probeRealtime({
          site: site.config.name,
          listen: (event, fn) => sub.listen(event, fn),
          trigger: () => site.client.call(PROBE_METHOD, {}, 'POST'),
          timeoutMs: config.realtimeProbeTimeoutMs ?? PROBE_TIMEOUT_MS,
        });
        if (gen !== site.probe.gen) continue; // the link changed meanwhile: probe the new one
        const before = site.probe.error;
        site.probe.ok = result.ok;
        site.probe.error = result.ok ? null : result.error;
        if (result.ok) {
          logger.info({ site: site.config.name, event: 'realtime_events_arrive' }, `realtime events of ${site.config.name} reach the sidecar`);
        } else if (result.error !== before) {
          const log = result.deaf ? logger.error.bind(logger) : logger.warn.bind(logger);
          log({ site: site.config.name, event: result.deaf ? 'realtime_deaf' : 'realtime_probe_failed', error: result.error }, `site ${site.config.name}: ${result.error}`);
        }
        events.emit('probe', site.config.name, result.ok, result.ok ? undefined : result.error);
        break;
      }
    } finally {
      site.probe.running = false;
    }
  }

  /** The probe's verdict no longer holds once the link changes. */
  function linkChanged(site: SiteRuntime): void {
    site.probe.gen += 1;
    site.probe.ok = false;
    site.probe.error = null;
  }

  /** A list_update carries no `modified`: read it, so realtime and catch-up name the same version. */
  async function onListUpdate(site: SiteRuntime, doctype: string, name: string, heardAtMs: number): Promise<void> {
    try {
      const rows = await site.client.getList<{ name: string; modified: string }>(doctype, {
        fields: ['name', 'modified'],
        filters: [['name', '=', name]],
        orderBy: 'modified desc',
        limitPageLength: 1,
      });
      await dispatch({ site: site.config.name, doctype, name, modified: rows[0]?.modified ?? null, source: 'realtime', heardAtMs });
    } catch (e) {
      // Not lost: the next catch-up pass lists it from the watermark.
      logger.warn({ site: site.config.name, doctype, name, error: redactSecrets(describeError(e)) }, `could not read ${doctype} ${name} after a realtime event; catch-up will`);
    }
  }

  for (const site of sites.values()) {
    await checkHealth(site);
    site.healthTimer = setInterval(() => void checkHealth(site), opts.healthIntervalMs ?? 30_000);
    site.healthTimer.unref();
    // Fix the watermark before listening: on a first start, a document saved between the connect and
    // the room join is then above the watermark and found by the catch-up that follows the connect.
    if (doctypes.length && site.status.rest.ok) await runCatchup(site);
    site.subscriber = createSubscriber({
      site: site.config.name,
      url: site.config.url,
      realtimeUrl: site.config.realtimeUrl,
      apiKey: site.config.apiKey,
      apiSecret: site.config.apiSecret,
      doctypes,
      logger,
      metrics,
      reconnectBaseMs: opts.reconnectBaseMs,
      onConnect: () => {
        linkChanged(site);
        events.emit('realtime', site.config.name, true);
        void runProbe(site);
        void runCatchup(site);
      },
      onDisconnect: (reason) => {
        linkChanged(site);
        events.emit('realtime', site.config.name, false, reason);
      },
      onRefused: (reason) => events.emit('realtime', site.config.name, false, reason),
      onListUpdate: (e, heard) => void onListUpdate(site, e.doctype, String(e.name), heard),
    });
    if (doctypes.length) {
      site.catchupTimer = setInterval(() => void runCatchup(site), config.catchupIntervalMs);
      site.catchupTimer.unref();
    }
  }

  const status = (): SiteStatus[] =>
    [...sites.values()].map((s) => {
      const connected = s.subscriber?.connected ?? false;
      const eventsArrive = connected && s.probe.ok;
      const eventsError = eventsArrive ? null : connected ? (s.probe.error ?? 'checking that this site\'s events reach the sidecar') : 'no realtime link';
      return { ...s.status, realtime: { connected, error: s.subscriber?.lastError ?? null, eventsArrive, eventsError } };
    });
  const ready = () => status().every(siteReady);

  let server: Server | null = null;
  let url: string | null = null;
  if (opts.http !== false) {
    const webhooks = manifest.webhooks.length
      ? createWebhookRouter({ shops: config.shops, store, metrics, logger, bodyLimitBytes: config.webhookBodyLimitBytes, jobDefaults: opts.jobDefaults }, manifest.webhooks)
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
      adminRoutes: createShopAdminRouter(config.shops, store),
      beforeMetrics: () => refreshShopGauges(store, metrics),
    });
    server = started.server;
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
      await Promise.all([...sites.values()].map((s) => runCatchup(s)));
    },
    async stop(deadlineMs = 10_000) {
      stopping = true;
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      server?.closeAllConnections();
      for (const s of sites.values()) {
        if (s.catchupTimer) clearInterval(s.catchupTimer);
        if (s.healthTimer) clearInterval(s.healthTimer);
        s.scheduler?.stop();
        s.subscriber?.close();
      }
      await Promise.all([...sites.values()].map((s) => s.catchup ?? Promise.resolve()));
      await store.stop(deadlineMs);
      await store.close();
    },
  };
}
