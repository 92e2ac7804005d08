/**
 * Scheduled jobs from `hooks_manifest.json`'s `scheduler` (the shape of Frappe's
 * `scheduler_events`, frappe/hooks.py [v15]), evaluated in each site's System Settings time zone.
 * Every replica runs the same timers; a tick enqueues a job whose id is the handler, site and the
 * tick's minute, so across replicas each tick becomes exactly one job.
 */
import { Cron } from 'croner';
import { manifestHandler, type Enqueue, type JobNameFor, type JobSpecOf, type TickPayload } from './jobs/payloads.js';
import type { Logger } from '../lib/log.js';
import type { HooksManifest } from '../lib/manifest/schema.js';

/** Frappe's implicit crons for the named frequencies (scheduled_job_type.py [v15]). */
const FREQUENCY_CRON: Record<Exclude<keyof HooksManifest['scheduler'], 'cron'>, string> = {
  all: '*/4 * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 0',
  monthly: '0 0 1 * *',
};

export interface ScheduleEntry {
  cron: string;
  handler: string;
}

/**
 * `at` moves a named-frequency entry to a configured time: handler id → cron (e.g. the health
 * check's `health.time`, lib/config/health.ts). Entries under `cron` keep the manifest's expression.
 */
export function scheduleEntries(manifest: HooksManifest, at: Record<string, string> = {}): ScheduleEntry[] {
  const out: ScheduleEntry[] = [];
  for (const [cron, handlers] of Object.entries(manifest.scheduler.cron)) for (const handler of handlers) out.push({ cron, handler });
  for (const freq of Object.keys(FREQUENCY_CRON) as (keyof typeof FREQUENCY_CRON)[]) {
    for (const handler of manifest.scheduler[freq] ?? []) out.push({ cron: at[handler] ?? FREQUENCY_CRON[freq], handler });
  }
  return out;
}

/** The tick's slot: minute precision, so replicas whose timers fire a few ms apart agree. */
export function tickJob(handler: string, site: string, tick: Date, timeZone: string): JobSpecOf<JobNameFor<TickPayload>> {
  const slot = new Date(Math.floor(tick.getTime() / 60_000) * 60_000).toISOString();
  return { id: `cron|${handler}|${site}|${slot}`, name: manifestHandler<TickPayload>(handler), site, data: { slot, timeZone }, maxAttempts: 3 };
}

export interface SchedulerOptions {
  site: string;
  timeZone: string;
  entries: ScheduleEntry[];
  /** The runner's enqueue (sidecar/jobs/runner.ts). */
  enqueue: Enqueue;
  logger: Logger;
}

export function startScheduler(opts: SchedulerOptions): { stop(): void; next(): Record<string, string | null> } {
  const crons = opts.entries.map(
    (entry) =>
      [
        entry,
        new Cron(entry.cron, { timezone: opts.timeZone, protect: true }, async (self: Cron) => {
          const tick = self.currentRun() ?? new Date();
          try {
            await opts.enqueue(tickJob(entry.handler, opts.site, tick, opts.timeZone));
          } catch (e) {
            opts.logger.error({ site: opts.site, handler: entry.handler, err: e }, `could not enqueue scheduled job ${entry.handler} for ${opts.site}`);
          }
        }),
      ] as const,
  );
  return {
    stop() {
      for (const [, c] of crons) c.stop();
    },
    next() {
      return Object.fromEntries(crons.map(([e, c]) => [`${e.handler} (${e.cron})`, c.nextRun()?.toISOString() ?? null]));
    },
  };
}
