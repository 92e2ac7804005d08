/**
 * Test controls, deliberately outside Frappe's URL space. Tests and benchmarks use them to
 * create and reset sites, seed data, move the clock, inject faults and read request counts;
 * the product never calls them.
 */
import { Router, type Request, type Response } from 'express';
import { isValidTimeZone } from '../core/datetime.js';
import type { EmulatorState, FaultRule, RealtimeMode } from '../state.js';
import { createSite, resetSite } from '../sites.js';
import { seedDemo } from '../seed/demo.js';
import { addUser } from '../seed/users.js';

function bad(res: Response, message: string): void {
  res.status(400).json({ error: message });
}

export function controlsRouter(state: EmulatorState): Router {
  const r = Router();

  r.get('/', (_req, res) => {
    res.json({
      url: state.url,
      sites: [...state.sites.values()].map((s) => ({ name: s.name, time_zone: s.timeZone(), now: s.now() })),
      faults: state.faults.list(),
      latency: state.latency.list(),
      realtime: state.faults.realtime,
    });
  });

  /** Create a site (or replace one): `{name, time_zone?, seed?: "demo" | "none"}`. */
  r.post('/sites', (req: Request, res: Response) => {
    const { name, time_zone, seed } = req.body ?? {};
    if (!name || typeof name !== 'string') return bad(res, 'name is required');
    if (time_zone && !isValidTimeZone(time_zone)) return bad(res, `unknown time zone ${time_zone}`);
    const site = createSite(state, name, { timeZone: time_zone });
    if (seed === 'demo') seedDemo(site);
    res.json({ name: site.name, time_zone: site.timeZone() });
  });

  r.post('/sites/:site/reset', (req: Request, res: Response) => {
    const site = state.sites.get(String(req.params.site));
    if (!site) return res.status(404).json({ error: 'no such site' });
    resetSite(site, { timeZone: req.body?.time_zone });
    state.latency.clear(site.name);
    if (req.body?.seed === 'demo') seedDemo(site);
    res.json({ ok: true });
  });

  r.post('/sites/:site/seed', (req: Request, res: Response) => {
    const site = state.sites.get(String(req.params.site));
    if (!site) return res.status(404).json({ error: 'no such site' });
    res.json(seedDemo(site));
  });

  /** `{email, roles?, api_key?, api_secret?, password?, user_type?}` → a user with keys, as an admin would set up. */
  r.post('/sites/:site/users', (req: Request, res: Response) => {
    const site = state.sites.get(String(req.params.site));
    if (!site) return res.status(404).json({ error: 'no such site' });
    const { email } = req.body ?? {};
    if (!email) return bad(res, 'email is required');
    res.json(addUser(site, req.body));
  });

  r.get('/sites/:site/requests', (req: Request, res: Response) => {
    const site = state.sites.get(String(req.params.site));
    if (!site) return res.status(404).json({ error: 'no such site' });
    res.json(Object.fromEntries(site.requestCounts));
  });

  r.delete('/sites/:site/requests', (req: Request, res: Response) => {
    const site = state.sites.get(String(req.params.site));
    if (!site) return res.status(404).json({ error: 'no such site' });
    site.requestCounts.clear();
    res.json({ ok: true });
  });

  /** `{now?: ISO-8601 instant, advance_seconds?: number, freeze?: boolean, reset?: true}`. */
  r.post('/clock', (req: Request, res: Response) => {
    const { now, advance_seconds, freeze, reset } = req.body ?? {};
    if (reset) state.clock.reset();
    if (now !== undefined) {
      const ms = Date.parse(String(now));
      if (Number.isNaN(ms) || !/[zZ]|[+-]\d{2}:?\d{2}$/.test(String(now))) return bad(res, 'now must be an ISO-8601 instant with a zone, e.g. 2026-01-05T09:00:00Z');
      state.clock.set(ms * 1000, Boolean(freeze));
    }
    if (advance_seconds !== undefined) {
      const n = Number(advance_seconds);
      if (!Number.isFinite(n)) return bad(res, 'advance_seconds must be a number');
      state.clock.advance(n);
    }
    res.json(clockView(state));
  });

  r.get('/clock', (_req, res) => res.json(clockView(state)));

  /**
   * `{rules: FaultRule[], seed?, realtime?: "normal"|"drop"|"down", hold_joins?: boolean}`; DELETE
   * clears all faults. `hold_joins: true` keeps every allowed subscription out of its room (the
   * socket shows it pending) until `hold_joins: false` performs them in order.
   */
  r.post('/faults', (req: Request, res: Response) => {
    const { rules, seed, realtime, hold_joins } = req.body ?? {};
    if (hold_joins !== undefined && typeof hold_joins !== 'boolean') return bad(res, 'hold_joins must be true or false');
    if (rules !== undefined) {
      if (!Array.isArray(rules)) return bad(res, 'rules must be a list');
      for (const rule of rules as FaultRule[]) {
        if (!['error', 'timeout', 'reset', 'delay'].includes(rule.mode)) return bad(res, 'rule.mode must be error, timeout, reset or delay');
        if (rule.mode === 'delay' && !(Number.isFinite(rule.delayMs) && rule.delayMs! >= 0 && rule.delayMs! <= 600_000)) return bad(res, 'rule.delayMs must be 0–600000 for mode delay');
        if (rule.mode === 'error' && !(rule.status >= 400 && rule.status < 600)) return bad(res, 'rule.status must be an HTTP error status');
      }
      state.faults.set(rules, seed);
    }
    if (realtime !== undefined) {
      if (!['normal', 'drop', 'down'].includes(realtime)) return bad(res, 'realtime must be normal, drop or down');
      state.faults.realtime = realtime as RealtimeMode;
      if (realtime === 'down') state.realtime?.disconnectAll();
    }
    if (hold_joins !== undefined) state.faults.holdJoins(hold_joins);
    res.json({ rules: state.faults.list(), realtime: state.faults.realtime, hold_joins: state.faults.joinsHeld });
  });

  r.delete('/faults', (_req, res) => {
    state.faults.clear();
    state.latency.clear();
    for (const hung of state.hungResponses) hung.destroy();
    res.json({ ok: true });
  });

  /**
   * The latency profile: `{site?, meanMs, jitterMs?, seed?}` holds every REST call (`/api/…`) of
   * the site (all sites without `site`) for a delay drawn uniformly from meanMs ± jitterMs, seeded.
   * Not these controls, desk pages or realtime. DELETE (or DELETE /faults, or a site's reset)
   * clears it.
   */
  r.post('/latency', (req: Request, res: Response) => {
    const { site, meanMs, jitterMs = 0, seed = 42 } = req.body ?? {};
    if (site !== undefined && (typeof site !== 'string' || !site)) return bad(res, 'site must be a site name');
    if (!(Number.isFinite(meanMs) && meanMs >= 0 && meanMs <= 600_000)) return bad(res, 'meanMs must be 0–600000');
    if (!(Number.isFinite(jitterMs) && jitterMs >= 0 && jitterMs <= meanMs)) return bad(res, 'jitterMs must be 0–meanMs');
    if (!Number.isInteger(seed)) return bad(res, 'seed must be an integer');
    state.latency.set({ site, meanMs, jitterMs, seed });
    res.json({ latency: state.latency.list() });
  });

  r.get('/latency', (_req, res) => res.json({ latency: state.latency.list() }));

  r.delete('/latency', (req: Request, res: Response) => {
    state.latency.clear(typeof req.query.site === 'string' ? req.query.site : undefined);
    res.json({ ok: true });
  });

  r.get('/realtime/sockets', (req: Request, res: Response) => {
    res.json(state.realtime?.sockets(String(req.query.site ?? '')) ?? []);
  });

  /** Drop every realtime connection (all sites or one), as a restarting socketio process would. */
  r.post('/realtime/disconnect', (req: Request, res: Response) => {
    state.realtime?.disconnectAll(req.body?.site);
    res.json({ ok: true });
  });

  return r;
}

function clockView(state: EmulatorState) {
  const epoch = state.clock.nowEpochMicros();
  return {
    now: new Date(Math.floor(epoch / 1000)).toISOString(),
    sites: Object.fromEntries([...state.sites.values()].map((s) => [s.name, { time_zone: s.timeZone(), now: s.now() }])),
  };
}

