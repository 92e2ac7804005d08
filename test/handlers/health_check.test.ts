/**
 * The daily health check against the emulator with the demo data set and the product installed:
 * a site with 11 SLA failures in the day and 6 submitted Sales Orders in no order history gets one
 * Notification Log per finding per recipient and one email through the site's own mail
 * (communication.email.make → Email Queue), once per day — a second run the same day, a run whose
 * email never reached the site, and a run that died after the site sent the email add nothing; a
 * healthy site gets nothing; thresholds come from the configuration. The emulator's clock is
 * moved; nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH, type HealthConfig } from '../../lib/config/health.js';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { parseManifest } from '../../lib/manifest/load.js';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import { createHealthHandlers } from '../../sidecar/handlers/health/index.js';
import type { HandlerContext } from '../../sidecar/handlers/types.js';
import type { JobRecord } from '../../sidecar/jobs/types.js';
import { waitsForMapping } from '../../sidecar/shops/admin.js';
import { startSidecar, type Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { demoSalesOrder } from '../../emulator/seed/demo.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { captureLogs, configFor, installedSite, runJob, siteNow, startWith, type InstalledSite } from '../helpers/sidecar.js';

const TZ = 'Asia/Kolkata';
const MANIFEST = parseManifest({ app: 'crm_order_companion', scheduler: { daily: ['health.check'] } });
const DAY_S = 24 * 3600;
let site: InstalledSite;
let tick = Date.UTC(2031, 0, 1);

function ok(res: { status: number; body: any }): any {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** Run one tick of the check; resolves once `status` shows its report. */
async function run(sc: Sidecar): Promise<void> {
  tick += 60_000;
  const shown = new Promise<void>((resolve) => {
    const on = (s: string) => {
      if (s !== SITE) return;
      sc.events.off('health_report', on);
      resolve();
    };
    sc.events.on('health_report', on);
  });
  await runJob(sc, tickJob('health.check', SITE, new Date(tick), TZ));
  await shown;
}

/** `n` leads whose first response is overdue (CRM's Lead Response SLA: 2 hours) once the clock moves. */
async function overdueLeads(n: number, label: string): Promise<void> {
  for (let i = 0; i < n; i++) ok(await site.rep.insert('CRM Lead', { first_name: `${label} ${i}`, status: 'New', lead_owner: site.rep.user }));
  await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
}

/** `n` submitted Sales Orders of today for a customer with an explicitly linked lead, in no history. */
async function unsyncedOrders(n: number, customer: string): Promise<string[]> {
  ok(await site.root.insert('CRM Lead', { first_name: `Buyer of ${customer}`, status: 'New', custom_customer: customer }));
  const today = (await siteNow(site.emu)).slice(0, 10);
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(String(ok(await site.root.insert('Sales Order', demoSalesOrder({ customer, lines: [['CAKE-CHOC', 1 + i]], date: today, docstatus: 1 }))).name));
  return names;
}

/** Notification Logs of the health check for `day`, as "user: check" lines. */
async function healthNotes(day: string): Promise<string[]> {
  const rows = ok(await site.root.list('Notification Log', { filters: [['subject', 'like', `Health check of ${SITE} (${day})%`]], fields: ['for_user', 'subject'], limit_page_length: 0 }));
  return rows.map((r: any) => `${r.for_user}: ${String(r.subject).split('): ')[1]?.split(' ').slice(1, 3).join(' ')}`).sort();
}

/** The health check emails of `day`: their Communications and Email Queue entries. */
async function healthEmails(day: string): Promise<{ communications: number; queued: { recipient: string }[][] }> {
  const comms = ok(await site.root.list('Communication', { filters: [['subject', 'like', `Order Companion health check of ${SITE} on ${day}%`]], fields: ['name'], limit_page_length: 0 }));
  const names = comms.map((c: any) => c.name);
  const queue = names.length ? ok(await site.root.list('Email Queue', { filters: [['communication', 'in', names]], fields: ['name'], limit_page_length: 0 })) : [];
  const queued = [];
  for (const q of queue) queued.push(ok(await site.root.get('Email Queue', q.name)).recipients.map((r: any) => ({ recipient: r.recipient })));
  return { communications: names.length, queued };
}

async function requests(): Promise<Record<string, number>> {
  return control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
}

beforeAll(async () => {
  site = await installedSite(TZ, { seed: 'demo' });
  // A Monday at 10:00 in Kolkata, weeks after the demo data was made.
  await setClock(site.emu, '2027-01-11T04:30:00Z');
});

afterAll(async () => {
  await site?.emu.close();
});

