// Generated from doctypes/crm_lead_order_item/crm_lead_order_item.json, doctypes/hd_ticket_order_item/hd_ticket_order_item.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

import type { CrmLeadOrderItem } from './crm_lead_order_item.gen.js';
import type { HdTicketOrderItem } from './hd_ticket_order_item.gen.js';

/** One line of a customer's order history (the Order History table of a CRM Lead or an HD Ticket). CRM Lead Order Item and HD Ticket Order Item have the same fields. */
export type HistoryRow = CrmLeadOrderItem;

/** The value fields of a HistoryRow, in form order. */
export const HISTORY_ROW_FIELDS = ["sales_order", "item_code", "item_name", "qty", "rate", "amount", "delivery_date", "ops_status", "material_status", "production_status", "qa_status"] as const;

/** Compile-time proof that HD Ticket Order Item rows are HistoryRows and back. */
export type HdTicketOrderItemIsHistoryRow = [HdTicketOrderItem, HistoryRow] extends [HistoryRow, HdTicketOrderItem] ? true : never;
