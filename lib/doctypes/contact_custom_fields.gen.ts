// Generated from doctypes/custom_fields/contact.json by scripts/gen_types.ts — do not edit; run `npm run gen:types`.

/** The fields this app adds to Contact (Custom Field records). */
export interface ContactCustomFields {
  /** External Contact ID (Data) */
  custom_external_contact_id: string | null;
}

export const CONTACT_CUSTOM_FIELDS = ["custom_external_contact_id"] as const;
