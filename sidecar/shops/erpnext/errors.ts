/**
 * Why an order cannot be applied yet. A delivery that needs a mapping is parked (dead-lettered
 * with this message, counted in `coc_shop_needs_mapping`) rather than dropped: fix the mapping or
 * create the item, then `crm-order-companion jobs retry <id>` applies it.
 */
import { PermanentError } from '../../../lib/errors.js';

export class NeedsMappingError extends PermanentError {
  constructor(message: string) {
    super(`needs mapping: ${message}`);
  }
}

export function isNeedsMapping(lastError: string | undefined): boolean {
  return Boolean(lastError && /^NeedsMappingError\b|needs mapping:/.test(lastError));
}
