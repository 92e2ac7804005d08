/**
 * Executes Admin GraphQL requests for one shop with the real `graphql` engine against
 * ADMIN_SCHEMA_SDL, so unknown fields, wrong argument types and bad enum values fail validation
 * the way they do on Shopify (errors array, HTTP 200), and adds the `extensions.cost` block every
 * Shopify GraphQL response carries.
 */
import { buildSchema, graphql, GraphQLError, type ExecutionResult } from 'graphql';
import { mapPage, orderView } from './graphql-views.js';
import { paginate, type PageArgs, type Position } from './connection.js';
import { toCents } from './money.js';
import { ADMIN_SCHEMA_SDL } from './schema.js';
import { MAX_SINGLE_QUERY_COST, maxCostExceededBody, requestedQueryCost } from './query-cost.js';
import { compileSearch, type SearchWarning } from './search-query.js';
import type { ShopifyShop } from './shop.js';
import { parseTime } from './time.js';
import type { ShopifyOrder } from './types.js';

const schema = buildSchema(ADMIN_SCHEMA_SDL);

/** Bucket numbers as seen on live responses (airhorns/shopify-draft-proxy captures: 2000 / 100). */
const BUCKET = { maximumAvailable: 2000, restoreRate: 100 };

interface RequestContext {
  shop: ShopifyShop;
  /** Nodes returned, for the approximate actual cost. */
  returned: number;
  requested: number;
  search: { path: string[]; query: string; warnings: SearchWarning[] }[];
}

type SortKey = 'CREATED_AT' | 'ID' | 'ORDER_NUMBER' | 'PROCESSED_AT' | 'TOTAL_PRICE' | 'UPDATED_AT';

function positionFor(sortKey: SortKey): (o: ShopifyOrder) => Position {
  switch (sortKey) {
    case 'CREATED_AT':
      return (o) => ({ value: parseTime(o.created_at), id: o.id });
    case 'UPDATED_AT':
      return (o) => ({ value: parseTime(o.updated_at), id: o.id });
    case 'PROCESSED_AT':
      return (o) => ({ value: parseTime(o.processed_at), id: o.id });
    case 'ORDER_NUMBER':
      return (o) => ({ value: o.order_number, id: o.id });
    case 'TOTAL_PRICE':
      return (o) => ({ value: toCents(o.total_price), id: o.id });
    case 'ID':
      return (o) => ({ value: 0, id: o.id });
  }
}

const rootValue = {
  orders(args: PageArgs & { query?: string | null; sortKey: SortKey }, ctx: RequestContext) {
    let search;
    try {
      search = compileSearch(args.query, ctx.shop.utcOffset);
    } catch (e) {
      throw new GraphQLError(`Invalid search query: ${(e as Error).message}`, { extensions: { code: 'BAD_REQUEST' } });
    }
    const matching = ctx.shop.liveOrders().filter(search.matches);
    const page = paginate(matching, args, positionFor(args.sortKey));
    ctx.requested += 2 + (args.first ?? args.last ?? 0);
    ctx.returned += page.nodes.length;
    if (search.warnings.length) ctx.search.push({ path: ['orders'], query: args.query ?? '', warnings: search.warnings });
    return mapPage(page, orderView);
  },
  order(args: { id: string }, ctx: RequestContext) {
    ctx.requested += 1;
    const legacy = args.id.replace(/^gid:\/\/shopify\/Order\//, '');
    const found = ctx.shop.liveOrders().find((o) => o.id === legacy);
    if (found) ctx.returned += 1;
    return found ? orderView(found) : null;
  },
};

export interface GraphqlRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export async function executeAdminGraphql(shop: ShopifyShop, req: GraphqlRequest): Promise<ExecutionResult & { extensions: Record<string, unknown> }> {
  const requested = requestedQueryCost(schema, req.query, req.variables ?? {}, req.operationName);
  if (requested !== null && requested > MAX_SINGLE_QUERY_COST) {
    const body = maxCostExceededBody(requested);
    return { errors: body.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions })), extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: { ...BUCKET, currentlyAvailable: BUCKET.maximumAvailable } } } };
  }
  const ctx: RequestContext = { shop, returned: 0, requested: 0, search: [] };
  const result = await graphql({
    schema,
    source: req.query,
    rootValue,
    contextValue: ctx,
    variableValues: req.variables ?? undefined,
    operationName: req.operationName ?? undefined,
  });
  // Approximate cost: Shopify's exact calculator is not reproduced, only its response shape.
  const actual = 1 + ctx.returned;
  const extensions: Record<string, unknown> = {
    cost: {
      requestedQueryCost: requested ?? Math.max(ctx.requested, actual),
      actualQueryCost: actual,
      throttleStatus: { ...BUCKET, currentlyAvailable: BUCKET.maximumAvailable - actual },
    },
  };
  if (ctx.search.length) extensions.search = ctx.search;
  return { ...result, extensions };
}

/**
 * The body Shopify returns when the cost bucket is empty: HTTP 200, `errors[0].extensions.code`
 * THROTTLED, cost with `actualQueryCost: null` (captured response quoted at
 * community.shopify.com/t/throttled/254776 and gist lacom/56e3834834e250270062583f425274b9).
 */
export function throttledBody(requestedQueryCost = 752) {
  return {
    errors: [
      {
        message: 'Throttled',
        extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
      },
    ],
    extensions: {
      cost: {
        requestedQueryCost,
        actualQueryCost: null,
        throttleStatus: { ...BUCKET, currentlyAvailable: 0 },
      },
    },
  };
}
