/**
 * The SLA failure detector against the emulator on 127.0.0.1: 10,000 CRM Leads of which 2,000 are
 * past `response_by` (env BENCH_SLA_LEADS / BENCH_SLA_OVERDUE). One `sla.sweep` through the sidecar
 * (list, bulk_update in batches, re-read, the batch's Notification Logs in one insert_many) against
 * a naive port of the seed's script measured in the same run on an identical site: list every due
 * lead, PUT each one (and insert its Notification Log inline). REST calls are the emulator's
 * request counts.
 *
 * Twice: at the emulator's own speed (metrics `…_0ms`), and with every REST call of both sites held
 * 20 ± 5 ms by the emulator's latency profile, as a real site answers (`…_20ms_<overdue>of<leads>`:
 * 2,000 leads / 400 overdue by default, env BENCH_SLA_LEADS_20MS / BENCH_SLA_OVERDUE_20MS, so the
 * naive port's 801 sequential calls stay under 20 s).
 */
import { join } from 'node:path';
import pino from 'pino';
import { startEmulator, type RunningEmulator } from '../emulator/server.js';
import { asAdmin, put } from '../emulator/sites.js';
import { addUser } from '../emulator/seed/users.js';
import { install } from '../scripts/site/install.js';
import { loadDesired } from '../lib/site/records.js';
import { createFrappeClient } from '../lib/frappe/client.js';
import { siteWallClock } from '../lib/frappe/time.js';
import { builtinHandlers } from '../sidecar/handlers/index.js';
import { loadManifest, parseManifest } from '../lib/manifest/load.js';
import { startSidecar } from '../sidecar/runtime.js';
import { tickJob } from '../sidecar/scheduler.js';
import { writeResult } from './lib.js';
import { localConfig } from '../test/helpers/config.js';

const PROFILES = [
  { meanMs: 0, jitterMs: 0, leads: Number(process.env.BENCH_SLA_LEADS ?? 10_000), overdue: Number(process.env.BENCH_SLA_OVERDUE ?? 2_000) },
  { meanMs: 20, jitterMs: 5, leads: Number(process.env.BENCH_SLA_LEADS_20MS ?? 2_000), overdue: Number(process.env.BENCH_SLA_OVERDUE_20MS ?? 400) },
];
const TZ = 'Asia/Kolkata';
const OURS = 'ours.localhost';
const NAIVE = 'naive.localhost';
const ROOT = join(import.meta.dirname, '..');
const START = Date.UTC(2026, 2, 2, 4, 30); // Monday 10:00 in Kolkata

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())]);
}

/** A site with the product installed, an owner, and `leads` leads of which `overdue` are past due now. */
async function prepare(name: string, leads: number, overdue: number): Promise<{ emu: RunningEmulator; keys: { key: string; secret: string } }> {
  // One emulator per site, serving it (bench serve --site): the realtime handshake's auth
  // callback then reaches the right site.
  const emu = await startEmulator({ sites: [{ name, timeZone: TZ }], serveSite: name, defaultSite: name });
  const site = emu.site(name);
  const installer = addUser(site, { email: 'installer@example.com', roles: ['System Manager'], generate_keys: true });
  await install(
    createFrappeClient({ site: name, baseUrl: emu.url, apiKey: () => installer.api_key!, apiSecret: () => installer.api_secret! }),
    loadDesired(join(ROOT, 'doctypes'), loadManifest(join(ROOT, 'hooks_manifest.json')), join(ROOT, 'dist', 'desk')),
  );
  const owner = addUser(site, { email: 'owner@example.com', roles: ['Sales User'] });
  const companion = addUser(site, { email: 'companion@example.com', roles: ['Order Companion'], generate_keys: true });
  const insert = (n: number, label: string) =>
    asAdmin(site, (ctx) => {
      for (let i = 0; i < n; i++) put(ctx, { doctype: 'CRM Lead', first_name: `${label} ${i}`, status: 'New', lead_owner: owner.name });
    });
  emu.state.clock.set(START * 1000, true);
  insert(overdue, 'Overdue');
  emu.state.clock.advance(3 * 3600);
  insert(leads - overdue, 'Fresh');
  return { emu, keys: { key: companion.api_key!, secret: companion.api_secret! } };
}

