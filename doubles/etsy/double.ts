/**
 * The Etsy Open API v3 test double: receipts endpoints, the OAuth refresh endpoint, x-api-key and
 * bearer-token checks, per-app rate limits and signed webhooks, on 127.0.0.1 with a clock tests
 * control.
 *
 * Paths as in Etsy's OAS (gearment/go-etsy openapi.yaml): `GET /v3/application/shops/{shop_id}/receipts`
 * (getShopReceipts), `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}` (getShopReceipt),
 * `GET /v3/application/openapi-ping`; token endpoint `POST /v3/public/oauth/token`
 * (developers.etsy.com/documentation/essentials/authentication, form-encoded).
 * Every `/v3/application` call needs `x-api-key: <keystring>:<shared_secret>` — required since
 * Feb 2026 (etsy/open-api discussion #1529, quoted in anitabyte/etsyv3#31).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createClock, type Clock, type ClockStart } from '../shared/clock.js';
import { listenLocal } from '../shared/http.js';
import { createRequestLog, type RequestLog } from '../shared/request-log.js';
import { etsyErrors } from './errors.js';
import { TokenStore } from './oauth.js';
import { RateLimiter, type RateLimits } from './rate-limit.js';
import { parseReceiptQuery } from './receipts-query.js';
import { EtsyShop, type EtsyShopConfig } from './shop.js';
import { newWebhookSecret } from './webhooks.js';

export interface EtsyAppConfig {
  keystring: string;
  sharedSecret: string;
  /** Per-app limits; default 10 per second, 10,000 per day. */
  rateLimit?: Partial<RateLimits>;
}

export interface EtsyDoubleOptions {
  apps: EtsyAppConfig[];
  shops: EtsyShopConfig[];
  /** Start the clock frozen at this instant; omitted → wall clock (still `advance`-able). */
  now?: ClockStart;
  /** Standard Webhooks endpoint secret (`whsec_<base64>`); generated when omitted. */
  webhookSecret?: string;
  /** Base of webhook `resource_url`s; default https://api.etsy.com (as Etsy sends them). */
  resourceBase?: string;
  /** Answer 400 for limit > 100 instead of clamping to 100 (Etsy clamps). */
  strictLimit?: boolean;
}

export interface EtsyDouble {
  /** `http://127.0.0.1:<port>` — use as the API base instead of https://api.etsy.com. */
  url: string;
  close(): Promise<void>;
  shop(shopId: number): EtsyShop;
  clock: Clock;
  requests: RequestLog;
  webhookSecret: string;
}

interface AuthedLocals {
  keystring: string;
}

const DEFAULT_LIMITS: RateLimits = { perSecond: 10, perDay: 10_000 };

