/**
 * The job store's public surface: the contract, and one factory that picks the backend from
 * configuration. Callers (the runtime, tests) never import a backend module directly.
 */
import { createBullmqStore } from './bullmq-store.js';
import { createEmbeddedStore } from './embedded-store.js';
import type { JobStore } from './types.js';

export type {
  JobContext,
  JobCountRow,
  JobCounts,
  JobHandler,
  JobRecord,
  JobPage,
  JobPageQuery,
  JobSpec,
  JobState,
  JobStore,
  JobStoreEvents,
  StartOptions,
} from './types.js';
export { JobStoreLockedError } from './embedded-store.js';
export { retryDelayMs, MAX_BACKOFF_MS } from './backoff.js';

export type JobStoreConfig =
  /** One process, LevelDB files under `dir`. */
  | { kind: 'embedded'; dir: string }
  /** Redis through BullMQ; several replicas may share `redisUrl` + `prefix`. */
  | { kind: 'bullmq'; redisUrl: string; prefix?: string };

export async function createJobStore(config: JobStoreConfig): Promise<JobStore> {
  switch (config.kind) {
    case 'embedded':
      return createEmbeddedStore({ dir: config.dir });
    case 'bullmq':
      return createBullmqStore({ connection: config.redisUrl, prefix: config.prefix });
    default: {
      const unknownKind: never = config;
      throw new Error(`Unknown job store kind: ${String((unknownKind as { kind?: unknown }).kind)}`);
    }
  }
}
