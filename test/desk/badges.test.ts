/**
 * The badge a status cell renders: Frappe's indicator colour plus a readable label, escaped, for
 * every value the four Select fields allow (doctypes/crm_lead_order_item).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { statusBadge } from '../../desk/order_history/badges.js';
import { STATUS_FIELDS, statusColour, statusLabel } from '../../desk/order_history/statuses.js';

const child = JSON.parse(readFileSync(new URL('../../doctypes/crm_lead_order_item/crm_lead_order_item.json', import.meta.url), 'utf8'));

describe('status badges', () => {
  it('colours every allowed status as the issue specifies', () => {
    const expected: Record<string, string> = {
      APPROVED: 'green', IN_STOCK: 'green', DONE: 'green',
      IN_PROGRESS: 'blue',
      PENDING: 'orange', ORDERED: 'orange', AWAITING: 'orange',
      BLOCKED: 'red', OUT_OF_STOCK: 'red', REJECTED: 'red',
    };
    const allowed = new Set<string>();
    for (const field of STATUS_FIELDS) {
      const df = child.fields.find((f: any) => f.fieldname === field);
      for (const option of String(df.options).split('\n').filter(Boolean)) allowed.add(option);
    }
    expect([...allowed].sort()).toEqual(Object.keys(expected).sort());
    for (const value of allowed) expect(statusColour(value), value).toBe(expected[value]);
  });

  it('labels statuses in words, so colour is never the only signal', () => {
    expect(statusLabel('IN_PROGRESS')).toBe('In Progress');
    expect(statusLabel('OUT_OF_STOCK')).toBe('Out of Stock');
    expect(statusLabel('APPROVED')).toBe('Approved');
    expect(statusBadge('IN_STOCK')).toBe(
      '<span class="indicator-pill green filterable ellipsis" data-status="IN_STOCK" title="IN_STOCK">In Stock</span>',
    );
  });

  it('renders nothing for an empty cell, grey for an unknown value, and escapes what it shows', () => {
    expect(statusBadge('')).toBe('');
    expect(statusBadge(null)).toBe('');
    const html = statusBadge('<img src=x onerror=alert(1)>');
    expect(html).toContain('indicator-pill gray');
    expect(html).not.toContain('<img');
  });
});
