// Generated from doctypes/crm_lead_order_item/crm_lead_order_item.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** A CRM Lead Order Item document row (child table), as Frappe returns it. */
export interface CrmLeadOrderItem {
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

export const CRM_LEAD_ORDER_ITEM_DOCTYPE = "CRM Lead Order Item";

/** The value fields of CRM Lead Order Item, in form order. */
export const CRM_LEAD_ORDER_ITEM_FIELDS = ["sales_order", "item_code", "item_name", "qty", "rate", "amount", "delivery_date", "ops_status", "material_status", "production_status", "qa_status"] as const;

export type CrmLeadOrderItemOpsStatus = CrmLeadOrderItem["ops_status"] & string;

export type CrmLeadOrderItemMaterialStatus = CrmLeadOrderItem["material_status"] & string;

export type CrmLeadOrderItemProductionStatus = CrmLeadOrderItem["production_status"] & string;

export type CrmLeadOrderItemQaStatus = CrmLeadOrderItem["qa_status"] & string;
