// Generated from doctypes/custom_fields/hd_ticket.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

import type { HdTicketOrderItem } from './hd_ticket_order_item.gen.js';

/** The fields this app adds to HD Ticket (Custom Field records). */
export interface HdTicketCustomFields {
  /** Order History (Table) */
  custom_order_history: HdTicketOrderItem[] | null;
}

export const HD_TICKET_CUSTOM_FIELDS = ["custom_order_history"] as const;
