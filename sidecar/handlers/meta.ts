// The runtime hands every handler this view of its job store.
import type { JobStore } from '../jobs/types.js';
import type { HandlerMeta } from './types.js';

/** The handlers' view of the job store's key/value state. */
export function handlerMeta(store: Pick<JobStore, 'getMeta' | 'setMeta' | 'remember' | 'recall' | 'forget'>): HandlerMeta {
  return {
    get: (key) => store.getMeta(key),
    set: (key, value) => store.setMeta(key, value),
    remember: (key, value, ttlMs) => store.remember(key, value, ttlMs),
    recall: (keys) => store.recall(keys),
    forget: (keys) => store.forget(keys),
  };
}
