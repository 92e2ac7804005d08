/**
 * A controllable clock shared by a double's HTTP server and its test-facing API, so tests can
 * expire tokens, open rate-limit windows and order `updated_at` values without sleeping.
 */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Current time in whole epoch seconds (what Etsy timestamps and rate windows use). */
  nowSeconds(): number;
  /** Move the clock forward (or back, with a negative value) by `ms`. */
  advance(ms: number): void;
  /** Pin the clock to an instant; it stays there until moved again. */
  set(instant: number | Date | string): void;
}

export type ClockStart = number | Date | string;

const toMs = (v: ClockStart): number => (typeof v === 'number' ? v : new Date(v).getTime());

/**
 * With a start instant the clock is frozen there (deterministic tests); without one it follows
 * the wall clock, shifted by whatever `advance()` adds.
 */
export function createClock(start?: ClockStart): Clock {
  let frozenAt: number | undefined = start === undefined ? undefined : toMs(start);
  let offset = 0;
  const now = () => (frozenAt !== undefined ? frozenAt : Date.now() + offset);
  return {
    now,
    nowSeconds: () => Math.floor(now() / 1000),
    advance(ms) {
      if (frozenAt !== undefined) frozenAt += ms;
      else offset += ms;
    },
    set(instant) {
      frozenAt = toMs(instant);
    },
  };
}