function calls(emu: RunningEmulator, name: string): { total: number; byPath: Record<string, number> } {
  const byPath = Object.fromEntries(emu.site(name).requestCounts);
  return { total: Object.values(byPath).reduce((a, n) => a + n, 0), byPath };
}

async function failedCount(emu: RunningEmulator, name: string): Promise<number> {
  return asAdmin(emu.site(name), (ctx) => ctx.site.db.all('CRM Lead').filter((l) => l.sla_status === 'Failed').length);
}

async function ours(emu: RunningEmulator, keys: { key: string; secret: string }, overdue: number) {
  const sidecar = await startSidecar({
    config: localConfig({ name: OURS, url: emu.url, key: keys.key, secret: keys.secret }, { concurrency: 8 }),
    manifest: parseManifest({ app: 'crm_order_companion' }),
    handlers: builtinHandlers,
    logger: pino({ level: process.env.BENCH_LOG ?? 'warn' }),
    http: false,
    rest: { timeoutMs: 120_000 },
  });
  try {
    // Start counting once the sidecar's start-up calls (health, realtime handshake) are over.
    await deadline(
      (async () => {
        while (!sidecar.status()[0].realtime.connected) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'realtime link',
    );
    emu.site(OURS).requestCounts.clear();
    const t0 = process.hrtime.bigint();
    // When every overdue lead is Failed (the part the naive loop does with one PUT each), polled
    // from the emulator's memory, not over REST.
    let allFailedMs = 0;
    const poll = setInterval(() => {
      if (!allFailedMs && emu.site(OURS).db.all('CRM Lead').filter((l) => l.sla_status === 'Failed').length >= overdue) {
        allFailedMs = Number(process.hrtime.bigint() - t0) / 1e6;
      }
    }, 20);
    const tick = tickJob('sla.sweep', OURS, new Date(), TZ);
    await sidecar.store.enqueue(tick);
    const idle = () =>
      new Promise<void>((resolve, reject) => {
        const check = async () => {
          const c = await sidecar.store.counts();
          if (c.failed) reject(new Error(`dead letters: ${JSON.stringify(await sidecar.store.list('failed', 3))}`));
          else if ((await sidecar.store.get(tick.id))?.state === 'completed' && c.waiting === 0 && c.active === 0) {
            sidecar.events.off('job', check);
            resolve();
          }
        };
        sidecar.events.on('job', check);
        void check();
      });
    let sweptMs = 0;
    sidecar.events.on('job', (job: { id: string }) => {
      if (job.id === tick.id && !sweptMs) sweptMs = Number(process.hrtime.bigint() - t0) / 1e6;
    });
    await deadline(idle(), 600_000, 'the sweep and its notifications');
    const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
    clearInterval(poll);
    const c = calls(emu, OURS);
    const notifyCalls = (c.byPath['POST /api/method/frappe.client.insert_many'] ?? 0) + (c.byPath['POST /api/resource/Notification Log'] ?? 0);
    return { sweptMs, allFailedMs: allFailedMs || totalMs, totalMs, calls: c.total, sweepCalls: c.total - notifyCalls, notifyCalls, failed: await failedCount(emu, OURS), byPath: c.byPath };
  } finally {
    await sidecar.stop(5000);
  }
}

/** The seed's script, ported as it was written: one list, then one PUT (and one notification) per lead. */
async function naive(emu: RunningEmulator, keys: { key: string; secret: string }) {
  const headers = { Authorization: `token ${keys.key}:${keys.secret}`, 'Content-Type': 'application/json', 'X-Frappe-Site-Name': NAIVE };
  emu.site(NAIVE).requestCounts.clear();
  const t0 = process.hrtime.bigint();
  const now = siteWallClock(new Date(Math.floor(emu.state.clock.peekEpochMicros() / 1000)), TZ);
  const q = new URLSearchParams({
    fields: JSON.stringify(['name', 'lead_owner', 'lead_name']),
    filters: JSON.stringify([['sla_status', 'in', ['First Response Due', 'Rolling Response Due']], ['response_by', '<', now]]),
    order_by: 'response_by asc',
    limit_page_length: '0',
  });
  const listed = await fetch(`${emu.url}/api/resource/CRM Lead?${q}`, { headers }).then((r) => r.json() as Promise<{ data: { name: string; lead_owner: string; lead_name: string }[] }>);
  let sweptMs = 0;
  for (const lead of listed.data) {
    const res = await fetch(`${emu.url}/api/resource/CRM Lead/${encodeURIComponent(lead.name)}`, { method: 'PUT', headers, body: '{}' });
    const saved = (await res.json()) as { data: { sla_status: string } };
    if (saved.data?.sla_status === 'Failed' && lead.lead_owner) {
      await fetch(`${emu.url}/api/resource/Notification Log`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ for_user: lead.lead_owner, type: 'Alert', document_type: 'CRM Lead', document_name: lead.name, subject: `SLA failed: ${lead.lead_name}` }),
      }).then((r) => r.arrayBuffer());
    }
  }
  sweptMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = calls(emu, NAIVE);
  const notifyCalls = c.byPath['POST /api/resource/Notification Log'] ?? 0;
  return { totalMs: sweptMs, calls: c.total, sweepCalls: c.total - notifyCalls, notifyCalls, failed: await failedCount(emu, NAIVE) };
}

