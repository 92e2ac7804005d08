/**
 * Why an order cannot be applied yet. A delivery that needs a mapping is parked (dead-lettered
 * with this message, counted in `coc_shop_needs_mapping`) rather than dropped: fix the mapping or
 * create the item, then `crm-order-companion jobs retry <id>` applies it.
 */
import { PermanentError } from '../../../lib/errors.js';

/** Every NeedsMappingError message starts with this, so a stored job error still says what it was. */
export const NEEDS_MAPPING_PREFIX = 'needs mapping: ';

export class NeedsMappingError extends PermanentError {
  constructor(message: string) {
    super(`${NEEDS_MAPPING_PREFIX}${message}`);
  }
}

/**
 * Whether a dead-lettered job's stored error was a NeedsMappingError. Only text survives the job
 * store (the embedded store keeps `describeError`'s "NeedsMappingError: needs mapping: …", BullMQ
 * its failedReason, the bare message), so this reads the class name or the prefix the class writes —
 * never a regex over free text. A live error is checked with `instanceof NeedsMappingError`.
 */
export function isNeedsMapping(lastError: string | undefined): boolean {
  if (!lastError) return false;
  return lastError.startsWith(`${NeedsMappingError.name}: `) || lastError.startsWith(NEEDS_MAPPING_PREFIX);
}
