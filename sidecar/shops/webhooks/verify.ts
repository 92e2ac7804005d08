/**
 * Webhook signatures, checked on the raw body before anything parses it, in constant time.
 * - Shopify: base64 HMAC-SHA256 of the body with the app's client secret in X-Shopify-Hmac-Sha256
 *   (shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook); during a secret rotation either secret is accepted.
 * - Etsy: Standard Webhooks — base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"
 *   keyed with the base64-decoded "whsec_…" secret, any of several "v1,<sig>" entries, and a
 *   timestamp inside the tolerance window so a captured delivery cannot be replayed later (the Standard Webhooks spec, standard-webhooks/standard-webhooks spec/standard-webhooks.md "Verifying signatures").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function equalConstantTime(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // timingSafeEqual needs equal lengths; comparing x with itself keeps the time independent of
  // where a wrong signature differs.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}

export function shopifyHmac(raw: Buffer, secret: string): string {
  return createHmac('sha256', secret).update(raw).digest('base64');
}

/** Why a delivery's signature was refused; the router words its 401 from it. */
export type VerifyFailure = 'missing_headers' | 'bad_signature' | 'stale';

/** What every webhook verifier answers. */
export type Verification = { ok: true } | { ok: false; reason: VerifyFailure };

const VERIFIED: Verification = { ok: true };
const refuse = (reason: VerifyFailure): Verification => ({ ok: false, reason });

export function verifyShopify(raw: Buffer, header: string | undefined, secrets: string[]): Verification {
  if (!header) return refuse('missing_headers');
  let ok = false;
  // Every secret is tried (no early exit), so timing does not reveal which one matched.
  for (const secret of secrets) if (secret && equalConstantTime(shopifyHmac(raw, secret), header.trim())) ok = true;
  return ok ? VERIFIED : refuse('bad_signature');
}

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

export function standardWebhookSignature(raw: Buffer, id: string, timestamp: string, secret: string): string {
  return createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`).update(raw).digest('base64');
}

export function verifyStandardWebhook(
  raw: Buffer,
  headers: { id?: string; timestamp?: string; signature?: string },
  secret: string,
  opts: { nowMs: number; toleranceSeconds: number },
): Verification {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return refuse('missing_headers');
  if (!/^\d+$/.test(timestamp)) return refuse('bad_signature');
  const expected = standardWebhookSignature(raw, id, timestamp, secret);
  let matched = false;
  for (const entry of signature.split(' ')) {
    const [version, sig] = entry.split(',', 2);
    if (version === 'v1' && sig && equalConstantTime(sig, expected)) matched = true;
  }
  if (!matched) return refuse('bad_signature');
  const ageSeconds = Math.abs(opts.nowMs / 1000 - Number(timestamp));
  return ageSeconds > opts.toleranceSeconds ? refuse('stale') : VERIFIED;
}
