/**
 * The handler registry: every id hooks_manifest.json may name. Feature issues add theirs here.
 */
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
};
