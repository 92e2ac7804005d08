/**
 * The reconciliation queries stay under Shopify's single-query cost limit (1,000 points), as the
 * Shopify double computes it from shopify.dev's rules — a query above it is refused before it runs.
 */
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ADMIN_SCHEMA_SDL } from '../../doubles/shopify/schema.js';
import { MAX_SINGLE_QUERY_COST, requestedQueryCost } from '../../doubles/shopify/query-cost.js';
import { MORE_LINES_QUERY, ORDERS_PAGE, ORDERS_QUERY } from '../../sidecar/shops/shopify/admin_api.js';

const schema = buildSchema(ADMIN_SCHEMA_SDL);

describe('Shopify query cost', () => {
  it('prices connections as 2 + first × node, nested ones multiplied', () => {
    expect(requestedQueryCost(schema, 'query { orders(first: 3) { nodes { id name } } }')).toBe(2 + 3 * 1);
    expect(requestedQueryCost(schema, 'query { orders(first: 100) { nodes { lineItems(first: 250) { nodes { sku } } } } }')).toBeGreaterThan(MAX_SINGLE_QUERY_COST);
  });

  it("the product's order page and extra-lines queries fit in one query's budget", () => {
    const orders = requestedQueryCost(schema, ORDERS_QUERY, { first: ORDERS_PAGE, after: null, query: "updated_at:>'2026-01-01T00:00:00Z'" })!;
    const lines = requestedQueryCost(schema, MORE_LINES_QUERY, { id: 'gid://shopify/Order/1', after: null })!;
    expect(orders).toBeGreaterThan(0);
    expect(orders).toBeLessThanOrEqual(MAX_SINGLE_QUERY_COST);
    expect(lines).toBeLessThanOrEqual(MAX_SINGLE_QUERY_COST);
    console.info(`reconciliation query cost: orders page ${orders}, extra lines ${lines}`);
  });
});
