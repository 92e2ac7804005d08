/**
 * Shopify's requested query cost, computed before a query runs (shopify.dev "GraphQL Admin API rate
 * limits", Cost calculation): scalars and enums cost 0, an object 1, a connection 2 plus the number
 * of objects it may return (`first`/`last`) times the cost of each; nested connections multiply.
 * A single query may cost at most 1,000 points; above that Shopify refuses it with
 * MAX_COST_EXCEEDED instead of running it. Fields of interface/union types are not in this subset.
 */
import {
  getNamedType,
  isLeafType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

export const MAX_SINGLE_QUERY_COST = 1000;

function isConnection(type: GraphQLObjectType): boolean {
  return type.name.endsWith('Connection');
}

/** The requested cost of `query`, or null when it does not parse or names no operation (validation reports that). */
export function requestedQueryCost(schema: GraphQLSchema, query: string, variables: Record<string, unknown> = {}, operationName?: string | null): number | null {
  let doc;
  try {
    doc = parse(query);
  } catch {
    return null;
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return null;
  const root = op.operation === 'query' ? schema.getQueryType() : op.operation === 'mutation' ? schema.getMutationType() : null;
  if (!root) return null;

  const selectionCost = (set: SelectionSetNode | undefined, parent: GraphQLObjectType): number => {
    let total = 0;
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.INLINE_FRAGMENT) total += selectionCost(sel.selectionSet, parent);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) total += selectionCost(fragments.get(sel.name.value)?.selectionSet, parent);
      else {
        const def = parent.getFields()[sel.name.value];
        if (!def) continue;
        const named = getNamedType(def.type);
        if (isLeafType(named) || !isObjectType(named)) continue;
        if (isConnection(named)) {
          const arg = sel.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
          const size = arg ? Number(valueFromASTUntyped(arg.value, variables) ?? 0) : 0;
          // Each returned object: whichever of `nodes` / `edges.node` costs more, the node counted once.
          let perNode = 0;
          for (const inner of sel.selectionSet?.selections ?? []) {
            if (inner.kind !== Kind.FIELD) continue;
            const innerDef = named.getFields()[inner.name.value];
            if (!innerDef) continue;
            let nodeType = getNamedType(innerDef.type);
            let nodeSet = inner.selectionSet;
            if (inner.name.value === 'edges' && isObjectType(nodeType)) {
              const nodeField = inner.selectionSet?.selections.find((s) => s.kind === Kind.FIELD && s.name.value === 'node');
              if (!nodeField || nodeField.kind !== Kind.FIELD) continue;
              nodeType = getNamedType(nodeType.getFields().node!.type);
              nodeSet = nodeField.selectionSet;
            } else if (inner.name.value !== 'nodes') continue;
            if (isObjectType(nodeType)) perNode = Math.max(perNode, 1 + selectionCost(nodeSet, nodeType));
          }
          total += 2 + size * perNode;
        } else {
          // A plain object or list of objects (not sized by arguments): one object.
          total += 1 + selectionCost(sel.selectionSet, named);
        }
      }
    }
    return total;
  };
  return selectionCost(op.selectionSet, root);
}

/** Shopify's refusal of a query over the limit (HTTP 200; message as quoted by developers hitting it). */
export function maxCostExceededBody(cost: number) {
  return {
    errors: [
      {
        message: `Query cost is ${cost}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
        extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: MAX_SINGLE_QUERY_COST, documentation: 'https://shopify.dev/api/usage/rate-limits' },
      },
    ],
  };
}
