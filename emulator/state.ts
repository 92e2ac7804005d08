/**
 * What one emulator process holds: its sites, the shared clock, injected faults and options.
 */
import type { Response } from 'express';
import { Clock } from './core/datetime.js';
import type { RealtimeMessage, Site } from './core/site.js';
import { Latency } from './latency.js';

export interface EmulatorOptions {
  /** `bench serve --site X`: every request goes to this site, whatever its Host header. */
  serveSite?: string;
  /** common_site_config `default_site`: the realtime server's site for localhost connections. */
  defaultSite?: string;
  /** common_site_config `ignore_csrf`. */
  ignoreCsrf?: boolean;
  /** Log lines (unhandled errors); silent by default in tests. */
  log?: (line: string) => void;
}

export type FaultMode = 'error' | 'timeout' | 'reset' | 'delay';

export interface FaultRule {
  /** Site name; all sites when absent. */
  site?: string;
  /** Substring of `METHOD /path` the rule applies to; every request when absent. */
  match?: string;
  mode: FaultMode;
  /** HTTP status for mode `error` (500, 502, 503, 429, …). */
  status: number;
  /** Fail this many matching requests, then stop. */
  count?: number;
  /** Fail this share (0–1) of matching requests, drawn from a seeded generator. */
  rate?: number;
  retryAfterSec?: number;
  /** Mode `delay`: answer normally, this many ms late (a site slower than this process). */
  delayMs?: number;
}

export type RealtimeMode = 'normal' | 'drop' | 'down';

export class Faults {
  private rules: FaultRule[] = [];
  private seed = 42;
  realtime: RealtimeMode = 'normal';
  /**
   * Subscriptions whose permission callback has answered but whose room join is held back: a
   * realtime server slower than the site (the callback is one HTTP round trip per subscribe, and
   * Frappe tells the client nothing when it joins). Released in order when holding stops.
   */
  private heldJoins: (() => void)[] | null = null;

  set(rules: FaultRule[], seed = 42): void {
    this.rules = rules.map((r) => ({ ...r }));
    this.seed = seed;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
    this.realtime = 'normal';
    this.holdJoins(false);
  }

  get joinsHeld(): boolean {
    return this.heldJoins !== null;
  }

  /** Start holding room joins, or stop and perform the held ones. */
  holdJoins(hold: boolean): void {
    if (hold) {
      this.heldJoins ??= [];
      return;
    }
    const held = this.heldJoins ?? [];
    this.heldJoins = null;
    for (const join of held) join();
  }

  /** Join now, or later if joins are held. */
  join(perform: () => void): void {
    if (this.heldJoins) this.heldJoins.push(perform);
    else perform();
  }

  /** The rule that fails this request, if any (consumes one of a rule's `count`). */
  pick(site: string, method: string, path: string): FaultRule | null {
    const key = `${method} ${path}`;
    for (const rule of this.rules) {
      if (rule.site && rule.site !== site) continue;
      if (rule.match && !key.includes(rule.match)) continue;
      if (rule.count !== undefined) {
        if (rule.count <= 0) continue;
        rule.count -= 1;
        return rule;
      }
      if (rule.rate !== undefined) {
        if (this.random() < rule.rate) return rule;
        continue;
      }
      return rule;
    }
    return null;
  }

  /** mulberry32: reproducible fault patterns for a given seed. */
  private random(): number {
    let t = (this.seed += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export interface RealtimeHub {
  emit(site: string, msg: RealtimeMessage): void;
  /** Connected sockets of a site with their rooms (for tests; Frappe has no such view). */
  sockets(site: string): { id: string; user: string; user_type: string | null; rooms: string[]; pending: number }[];
  disconnectAll(site?: string): void;
}

export class EmulatorState {
  readonly sites = new Map<string, Site>();
  readonly clock = new Clock();
  readonly faults = new Faults();
  readonly latency = new Latency();
  readonly hungResponses = new Set<Response>();
  realtime: RealtimeHub | null = null;
  /** Base URL the server listens on, once listening. */
  url = '';

  constructor(readonly options: EmulatorOptions) {}

  log(line: string): void {
    this.options.log?.(line);
  }

  /** Realtime sink handed to every site: events reach sockets unless realtime is dropped or down. */
  readonly sink = (site: string, msg: RealtimeMessage): void => {
    if (this.faults.realtime !== 'normal') return;
    this.realtime?.emit(site, msg);
  };
}
