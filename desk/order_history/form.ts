/**
 * The Order History behaviour of a form (CRM Lead, HD Ticket): badges on the table's status columns,
 * and "Fetch Order History" under Actions with progress, result and timeout alerts. The form's own
 * reload on `doc_update` (unless it has unsaved edits) is Frappe's: model.js reloads an open, clean
 * form whose `modified` changed and shows its conflict prompt on a dirty one.
 */
import { MESSAGES } from './messages.js';
import { statusBadge } from './badges.js';
import { STATUS_FIELDS } from './statuses.js';
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

/**
 * Install the formatter on the table's four status columns. `update_docfield_property` updates the
 * per-row docfield copies and the template, so rows added later render the same way; calling it
 * again on every refresh is cheap and covers a grid Frappe rebuilt.
 */
function applyBadges(frm: FrappeForm, tableField: string): void {
  const grid = frm.fields_dict[tableField]?.grid;
  if (!grid) return;
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
    frappe.show_alert({ message: request.message || __(MESSAGES.synced, [request.rows_synced ?? 0]), indicator: 'green' }, 7);
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
    },
  });
}
