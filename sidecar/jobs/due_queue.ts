/**
 * Waiting jobs ordered by when they may run (then by enqueue order): a binary min-heap, so picking
 * the due jobs and finding the next wake-up cost O(log n) instead of a scan and sort of every
 * waiting job on each enqueue (which made webhook acknowledgements slower as a backlog grew).
 * Removal is lazy: an entry whose id left the queue, or was added again since, is skipped.
 */
interface Entry {
  id: string;
  runAtMs: number;
  seq: number;
}

function before(a: Entry, b: Entry): boolean {
  return a.runAtMs < b.runAtMs || (a.runAtMs === b.runAtMs && a.seq < b.seq);
}

export class DueQueue {
  private readonly heap: Entry[] = [];
  /** The live entry of each queued id. */
  private readonly live = new Map<string, Entry>();

  get size(): number {
    return this.live.size;
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  add(id: string, runAtMs: number, seq: number): void {
    const entry = { id, runAtMs, seq };
    this.live.set(id, entry);
    this.heap.push(entry);
    this.up(this.heap.length - 1);
    // Lazy deletion leaves dead entries behind; rebuild once they outnumber the live ones.
    if (this.heap.length > 64 && this.heap.length > 2 * this.live.size) this.rebuild();
  }

  delete(id: string): void {
    this.live.delete(id);
  }

  /** Remove and return up to `limit` ids whose time has come, earliest first. */
  takeDue(now: number, limit: number): string[] {
    const out: string[] = [];
    while (out.length < limit) {
      const top = this.peekLive();
      if (!top || top.runAtMs > now) break;
      this.pop();
      this.live.delete(top.id);
      out.push(top.id);
    }
    return out;
  }

  /** When the earliest queued job may run, or null when none is queued. */
  nextAt(): number | null {
    return this.peekLive()?.runAtMs ?? null;
  }

  private peekLive(): Entry | undefined {
    while (this.heap.length && this.live.get(this.heap[0]!.id) !== this.heap[0]) this.pop();
    return this.heap[0];
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length) {
      this.heap[0] = last;
      this.down(0);
    }
  }

  private rebuild(): void {
    const entries = [...this.live.values()];
    this.heap.length = 0;
    for (const e of entries) {
      this.heap.push(e);
      this.up(this.heap.length - 1);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
