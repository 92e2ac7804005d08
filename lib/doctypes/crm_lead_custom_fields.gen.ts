// Generated from doctypes/custom_fields/crm_lead.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

import type { CrmLeadOrderItem } from './crm_lead_order_item.gen.js';

/** The fields this app adds to CRM Lead (Custom Field records). */
export interface CrmLeadCustomFields {
  /** ERPNext Customer (Link) */
  custom_customer: string | null;
  /** Order History (Table) */
  custom_order_history: CrmLeadOrderItem[] | null;
}

export const CRM_LEAD_CUSTOM_FIELDS = ["custom_customer", "custom_order_history"] as const;
