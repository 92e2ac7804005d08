/**
 * The four production statuses a history row carries (doctypes/crm_lead_order_item) and how each is
 * shown: Frappe's indicator colours, with a readable label beside the colour so colour is never the
 * only signal (the seed painted colour alone).
 */
/** Frappe's indicator colours (frappe/public/scss/common/indicator.scss [v15]). */
export type Indicator = 'blue' | 'green' | 'orange' | 'yellow' | 'red' | 'gray';

/**
 * What every badge is painted with, in Desk (badges.ts, over Frappe's `indicator-pill`) and in the
 * CRM / Helpdesk dialogs (vue.ts, inline): light backgrounds from Frappe's espresso palette
 * (frappe/public/scss/espresso/_colors.scss [v15]: green-100, orange-100, yellow-100, gray-100) and
 * text dark enough for WCAG AA at the pill's 12 px (≥ 4.5:1; test/desk/badges.test.ts computes
 * it). Frappe's own `.indicator-pill.orange` text (`--text-on-orange`, a mid orange) is lighter
 * than that on its pale background, so the pill's colours are ours, not the theme's.
 */
export const BADGE_COLOURS: Record<Indicator, { background: string; color: string }> = {
  green: { background: '#e4f5e9', color: '#16794c' },
  blue: { background: '#e6f4ff', color: '#0068c2' },
  orange: { background: '#fff1e7', color: '#b94a00' },
  yellow: { background: '#fff7d3', color: '#8a6d00' },
  red: { background: '#ffe7e7', color: '#c0262b' },
  gray: { background: '#f3f3f3', color: '#525252' },
};

export const STATUS_FIELDS = ['ops_status', 'material_status', 'production_status', 'qa_status'] as const;

const COLOURS: Record<string, Indicator> = {
  APPROVED: 'green',
  IN_STOCK: 'green',
  DONE: 'green',
  IN_PROGRESS: 'blue',
  PENDING: 'orange',
  ORDERED: 'orange',
  AWAITING: 'orange',
  BLOCKED: 'red',
  OUT_OF_STOCK: 'red',
  REJECTED: 'red',
};

export function statusColour(value: string): Indicator {
  return COLOURS[value] ?? 'gray';
}

/** "IN_PROGRESS" → "In Progress"; "OUT_OF_STOCK" → "Out Of Stock" reads oddly, so: "Out of Stock". */
export function statusLabel(value: string): string {
  const small = new Set(['of', 'in', 'on', 'to']);
  return value
    .toLowerCase()
    .split('_')
    .filter(Boolean)
    .map((word, i) => (i > 0 && small.has(word) ? word : word[0]!.toUpperCase() + word.slice(1)))
    .join(' ');
}
