/**
 * Job counts per (site, handler, state), kept up to date as jobs move instead of counted by
 * reading them: the console's Jobs view asks for them on every load.
 */
import type { JobCountRow, JobState } from './types.js';

const key = (site: string, name: string) => `${site}\u0000${name}`;
const zero = (): Record<JobState, number> => ({ waiting: 0, active: 0, completed: 0, failed: 0 });

export class JobTally {
  private readonly rows = new Map<string, JobCountRow>();

  add(site: string, name: string, state: JobState, by = 1): void {
    const k = key(site, name);
    let row = this.rows.get(k);
    if (!row) this.rows.set(k, (row = { site, name, counts: zero() }));
    row.counts[state] += by;
    if (Object.values(row.counts).every((n) => n === 0)) this.rows.delete(k);
  }

  move(site: string, name: string, from: JobState, to: JobState): void {
    if (from === to) return;
    this.add(site, name, from, -1);
    this.add(site, name, to, 1);
  }

  /** A copy, rows in (site, handler) order. */
  snapshot(): JobCountRow[] {
    return [...this.rows.values()]
      .map((r) => ({ site: r.site, name: r.name, counts: { ...r.counts } }))
      .sort((a, b) => a.site.localeCompare(b.site) || a.name.localeCompare(b.name));
  }
}

/** Sum of rows by state. */
export function totalsOf(rows: readonly JobCountRow[]): Record<JobState, number> {
  const out = zero();
  for (const r of rows) for (const s of Object.keys(out) as JobState[]) out[s] += r.counts[s];
  return out;
}
