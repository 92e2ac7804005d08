/**
 * Status badges, everywhere they are shown: the one table from a status to its label, indicator
 * colour, background and text colour, and the two renderings of it — Frappe's indicator pill in
 * Desk (statusBadge, coloured by badgeCss) and an inline-styled pill in the CRM / Helpdesk dialogs
 * (inlineBadge, used by vue.ts). A readable label stands beside the colour, so colour is never the
 * only signal (the seed painted colour alone).
 *
 * In Desk the pill goes through the grid's column formatter (frappe.format in frappe/public/js/frappe/form/formatters.js uses df.formatter first): Frappe renders every cell — first
 * paint, paging, row refresh, form reload — through `df.formatter`, so the colours are part of the
 * render instead of being painted onto DOM nodes after a timer, as the seed did.
 */
import { escapeHtml } from './messages.js';

/** Frappe's indicator colours (frappe/public/scss/common/indicator.scss [v15]). */
export type Indicator = 'blue' | 'green' | 'orange' | 'yellow' | 'red' | 'gray';

/** The four production statuses a history row carries (doctypes/crm_lead_order_item). */
export const STATUS_FIELDS = ['ops_status', 'material_status', 'production_status', 'qa_status'] as const;

/**
 * What every badge is painted with, in Desk (over Frappe's `indicator-pill`) and in the CRM /
 * Helpdesk dialogs (inline): light backgrounds from Frappe's espresso palette
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

/** How one status is shown: its words, its indicator colour and that colour's background / text pair. */
export interface BadgeLook {
  label: string;
  indicator: Indicator;
  background: string;
  color: string;
}

export function badgeLook(value: string): BadgeLook {
  const indicator = statusColour(value);
  return { label: statusLabel(value), indicator, ...BADGE_COLOURS[indicator] };
}

/** Our class on the pill, so our colours apply to our badges only. */
export const BADGE_CLASS = 'order-companion-status';
/** The id of the one `<style>` the form injects (`frappe.dom.set_style` replaces one with this id). */
export const BADGE_STYLE_ID = 'order-companion-badges';

/**
 * The pill colours (BADGE_COLOURS) as CSS over Frappe's `.indicator-pill.<colour>`
 * (frappe/public/scss/common/indicator.scss [v15]: background `--bg-<colour>`, text and dot
 * `--text-on-<colour>`). Light theme only: in Frappe's dark theme (`<html data-theme="dark">`)
 * its own dark pairs stay.
 */
export function badgeCss(): string {
  return (Object.entries(BADGE_COLOURS) as [Indicator, { background: string; color: string }][])
    .map(([colour, { background, color }]) => {
      const sel = `:root:not([data-theme="dark"]) .indicator-pill.${BADGE_CLASS}.${colour}`;
      return `${sel} { background: ${background}; color: ${color}; }\n${sel}::before { background: ${color}; }`;
    })
    .join('\n');
}

function rawStatus(value: unknown): string {
  return value == null ? '' : String(value).trim();
}

/** `<span class="indicator-pill green … order-companion-status" …>Approved</span>`: Frappe's indicator pill, our colours. */
export function statusBadge(value: unknown): string {
  const raw = rawStatus(value);
  if (!raw) return '';
  const { indicator, label } = badgeLook(raw);
  return `<span class="indicator-pill ${indicator} filterable ellipsis ${BADGE_CLASS}" data-status="${escapeHtml(raw)}" title="${escapeHtml(raw)}">${escapeHtml(label)}</span>`;
}

/**
 * The same badge with inline colours, for the CRM / Helpdesk dialogs: those UIs have no desk CSS,
 * and DOMPurify keeps `style`.
 */
export function inlineBadge(value: unknown): string {
  const raw = rawStatus(value);
  if (!raw) return '';
  const { indicator, label, background, color } = badgeLook(raw);
  const style = `display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;line-height:18px;white-space:nowrap;background-color:${background};color:${color}`;
  return `<span data-status="${escapeHtml(raw)}" data-indicator="${indicator}" title="${escapeHtml(raw)}" style="${style}">${escapeHtml(label)}</span>`;
}
