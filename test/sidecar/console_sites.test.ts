/**
 * The ops console with several sites: a person signs in per site, and sees — over the API and on
 * the live link — only the sites that accepted them; a job of another site is neither listed,
 * retried nor pushed. The console is mounted on its own HTTP server here, with a sign-in that
 * answers as two sites would (test/sidecar/console_api.test.ts signs in against the emulator).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsole } from '../../sidecar/console/index.js';
import type { SignInRequest, SignInResult } from '../../sidecar/console/frappe_signin.js';
import { createJobStore } from '../../sidecar/jobs/index.js';
import type { JobRecord, JobStore } from '../../sidecar/jobs/types.js';
import { captureLogs } from '../helpers/sidecar.js';
import { consoleLogin, liveClient } from '../helpers/console.js';
import { readySiteStatus as statusOf } from '../helpers/console.js';

const SITES = [
  { name: 'a.localhost', url: 'http://127.0.0.1:9' },
  { name: 'b.localhost', url: 'http://127.0.0.1:9' },
];
/** Who each site accepts: ann is a System Manager on a only. */
const ACCOUNTS: Record<string, Record<string, string[]>> = {
  'a.localhost': { 'ann@example.com': ['System Manager'] },
  'b.localhost': { 'ann@example.com': ['Sales User'], 'bob@example.com': ['Order Companion Operator'] },
};

async function fakeSignIn(req: SignInRequest): Promise<SignInResult> {
  const roles = ACCOUNTS[req.site]?.[req.usr];
  if (!roles || req.pwd !== 'pw') return { ok: false, status: 401, message: 'Invalid login credentials' };
  return { ok: true, user: req.usr, roles };
}


let server: Server;
let url: string;
let store: JobStore;
const events = new EventEmitter();
let live: { close(): void };

beforeAll(async () => {
  store = await createJobStore({ kind: 'embedded', dir: mkdtempSync(join(tmpdir(), 'coc-console-')) });
  for (const site of ['a.localhost', 'b.localhost']) {
    await store.enqueue({ id: `job-${site}`, name: 'test.fail', site, data: {}, maxAttempts: 1 });
  }
  let dead = 0;
  const bothDead = new Promise<void>((resolve) => {
    void store.start({ 'test.fail': async () => Promise.reject(new Error('boom')) }, {}, { onJobFinished: (_job, outcome) => outcome === 'failed' && ++dead === 2 && resolve() });
  });
  await bothDead;

  const c = createConsole({ sites: SITES, store, status: () => SITES.map((s) => statusOf(s.name)), events, logger: captureLogs().logger, signIn: fakeSignIn, assetsDir: null });
  const app = express();
  app.use('/console', c.router);
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  live = c.attach(server);
});

afterAll(async () => {
  live?.close();
  await new Promise((r) => server?.close(r));
  await store?.stop(1000);
  await store?.close();
});

describe('ops console with several sites', () => {
  it('a person sees only the sites that accepted them, and signs in to each on its own', async () => {
    const onA = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    expect(onA.status).toBe(200);
    // b knows ann, but not as an operator: refused there, still signed in to a.
    const onB = await consoleLogin(url, 'ann@example.com', 'pw', onA.cookie!, 'b.localhost');
    expect(onB.status).toBe(403);
    const sites = await (await fetch(`${url}/console/api/sites`, { headers: { Cookie: onA.cookie! } })).json();
    expect(sites.sites.map((s: { name: string }) => s.name)).toEqual(['a.localhost']);
    const jobs = await (await fetch(`${url}/console/api/jobs`, { headers: { Cookie: onA.cookie! } })).json();
    expect(jobs.jobs.map((j: { id: string }) => j.id)).toEqual(['job-a.localhost']);
    expect(Object.keys(jobs.counts)).toEqual(['test.fail']);
    expect(jobs.counts['test.fail'].failed).toBe(1);
    // Another site's job is not there to retry.
    const retry = await fetch(`${url}/console/api/jobs/job-b.localhost/retry`, { method: 'POST', headers: { Cookie: onA.cookie!, 'Content-Type': 'application/json' }, body: '{}' });
    expect(retry.status).toBe(404);

    // bob signs in to b in the same browser: one session, two sites, each with its own user.
    const both = await consoleLogin(url, 'bob@example.com', 'pw', onA.cookie!, 'b.localhost');
    expect(both.status).toBe(200);
    expect(both.body.signedIn).toEqual([
      { site: 'a.localhost', user: 'ann@example.com' },
      { site: 'b.localhost', user: 'bob@example.com' },
    ]);
    const now = await (await fetch(`${url}/console/api/sites`, { headers: { Cookie: onA.cookie! } })).json();
    expect(now.sites.map((s: { name: string; user: string }) => [s.name, s.user])).toEqual([
      ['a.localhost', 'ann@example.com'],
      ['b.localhost', 'bob@example.com'],
    ]);
  });

  it("the live link pushes only the signed-in sites' jobs", async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    const client = await liveClient(url, { Cookie: cookie! });
    try {
      expect((await client.next((m) => m.type === 'hello', 'hello')).sites).toEqual(['a.localhost']);
      const jobOf = async (site: string) => (await store.get(`job-${site}`)) as JobRecord;
      events.emit('job', await jobOf('b.localhost'), 'failed');
      events.emit('job', await jobOf('a.localhost'), 'failed');
      const pushed = await client.next((m) => m.type === 'job', 'a job');
      expect(pushed.job.site).toBe('a.localhost');
      expect(client.messages.filter((m) => m.type === 'job').map((m) => m.job.site)).toEqual(['a.localhost']);
    } finally {
      client.close();
    }
  });

  it('a page from another origin may not open the live link with the cookie', async () => {
    const { cookie } = await consoleLogin(url, 'ann@example.com', 'pw', undefined, 'a.localhost');
    await expect(liveClient(url, { Cookie: cookie!, Origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });
});
