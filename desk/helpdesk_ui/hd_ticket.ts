/**
 * HD Form Script for HD Ticket in the Helpdesk agent UI (/helpdesk), installed from
 * hooks_manifest.json (`ui: 'helpdesk'`). build.mjs bundles this as `var __orderCompanion = …` and
 * puts `function setupForm(ctx) { return __orderCompanion.setupForm(ctx) }` in front of it, the
 * shape Helpdesk's formCustomisation.ts evaluates (`new Function(script + "\nreturn setupForm")()`).
 */
import { MESSAGES } from '../order_history/messages.js';
import type { HelpdeskContext, VueActionGroup } from '../vue_ui.js';
import { FETCH_LABEL, GROUP, SHOW_LABEL, errorText, fetchOrderHistory, showHistoryDialog, tr, type DeskHistoryRow } from '../order_history/vue.js';

const DOCTYPE = 'HD Ticket';


interface Ticket {
  name: string;
  customer?: string | null;
  contact?: string | null;
  custom_order_history?: DeskHistoryRow[];
}

/**
 * The ticket as stored. The agent page's `doc` is whatever its resource loaded — a curated dict
 * from `hd_ticket.api.get_one` in older Helpdesk, `frappe.client.get` in newer — so custom child
 * tables are not guaranteed there; read the ticket itself.
 */
function readTicket(ctx: HelpdeskContext, name: string): Promise<Ticket> {
  return ctx.call<Ticket>('frappe.client.get', { doctype: DOCTYPE, name });
}

export function setupForm(ctx: HelpdeskContext): { actions: VueActionGroup[] } {
  const name = ctx.doc?.name;
  if (name === undefined || name === null || name === '') return { actions: [] };
  const ticketName = String(name);
  return {
    actions: [
      {
        group: GROUP,
        buttonLabel: tr(GROUP),
        items: [
          {
            label: tr(SHOW_LABEL),
            onClick: async () => {
              try {
                const ticket = await readTicket(ctx, ticketName);
                showHistoryDialog(ctx.$dialog, ticket.custom_order_history);
              } catch (err) {
                ctx.toast.error(tr('Could not read the order history: {0}', [errorText(err)]));
              }
            },
          },
          {
            label: tr(FETCH_LABEL),
            onClick: () =>
              fetchOrderHistory({
                call: ctx.call,
                toast: ctx.toast,
                doctype: DOCTYPE,
                name: ticketName,
                cannotFetch: async () => {
                  const ticket = await readTicket(ctx, ticketName);
                  return ticket.customer || ticket.contact ? null : tr(MESSAGES.ticketWithoutCustomer);
                },
              }),
          },
        ],
      },
    ],
  };
}
