/**
 * Signature checks on the raw body: Shopify's base64 HMAC with rotation, and Standard Webhooks
 * (Etsy) with its replay window — each computed here independently with node:crypto.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyShopify, verifyStandardWebhook } from '../../sidecar/shops/webhooks/verify.js';

const body = Buffer.from('{"id":820982911946154508,"total_price":"199.00"}');
const sign = (raw: Buffer, secret: string) => createHmac('sha256', secret).update(raw).digest('base64');

describe('Shopify HMAC', () => {
  it('accepts the base64 HMAC of the exact bytes and rejects one changed byte', () => {
    expect(verifyShopify(body, sign(body, 'current'), ['current'])).toEqual({ ok: true });
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] = '1'.charCodeAt(0);
    expect(verifyShopify(tampered, sign(body, 'current'), ['current'])).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts the previous secret during a rotation, and nothing else', () => {
    expect(verifyShopify(body, sign(body, 'old'), ['new', 'old'])).toEqual({ ok: true });
    expect(verifyShopify(body, sign(body, 'other'), ['new', 'old'])).toMatchObject({ ok: false });
  });

  it('rejects a missing, hex-encoded or truncated signature', () => {
    expect(verifyShopify(body, undefined, ['current'])).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyShopify(body, createHmac('sha256', 'current').update(body).digest('hex'), ['current'])).toMatchObject({ ok: false });
    expect(verifyShopify(body, sign(body, 'current').slice(0, 20), ['current'])).toMatchObject({ ok: false });
  });
});

describe('Standard Webhooks (Etsy)', () => {
  const key = Buffer.from('etsy-endpoint-secret-bytes');
  const secret = `whsec_${key.toString('base64')}`;
  const ts = 1_790_000_000;
  const sig = (id: string, t: number, raw: Buffer) => createHmac('sha256', key).update(`${id}.${t}.${raw.toString()}`).digest('base64');
  const opts = { nowMs: ts * 1000, toleranceSeconds: 300 };

  it('accepts a v1 signature among several entries', () => {
    const headers = { id: 'msg_1', timestamp: String(ts), signature: `v1,bm90LWl0 v1,${sig('msg_1', ts, body)}` };
    expect(verifyStandardWebhook(body, headers, secret, opts)).toEqual({ ok: true });
  });

  it('rejects another id, body or secret, and missing headers', () => {
    const good = sig('msg_1', ts, body);
    expect(verifyStandardWebhook(body, { id: 'msg_2', timestamp: String(ts), signature: `v1,${good}` }, secret, opts)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStandardWebhook(Buffer.from('{}'), { id: 'msg_1', timestamp: String(ts), signature: `v1,${good}` }, secret, opts)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStandardWebhook(body, { id: 'msg_1', timestamp: String(ts), signature: `v1,${good}` }, `whsec_${Buffer.from('x').toString('base64')}`, opts)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStandardWebhook(body, { id: 'msg_1', timestamp: String(ts) }, secret, opts)).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('rejects a correctly signed delivery outside the tolerance window (replay)', () => {
    const old = ts - 301;
    expect(verifyStandardWebhook(body, { id: 'msg_1', timestamp: String(old), signature: `v1,${sig('msg_1', old, body)}` }, secret, opts)).toEqual({ ok: false, reason: 'stale' });
    const future = ts + 301;
    expect(verifyStandardWebhook(body, { id: 'msg_1', timestamp: String(future), signature: `v1,${sig('msg_1', future, body)}` }, secret, opts)).toEqual({ ok: false, reason: 'stale' });
  });
});
