/**
 * sidecar/frappe/meta.ts: one `frappe.desk.form.load.getdoctype` read per DocType per site per
 * lifetime, shared by concurrent lookups; a failed read is not kept.
 */
import { describe, expect, it } from 'vitest';
import type { FrappeClient } from '../../sidecar/frappe/client.js';
import { forgetMeta, hasField, META_TTL_MS } from '../../sidecar/frappe/meta.js';

function fakeClient(fields: () => string[]): { client: FrappeClient; calls: { path: string; query: unknown }[]; fail: { next: boolean } } {
  const calls: { path: string; query: unknown }[] = [];
  const fail = { next: false };
  const client = {
    site: 'test.localhost',
    async request(_method: string, path: string, opts?: { query?: Record<string, unknown> }) {
      calls.push({ path, query: opts?.query });
      if (fail.next) {
        fail.next = false;
        throw new Error('site unavailable');
      }
      const doctype = String(opts?.query?.doctype);
      return { docs: [{ name: doctype, fields: fields().map((fieldname) => ({ fieldname })) }, { name: 'Some Child', fields: [{ fieldname: 'erpnext_customer' }] }] };
    },
  } as unknown as FrappeClient;
  return { client, calls, fail };
}

describe('hasField', () => {
  it('reads the meta once per lifetime, then again', async () => {
    let fields = ['lead'];
    const { client, calls } = fakeClient(() => fields);
    let now = 1_000;
    const opts = { now: () => now };
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer', opts)).toBe(false);
    fields = ['lead', 'erpnext_customer'];
    now += META_TTL_MS - 1;
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer', opts)).toBe(false);
    expect(await hasField(client, 'CRM Deal', 'lead', opts)).toBe(true);
    expect(calls).toEqual([{ path: '/api/method/frappe.desk.form.load.getdoctype', query: { doctype: 'CRM Deal' } }]);
    now += 1;
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer', opts)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('answers from the DocType itself, not its child tables', async () => {
    const { client } = fakeClient(() => ['lead']);
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer')).toBe(false);
  });

  it('concurrent lookups share one read; each DocType and each client has its own', async () => {
    const a = fakeClient(() => ['erpnext_customer']);
    const b = fakeClient(() => []);
    const answers = await Promise.all([
      hasField(a.client, 'CRM Deal', 'erpnext_customer'),
      hasField(a.client, 'CRM Deal', 'erpnext_customer'),
      hasField(a.client, 'HD Customer', 'erpnext_customer'),
      hasField(b.client, 'CRM Deal', 'erpnext_customer'),
    ]);
    expect(answers).toEqual([true, true, true, false]);
    expect(a.calls.map((c) => c.query)).toEqual([{ doctype: 'CRM Deal' }, { doctype: 'HD Customer' }]);
    expect(b.calls).toHaveLength(1);
  });

  it('a failed read is not kept, and forgetMeta makes the next lookup read again', async () => {
    const { client, calls, fail } = fakeClient(() => ['erpnext_customer']);
    fail.next = true;
    await expect(hasField(client, 'CRM Deal', 'erpnext_customer')).rejects.toThrow('site unavailable');
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer')).toBe(true);
    forgetMeta(client, 'CRM Deal');
    expect(await hasField(client, 'CRM Deal', 'erpnext_customer')).toBe(true);
    expect(calls).toHaveLength(3);
  });
});
