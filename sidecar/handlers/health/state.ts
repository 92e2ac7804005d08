/**
 * What the daily health check leaves behind for `status` and `/metrics`: its last report, kept in
 * the job store's meta (`health.last|<site>`), so every replica — and a sidecar restarted since —
 * shows the same. A module of types and keys only: sidecar/site/ reads it without importing the
 * handler.
 */
import type { HandlerMeta } from '../../jobs/handler.js';
import type { Metrics } from '../../metrics.js';

/** The checks, as named in findings, metrics (`check` label) and status. */
export const HEALTH_CHECKS = ['sla_failures', 'unsynced_orders', 'realtime_down', 'dead_letters', 'needs_mapping'] as const;
export type HealthCheckName = (typeof HEALTH_CHECKS)[number];

export interface HealthFinding {
  check: HealthCheckName;
  /** What was measured (failures, orders, minutes, jobs). */
  value: number;
  /** The configured threshold it is above. */
  threshold: number;
  /** One line for the bell, the email and `status`. */
  message: string;
  /** Names behind the number (first few), for the Notification Log's body and the email. */
  details: string[];
}

export interface HealthReport {
  site: string;
  /** The site's date of the run (`YYYY-MM-DD`, its time zone): the check runs once per such day. */
  day: string;
  /** The window the day-bound checks covered, site wall clock: the 24 hours up to the run. */
  from: string;
  to: string;
  /** When the run finished (ISO instant, the sidecar's clock). */
  checkedAt: string;
  values: Record<HealthCheckName, number>;
  findings: HealthFinding[];
  /** Notification Logs and email sent for this day (by this run or an earlier one). */
  notified: number;
  emailed: boolean;
}

export const lastReportKey = (site: string) => `health.last|${site}`;

export async function readLastReport(meta: Pick<HandlerMeta, 'get'>, site: string): Promise<HealthReport | null> {
  const raw = await meta.get(lastReportKey(site));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as HealthReport;
  } catch {
    return null;
  }
}

/** The report as gauges: each check's value, whether it is a finding, and when it ran. */
export function reportToMetrics(metrics: Pick<Metrics, 'healthValue' | 'healthFinding' | 'healthLastRun'>, report: HealthReport): void {
  for (const check of HEALTH_CHECKS) {
    metrics.healthValue.set({ site: report.site, check }, report.values[check] ?? 0);
    metrics.healthFinding.set({ site: report.site, check }, report.findings.some((f) => f.check === check) ? 1 : 0);
  }
  metrics.healthLastRun.set({ site: report.site }, Math.floor(Date.parse(report.checkedAt) / 1000));
}

/** For `/metrics` on any replica, and after a restart: the gauges from the stored reports. */
export async function refreshHealthGauges(meta: Pick<HandlerMeta, 'get'>, metrics: Pick<Metrics, 'healthValue' | 'healthFinding' | 'healthLastRun'>, sites: string[]): Promise<void> {
  for (const site of sites) {
    const report = await readLastReport(meta, site);
    if (report) reportToMetrics(metrics, report);
  }
}

/** What `status` shows of it. */
export interface HealthSummary {
  day: string;
  checkedAt: string;
  ok: boolean;
  findings: { check: HealthCheckName; value: number; threshold: number; message: string }[];
}

export function summarize(report: HealthReport): HealthSummary {
  return { day: report.day, checkedAt: report.checkedAt, ok: report.findings.length === 0, findings: report.findings.map(({ check, value, threshold, message }) => ({ check, value, threshold, message })) };
}
