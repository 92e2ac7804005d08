// Generated from doctypes/custom_fields/sales_order.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** The fields this app adds to Sales Order (Custom Field records). */
export interface SalesOrderCustomFields {
  /** External Order ID (Data) */
  custom_external_order_id: string | null;
  /** External Updated At (Data) */
  custom_external_updated_at: string | null;
  /** External Status (Data) */
  custom_external_status: string | null;
}

export const SALES_ORDER_CUSTOM_FIELDS = ["custom_external_order_id", "custom_external_updated_at", "custom_external_status"] as const;
