/**
 * Error bodies the Etsy double answers with. Etsy's OAS declares every error as
 * `ErrorSchema {error: string}` (gearment/go-etsy openapi.yaml, `components/schemas/ErrorSchema`);
 * OAuth errors add `error_description`. Wording sources per entry; ASSUMED where none was found.
 */
export const etsyErrors = {
  /** 403 — no x-api-key at all; wording ASSUMED. */
  missingKey: { error: 'Missing x-api-key header' },
  /** 403 — quoted in anitabyte/etsyv3#31 and HelpCode-ai/anythingmcp#637 (verified against Etsy there). */
  sharedSecretRequired: { error: 'Shared secret is required in x-api-key header.' },
  /** 403 — anythingmcp#637 quotes this for a malformed key. */
  malformedKey: { error: "Invalid API key: should be in the format 'keystring:shared_secret'." },
  /** Wording from etsy/open-api#498 / #561 ("Invalid API key"); Etsy answered 400 there in 2022, the double uses 403 like the 2026 key errors. */
  invalidKey: { error: 'Invalid API key' },
  /** 401 — ASSUMED wording (etsy-ts#15 reports "Missing authorization header"). */
  missingAuthorization: { error: 'invalid_request', error_description: 'Missing authorization header' },
  /** 401 — etsy/open-api#345. */
  invalidToken: { error: 'invalid_token', error_description: 'access_token is invalid' },
  /** 401 — etsy/open-api#519, #370. */
  expiredToken: { error: 'invalid_token', error_description: 'access token is expired' },
  /** 429 — etsy/open-api#198 (per second), #620 (per day). */
  perSecond: { error: 'Exceeded per second rate limit' },
  perDay: { error: 'Exceeded daily rate limit' },
  /** 400 — etsy/open-api#519 ("refresh_token is revoked"); the other descriptions are ASSUMED. */
  refreshRevoked: { error: 'invalid_grant', error_description: 'refresh_token is revoked' },
  refreshInvalid: { error: 'invalid_grant', error_description: 'refresh_token is invalid' },
  refreshExpired: { error: 'invalid_grant', error_description: 'refresh_token is expired' },
  unsupportedGrant: { error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' },
  /** ASSUMED wordings below. */
  forbiddenShop: (shopId: number) => ({ error: `The authenticated user does not have access to shop ${shopId}.` }),
  shopNotFound: (shopId: string) => ({ error: `Shop with shop_id ${shopId} not found.` }),
  receiptNotFound: (receiptId: string) => ({ error: `Receipt with receipt_id ${receiptId} not found.` }),
  badParam: (name: string, detail: string) => ({ error: `Invalid value for parameter '${name}': ${detail}` }),
} as const;
