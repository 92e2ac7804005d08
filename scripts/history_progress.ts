/**
 * What `history sync` prints while it follows a bulk run in the sidecar: a bar redrawn in place on
 * a terminal, one plain line per page otherwise (logs, CI), and the summary at the end.
 */
import type { BulkProgress } from '../lib/api/views.js';

/** The run's progress as the sidecar's /admin/history/sync answers it. */
export type RunProgress = Pick<BulkProgress, 'run' | 'site' | 'state' | 'total' | 'done' | 'synced' | 'unchanged' | 'skipped' | 'noCustomer' | 'ambiguousCount' | 'ambiguous' | 'failedCount' | 'failed' | 'options' | 'error'>;

const BAR = 30;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Rate and ETA from the first progress seen (a resumed run's earlier pages are not this process's speed). */
export class ProgressClock {
  private first: { at: number; done: number } | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  observe(p: Pick<RunProgress, 'done' | 'total'>): { rate: number | null; etaSeconds: number | null } {
    const t = this.now();
    if (!this.first) this.first = { at: t, done: p.done };
    const elapsed = (t - this.first.at) / 1000;
    const gained = p.done - this.first.done;
    if (elapsed <= 0 || gained <= 0) return { rate: null, etaSeconds: null };
    const rate = gained / elapsed;
    return { rate, etaSeconds: Math.max(0, p.total - p.done) / rate };
  }
}

export function progressLine(p: RunProgress, speed: { rate: number | null; etaSeconds: number | null }, tty: boolean): string {
  const total = Math.max(p.total, p.done);
  const share = total ? p.done / total : 1;
  const pct = `${Math.floor(share * 100)}%`.padStart(4);
  const rate = speed.rate === null ? '' : `  ${speed.rate.toFixed(1)}/s`;
  const eta = speed.etaSeconds === null ? '' : `  ETA ${duration(speed.etaSeconds)}`;
  const counts = `synced ${p.synced}, unchanged ${p.unchanged}`;
  if (!tty) return `${p.done}/${total} (${pct.trim()})${rate}${eta}  ${counts}`;
  const filled = Math.round(share * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${pct} ${p.done}/${total}${rate}${eta}  ${counts}`;
}

export function summary(p: RunProgress): string {
  const would = p.options.dryRun ? ' (dry run: nothing written; "synced" would be written)' : '';
  const lines = [
    `${p.state === 'done' ? 'finished' : 'FAILED'}: ${p.done} of ${Math.max(p.total, p.done)} on ${p.site}${would}`,
    `  synced       ${p.synced}`,
    `  unchanged    ${p.unchanged}`,
  ];
  if (p.skipped) lines.push(`  not empty    ${p.skipped} (skipped: --only-empty)`);
  lines.push(`  no customer  ${p.noCustomer}`);
  lines.push(`  ambiguous    ${p.ambiguousCount}`);
  for (const a of p.ambiguous) lines.push(`    ${a.doctype} ${a.name}: ${a.customers.join(', ')}`);
  if (p.ambiguousCount > p.ambiguous.length) lines.push(`    … and ${p.ambiguousCount - p.ambiguous.length} more`);
  lines.push(`  failed       ${p.failedCount}`);
  for (const f of p.failed) lines.push(`    ${f.doctype} ${f.name}: ${f.reason}`);
  if (p.failedCount > p.failed.length) lines.push(`    … and ${p.failedCount - p.failed.length} more`);
  if (p.error) lines.push(`  stopped by: ${p.error}`);
  return `${lines.join('\n')}\n`;
}
