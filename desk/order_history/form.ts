/**
 * The Order History behaviour of a form (CRM Lead, HD Ticket): badges on the table's status columns,
 * and "Fetch Order History" under Actions with progress, result and timeout alerts. The form's own
 * reload on `doc_update` (unless it has unsaved edits) is Frappe's: model.js reloads an open, clean
 * form whose `modified` changed and shows its conflict prompt on a dirty one.
 */
import { MESSAGES, escapeHtml, syncedText } from './messages.js';
import { BADGE_STYLE_ID, STATUS_FIELDS, badgeCss, statusBadge } from './badges.js';
import { requestHistory, timeouts, type Outcome } from './request.js';

export interface OrderHistoryFormOptions {
  doctype: string;
  tableField: string;
  /** A reason the form cannot be matched to a customer yet, shown instead of sending a request. */
  cannotFetch?: (frm: FrappeForm) => string | null;
}

const BUTTON = 'Fetch Order History';
const GROUP = 'Actions';

/** Requests in flight per document, so a refresh (which recreates buttons) keeps the button disabled. */
const inFlight = new Set<string>();
const buttons = new Map<string, JQuery>();

function key(frm: FrappeForm): string {
  return `${frm.doctype}\u0000${frm.docname}`;
}

function setBusy(button: JQuery | undefined, busy: boolean): void {
  if (!button) return;
  button.prop('disabled', busy).toggleClass('disabled', busy).attr('aria-disabled', String(busy));
}

const WAITING_CLASS = 'order-companion-waiting';

/**
 * While a request is in flight the form says so, for as long as it lasts (the "Fetching…" alert
 * fades after 5 s): a line in the form's message area through `frm.set_intro` (form.js →
 * dashboard.js `set_headline_alert` → layout.js `show_message` [v15]). Frappe's `render_form`
 * empties that area on every render, so `refresh` puts the line back while the request runs; and
 * `show_message` appends, so it is added only when not already there.
 */
function showWaiting(frm: FrappeForm): void {
  const area = frm.layout?.message;
  if (!area || area.find(`.${WAITING_CLASS}`).length) return;
  frm.set_intro(`<span class="${WAITING_CLASS}" role="status">${escapeHtml(__(MESSAGES.fetching))}</span>`, 'blue');
}

/**
 * Remove only our line: the area may also hold Frappe's "This form has been modified after you
 * have loaded it" (form.js `show_conflict_message`), shown when the sidecar's save lands on a form
 * with unsaved edits — just before the request turns Done. `set_intro()` with no text, which
 * empties and hides the whole area, is used only when nothing else is left in it.
 */
function clearWaiting(frm: FrappeForm): void {
  const area = frm.layout?.message;
  if (!area) return;
  const line = area.children().has(`.${WAITING_CLASS}`);
  if (!line.length) return;
  line.next('.close-message').remove();
  line.remove();
  if (!area.children().not('.close-message').length) frm.set_intro();
}

/** Our badge colours (badges.ts), as one `<style>` on the page; `set_style` replaces one with the same id. */
function ensureBadgeStyle(): void {
  if (!document.getElementById(BADGE_STYLE_ID)) frappe.dom?.set_style(badgeCss(), BADGE_STYLE_ID);
}

/**
 * Install the formatter on the table's four status columns. `update_docfield_property` updates the
 * per-row docfield copies and the template, so rows added later render the same way; calling it
 * again on every refresh is cheap and covers a grid Frappe rebuilt.
 */
function applyBadges(frm: FrappeForm, tableField: string): void {
  const grid = frm.fields_dict[tableField]?.grid;
  if (!grid) return;
  ensureBadgeStyle();
  for (const field of STATUS_FIELDS) grid.update_docfield_property(field, 'formatter', statusBadge);
}

function errorText(err: unknown): string {
  const reason = err instanceof Error && err.message ? err.message : __(MESSAGES.sendFailed);
  return __(MESSAGES.couldNotRequest, [reason]);
}

function report(frm: FrappeForm, outcome: Outcome): void {
  const { request } = outcome;
  if (outcome.kind === 'timeout') {
    frappe.show_alert({ message: __(MESSAGES.notResponding), indicator: 'orange' }, 10);
    return;
  }
  if (request.status === 'Done') {
    // Worded here from the count, in the user's language; the stored message is the sidecar's log line.
    frappe.show_alert({ message: syncedText(__, request.orders_synced), indicator: 'green' }, 7);
    // The sidecar's save already triggers Frappe's own reload of a clean form; this covers the
    // case where nothing changed (no save, no doc_update) and never discards unsaved edits.
    if (!frm.is_dirty()) void frm.reload_doc();
    return;
  }
  frappe.show_alert({ message: request.message || __(MESSAGES.failed), indicator: 'red' }, 10);
}

async function fetchHistory(frm: FrappeForm, opts: OrderHistoryFormOptions): Promise<void> {
  const id = key(frm);
  if (inFlight.has(id)) return;
  const reason = opts.cannotFetch?.(frm);
  if (reason) {
    frappe.msgprint({ title: __('Order History'), message: reason, indicator: 'orange' });
    return;
  }
  inFlight.add(id);
  setBusy(buttons.get(id), true);
  try {
    showWaiting(frm);
    frappe.show_alert({ message: __(MESSAGES.fetching), indicator: 'blue' }, 5);
    let outcome: Outcome;
    try {
      outcome = await requestHistory(frm.doctype, frm.docname, timeouts());
    } catch (err) {
      frappe.show_alert({ message: errorText(err), indicator: 'red' }, 10);
      return;
    }
    report(frm, outcome);
  } finally {
    inFlight.delete(id);
    setBusy(buttons.get(id), false);
    // The form may show another document by now (its render cleared our line); only this one's goes.
    if (key(frm) === id) clearWaiting(frm);
  }
}

export function registerOrderHistoryForm(opts: OrderHistoryFormOptions): void {
  frappe.ui.form.on(opts.doctype, {
    refresh(frm) {
      applyBadges(frm, opts.tableField);
      if (frm.is_new()) return;
      // Frappe returns nothing when the group already holds the label; refresh clears buttons first.
      const button = frm.add_custom_button(__(BUTTON), () => void fetchHistory(frm, opts), __(GROUP));
      if (button) buttons.set(key(frm), button);
      setBusy(button, inFlight.has(key(frm)));
      if (inFlight.has(key(frm))) showWaiting(frm);
    },
  });
}
