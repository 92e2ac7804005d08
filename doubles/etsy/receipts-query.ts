/**
 * `getShopReceipts` query parameters, validated against Etsy's OAS (gearment/go-etsy
 * `client/api/openapi.yaml`, operation getShopReceipts): min_created, max_created,
 * min_last_modified, max_last_modified (integers ≥ 946684800), limit (1–100, default 25),
 * offset (≥ 0, default 0), sort_on (created | updated | receipt_id, default created), sort_order
 * (asc | ascending | desc | descending | up | down, default desc), was_paid, was_shipped,
 * was_delivered, was_canceled (booleans).
 *
 * limit above 100: Etsy's docs say it "resolves to the limit of 100 instead of throwing an
 * error" (etsy/open-api#422, Etsy staff confirm), so the double clamps by default; `strictLimit`
 * makes it a 400 instead. limit below 1 and every other bad value → 400 (wording ASSUMED).
 */
import { etsyErrors } from './errors.js';
import type { ShopReceipt } from './types.js';

const MIN_TIMESTAMP = 946_684_800;
const SORT_ON = ['created', 'updated', 'receipt_id'] as const;
const ASC = ['asc', 'ascending', 'up'];
const DESC = ['desc', 'descending', 'down'];

export interface ReceiptQuery {
  minCreated?: number;
  maxCreated?: number;
  minLastModified?: number;
  maxLastModified?: number;
  limit: number;
  offset: number;
  sortOn: (typeof SORT_ON)[number];
  descending: boolean;
  wasPaid?: boolean;
  wasShipped?: boolean;
  wasDelivered?: boolean;
  wasCanceled?: boolean;
}

export type ParsedQuery = { ok: true; query: ReceiptQuery } | { ok: false; body: object };

class BadParam extends Error {
  constructor(readonly body: object) {
    super('bad parameter');
  }
}

type Raw = Record<string, unknown>;

function single(raw: Raw, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadParam(etsyErrors.badParam(name, 'expected a single value'));
  return v;
}

function int(raw: Raw, name: string, min: number): number | undefined {
  const v = single(raw, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new BadParam(etsyErrors.badParam(name, `expected an integer, got "${v}"`));
  const n = Number(v);
  if (n < min) throw new BadParam(etsyErrors.badParam(name, `must be greater than or equal to ${min}`));
  return n;
}

function bool(raw: Raw, name: string): boolean | undefined {
  const v = single(raw, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new BadParam(etsyErrors.badParam(name, `expected true or false, got "${v}"`));
  return v === 'true';
}

export function parseReceiptQuery(raw: Raw, opts: { strictLimit: boolean }): ParsedQuery {
  try {
    let limit = int(raw, 'limit', 1) ?? 25;
    if (limit > 100) {
      if (opts.strictLimit) throw new BadParam(etsyErrors.badParam('limit', 'must be less than or equal to 100'));
      limit = 100;
    }
    const sortOn = single(raw, 'sort_on') ?? 'created';
    if (!(SORT_ON as readonly string[]).includes(sortOn)) {
      throw new BadParam(etsyErrors.badParam('sort_on', `must be one of ${SORT_ON.join(', ')}`));
    }
    const sortOrder = (single(raw, 'sort_order') ?? 'desc').toLowerCase();
    if (![...ASC, ...DESC].includes(sortOrder)) {
      throw new BadParam(etsyErrors.badParam('sort_order', `must be one of ${[...ASC, ...DESC].join(', ')}`));
    }
    return {
      ok: true,
      query: {
        minCreated: int(raw, 'min_created', MIN_TIMESTAMP),
        maxCreated: int(raw, 'max_created', MIN_TIMESTAMP),
        minLastModified: int(raw, 'min_last_modified', MIN_TIMESTAMP),
        maxLastModified: int(raw, 'max_last_modified', MIN_TIMESTAMP),
        limit,
        offset: int(raw, 'offset', 0) ?? 0,
        sortOn: sortOn as ReceiptQuery['sortOn'],
        descending: DESC.includes(sortOrder),
        wasPaid: bool(raw, 'was_paid'),
        wasShipped: bool(raw, 'was_shipped'),
        wasDelivered: bool(raw, 'was_delivered'),
        wasCanceled: bool(raw, 'was_canceled'),
      },
    };
  } catch (e) {
    if (e instanceof BadParam) return { ok: false, body: e.body };
    throw e;
  }
}

export interface StoredReceipt {
  receipt: ShopReceipt;
  delivered: boolean;
}

const within = (v: number, min?: number, max?: number) => (min === undefined || v >= min) && (max === undefined || v <= max);

/** Filter, sort and page; `count` is the number of matches before paging, as Etsy reports it. */
export function selectReceipts(all: readonly StoredReceipt[], q: ReceiptQuery): { count: number; results: ShopReceipt[] } {
  const sortValue = (r: ShopReceipt) =>
    q.sortOn === 'created' ? r.created_timestamp : q.sortOn === 'updated' ? r.updated_timestamp : r.receipt_id;
  const matches = all.filter(({ receipt: r, delivered }) => {
    const canceled = r.status.toLowerCase() === 'canceled';
    return (
      within(r.created_timestamp, q.minCreated, q.maxCreated) &&
      within(r.updated_timestamp, q.minLastModified, q.maxLastModified) &&
      (q.wasPaid === undefined || r.is_paid === q.wasPaid) &&
      (q.wasShipped === undefined || r.is_shipped === q.wasShipped) &&
      (q.wasDelivered === undefined || delivered === q.wasDelivered) &&
      (q.wasCanceled === undefined || canceled === q.wasCanceled)
    );
  });
  const dir = q.descending ? -1 : 1;
  const sorted = matches
    .map((s) => s.receipt)
    .sort((a, b) => dir * (sortValue(a) - sortValue(b) || a.receipt_id - b.receipt_id));
  return { count: sorted.length, results: sorted.slice(q.offset, q.offset + q.limit) };
}
