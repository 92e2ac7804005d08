/**
 * The ops console's JSON API under /console/api, and the one check every request and the live
 * link pass: a console session (sidecar/console/sessions.ts) or COC_ADMIN_TOKEN as a bearer token,
 * for scripts. Without either, nothing but the sign-in answers, and it answers with no data.
 * Every action (retry) is logged with the Frappe user who did it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { ShopConfig } from '../../lib/config/shops.js';
import type { Logger } from '../../lib/log.js';
import { startHistorySync } from '../handlers/order_history/admin.js';
import type { Enqueue } from '../jobs/payloads.js';
import type { JobPage, JobRecord, JobState, JobStore } from '../jobs/types.js';
import type { JobsAnswer } from '../../lib/api/views.js';
import type { SiteStatus } from '../site/status.js';
import { checkFrappeSession, signInToFrappe, type SessionCheckRequest, type SignInRequest, type SignInResult } from './frappe_signin.js';
import { SESSION_COOKIE, SessionStore, clearedCookie, cookieValue, mayOperate, sessionCookie, type ConsolePrincipal, CONSOLE_ROLES } from './sessions.js';
import { historyAnswer, shopsAnswer, slaAnswer } from './ops.js';
import type { SyncRequestReader } from './sync_requests.js';
import { jobView, siteView } from './views.js';

export interface ConsoleSite {
  name: string;
  url: string;
}

export interface ConsoleOptions {
  sites: ConsoleSite[];
  store: JobStore;
  status: () => SiteStatus[];
  logger: Logger;
  adminToken?: string;
  /** When each site's realtime link last changed state (ISO), kept by sidecar/console/live.ts. */
  realtimeSince: (site: string) => string | null;
  /** Injected in tests; frappe-js-sdk against the site otherwise. */
  signIn?: (req: SignInRequest) => Promise<SignInResult>;
  /** Who a Frappe `sid` belongs to; frappe-js-sdk against the site otherwise. */
  checkSession?: (req: SessionCheckRequest) => Promise<SignInResult>;
  sessions?: SessionStore;
  /** The configured shops (Shop inbox view). @defaultValue [] */
  shops?: ShopConfig[];
  /** The runtime's enqueue, for *Run history sync*; without it the button is refused (503). */
  enqueue?: Enqueue;
  /** Each site's recent Order Sync Requests (Order history view); built by createConsole from `clientFor`. */
  syncRequests?: SyncRequestReader;
}

const STATES: JobState[] = ['waiting', 'active', 'completed', 'failed'];
/** Jobs per page of the Jobs view, unless the request says otherwise; and the most it may ask for. */
const PAGE_DEFAULT = 50;
const PAGE_MAX = 1000;

function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** Who sent `req`, if anyone the console knows: a bearer token first, then the session cookie. */
export function principalOf(req: IncomingMessage, sessions: SessionStore, adminToken: string | undefined): ConsolePrincipal | null {
  const authz = req.headers.authorization;
  if (authz && adminToken && sameSecret(authz, `Bearer ${adminToken}`)) return { kind: 'token' };
  const session = sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
  return session && session.sites.size ? { kind: 'session', session } : null;
}

/** The sites a principal may see: those that accepted its user, or every site for the token. */
export function sitesOf(p: ConsolePrincipal, all: ConsoleSite[]): string[] {
  return p.kind === 'token' ? all.map((s) => s.name) : all.map((s) => s.name).filter((n) => p.session.sites.has(n));
}

function actorOf(p: ConsolePrincipal, site: string): string {
  return p.kind === 'token' ? 'COC_ADMIN_TOKEN' : (p.session.sites.get(site)?.user ?? 'unknown');
}

/**
 * The site whose Frappe session this browser holds, when the console is served under that site's
 * own host name (the site's name is its host, as Frappe resolves sites by Host — frappe/app.py
 * `init_request`): the browser then sends the site's `sid` cookie with every request here. A sid
 * is only ever sent to the site it names, never tried on another.
 */
