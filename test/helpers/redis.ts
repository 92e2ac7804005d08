/** The real Redis on 127.0.0.1:6379 for BullMQ store tests: a fresh key prefix per test, and its cleanup. */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';

export const connection = { host: '127.0.0.1', port: 6379 };

export const newPrefix = () => `coc-test-${randomUUID()}`;

/** Delete every key under `prefix`, through a throwaway BullMQ connection (no Redis client of our own). */
export async function deletePrefix(prefix: string): Promise<void> {
  // skipMetasUpdate: a Queue otherwise writes its own meta key, which would outlive the cleanup.
  const queue = new Queue('cleanup', { connection, prefix, skipMetasUpdate: true });
  try {
    const client = await queue.client;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, { MATCH: `${prefix}:*`, COUNT: 500 });
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await queue.close();
  }
}
