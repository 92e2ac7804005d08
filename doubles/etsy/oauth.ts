/**
 * Etsy OAuth 2.0 tokens (developers.etsy.com/documentation/essentials/authentication):
 * access tokens live 1 h (`expires_in: 3600`, etsy/open-api#116), refresh tokens 90 days, and
 * every refresh **rotates** the refresh token — the old one stops working (etsy/open-api#353;
 * "refresh_token is revoked" in #519). Both tokens are `<user_id>.<random>` (the examples in
 * #519 and #549 start with the numeric user id).
 */
import type { Clock } from '../shared/clock.js';
import { randomToken } from '../shared/ids.js';
import { etsyErrors } from './errors.js';

export const ACCESS_TOKEN_TTL = 3600;
export const REFRESH_TOKEN_TTL = 90 * 86_400;

interface AccessRecord {
  userId: number;
  keystring: string;
  /** Epoch seconds. */
  expiresAt: number;
  revoked: boolean;
}

interface RefreshRecord extends AccessRecord {
  /** Set once the token was exchanged (rotated) or revoked. */
  spent: boolean;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  /** Epoch seconds at which the access token expires. */
  expires_at: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

export type AccessCheck = { ok: true; userId: number } | { ok: false; body: object };
export type RefreshResult = { ok: true; body: TokenResponse; pair: TokenPair } | { ok: false; status: number; body: object };

export class TokenStore {
  private readonly access = new Map<string, AccessRecord>();
  private readonly refresh = new Map<string, RefreshRecord>();

  constructor(private readonly clock: Clock) {}

  /** Register tokens a test configured up front (or mint them when absent). */
  seed(userId: number, keystring: string, pair?: Partial<TokenPair>): TokenPair {
    const now = this.clock.nowSeconds();
    const access_token = pair?.access_token ?? `${userId}.${randomToken()}`;
    const refresh_token = pair?.refresh_token ?? `${userId}.${randomToken(36)}`;
    // expires_at is epoch seconds; a value that can only be milliseconds is converted, not misread as year 50000.
    const given = pair?.expires_at;
    const expires_at = given === undefined ? now + ACCESS_TOKEN_TTL : given > 1e11 ? Math.floor(given / 1000) : given;
    this.access.set(access_token, { userId, keystring, expiresAt: expires_at, revoked: false });
    this.refresh.set(refresh_token, { userId, keystring, expiresAt: now + REFRESH_TOKEN_TTL, revoked: false, spent: false });
    return { access_token, refresh_token, expires_at };
  }

  /** A new pair, as an authorization-code grant would produce. */
  issue(userId: number, keystring: string): TokenPair {
    return this.seed(userId, keystring);
  }

  checkAccess(token: string, keystring: string): AccessCheck {
    const rec = this.access.get(token);
    if (!rec || rec.revoked || rec.keystring !== keystring) return { ok: false, body: etsyErrors.invalidToken };
    if (this.clock.nowSeconds() >= rec.expiresAt) return { ok: false, body: etsyErrors.expiredToken };
    return { ok: true, userId: rec.userId };
  }

  /** `grant_type=refresh_token`: rotate, answer like Etsy's token endpoint. */
  exchange(refreshToken: string, keystring: string): RefreshResult {
    const rec = this.refresh.get(refreshToken);
    if (!rec || rec.keystring !== keystring) return { ok: false, status: 400, body: etsyErrors.refreshInvalid };
    if (rec.spent || rec.revoked) return { ok: false, status: 400, body: etsyErrors.refreshRevoked };
    if (this.clock.nowSeconds() >= rec.expiresAt) return { ok: false, status: 400, body: etsyErrors.refreshExpired };
    rec.spent = true;
    const pair = this.issue(rec.userId, keystring);
    return {
      ok: true,
      pair,
      body: { access_token: pair.access_token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL, refresh_token: pair.refresh_token },
    };
  }

  /** A password change revokes every token of the user (etsy/open-api#519). */
  revokeUser(userId: number): void {
    for (const rec of [...this.access.values(), ...this.refresh.values()]) if (rec.userId === userId) rec.revoked = true;
  }
}
