/**
 * The same mails give the same leads however late the sidecar sees them. One mixed sequence of
 * customer (Received) and salesperson (Sent) mails across several leads is written three times on
 * fresh leads: processed live (each mail handled before the next is written), while the sidecar is
 * stopped (catch-up after it starts), and as a backlog of queued jobs (events lost, every job queued
 * at once after the last mail). The end state of every lead in the later runs must equal the live
 * run's — compared run against run, times relative to each lead's creation, not against
 * hand-written expectations. The emulator's clock moves; nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../lib/config/load.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { control, setClock } from '../helpers/emulator.js';
import { communicationJob, configFor, installedSite, startWith, subscribedTo, until, wallMs, writeMail, type InstalledSite } from '../helpers/sidecar.js';

const manifest = parseManifest({ app: 'crm_order_companion', realtime: { Communication: { list_update: ['comms.communication'] } } });

/** Per lead, its mails in order: R = the customer writes, S = the salesperson answers. */
const SEQUENCES = ['RS', 'SR', 'RSR', 'SRS', 'RRS', 'SSRR', 'RSRS', 'RSRR'];
/** Minutes between two consecutive mails of the whole run (mails of different leads interleave). */
const STEP_MINUTES = 3;
const COMPARED = ['status', 'communication_status', 'sla', 'sla_status', 'first_response_time'] as const;
const COMPARED_TIMES = ['sla_creation', 'response_by', 'first_responded_on'] as const;

let site: InstalledSite;
let config: SidecarConfig;
let sc: Sidecar | null = null;

async function get(doctype: string, name: string): Promise<any> {
  const res = await site.rep.get(doctype, name);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}



async function allHandled(s: Sidecar, names: string[]): Promise<void> {
  const want = new Set(names);
  await until(
    s,
    async () => {
      const done = new Set((await s.store.list('completed', 100_000)).filter((j) => j.name === 'comms.communication').map((j) => String(j.data.name)));
      return [...want].every((n) => done.has(n));
    },
    `the jobs of ${names.length} Communication(s)`,
    30_000,
  );
  const failed = (await s.store.list('failed', 100_000)).filter((j) => j.name === 'comms.communication');
  expect(failed.map((j) => j.lastError)).toEqual([]);
}

async function linked(s: Sidecar): Promise<void> {
  await until(s, () => s.status()[0].realtime.connected && s.status()[0].catchup.lastRunAt !== null, 'the realtime link and first catch-up');
  await subscribedTo(site.emu, 'Communication');
}

async function running(): Promise<Sidecar> {
  if (!sc) {
    sc = await startWith({ config, manifest });
    await linked(sc);
  }
  return sc;
}

async function stopped(): Promise<void> {
  await sc?.stop(1000);
  sc = null;
}

type Mode = 'live' | 'catch-up' | 'backlog';

/**
 * Writes the sequences on new leads (created at the run's start, as the CRM UI does: status New),
 * interleaved, one mail every STEP_MINUTES, and returns each lead's end state with its times made
 * relative to the lead's creation.
 */
async function runSequences(mode: Mode, startsAt: string): Promise<Record<string, unknown>[]> {
  await setClock(site.emu, startsAt);
  if (mode === 'catch-up') await stopped();
  else await running();
  const leads: any[] = [];
  for (const [i, seq] of SEQUENCES.entries()) {
    const res = await site.rep.insert('CRM Lead', { first_name: `${mode}-${i}-${seq}`, status: 'New', email: `lead${i}@customer.example`, lead_owner: site.rep.user });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    leads.push(res.body.data);
  }
  if (mode === 'backlog') await control(site.emu, '/faults', { realtime: 'drop' });
  const written: any[] = [];
  const longest = Math.max(...SEQUENCES.map((s) => s.length));
  for (let step = 0; step < longest; step++) {
    for (const [i, seq] of SEQUENCES.entries()) {
      const direction = seq[step] as 'S' | 'R' | undefined;
      if (!direction) continue;
      await control(site.emu, '/clock', { advance_seconds: STEP_MINUTES * 60 });
      const comm = await writeMail(site, direction === 'S' ? 'Sent' : 'Received', 'CRM Lead', leads[i].name);
      written.push(comm);
      if (mode === 'live') await allHandled(sc!, [comm.name]);
    }
  }
  // The sidecar sees the mails well after the last one: a downtime longer than a step.
  await control(site.emu, '/clock', { advance_seconds: 20 * 60 });
  if (mode === 'catch-up') await allHandled(await running(), written.map((c) => c.name));
  if (mode === 'backlog') {
    await control(site.emu, '/faults', undefined, 'DELETE');
    for (const comm of written) await sc!.store.enqueue(communicationJob(comm));
    await allHandled(sc!, written.map((c) => c.name));
  }
  const states: Record<string, unknown>[] = [];
  for (const l of leads) {
    const lead = await get('CRM Lead', l.name);
    const state: Record<string, unknown> = { sequence: SEQUENCES[states.length] };
    for (const f of COMPARED) state[f] = lead[f] ?? null;
    for (const f of COMPARED_TIMES) state[`${f} (s after creation)`] = lead[f] ? (wallMs(lead[f]) - wallMs(lead.creation)) / 1000 : null;
    states.push(state);
  }
  return states;
}

beforeAll(async () => {
  site = await installedSite('Europe/Berlin');
  config = configFor(site);
});

afterAll(async () => {
  await stopped();
  await site?.emu.close();
});

describe('email direction: catch-up and a backlog end where live processing ends', () => {
  let live: Record<string, unknown>[];

  it('live: each mail handled before the next', async () => {
    live = await runSequences('live', '2026-03-02T08:00:00Z');
    // The sequences reach both outcomes, so the comparisons below compare something.
    expect(live.map((s) => s.sla)).toContain('Customer Follow-up Response SLA');
    expect(live.map((s) => s.sla)).toContain('Lead Response SLA');
    expect(live.map((s) => s.sla_status)).toContain('First Response Due');
    expect(live.map((s) => s.sla_status)).toContain('Fulfilled');
  });

  it('with the sidecar stopped while every mail is written, catch-up gives the same end state', async () => {
    expect(await runSequences('catch-up', '2026-03-03T08:00:00Z')).toEqual(live);
  });

  it('with every job queued after the last mail, the backlog gives the same end state', async () => {
    expect(await runSequences('backlog', '2026-03-04T08:00:00Z')).toEqual(live);
  });
});
