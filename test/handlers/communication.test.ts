/**
 * `comms.communication` against the emulator over 127.0.0.1: lead status and SLA from the direction
 * of each mail, always through a REST save; idempotent per Communication; in creation order per
 * lead whatever order the events arrive in; mails written while the sidecar was down applied on
 * start (catch-up); HD Tickets left to Helpdesk. The emulator's clock is moved; nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../lib/config/load.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { communicationJob, configFor, installedSite, runJob, siteNow, startWith, subscribedTo, until, wallMs, writeMail, type InstalledSite } from '../helpers/sidecar.js';

const manifest = parseManifest({ app: 'crm_order_companion', realtime: { Communication: { list_update: ['comms.communication'] } } });
let site: InstalledSite;
let config: SidecarConfig;
let sc: Sidecar;

async function get(doctype: string, name: string): Promise<any> {
  const res = await site.rep.get(doctype, name);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

async function newLead(first_name: string): Promise<any> {
  // As the CRM UI creates leads: with status New, so Lead Response SLA applies.
  const res = await site.rep.insert('CRM Lead', { first_name, status: 'New', email: `${first_name.toLowerCase()}@customer.example`, lead_owner: site.rep.user });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.data.sla).toBe('Lead Response SLA');
  return res.body.data;
}



async function leadWhere(name: string, predicate: (lead: any) => boolean, what: string): Promise<any> {
  let lead: any;
  await until(
    sc,
    async () => {
      lead = await get('CRM Lead', name);
      return predicate(lead);
    },
    what,
  );
  return lead;
}

/** A job for this Communication has completed (heard over realtime). */
async function handled(name: string): Promise<void> {
  await until(sc, async () => (await sc.store.list('completed', 10_000)).some((j) => j.name === 'comms.communication' && j.data.name === name), `the job of Communication ${name}`);
}

async function linked(s: Sidecar): Promise<void> {
  await until(s, () => s.status()[0].realtime.connected && s.status()[0].catchup.lastRunAt !== null, 'the realtime link and first catch-up');
  await subscribedTo(site.emu, 'Communication');
}

beforeAll(async () => {
  site = await installedSite('Europe/Berlin');
  await setClock(site.emu, '2026-03-02T08:00:00Z'); // Monday 09:00 in Berlin
  config = configFor(site);
  sc = await startWith({ config, manifest });
  await linked(sc);
});

