/**
 * Shopify renders REST/webhook timestamps in the shop's own UTC offset
 * ("2026-11-20T10:15:00-05:00") but GraphQL `DateTime` values in UTC ("2026-11-20T15:15:00Z");
 * the sidecar must cope with both, so the double reproduces both.
 */

/** "+05:30" / "-05:00" → minutes east of UTC. */
export function offsetMinutes(offset: string): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  if (!m) throw new Error(`UTC offset must look like -05:00, got ${offset}`);
  const mins = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -mins : mins;
}

/** Epoch ms → ISO-8601 in the shop offset, to the second. */
export function formatShopTime(ms: number, offset: string): string {
  const shifted = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes(offset) * 60_000);
  return shifted.toISOString().replace(/\.\d{3}Z$/, offset);
}

/** Any ISO-8601 string → GraphQL DateTime (UTC, whole seconds, "Z"). */
export function toGraphqlDateTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const parseTime = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 time: ${iso}`);
  return ms;
};
