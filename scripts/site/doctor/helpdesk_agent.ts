/** With Helpdesk, the API user must be a Helpdesk agent, or it sees no ticket (part of the roles check). */
import type { FrappeClient } from '../../../lib/frappe/client.js';
import { statusOf } from './client_errors.js';

export const AGENT_FIX = (user: string) =>
  `make ${user} a Helpdesk agent: run \`crm-order-companion site install --sidecar-user ${user}\` with an administrator's key (it adds an HD Agent record for it), or add it under Helpdesk → Agents`;

/**
 * Helpdesk's `is_agent` (frappe/helpdesk:helpdesk/utils.py): Administrator, the Agent or Agent
 * Manager role, or an HD Agent record named after the user. The record is looked up the way
 * roleExists does it: Frappe loads it before checking the read permission, so 403 means it is there.
 * Null when it cannot be told.
 */
export async function agentStatus(client: FrappeClient, user: string, admin: boolean, roles: string[] | null): Promise<boolean | null> {
  if (admin || roles?.includes('Agent') || roles?.includes('Agent Manager')) return true;
  try {
    await client.getDoc('HD Agent', user);
    return true;
  } catch (err) {
    const status = statusOf(err);
    if (status === 403) return true;
    if (status === 404) return false;
    return null;
  }
}
