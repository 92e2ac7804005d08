/**
 * The SLA sweep's Notification Logs go out in `frappe.client.insert_many` batches, still once per
 * owner per SLA cycle when the run dies at the worst moment: after Frappe committed a batch but
 * before the sidecar recorded it (the answer lost), when the batch never reached the site, and
 * after all the work but before the job completed (the job store runs it again); and a batch the
 * site refuses outright costs only the notification it refuses. The emulator's
 * clock is moved; nothing sleeps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { builtinHandlers } from '../../sidecar/handlers/index.js';
import type { HandlerContext } from '../../sidecar/handlers/types.js';
import { parseManifest } from '../../lib/manifest/load.js';
import type { Sidecar } from '../../sidecar/runtime.js';
import { tickJob } from '../../sidecar/scheduler.js';
import { SITE, control, setClock } from '../helpers/emulator.js';
import { configFor, installedSite, runJob, startWith, until, type InstalledSite } from '../helpers/sidecar.js';

const TZ = 'Asia/Kolkata';
let site: InstalledSite;
let sc: Sidecar;
let tick = Date.UTC(2031, 0, 1);

/** What the next `sla.sweep` run does to its client or after its work; once, then it behaves. */
let sabotage: { afterInsertMany?: boolean; afterSweep?: boolean } = {};

const crash = () => new Error('simulated crash');

function sabotaged(client: FrappeClient): FrappeClient {
  return {
    ...client,
    async call(method, args, httpMethod, co) {
      const out = await client.call(method, args, httpMethod, co);
      if (method === 'frappe.client.insert_many' && sabotage.afterInsertMany) {
        sabotage.afterInsertMany = false;
        throw crash();
      }
      return out;
    },
  } as FrappeClient;
}

const handlers = {
  ...builtinHandlers,
  'sla.sweep': async (ctx: HandlerContext) => {
    await builtinHandlers['sla.sweep']({ ...ctx, client: sabotaged(ctx.client) });
    if (sabotage.afterSweep) {
      sabotage.afterSweep = false;
      throw crash();
    }
  },
};

async function sweep(): Promise<void> {
  tick += 60_000;
  const job = await runJob(sc, tickJob('sla.sweep', SITE, new Date(tick), TZ));
  expect(job.state).toBe('completed');
  await until(sc, async () => {
    const c = await sc.store.counts();
    return c.waiting === 0 && c.active === 0;
  }, 'an idle queue');
}

async function overdueLeads(n: number, label: string): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await site.rep.insert('CRM Lead', { first_name: `${label} ${i}`, status: 'New', lead_owner: site.rep.user });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    names.push(res.body.data.name);
  }
  await control(site.emu, '/clock', { advance_seconds: 2 * 3600 + 60 });
  return names;
}

/** Notification Logs about each lead, by lead (Administrator sees everyone's). */
async function notesPerLead(names: string[]): Promise<number[]> {
  const res = await site.root.list('Notification Log', { filters: [['document_name', 'in', names]], fields: ['document_name', 'for_user'], limit_page_length: 0 });
  expect(res.status).toBe(200);
  return names.map((n) => res.body.data.filter((d: any) => d.document_name === n && d.for_user === site.rep.user).length);
}

async function requests(): Promise<Record<string, number>> {
  return control(site.emu, `/sites/${SITE}/requests`, undefined, 'GET');
}

beforeAll(async () => {
  site = await installedSite(TZ);
  await setClock(site.emu, '2026-03-02T04:30:00Z');
  sc = await startWith({ config: configFor(site), manifest: parseManifest({ app: 'crm_order_companion' }), handlers });
});

afterEach(async () => {
  sabotage = {};
  await control(site.emu, '/faults', undefined, 'DELETE');
});

afterAll(async () => {
  await sc?.stop(1000);
  await site?.emu.close();
});

describe('SLA notifications in bulk, exactly once', () => {
  it('sends one insert_many for the batch, not one insert per lead', async () => {
    const names = await overdueLeads(4, 'Bulk');
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await sweep();
    expect(await notesPerLead(names)).toEqual([1, 1, 1, 1]);
    const counts = await requests();
    expect(counts['POST /api/method/frappe.client.insert_many']).toBe(1);
    expect(counts['POST /api/resource/Notification Log']).toBeUndefined();
  });

  it('a run that dies after Frappe committed a batch, before recording it, tells nobody twice on the re-run', async () => {
    const names = await overdueLeads(3, 'Committed');
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    sabotage = { afterInsertMany: true };
    await sweep();
    expect(sabotage.afterInsertMany).toBe(false); // the crash happened
    expect(await notesPerLead(names)).toEqual([1, 1, 1]);
    // The re-run found the batch's receipt and sent nothing again.
    expect((await requests())['POST /api/method/frappe.client.insert_many']).toBe(1);
    // The receipt is a Notification Log of the companion's own, which it can read back.
    const own = await site.root.list('Notification Log', { filters: [['for_user', '=', site.companion.user]], fields: ['subject'], limit_page_length: 0 });
    expect(own.body.data.some((d: any) => /receipt/.test(d.subject))).toBe(true);
    await sweep();
    expect(await notesPerLead(names)).toEqual([1, 1, 1]);
  });

  it('a batch that never reached the site is sent again on the re-run, once', async () => {
    const names = await overdueLeads(3, 'Lost');
    await control(site.emu, '/faults', { rules: [{ match: 'frappe.client.insert_many', mode: 'reset', status: 0, count: 1 }] });
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await sweep();
    expect(await notesPerLead(names)).toEqual([1, 1, 1]);
    expect((await requests())['POST /api/method/frappe.client.insert_many']).toBe(2);
  });

  it('a sweep that did all its work but died before completing is replayed without a second notification', async () => {
    const names = await overdueLeads(2, 'Replayed');
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    sabotage = { afterSweep: true };
    await sweep();
    expect(sabotage.afterSweep).toBe(false);
    expect(await notesPerLead(names)).toEqual([1, 1]);
    expect((await requests())['POST /api/method/frappe.client.insert_many']).toBe(1);
  });

  it('a batch the site refuses outright is split, so one refused notification costs only itself', async () => {
    const names = await overdueLeads(3, 'Refused');
    // The site answers the first insert_many with a Frappe error (its transaction rolled back).
    await control(site.emu, '/faults', { rules: [{ match: 'frappe.client.insert_many', mode: 'error', status: 417, count: 1 }] });
    await control(site.emu, `/sites/${SITE}/requests`, undefined, 'DELETE');
    await sweep();
    expect(await notesPerLead(names)).toEqual([1, 1, 1]);
    // The refused three, then two halves.
    expect((await requests())['POST /api/method/frappe.client.insert_many']).toBe(3);

    // A single notification the site keeps refusing is given up, and the sweep is not stuck on it.
    const [alone] = await overdueLeads(1, 'Hopeless');
    await control(site.emu, '/faults', { rules: [{ match: 'frappe.client.insert_many', mode: 'error', status: 417, count: 1 }] });
    await sweep();
    expect(await notesPerLead([alone])).toEqual([0]);
    await control(site.emu, '/faults', undefined, 'DELETE');
    await sweep();
    expect(await notesPerLead([alone])).toEqual([0]);
  });
});