export async function run(): Promise<void> {
  const metrics: Record<string, number> = {};
  const baseline: Record<string, number> = {};
  for (const p of PROFILES) {
    const suffix = p.meanMs ? `_${p.meanMs}ms_${p.overdue}of${p.leads}` : '_0ms';
    const o = await prepare(OURS, p.leads, p.overdue);
    const n = await prepare(NAIVE, p.leads, p.overdue);
    try {
      // The sites are built at full speed; the profile holds only what is measured.
      for (const emu of [o.emu, n.emu]) if (p.meanMs) emu.state.latency.set({ meanMs: p.meanMs, jitterMs: p.jitterMs, seed: 7 });
      // Both sites now hold the same leads, and their (frozen) clocks agree on which are overdue.
      const a = await ours(o.emu, o.keys, p.overdue);
      const b = await naive(n.emu, n.keys);
      if (a.failed !== p.overdue || b.failed !== p.overdue) throw new Error(`expected ${p.overdue} failed leads, got ${a.failed} (sidecar) and ${b.failed} (naive)`);
      process.stdout.write(`sidecar requests by path${suffix}: ${JSON.stringify(a.byPath)}\n`);
      Object.assign(metrics, {
        [`leads${suffix}`]: p.leads,
        [`overdue${suffix}`]: p.overdue,
        [`failed${suffix}`]: a.failed,
        [`all_failed_ms${suffix}`]: a.allFailedMs,
        [`sweep_job_ms${suffix}`]: a.sweptMs,
        [`sweep_rest_calls${suffix}`]: a.sweepCalls,
        [`with_notifications_ms${suffix}`]: a.totalMs,
        [`notification_rest_calls${suffix}`]: a.notifyCalls,
        [`total_rest_calls${suffix}`]: a.calls,
        [`total_calls_vs_naive_ratio${suffix}`]: a.calls / b.calls,
        [`all_failed_ms_vs_naive_ratio${suffix}`]: a.allFailedMs / b.totalMs,
        [`total_ms_vs_naive_ratio${suffix}`]: a.totalMs / b.totalMs,
      });
      Object.assign(baseline, {
        [`naive_ms${suffix}`]: b.totalMs,
        [`naive_sweep_rest_calls${suffix}`]: b.sweepCalls,
        [`naive_notification_rest_calls${suffix}`]: b.notifyCalls,
        [`naive_total_rest_calls${suffix}`]: b.calls,
        [`naive_failed${suffix}`]: b.failed,
      });
    } finally {
      await o.emu.close();
      await n.emu.close();
    }
  }
  writeResult('sla_sweep', metrics, baseline);
}
