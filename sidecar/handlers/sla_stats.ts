/**
 * What the SLA sweeps did, kept in the job store's meta for the console's SLA view (issue 14):
 * per site, one record per day of the site's calendar (its System Settings zone, the one the
 * sweep judges "overdue" in) with swept / failed / notified per DocType and per owner, and the
 * last sweep's time, duration and counts.
 *
 * Bounded: the day records sit in a ring of STATS_DAYS slots per site (slot = day number modulo
 * STATS_DAYS), so a new day overwrites the one STATS_DAYS days before it and nothing needs
 * deleting. Once per job: a day record lists the ids of the sweep jobs counted in it, and a job
 * found in its day's record or the day before's (a re-run across midnight) is not counted again —
 * a sweep re-run after its process died between recording and completing adds nothing. The
 * record is written once, at the end of a sweep: a sweep that dies before it is counted by the
 * attempt that completes, which sees only what is still overdue (the documents an earlier attempt
 * already failed are no longer listed, bar the batch it was saving), so counts err low, never twice.
 */
import type { SlaBreakdown, SlaCounts, SlaLastSweep, SlaPeriod, SlaSiteView } from '../../lib/api/views.js';
import { siteWallClock } from '../../lib/frappe/time.js';
import type { HandlerMeta } from '../jobs/handler.js';

/** Days kept per site: a month and the week it may start in. */
export const STATS_DAYS = 35;
/** Days in the console's failures-per-day chart. */
export const CHART_DAYS = 14;
/** Job ids a day record keeps for the once-per-job check: a sweep every 5 minutes is 288 a day. */
const JOBS_KEPT = 2000;

const DAY_MS = 86_400_000;

interface DayRecord extends SlaBreakdown {
  day: string;
  sweeps: number;
  jobs: string[];
}

export const dayKey = (site: string, slot: number) => `sla.stats.day|${site}|${slot}`;
export const lastSweepKey = (site: string) => `sla.stats.last|${site}`;

const zero = (): SlaCounts => ({ swept: 0, failed: 0, notified: 0 });

/** Days since 1970-01-01 of a YYYY-MM-DD. */
function dayNumber(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return Math.round(Date.UTC(y!, m! - 1, d!) / DAY_MS);
}

