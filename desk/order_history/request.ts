/**
 * One "Fetch Order History" round trip (DESIGN.md data flow 1): insert an Order Sync Request over
 * REST — Frappe checks the user's create permission and keeps the record — then follow it through
 * realtime `list_update` in the Order Sync Request room until the sidecar marks it Done or Failed.
 */
export const ORDER_SYNC_REQUEST = 'Order Sync Request';

export interface SyncRequest {
  name: string;
  status: 'Queued' | 'Running' | 'Done' | 'Failed';
  message?: string | null;
  rows_synced?: number | null;
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

export function insertRequest(doctype: string, name: string): Promise<SyncRequest> {
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

/**
 * Resolve when the request is Done/Failed, or with `timeout` when it sits Queued (or Running) too
 * long. Changes are heard as `list_update` in the DocType's room: `doc_subscribe` is throttled to one
 * call a second in Frappe's socketio_client.js, and the form has just made its own. The request is
 * read once right after subscribing, since it may have finished before the subscription reached the
 * server (realtime does not replay).
 */
export function awaitRequest(request: SyncRequest, limits: Timeouts): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let latest = request;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;

    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      frappe.realtime.off('list_update', onUpdate);
      unsubscribeRoom();
      resolve(outcome);
    };
    const arm = (ms: number) => {
      clearTimeout(timer);
      // One last read before giving up: the answer may have come while this page's socket was away.
      timer = setTimeout(() => {
        void readRequest(request.name)
          .then((current) => {
            if (current.status === 'Done' || current.status === 'Failed') finish({ kind: 'finished', request: current });
            else if (current.status === 'Running' && latest.status === 'Queued') {
              latest = current; // picked up after all: give it the running allowance
              arm(limits.runningMs);
            } else finish({ kind: 'timeout', request: current });
          })
          .catch(() => finish({ kind: 'timeout', request: latest }));
      }, ms);
    };
    const check = async () => {
      try {
        const current = await readRequest(request.name);
        if (settled) return;
        const wasQueued = latest.status === 'Queued';
        latest = current;
        if (current.status === 'Done' || current.status === 'Failed') finish({ kind: 'finished', request: current });
        else if (current.status === 'Running' && wasQueued) arm(limits.runningMs);
      } catch {
        // A failed read is retried on the next update; the timeout still bounds the wait.
      }
    };
    function onUpdate(payload: { doctype?: string; name?: string }) {
      if (payload?.doctype === ORDER_SYNC_REQUEST && payload.name === request.name) void check();
    }

    frappe.realtime.on('list_update', onUpdate);
    subscribeRoom();
    arm(request.status === 'Running' ? limits.runningMs : limits.queuedMs);
    void check();
  });
}
