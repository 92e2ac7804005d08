/**
 * One Frappe site the sidecar serves: its REST client, its health check (which starts the
 * scheduler once the site's time zone is known), its catch-up loop, its realtime link with the
 * probe that proves events arrive, and the path from a realtime `list_update` to jobs:
 * list_update → the version's `modified` → dispatch (sidecar/realtime/dispatch.ts) → the runner's
 * enqueue. Realtime is the fast path; the watermark is the guarantee.
 */
import type { EventEmitter } from 'node:events';
import type { SiteConfig } from '../../lib/config/load.js';
import { describeError } from '../../lib/errors.js';
import { clientForSite, type FrappeClient, type FrappeClientOptions } from '../../lib/frappe/client.js';
import { PROBE_METHOD, PROBE_TIMEOUT_MS, probeRealtime } from '../../lib/frappe/realtime/probe.js';
import { createSubscriber, type Subscriber } from '../../lib/frappe/realtime/subscriber.js';
import { redactSecrets, type Logger } from '../../lib/log.js';
import type { HooksManifest } from '../../lib/manifest/schema.js';
import type { Enqueue, EnqueueMany } from '../jobs/payloads.js';
import type { HandlerMeta } from '../jobs/handler.js';
import { markStalled } from '../jobs/stall.js';
import type { Metrics } from '../metrics.js';
import { catchUp } from '../realtime/catchup.js';
import { jobsForVersion, jobsForVersions, type DocVersion } from '../realtime/dispatch.js';
import { scheduleEntries, startScheduler } from '../scheduler.js';
import { readLastReport, summarize, type HealthSummary } from '../handlers/health/state.js';
import { createDowntimeRecorder } from '../realtime/downtime.js';
import type { SiteStatus } from './status.js';

export interface SiteOptions {
  config: SiteConfig;
  manifest: HooksManifest;
  /** The runner's enqueue (sidecar/jobs/runner.ts). */
  enqueue: Enqueue;
  /** The runner's enqueueMany: a catch-up page's jobs in one store batch. */
  enqueueMany: EnqueueMany;
  /** Where the catch-up watermarks are kept (`wm|site|doctype`): the job store's meta. */
  meta: HandlerMeta;
  logger: Logger;
  metrics: Metrics;
  /** The runtime's event emitter: `realtime`, `probe`, `health`, `catchup` (sidecar/runtime.ts). */
  events: EventEmitter;
  /** Options of the REST client (timeouts, retries). */
  rest: Omit<FrappeClientOptions, 'site' | 'baseUrl' | 'apiKey' | 'apiSecret'>;
  catchupIntervalMs: number;
  /** @defaultValue 30_000 */
  healthIntervalMs?: number;
  /** @defaultValue PROBE_TIMEOUT_MS */
  realtimeProbeTimeoutMs?: number;
  /** Realtime reconnect base delay. */
  reconnectBaseMs?: number;
  /** Named-frequency jobs moved to a configured time: handler id → cron (the health check's `health.time`). */
  scheduleAt?: Record<string, string>;
}