afterEach(async () => {
  await control(site.emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('email direction → lead status and SLA', () => {
  let lead: any;
  let received: any;

  it('our reply before response_by: Contacted, Replied, Fulfilled', async () => {
    lead = await newLead('Greta');
    await control(site.emu, '/clock', { advance_seconds: 30 * 60 });
    await writeMail(site, 'Sent', 'CRM Lead', lead.name);
    const after = await leadWhere(lead.name, (l) => l.communication_status === 'Replied', 'the Sent mail applied');
    expect(after).toMatchObject({ status: 'Contacted', communication_status: 'Replied', sla: 'Lead Response SLA', sla_status: 'Fulfilled' });
  });

  it("the customer's answer: OPEN, Open, Customer Follow-up Response SLA with a new response_by", async () => {
    await control(site.emu, '/clock', { advance_seconds: 3600 });
    const before = await get('CRM Lead', lead.name);
    received = await writeMail(site, 'Received', 'CRM Lead', lead.name);
    const after = await leadWhere(lead.name, (l) => l.status === 'OPEN', 'the Received mail applied');
    expect(after).toMatchObject({ communication_status: 'Open', sla: 'Customer Follow-up Response SLA', sla_status: 'First Response Due' });
    expect(after.first_responded_on).toBeUndefined();
    // The clock restarted at the save: two hours from the site's now.
    expect(wallMs(after.response_by)).toBeGreaterThan(wallMs(before.response_by));
    expect(Math.round((wallMs(after.response_by) - wallMs(await siteNow(site.emu))) / 60_000)).toBe(120);
    // A REST save: the Version log has it.
    const versions = await site.root.list('Version', { filters: [['ref_doctype', '=', 'CRM Lead'], ['docname', '=', lead.name]], fields: ['data'], limit_page_length: 0 });
    expect(versions.body.data.some((v: any) => JSON.parse(v.data).changed.some((c: unknown[]) => c[0] === 'status' && c[2] === 'OPEN'))).toBe(true);
  });

  it('the same Communication delivered again changes nothing', async () => {
    const before = await get('CRM Lead', lead.name);
    await runJob(sc, { ...communicationJob(received), id: `${communicationJob(received).id}|again` });
    await runJob(sc, communicationJob(received));
    const after = await get('CRM Lead', lead.name);
    expect(after.modified).toBe(before.modified);
    expect(after.response_by).toBe(before.response_by);
  });

  it('two mails whose events arrive newest first leave the lead as if each was applied once, in order', async () => {
    const l = await newLead('Otto');
    // Events lost: the realtime link stays up but hears nothing, so only we enqueue the jobs.
    await control(site.emu, '/faults', { realtime: 'drop' });
    await control(site.emu, '/clock', { advance_seconds: 600 });
    const sent = await writeMail(site, 'Sent', 'CRM Lead', l.name);
    await control(site.emu, '/clock', { advance_seconds: 600 });
    const reply = await writeMail(site, 'Received', 'CRM Lead', l.name);
    await control(site.emu, '/faults', undefined, 'DELETE');

    await runJob(sc, communicationJob(reply));
    const first = await get('CRM Lead', l.name);
    // In order, Sent made it Contacted, so the customer's reply reopens it as OPEN (not New).
    expect(first).toMatchObject({ status: 'OPEN', communication_status: 'Open', sla: 'Customer Follow-up Response SLA', sla_status: 'First Response Due' });
    await runJob(sc, communicationJob(sent));
    const second = await get('CRM Lead', l.name);
    expect(second.modified).toBe(first.modified);
    expect(second).toMatchObject({ status: 'OPEN', communication_status: 'Open' });
  });

  it('a second customer mail before any answer keeps the running deadline', async () => {
    const l = await newLead('Paula');
    await control(site.emu, '/clock', { advance_seconds: 600 });
    const comm = await writeMail(site, 'Received', 'CRM Lead', l.name);
    await handled(comm.name);
    const now = await get('CRM Lead', l.name);
    expect(now).toMatchObject({ status: 'New', communication_status: 'Open', sla: 'Lead Response SLA', sla_status: 'First Response Due' });
    expect(now.response_by).toBe(l.response_by);
  });

  it('mails written while the sidecar was stopped are all applied after it starts', async () => {
    await sc.stop(1000);
    const l = await newLead('Karl');
    await control(site.emu, '/clock', { advance_seconds: 300 });
    await writeMail(site, 'Sent', 'CRM Lead', l.name);
    await control(site.emu, '/clock', { advance_seconds: 300 });
    await writeMail(site, 'Received', 'CRM Lead', l.name);
    sc = await startWith({ config, manifest });
    const after = await leadWhere(l.name, (x) => x.status === 'OPEN', 'catch-up to apply both mails');
    expect(after).toMatchObject({ communication_status: 'Open', sla: 'Customer Follow-up Response SLA', sla_status: 'First Response Due' });
    await linked(sc);
  });

  it('leaves HD Tickets to Helpdesk', async () => {
    const t = await site.rep.insert('HD Ticket', { subject: 'Missing candles', raised_by: 'customer@customer.example', description: '<p>…</p>' });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    const comm = await writeMail(site, 'Received', 'HD Ticket', String(t.body.data.name));
    await handled(comm.name);
    const counts: Record<string, number> = await control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
    expect(Object.keys(counts).filter((k) => k.startsWith('PUT ') || k.includes('bulk_update'))).toEqual([]);
    const applied = await sc.metrics.communicationsApplied.get();
    expect(applied.values.filter((v) => v.labels.doctype === 'HD Ticket')).toEqual([]);
  });
});
