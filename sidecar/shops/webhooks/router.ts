/**
 * The webhook receivers (`webhooks` in hooks_manifest.json). A delivery is answered 200 only once
 * it is durably in the job store — the inbox — under an id that dedupes redeliveries, so Shopify's
 * and Etsy's retries never create work twice and a crash after the 200 loses nothing. Checks run
 * cheapest first and before any parsing: 415 content type, 413 size, 401 signature, 400 JSON.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { manifestHandler, type Enqueue } from '../../jobs/payloads.js';
import type { Logger } from '../../../lib/log.js';
import type { HooksManifest } from '../../../lib/manifest/schema.js';
import type { Metrics } from '../../metrics.js';
import type { EtsyShop, ShopConfig, ShopifyShop } from '../../../lib/config/shops.js';
import { etsyTarget } from '../etsy/notification.js';
import { deliveryJobId, type DeliveryData } from '../jobs.js';
import { MalformedJsonError, checkJson, decodeUtf8, parseLossless } from '../lossless_json.js';
import { verifyShopify, verifyStandardWebhook } from './verify.js';

/**
 * Order topics whose payload is the whole order; each is applied as "the order as of updated_at".
 * `orders/edited` carries an `order_edit` (additions/removals), not the order, and every edit also
 * fires `orders/updated` with the whole order — so it is acknowledged and left out.
 */
export const SHOPIFY_ORDER_TOPICS = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
]);


export interface WebhookDeps {
  shops: ShopConfig[];
  /** The runner's enqueue (sidecar/jobs/runner.ts): the shop policy and the job defaults are applied there. */
  enqueue: Enqueue;
  metrics: Metrics;
  logger: Logger;
  bodyLimitBytes: number;
  now?: () => number;
}

export type { DeliveryData };


function header(req: Request, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: Response, status: number, body: Record<string, unknown>): void {
  res.status(status).json(body);
}

/** Content type first (no body read), then the size limit while reading the raw bytes. */
function rawJsonBody(limit: number, onReject: (req: Request, result: string) => void): (express.RequestHandler | express.ErrorRequestHandler)[] {
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/json')) {
        onReject(req, 'unsupported_media_type');
        reply(res, 415, { error: 'Content-Type must be application/json' });
        return;
      }
      next();
    },
    express.raw({ type: () => true, limit }),
    (err: unknown, req: Request, res: Response, next: NextFunction) => {
      const type = (err as { type?: string } | null)?.type;
      if (type === 'entity.too.large') {
        onReject(req, 'too_large');
        reply(res, 413, { error: `body larger than ${limit} bytes` });
        return;
      }
      if (type === 'request.aborted' || type === 'entity.verify.failed' || type === 'encoding.unsupported') {
        onReject(req, 'malformed');
        reply(res, 400, { error: 'body could not be read' });
        return;
      }
      next(err);
    },
  ];
}

