// Generated from doctypes/hd_ticket_order_item/hd_ticket_order_item.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** A HD Ticket Order Item document row (child table), as Frappe returns it. */
export interface HdTicketOrderItem {
  name?: string;
  idx?: number;
  parent?: string;
  parenttype?: string;
  parentfield?: string;
  /** Sales Order (Link) */
  sales_order: string | null;
  /** Item (Link) */
  item_code: string | null;
  /** Item Name (Data) */
  item_name: string | null;
  /** Qty (Float) */
  qty: number | null;
  /** Rate (Currency) */
  rate: number | null;
  /** Amount (Currency) */
  amount: number | null;
  /** Delivery Date (Date) */
  delivery_date: string | null;
  /** OPS (Select) */
  ops_status: "" | "APPROVED" | "PENDING" | "BLOCKED" | null;
  /** Material (Select) */
  material_status: "" | "IN_STOCK" | "OUT_OF_STOCK" | "ORDERED" | "PENDING" | null;
  /** Production (Select) */
  production_status: "" | "DONE" | "IN_PROGRESS" | "PENDING" | null;
  /** QA (Select) */
  qa_status: "" | "AWAITING" | "APPROVED" | "REJECTED" | null;
}

export const HD_TICKET_ORDER_ITEM_DOCTYPE = "HD Ticket Order Item";

/** The value fields of HD Ticket Order Item, in form order. */
export const HD_TICKET_ORDER_ITEM_FIELDS = ["sales_order", "item_code", "item_name", "qty", "rate", "amount", "delivery_date", "ops_status", "material_status", "production_status", "qa_status"] as const;

export type HdTicketOrderItemOpsStatus = HdTicketOrderItem["ops_status"] & string;

export type HdTicketOrderItemMaterialStatus = HdTicketOrderItem["material_status"] & string;

export type HdTicketOrderItemProductionStatus = HdTicketOrderItem["production_status"] & string;

export type HdTicketOrderItemQaStatus = HdTicketOrderItem["qa_status"] & string;
