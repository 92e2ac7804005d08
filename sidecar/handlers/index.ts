/**
 * The handler registry: every id hooks_manifest.json may name. Feature issues add theirs here.
 */
import { createCommunicationHandler } from './communication.js';
import { createOrderHistoryHandlers } from './order_history/index.js';
import { createSlaHandlers } from './sla.js';
import type { HandlerRegistry } from './types.js';

export const builtinHandlers: HandlerRegistry = {
  // `health.check` (the manifest's daily job) is built by the runtime from `health` in the
  // configuration and the job store: sidecar/handlers/health/.
  /** `sla.sweep` (cron; notifies in insert_many batches) and `sla.notify` (the per-document job of earlier versions): sidecar/handlers/sla.ts. */
  ...createSlaHandlers(),
  /** `comms.communication` (realtime + catch-up on Communication): sidecar/handlers/communication.ts. */
  ...createCommunicationHandler(),
  /** `order_history.request` / `.refresh` / `.rebuild` / `.bulk`: sidecar/handlers/order_history/. */
  ...createOrderHistoryHandlers(),
};
