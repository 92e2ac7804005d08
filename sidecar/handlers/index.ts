/**
 * The handler registry: every id hooks_manifest.json may name. Feature issues add theirs here.
 */
import { createCommunicationHandler } from './communication.js';
import { createOrderHistoryHandlers } from './order_history/index.js';
import { createSlaHandlers } from './sla.js';
import type { HandlerRegistry } from './types.js';

export const builtinHandlers: HandlerRegistry = {
  /**
   * A scheduled check that the site still accepts our key and answers: a failure is retried by
   * the job store and, after the last attempt, stays visible as a dead letter.
   */
  'health.check': async ({ client, logger, site }) => {
    const user = await client.call<string>('frappe.auth.get_logged_user', {}, 'GET');
    logger.info({ site, user }, `health check of ${site}: signed in as ${user}`);
  },
  /** `sla.sweep` (cron; notifies in insert_many batches) and `sla.notify` (the per-document job of earlier versions): sidecar/handlers/sla.ts. */
  ...createSlaHandlers(),
  /** `comms.communication` (realtime + catch-up on Communication): sidecar/handlers/communication.ts. */
  ...createCommunicationHandler(),
  /** `order_history.request` / `.refresh` / `.rebuild`: sidecar/handlers/order_history/. */
  ...createOrderHistoryHandlers(),
};
