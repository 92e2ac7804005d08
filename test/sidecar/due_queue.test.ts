/** The waiting-job queue of the embedded store: due order, limits, re-adds and removals. */
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../sidecar/jobs/due_queue.js';

describe('DueQueue', () => {
  it('hands out due ids earliest first (enqueue order on ties), at most `limit`, and says when the next is due', () => {
    const q = new DueQueue();
    q.add('c', 30, 3);
    q.add('a', 10, 1);
    q.add('b', 10, 2);
    q.add('later', 100, 4);
    expect(q.takeDue(50, 2)).toEqual(['a', 'b']);
    expect(q.takeDue(50, 5)).toEqual(['c']);
    expect(q.takeDue(50, 5)).toEqual([]);
    expect(q.nextAt()).toBe(100);
    expect(q.size).toBe(1);
  });

  it('skips removed ids and uses the latest time of an id added again', () => {
    const q = new DueQueue();
    q.add('x', 5, 1);
    q.add('y', 6, 2);
    q.delete('x');
    q.add('y', 50, 3); // retried with a later runAt
    expect(q.takeDue(10, 10)).toEqual([]);
    expect(q.nextAt()).toBe(50);
    expect(q.has('x')).toBe(false);
    expect(q.takeDue(50, 10)).toEqual(['y']);
    expect(q.nextAt()).toBeNull();
  });

  it('stays ordered through many interleaved adds, removals and takes', () => {
    const q = new DueQueue();
    const model = new Map<string, [number, number]>();
    let seq = 0;
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let round = 0; round < 2000; round++) {
      const id = `j${rand(300)}`;
      const op = rand(3);
      if (op === 0) {
        const at = rand(1000);
        q.add(id, at, ++seq);
        model.set(id, [at, seq]);
      } else if (op === 1) {
        q.delete(id);
        model.delete(id);
      } else {
        const now = rand(1000);
        const expected = [...model].filter(([, [at]]) => at <= now).sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]).slice(0, 3).map(([k]) => k);
        expect(q.takeDue(now, 3)).toEqual(expected);
        for (const k of expected) model.delete(k);
      }
      expect(q.size).toBe(model.size);
    }
  });
});
