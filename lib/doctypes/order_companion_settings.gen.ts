// Generated from doctypes/order_companion_settings/order_companion_settings.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** A Order Companion Settings document, as Frappe returns it. */
export interface OrderCompanionSettings {
  name?: string;
  /** Install State (Code) */
  install_state: string | null;
}

export const ORDER_COMPANION_SETTINGS_DOCTYPE = "Order Companion Settings";

/** The value fields of Order Companion Settings, in form order. */
export const ORDER_COMPANION_SETTINGS_FIELDS = ["install_state"] as const;
