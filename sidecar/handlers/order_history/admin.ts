/**
 * Bulk history sync for the CLI (`history sync`), mounted under the sidecar's /admin (loopback or
 * admin token): start a run — or resume the unfinished one with the same options, so running the
 * command again after a crash finishes the rest — and read a run's progress. The ops console's
 * *Run history sync* (sidecar/console/api.ts) starts runs through the same `startHistorySync`.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Enqueue } from '../../jobs/payloads.js';
import type { JobStore } from '../../jobs/types.js';
import { BULK_DOCTYPES, BULK_HANDLER, bulkJobId, lastRunKey, progressKey, readProgress, reopen, type BulkOptions, type BulkProgress } from './bulk.js';

const startSchema = z
  .object({
    site: z.string().min(1).optional(),
    doctype: z.enum(BULK_DOCTYPES).optional(),
    since: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-11-01')
      .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'a real calendar date')
      .optional(),
    onlyEmpty: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();

/** Options compared as the run stores them: absent and false are the same. */
function sameOptions(a: BulkOptions, b: BulkOptions): boolean {
  return a.doctype === b.doctype && a.since === b.since && Boolean(a.onlyEmpty) === Boolean(b.onlyEmpty) && Boolean(a.dryRun) === Boolean(b.dryRun);
}

/** What starting a run answers: the HTTP status and body both routes (/admin, /console/api) send. */
export interface StartAnswer {
  status: number;
  body: { site: string; run: string; job: string; resumed: boolean; progress: BulkProgress | null } | { error: string };
}

function pickSite(sites: string[], wanted: string | undefined): string | StartAnswer {
  if (wanted) {
    if (sites.includes(wanted)) return wanted;
    return { status: 404, body: { error: `no site ${wanted} is configured (configured: ${sites.join(', ')})` } };
  }
  if (sites.length === 1) return sites[0]!;
  return { status: 400, body: { error: `several sites are configured; choose one with --site (${sites.join(', ')})` } };
}


/**
 * Start a bulk run on one of `sites` with the options in `body` (validated here), or resume the
 * unfinished run with the same options — the CLI's `history sync` and the console's
 * *Run history sync* button both call this.
 */
export async function startHistorySync(sites: string[], store: JobStore, enqueue: Enqueue, body: unknown): Promise<StartAnswer> {
  const parsed = startSchema.safeParse(body ?? {});
  if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } };
  const { site: wanted, ...options } = parsed.data;
  const site = pickSite(sites, wanted);
  if (typeof site !== 'string') return site;
  // The unfinished run with these options, if any: resumed, not started again.
  const last = await store.getMeta(lastRunKey(site));
  if (last) {
    const job = await store.get(bulkJobId(site, last));
    const progress = await readProgress((k) => store.getMeta(k), site, last);
    const unfinished = job && job.state !== 'completed' && progress?.state !== 'done';
    // A run enqueued but not started yet has no progress: its options are its job's.
    const runOptions = progress?.options ?? (job?.data.options as BulkOptions | undefined);
    if (unfinished && runOptions && sameOptions(runOptions, options)) {
      if (job.state === 'failed' && progress) {
        // Resumed from its checkpoint: running again, so a follower does not read the old failure as the end.
        reopen(progress);
        await store.setMeta(progressKey(site, last), JSON.stringify(progress));
      }
      if (job.state === 'failed') await store.retry(job.id);
      return { status: 200, body: { site, run: last, job: job.id, resumed: true, progress } };
    }
    if (unfinished && job.state !== 'failed') {
      return { status: 409, body: { error: `a bulk sync with other options is running on ${site} (run ${last}); wait for it to finish` } };
    }
  }
  const run = new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-');
  await store.setMeta(lastRunKey(site), run);
  const job = bulkJobId(site, run);
  await enqueue({ id: job, name: BULK_HANDLER, site, data: { run, options }, maxAttempts: 8 });
  return { status: 202, body: { site, run, job, resumed: false, progress: null } };
}

export function createHistoryAdminRouter(sites: string[], store: JobStore, enqueue: Enqueue): Router {
  const r = express.Router();
  r.use(express.json({ limit: '16kb' }));

  r.post('/history/sync', async (req: Request, res: Response) => {
    const answer = await startHistorySync(sites, store, enqueue, req.body);
    res.status(answer.status).json(answer.body);
  });

  r.get('/history/sync/:site/:run', async (req: Request, res: Response) => {
    const site = String(req.params.site);
    const run = String(req.params.run);
    const [progress, job] = await Promise.all([readProgress((k) => store.getMeta(k), site, run), store.get(bulkJobId(site, run))]);
    if (!job && !progress) return void res.status(404).json({ error: `no bulk sync run ${run} on ${site}` });
    res.json({ site, run, job: job ? { id: job.id, state: job.state, attempts: job.attempts, lastError: job.lastError ?? null } : null, progress });
  });

  return r;
}
