/**
 * The shop apply thread, main side. Applying a Shopify order (parsing its body, mapping it, the
 * REST calls with their JSON) allocates and computes enough that, in the thread acknowledging
 * webhooks, its garbage collections and CPU put the acknowledgement's tail over 25 ms at
 * 200 deliveries/s (README "Benchmarks", shop_webhooks). So that work runs in a worker thread with
 * its own heap, and the thread acknowledging deliveries keeps only the store, the receiver and the
 * console.
 *
 * The job itself stays the main thread's: the store runs it, holds its lease, and decides retry or
 * dead letter from the error the thread hands back. The thread reaches the job's context by
 * message — meta (remember/recall …), locks, enqueue — and sends its log lines, metrics and waits
 * (sidecar/jobs/stall.ts) back, so a job applied there looks the same from outside as one applied
 * in-process: same logs, same metrics, same errors, same guarantees.
 *
 * Started on the first job; if it dies, its jobs fail retriable and the next job starts another.
 */
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { RetriableError, describeError } from '../../../lib/errors.js';
import { redactSecrets, registeredSecrets, type Logger } from '../../../lib/log.js';
import type { ShopConfig } from '../../../lib/config/shops.js';
import type { HandlerContext } from '../../jobs/handler.js';
import type { JobSpec } from '../../jobs/types.js';
import { currentStallHook, type StallHook } from '../../jobs/stall.js';
import type { Metrics } from '../../metrics.js';
import { FN_MARK, fromWire, toWire, type ApplyJobName, type FromThread, type MetaOp, type ThreadData, type ThreadEvent, type ToThread } from './protocol.js';

export interface ApplyThread {
  /** Run the job of `ctx` (a Shopify delivery or order) in the thread; settles as the handler would. */
  run(ctx: HandlerContext, handler: ApplyJobName): Promise<void>;
  /** End the thread (after the store has stopped: no job is running). */
  stop(): Promise<void>;
}

export interface ApplyThreadOptions {
  sites: { name: string; url: string; apiKey: string; apiSecret: () => string }[];
  shops: ShopConfig[];
  /** The REST client's timings; only numbers and booleans cross. */
  rest: Record<string, unknown>;
  logger: Logger;
  metrics: Metrics;
}

/** What a running job needs on this side. */
interface Run {
  ctx: HandlerContext;
  stallHook: StallHook | undefined;
  waits: Map<number, () => void>;
  locks: Map<number, { release: () => void; outcome: Promise<unknown> }>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The shops as plain data: functions (secret getters) become a mark the thread turns into a refusal. */
function cloneable(value: unknown): unknown {
  if (typeof value === 'function') return FN_MARK;
  if (Array.isArray(value)) return value.map(cloneable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneable(v)]));
  return value;
}

/** The REST options that can cross; undefined when one cannot (a test's own fetch): then no thread. */
export function threadableRest(rest: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'metrics' || k === 'logger' || k === 'onWait' || v === undefined) continue;
    if (typeof v !== 'number' && typeof v !== 'boolean') return undefined;
    out[k] = v;
  }
  return out;
}

