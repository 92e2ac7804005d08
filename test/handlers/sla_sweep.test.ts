/**
 * `sla.sweep` / `sla.notify` against the emulator over 127.0.0.1, in a site whose System Settings
 * time zone is Asia/Kolkata while this process runs in America/Los_Angeles: the sweep must judge
 * "overdue" on the site's clock (its HTTP `Date`) in the site's zone, re-save through bulk_update so
 * CRM/Helpdesk set Failed themselves, and tell the owner once per SLA cycle.
 * The emulator's clock is moved; nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/manifest/load.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { configFor, installedSite, runJob, siteNow, startWith, until, wallMs, type InstalledSite } from '../helpers/sidecar.js';

const TZ = 'Asia/Kolkata';
let site: InstalledSite;
let sc: Sidecar;
let savedTz: string | undefined;
let tick = Date.UTC(2030, 0, 1);

/** One sweep, as the scheduler would enqueue it (a fresh minute slot each time). */
async function sweep(): Promise<void> {
  tick += 60_000;
  await runJob(sc, tickJob('sla.sweep', SITE, new Date(tick), TZ));
  // Its notifications are jobs of their own: wait until none is left waiting or running.
  await until(
    sc,
    async () => {
      const counts = await sc.store.counts();
      if (counts.failed) throw new Error(`dead letters: ${JSON.stringify((await sc.store.list('failed')).map((j) => [j.id, j.lastError]))}`);
      return counts.waiting === 0 && counts.active === 0;
    },
    'the notification jobs',
  );
}

