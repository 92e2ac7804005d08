import { describe, expect, it } from 'vitest';
import { describeError, isPermanent, PermanentError } from '../../lib/errors.js';
import { isNeedsMapping, NeedsMappingError } from '../../sidecar/shops/erpnext/errors.js';

describe('NeedsMappingError', () => {
  const err = new NeedsMappingError('no enabled ERPNext Item for SKU-1');

  it('is a permanent error of its own class, so a delivery is parked and not retried', () => {
    expect(err).toBeInstanceOf(NeedsMappingError);
    expect(err).toBeInstanceOf(PermanentError);
    expect(isPermanent(err)).toBe(true);
    expect(err.name).toBe('NeedsMappingError');
  });

  it('is recognised from what either job store keeps of it, and nothing else is', () => {
    expect(isNeedsMapping(describeError(err))).toBe(true); // the embedded store
    expect(isNeedsMapping(err.message)).toBe(true); // BullMQ's failedReason
    expect(isNeedsMapping(describeError(new PermanentError('shop demo: Admin API error: access denied')))).toBe(false);
    expect(isNeedsMapping(undefined)).toBe(false);
  });
});
