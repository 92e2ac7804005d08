/**
 * What `sla.sweep` records for the console's SLA view, against the emulator over 127.0.0.1 (a site
 * in Asia/Kolkata whose clock is months from this process's): swept / failed / notified per DocType
 * and per owner (lead owner; ticket assignees; "" for none), counted on the site's day; the last
 * sweep; a sweep re-run after it died between recording and completing is not counted twice; a
 * new site day starts a new record, and the week and the chart add the days up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import { readSlaStats } from '../../sidecar/handlers/sla_stats.js';
import type { HandlerContext } from '../../sidecar/handlers/types.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { configFor, installedSite, runJob, startWith, until, type InstalledSite } from '../helpers/sidecar.js';

const TZ = 'Asia/Kolkata';
let site: InstalledSite;
let sc: Sidecar;
let other: string;
let tick = Date.UTC(2032, 0, 1);
/** The next sla.sweep attempt throws after all its work, recording included (the store runs it again). */
let dieAfterSweep = false;

const handlers = {
  ...builtinHandlers,
  'sla.sweep': async (ctx: HandlerContext) => {
    await builtinHandlers['sla.sweep'](ctx);
    if (dieAfterSweep) {
      dieAfterSweep = false;
      throw new Error('simulated crash after the sweep recorded its counts');
    }
  },
};

async function sweep(): Promise<string> {
  tick += 60_000;
  const job = await runJob(sc, tickJob('sla.sweep', SITE, new Date(tick), TZ));
  await until(sc, async () => {
    const c = await sc.store.counts();
    return c.waiting === 0 && c.active === 0;
  }, 'an idle queue');
  return job.id;
}

const stats = () => readSlaStats((k) => sc.store.getMeta(k), SITE, Date.now(), null);

async function lead(first_name: string, owner: string): Promise<string> {
  const res = await site.rep.insert('CRM Lead', { first_name, status: 'New', ...(owner ? { lead_owner: owner } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data.name;
}

beforeAll(async () => {
  site = await installedSite(TZ);
  other = String((await control(site.emu, `/sites/${SITE}/users`, { email: 'second.rep@example.com', roles: ['Sales User', 'Agent'], password: 'pw' })).name);
  // Monday 2026-03-02 10:00 in Kolkata.
  await setClock(site.emu, '2026-03-02T04:30:00Z');
  sc = await startWith({ config: configFor(site), manifest: parseManifest({ app: 'crm_order_companion' }), handlers });
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('SLA sweep counts', () => {
  it('counts swept / failed / notified per DocType and per owner on the site day, once per sweep job', async () => {
    expect((await stats()).last).toBeNull();
    await lead('Rep one', site.rep.user);
    await lead('Rep two', site.rep.user);
    await lead('Other one', other);
    await lead('Nobody', '');
    // Helpdesk Default SLA: response by Tuesday 10:00 (8 working hours, 10–18).
    const ticket = await site.rep.insert('HD Ticket', { subject: 'Late parcel', raised_by: 'late@customer.example', description: '<p>Where?</p>', _assign: JSON.stringify([other]) });
    expect(ticket.status, JSON.stringify(ticket.body)).toBe(200);
    expect(ticket.body.data.response_by.slice(0, 16)).toBe('2026-03-03 10:00');

    // 12:01 Kolkata: the leads (2 h) are overdue. The sweep dies after recording; the store runs it
    // again, and that run must not count it a second time.
    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
    dieAfterSweep = true;
    const first = await sweep();
    expect(dieAfterSweep).toBe(false);
    expect((await sc.store.get(first))?.attempts).toBe(2);
    let s = await stats();
    expect(s.timeZone).toBe(TZ);
    expect(s.last).toMatchObject({ job: first, day: '2026-03-02', timeZone: TZ, totals: { swept: 4, failed: 4, notified: 3 }, errors: 0 });
    expect(s.last!.cutoff.slice(0, 16)).toBe('2026-03-02 12:01');
    expect(s.last!.durationMs).toBeGreaterThanOrEqual(0);
    expect(s.today).toMatchObject({ from: '2026-03-02', to: '2026-03-02', sweeps: 1, totals: { swept: 4, failed: 4, notified: 3 } });
    expect(s.today.byDoctype).toEqual({ 'CRM Lead': { swept: 4, failed: 4, notified: 3 } });
    expect(s.today.byOwner).toEqual({
      [site.rep.user]: { swept: 2, failed: 2, notified: 2 },
      [other]: { swept: 1, failed: 1, notified: 1 },
      '': { swept: 1, failed: 1, notified: 0 },
    });

    // A later sweep that finds nothing: counted as a sweep, adding nothing; it is the last one now.
    const second = await sweep();
    s = await stats();
    expect(s.today).toMatchObject({ sweeps: 2, totals: { swept: 4, failed: 4, notified: 3 } });
    expect(s.last).toMatchObject({ job: second, totals: { swept: 0, failed: 0, notified: 0 }, byDoctype: {}, byOwner: {} });
  });

  it('a new site day starts a new record; the week adds Monday and Tuesday, the chart shows each day', async () => {
    // Tuesday 10:00 Kolkata, one more lead; at 12:01 it and the ticket are overdue.
    await control(site.emu, '/clock', { advance_seconds: 22 * 3600 - 60 });
    await lead('Tuesday', site.rep.user);
    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
    await sweep();
    const s = await stats();
    expect(s.today).toMatchObject({ from: '2026-03-03', sweeps: 1, totals: { swept: 2, failed: 2, notified: 2 } });
    expect(s.today.byDoctype).toEqual({ 'CRM Lead': { swept: 1, failed: 1, notified: 1 }, 'HD Ticket': { swept: 1, failed: 1, notified: 1 } });
    expect(s.today.byOwner).toEqual({ [site.rep.user]: { swept: 1, failed: 1, notified: 1 }, [other]: { swept: 1, failed: 1, notified: 1 } });
    expect(s.week).toMatchObject({ from: '2026-03-02', to: '2026-03-03', sweeps: 3, totals: { swept: 6, failed: 6, notified: 5 } });
    expect(s.week.byOwner[other]).toEqual({ swept: 2, failed: 2, notified: 2 });
    expect(s.failuresPerDay).toHaveLength(14);
    expect(s.failuresPerDay[0]!.day).toBe('2026-02-18');
    expect(s.failuresPerDay.slice(-3)).toEqual([
      { day: '2026-03-01', failed: 0 },
      { day: '2026-03-02', failed: 4 },
      { day: '2026-03-03', failed: 2 },
    ]);
  });
});
