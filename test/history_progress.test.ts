/**
 * What `history sync` prints (scripts/history_progress.ts): the bar on a terminal, plain lines
 * otherwise, rate and ETA from this process's own observations, and the summary.
 */
import { describe, expect, it } from 'vitest';
import { ProgressClock, progressLine, summary, type RunProgress } from '../scripts/history_progress.js';

const progress = (done: number, extra: Partial<RunProgress> = {}): RunProgress => ({
  run: 'r1',
  site: 'shop.example',
  state: 'running',
  total: 1000,
  done,
  synced: Math.max(0, done - 10),
  unchanged: 10,
  skipped: 0,
  noCustomer: 0,
  ambiguousCount: 0,
  ambiguous: [],
  failedCount: 0,
  failed: [],
  options: {},
  ...extra,
});

describe('progress', () => {
  it('rate and ETA come from what this process saw, not from a resumed run\'s earlier pages', () => {
    let now = 0;
    const clock = new ProgressClock(() => now);
    expect(clock.observe(progress(500))).toEqual({ rate: null, etaSeconds: null });
    now = 10_000;
    expect(clock.observe(progress(750))).toEqual({ rate: 25, etaSeconds: 10 });
  });

  it('a terminal gets a bar with done/total, rate and ETA; a pipe a plain line', () => {
    const p = progress(750);
    expect(progressLine(p, { rate: 25, etaSeconds: 10 }, true)).toBe(`[${'#'.repeat(23)}${'.'.repeat(7)}]  75% 750/1000  25.0/s  ETA 10s  synced 740, unchanged 10`);
    expect(progressLine(p, { rate: 25, etaSeconds: 130 }, false)).toBe('750/1000 (75%)  25.0/s  ETA 2m10s  synced 740, unchanged 10');
    expect(progressLine(progress(0), { rate: null, etaSeconds: null }, false)).toBe('0/1000 (0%)  synced 0, unchanged 10');
  });

  it('the summary names the ambiguous and failed leads and says when a run was dry', () => {
    const text = summary(
      progress(1000, {
        state: 'done',
        options: { dryRun: true },
        ambiguousCount: 1,
        ambiguous: [{ doctype: 'CRM Lead', name: 'CRM-LEAD-1', customers: ['A', 'B'] }],
        failedCount: 2,
        failed: [{ doctype: 'HD Ticket', name: '7', reason: '403 PermissionError' }],
      }),
    );
    expect(text).toContain('finished: 1000 of 1000 on shop.example (dry run: nothing written;');
    expect(text).toContain('    CRM Lead CRM-LEAD-1: A, B\n');
    expect(text).toContain('    HD Ticket 7: 403 PermissionError\n    … and 1 more\n');
  });
});
