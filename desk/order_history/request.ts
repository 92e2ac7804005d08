/**
 * One "Fetch Order History" round trip: insert an Order Sync Request over REST — Frappe checks the
 * user's create permission and keeps the record — then follow it through realtime `list_update` in
 * the Order Sync Request room until the sidecar marks it Done or Failed.
 */
import type { OrderSyncRequest, OrderSyncRequestStatus } from '../../lib/doctypes/order_sync_request.gen.js';

export const ORDER_SYNC_REQUEST = 'Order Sync Request';

/** The fields of an Order Sync Request (doctypes/order_sync_request) the desk follows. */
export interface SyncRequest extends Partial<Pick<OrderSyncRequest, 'message' | 'rows_synced'>> {
  name: string;
  status: OrderSyncRequestStatus;
  /** Distinct sales orders in the rebuilt history (Done); the UIs word their message from it. */
  orders_synced?: OrderSyncRequest['orders_synced'];
}

export type Outcome = { kind: 'finished'; request: SyncRequest } | { kind: 'timeout'; request: SyncRequest };

export interface Timeouts {
  /** No sidecar picked the request up (still Queued) within this: it is not running. */
  queuedMs: number;
  /** A picked-up request that never finishes (sidecar died mid-way) gives up after this. */
  runningMs: number;
}

/** The waits, from the page's `window.orderCompanion` overrides (or the ones given) over the defaults. */
export function timeouts(overrides: { responseTimeoutMs?: number; runningTimeoutMs?: number } | undefined = typeof window !== 'undefined' ? window.orderCompanion : undefined): Timeouts {
  return { queuedMs: overrides?.responseTimeoutMs ?? 15_000, runningMs: overrides?.runningTimeoutMs ?? 120_000 };
}

/** The server's own words from a failed call: `_server_messages` (two JSON layers), else the exception line. */
export function serverMessage(r: any): string | null {
  try {
    if (r?._server_messages) {
      const texts = (JSON.parse(r._server_messages) as string[]).map((m) => {
        const parsed = JSON.parse(m) as { message?: string } | string;
        return typeof parsed === 'string' ? parsed : String(parsed.message ?? '');
      });
      const text = texts.join(' ').replace(/<[^>]*>/g, '').trim();
      if (text) return text;
    }
  } catch {
    // fall through to the exception
  }
  if (typeof r?._error_message === 'string') return r._error_message.replace(/<[^>]*>/g, '').trim();
  if (typeof r?.exception === 'string') return r.exception.split('\n')[0]!.replace(/^[\w.]+Error: /, '');
  return null;
}

export class CallFailed extends Error {
  override name = 'CallFailed';
}

/**
 * `frappe.call` as a promise that always settles. (`frappe.xcall` never settles on 401/403/404/502,
 * where request.js only shows its own message — and a button must not stay disabled forever.)
 */
function call<T>(method: string, args: Record<string, unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (r?: unknown) => {
      if (settled) return;
      settled = true;
      reject(new CallFailed(serverMessage(r) ?? `${method} failed`));
    };
    frappe.call({
      method,
      args,
      callback: (r) => {
        settled = true;
        resolve(r.message as T);
      },
      error: fail,
      always: fail,
    });
  });
}

function insertRequest(doctype: string, name: string): Promise<SyncRequest> {
  return call<SyncRequest>('frappe.client.insert', { doc: { doctype: ORDER_SYNC_REQUEST, reference_doctype: doctype, reference_name: name } });
}

function readRequest(name: string): Promise<SyncRequest> {
  return call<SyncRequest>('frappe.client.get', { doctype: ORDER_SYNC_REQUEST, name });
}

/**
 * Requests in flight on this page share the Order Sync Request room: join it with the first, leave
 * it with the last, so one finishing does not deafen the others.
 */
let roomUsers = 0;

function subscribeRoom(): void {
  if (roomUsers++ === 0) frappe.realtime.doctype_subscribe(ORDER_SYNC_REQUEST);
}

function unsubscribeRoom(): void {
  if (--roomUsers === 0) frappe.realtime.doctype_unsubscribe(ORDER_SYNC_REQUEST);
}

