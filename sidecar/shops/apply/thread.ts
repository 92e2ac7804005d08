/**
 * The shop apply thread (host.ts says why it exists). It runs the same apply code as the
 * in-process handlers (../handlers.ts applyDelivery / applyReconciled) against a HandlerContext
 * whose store-backed parts — meta, locks, enqueue — are calls to the main thread, with its own REST
 * client per site and a logger and metrics that report to the main thread's.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ShopConfig } from '../../../lib/config/shops.js';
import { createFrappeClient, type FrappeClient } from '../../../lib/frappe/client.js';
import { createLogger, registerSecret } from '../../../lib/log.js';
import type { HandlerContext, HandlerMeta } from '../../jobs/handler.js';
import { markStalled, runWithStallHook } from '../../jobs/stall.js';
import type { Metrics } from '../../metrics.js';
import { applyDelivery, applyReconciled } from '../handlers.js';
import type { DeliveryData, OrderJobData } from '../jobs.js';
import { FN_MARK, fromWire, toWire, type ApplyJobName, type FromThread, type MetaOp, type ThreadData, type ThreadEvent, type ToThread } from './protocol.js';

const port = parentPort!;

/**
 * Applying yields the CPU to acknowledging: on Linux a nice value is per thread (setpriority of
 * "process" 0 is the calling thread), so this thread alone runs at a lower priority and the main
 * thread, which answers webhooks and writes the store, wins a core when both want one. Elsewhere
 * the call would renice the whole process, so it is left out.
 */
export const APPLY_THREAD_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(0, Math.max(getPriority(0), APPLY_THREAD_NICE));
  } catch {
    // Not allowed here (a sandbox): the thread runs at the process's priority, only slower to yield.
  }
}
const data = workerData as ThreadData;
for (const s of data.secrets) registerSecret(s);

/** Notes wait for the end of the current turn and go in one message, always before the next call or answer. */
let pending: ThreadEvent[] = [];
let flushScheduled = false;
function flush(): void {
  flushScheduled = false;
  if (!pending.length) return;
  const events = pending;
  pending = [];
  port.postMessage({ t: 'events', events } satisfies FromThread);
}
function note(e: ThreadEvent): void {
  pending.push(e);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}
function post(msg: FromThread): void {
  flush();
  port.postMessage(msg);
}

// `thread` tells the log reader which thread a line came from; otherwise the lines are the main thread's own.
const logger = createLogger({ level: data.logLevel, destination: { write: (line: string) => note({ k: 'log', line }) } }).child({ thread: 'shop-apply' });

/** Every metric the code names, reported to the main thread's registry under the same name. */
const metrics = new Proxy({} as Metrics, {
  get: (_, name) => {
    const op = (kind: 'inc' | 'dec' | 'set' | 'observe') => (labels?: Record<string, string>, value?: number) =>
      note({ k: 'metric', name: String(name), op: kind, labels, value });
    return { inc: op('inc'), dec: op('dec'), set: op('set'), observe: op('observe') };
  },
});

/** The shops with their secret getters refusing: nothing the thread runs may need them (Etsy stays in-process). */
function revive(value: unknown, path: string): unknown {
  if (value === FN_MARK) {
    return () => {
      throw new Error(`${path} is not available in the shop apply thread`);
    };
  }
  if (Array.isArray(value)) return value.map((v, i) => revive(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v, `${path}.${k}`)]));
  return value;
}
const shops = (data.shops as unknown[]).map((s, i) => revive(s, `shops[${i}]`)) as ShopConfig[];

const secrets = new Map(data.sites.map((s) => [s.name, s.apiSecret]));
const clients = new Map<string, FrappeClient>(
  data.sites.map((s) => [
    s.name,
    createFrappeClient({ site: s.name, baseUrl: s.url, apiKey: () => s.apiKey, apiSecret: () => secrets.get(s.name) ?? '', ...data.rest, metrics, logger, onWait: markStalled }),
  ]),
);

let nextCall = 1;
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
function call<T>(run: number, req: MetaOp): Promise<T> {
  const id = nextCall++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ t: 'call', call: id, run, req });
  });
}

const aborts = new Map<number, AbortController>();

function contextFor(run: number, msg: Extract<ToThread, { t: 'run' }>, signal: AbortSignal): HandlerContext {
  const client = clients.get(msg.job.site);
  if (!client) throw new Error(`job ${msg.job.id} is for unknown site ${msg.job.site}`);
  const meta: HandlerMeta = {
    get: (key) => call(run, { op: 'get', key }),
    set: (key, value) => call(run, { op: 'set', key, value }),
    remember: (key, value, ttlMs) => call(run, { op: 'remember', key, value, ttlMs }),
    recall: (keys) => call(run, { op: 'recall', keys }),
    forget: (keys) => call(run, { op: 'forget', keys }),
  };
  return {
    site: msg.job.site,
    client,
    logger: logger.child({ site: msg.job.site, job: msg.job.id }),
    metrics,
    enqueue: (spec) => call(run, { op: 'enqueue', spec: spec as unknown as Record<string, unknown> }),
    job: msg.job,
    signal,
    attempt: msg.attempt,
    meta,
    async lock(key, fn) {
      const held = await call<number>(run, { op: 'lock', key });
      let result;
      try {
        result = await fn();
      } catch (err) {
        await call(run, { op: 'unlock', lock: held }).catch(() => {});
        throw err;
      }
      // The lock's own outcome (a lease lost while held) fails the job, as it would in-process.
      await call(run, { op: 'unlock', lock: held });
      return result;
    },
  };
}

const APPLY: Record<ApplyJobName, (ctx: HandlerContext) => Promise<void>> = {
  'shops.delivery': (ctx) => applyDelivery(ctx, shops, ctx.job.data as DeliveryData),
  'shops.order': (ctx) => applyReconciled(ctx, shops, ctx.job.data as OrderJobData),
};

async function runJob(msg: Extract<ToThread, { t: 'run' }>): Promise<void> {
  for (const [site, secret] of Object.entries(msg.secrets)) {
    if (secrets.get(site) !== secret) registerSecret(secret);
    secrets.set(site, secret);
  }
  const controller = new AbortController();
  aborts.set(msg.run, controller);
  let waits = 0;
  // The REST client's waits (markStalled) reach the job's stall hook on the main thread.
  const hook = () => {
    const n = ++waits;
    note({ k: 'stall', run: msg.run, n });
    return () => note({ k: 'moving', run: msg.run, n });
  };
  try {
    await runWithStallHook(hook, () => APPLY[msg.handler](contextFor(msg.run, msg, controller.signal)));
    post({ t: 'done', run: msg.run });
  } catch (err) {
    post({ t: 'done', run: msg.run, error: toWire(err) });
  } finally {
    aborts.delete(msg.run);
  }
}

port.on('message', (msg: ToThread) => {
  if (msg.t === 'run') void runJob(msg);
  else if (msg.t === 'abort') aborts.get(msg.run)?.abort(new Error('the job was stopped'));
  else {
    const pendingCall = calls.get(msg.call);
    if (!pendingCall) return;
    calls.delete(msg.call);
    if (msg.ok) pendingCall.resolve(msg.value);
    else pendingCall.reject(fromWire(msg.error));
  }
});
