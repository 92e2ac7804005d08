/** Client Script for HD Ticket in Desk (installed from hooks_manifest.json `desk`). */
import { registerOrderHistoryForm } from './order_history/form.js';

registerOrderHistoryForm({
  doctype: 'HD Ticket',
  tableField: 'custom_order_history',
  // The sidecar finds a ticket's customer through its HD Customer, its Contact or the raising
  // email (DESIGN.md data flow 3); with none of them there is nothing to match.
  cannotFetch: (frm) =>
    frm.doc.customer || frm.doc.contact || frm.doc.raised_by
      ? null
      : __('This ticket has no customer or contact yet. Set its Customer or Contact, then fetch the order history.'),
});
