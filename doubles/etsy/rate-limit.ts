/**
 * Etsy's per-app limits: requests per second and per day (defaults 10 and 10,000 — the figures
 * Etsy staff quote in etsy/open-api#46), reported on every response in `x-limit-per-second`,
 * `x-remaining-this-second`, `x-limit-per-day`, `x-remaining-today` (header names from a live
 * response in etsy/open-api#256). Over the limit: 429 with `retry-after`. The day here is a fixed
 * window from the first request, a simplification of Etsy's sliding 24 h.
 */
import type { Clock } from '../shared/clock.js';
import { etsyErrors } from './errors.js';

export interface RateLimits {
  perSecond: number;
  perDay: number;
}

export type RateDecision = { ok: true; headers: Record<string, string> } | { ok: false; headers: Record<string, string>; body: object };

interface Usage {
  second: number;
  inSecond: number;
  dayStart: number;
  inDay: number;
}

export class RateLimiter {
  private readonly usage = new Map<string, Usage>();

  constructor(
    private readonly clock: Clock,
    private readonly limitsFor: (keystring: string) => RateLimits,
  ) {}

  /** Count one request for the app, or refuse it (refused requests are not counted). */
  take(keystring: string): RateDecision {
    const limits = this.limitsFor(keystring);
    const now = this.clock.nowSeconds();
    let u = this.usage.get(keystring);
    if (!u) {
      u = { second: now, inSecond: 0, dayStart: now, inDay: 0 };
      this.usage.set(keystring, u);
    }
    if (u.second !== now) {
      u.second = now;
      u.inSecond = 0;
    }
    if (now - u.dayStart >= 86_400) {
      u.dayStart = now;
      u.inDay = 0;
    }
    const headers = (): Record<string, string> => ({
      'x-limit-per-second': String(limits.perSecond),
      'x-remaining-this-second': String(Math.max(0, limits.perSecond - u.inSecond)),
      'x-limit-per-day': String(limits.perDay),
      'x-remaining-today': String(Math.max(0, limits.perDay - u.inDay)),
    });
    if (u.inDay >= limits.perDay) {
      return { ok: false, headers: { ...headers(), 'retry-after': String(u.dayStart + 86_400 - now) }, body: etsyErrors.perDay };
    }
    if (u.inSecond >= limits.perSecond) {
      return { ok: false, headers: { ...headers(), 'retry-after': '1' }, body: etsyErrors.perSecond };
    }
    u.inSecond++;
    u.inDay++;
    return { ok: true, headers: headers() };
  }
}
