/**
 * Worker threads for benchmarks that keep the load generator or the emulated site off the thread
 * being measured: a worker running the calling module under tsx (workers do not inherit tsx's
 * loader), and a request/answer exchange with it, bounded so a stuck worker fails the run.
 */
import { Worker } from 'node:worker_threads';

/** A worker running `moduleUrl` (the caller's `import.meta.url`), told its `role` through workerData. */
export function spawnSelf(moduleUrl: string, role: string): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { eval: true, workerData: { role } });
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
