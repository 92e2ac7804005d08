import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, ManifestError, parseManifest } from '../lib/manifest/load.js';

function issuesOf(value: unknown): { path: string; message: string }[] {
  try {
    parseManifest(value);
  } catch (e) {
    if (e instanceof ManifestError) return e.issues;
    throw e;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('hooks_manifest.json', () => {
  it('the shipped manifest is valid', () => {
    const m = loadManifest('hooks_manifest.json');
    expect(m.app).toBe('crm_order_companion');
  });

  it('accepts the shape of Frappe hooks: realtime DocType → event → handlers, scheduler_events cron table', () => {
    const m = parseManifest({
      app: 'crm_order_companion',
      realtime: { 'Order Sync Request': { list_update: ['order_history.request'] } },
      scheduler: { cron: { '*/5 * * * *': ['sla.sweep'] }, daily: ['health.check'] },
      webhooks: [{ route: '/webhooks/shopify', verifier: 'shopify-hmac', handler: 'shop.shopify_order' }],
      desk: [
        {
          name: 'crm_lead_order_history',
          doctype: 'CRM Lead',
          ui: 'desk',
          entry: 'desk/crm_lead/order_history.ts',
          record: { doctype: 'Client Script', name: 'CRM Lead - Order History' },
        },
      ],
    });
    expect(m.scheduler.cron['*/5 * * * *']).toEqual(['sla.sweep']);
    expect(m.desk[0].record.view).toBe('Form');
  });

  it('names the path of every bad key', () => {
    const issues = issuesOf({
      app: 'crm_order_companion',
      realtime: { 'CRM Lead': { list_updated: ['x.y'] } },
      scheduler: { cron: { 'every 5 minutes': ['sla.sweep'] } },
      webhooks: [{ route: 'shopify', verifier: 'shopify-hmac', handler: 'shop.order' }],
      extra: true,
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('realtime."CRM Lead".list_updated');
    expect(paths).toContain('scheduler.cron."every 5 minutes"');
    expect(paths).toContain('webhooks[0].route');
    expect(issues.find((i) => i.path === 'extra')?.message).toBe('unknown key');
    expect(issues.find((i) => i.path === 'scheduler.cron."every 5 minutes"')?.message).toMatch(/cron expression/);
  });

  it('rejects a handler id that is not a dotted name and duplicate bundle names', () => {
    expect(issuesOf({ app: 'a', scheduler: { cron: { '0 * * * *': ['sweep'] } } })[0].path).toBe('scheduler.cron."0 * * * *"[0]');
    const bundle = { name: 'b', doctype: 'CRM Lead', ui: 'desk', entry: 'desk/b.ts', record: { doctype: 'Client Script', name: 'B' } };
    expect(() => parseManifest({ app: 'a', desk: [bundle, bundle] })).toThrow(/used twice/);
  });

  it('reports unreadable or non-JSON files with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const file = join(dir, 'hooks_manifest.json');
    writeFileSync(file, '{ "app": ');
    expect(() => loadManifest(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
    expect(() => loadManifest(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });
});
