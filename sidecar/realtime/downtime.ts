/**
 * How long a site's realtime link was down, for the daily health check ("realtime disconnected for
 * more than N minutes in the day"). The Site records every disconnect and connect here; the spans
 * are kept in the job store's meta (`health.realtime|<site>`), so the check — a job that may run
 * on another replica, or after a restart — reads them. Measured by the sidecar's own clock: it is
 * the sidecar that did not hear the site. A sidecar that was not running heard nothing either, so
 * a link that was down when the process stopped counts as down until the next connect.
 */
import type { HandlerMeta } from '../jobs/handler.js';

/** Spans older than this are dropped: the check looks back 24 hours. */
export const KEEP_MS = 48 * 3600_000;

export interface DowntimeState {
  /** Epoch ms the link went down, while it is down. */
  downSince: number | null;
  /** Closed down spans, [from, to] epoch ms, oldest first. */
  spans: [number, number][];
}

export const downtimeKey = (site: string) => `health.realtime|${site}`;

export async function readDowntime(meta: Pick<HandlerMeta, 'get'>, site: string): Promise<DowntimeState> {
  const raw = await meta.get(downtimeKey(site));
  if (!raw) return { downSince: null, spans: [] };
  try {
    const s = JSON.parse(raw) as Partial<DowntimeState>;
    return { downSince: typeof s.downSince === 'number' ? s.downSince : null, spans: Array.isArray(s.spans) ? s.spans : [] };
  } catch {
    return { downSince: null, spans: [] };
  }
}

/** Milliseconds the link was down within [fromMs, toMs); a link still down counts up to `toMs`. */
export function downMsBetween(state: DowntimeState, fromMs: number, toMs: number): number {
  const spans: [number, number][] = [...state.spans];
  if (state.downSince !== null) spans.push([state.downSince, toMs]);
  let total = 0;
  for (const [a, b] of spans) total += Math.max(0, Math.min(b, toMs) - Math.max(a, fromMs));
  return total;
}

export interface DowntimeRecorder {
  down(): void;
  up(): void;
  /** Resolves once every change so far is in the store. */
  flush(): Promise<void>;
}

/**
 * Record transitions in order (each a read-modify-write of the one key, chained so they never
 * interleave). A failed write is logged by `onError` and the next transition tries again.
 */
export function createDowntimeRecorder(opts: { site: string; meta: Pick<HandlerMeta, 'get' | 'set'>; now?: () => number; onError?: (err: unknown) => void }): DowntimeRecorder {
  const now = opts.now ?? Date.now;
  let chain: Promise<void> = Promise.resolve();
  const change = (fn: (s: DowntimeState, at: number) => DowntimeState | null) => {
    const at = now();
    chain = chain
      .then(async () => {
        const next = fn(await readDowntime(opts.meta, opts.site), at);
        if (next) await opts.meta.set(downtimeKey(opts.site), JSON.stringify({ ...next, spans: next.spans.filter(([, b]) => b >= at - KEEP_MS) }));
      })
      .catch((err) => opts.onError?.(err));
  };
  return {
    down: () => change((s, at) => (s.downSince === null ? { ...s, downSince: at } : null)),
    up: () => change((s, at) => (s.downSince === null ? null : { downSince: null, spans: [...s.spans, [s.downSince, at]] })),
    flush: () => chain,
  };
}