export async function createEtsyDouble(opts: EtsyDoubleOptions): Promise<EtsyDouble> {
  if (opts.apps.length === 0) throw new Error('at least one app is required');
  const clock = createClock(opts.now);
  const tokens = new TokenStore(clock);
  const apps = new Map(opts.apps.map((a) => [a.keystring, a]));
  const limiter = new RateLimiter(clock, (k) => ({ ...DEFAULT_LIMITS, ...apps.get(k)?.rateLimit }));
  const webhookSecret = opts.webhookSecret ?? newWebhookSecret();
  let receiptSeq = 3_012_345_670;
  let transactionSeq = 4_012_345_670;
  let listingSeq = 1_512_345_670;
  const shops = new Map<number, EtsyShop>();
  for (const cfg of opts.shops) {
    const keystring = cfg.keystring ?? opts.apps[0].keystring;
    if (!apps.has(keystring)) throw new Error(`shop ${cfg.shop_id}: unknown app ${keystring}`);
    shops.set(
      cfg.shop_id,
      new EtsyShop(cfg, {
        clock,
        tokens,
        keystring,
        webhookSecret,
        resourceBase: opts.resourceBase ?? 'https://api.etsy.com',
        nextReceiptId: () => (receiptSeq += 7),
        nextTransactionId: () => (transactionSeq += 11),
        nextListingId: () => (listingSeq += 13),
      }),
    );
  }
  const requests = createRequestLog(clock.now);
  const app = express();
  app.use(requests.middleware);

  app.post('/v3/public/oauth/token', express.urlencoded({ extended: false }), express.json(), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'refresh_token') {
      res.status(400).json(etsyErrors.unsupportedGrant);
      return;
    }
    const keystring = String(body.client_id ?? '');
    if (!apps.has(keystring)) {
      // "Invalid API key" on the token endpoint: etsy/open-api#561 (status ASSUMED).
      res.status(400).json(etsyErrors.invalidKey);
      return;
    }
    const result = tokens.exchange(String(body.refresh_token ?? ''), keystring);
    if (!result.ok) {
      res.status(result.status).json(result.body);
      return;
    }
    const userId = Number(result.pair.access_token.split('.')[0]);
    for (const s of shops.values()) if (s.userId === userId) s.rotated(result.pair);
    res.status(200).json(result.body);
  });

  app.use('/v3/application', (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('x-api-key');
    if (!header) {
      res.status(403).json(etsyErrors.missingKey);
      return;
    }
    if (!header.includes(':')) {
      res.status(403).json(etsyErrors.sharedSecretRequired);
      return;
    }
    const parts = header.split(':');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      res.status(403).json(etsyErrors.malformedKey);
      return;
    }
    const [keystring, secret] = parts;
    if (apps.get(keystring)?.sharedSecret !== secret) {
      res.status(403).json(etsyErrors.invalidKey);
      return;
    }
    const decision = limiter.take(keystring);
    res.set(decision.headers);
    if (!decision.ok) {
      res.status(429).json(decision.body);
      return;
    }
    (res.locals as AuthedLocals).keystring = keystring;
    next();
  });

  app.get('/v3/application/openapi-ping', (_req, res) => {
    res.json({ application_id: 1_000_001 });
  });

  /** Bearer token of the shop's seller; answers the error itself and returns null when refused. */
  const authorizeShop = (req: Request, res: Response): EtsyShop | null => {
    const auth = req.get('authorization');
    if (!auth) {
      res.status(401).json(etsyErrors.missingAuthorization);
      return null;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const check = m ? tokens.checkAccess(m[1], (res.locals as AuthedLocals).keystring) : ({ ok: false, body: etsyErrors.invalidToken } as const);
    if (!check.ok) {
      res.status(401).json(check.body);
      return null;
    }
    const shopId = String(req.params.shop_id);
    const shop = /^\d+$/.test(shopId) ? shops.get(Number(shopId)) : undefined;
    if (!shop) {
      res.status(404).json(etsyErrors.shopNotFound(shopId));
      return null;
    }
    if (shop.userId !== check.userId) {
      res.status(403).json(etsyErrors.forbiddenShop(shop.shopId));
      return null;
    }
    return shop;
  };

  app.get('/v3/application/shops/:shop_id/receipts', (req, res) => {
    const shop = authorizeShop(req, res);
    if (!shop) return;
    const parsed = parseReceiptQuery(req.query as Record<string, unknown>, { strictLimit: opts.strictLimit ?? false });
    if (!parsed.ok) {
      res.status(400).json(parsed.body);
      return;
    }
    res.json(shop.select(parsed.query));
  });

  app.get('/v3/application/shops/:shop_id/receipts/:receipt_id', (req, res) => {
    const shop = authorizeShop(req, res);
    if (!shop) return;
    const id = String(req.params.receipt_id);
    const receipt = /^\d+$/.test(id) ? shop.find(Number(id)) : undefined;
    if (!receipt) {
      res.status(404).json(etsyErrors.receiptNotFound(id));
      return;
    }
    res.json(receipt);
  });

  app.use('/v3', (_req, res) => {
    res.status(404).json({ error: 'Not Found' });
  });

  const server = await listenLocal(app);
  return {
    url: server.url,
    close: server.close,
    shop(shopId) {
      const s = shops.get(shopId);
      if (!s) throw new Error(`no shop ${shopId}`);
      return s;
    },
    clock,
    requests,
    webhookSecret,
  };
}