export interface Site {
  readonly name: string;
  readonly client: FrappeClient;
  /** Check health, catch up once, then listen and keep catching up on a timer. */
  start(): Promise<void>;
  status(): SiteStatus;
  /** Read the last health check report again (after a `health.check` job finished). */
  refreshHealth(): Promise<void>;
  /** Run a catch-up pass now (or join the running one, with one more after it). */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

export function createSite(opts: SiteOptions): Site {
  const { config, manifest, enqueue, enqueueMany, logger, metrics, events } = opts;
  const name = config.name;
  const doctypes = Object.keys(manifest.realtime);
  const entries = scheduleEntries(manifest, opts.scheduleAt);
  const client = clientForSite(config, { onWait: markStalled, ...opts.rest });
  let subscriber: Subscriber | null = null;
  let scheduler: { stop(): void } | null = null;
  let catchupTimer: NodeJS.Timeout | null = null;
  let healthTimer: NodeJS.Timeout | null = null;
  /** A catch-up pass is in flight; `again` asks for one more after it. */
  let catchup: Promise<void> | null = null;
  let again = false;
  let stopping = false;
  /** The realtime probe of the current link: `gen` changes on every connect and disconnect. */
  const probe = { gen: 0, running: false, ok: false, error: null as string | null };
  const state: Omit<SiteStatus, 'realtime'> = {
    name,
    url: config.url,
    rest: { ok: false, error: null, user: null, checkedAt: null },
    timeZone: null,
    catchup: { running: false, lastRunAt: null, lastDocuments: 0, error: null },
  };

  /** The last health check's report (sidecar/handlers/health/), read from the job store's meta. */
  let health: HealthSummary | null = null;
  const refreshHealth = async (): Promise<void> => {
    try {
      const report = await readLastReport(opts.meta, name);
      health = report ? summarize(report) : null;
    } catch (e) {
      logger.debug({ site: name, error: redactSecrets(describeError(e)) }, `could not read the health check report of ${name}`);
    }
  };
  /** Down spans of the realtime link, for the health check (sidecar/realtime/downtime.ts). */
  const downtime = createDowntimeRecorder({
    site: name,
    meta: opts.meta,
    onError: (e) => logger.warn({ site: name, error: redactSecrets(describeError(e)) }, `could not record the realtime link state of ${name}`),
  });

  const dispatch = async (v: DocVersion): Promise<void> => {
    for (const job of jobsForVersion(manifest, v)) await enqueue(job);
  };

  async function checkHealth(): Promise<void> {
    const before = state.rest.error;
    const wasOk = state.rest.ok;
    try {
      const user = await client.call<string>('frappe.auth.get_logged_user', {}, 'GET');
      state.rest = { ok: true, error: null, user: user ?? null, checkedAt: new Date().toISOString() };
      if (!wasOk) events.emit('health', name, true);
      if (!wasOk) logger.info({ site: name, user }, `site ${name} reachable, signed in as ${user}`);
      void refreshHealth();
      if (!state.timeZone) {
        const tz = await client.call<{ time_zone: string }>('frappe.client.get_time_zone', {}, 'GET');
        state.timeZone = tz?.time_zone ?? null;
        if (state.timeZone && entries.length && !scheduler) {
          scheduler = startScheduler({ site: name, timeZone: state.timeZone, entries, enqueue, logger });
        }
      }
      // A link that has not proven it hears the site (a failed or deaf probe) is asked again.
      if (!probe.ok) void runProbe();
    } catch (e) {
      const error = redactSecrets(describeError(e));
      state.rest = { ok: false, error, user: null, checkedAt: new Date().toISOString() };
      if (error !== before) {
        logger.error({ site: name, event: 'site_unhealthy', error }, `site ${name} is not usable: ${error}`);
        events.emit('health', name, false, error);
      }
    }
  }

  function runCatchup(): Promise<void> {
    if (catchup) {
      again = true;
      return catchup;
    }
    const pass = async () => {
      state.catchup.running = true;
      let documents = 0;
      try {
        for (const doctype of doctypes) {
          if (stopping) break;
          const key = `wm|${name}|${doctype}`;
          const result = await catchUp({
            site: name,
            doctype,
            client,
            logger,
            getWatermark: () => opts.meta.get(key),
            setWatermark: (m) => opts.meta.set(key, m),
            shouldStop: () => stopping,
            // A page at a time: its versions' jobs in one durable store batch, not one write each.
            onPage: async (versions) => {
              metrics.catchupDocuments.inc({ site: name, doctype }, versions.length);
              const heardAtMs = Date.now();
              await enqueueMany(jobsForVersions(manifest, versions.map((v) => ({ site: name, doctype, name: v.name, modified: v.modified, source: 'catchup', heardAtMs }))));
            },
          });
          documents += result.documents;
        }
        state.catchup = { running: false, lastRunAt: new Date().toISOString(), lastDocuments: documents, error: null };
        events.emit('catchup', name, documents);
      } catch (e) {
        const error = redactSecrets(describeError(e));
        state.catchup = { ...state.catchup, running: false, error };
        logger.warn({ site: name, error }, `catch-up for ${name} failed; will try again: ${error}`);
      }
    };
    catchup = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopping);
      catchup = null;
    })();
    return catchup;
  }

  /**
   * Prove that this site's events reach the current link (lib/frappe/realtime/probe.ts): readiness waits for
   * it, and a sidecar that listens on another site's namespace says so instead of being ready.
   * Runs once per connect (again if the link changed while it ran) and on health checks until it
   * succeeds.
   */
  async function runProbe(): Promise<void> {
    const sub = subscriber;
    if (!sub || probe.running) return;
    probe.running = true;
    try {
      while (sub.connected && !stopping) {
        const gen = probe.gen;
        const result = await probeRealtime({
          site: name,
          listen: (event, fn) => sub.listen(event, fn),
          trigger: () => client.call(PROBE_METHOD, {}, 'POST'),
          timeoutMs: opts.realtimeProbeTimeoutMs ?? PROBE_TIMEOUT_MS,
        });
        if (gen !== probe.gen) continue; // the link changed meanwhile: probe the new one
        const before = probe.error;
        probe.ok = result.ok;
        probe.error = result.ok ? null : result.error;
        if (result.ok) {
          logger.info({ site: name, event: 'realtime_events_arrive' }, `realtime events of ${name} reach the sidecar`);
        } else if (result.error !== before) {
          const log = result.deaf ? logger.error.bind(logger) : logger.warn.bind(logger);
          log({ site: name, event: result.deaf ? 'realtime_deaf' : 'realtime_probe_failed', error: result.error }, `site ${name}: ${result.error}`);
        }
        events.emit('probe', name, result.ok, result.ok ? undefined : result.error);
        break;
      }
    } finally {
      probe.running = false;
    }
  }

  /** The probe's verdict no longer holds once the link changes. */
  function linkChanged(): void {
    probe.gen += 1;
    probe.ok = false;
    probe.error = null;
  }

  /** A list_update carries no `modified`: read it, so realtime and catch-up name the same version. */
  async function onListUpdate(doctype: string, docName: string, heardAtMs: number): Promise<void> {
    try {
      const rows = await client.getList<{ name: string; modified: string }>(doctype, {
        fields: ['name', 'modified'],
        filters: [['name', '=', docName]],
        orderBy: 'modified desc',
        limitPageLength: 1,
      });
      await dispatch({ site: name, doctype, name: docName, modified: rows[0]?.modified ?? null, source: 'realtime', heardAtMs });
    } catch (e) {
      // Not lost: the next catch-up pass lists it from the watermark.
      logger.warn({ site: name, doctype, name: docName, error: redactSecrets(describeError(e)) }, `could not read ${doctype} ${docName} after a realtime event; catch-up will`);
    }
  }

  return {
    name,
    client,
    async start() {
      await checkHealth();
      healthTimer = setInterval(() => void checkHealth(), opts.healthIntervalMs ?? 30_000);
      healthTimer.unref();
      // Fix the watermark before listening: on a first start, a document saved between the connect and
      // the room join is then above the watermark and found by the catch-up that follows the connect.
      if (doctypes.length && state.rest.ok) await runCatchup();
      await refreshHealth();
      // Not connected yet: down until the first connect (a link that was down when the process stopped stays down).
      downtime.down();
      subscriber = createSubscriber({
        site: name,
        url: config.url,
        realtimeUrl: config.realtimeUrl,
        apiKey: config.apiKey,
        apiSecret: config.apiSecret,
        doctypes,
        logger,
        metrics,
        reconnectBaseMs: opts.reconnectBaseMs,
        onConnect: () => {
          linkChanged();
          downtime.up();
          events.emit('realtime', name, true);
          void runProbe();
          void runCatchup();
        },
        onDisconnect: (reason) => {
          linkChanged();
          downtime.down();
          events.emit('realtime', name, false, reason);
        },
        onRefused: (reason) => {
          downtime.down();
          events.emit('realtime', name, false, reason);
        },
        onListUpdate: (e, heard) => void onListUpdate(e.doctype, String(e.name), heard),
      });
      if (doctypes.length) {
        catchupTimer = setInterval(() => void runCatchup(), opts.catchupIntervalMs);
        catchupTimer.unref();
      }
    },
    status() {
      const connected = subscriber?.connected ?? false;
      const eventsArrive = connected && probe.ok;
      const eventsError = eventsArrive ? null : connected ? (probe.error ?? 'checking that this site\'s events reach the sidecar') : 'no realtime link';
      const realtime = { connected, error: subscriber?.lastError ?? null, eventsArrive, eventsError };
      return { name: state.name, url: state.url, rest: state.rest, realtime, timeZone: state.timeZone, catchup: state.catchup, health };
    },
    refreshHealth,
    catchUp: runCatchup,
    async stop() {
      stopping = true;
      if (catchupTimer) clearInterval(catchupTimer);
      if (healthTimer) clearInterval(healthTimer);
      scheduler?.stop();
      subscriber?.close();
      await (catchup ?? Promise.resolve());
      await downtime.flush();
    },
  };
}
