/**
 * A worker thread running one module: the built JavaScript as it is, or TypeScript source (tests,
 * benchmarks, `tsx`) with tsx's loader registered first — a worker does not inherit the loader of
 * the thread that starts it.
 */
import { Worker } from 'node:worker_threads';

export function startModuleWorker(moduleUrl: string, workerData: unknown): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL(moduleUrl), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
