// Generated from doctypes/custom_fields/address.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** The fields this app adds to Address (Custom Field records). */
export interface AddressCustomFields {
  /** External Address ID (Data) */
  custom_external_address_id: string | null;
}

export const ADDRESS_CUSTOM_FIELDS = ["custom_external_address_id"] as const;
