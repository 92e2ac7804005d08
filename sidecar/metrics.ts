/**
 * Prometheus metrics, one registry per sidecar (tests run several in one process).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    restCalls: new Counter({
      name: 'coc_frappe_rest_calls_total',
      help: 'REST calls to Frappe sites, by site, method, endpoint and outcome',
      labelNames: ['site', 'method', 'endpoint', 'outcome'] as const,
      registers: [registry],
    }),
    restRetries: new Counter({
      name: 'coc_frappe_rest_retries_total',
      help: 'REST calls retried after a network error, 5xx or 429',
      labelNames: ['site', 'endpoint'] as const,
      registers: [registry],
    }),
    realtimeConnected: new Gauge({
      name: 'coc_realtime_connected',
      help: '1 while the realtime link of a site is connected',
      labelNames: ['site'] as const,
      registers: [registry],
    }),
    realtimeEvents: new Counter({
      name: 'coc_realtime_events_total',
      help: 'Realtime events received, by site and event',
      labelNames: ['site', 'event'] as const,
      registers: [registry],
    }),
    eventToHandler: new Histogram({
      name: 'coc_event_to_handler_seconds',
      help: 'Time from an event being heard (realtime or catch-up) to its handler starting',
      labelNames: ['site', 'source'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    catchupDocuments: new Counter({
      name: 'coc_catchup_documents_total',
      help: 'Documents found by catch-up listings',
      labelNames: ['site', 'doctype'] as const,
      registers: [registry],
    }),
    jobs: new Gauge({
      name: 'coc_jobs',
      help: 'Jobs by state',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    slaChecked: new Counter({
      name: 'coc_sla_checked_total',
      help: 'Documents the SLA sweep found overdue (still "due" after their deadline) and re-saved, by site and DocType',
      labelNames: ['site', 'doctype'] as const,
      registers: [registry],
    }),
    slaFailed: new Counter({
      name: 'coc_sla_failed_total',
      help: 'Documents the SLA sweep saw turn Failed, by site and DocType',
      labelNames: ['site', 'doctype'] as const,
      registers: [registry],
    }),
    slaNotified: new Counter({
      name: 'coc_sla_notified_total',
      help: 'Notification Logs written for failed SLAs, by site and DocType',
      labelNames: ['site', 'doctype'] as const,
      registers: [registry],
    }),
    communicationsApplied: new Counter({
      name: 'coc_communications_applied_total',
      help: 'Communications applied to a lead/deal (status, communication status, SLA restart), by site, DocType and direction',
      labelNames: ['site', 'doctype', 'direction'] as const,
      registers: [registry],
    }),
    shopDeliveries: new Counter({
      name: 'coc_shop_deliveries_total',
      help: 'Shop webhook deliveries by shop and result (stored, duplicate, ignored, unauthorized, stale, malformed, too_large, unsupported_media_type, unavailable)',
      labelNames: ['shop', 'result'] as const,
      registers: [registry],
    }),
    shopOrders: new Counter({
      name: 'coc_shop_orders_total',
      help: 'Shop orders applied to ERPNext by shop and result (created, updated, unchanged, stale, cancelled, flagged, needs_mapping)',
      labelNames: ['shop', 'result'] as const,
      registers: [registry],
    }),
    shopInbox: new Gauge({
      name: 'coc_shop_inbox',
      help: 'Stored shop deliveries and orders not yet applied (waiting or running)',
      registers: [registry],
    }),
    shopNeedsMapping: new Gauge({
      name: 'coc_shop_needs_mapping',
      help: 'Shop orders parked because a SKU has no ERPNext item (fix the mapping, then retry)',
      registers: [registry],
    }),
    healthValue: new Gauge({
      name: 'coc_health_value',
      help: 'What the last daily health check measured, by site and check (sla_failures, unsynced_orders, realtime_down minutes, dead_letters, needs_mapping)',
      labelNames: ['site', 'check'] as const,
      registers: [registry],
    }),
    healthFinding: new Gauge({
      name: 'coc_health_finding',
      help: '1 when the last daily health check found the check above its threshold, by site and check',
      labelNames: ['site', 'check'] as const,
      registers: [registry],
    }),
    healthLastRun: new Gauge({
      name: 'coc_health_last_run_timestamp_seconds',
      help: 'When the last daily health check of a site finished (Unix time)',
      labelNames: ['site'] as const,
      registers: [registry],
    }),
    jobRuns: new Counter({
      name: 'coc_job_runs_total',
      help: 'Job attempts by name and outcome',
      labelNames: ['name', 'outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
