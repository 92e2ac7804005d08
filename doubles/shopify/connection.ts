/**
 * Relay-style cursor pagination as Shopify does it: opaque base64 cursors that encode the last
 * sort value and id (live captures decode to {"last_id":…,"last_value":…}), so paging continues
 * *after that position* even when rows move between requests — an order updated mid-scan jumps
 * past the cursor and shows up on a later page, as on Shopify.
 *
 * Argument rules: one of first/last is required ("you must provide one of first or last" — the
 * message in Shopify/shopify-api-js graphql client tests), at most 250 per page.
 */
import { GraphQLError } from 'graphql';

export const MAX_PAGE_SIZE = 250;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
}

/** A sortable position: primary value then numeric id as tie-breaker. */
export interface Position {
  value: string | number;
  id: string;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const cmpBig = (a: string, b: string): number => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

export function comparePositions(a: Position, b: Position): number {
  if (a.value !== b.value) {
    if (typeof a.value === 'number' && typeof b.value === 'number') return a.value - b.value;
    return String(a.value) < String(b.value) ? -1 : 1;
  }
  return cmpBig(a.id, b.id);
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify({ last_id: p.id, last_value: p.value })).toString('base64');
}

function decodeCursor(cursor: string): Position {
  try {
    const raw = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { last_id?: unknown; last_value?: unknown };
    if (typeof raw.last_id === 'string' && /^\d+$/.test(raw.last_id) && (typeof raw.last_value === 'string' || typeof raw.last_value === 'number')) {
      return { id: raw.last_id, value: raw.last_value };
    }
  } catch {
    // fall through to the error below
  }
  // Wording assumed: the exact text Shopify uses for a malformed cursor was not found.
  throw new GraphQLError(`Invalid cursor: ${cursor}`, { extensions: { code: 'BAD_REQUEST' } });
}

export function validatePageArgs(args: PageArgs): void {
  const { first, last } = args;
  if ((first === undefined || first === null) && (last === undefined || last === null)) {
    throw new GraphQLError('you must provide one of first or last');
  }
  if (first != null && last != null) throw new GraphQLError('providing both first and last is not supported');
  for (const [name, n] of [['first', first], ['last', last]] as const) {
    if (n != null && n > MAX_PAGE_SIZE) {
      // Wording ASSUMED (no captured Shopify response found); the 250 cap itself is documented.
      throw new GraphQLError(`The maximum number of records that can be requested with '${name}' is ${MAX_PAGE_SIZE}.`, {
        extensions: { code: 'MAX_PAGE_SIZE_EXCEEDED', maximum: MAX_PAGE_SIZE, requested: n },
      });
    }
    if (n != null && n < 0) throw new GraphQLError(`'${name}' must be a non-negative integer`);
  }
}

/**
 * Page through `items` ordered by `positionOf` (ascending, or descending when `reverse`).
 * `items` need not be sorted.
 */
export function paginate<T>(items: readonly T[], args: PageArgs, positionOf: (item: T) => Position): Page<T> {
  validatePageArgs(args);
  const dir = args.reverse ? -1 : 1;
  const ordered = items
    .map((node) => ({ node, pos: positionOf(node) }))
    .sort((a, b) => dir * comparePositions(a.pos, b.pos));
  let lo = 0;
  let hi = ordered.length;
  if (args.after) {
    const after = decodeCursor(args.after);
    while (lo < hi && dir * comparePositions(ordered[lo].pos, after) <= 0) lo++;
  }
  if (args.before) {
    const before = decodeCursor(args.before);
    while (hi > lo && dir * comparePositions(ordered[hi - 1].pos, before) >= 0) hi--;
  }
  let window = ordered.slice(lo, hi);
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (args.first != null) {
    hasNextPage = window.length > args.first;
    hasPreviousPage = lo > 0;
    window = window.slice(0, args.first);
  } else if (args.last != null) {
    hasPreviousPage = window.length > args.last;
    hasNextPage = hi < ordered.length;
    window = window.slice(Math.max(0, window.length - args.last));
  }
  const edges = window.map((w) => ({ cursor: encodeCursor(w.pos), node: w.node }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
