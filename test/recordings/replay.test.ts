/**
 * Contract test: the emulator answers as the recorded real Frappe 15.55.1 site did
 * (../shared/recordings/frappe-v15.55.1/). See README "Tests" and test/recordings/exceptions.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describe as describeDiffs, type Difference } from './compare.js';
import { EXCEPTIONS, excuses } from './exceptions.js';
import { caseIds, loadRecordings } from './recordings.js';
import { Replay, type CaseResult } from './replay.js';

// Read synchronously: a missing recordings folder fails this file, it is never skipped.
const { rest, realtime } = loadRecordings();
const ids = caseIds(rest, realtime);
const all = new Set([...rest.map((c) => c.case), ...realtime.map((c) => c.case)]);

let results: Map<string, CaseResult>;

beforeAll(async () => {
  const out = await new Replay().run();
  results = new Map(out.map((r) => [r.case, r]));
  if (process.env.REPLAY_REPORT) {
    for (const r of out) if (r.diffs.length) console.log(`${r.case} (${r.kind})\n${describeDiffs(r.diffs, process.env.REPLAY_REPORT === 'all' ? Infinity : 12)}`);
  }
}, 60_000);

function excused(id: string, d: Difference): boolean {
  return excuses(EXCEPTIONS[id], d);
}

describe('replay of the real-site recordings', () => {
  it('every case is replayed, and the exceptions name recorded cases', () => {
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(all.size);
    expect([...results.keys()].sort()).toEqual([...ids].sort());
    expect(Object.keys(EXCEPTIONS).filter((id) => !all.has(id))).toEqual([]);
  });

  for (const id of ids) {
    it(id, () => {
      const r = results.get(id);
      expect(r, `${id} was not replayed`).toBeDefined();
      const open = r!.diffs.filter((d) => !excused(id, d));
      expect(open, `${id} differs from the recording:\n${describeDiffs(open)}`).toEqual([]);
      if (EXCEPTIONS[id]) {
        const still = r!.diffs.filter((d) => excused(id, d));
        expect(still.length, `${id} now matches the recording: remove it from test/recordings/exceptions.ts (${EXCEPTIONS[id].reason})`).toBeGreaterThan(0);
      }
    });
  }
});