export function createWebhookRouter(deps: WebhookDeps, routes: HooksManifest['webhooks']): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const count = (shop: string, result: string) => deps.metrics.shopDeliveries.inc({ shop, result });

  async function store(res: Response, shop: ShopConfig, handler: string, data: DeliveryData, dedupeKey: string): Promise<void> {
    const id = deliveryJobId(shop.id, data.topic, dedupeKey);
    try {
      // Through the runner: the delivery gets the shop policy over the job defaults, like every shop job.
      const added = await deps.enqueue({ id, name: manifestHandler<DeliveryData>(handler), site: shop.site, data });
      count(shop.id, added ? 'stored' : 'duplicate');
      deps.logger.info({ event: 'shop_delivery', shop: shop.id, topic: data.topic, delivery: id, duplicate: !added }, `${shop.id}: ${data.topic} ${added ? 'stored' : 'already stored'} as ${id}`);
      reply(res, 200, { ok: true, delivery: id, duplicate: !added });
    } catch (err) {
      // Not stored → not acknowledged: the shop retries, so nothing is lost.
      count(shop.id, 'unavailable');
      deps.logger.error({ err, shop: shop.id }, `${shop.id}: could not store a ${data.topic} delivery; answered 503 so the shop retries`);
      res.setHeader('Retry-After', '30');
      reply(res, 503, { error: 'delivery could not be stored; retry later' });
    }
  }

  for (const route of routes) {
    const path = route.route.replace(/^\/webhooks/, '') || '/';
    if (route.verifier === 'shopify-hmac') {
      const shopify = deps.shops.filter((s): s is ShopifyShop => s.platform === 'shopify');
      const shopOf = (req: Request) => shopify.find((s) => s.domain === header(req, 'x-shopify-shop-domain')?.toLowerCase());
      router.post(
        path,
        ...rawJsonBody(deps.bodyLimitBytes, (req, result) => count(shopOf(req)?.id ?? 'unknown', result)),
        async (req: Request, res: Response) => {
          const shop = shopOf(req);
          const raw = req.body as Buffer;
          if (!shop) {
            count('unknown', 'unauthorized');
            reply(res, 401, { error: 'unknown shop: X-Shopify-Shop-Domain names no configured shop' });
            return;
          }
          if (!verifyShopify(raw, header(req, 'x-shopify-hmac-sha256'), shop.webhookSecrets()).ok) {
            count(shop.id, 'unauthorized');
            deps.logger.warn({ event: 'shop_delivery_rejected', shop: shop.id }, `${shop.id}: webhook signature missing or invalid (401)`);
            reply(res, 401, { error: 'invalid or missing X-Shopify-Hmac-Sha256' });
            return;
          }
          const topic = header(req, 'x-shopify-topic');
          const webhookId = header(req, 'x-shopify-webhook-id');
          if (!topic || !webhookId) {
            count(shop.id, 'malformed');
            reply(res, 400, { error: 'X-Shopify-Topic and X-Shopify-Webhook-Id are required' });
            return;
          }
          let payload: unknown;
          let text: string;
          try {
            text = decodeUtf8(raw);
            // Only checked here: the apply reads the stored text losslessly (its ids beyond 2^53).
            payload = checkJson(text);
          } catch (e) {
            if (!(e instanceof MalformedJsonError)) throw e;
            count(shop.id, 'malformed');
            reply(res, 400, { error: `malformed JSON: ${e.message}` });
            return;
          }
          if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
            count(shop.id, 'malformed');
            reply(res, 400, { error: 'the body must be a JSON object' });
            return;
          }
          if (!SHOPIFY_ORDER_TOPICS.has(topic)) {
            // Acknowledged so Shopify does not retry or drop the subscription; nothing to apply.
            count(shop.id, 'ignored');
            reply(res, 200, { ok: true, ignored: `topic ${topic} is not synced` });
            return;
          }
          const eventId = header(req, 'x-shopify-event-id') ?? null;
          await store(res, shop, route.handler, {
            shop: shop.id,
            platform: 'shopify',
            topic,
            webhookId,
            eventId,
            receivedAt: new Date(now()).toISOString(),
            body: text,
          }, eventId ?? webhookId);
        },
      );
    } else {
      const etsy = deps.shops.filter((s): s is EtsyShop => s.platform === 'etsy' && s.webhookSecret !== null);
      router.post(
        path,
        ...rawJsonBody(deps.bodyLimitBytes, (_req, result) => count('etsy', result)),
        async (req: Request, res: Response) => {
          const raw = req.body as Buffer;
          const headers = { id: header(req, 'webhook-id'), timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') };
          let verdict: 'ok' | 'stale' | 'bad' = 'bad';
          let candidates: EtsyShop[] = [];
          for (const shop of etsy) {
            const r = verifyStandardWebhook(raw, headers, shop.webhookSecret!(), { nowMs: now(), toleranceSeconds: shop.toleranceSeconds });
            if (r.ok) {
              verdict = 'ok';
              candidates.push(shop);
            } else if (r.reason === 'stale' && verdict === 'bad') verdict = 'stale';
          }
          if (verdict !== 'ok') {
            count('etsy', verdict === 'stale' ? 'stale' : 'unauthorized');
            reply(res, 401, { error: verdict === 'stale' ? 'webhook-timestamp is outside the accepted window' : 'invalid or missing webhook signature' });
            return;
          }
          let payload: Record<string, unknown>;
          let text: string;
          try {
            text = decodeUtf8(raw);
            const parsed = parseLossless(text);
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MalformedJsonError('the body must be a JSON object');
            payload = parsed as Record<string, unknown>;
          } catch (e) {
            if (!(e instanceof MalformedJsonError)) throw e;
            count('etsy', 'malformed');
            reply(res, 400, { error: `malformed JSON: ${e.message}` });
            return;
          }
          const target = etsyTarget(payload);
          if (!target.receiptId) {
            count('etsy', 'malformed');
            reply(res, 400, { error: 'the notification names no receipt (resource_url or data.receipt_id)' });
            return;
          }
          if (target.shopId) candidates = candidates.filter((s) => s.shopId === target.shopId);
          const shop = candidates[0];
          if (!shop) {
            count('etsy', 'ignored');
            reply(res, 200, { ok: true, ignored: `shop ${target.shopId} is not configured` });
            return;
          }
          const topic = typeof payload.event_type === 'string' ? payload.event_type : 'order.paid';
          await store(res, shop, route.handler, {
            shop: shop.id,
            platform: 'etsy',
            topic,
            webhookId: headers.id!,
            eventId: typeof payload.event_id === 'string' ? payload.event_id : null,
            receivedAt: new Date(now()).toISOString(),
            body: text,
          }, headers.id!);
        },
      );
    }
  }
  return router;
}
