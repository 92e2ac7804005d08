/**
 * Parse shop JSON without rounding ids: Shopify ids exceed 2^53 (its own Node library switched to
 * lossless parsing for that reason, shopify.dev/docs/api/admin-rest/latest/resources/order: ids are 64-bit integers), so integers that a double cannot hold stay
 * digit strings; every other number is a plain number.
 */
import { isSafeNumber, parse } from 'lossless-json';

export class MalformedJsonError extends Error {
  override name = 'MalformedJsonError';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of a signed body, or a MalformedJsonError when its bytes are not UTF-8 (RFC 8259 §8.1
 * requires UTF-8). A lenient decode would store replacement characters: what is stored would then
 * differ from what was signed, and a replay would apply a different order.
 */
export function decodeUtf8(raw: Uint8Array): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    throw new MalformedJsonError('the body is not valid UTF-8');
  }
}

export function parseLossless(text: string): unknown {
  try {
    return parse(text, null, (digits: string) => (isSafeNumber(digits) ? Number(digits) : digits));
  } catch (e) {
    throw new MalformedJsonError((e as Error).message);
  }
}

/**
 * The body parsed by the native parser, to check that it is JSON (the same grammar) before it is
 * stored: about five times faster than lossless parsing and with far less garbage, which matters on
 * the thread acknowledging webhooks. Numbers may round here, so use the value only for its shape;
 * what is applied is parsed again, losslessly, from the stored text.
 */
export function checkJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MalformedJsonError((e as Error).message);
  }
}

/** An id from a payload: a number that survived parsing, or digits kept as a string. */
export function idString(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : undefined;
  if (typeof value === 'string') return value;
  return undefined;
}