async function get(doctype: string, name: string): Promise<any> {
  const res = await site.rep.get(doctype, name);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function insert(doctype: string, doc: Record<string, unknown>): Promise<any> {
  const res = await site.rep.insert(doctype, doc);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function notificationsAbout(name: string): Promise<any[]> {
  const res = await site.root.list('Notification Log', {
    filters: [['document_name', '=', name]],
    fields: ['name', 'for_user', 'type', 'document_type', 'document_name', 'subject'],
    limit_page_length: 0,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

async function counter(name: 'slaChecked' | 'slaFailed' | 'slaNotified', doctype: string): Promise<number> {
  const m = await sc.metrics[name].get();
  return m.values.filter((v) => v.labels.doctype === doctype).reduce((a, v) => a + v.value, 0);
}

beforeAll(async () => {
  savedTz = process.env.TZ;
  process.env.TZ = 'America/Los_Angeles';
  site = await installedSite(TZ);
  // Monday 2026-03-02 10:00 in Kolkata; months away from the host's clock, so a sweep that read
  // its own clock instead of the site's would fail everything (or nothing).
  await setClock(site.emu, '2026-03-02T04:30:00Z');
  sc = await startWith({ config: configFor(site), manifest: parseManifest({ app: 'crm_order_companion' }) });
});

afterEach(async () => {
  await control(site.emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('SLA failure detector', () => {
  it('fails an overdue lead through a save, and tells its owner exactly once', async () => {
    // The CRM UI sends status New, so Lead Response SLA (doc.status == 'New') applies.
    const lead = await insert('CRM Lead', { first_name: 'Asha', last_name: 'Overdue', status: 'New', lead_owner: site.rep.user });
    expect(lead.sla).toBe('Lead Response SLA');
    expect(lead.sla_status).toBe('First Response Due');
    expect(lead.response_by.slice(0, 19)).toBe('2026-03-02 12:00:00');

    await sweep();
    expect((await get('CRM Lead', lead.name)).sla_status).toBe('First Response Due');

    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
    await sweep();
    const failed = await get('CRM Lead', lead.name);
    expect(failed.sla_status).toBe('Failed');
    // A real save: CRM's engine decided, and the Version log has it.
    const versions = await site.root.list('Version', { filters: [['ref_doctype', '=', 'CRM Lead'], ['docname', '=', lead.name]], fields: ['data'], limit_page_length: 0 });
    expect(versions.body.data.some((v: any) => JSON.parse(v.data).changed.some((c: unknown[]) => c[0] === 'sla_status' && c[2] === 'Failed'))).toBe(true);

    const notes = await notificationsAbout(lead.name);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ for_user: site.rep.user, type: 'Alert', document_type: 'CRM Lead', document_name: lead.name });
    expect(notes[0].subject).toContain(`SLA failed: CRM Lead ${lead.name} (Asha Overdue)`);
    expect(await counter('slaFailed', 'CRM Lead')).toBe(1);
    expect(await counter('slaNotified', 'CRM Lead')).toBe(1);

    await sweep();
    await sweep();
    expect(await notificationsAbout(lead.name)).toHaveLength(1);
    expect(await counter('slaNotified', 'CRM Lead')).toBe(1);
  });

  it("judges overdue on the site's clock in the site's zone, not the sidecar's", async () => {
    const early = await insert('CRM Lead', { first_name: 'Early', status: 'New', lead_owner: site.rep.user });
    await control(site.emu, '/clock', { advance_seconds: 20 * 60 });
    const late = await insert('CRM Lead', { first_name: 'Late', status: 'New', lead_owner: site.rep.user });
    await control(site.emu, '/clock', { advance_seconds: 110 * 60 });

    // The premise, on the site's own wall clock: one is 10 minutes past due, the other due in 10.
    const now = wallMs(await siteNow(site.emu));
    expect(Math.round((now - wallMs(early.response_by)) / 60_000)).toBe(10);
    expect(Math.round((wallMs(late.response_by) - now) / 60_000)).toBe(10);

    await sweep();
    expect((await get('CRM Lead', early.name)).sla_status).toBe('Failed');
    const untouched = await get('CRM Lead', late.name);
    expect(untouched.sla_status).toBe('First Response Due');
    // Not even re-saved: the sweep's cutoff is the site's now, not a later (or earlier) clock.
    expect(untouched.modified).toBe(late.modified);
    expect(await notificationsAbout(early.name)).toHaveLength(1);
    expect(await notificationsAbout(late.name)).toHaveLength(0);
  });

  it('sweeps deals too, and notifies the deal owner', async () => {
    const admin = site.root;
    const sla = await admin.insert('CRM Service Level Agreement', {
      sla_name: 'Deal Response SLA',
      apply_on: 'CRM Deal',
      enabled: 1,
      priorities: [{ priority: 'Open', first_response_time: 3600, default_priority: 1 }],
      working_hours: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map((workday) => ({ workday, start_time: '00:00:00', end_time: '23:59:59' })),
    });
    expect(sla.status, JSON.stringify(sla.body)).toBe(200);
    const deal = await insert('CRM Deal', { status: 'Qualification', first_name: 'Dev', deal_owner: site.rep.user });
    expect(deal.sla).toBe('Deal Response SLA');
    await control(site.emu, '/clock', { advance_seconds: 3600 + 60 });
    await sweep();
    expect((await get('CRM Deal', deal.name)).sla_status).toBe('Failed');
    const notes = await notificationsAbout(deal.name);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ for_user: site.rep.user, document_type: 'CRM Deal' });
    expect(await counter('slaFailed', 'CRM Deal')).toBe(1);
  });

  it('a lead answered in time but never re-saved becomes Fulfilled, not Failed, and nobody is told', async () => {
    const lead = await insert('CRM Lead', { first_name: 'Quick', status: 'New', lead_owner: site.rep.user });
    await control(site.emu, '/clock', { advance_seconds: 600 });
    // Frappe records the first response with db_set: sla_status stays "First Response Due".
    const mail = await site.rep.insert('Communication', {
      subject: 'Re: hello', communication_medium: 'Email', communication_type: 'Communication', sent_or_received: 'Sent',
      sender: site.rep.user, recipients: 'quick@customer.example', reference_doctype: 'CRM Lead', reference_name: lead.name,
    });
    expect(mail.status).toBe(200);
    expect((await get('CRM Lead', lead.name)).sla_status).toBe('First Response Due');
    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 });
    await sweep();
    expect((await get('CRM Lead', lead.name)).sla_status).toBe('Fulfilled');
    expect(await notificationsAbout(lead.name)).toHaveLength(0);
  });

  it('marks an overdue HD Ticket Failed (Helpdesk Default SLA, Mon–Fri 10–18, 8 h response)', async () => {
    const ticket = await insert('HD Ticket', { subject: 'Cake arrived squashed', raised_by: 'upset@customer.example', description: '<p>Photo attached</p>' });
    expect(ticket.agreement_status).toBe('First Response Due');
    await sweep();
    expect((await get('HD Ticket', String(ticket.name))).agreement_status).toBe('First Response Due');
    await control(site.emu, '/clock', { advance_seconds: 3 * 86400 });
    expect(wallMs(await siteNow(site.emu))).toBeGreaterThan(wallMs(ticket.response_by));
    await sweep();
    expect((await get('HD Ticket', String(ticket.name))).agreement_status).toBe('Failed');
    expect(await counter('slaFailed', 'HD Ticket')).toBe(1);
  });

  it('writes every overdue document in a few bulk_update calls, not one PUT each', async () => {
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await insert('CRM Lead', { first_name: `Batch ${i}`, status: 'New', lead_owner: site.rep.user })).name);
    await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await sweep();
    for (const n of names) expect((await get('CRM Lead', n)).sla_status).toBe('Failed');
    const counts: Record<string, number> = await control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
    expect(Object.keys(counts).filter((k) => k.startsWith('PUT /api/resource/CRM Lead'))).toEqual([]);
    expect(counts['POST /api/method/frappe.client.bulk_update']).toBe(1);
  });
});