describe('the daily health check, configured through the runtime', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    const config = { ...configFor(site), health: { ...DEFAULT_HEALTH, recipients: ['Administrator', site.rep.user], emailRecipients: ['ops@example.com', 'owner@example.com'] } };
    // With its HTTP server: /readyz and /metrics are where the result shows.
    sc = await startSidecar({
      config,
      manifest: MANIFEST,
      handlers: builtinHandlers,
      logger: captureLogs().logger,
      rest: { backoffBaseMs: 1, backoffMaxMs: 20, timeoutMs: 5000 },
      jobDefaults: { maxAttempts: 3, backoffMs: 5 },
      reconnectBaseMs: 20,
    });
  });
  afterAll(async () => {
    await sc?.stop(1000);
  });

  it('11 SLA failures and 6 unsynced orders: a Notification Log per finding per recipient and one email, once; a rerun the same day adds nothing', async () => {
    await overdueLeads(11, 'Overdue');
    await unsyncedOrders(6, 'Carla Mendes');
    const day = (await siteNow(site.emu)).slice(0, 10);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await run(sc);

    expect(await healthNotes(day)).toEqual([
      'Administrator: SLAs failed',
      'Administrator: submitted Sales',
      `${site.rep.user}: SLAs failed`,
      `${site.rep.user}: submitted Sales`,
    ]);
    const mail = await healthEmails(day);
    expect(mail.communications).toBe(1);
    expect(mail.queued).toEqual([[{ recipient: 'ops@example.com' }, { recipient: 'owner@example.com' }]]);
    const counts = await requests();
    expect(counts['POST /api/method/frappe.client.insert_many']).toBe(1);
    expect(counts['POST /api/method/frappe.core.doctype.communication.email.make']).toBe(1);
    expect(counts['POST /api/resource/Notification Log']).toBeUndefined();

    // What status and /metrics show.
    const health = sc.status()[0]!.health!;
    expect(health.ok).toBe(false);
    expect(health.findings.map((f) => [f.check, f.value, f.threshold])).toEqual([
      ['sla_failures', 11, 10],
      ['unsynced_orders', 6, 5],
    ]);
    const ready = (await (await fetch(`${sc.url}/readyz`)).json()) as { sites: { health: string; findings: string[] }[] };
    expect(ready.sites[0]!.health).toBe(`2 finding(s) (${day})`);
    expect(ready.sites[0]!.findings[0]).toMatch(/^11 SLAs failed in the 24 hours to .*: CRM Lead 11, CRM Deal 0, HD Ticket 0$/);
    const metrics = await (await fetch(`${sc.url}/metrics`)).text();
    expect(metrics).toContain(`coc_health_value{site="${SITE}",check="sla_failures"} 11`);
    expect(metrics).toContain(`coc_health_value{site="${SITE}",check="unsynced_orders"} 6`);
    expect(metrics).toContain(`coc_health_finding{site="${SITE}",check="unsynced_orders"} 1`);
    expect(metrics).toContain(`coc_health_finding{site="${SITE}",check="realtime_down"} 0`);

    // Later the same day (another tick, a replica, a manual run): nothing more.
    await control(site.emu, '/clock', { advance_seconds: 600 });
    await run(sc);
    expect((await healthNotes(day)).length).toBe(4);
    expect((await healthEmails(day)).communications).toBe(1);
    expect((await requests())['POST /api/method/frappe.client.insert_many']).toBe(1);
  });

  it('a healthy site gets nothing', async () => {
    // Eight days on: the failures are out of the day, the orders out of the last seven days.
    await control(site.emu, '/clock', { advance_seconds: 8 * DAY_S });
    const day = (await siteNow(site.emu)).slice(0, 10);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await run(sc);
    expect(await healthNotes(day)).toEqual([]);
    expect((await healthEmails(day)).communications).toBe(0);
    const counts = await requests();
    expect(counts['POST /api/method/frappe.client.insert_many']).toBeUndefined();
    expect(counts['POST /api/method/frappe.core.doctype.communication.email.make']).toBeUndefined();
    expect(sc.status()[0]!.health).toMatchObject({ ok: true, day, findings: [] });
  });
});

