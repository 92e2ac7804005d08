/**
 * What the order-history UIs say, in one place so Desk, the CRM UI and the Helpdesk UI say the
 * same thing (translated by each page's `__`), and the one HTML escape their markup uses.
 */
export const MESSAGES = {
  fetching: 'Fetching order history…',
  // One string per plural form (see syncedText).
  syncedNone: 'No orders to sync',
  syncedOne: 'Synced 1 order',
  syncedMany: 'Synced {0} orders',
  /** A Done request without a count (written by a sidecar older than `orders_synced`). */
  syncedUnknown: 'Order history synced',
  failed: 'Fetching order history failed',
  notResponding: 'The order sync service is not responding',
  couldNotRequest: 'Could not request order history: {0}',
  sendFailed: 'the request could not be sent; check your connection and try again',
  ticketWithoutCustomer: 'This ticket has no customer or contact yet. Set its Customer or Contact, then fetch the order history.',
} as const;

/**
 * What a Done request says, worded by the UI from the request's `orders_synced` through the page's
 * `__`. Frappe's `__` has no plural forms (frappe/public/js/frappe/translate.js [v15]: a string,
 * its `{0}` arguments, an optional context), so each form is its own translatable string; a
 * language with more forms translates "Synced {0} orders" with the one that fits most counts.
 */
export function syncedText(translate: (text: string, args?: unknown[]) => string, orders: number | null | undefined): string {
  if (typeof orders !== 'number' || !Number.isInteger(orders) || orders < 0) return translate(MESSAGES.syncedUnknown);
  if (orders === 0) return translate(MESSAGES.syncedNone);
  if (orders === 1) return translate(MESSAGES.syncedOne);
  return translate(MESSAGES.syncedMany, [orders]);
}

export function escapeHtml(value: unknown): string {
  return (value == null ? '' : String(value)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
