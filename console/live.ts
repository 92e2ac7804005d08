/**
 * The page's live link to the sidecar (sidecar/console/live.ts): one WebSocket, reopened after a
 * loss with a growing delay (capped), and a state the page shows ("live", "reconnecting"). Each
 * (re)open is announced, so the page reads everything once and then follows the pushes.
 */
import type { HistoryProgressMessage, JobView, SiteView } from './api.js';

export type LiveMessage = { type: 'hello'; sites: string[] } | { type: 'job'; outcome: 'completed' | 'retried' | 'failed'; job: JobView } | { type: 'site'; site: SiteView | null } | HistoryProgressMessage;

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LiveHandlers {
  onState(state: LiveState): void;
  onOpen(): void;
  onMessage(m: LiveMessage): void;
}

export function openLive(h: LiveHandlers, opts: { baseDelayMs?: number; maxDelayMs?: number } = {}): { close(): void } {
  const base = opts.baseDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 5_000;
  let ws: WebSocket | null = null;
  let failures = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/console/live`;
    ws = new WebSocket(url);
    ws.onopen = () => {
      failures = 0;
      h.onState('live');
      h.onOpen();
    };
    ws.onmessage = (e) => {
      try {
        h.onMessage(JSON.parse(String(e.data)) as LiveMessage);
      } catch {
        // A message this page does not understand is not worth dropping the link for.
      }
    };
    ws.onclose = (e) => {
      ws = null;
      if (stopped) return;
      // 4401: the session ended (signed out, expired): no point in reconnecting.
      if (e.code === 4401) {
        h.onState('closed');
        return;
      }
      h.onState('reconnecting');
      const delay = Math.min(max, base * 2 ** failures++);
      timer = setTimeout(connect, delay);
    };
  };
  h.onState('connecting');
  connect();
  return {
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}