describe('the health check under faults and with other thresholds', () => {
  let sc: Sidecar;
  let config: HealthConfig;
  /** What the next run does after the site answered email.make; once. */
  let loseEmailAnswer = false;
  /** Dead letters besides the store's own. */
  let extraFailed: JobRecord[] = [];

  function sabotaged(client: FrappeClient): FrappeClient {
    return {
      ...client,
      async call(method, args, httpMethod, co) {
        const out = await client.call(method, args, httpMethod, co);
        if (method === 'frappe.core.doctype.communication.email.make' && loseEmailAnswer) {
          loseEmailAnswer = false;
          throw new Error('simulated crash after the site sent the email');
        }
        return out;
      },
    } as FrappeClient;
  }

  beforeAll(async () => {
    config = { ...DEFAULT_HEALTH, recipients: ['Administrator'], emailRecipients: ['ops@example.com'] };
    const handlers = {
      ...builtinHandlers,
      'health.check': (ctx: HandlerContext) => createHealthHandlers(config, { failedJobs: async () => [...(await sc.store.list('failed', 1000)), ...extraFailed], waitsForMapping })['health.check']!({ ...ctx, client: sabotaged(ctx.client) }),
    };
    sc = await startWith({ config: configFor(site), manifest: MANIFEST, handlers });
  });
  afterAll(async () => {
    await sc?.stop(1000);
  });

  it('thresholds come from the configuration: at the threshold is no finding, above it is', async () => {
    await control(site.emu, '/clock', { advance_seconds: 8 * DAY_S });
    await overdueLeads(11, 'Threshold');
    await unsyncedOrders(6, 'Brightside Cafe');
    let day = (await siteNow(site.emu)).slice(0, 10);
    config = { ...config, slaFailures: 11, unsyncedOrders: 6 };
    await run(sc);
    expect(await healthNotes(day)).toEqual([]);
    expect((await healthEmails(day)).communications).toBe(0);

    // The next day, with a lower SLA threshold and 2 more overdue leads: only that finding.
    await control(site.emu, '/clock', { advance_seconds: DAY_S - 3 * 3600 });
    await overdueLeads(2, 'Next day');
    day = (await siteNow(site.emu)).slice(0, 10);
    config = { ...config, slaFailures: 1, unsyncedOrders: 100 };
    await run(sc);
    expect(await healthNotes(day)).toEqual(['Administrator: SLAs failed']);
  });

  it('an email that never reached the site is sent on the retry, once; one the site sent before the run died is not sent again', async () => {
    config = { ...config, slaFailures: 10, unsyncedOrders: 5 };
    await control(site.emu, '/clock', { advance_seconds: 8 * DAY_S });
    await overdueLeads(11, 'Faulty');
    let day = (await siteNow(site.emu)).slice(0, 10);
    await control(site.emu, '/faults', { rules: [{ match: 'frappe.core.doctype.communication.email.make', mode: 'reset', status: 0, count: 1 }] });
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await run(sc);
    await control(site.emu, '/faults', undefined, 'DELETE');
    expect(await healthNotes(day)).toEqual(['Administrator: SLAs failed']);
    expect((await healthEmails(day)).communications).toBe(1);
    let counts = await requests();
    expect(counts['POST /api/method/frappe.client.insert_many']).toBe(1);
    expect(counts['POST /api/method/frappe.core.doctype.communication.email.make']).toBe(2);

    await control(site.emu, '/clock', { advance_seconds: 8 * DAY_S });
    await overdueLeads(11, 'Crashing');
    day = (await siteNow(site.emu)).slice(0, 10);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    loseEmailAnswer = true;
    await run(sc);
    expect(loseEmailAnswer).toBe(false); // the crash happened; the job store ran it again
    expect(await healthNotes(day)).toEqual(['Administrator: SLAs failed']);
    expect((await healthEmails(day)).communications).toBe(1);
    counts = await requests();
    // The re-run looked the email up (one Communication list) and did not send it again.
    expect(counts['POST /api/method/frappe.core.doctype.communication.email.make']).toBe(1);
    expect(counts['POST /api/method/frappe.client.insert_many']).toBe(1);
  });

  it("dead letters and shop orders waiting for a mapping are findings of their own site", async () => {
    await control(site.emu, '/clock', { advance_seconds: 8 * DAY_S });
    const day = (await siteNow(site.emu)).slice(0, 10);
    const job = (id: string, name: string, lastError: string, jobSite = SITE): JobRecord => ({ id, name, site: jobSite, data: {}, state: 'failed', attempts: 8, maxAttempts: 8, backoffMs: 1000, runAtMs: 0, createdAtMs: 0, updatedAtMs: 0, lastError });
    extraFailed = [
      job('order_history.rebuild|x', 'order_history.rebuild', 'RetriableError: site unavailable'),
      job('shopify|d1', 'shops.delivery', 'NeedsMappingError: needs mapping: SKU CAKE-X has no ERPNext item'),
      job('shopify|d2', 'shops.delivery', 'NeedsMappingError: needs mapping: SKU CAKE-Y has no ERPNext item'),
      job('other|1', 'order_history.rebuild', 'RetriableError: elsewhere', 'other.example.com'),
    ];
    config = { ...config, emailRecipients: [], needsMapping: 1 };
    await run(sc);
    expect(await healthNotes(day)).toEqual(['Administrator: dead letters', 'Administrator: shop orders']);
    expect(sc.status()[0]!.health!.findings.map((f) => [f.check, f.value])).toEqual([
      ['dead_letters', 1],
      ['needs_mapping', 2],
    ]);
    extraFailed = [];
  });
});
