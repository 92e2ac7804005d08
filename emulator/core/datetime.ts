/**
 * Naive datetimes, the way Frappe keeps them.
 *
 * Frappe stores `Datetime` values without a zone, as wall-clock time in the site's
 * System Settings time zone (`frappe.utils.now_datetime()` converts the server clock
 * with `convert_utc_to_system_timezone`; frappe/frappe:frappe/utils/data.py [v15]).
 * Python then does arithmetic on those naive values. We mirror that by representing a
 * naive datetime as microseconds since 1970-01-01 00:00:00 *of the wall clock*: plain
 * integer arithmetic, no zone, no DST surprises — exactly Python's naive semantics.
 */

export type Micros = number;

export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `str(datetime)`: `YYYY-MM-DD HH:MM:SS` plus `.ffffff` only when microseconds are non-zero. */
export function formatDatetime(us: Micros): string {
  const ms = Math.floor(us / 1000);
  const micro = us - Math.floor(us / MICROS_PER_SECOND) * MICROS_PER_SECOND;
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return micro === 0 ? base : `${base}.${pad(micro, 6)}`;
}

/** `str(date)`: `YYYY-MM-DD`. */
export function formatDate(us: Micros): string {
  return formatDatetime(us).slice(0, 10);
}

/** `format_timedelta` for Time fields: `H:MM:SS` (hours unpadded, as Python's timedelta str). */
export function formatTime(seconds: number): string {
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const frac = Math.round((seconds - whole) * MICROS_PER_SECOND);
  return `${h}:${pad(m)}:${pad(s)}${frac ? `.${pad(frac, 6)}` : ''}`;
}

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;

/**
 * `frappe.utils.get_datetime`: accepts `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.ffffff]]`
 * (space or `T`). Returns null when the text is not a datetime.
 */
export function parseDatetime(text: string): Micros | null {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(ms)) return null;
  const check = new Date(ms);
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1) return null;
  return ms * 1000 + (frac ? Number(frac.padEnd(6, '0')) : 0);
}

/** Time field text (`HH:MM[:SS[.ffffff]]`) → seconds since midnight; null when malformed. */
export function parseTime(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(text.trim());
  if (!m) return null;
  const [, h, mi, s = '0', frac = ''] = m;
  return +h * 3600 + +mi * 60 + +s + (frac ? Number(frac.padEnd(6, '0')) / MICROS_PER_SECOND : 0);
}

/** Wall-clock micros of an absolute instant in an IANA time zone. */
export function wallClockIn(timeZone: string, epochMicros: Micros): Micros {
  const ms = Math.floor(epochMicros / 1000);
  const parts = zoneFormatter(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const hour = get('hour') % 24; // some engines print 24 for midnight
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), hour, get('minute'), get('second'));
  return wall * 1000 + (epochMicros - Math.floor(epochMicros / MICROS_PER_SECOND) * MICROS_PER_SECOND);
}


export function isValidTimeZone(timeZone: string): boolean {
  try {
    zoneFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Python's `date.weekday()` name for a naive datetime: Monday … Sunday. */
export function weekdayName(us: Micros): string {
  const names = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  return names[new Date(Math.floor(us / 1000)).getUTCDay()];
}

/** Midnight of the naive day that contains `us`. */
export function startOfDay(us: Micros): Micros {
  return Math.floor(us / MICROS_PER_DAY) * MICROS_PER_DAY;
}

/**
 * The emulator's clock. Tests move it instead of waiting; it is shared by every site
 * (each site sees it through its own time zone), like the one wall clock a real server has.
 * Each reading is strictly later than the last so that two saves never share a `modified`,
 * as with MariaDB's microsecond timestamps under real load.
 */
export class Clock {
  private offsetMicros = 0;
  private frozenAt: Micros | null = null;
  private last = 0;

  /** Absolute now, in epoch micros. */
  nowEpochMicros(): Micros {
    const base = this.frozenAt ?? Date.now() * 1000 + this.offsetMicros;
    const next = Math.max(base, this.last + 1);
    this.last = next;
    return next;
  }

  /** Absolute now without taking a reading (for the HTTP `Date` header): never before the last reading. */
  peekEpochMicros(): Micros {
    return Math.max(this.frozenAt ?? Date.now() * 1000 + this.offsetMicros, this.last);
  }

  /** Jump to an absolute instant; the clock keeps running from there unless `freeze`. */
  set(epochMicros: Micros, freeze = false): void {
    this.last = Math.min(this.last, epochMicros - 1);
    if (freeze) {
      this.frozenAt = epochMicros;
    } else {
      this.frozenAt = null;
      this.offsetMicros = epochMicros - Date.now() * 1000;
    }
  }

  advance(seconds: number): void {
    const delta = Math.round(seconds * MICROS_PER_SECOND);
    if (this.frozenAt !== null) this.frozenAt += delta;
    else this.offsetMicros += delta;
  }

  reset(): void {
    this.offsetMicros = 0;
    this.frozenAt = null;
    this.last = 0;
  }
}
