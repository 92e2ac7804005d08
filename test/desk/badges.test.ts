/**
 * The badge a status cell renders: Frappe's indicator colour plus a readable label, escaped, for
 * every value the four Select fields allow (doctypes/crm_lead_order_item).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BADGE_CLASS, BADGE_COLOURS, STATUS_FIELDS, badgeCss, statusBadge, statusColour, statusLabel, type Indicator } from '../../desk/order_history/badges.js';
import { contrast } from '../helpers/contrast.js';

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
      '<span class="indicator-pill green filterable ellipsis order-companion-status" data-status="IN_STOCK" title="IN_STOCK">In Stock</span>',
    );
  });

  it('renders nothing for an empty cell, grey for an unknown value, and escapes what it shows', () => {
    expect(statusBadge('')).toBe('');
    expect(statusBadge(null)).toBe('');
    const html = statusBadge('<img src=x onerror=alert(1)>');
    expect(html).toContain('indicator-pill gray');
    expect(html).not.toContain('<img');
  });

  it("every badge colour's text is readable on its background: WCAG AA, at least 4.5:1 at the pill's 12 px", () => {
    // Known pairs, so the formula is the standard one: black on white is 21:1, Frappe's own
    // --text-on-orange (espresso orange-500 #e86c13) on orange-100 #fff1e7 is far under AA.
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#e86c13', '#fff1e7')).toBeLessThan(4.5);
    const colours = new Set<Indicator>(['gray']);
    for (const df of child.fields.filter((f: any) => STATUS_FIELDS.includes(f.fieldname))) {
      for (const option of String(df.options).split('\n').filter(Boolean)) colours.add(statusColour(option));
    }
    // What the desk pill renders with: the rules the form injects for our class.
    const css = badgeCss();
    for (const colour of colours) {
      const rule = css.match(new RegExp(`\\.indicator-pill\\.${BADGE_CLASS}\\.${colour} \\{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \\}`));
      expect(rule, `a desk rule for ${colour}`).toBeTruthy();
      expect(contrast(rule![2]!, rule![1]!), `desk ${colour}`).toBeGreaterThanOrEqual(4.5);
      expect(statusBadge(colour === 'gray' ? 'UNKNOWN' : [...child.fields.flatMap((f: any) => String(f.options ?? '').split('\n'))].find((v) => statusColour(v) === colour))).toContain(`${colour} filterable ellipsis ${BADGE_CLASS}`);
    }
    // The pairs the CRM / Helpdesk dialogs paint inline (badges.ts inlineBadge; the rendered styles are
    // checked in test/desk/vue_ui.test.ts).
    for (const [colour, { background, color }] of Object.entries(BADGE_COLOURS)) expect(contrast(color, background), `dialog ${colour}`).toBeGreaterThanOrEqual(4.5);
  });
});
