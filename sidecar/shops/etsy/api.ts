/**
 * Etsy Open API v3 for one shop: OAuth2 access tokens refreshed before they expire (1 h), with the
 * rotated refresh token stored at once in the job store — each refresh token works once, so losing
 * the new one would lock the shop out (developers.etsy.com/documentation/essentials/authentication: refresh tokens are single-use) — and every call sending both
 * `x-api-key: <keystring>:<shared secret>` and the bearer token.
 */
import { createHash } from 'node:crypto';
import { PermanentError } from '../../../lib/errors.js';
import { registerSecret } from '../../../lib/log.js';
import type { HandlerContext } from '../../handlers/types.js';
import type { EtsyShop } from '../../../lib/config/shops.js';
import { shopFetch } from '../http.js';
import { parseLossless } from '../lossless_json.js';
import { etsyReceiptSchema, type EtsyReceipt } from './receipt.js';

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_at_ms: number;
  /** sha256 of the configured refresh token this chain grew from: a new one configured restarts it. */
  seed?: string;
}

function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Refresh this long before expiry, so a token never dies mid-page. */
const EARLY_MS = 5 * 60_000;

const tokenKey = (shop: EtsyShop) => `shops.etsy.tokens|${shop.id}`;

export class EtsyApi {
  constructor(
    private readonly ctx: HandlerContext,
    private readonly shop: EtsyShop,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The stored token chain, unless the administrator has since configured a different refresh
   * token (after re-authorising the app): then the configured one is where the chain starts again.
   */
  private async stored(): Promise<Tokens | null> {
    const raw = await this.ctx.meta.get(tokenKey(this.shop));
    const tokens = raw ? (JSON.parse(raw) as Tokens) : null;
    if (!tokens) return null;
    const configured = this.shop.refreshToken?.();
    if (configured && tokens.seed && tokens.seed !== fingerprint(configured)) return null;
    registerSecret(tokens.access_token);
    registerSecret(tokens.refresh_token);
    return tokens;
  }

  private async refresh(refreshToken: string, seed: string | undefined): Promise<Tokens> {
    const res = await shopFetch(`Etsy shop ${this.shop.id}`, `${this.shop.apiUrl}/v3/public/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: this.shop.keystring, refresh_token: refreshToken }).toString(),
    }, { signal: this.ctx.signal });
    if (res.status !== 200) {
      throw new PermanentError(`Etsy shop ${this.shop.id}: the refresh token was refused (${res.status}); authorise the app again and put the new refresh token in refreshTokenEnv/refreshTokenFile`);
    }
    const body = JSON.parse(res.text) as { access_token: string; refresh_token: string; expires_in: number };
    registerSecret(body.access_token);
    registerSecret(body.refresh_token);
    const tokens: Tokens = { access_token: body.access_token, refresh_token: body.refresh_token, expires_at_ms: this.now() + body.expires_in * 1000, seed };
    // At once, before anything else can fail: the refresh token just used no longer works.
    await this.ctx.meta.set(tokenKey(this.shop), JSON.stringify(tokens));
    return tokens;
  }

  /** A live access token; one refresh at a time per shop across replicas. */
  async accessToken(force = false): Promise<string> {
    const current = await this.stored();
    if (current && !force && current.expires_at_ms - EARLY_MS > this.now()) return current.access_token;
    return this.ctx.lock(`shops.etsy.token|${this.shop.id}`, async () => {
      // Another job may have refreshed while we waited for the lock.
      const latest = await this.stored();
      if (latest && latest.expires_at_ms - EARLY_MS > this.now() && latest.access_token !== current?.access_token) return latest.access_token;
      if (latest && !force && latest.expires_at_ms - EARLY_MS > this.now()) return latest.access_token;
      const configured = this.shop.refreshToken?.();
      const refreshToken = latest?.refresh_token ?? configured;
      if (!refreshToken) throw new PermanentError(`Etsy shop ${this.shop.id}: no OAuth refresh token; set refreshTokenEnv or refreshTokenFile`);
      const seed = latest ? latest.seed : configured ? fingerprint(configured) : undefined;
      return (await this.refresh(refreshToken, seed)).access_token;
    });
  }

  private async get(path: string, query: Record<string, string | number> = {}): Promise<unknown> {
    const url = new URL(`${this.shop.apiUrl}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken(attempt > 0);
      const res = await shopFetch(`Etsy shop ${this.shop.id}`, url.toString(), {
        headers: { 'x-api-key': `${this.shop.keystring}:${this.shop.sharedSecret()}`, Authorization: `Bearer ${token}`, Accept: 'application/json' },
      }, { signal: this.ctx.signal });
      if (res.status === 401 && attempt === 0) continue; // revoked or expired early: refresh once
      if (res.status === 404) return null;
      if (res.status !== 200) {
        let detail = '';
        try {
          detail = String((JSON.parse(res.text) as { error?: string }).error ?? '');
        } catch {
          // not JSON
        }
        throw new PermanentError(`Etsy shop ${this.shop.id}: ${url.pathname} answered ${res.status}${detail ? ` (${detail})` : ''}`);
      }
      return parseLossless(res.text);
    }
  }

  async receipt(receiptId: string): Promise<EtsyReceipt | null> {
    const body = await this.get(`/v3/application/shops/${this.shop.shopId}/receipts/${receiptId}`);
    return body === null ? null : etsyReceiptSchema.parse(body);
  }

  /** Receipts (unparsed) modified at or after `sinceSeconds`, oldest change first (offset paging, 100 a page). */
  async *receiptsModifiedSince(sinceSeconds: number): AsyncGenerator<unknown[]> {
    for (let offset = 0; ; offset += 100) {
      const body = (await this.get(`/v3/application/shops/${this.shop.shopId}/receipts`, {
        min_last_modified: Math.max(946684800, Math.floor(sinceSeconds)),
        sort_on: 'updated',
        sort_order: 'asc',
        limit: 100,
        offset,
      })) as { count: number; results: unknown[] } | null;
      const results = body?.results ?? [];
      yield results;
      if (results.length < 100) return;
    }
  }
}
