// Generated from doctypes/order_sync_request/order_sync_request.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** A Order Sync Request document, as Frappe returns it. */
export interface OrderSyncRequest {
  name?: string;
  /** Reference DocType (Link) */
  reference_doctype: string;
  /** Reference Name (Dynamic Link) */
  reference_name: string;
  /** Status (Select) */
  status: "Queued" | "Running" | "Done" | "Failed" | null;
  /** Rows Synced (Int) */
  rows_synced: number | null;
  /** Orders Synced (Int) */
  orders_synced: number | null;
  /** Message (Small Text) */
  message: string | null;
  /** Requested By (Link) */
  requested_by: string | null;
}

export const ORDER_SYNC_REQUEST_DOCTYPE = "Order Sync Request";

/** The value fields of Order Sync Request, in form order. */
export const ORDER_SYNC_REQUEST_FIELDS = ["reference_doctype", "reference_name", "status", "rows_synced", "orders_synced", "message", "requested_by"] as const;

export type OrderSyncRequestStatus = OrderSyncRequest["status"] & string;
