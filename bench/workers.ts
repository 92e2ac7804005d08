/**
 * Worker threads for benchmarks that keep the load generator or the emulated site off the thread
 * being measured: a worker running the calling module under tsx (workers do not inherit tsx's
 * loader), a request/answer exchange with it, bounded so a stuck worker fails the run, and the count of how shop orders landed.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/module_worker.js';

/** A worker running `moduleUrl` (the caller's `import.meta.url`), told its `role` through workerData. */
export function spawnSelf(moduleUrl: string, role: string): Worker {
  return startModuleWorker(moduleUrl, { role });
}

/** Post `message` and wait for the worker's next message (its 'error' event rejects). */
export function ask<T>(worker: Worker, message: unknown, what: string, limitMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what} took over ${limitMs} ms`)), limitMs);
    const onMessage = (r: T) => done(undefined, r);
    const onError = (e: Error) => done(e);
    const done = (err?: Error, r?: T) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      if (err) reject(err);
      else resolve(r as T);
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage(message);
  });
}

/**
 * How each shop order landed, read in-process from the emulated site's table (what the REST API
 * would list, without its cost): one submitted Sales Order per external id, none, or several.
 */
export function countByExternalId(rows: Record<string, unknown>[], externalIds: string[]): { oneSubmitted: number; missing: number; duplicated: number } {
  const byId = new Map<string, number>();
  for (const r of rows) if (r.docstatus === 1) byId.set(String(r.custom_external_order_id), (byId.get(String(r.custom_external_order_id)) ?? 0) + 1);
  const out = { oneSubmitted: 0, missing: 0, duplicated: 0 };
  for (const id of externalIds) {
    const k = byId.get(id) ?? 0;
    if (k === 1) out.oneSubmitted++;
    else if (k === 0) out.missing++;
    else out.duplicated++;
  }
  return out;
}
