/**
 * `health.check`, the manifest's `daily` job, run at `health.time` in the site's time zone
 * (sidecar/scheduler.ts; README "Daily health check"). It measures
 * - SLA failures in the 24 hours before the run (CRM Lead, CRM Deal, HD Ticket; checks.ts),
 * - submitted Sales Orders of the last `unsyncedDays` days whose customer has a matched lead or
 *   ticket but which are in no order history (checks.ts),
 * - minutes the site's realtime link was down in those 24 hours (sidecar/realtime/downtime.ts),
 * - dead letters in the job store, and shop orders waiting for an item mapping,
 * and each value above its threshold is a finding, told to the recipients (deliver.ts) exactly
 * once per site and day: a done key per day in the job store, checked before the work and again
 * under the site's lock before anything is sent, so a crash and re-run, a second run the same
 * day, or two replicas add nothing. A healthy site gets nothing. The report is kept for `status`
 * and `/metrics` (state.ts).
 */
import { DEFAULT_HEALTH, type HealthConfig } from '../../../lib/config/health.js';
import { siteWallClock } from '../../../lib/frappe/time.js';
import type { JobRecord } from '../../jobs/types.js';
import { downMsBetween, readDowntime } from '../../realtime/downtime.js';
import { siteCutoff } from '../sla.js';
import type { HandlerContext, HandlerRegistry } from '../types.js';
import { slaFailures, unsyncedOrders } from './checks.js';
import { emailFindings, notifyFindings } from './deliver.js';
import { lastReportKey, reportToMetrics, type HealthCheckName, type HealthFinding, type HealthReport } from './state.js';

const DAY_MS = 24 * 3600_000;
/** Names listed under a finding; the number says how many there are. */
const DETAILS = 20;

export interface HealthDeps {
  /** The job store's dead letters (state failed), every site's. */
  failedJobs: () => Promise<JobRecord[]>;
  /** Which dead letters are shop orders waiting for a mapping (sidecar/shops/admin.ts waitsForMapping), counted apart. */
  waitsForMapping: (job: JobRecord) => boolean;
  /** The sidecar's clock, which the realtime spans are recorded by. @defaultValue Date.now */
  now?: () => number;
}

export const doneKey = (site: string, day: string) => `health.done|${site}|${day}`;

function finding(check: HealthCheckName, value: number, threshold: number, message: string, details: string[] = []): HealthFinding | null {
  return value > threshold ? { check, value, threshold, message, details: details.slice(0, DETAILS) } : null;
}

/** Measure everything up to `to` (the site's wall clock at `at`); no writes. */
async function measure(ctx: HandlerContext, config: HealthConfig, deps: HealthDeps, { cutoff: to, timeZone, at }: { cutoff: string; timeZone: string; at: Date }): Promise<HealthReport> {
  const from = siteWallClock(new Date(at.getTime() - DAY_MS), timeZone);
  const since = siteWallClock(new Date(at.getTime() - config.unsyncedDays * DAY_MS), timeZone).slice(0, 10);
  const sla = await slaFailures(ctx, from, to);
  const orders = await unsyncedOrders(ctx, since);
  const nowMs = (deps.now ?? Date.now)();
  const downMinutes = Math.floor(downMsBetween(await readDowntime(ctx.meta, ctx.site), nowMs - DAY_MS, nowMs) / 60_000);
  const failed = (await deps.failedJobs()).filter((j) => j.site === ctx.site);
  const needsMapping = failed.filter(deps.waitsForMapping);
  const dead = failed.filter((j) => !deps.waitsForMapping(j));
  const values: Record<HealthCheckName, number> = {
    sla_failures: sla.total,
    unsynced_orders: orders.unsynced.length,
    realtime_down: downMinutes,
    dead_letters: dead.length,
    needs_mapping: needsMapping.length,
  };
  const per = Object.entries(sla.byDoctype).map(([dt, n]) => `${dt} ${n}`).join(', ');
  const findings = [
    finding('sla_failures', sla.total, config.slaFailures, `${sla.total} SLAs failed in the 24 hours to ${to} (more than ${config.slaFailures}): ${per}`, sla.names),
    finding(
      'unsynced_orders',
      orders.unsynced.length,
      config.unsyncedOrders,
      `${orders.unsynced.length} submitted Sales Orders since ${since} are in no order history of their customer's leads or tickets (more than ${config.unsyncedOrders}); run "crm-order-companion history sync"`,
      orders.unsynced,
    ),
    finding('realtime_down', downMinutes, config.realtimeDownMinutes, `the realtime link was down ${downMinutes} minutes in the last 24 hours (more than ${config.realtimeDownMinutes}); changes were picked up by catch-up only`),
    finding('dead_letters', dead.length, config.deadLetters, `${dead.length} dead letters in the job store (more than ${config.deadLetters}); see "crm-order-companion jobs list --state failed"`, dead.map((j) => j.id)),
    finding('needs_mapping', needsMapping.length, config.needsMapping, `${needsMapping.length} shop orders wait for an item mapping (more than ${config.needsMapping}); see "crm-order-companion shops list"`, needsMapping.map((j) => j.id)),
  ].filter((f): f is HealthFinding => f !== null);
  return { site: ctx.site, day: to.slice(0, 10), from, to, checkedAt: new Date(nowMs).toISOString(), values, findings, notified: 0, emailed: false };
}

