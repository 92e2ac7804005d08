/**
 * A job waiting on a slow REST call hands its worker slot back (README "How it keeps its
 * promises"): the job store puts a hook in the async context of each run, and the REST client
 * calls it once a call has been outstanding for `slowCallMs`. The job keeps running unchanged —
 * its locks, reads-before-writes and idempotency rules are untouched — it only stops counting
 * against the store's concurrency until the call settles, so a site that hangs some requests
 * cannot park every worker while runnable jobs wait.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Called when the running job starts waiting on something slow; answers "it is moving again". */
export type StallHook = () => () => void;

const scope = new AsyncLocalStorage<StallHook>();

/** Run `fn` (a job's handler) with `hook` as the stall hook of everything it awaits. */
export function runWithStallHook<T>(hook: StallHook, fn: () => T): T {
  return scope.run(hook, fn);
}

/** Mark the current job stalled, if there is one; call the answer when the wait is over. */
export function markStalled(): () => void {
  const hook = scope.getStore();
  return hook ? hook() : () => {};
}

/**
 * The running job's stall hook, to carry across a boundary async context does not cross (the
 * shop apply thread, sidecar/shops/apply/host.ts, reports its waits by message).
 */
export function currentStallHook(): StallHook | undefined {
  return scope.getStore();
}
