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
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../lib/module_worker.js';
import pino from 'pino';
import { RetriableError, describeError } from '../../../lib/errors.js';
import { redactSecrets, registerSecret, registeredSecrets, type Logger } from '../../../lib/log.js';
import type { ShopConfig } from '../../../lib/config/shops.js';
import type { HandlerContext } from '../../jobs/handler.js';
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
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A key the thread holds (HandlerContext.lock), until it lets go or dies. */
interface Held {
  release: () => void;
  outcome: Promise<unknown>;
}

/** One thread and what is in flight in it: a thread that dies settles only its own jobs and keys. */
interface Thread {
  worker: Worker;
  runs: Map<number, Run>;
  /** By lock id. Kept past the end of the run that took it: a branch of the handler still running
   * under the key (an early rejection of a Promise.all) holds it until it lets go, as in-process. */
  held: Map<number, Held>;
  gone: boolean;
  /** Ended by stop(): its jobs were handed back by the store already, nothing to report. */
  ending: boolean;
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
  return startModuleWorker(new URL(here.endsWith('.ts') ? './thread.ts' : './apply_thread.js', here).href, data);
}

/** The site's secret now, registered for scrubbing as the in-process client's first use of it would. */
function secretOf(site: ApplyThreadOptions['sites'][number]): string {
  const secret = site.apiSecret();
  registerSecret(secret);
  return secret;
}

export function createApplyThread(opts: ApplyThreadOptions): ApplyThread {
  const { logger, metrics } = opts;
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
  let current: Thread | null = null;
  let nextRun = 1;

  const send = (t: Thread, msg: ToThread) => t.worker.postMessage(msg);

  function onEvent(t: Thread, e: ThreadEvent): void {
    if (e.k === 'log') {
      stream.write(e.line);
    } else if (e.k === 'metric') {
      const metric = (metrics as unknown as Record<string, Record<string, ((labels?: object, value?: number) => void) | undefined>>)[e.name];
      const fn = metric?.[e.op];
      if (typeof fn === 'function') fn.call(metric, e.labels ?? {}, e.value);
    } else {
      const run = t.runs.get(e.run);
      if (!run) return;
      if (e.k === 'stall') {
        if (run.stallHook) run.waits.set(e.n, run.stallHook());
      } else {
        run.waits.get(e.n)?.();
        run.waits.delete(e.n);
      }
    }
  }

  async function answer(t: Thread, req: MetaOp, call: number, run: Run | undefined): Promise<unknown> {
    if (req.op === 'unlock') {
      const held = t.held.get(req.lock);
      if (!held) return undefined;
      t.held.delete(req.lock);
      held.release();
      await held.outcome;
      return undefined;
    }
    if (!run) throw new Error('the job this call belongs to has ended');
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
        return run.ctx.enqueue(req.spec as unknown as Parameters<HandlerContext['enqueue']>[0]);
      case 'lock':
        return new Promise<number>((granted, refused) => {
          let release!: () => void;
          const released = new Promise<void>((r) => (release = r));
          // Filled in below: a lock may call its function before it returns.
          const held: Held = { release, outcome: released };
          held.outcome = run.ctx.lock(req.key, () => {
            // Gone meanwhile: nobody will let go of it, so it is let go at once.
            if (t.gone) return Promise.resolve();
            t.held.set(call, held);
            granted(call);
            return released;
          });
          held.outcome.catch(refused);
        });
    }
  }

  /** Leave no wait counted behind a run that ended. */
  function settle(t: Thread, id: number): Run | undefined {
    const run = t.runs.get(id);
    if (!run) return undefined;
    t.runs.delete(id);
    for (const resume of run.waits.values()) resume();
    return run;
  }

  function onMessage(t: Thread, msg: FromThread): void {
    if (msg.t === 'events') {
      for (const e of msg.events) onEvent(t, e);
    } else if (msg.t === 'call') {
      answer(t, msg.req, msg.call, t.runs.get(msg.run)).then(
        (value) => send(t, { t: 'reply', call: msg.call, ok: true, value: value ?? null }),
        (err: unknown) => send(t, { t: 'reply', call: msg.call, ok: false, error: toWire(err) }),
      );
    } else {
      const run = settle(t, msg.run);
      if (!run) return;
      if (msg.error) run.reject(fromWire(msg.error));
      else run.resolve();
    }
  }

  function start(): Thread {
    const data: ThreadData = {
      // A site whose secret cannot be read now gets it with its first job, or that job fails as in-process.
      sites: opts.sites.map((s) => {
        let apiSecret = '';
        try {
          apiSecret = secretOf(s);
        } catch {
          // Read again (and its error reported) by the job that needs it.
        }
        return { name: s.name, url: s.url, apiKey: s.apiKey, apiSecret };
      }),
      shops: cloneable(opts.shops) as unknown[],
      rest: opts.rest,
      logLevel: logger.level,
      secrets: registeredSecrets(),
    };
    const t: Thread = { worker: spawn(data), runs: new Map(), held: new Map(), gone: false, ending: false };
    // Jobs keep the process alive, not an idle thread.
    t.worker.unref();
    t.worker.on('message', (msg: FromThread) => onMessage(t, msg));
    // 'error' and then 'exit' for one death: its jobs and keys are settled once.
    const lost = (why: string) => {
      if (t.gone) return;
      t.gone = true;
      if (current === t) current = null;
      if (t.runs.size && !t.ending) logger.error({ event: 'apply_thread_lost', runs: t.runs.size }, `the shop apply thread stopped (${why}); its ${t.runs.size} job(s) will be retried`);
      for (const held of t.held.values()) {
        held.outcome.catch(() => {});
        held.release();
      }
      t.held.clear();
      for (const id of [...t.runs.keys()]) settle(t, id)?.reject(new RetriableError('frappe_unavailable', `the shop apply thread stopped (${why}) before the job finished`));
    };
    t.worker.on('error', (err) => lost(redactSecrets(describeError(err))));
    t.worker.on('exit', (code) => lost(`exit code ${code}`));
    return t;
  }

  return {
    run(ctx, handler) {
      return new Promise<void>((resolve, reject) => {
        // The secret as of this job: a rotated one (a file read on every use) reaches the thread with the next job.
        const site = opts.sites.find((s) => s.name === ctx.site);
        const secrets: Record<string, string> = {};
        if (site) secrets[site.name] = secretOf(site);
        const t = (current ??= start());
        const id = nextRun++;
        const onAbort = () => send(t, { t: 'abort', run: id });
        const done = () => ctx.signal.removeEventListener('abort', onAbort);
        t.runs.set(id, {
          ctx,
          stallHook: currentStallHook(),
          waits: new Map(),
          resolve: () => (done(), resolve()),
          reject: (err) => (done(), reject(err)),
        });
        send(t, { t: 'run', run: id, handler, job: ctx.job, attempt: ctx.attempt, secrets });
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async stop() {
      const t = current;
      current = null;
      if (!t) return;
      t.ending = true;
      await t.worker.terminate();
    },
  };
}
