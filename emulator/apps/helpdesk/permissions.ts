/**
 * Helpdesk's agent-only access to tickets, whatever the DocPerms say (Helpdesk v1.14.0 era):
 *
 *  - hooks.py registers `has_permission` and `permission_query_conditions` for HD Ticket
 *    (frappe/helpdesk:helpdesk/hooks.py).
 *  - `has_permission(doc, user)`: the ticket's contact, raiser or owner, a user of the ticket's
 *    customer, or an agent (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_ticket/hd_ticket.py).
 *    Frappe asks it only when a document is being checked, after the role rules allowed the ptype
 *    (frappe/frappe:frappe/permissions.py `has_controller_permissions` [v15]), so it can only deny.
 *  - `permission_query(user)`: nothing for an agent; otherwise only tickets the user owns,
 *    raised, is the contact of, or whose customer is one of theirs (same file).
 *  - `is_agent(user)`: Administrator (the session user), the Agent Manager or Agent role, or an
 *    HD Agent record named after the user; `is_active` is not looked at
 *    (frappe/helpdesk:helpdesk/utils.py).
 *  - `get_customer(user)`: the HD Customers a Contact named after the user, or with that email,
 *    links through its Dynamic Links (frappe/helpdesk:helpdesk/utils.py).
 *
 * Not emulated: HD Settings `restrict_tickets_by_agent_group` (team restrictions; off by default).
 *
 * HD Agent (frappe/helpdesk:helpdesk/helpdesk/doctype/hd_agent/hd_agent.py `before_save`): the
 * record is renamed to its user and, that first time, the user is given the Agent role
 * (`set_user_roles`, ignore_permissions).
 */
import type { Doc } from '../../core/database.js';
import { registerHook, saveDoc } from '../../core/document.js';
import { registerPermissionHooks } from '../../core/permissions.js';
import type { Site } from '../../core/site.js';

export function isAgent(site: Site, user: string): boolean {
  if (user === 'Administrator') return true;
  const roles = site.rolesOf(user);
  if (roles.includes('Agent Manager') || roles.includes('Agent')) return true;
  return site.db.exists('HD Agent', user);
}

/** helpdesk/utils.py `get_customer`: HD Customers linked from the user's Contact. */
function customersOf(site: Site, user: string): Set<string> {
  const out = new Set<string>();
  for (const c of site.db.all('Contact')) {
    if (c.name !== user && c.email_id !== user) continue;
    for (const l of (c.links as Doc[]) ?? []) if (l.link_doctype === 'HD Customer' && l.link_name) out.add(String(l.link_name));
  }
  return out;
}

function ownTicket(site: Site, doc: Doc, user: string, customers = customersOf(site, user)): boolean {
  return doc.contact === user || doc.raised_by === user || doc.owner === user || (doc.customer != null && customers.has(String(doc.customer)));
}

export function registerHelpdeskPermissions(): void {
  registerPermissionHooks('HD Ticket', {
    hasPermission: (site, doc, user) => ownTicket(site, doc, user) || isAgent(site, user),
    queryConditions: (site, user) => {
      if (isAgent(site, user)) return null;
      const customers = customersOf(site, user);
      return (doc) => ownTicket(site, doc, user, customers);
    },
  });

  registerHook('HD Agent', 'autoname', ({ doc }) => {
    doc.name = doc.user ?? null;
  });
  registerHook('HD Agent', 'after_insert', ({ ctx, doc }) => {
    const user = doc.user ? ctx.site.db.get('User', String(doc.user)) : undefined;
    if (!user) return;
    const roles = ((user.roles as Doc[]) ?? []).map((r) => ({ ...r }));
    if (roles.some((r) => r.role === 'Agent')) return;
    roles.push({ role: 'Agent' });
    saveDoc(ctx, { ...structuredClone(user), roles }, null, { ignorePermissions: true });
  });
}
