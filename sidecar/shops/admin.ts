/**
 * Shop operations for the CLI (`shops list | replay | backfill`), mounted under the sidecar's
 * /admin (loopback or admin token), and the inbox / needs-mapping gauges.
 */
import express, { type Router } from 'express';
import type { Enqueue, JobName, JobPayloads } from '../jobs/payloads.js';
import type { JobRecord, JobStore } from '../jobs/types.js';
import type { Metrics } from '../metrics.js';
import type { ShopConfig } from '../../lib/config/shops.js';
import { isNeedsMapping } from './erpnext/errors.js';
import { RECONCILE_HANDLER, watermarkKey } from './jobs.js';

const SCAN_LIMIT = 10_000;

export interface ShopStats {
  inbox: number;
  needsMapping: JobRecord[];
  failed: JobRecord[];
}

function isShopJob(job: JobRecord): boolean {
  return job.name.startsWith('shops.') && job.name !== RECONCILE_HANDLER;
}

/** A dead-lettered shop delivery or order that waits for an item mapping (or another mapping fix). */
export function waitsForMapping(job: JobRecord): boolean {
  return isShopJob(job) && isNeedsMapping(job.lastError);
}

export async function shopStats(store: JobStore): Promise<ShopStats> {
  const [waiting, active, failed] = await Promise.all([store.list('waiting', SCAN_LIMIT), store.list('active', SCAN_LIMIT), store.list('failed', SCAN_LIMIT)]);
  const shopFailed = failed.filter(isShopJob);
  return {
    inbox: [...waiting, ...active].filter(isShopJob).length,
    needsMapping: failed.filter(waitsForMapping),
    failed: shopFailed,
  };
}

/** Scrapes come every few seconds; listing the queues for them at most every 15 s is plenty. */
const GAUGE_TTL_MS = 15_000;
const gaugesReadAt = new WeakMap<Metrics, number>();

export async function refreshShopGauges(store: JobStore, metrics: Metrics): Promise<void> {
  const last = gaugesReadAt.get(metrics);
  if (last !== undefined && Date.now() - last < GAUGE_TTL_MS) return;
  gaugesReadAt.set(metrics, Date.now());
  const stats = await shopStats(store);
  metrics.shopInbox.set(stats.inbox);
  metrics.shopNeedsMapping.set(stats.needsMapping.length);
}

/** What `shops list` and the console's Shop inbox say of a shop first: who it is and how far it is reconciled. */
export async function shopHeader(s: ShopConfig, store: JobStore) {
  return {
    id: s.id,
    platform: s.platform,
    shop: s.platform === 'shopify' ? s.domain : s.shopId,
    site: s.site,
    reconcile: s.reconcile.enabled,
    watermark: await store.getMeta(watermarkKey(s.id)),
  };
}

export function createShopAdminRouter(shops: ShopConfig[], store: JobStore, enqueue: Enqueue): Router {
  const r = express.Router();
  r.use(express.json({ limit: '16kb' }));

  r.get('/shops', async (_req, res) => {
    const stats = await shopStats(store);
    const rows = await Promise.all(
      shops.map(async (s) => ({
        ...(await shopHeader(s, store)),
        failed: stats.failed.filter((j) => j.data.shop === s.id).length,
        needsMapping: stats.needsMapping.filter((j) => j.data.shop === s.id).map((j) => ({ id: j.id, error: j.lastError })),
      })),
    );
    res.json({ inbox: stats.inbox, shops: rows });
  });

  r.post('/shops/replay/:delivery', async (req, res) => {
    const id = String(req.params.delivery);
    const job = await store.get(id);
    if (!job || !job.name.startsWith('shops.')) {
      res.status(404).json({ error: `no stored shop delivery or order ${id}` });
      return;
    }
    if (job.state === 'waiting' || job.state === 'active') {
      res.status(409).json({ error: `${id} is ${job.state}; it runs anyway` });
      return;
    }
    // A dead letter goes back to the queue under its own id (so it leaves the failed list); a
    // completed one runs again as a new job.
    if (job.state === 'failed' && (await store.retry(id))) {
      res.json({ replayed: id, job: id });
      return;
    }
    const replay = `${id}|replay|${Date.now()}`;
    // The stored record was checked against its payload type when it was first enqueued.
    await enqueue({ id: replay, name: job.name as JobName, site: job.site, data: job.data as JobPayloads[JobName] });
    res.json({ replayed: id, job: replay });
  });

  r.post('/shops/:shop/backfill', async (req, res) => {
    const shop = shops.find((s) => s.id === req.params.shop);
    if (!shop) {
      res.status(404).json({ error: `no shop ${req.params.shop}; configured: ${shops.map((s) => s.id).join(', ') || 'none'}` });
      return;
    }
    const since = String((req.body as { since?: unknown } | undefined)?.since ?? '');
    const at = Date.parse(since);
    if (!since || Number.isNaN(at)) {
      res.status(400).json({ error: 'since must be an ISO-8601 date or time, e.g. 2026-11-01 or 2026-11-01T00:00:00Z' });
      return;
    }
    const iso = new Date(at).toISOString();
    const job = `${RECONCILE_HANDLER}|${shop.id}|backfill|${iso}|${Date.now()}`;
    await enqueue({ id: job, name: RECONCILE_HANDLER, site: shop.site, data: { shop: shop.id, since: iso }, maxAttempts: 5 });
    res.json({ shop: shop.id, since: iso, job });
  });
  return r;
}
