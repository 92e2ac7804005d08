/** Client Script for HD Ticket in Desk (installed from hooks_manifest.json `desk`). */
import { MESSAGES } from './order_history/messages.js';
import { registerOrderHistoryForm } from './order_history/form.js';

registerOrderHistoryForm({
  doctype: 'HD Ticket',
  tableField: 'custom_order_history',
  // The sidecar finds a ticket's customer through its HD Customer or its Contact (docs/architecture.md data
  // flow 3). Helpdesk links the Contact of `raised_by` itself on save (hd_ticket.py set_contact), so
  // a ticket with neither has nothing to match.
  cannotFetch: (frm) =>
    frm.doc.customer || frm.doc.contact
      ? null
      : __(MESSAGES.ticketWithoutCustomer),
});
