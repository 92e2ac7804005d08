/**
 * Deterministic id sequences. Shopify ids are rendered from BigInt bases above 2^53 (Shopify's own
 * test-notification order id 820982911946154508 already is), so any client that parses them as
 * JS numbers loses digits — exactly the bug the doubles exist to catch.
 */
import { randomBytes } from 'node:crypto';

export function idSequence(base: bigint, step: bigint = 1001n): () => string {
  let next = base;
  return () => {
    const id = next;
    next += step;
    return id.toString();
  };
}

/** A URL-safe random string for opaque values (tokens, message ids). */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
