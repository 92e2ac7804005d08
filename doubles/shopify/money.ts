/**
 * Decimal-string arithmetic in integer minor units, so totals never pick up float noise
 * ("0.30000000000000004") that a real Shopify payload would never contain.
 */

/** "199.00" → 19900 (two implied decimals; Shopify amounts never carry more than that here). */
export function toCents(amount: string | number): number {
  const s = String(amount).trim();
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new Error(`not a decimal amount: ${JSON.stringify(amount)}`);
  const frac = ((m[3] ?? '') + '00').slice(0, 2);
  const cents = Number(m[2]) * 100 + Number(frac);
  return m[1] ? -cents : cents;
}

/** 19900 → "199.00" — the REST / webhook rendering. */
export function fromCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Normalise any decimal input to the REST two-decimal form. */
export const money = (amount: string | number): string => fromCents(toCents(amount));

export const sumMoney = (amounts: (string | number)[]): string => fromCents(amounts.reduce<number>((a, b) => a + toCents(b), 0));

/**
 * The GraphQL `Decimal` rendering: Shopify trims trailing zeros but keeps one fractional digit
 * ("24.0", "8.33", "0.0") — seen in live captures, e.g. airhorns/shopify-draft-proxy
 * `fixtures/conformance/.../2025-01/orders/order-create-line-item-fields.json`.
 */
export function graphqlDecimal(amount: string): string {
  const [whole, frac = ''] = money(amount).split('.');
  const trimmed = frac.replace(/0+$/, '');
  return `${whole}.${trimmed === '' ? '0' : trimmed}`;
}
