/**
 * Recorded cases the emulator does not match yet, each with the reason and the area that owns
 * the fix. The replay asserts that every case here still differs (at one of `paths`, when given)
 * — an exception that starts to pass fails the replay until it is removed from this list.
 */
export interface ReplayException {
  reason: string;
  /** Only differences at these JSON paths (prefixes) are excused; absent: the whole case. */
  paths?: string[];
}

export const EXCEPTIONS: Record<string, ReplayException> = {};