export function createHealthHandlers(config: HealthConfig = DEFAULT_HEALTH, deps: HealthDeps): HandlerRegistry {
  return {
    'health.check': async (ctx: HandlerContext) => {
      const cutoff = await siteCutoff(ctx);
      const key = doneKey(ctx.site, cutoff.cutoff.slice(0, 10));
      // Done today: not even measured again (checked once more under the lock below).
      if (await ctx.meta.get(key)) {
        ctx.logger.info({ event: 'health_check_done_today', day: cutoff.cutoff.slice(0, 10) }, `health check of ${ctx.site} already ran on ${cutoff.cutoff.slice(0, 10)}; nothing sent again`);
        return;
      }
      const report = await measure(ctx, config, deps, cutoff);
      const delivered = await ctx.lock('health.check', async () => {
        if (await ctx.meta.get(key)) return false;
        if (report.findings.length) {
          let self: Promise<string> | null = null;
          const whoAmI = () =>
            (self ??= ctx.client.call<string>('frappe.auth.get_logged_user', {}, 'GET', { signal: ctx.signal }).then((u) => {
              if (!u) throw new Error(`site ${ctx.site} did not say who its API user is (frappe.auth.get_logged_user)`);
              return u;
            }));
          report.notified = config.recipients.length ? await notifyFindings(ctx, report, config.recipients, whoAmI) : 0;
          report.emailed = config.emailRecipients.length ? await emailFindings(ctx, report, config.emailRecipients) : false;
        }
        // The report first: a run that dies between the two leaves the day to be finished, not unshown.
        await ctx.meta.set(lastReportKey(ctx.site), JSON.stringify(report));
        await ctx.meta.set(key, report.findings.length ? 'findings' : 'healthy');
        return true;
      });
      if (!delivered) {
        ctx.logger.info({ event: 'health_check_done_today', day: report.day }, `health check of ${ctx.site} already ran on ${report.day}; nothing sent again`);
        return;
      }
      reportToMetrics(ctx.metrics, report);
      ctx.logger.info(
        { event: 'health_check', day: report.day, values: report.values, findings: report.findings.map((f) => f.check), notified: report.notified, emailed: report.emailed },
        report.findings.length
          ? `health check of ${ctx.site} on ${report.day}: ${report.findings.length} finding(s) — ${report.findings.map((f) => f.check).join(', ')}; ${report.notified} notification(s)${report.emailed ? ', emailed' : ''}`
          : `health check of ${ctx.site} on ${report.day}: healthy`,
      );
    },
  };
}
