/**
 * sidecar/frappe/meta.ts: one `frappe.desk.form.load.getdoctype` read per DocType per site per
 * lifetime, shared by concurrent lookups; a failed read is not kept; a refused meta (403) leaves
 * the field `unknown`; a field the site refused in a query is absent until the next read.
 */
import { describe, expect, it } from 'vitest';
import type { FrappeClient } from '../../lib/frappe/client.js';
import { FrappeApiError } from '../../lib/frappe/errors.js';
import { fieldState, markAbsent, META_TTL_MS } from '../../sidecar/frappe/meta.js';

function fakeClient(fields: () => string[]): { client: FrappeClient; calls: { path: string; query: unknown }[]; fail: { next: Error | null } } {
  const calls: { path: string; query: unknown }[] = [];
  const fail: { next: Error | null } = { next: null };
  const client = {
    site: 'test.localhost',
    async request(_method: string, path: string, opts?: { query?: Record<string, unknown> }) {
      calls.push({ path, query: opts?.query });
      const err = fail.next;
      if (err) {
        fail.next = null;
        throw err;
      }
      const doctype = String(opts?.query?.doctype);
      return { docs: [{ name: doctype, fields: fields().map((fieldname) => ({ fieldname })) }, { name: 'Some Child', fields: [{ fieldname: 'erpnext_customer' }] }] };
    },
  } as unknown as FrappeClient;
  return { client, calls, fail };
}

describe('fieldState', () => {
  it('reads the meta once per lifetime, then again', async () => {
    let fields = ['lead'];
    const { client, calls } = fakeClient(() => fields);
    let now = 1_000;
    const opts = { now: () => now };
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('absent');
    fields = ['lead', 'erpnext_customer'];
    now += META_TTL_MS - 1;
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('absent');
    expect(await fieldState(client, 'CRM Deal', 'lead', opts)).toBe('present');
    expect(calls).toEqual([{ path: '/api/method/frappe.desk.form.load.getdoctype', query: { doctype: 'CRM Deal' } }]);
    now += 1;
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('present');
    expect(calls).toHaveLength(2);
  });

  it('answers from the DocType itself, not its child tables', async () => {
    const { client } = fakeClient(() => ['lead']);
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer')).toBe('absent');
  });

  it('concurrent lookups share one read; each DocType and each client has its own', async () => {
    const a = fakeClient(() => ['erpnext_customer']);
    const b = fakeClient(() => []);
    const answers = await Promise.all([
      fieldState(a.client, 'CRM Deal', 'erpnext_customer'),
      fieldState(a.client, 'CRM Deal', 'erpnext_customer'),
      fieldState(a.client, 'HD Customer', 'erpnext_customer'),
      fieldState(b.client, 'CRM Deal', 'erpnext_customer'),
    ]);
    expect(answers).toEqual(['present', 'present', 'present', 'absent']);
    expect(a.calls.map((c) => c.query)).toEqual([{ doctype: 'CRM Deal' }, { doctype: 'HD Customer' }]);
    expect(b.calls).toHaveLength(1);
  });

  it('a failed read is not kept', async () => {
    const { client, calls, fail } = fakeClient(() => ['erpnext_customer']);
    fail.next = new Error('site unavailable');
    await expect(fieldState(client, 'CRM Deal', 'erpnext_customer')).rejects.toThrow('site unavailable');
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer')).toBe('present');
    expect(calls).toHaveLength(2);
  });

  it('a refused meta (403) is unknown, kept for the lifetime; a field the site refused is absent until the next read', async () => {
    const { client, calls, fail } = fakeClient(() => ['erpnext_customer']);
    fail.next = new FrappeApiError({ method: 'GET', path: '/api/method/frappe.desk.form.load.getdoctype', status: 403, excType: 'PermissionError' });
    let now = 0;
    const opts = { now: () => now };
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('unknown');
    markAbsent(client, 'CRM Deal', 'erpnext_customer');
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('absent');
    expect(calls).toHaveLength(1);
    now = META_TTL_MS;
    expect(await fieldState(client, 'CRM Deal', 'erpnext_customer', opts)).toBe('present');
    expect(calls).toHaveLength(2);
  });
});
