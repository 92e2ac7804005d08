/**
 * Badges through the grid's column formatter (frappe/public/js/frappe/form/formatters.js: frappe.format uses df.formatter first): Frappe renders every
 * cell — first paint, paging, row refresh, form reload — through `df.formatter`, so the colours are
 * part of the render instead of being painted onto DOM nodes after a timer, as the seed did.
 */
import { escapeHtml } from './messages.js';
import { BADGE_COLOURS, statusColour, statusLabel, type Indicator } from './statuses.js';

/** Our class on the pill, so our colours apply to our badges only. */
export const BADGE_CLASS = 'order-companion-status';
/** The id of the one `<style>` the form injects (`frappe.dom.set_style` replaces one with this id). */
export const BADGE_STYLE_ID = 'order-companion-badges';

/**
 * The pill colours (statuses.ts BADGE_COLOURS) as CSS over Frappe's `.indicator-pill.<colour>`
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

/** `<span class="indicator-pill green … order-companion-status" …>Approved</span>`: Frappe's indicator pill, our colours. */
export function statusBadge(value: unknown): string {
  const raw = value == null ? '' : String(value).trim();
  if (!raw) return '';
  const colour = statusColour(raw);
  return `<span class="indicator-pill ${colour} filterable ellipsis ${BADGE_CLASS}" data-status="${escapeHtml(raw)}" title="${escapeHtml(raw)}">${escapeHtml(statusLabel(raw))}</span>`;
}
