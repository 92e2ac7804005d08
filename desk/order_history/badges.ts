/**
 * Badges through the grid's column formatter (frappe-platform.md §4.5, way 1): Frappe renders every
 * cell — first paint, paging, row refresh, form reload — through `df.formatter`, so the colours are
 * part of the render instead of being painted onto DOM nodes after a timer, as the seed did.
 */
import { escapeHtml } from './messages.js';
import { statusColour, statusLabel } from './statuses.js';


/** `<span class="indicator-pill green" …>Approved</span>`: Frappe's own indicator style. */
export function statusBadge(value: unknown): string {
  const raw = value == null ? '' : String(value).trim();
  if (!raw) return '';
  const colour = statusColour(raw);
  return `<span class="indicator-pill ${colour} filterable ellipsis" data-status="${escapeHtml(raw)}" title="${escapeHtml(raw)}">${escapeHtml(statusLabel(raw))}</span>`;
}