/** The module the thread runs: the bundle's entry next to dist/cli.js, or the source under tsx. */
function spawn(data: ThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./apply_thread.js', here), { workerData: data });
  // Sources (tests, tsx): a worker does not inherit tsx's loader, so it registers it first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./thread.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

export function createApplyThread(opts: ApplyThreadOptions): ApplyThread {
  const { logger, metrics } = opts;
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
  let worker: Worker | null = null;
  let nextRun = 1;
  const runs = new Map<number, Run>();

  const send = (w: Worker, msg: ToThread) => w.postMessage(msg);

  function onEvent(e: ThreadEvent): void {
    if (e.k === 'log') {
      stream.write(e.line);
    } else if (e.k === 'metric') {
      const metric = (metrics as unknown as Record<string, Record<string, ((labels?: object, value?: number) => void) | undefined>>)[e.name];
      const fn = metric?.[e.op];
      if (typeof fn === 'function') fn.call(metric, e.labels ?? {}, e.value);
    } else {
      const run = runs.get(e.run);
      if (!run) return;
      if (e.k === 'stall') {
        if (run.stallHook) run.waits.set(e.n, run.stallHook());
      } else {
        run.waits.get(e.n)?.();
        run.waits.delete(e.n);
      }
    }
  }

  async function answer(req: MetaOp, run: Run, call: number): Promise<unknown> {
    const { meta } = run.ctx;
    switch (req.op) {
      case 'get':
        return meta.get(req.key);
      case 'set':
        return meta.set(req.key, req.value);
      case 'remember':
        return meta.remember(req.key, req.value, req.ttlMs);
      case 'recall':
        return meta.recall(req.keys);
      case 'forget':
        return meta.forget(req.keys);
      case 'enqueue':
        return run.ctx.enqueue(req.spec as unknown as JobSpec as Parameters<HandlerContext['enqueue']>[0]);
      case 'lock':
        return new Promise<number>((held, refused) => {
          let release!: () => void;
          const released = new Promise<void>((r) => (release = r));
          const outcome = run.ctx.lock(req.key, () => {
            held(call);
            return released;
          });
          run.locks.set(call, { release, outcome });
          outcome.catch(refused);
        });
      case 'unlock': {
        const lock = run.locks.get(req.lock);
        if (!lock) return undefined;
        run.locks.delete(req.lock);
        lock.release();
        await lock.outcome;
        return undefined;
      }
    }
  }

  /** Leave no wait counted and no key held behind a run that ended. */
  function settle(id: number): Run | undefined {
    const run = runs.get(id);
    if (!run) return undefined;
    runs.delete(id);
    for (const resume of run.waits.values()) resume();
    for (const lock of run.locks.values()) {
      lock.outcome.catch(() => {});
      lock.release();
    }
    return run;
  }

  function onMessage(w: Worker, msg: FromThread): void {
    if (msg.t === 'events') {
      for (const e of msg.events) onEvent(e);
    } else if (msg.t === 'call') {
      const run = runs.get(msg.run);
      if (!run) {
        send(w, { t: 'reply', call: msg.call, ok: false, error: toWire(new Error('the job this call belongs to has ended')) });
        return;
      }
      answer(msg.req, run, msg.call).then(
        (value) => send(w, { t: 'reply', call: msg.call, ok: true, value: value ?? null }),
        (err: unknown) => send(w, { t: 'reply', call: msg.call, ok: false, error: toWire(err) }),
      );
    } else {
      const run = settle(msg.run);
      if (!run) return;
      if (msg.error) run.reject(fromWire(msg.error));
      else run.resolve();
    }
  }

  function start(): Worker {
    const data: ThreadData = {
      sites: opts.sites.map((s) => ({ name: s.name, url: s.url, apiKey: s.apiKey, apiSecret: s.apiSecret() })),
      shops: cloneable(opts.shops) as unknown[],
      rest: opts.rest,
      logLevel: logger.level,
      secrets: registeredSecrets(),
    };
    const w = spawn(data);
    // Jobs keep the process alive, not an idle thread.
    w.unref();
    w.on('message', (msg: FromThread) => onMessage(w, msg));
    const lost = (why: string) => {
      if (worker === w) worker = null;
      if (runs.size) logger.error({ event: 'apply_thread_lost', runs: runs.size }, `the shop apply thread stopped (${why}); its ${runs.size} job(s) will be retried`);
      for (const id of [...runs.keys()]) settle(id)?.reject(new RetriableError('frappe_unavailable', `the shop apply thread stopped (${why}) before the job finished`));
    };
    w.on('error', (err) => lost(redactSecrets(describeError(err))));
    w.on('exit', (code) => lost(`exit code ${code}`));
    return w;
  }

  return {
    run(ctx, handler) {
      const w = (worker ??= start());
      const id = nextRun++;
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => send(w, { t: 'abort', run: id });
        const done = () => ctx.signal.removeEventListener('abort', onAbort);
        runs.set(id, {
          ctx,
          stallHook: currentStallHook(),
          waits: new Map(),
          locks: new Map(),
          resolve: () => (done(), resolve()),
          reject: (err) => (done(), reject(err)),
        });
        // The secret as of this job: a rotated one (a file read on every use) reaches the thread with the next job.
        const secrets = Object.fromEntries(opts.sites.filter((s) => s.name === ctx.site).map((s) => [s.name, s.apiSecret()]));
        send(w, { t: 'run', run: id, handler, job: ctx.job, attempt: ctx.attempt, secrets });
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async stop() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