function dayOf(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

const slotOf = (day: string) => dayNumber(day) % STATS_DAYS;

function addInto(into: Record<string, SlaCounts>, from: Record<string, SlaCounts>): void {
  for (const [k, c] of Object.entries(from)) {
    const row = (into[k] ??= zero());
    row.swept += c.swept;
    row.failed += c.failed;
    row.notified += c.notified;
  }
}

function totalOf(counts: Record<string, SlaCounts>): SlaCounts {
  const t = zero();
  for (const c of Object.values(counts)) {
    t.swept += c.swept;
    t.failed += c.failed;
    t.notified += c.notified;
  }
  return t;
}

/** One sweep's counts as it goes: `add` once per document (or Notification Log) with its owners. */
export class SweepTally implements SlaBreakdown {
  readonly byDoctype: Record<string, SlaCounts> = {};
  readonly byOwner: Record<string, SlaCounts> = {};

  add(what: keyof SlaCounts, doctype: string, owners: readonly string[], n = 1): void {
    if (n <= 0) return;
    (this.byDoctype[doctype] ??= zero())[what] += n;
    for (const owner of owners.length ? new Set(owners) : ['']) (this.byOwner[owner] ??= zero())[what] += n;
  }

  totals(): SlaCounts {
    return totalOf(this.byDoctype);
  }
}

export interface SweepRecord {
  job: string;
  startedAtMs: number;
  finishedAtMs: number;
  /** The site's clock when the sweep began (its HTTP Date), to tell the console the site's day. */
  siteAtMs: number;
  cutoff: string;
  timeZone: string;
  tally: SweepTally;
  errors: number;
}

interface StoredLast extends SlaLastSweep {
  siteAtMs: number;
  startedAtMs: number;
}

async function readDay(meta: Pick<HandlerMeta, 'get'>, site: string, day: string): Promise<DayRecord | null> {
  const raw = await meta.get(dayKey(site, slotOf(day)));
  if (!raw) return null;
  const rec = JSON.parse(raw) as DayRecord;
  return rec.day === day ? rec : null;
}

/**
 * Add a finished sweep to its day (the site's day of `cutoff`) and make it the last sweep.
 * Call under the site's `sla.stats` lock. False when this job was already counted.
 */
export async function recordSweep(meta: HandlerMeta, site: string, r: SweepRecord): Promise<boolean> {
  const day = r.cutoff.slice(0, 10);
  const before = dayOf(dayNumber(day) - 1);
  const [today, yesterday] = await Promise.all([readDay(meta, site, day), readDay(meta, site, before)]);
  if (today?.jobs.includes(r.job) || yesterday?.jobs.includes(r.job)) return false;
  const rec: DayRecord = today ?? { day, sweeps: 0, jobs: [], byDoctype: {}, byOwner: {} };
  rec.sweeps += 1;
  rec.jobs = [...rec.jobs, r.job].slice(-JOBS_KEPT);
  addInto(rec.byDoctype, r.tally.byDoctype);
  addInto(rec.byOwner, r.tally.byOwner);
  await meta.set(dayKey(site, slotOf(day)), JSON.stringify(rec));
  const last: StoredLast = {
    job: r.job,
    startedAt: new Date(r.startedAtMs).toISOString(),
    finishedAt: new Date(r.finishedAtMs).toISOString(),
    durationMs: r.finishedAtMs - r.startedAtMs,
    cutoff: r.cutoff,
    timeZone: r.timeZone,
    day,
    totals: r.tally.totals(),
    byDoctype: r.tally.byDoctype,
    byOwner: r.tally.byOwner,
    errors: r.errors,
    siteAtMs: r.siteAtMs,
    startedAtMs: r.startedAtMs,
  };
  await meta.set(lastSweepKey(site), JSON.stringify(last));
  return true;
}

function period(records: Map<string, DayRecord>, from: string, to: string): SlaPeriod {
  const out: SlaPeriod = { from, to, sweeps: 0, totals: zero(), byDoctype: {}, byOwner: {} };
  for (let n = dayNumber(from); n <= dayNumber(to); n++) {
    const rec = records.get(dayOf(n));
    if (!rec) continue;
    out.sweeps += rec.sweeps;
    addInto(out.byDoctype, rec.byDoctype);
    addInto(out.byOwner, rec.byOwner);
  }
  out.totals = totalOf(out.byDoctype);
  return out;
}

/**
 * A site's SLA view at `nowMs` (the sidecar's clock): today and this week (Monday to today) per
 * DocType and owner, failures per day for CHART_DAYS days, the last sweep. "Today" is the site's:
 * its zone from the last sweep (else `fallbackTimeZone`, else UTC), its clock the sidecar's moved
 * by the skew the last sweep saw between the site's HTTP Date and its own.
 */
export async function readSlaStats(getMeta: (key: string) => Promise<string | null>, site: string, nowMs: number, fallbackTimeZone: string | null): Promise<SlaSiteView> {
  const lastRaw = await getMeta(lastSweepKey(site));
  const stored = lastRaw ? (JSON.parse(lastRaw) as StoredLast) : null;
  const timeZone = stored?.timeZone || fallbackTimeZone || 'UTC';
  const skew = stored ? stored.siteAtMs - stored.startedAtMs : 0;
  const today = siteWallClock(new Date(nowMs + skew), timeZone).slice(0, 10);
  const t = dayNumber(today);
  const raws = await Promise.all(Array.from({ length: STATS_DAYS }, (_, slot) => getMeta(dayKey(site, slot))));
  const records = new Map<string, DayRecord>();
  for (const raw of raws) {
    if (!raw) continue;
    const rec = JSON.parse(raw) as DayRecord;
    const n = dayNumber(rec.day);
    if (n <= t && n > t - STATS_DAYS) records.set(rec.day, rec);
  }
  // 1970-01-01 was a Thursday: day number + 3, modulo 7, counts from Monday.
  const monday = dayOf(t - ((t + 3) % 7));
  const failuresPerDay = Array.from({ length: CHART_DAYS }, (_, i) => {
    const day = dayOf(t - CHART_DAYS + 1 + i);
    const rec = records.get(day);
    return { day, failed: rec ? totalOf(rec.byDoctype).failed : 0 };
  });
  let last: SlaLastSweep | null = null;
  if (stored) {
    const { siteAtMs: _s, startedAtMs: _t, ...view } = stored;
    last = view;
  }
  return { site, timeZone, today: period(records, today, today), week: period(records, monday, today), failuresPerDay, last };
}
