/**
 * The Shopify test double: shops and their orders in memory, the Admin GraphQL endpoint on
 * 127.0.0.1, signed webhook deliveries, fault injection and request counting.
 *
 * Endpoint: `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`
 * (shopify.dev/docs/api/admin-graphql — "include your token as a X-Shopify-Access-Token header").
 * The shop is found by its token; `/shops/<domain>/admin/api/<version>/graphql.json` pins the
 * domain explicitly (the real API tells shops apart by host name, which a single 127.0.0.1 port
 * cannot).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createClock, type Clock, type ClockStart } from '../shared/clock.js';
import { listenLocal } from '../shared/http.js';
import { idSequence } from '../shared/ids.js';
import { createRequestLog, type RequestLog } from '../shared/request-log.js';
import { executeAdminGraphql, throttledBody, type GraphqlRequest } from './admin-graphql.js';
import { ShopifyShop, type IdSequences, type ShopConfig } from './shop.js';

/** What the next request(s) to the GraphQL endpoint should get instead of a normal answer. */
export type GraphqlFault =
  /** HTTP 200 with Shopify's THROTTLED error body (GraphQL cost throttling). */
  | { kind: 'throttled' }
  /** Any HTTP failure, e.g. `{ kind: 'http', status: 503 }` or a REST-style 429. */
  | { kind: 'http'; status: number; body?: unknown; headers?: Record<string, string> };

export interface ShopifyDoubleOptions {
  shops: ShopConfig[];
  /** Version stamped on webhooks (`X-Shopify-API-Version`); default "2026-01". */
  apiVersion?: string;
  /** Start the clock frozen at this instant; omitted → wall clock (still `advance`-able). */
  now?: ClockStart;
}

export interface ShopifyDouble {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
  shop(domain: string): ShopifyShop;
  /** The GraphQL endpoint for a shop: `<url>/shops/<domain>/admin/api/<version>/graphql.json`. */
  graphqlUrl(domain: string, version?: string): string;
  clock: Clock;
  requests: RequestLog;
  /** The next `count` GraphQL requests (after authentication) answer with `fault`. */
  failNext(count: number, fault: GraphqlFault): void;
}

const INVALID_TOKEN_BODY = {
  // Verbatim from Shopify 401 responses (community.shopify.com thread 3332, "[API] Invalid API key or access token").
  errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
};

/** Default bodies for injected HTTP faults. 429 is the REST Admin wording; 5xx bodies are ASSUMED. */
function defaultFaultBody(status: number): unknown {
  if (status === 429) return { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' };
  if (status === 503) return { errors: 'Service Unavailable' };
  if (status === 502) return { errors: 'Bad Gateway' };
  return { errors: 'Internal Server Error' };
}

const VERSION = /^(\d{4}-\d{2}|unstable)$/;

export async function createShopifyDouble(opts: ShopifyDoubleOptions): Promise<ShopifyDouble> {
  const clock = createClock(opts.now);
  const apiVersion = opts.apiVersion ?? '2026-01';
  // One id space for the whole double, so ids stay unique across shops as on Shopify.
  const ids: IdSequences = {
    order: idSequence(820982911946154508n),
    lineItem: idSequence(866550311766439020n),
    customer: idSequence(115310627314723954n),
    address: idSequence(715243470612851245n),
    shippingLine: idSequence(271878346596884015n),
    product: idSequence(632910392000000001n),
    variant: idSequence(808950810000000001n),
  };
  const shops = new Map<string, ShopifyShop>();
  for (const cfg of opts.shops) {
    if ([...shops.values()].some((s) => s.accessToken === cfg.accessToken)) throw new Error('access tokens must be unique per shop');
    shops.set(cfg.domain, new ShopifyShop(cfg, clock, ids, apiVersion));
  }
  const faults: GraphqlFault[] = [];
  const requests = createRequestLog(clock.now);

  const app = express();
  app.use(requests.middleware);

  const handler = async (req: Request, res: Response) => {
    const version = String(req.params.version);
    if (!VERSION.test(version)) {
      res.status(404).json({ errors: 'Not Found' });
      return;
    }
    const token = req.get('X-Shopify-Access-Token');
    const pinned = req.params.domain ? shops.get(String(req.params.domain)) : undefined;
    if (req.params.domain && !pinned) {
      res.status(404).json({ errors: 'Not Found' });
      return;
    }
    const shop = pinned ?? [...shops.values()].find((s) => s.accessToken === token);
    if (!shop || !token || shop.accessToken !== token) {
      res.status(401).json(INVALID_TOKEN_BODY);
      return;
    }
    res.set('X-Shopify-API-Version', version);
    const fault = faults.shift();
    if (fault?.kind === 'throttled') {
      res.status(200).json(throttledBody());
      return;
    }
    if (fault?.kind === 'http') {
      const headers = fault.status === 429 ? { 'Retry-After': '2.0', ...fault.headers } : fault.headers ?? {};
      res.status(fault.status).set(headers).json(fault.body ?? defaultFaultBody(fault.status));
      return;
    }
    const body = parseBody(req.body);
    if (!body) {
      // ASSUMED wording for a request without a usable `query`.
      res.status(400).json({ errors: { query: 'Required parameter missing or invalid' } });
      return;
    }
    res.status(200).json(await executeAdminGraphql(shop, body));
  };

  const parsers = [express.json({ type: 'application/json' }), express.text({ type: 'application/graphql' })];
  app.post('/admin/api/:version/graphql.json', parsers, handler);
  app.post('/shops/:domain/admin/api/:version/graphql.json', parsers, handler);
  // Malformed JSON bodies: answer like a missing query rather than with Express's HTML page.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    res.status(400).json({ errors: { query: 'Required parameter missing or invalid' } });
  });

  const server = await listenLocal(app);
  return {
    url: server.url,
    close: server.close,
    shop(domain) {
      const s = shops.get(domain);
      if (!s) throw new Error(`no shop ${domain}`);
      return s;
    },
    graphqlUrl: (domain, version = apiVersion) => `${server.url}/shops/${domain}/admin/api/${version}/graphql.json`,
    clock,
    requests,
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
  };
}

function parseBody(body: unknown): GraphqlRequest | null {
  if (typeof body === 'string' && body.trim()) return { query: body };
  if (body && typeof body === 'object' && typeof (body as GraphqlRequest).query === 'string') {
    const b = body as GraphqlRequest;
    return { query: b.query, variables: b.variables ?? null, operationName: b.operationName ?? null };
  }
  return null;
}
