/**
 * Calls to a shop's API with the sidecar's error rules: no answer, 5xx and 429 are retriable (the
 * job backs off, honouring Retry-After); anything else is returned for the caller to judge. Error
 * messages name the shop and endpoint, never the headers (tokens) or query.
 */
import { RetriableError } from '../../lib/errors.js';

export interface ShopResponse {
  status: number;
  headers: Headers;
  text: string;
}

function retryAfterMs(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export async function shopFetch(what: string, url: string, init: RequestInit, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ShopResponse> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 20_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const endpoint = new URL(url).pathname;
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal });
  } catch (err) {
    throw new RetriableError('shop_unavailable', `${what}: no answer from ${endpoint} (${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message})`);
  }
  const text = await res.text();
  if (res.status === 429) throw new RetriableError('shop_throttled', `${what}: ${endpoint} answered 429 (rate limited)`, { retryAfterMs: retryAfterMs(res.headers) });
  if (res.status >= 500) throw new RetriableError('shop_unavailable', `${what}: ${endpoint} answered ${res.status}`, { retryAfterMs: retryAfterMs(res.headers) });
  return { status: res.status, headers: res.headers, text };
}
