// Generated from doctypes/custom_fields/work_order.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** The fields this app adds to Work Order (Custom Field records). */
export interface WorkOrderCustomFields {
  /** OPS Status (Select) */
  custom_ops_status: "PENDING" | "APPROVED" | "BLOCKED" | null;
  /** Material Status (Select) */
  custom_ingredients_status: "PENDING" | "IN_STOCK" | "OUT_OF_STOCK" | "ORDERED" | null;
  /** Production Status (Select) */
  custom_production_status: "PENDING" | "IN_PROGRESS" | "DONE" | null;
  /** QA Status (Select) */
  custom_qa_status: "AWAITING" | "APPROVED" | "REJECTED" | null;
}

export const WORK_ORDER_CUSTOM_FIELDS = ["custom_ops_status", "custom_ingredients_status", "custom_production_status", "custom_qa_status"] as const;
