/**
 * The console's Jobs answer over a real socket, from an embedded store whose jobs ran on two
 * sites: counts per handler from the store's counters (the store's list() is never called),
 * one page at a time after the previous page's cursor, the filter's total, and only the sites
 * the caller signed in to.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobsAnswer } from '../../lib/api/views.js';
import { createConsole } from '../../sidecar/console/index.js';
import type { SignInRequest, SignInResult } from '../../sidecar/console/frappe_signin.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import type { JobStore } from '../../sidecar/jobs/types.js';
import { consoleLogin, readySiteStatus } from '../helpers/console.js';
import { captureLogs } from '../helpers/sidecar.js';

const SITES = [
  { name: 'a.localhost', url: 'http://127.0.0.1:9' },
  { name: 'b.localhost', url: 'http://127.0.0.1:9' },
];

async function fakeSignIn(req: SignInRequest): Promise<SignInResult> {
  if (req.site !== 'a.localhost' || req.pwd !== 'pw') return { ok: false, status: 401, message: 'Invalid login credentials' };
  return { ok: true, user: req.usr, roles: ['Order Companion Operator'] };
}

let server: Server;
let url: string;
let store: JobStore;
let cookie: string;

beforeAll(async () => {
  store = await createJobStore({ kind: 'embedded', dir: mkdtempSync(join(tmpdir(), 'coc-console-jobs-')) });
  const spec = (id: string, name: string, site: string) => ({ id, name, site, data: {}, maxAttempts: 1 });
  const specs = [
    ...Array.from({ length: 120 }, (_, i) => spec(`broken-a-${i}`, 'x.broken', 'a.localhost')),
    ...Array.from({ length: 3 }, (_, i) => spec(`broken-b-${i}`, 'x.broken', 'b.localhost')),
    ...Array.from({ length: 4 }, (_, i) => spec(`fine-a-${i}`, 'x.fine', 'a.localhost')),
  ];
  let finished = 0;
  const allDone = new EventEmitter();
  // x.broken has no handler: each of its jobs is dead-lettered at once.
  await store.start({ 'x.fine': async () => undefined }, {}, { onJobFinished: () => void (++finished === specs.length && allDone.emit('done')) });
  const done = new Promise((r) => allDone.once('done', r));
  await store.enqueueMany(specs);
  await done;

  // The Jobs answer must come from the counters and pages, never from reading every job.
  const noScan = new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'list' ? () => Promise.reject(new Error('list() called')) : Reflect.get(target, prop, receiver)),
  });
  const c = createConsole({ sites: SITES, store: noScan, status: () => SITES.map((s) => readySiteStatus(s.name)), events: new EventEmitter(), logger: captureLogs().logger, signIn: fakeSignIn, assetsDir: null });
  const app = express();
  app.use('/console', c.router);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cookie = (await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost')).cookie!;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.stop(1000);
  await store?.close();
});

const jobs = async (query: string): Promise<JobsAnswer> => {
  const res = await fetch(`${url}/console/api/jobs?${query}`, { headers: { Cookie: cookie } });
  expect(res.status, query).toBe(200);
  return (await res.json()) as JobsAnswer;
};

describe('ops console: Jobs', () => {
  it('counts per handler on the signed-in site only, from the counters', async () => {
    const answer = await jobs('state=failed');
    expect(answer.counts).toEqual({
      'x.broken': { waiting: 0, active: 0, completed: 0, failed: 120 },
      'x.fine': { waiting: 0, active: 0, completed: 4, failed: 0 },
    });
    expect(answer.partial).toBe(false);
    expect(answer.total).toBe(120);
    // 50 a page unless asked otherwise.
    expect(answer.jobs).toHaveLength(50);
  });

  it('pages the filter newest first, each page after the last one\'s cursor, to the end', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const answer: JobsAnswer = await jobs(`state=failed&handler=x.broken&limit=50${next ? `&after=${encodeURIComponent(next)}` : ''}`);
      expect(answer.total).toBe(120);
      expect(answer.jobs.every((j) => j.site === 'a.localhost' && j.handler === 'x.broken' && j.state === 'failed')).toBe(true);
      seen.push(...answer.jobs.map((j) => j.id));
      next = answer.next;
      pages += 1;
    } while (next);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(120);
    // Newest first: enqueued in one batch, so the last enqueued comes first.
    expect(seen[0]).toBe('broken-a-119');
    expect(seen.at(-1)).toBe('broken-a-0');
  });

  it('a site filter narrows counts, total and page; a site not signed in to shows nothing', async () => {
    const own = await jobs('state=completed&site=a.localhost');
    expect(own.total).toBe(4);
    expect(own.jobs.map((j) => j.id).sort()).toEqual(['fine-a-0', 'fine-a-1', 'fine-a-2', 'fine-a-3']);
    expect(own.next).toBeNull();
    expect(await jobs('state=failed&site=b.localhost')).toEqual({ counts: {}, partial: false, total: 0, jobs: [], next: null });
  });

  it('limit=0 answers counts only; a bad cursor or state is refused', async () => {
    const counts = await jobs('state=failed&limit=0');
    expect(counts.jobs).toEqual([]);
    expect(counts.total).toBe(120);
    expect((await fetch(`${url}/console/api/jobs?state=failed&after=nonsense`, { headers: { Cookie: cookie } })).status).toBe(400);
    expect((await fetch(`${url}/console/api/jobs?state=lost`, { headers: { Cookie: cookie } })).status).toBe(400);
  });
});
