/**
 * What the order-history UIs say, in one place so Desk, the CRM UI and the Helpdesk UI say the
 * same thing (translated by each page's `__`), and the one HTML escape their markup uses.
 */
export const MESSAGES = {
  fetching: 'Fetching order history…',
  synced: 'Synced {0} orders',
  failed: 'Fetching order history failed',
  notResponding: 'The order sync service is not responding',
  couldNotRequest: 'Could not request order history: {0}',
  sendFailed: 'the request could not be sent; check your connection and try again',
  ticketWithoutCustomer: 'This ticket has no customer or contact yet. Set its Customer or Contact, then fetch the order history.',
} as const;

export function escapeHtml(value: unknown): string {
  return (value == null ? '' : String(value)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