function frappeSessionOf(req: IncomingMessage, sites: ConsoleSite[]): { site: ConsoleSite; sid: string } | null {
  const sid = cookieValue(req.headers.cookie, 'sid');
  if (!sid || sid === 'Guest') return null;
  const forwarded = req.headers['x-forwarded-host'];
  const host = (Array.isArray(forwarded) ? forwarded[0] : forwarded?.split(',')[0]) ?? req.headers.host ?? '';
  const name = host.trim().toLowerCase().replace(/:\d+$/, '');
  const site = sites.find((s) => s.name.toLowerCase() === name);
  return site ? { site, sid } : null;
}

/** The principal the check below put on the response. */
const who = (res: Response): ConsolePrincipal => res.locals.principal as ConsolePrincipal;

export function createConsoleApi(opts: ConsoleOptions): { router: Router; sessions: SessionStore } {
  const sessions = opts.sessions ?? new SessionStore();
  const signIn = opts.signIn ?? signInToFrappe;
  const checkSession = opts.checkSession ?? checkFrappeSession;
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  // Before sign-in: which sites there are to sign in to (names only), and whether this browser is signed in where.
  router.get('/session', (req, res) => {
    const p = principalOf(req, sessions, opts.adminToken);
    const signedIn = p?.kind === 'session' ? [...p.session.sites].map(([site, g]) => ({ site, user: g.user })) : p ? opts.sites.map((s) => ({ site: s.name, user: 'COC_ADMIN_TOKEN' })) : [];
    const frappe = frappeSessionOf(req, opts.sites);
    res.json({ sites: opts.sites.map((s) => s.name), signedIn, roles: CONSOLE_ROLES, ...(frappe ? { frappeSession: frappe.site.name } : {}) });
  });

  /** The end of both sign-ins: the roles checked, the console session granted, the cookie set. */
  function admit(req: Request, res: Response, target: ConsoleSite, result: Extract<SignInResult, { ok: true }>, how: string): void {
    if (!mayOperate(result.roles)) {
      opts.logger.warn({ site: target.name, user: result.user }, 'console sign-in refused: the user has neither System Manager nor Order Companion Operator');
      res.status(403).json({ error: `${result.user} may not open the console of ${target.name}: it needs the System Manager or Order Companion Operator role`, site: target.name });
      return;
    }
    const current = principalOf(req, sessions, undefined);
    const session = sessions.grant(current?.kind === 'session' ? current.session : null, target.name, { user: result.user, roles: result.roles.filter((r) => (CONSOLE_ROLES as readonly string[]).includes(r)) });
    opts.logger.info({ site: target.name, user: result.user, how }, `console: ${result.user} signed in to ${target.name} (${how})`);
    res.setHeader('Set-Cookie', sessionCookie(session, req.secure));
    res.json({ site: target.name, user: result.user, signedIn: [...session.sites].map(([s, g]) => ({ site: s, user: g.user })) });
  }

  // "Continue as …": the Frappe session this browser already holds on the site the console is served under.
  router.post('/login/session', async (req, res) => {
    const frappe = frappeSessionOf(req, opts.sites);
    if (!frappe) {
      res.status(400).json({ error: 'no Frappe session comes with this request: the console must be opened under the site\'s own address, after signing in to the site' });
      return;
    }
    const result = await checkSession({ url: frappe.site.url, site: frappe.site.name, sid: frappe.sid });
    if (!result.ok) {
      const status = result.status === 401 ? 401 : 502;
      opts.logger.info({ site: frappe.site.name, status: result.status }, 'console sign-in with a Frappe session refused by the site');
      res.status(status).json({ error: result.message, site: frappe.site.name });
      return;
    }
    admit(req, res, frappe.site, result, 'Frappe session');
  });

  router.post('/login', async (req, res) => {
    const { site, usr, pwd } = (req.body ?? {}) as Record<string, unknown>;
    const target = opts.sites.find((s) => s.name === site);
    if (!target || typeof usr !== 'string' || typeof pwd !== 'string' || !usr || !pwd) {
      res.status(400).json({ error: target ? 'usr and pwd are required' : `site must be one of: ${opts.sites.map((s) => s.name).join(', ')}` });
      return;
    }
    const result = await signIn({ url: target.url, site: target.name, usr, pwd });
    if (!result.ok) {
      // Frappe's own words (e.g. "Invalid login credentials"); a site that did not answer is a 502.
      const status = [400, 401, 403, 417].includes(result.status) ? 401 : result.status === 501 ? 501 : 502;
      opts.logger.info({ site: target.name, usr, status: result.status }, 'console sign-in refused by the site');
      res.status(status).json({ error: result.message, site: target.name });
      return;
    }
    admit(req, res, target, result, 'password');
  });

  router.post('/logout', (req, res) => {
    const p = principalOf(req, sessions, undefined);
    const site = typeof req.body?.site === 'string' ? req.body.site : undefined;
    if (p?.kind === 'session') sessions.revoke(p.session, site);
    if (!site || !p || p.kind !== 'session' || !sessions.get(p.session.id)) res.setHeader('Set-Cookie', clearedCookie());
    res.json({ ok: true });
  });

  // Everything below: a session or the token, and no data otherwise.
  router.use((req: Request, res: Response, next: NextFunction) => {
    const p = principalOf(req, sessions, opts.adminToken);
    if (!p) {
      res.status(401).json({ error: 'sign in first' });
      return;
    }
    res.locals.principal = p;
    next();
  });

  router.get('/sites', (_req, res) => {
    const p = who(res);
    const visible = new Set(sitesOf(p, opts.sites));
    res.json({
      sites: opts
        .status()
        .filter((s) => visible.has(s.name))
        .map((s) => siteView(s, p.kind === 'session' ? (p.session.sites.get(s.name)?.user ?? null) : 'COC_ADMIN_TOKEN', opts.realtimeSince(s.name))),
    });
  });

  // Counts from the store's counters (no job read), and one page of the filter's jobs after `after`.
  router.get('/jobs', async (req, res) => {
    const p = who(res);
    const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const handler = text(req.query.handler);
    const site = text(req.query.site);
    const state = (text(req.query.state) ?? 'failed') as JobState;
    if (!STATES.includes(state)) {
      res.status(400).json({ error: `state must be one of ${STATES.join(', ')}` });
      return;
    }
    const visible = new Set(sitesOf(p, opts.sites).filter((s) => !site || s === site));
    const limit = Math.min(PAGE_MAX, Math.max(0, Math.floor(Number(req.query.limit ?? PAGE_DEFAULT))));
    if (!Number.isFinite(limit)) {
      res.status(400).json({ error: `limit must be a number from 0 to ${PAGE_MAX}` });
      return;
    }
    const { rows, exact } = await opts.store.countsBy();
    const counts: Record<string, Record<JobState, number>> = {};
    for (const r of rows) {
      if (!visible.has(r.site)) continue;
      const row = (counts[r.name] ??= { waiting: 0, active: 0, completed: 0, failed: 0 });
      for (const s of STATES) row[s] += r.counts[s];
    }
    const total = handler ? (counts[handler]?.[state] ?? 0) : Object.values(counts).reduce((n, c) => n + c[state], 0);
    let page: JobPage = { jobs: [], next: null };
    if (limit > 0 && visible.size > 0) {
      try {
        page = await opts.store.page({ state, limit, after: text(req.query.after) ?? null, name: handler, sites: visible });
      } catch (err) {
        res.status(400).json({ error: (err as Error).message });
        return;
      }
    }
    const answer: JobsAnswer = { counts, partial: !exact, total, jobs: page.jobs.map(jobView), next: page.next };
    res.json(answer);
  });

  router.get('/shops', async (_req, res) => {
    res.json(await shopsAnswer(opts.shops ?? [], opts.store, new Set(sitesOf(who(res), opts.sites))));
  });

  router.get('/history', async (_req, res) => {
    res.json(await historyAnswer(opts.store, new Set(sitesOf(who(res), opts.sites)), opts.sites, opts.syncRequests));
  });

  // A bulk history sync started (or the unfinished one resumed) as POST /admin/history/sync does, on a site the caller sees.
  router.post('/history/sync', async (req, res) => {
    const p = who(res);
    const visible = sitesOf(p, opts.sites);
    const site = typeof req.body?.site === 'string' ? req.body.site : undefined;
    if (site && !visible.includes(site)) return void res.status(404).json({ error: `no site ${site} is signed in` });
    if (!opts.enqueue) return void res.status(503).json({ error: 'this sidecar does not run jobs' });
    const answer = await startHistorySync(visible, opts.store, opts.enqueue, req.body);
    if ('run' in answer.body) {
      const { site: on, run, job, resumed } = answer.body;
      const actor = actorOf(p, on);
      opts.logger.info({ site: on, run, job, resumed, dryRun: Boolean(req.body?.dryRun), user: actor }, `console: ${actor} ${resumed ? 'resumed' : 'started'} bulk history sync ${run}`);
    }
    res.status(answer.status).json(answer.body);
  });

  router.get('/sla', async (_req, res) => {
    const zones = new Map(opts.status().map((s) => [s.name, s.timeZone]));
    res.json(await slaAnswer(opts.store, new Set(sitesOf(who(res), opts.sites)), opts.sites.map((s) => s.name), (site) => zones.get(site) ?? null));
  });

  async function visibleJob(req: Request, res: Response): Promise<JobRecord | null> {
    const p = who(res);
    const job = await opts.store.get(String(req.params.id));
    if (!job || !sitesOf(p, opts.sites).includes(job.site)) {
      res.status(404).json({ error: `no job ${String(req.params.id)}` });
      return null;
    }
    return job;
  }

  router.post('/jobs/:id/retry', async (req, res) => {
    const job = await visibleJob(req, res);
    if (!job) return;
    const actor = actorOf(who(res), job.site);
    if (!(await opts.store.retry(job.id))) {
      res.status(409).json({ error: `job ${job.id} is ${job.state}, not failed` });
      return;
    }
    opts.logger.info({ site: job.site, job: job.id, handler: job.name, user: actor }, `console: ${actor} retried job ${job.id}`);
    res.json({ retried: [job.id] });
  });

  // "Retry all like this": the failed jobs of the same handler, on sites the caller sees, whose error reads the same.
  router.post('/jobs/:id/retry-like', async (req, res) => {
    const job = await visibleJob(req, res);
    if (!job) return;
    const p = who(res);
    const visible = new Set(sitesOf(p, opts.sites));
    const like: JobRecord[] = [];
    let after: string | null = null;
    do {
      const page: JobPage = await opts.store.page({ state: 'failed', limit: PAGE_MAX, after, name: job.name, sites: visible });
      like.push(...page.jobs.filter((j) => (j.lastError ?? '') === (job.lastError ?? '')));
      after = page.next;
    } while (after !== null);
    const retried: string[] = [];
    for (const j of like) if (await opts.store.retry(j.id)) retried.push(j.id);
    for (const site of new Set(like.map((j) => j.site))) {
      const actor = actorOf(p, site);
      const ids = like.filter((j) => j.site === site && retried.includes(j.id)).map((j) => j.id);
      opts.logger.info({ site, handler: job.name, jobs: ids, user: actor }, `console: ${actor} retried ${ids.length} ${job.name} job(s) failed with the same error`);
    }
    res.json({ retried });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return { router, sessions };
}
