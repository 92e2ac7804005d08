// Generated from doctypes/custom_fields/customer.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** The fields this app adds to Customer (Custom Field records). */
export interface CustomerCustomFields {
  /** External Customer ID (Data) */
  custom_external_customer_id: string | null;
}

export const CUSTOMER_CUSTOM_FIELDS = ["custom_external_customer_id"] as const;
