/**
 * `site export` / `site import` against two emulated sites: the seed's SLAs (with their priorities
 * and working hours), the statuses they name and the product's scripts travel to a fresh site;
 * a second import changes nothing; a local edit is put back; a bad file and a refused record are
 * named precisely.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createFrappeClient, type FrappeClient } from '../../lib/frappe/client.js';
import {
  ExportFileError,
  ImportStoppedError,
  exportRecords,
  formatImport,
  importRecords,
  type ExportFile,
} from '../../scripts/site/transfer.js';
import { SITE, userClient, type Client } from '../helpers/emulator.js';

const TARGET = 'restore.localhost';
const SLA = 'CRM Service Level Agreement';

let emu: RunningEmulator;
let source: Client;
let target: Client;
let sourceApi: FrappeClient;
let targetApi: FrappeClient;
let exported: ExportFile;

function seedJson(file: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(new URL(`../../doctypes/sla/${file}`, import.meta.url), 'utf8'));
}

async function api(site: string): Promise<{ rest: Client; frappe: FrappeClient }> {
  const rest = await userClient(emu, `admin@${site}`, ['System Manager'], site);
  const u = await (await fetch(`${emu.url}/__emulator/sites/${site}/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `export@${site}`, roles: ['System Manager', 'Sales Manager'], generate_keys: true }),
  })).json();
  const frappe = createFrappeClient({ site, baseUrl: emu.url, apiKey: () => u.api_key, apiSecret: () => u.api_secret, maxRetries: 0 });
  return { rest, frappe };
}

beforeAll(async () => {
  emu = await startEmulator({ sites: [{ name: SITE, timeZone: 'UTC' }, { name: TARGET, timeZone: 'UTC' }] });
  ({ rest: source, frappe: sourceApi } = await api(SITE));
  ({ rest: target, frappe: targetApi } = await api(TARGET));
  // The seed, as an administrator (or the installer) puts it into the source site.
  for (const doc of [...seedJson('crm_lead_status_open.json'), ...seedJson('crm_service_level_agreements.json')]) {
    const res = await source.insert(String(doc.doctype), doc);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const script = { name: 'CRM Lead - Order History', dt: 'CRM Lead', view: 'Form', enabled: 1, script: 'frappe.ui.form.on("CRM Lead", {});' };
  expect((await source.insert('Client Script', script)).status).toBe(200);
  expect((await source.insert('Client Script', { name: 'Unrelated tweak', dt: 'CRM Lead', view: 'Form', enabled: 1, script: '' })).status).toBe(200);
  exported = JSON.parse(JSON.stringify(await exportRecords(sourceApi, { now: () => new Date('2026-03-01T10:00:00Z') })));
});

afterAll(async () => {
  await emu?.close();
});

describe('export', () => {
  it('collects the SLAs in full, the statuses they name, and the product scripts', () => {
    expect(exported).toMatchObject({ format: 'crm-order-companion/export', version: 1, site: SITE, exportedAt: '2026-03-01T10:00:00.000Z' });
    expect(exported.records.map((r) => `${r.doctype}/${r.name}`)).toEqual([
      'CRM Lead Status/New',
      'CRM Lead Status/OPEN',
      `${SLA}/Customer Follow-up Response SLA`,
      `${SLA}/Lead Response SLA`,
      'Client Script/CRM Lead - Order History',
    ]);
    const sla = exported.records.find((r) => r.name === 'Lead Response SLA')!.doc;
    expect(sla).toMatchObject({ sla_name: 'Lead Response SLA', apply_on: 'CRM Lead', enabled: 1, condition: "doc.status == 'New'" });
    expect(sla.priorities).toEqual([expect.objectContaining({ priority: 'Open', first_response_time: 7200, default_priority: 1 })]);
    expect(sla.working_hours).toHaveLength(7);
    expect(exported.records.find((r) => r.name === 'OPEN')!.doc).toMatchObject({ lead_status: 'OPEN', color: 'orange', position: 8 });
  });

  it('strips what the server manages, on documents and child rows', () => {
    const server = ['owner', 'creation', 'modified', 'modified_by', 'idx', 'docstatus'];
    for (const r of exported.records) {
      for (const k of [...server, 'doctype']) expect(r.doc, `${r.name}.${k}`).not.toHaveProperty(k);
      for (const v of Object.values(r.doc)) {
        if (!Array.isArray(v)) continue;
        for (const row of v) for (const k of [...server, 'name', 'parent', 'parenttype', 'parentfield']) expect(row).not.toHaveProperty(k);
      }
    }
  });
});

describe('import', () => {
  it('creates the records in a fresh site, then finds everything unchanged the second time', async () => {
    const first = await importRecords(targetApi, exported);
    expect(first.dryRun).toBe(false);
    // "New" ships with CRM, so a fresh site already has it as exported.
    expect(first.results.map((r) => `${r.action} ${r.name}`)).toEqual([
      'unchanged New',
      'created OPEN',
      'created Customer Follow-up Response SLA',
      'created Lead Response SLA',
      'created CRM Lead - Order History',
    ]);
    const sla = (await target.get(SLA, 'Customer Follow-up Response SLA')).body.data;
    expect(sla).toMatchObject({ condition: "doc.status == 'OPEN'", enabled: 1 });
    expect(sla.priorities).toHaveLength(1);
    expect(sla.working_hours.map((w: { workday: string }) => w.workday)).toEqual(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']);
    expect((await target.get('Client Script', 'CRM Lead - Order History')).body.data.script).toContain('frappe.ui.form.on');

    const again = await importRecords(targetApi, exported);
    expect(again.results.every((r) => r.action === 'unchanged')).toBe(true);
    expect(formatImport(again).split('\n').at(-1)).toBe(`${TARGET}: 0 created, 0 updated, 5 unchanged`);
  });

  it('puts a locally changed record back, after a dry run that writes nothing', async () => {
    const name = 'Lead Response SLA';
    expect((await target.update(SLA, name, { enabled: 0, working_hours: [{ workday: 'Monday', start_time: '09:00:00', end_time: '17:00:00' }] })).status).toBe(200);
    const before = (await target.get(SLA, name)).body.data.modified;

    const dry = await importRecords(targetApi, exported, { dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.results.find((r) => r.name === name)).toEqual({ doctype: SLA, name, action: 'updated', changed: ['enabled', 'working_hours'] });
    expect(formatImport(dry)).toContain(`would be updated: ${SLA} "${name}" (enabled, working_hours)`);
    expect((await target.get(SLA, name)).body.data.modified).toBe(before);

    const real = await importRecords(targetApi, exported);
    expect(real.results.filter((r) => r.action !== 'unchanged').map((r) => r.name)).toEqual([name]);
    const after = (await target.get(SLA, name)).body.data;
    expect(after.enabled).toBe(1);
    expect(after.working_hours).toHaveLength(7);
    expect((await importRecords(targetApi, exported)).results.every((r) => r.action === 'unchanged')).toBe(true);
  });

  it('refuses a file with a bad key, naming it, before touching the site', async () => {
    const bad = structuredClone(exported) as unknown as { records: Record<string, unknown>[] };
    bad.records[1] = { ...bad.records[1], docType: 'CRM Lead Status' };
    const err = await importRecords(targetApi, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportFileError);
    expect((err as ExportFileError).problems).toEqual(['records[1]: unknown key "docType"']);
    expect((err as Error).message).toContain('The export file is invalid');

    const wrong = await importRecords(targetApi, { ...exported, format: 'something-else', records: [{ doctype: 'User', name: 'x', doc: {} }] }).catch((e: unknown) => e);
    expect((wrong as ExportFileError).problems).toEqual([
      'format: must be "crm-order-companion/export"',
      expect.stringMatching(/^records\[0\]\.doctype: one of CRM Holiday List, CRM Lead Status/),
    ]);
  });

  it('stops at the first record the site refuses, with Frappe\'s message and what was applied', async () => {
    const file: ExportFile = {
      ...exported,
      records: [
        { doctype: 'CRM Lead Status', name: 'Waiting', doc: { lead_status: 'Waiting', color: 'gray', position: 9 } },
        {
          doctype: SLA,
          name: 'Broken SLA',
          doc: { sla_name: 'Broken SLA', apply_on: 'CRM Lead', priorities: [{ priority: 'No Such Status', first_response_time: 60 }], working_hours: [{ workday: 'Monday', start_time: '09:00:00', end_time: '17:00:00' }] },
        },
        { doctype: 'CRM Lead Status', name: 'Never', doc: { lead_status: 'Never' } },
      ],
    };
    const err = await importRecords(targetApi, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportStoppedError);
    const stopped = err as ImportStoppedError;
    expect(stopped.failed).toEqual({ doctype: SLA, name: 'Broken SLA', action: 'create' });
    expect(stopped.reason).toContain('No Such Status');
    expect(stopped.applied).toEqual([{ doctype: 'CRM Lead Status', name: 'Waiting', action: 'created' }]);
    expect(stopped.message).toContain('already applied: created CRM Lead Status "Waiting"');
    expect((await target.get('CRM Lead Status', 'Waiting')).status).toBe(200);
    expect((await target.get('CRM Lead Status', 'Never')).status).toBe(404);
  });
});
