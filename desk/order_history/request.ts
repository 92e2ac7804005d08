/**
 * One "Fetch Order History" round trip (DESIGN.md data flow 1): insert an Order Sync Request over
 * REST — Frappe checks the user's create permission and keeps the record — then follow it through
 * realtime `doc_update` on the request's own room until the sidecar marks it Done or Failed.
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

export function timeouts(): Timeouts {
  const overrides = typeof window !== 'undefined' ? window.orderCompanion : undefined;
  return { queuedMs: overrides?.responseTimeoutMs ?? 15_000, runningMs: overrides?.runningTimeoutMs ?? 120_000 };
}

export function insertRequest(doctype: string, name: string): Promise<SyncRequest> {
  return frappe.xcall<SyncRequest>('frappe.client.insert', {
    doc: { doctype: ORDER_SYNC_REQUEST, reference_doctype: doctype, reference_name: name },
  });
}

function readRequest(name: string): Promise<SyncRequest> {
  return frappe.xcall<SyncRequest>('frappe.client.get', { doctype: ORDER_SYNC_REQUEST, name });
}

/**
 * Resolve when the request is Done/Failed, or with `timeout` when it sits Queued (or Running) too
 * long. The request is read once right after subscribing, since it may have finished before the
 * subscription reached the server (realtime does not replay).
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
      frappe.realtime.off('doc_update', onUpdate);
      frappe.realtime.doc_unsubscribe(ORDER_SYNC_REQUEST, request.name);
      resolve(outcome);
    };
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ kind: 'timeout', request: latest }), ms);
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
        // A failed read is retried by the next doc_update; the timeout still bounds the wait.
      }
    };
    function onUpdate(payload: { doctype?: string; name?: string }) {
      if (payload?.doctype === ORDER_SYNC_REQUEST && payload.name === request.name) void check();
    }

    frappe.realtime.on('doc_update', onUpdate);
    frappe.realtime.doc_subscribe(ORDER_SYNC_REQUEST, request.name);
    arm(request.status === 'Running' ? limits.runningMs : limits.queuedMs);
    void check();
  });
}
