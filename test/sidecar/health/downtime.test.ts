/**
 * The realtime link's down spans (sidecar/realtime/downtime.ts), which the health check sums
 * over its 24 hours: transitions recorded in order in the job store's meta, a link still down
 * counted up to the end of the window, and spans clipped to it.
 */
import { describe, expect, it } from 'vitest';
import { createDowntimeRecorder, downMsBetween, readDowntime, KEEP_MS } from '../../../sidecar/realtime/downtime.js';

function memoryMeta() {
  const m = new Map<string, string>();
  return { get: async (k: string) => m.get(k) ?? null, set: async (k: string, v: string) => void m.set(k, v) };
}

const MIN = 60_000;

describe('realtime downtime', () => {
  it('sums closed and open spans within the window, clipped to it', () => {
    const state = { downSince: 100 * MIN, spans: [[0, 20 * MIN], [50 * MIN, 60 * MIN]] as [number, number][] };
    expect(downMsBetween(state, 10 * MIN, 110 * MIN)).toBe(10 * MIN + 10 * MIN + 10 * MIN);
    expect(downMsBetween({ downSince: null, spans: [] }, 0, 1000 * MIN)).toBe(0);
  });

  it('records down and up in order; repeated downs keep the first instant', async () => {
    const meta = memoryMeta();
    let now = 1_000 * MIN;
    const rec = createDowntimeRecorder({ site: 's', meta, now: () => now });
    rec.down();
    now += 5 * MIN;
    rec.down(); // a refusal while already down
    now += 5 * MIN;
    rec.up();
    now += 30 * MIN;
    rec.up(); // a second connect: nothing to close
    rec.down();
    await rec.flush();
    const state = await readDowntime(meta, 's');
    expect(state).toEqual({ downSince: 1_040 * MIN, spans: [[1_000 * MIN, 1_010 * MIN]] });
    expect(downMsBetween(state, 1_000 * MIN, 1_050 * MIN)).toBe(20 * MIN);
  });

  it('forgets spans older than it keeps', async () => {
    const meta = memoryMeta();
    let now = 0;
    const rec = createDowntimeRecorder({ site: 's', meta, now: () => now });
    rec.down();
    now = MIN;
    rec.up();
    now = KEEP_MS + 2 * MIN;
    rec.down();
    await rec.flush();
    expect((await readDowntime(meta, 's')).spans).toEqual([]);
  });
});
