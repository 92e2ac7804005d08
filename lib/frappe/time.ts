/**
 * Frappe's datetimes are naive: `YYYY-MM-DD HH:MM:SS[.ffffff]` as wall-clock time in the site's
 * System Settings time zone (frappe/utils/data.py `now_datetime` → `convert_utc_to_system_timezone`).
 * A filter like `response_by < X` compares those texts' values, so X must be the site's wall clock
 * too — whatever time zone the sidecar process runs in.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: better than silently comparing in the wrong one.
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

/** The naive `YYYY-MM-DD HH:MM:SS` a site in `timeZone` stores for the instant `at`. */
export function siteWallClock(at: Date, timeZone: string): string {
  const parts = formatter(timeZone).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  const hour = get('hour') === '24' ? '00' : get('hour'); // some engines print 24 for midnight
  return `${get('year')}-${get('month')}-${get('day')} ${hour}:${get('minute')}:${get('second')}`;
}

/**
 * Frappe datetime text → a key that sorts like the value: `.ffffff` is printed only when
 * non-zero (`str(datetime)`), so pad it before comparing texts.
 */
export function datetimeKey(value: string): string {
  const v = value.trim().replace('T', ' ');
  const [base, frac = ''] = v.split('.');
  return `${base}.${frac.padEnd(6, '0')}`;
}