/** Re-reads while no event has shown that the room is joined: first after this, then doubling. */
const JOIN_UNPROVEN_FIRST_READ_MS = 500;
const JOIN_UNPROVEN_MAX_READ_MS = 8_000;

/**
 * Insert a request for `doctype`/`name` and resolve when it is Done/Failed, or with `timeout` when
 * it sits Queued (or Running) too long. Changes are heard as `list_update` in the DocType's room:
 * `doc_subscribe` is throttled to one call a second in Frappe's socketio_client.js, and the form has
 * just made its own.
 *
 * Frappe's realtime server joins the room only after its own HTTP permission check
 * (realtime/handlers/frappe_handlers.js `doctype_subscribe` → `can_subscribe_doctype`) and never
 * tells the client when, nor replays what the room heard before. So the room is asked for before
 * the insert (the insert's own `list_update` then usually proves the join), and until some event in
 * the room has proved it, the request is read again at growing intervals: an answer that came
 * before the join is found within a second or two, not at the timeout. Once joined, one more read
 * covers anything said before the join, and events do the rest.
 */
export function requestHistory(doctype: string, name: string, limits: Timeouts): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let request: SyncRequest | null = null;
    let latest: SyncRequest | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reread: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    let joined = false;

    const stop = () => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(reread);
      frappe.realtime.off('list_update', onUpdate);
      unsubscribeRoom();
    };
    const finish = (outcome: Outcome) => {
      if (settled) return;
      stop();
      resolve(outcome);
    };
    const isFinal = (r: SyncRequest) => r.status === 'Done' || r.status === 'Failed';
    const arm = (ms: number) => {
      clearTimeout(timer);
      // One last read before giving up: the answer may have come while this page's socket was away.
      timer = setTimeout(() => {
        void readRequest(request!.name)
          .then((current) => {
            if (isFinal(current)) finish({ kind: 'finished', request: current });
            else if (current.status === 'Running' && latest!.status === 'Queued') {
              latest = current; // picked up after all: give it the running allowance
              arm(limits.runningMs);
            } else finish({ kind: 'timeout', request: current });
          })
          .catch(() => finish({ kind: 'timeout', request: latest! }));
      }, ms);
    };
    const check = async () => {
      if (!request || settled) return;
      try {
        const current = await readRequest(request.name);
        if (settled) return;
        const wasQueued = latest!.status === 'Queued';
        latest = current;
        if (isFinal(current)) finish({ kind: 'finished', request: current });
        else if (current.status === 'Running' && wasQueued) arm(limits.runningMs);
      } catch {
        // A failed read is retried on the next update; the timeout still bounds the wait.
      }
    };
    const rereadUntilJoined = (ms: number) => {
      reread = setTimeout(() => {
        if (settled || joined) return;
        void check().then(() => rereadUntilJoined(Math.min(ms * 2, JOIN_UNPROVEN_MAX_READ_MS)));
      }, ms);
    };
    function onUpdate(payload: { doctype?: string; name?: string }) {
      if (payload?.doctype !== ORDER_SYNC_REQUEST) return;
      if (!request) {
        // Before the insert answered (its own event can be first): joined; read once it answers.
        joined = true;
        return;
      }
      if (!joined) {
        // The first event heard proves the join; one read covers what the room said before it.
        joined = true;
        clearTimeout(reread);
        void check();
        return;
      }
      if (payload.name === request.name) void check();
    }

    frappe.realtime.on('list_update', onUpdate);
    subscribeRoom();
    insertRequest(doctype, name).then(
      (inserted) => {
        if (settled) return;
        request = latest = inserted;
        arm(inserted.status === 'Running' ? limits.runningMs : limits.queuedMs);
        if (isFinal(inserted)) finish({ kind: 'finished', request: inserted });
        else if (joined) void check();
        if (!joined) rereadUntilJoined(JOIN_UNPROVEN_FIRST_READ_MS);
      },
      (err: unknown) => {
        if (settled) return;
        stop();
        reject(err);
      },
    );
  });
}
