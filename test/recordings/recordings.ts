/**
 * The recordings of a real Frappe 15.55.1 site (../shared/recordings/frappe-v15.55.1/, beside the
 * clone; README.md there says what they hold) and the order they were made in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const RECORDINGS_DIR = resolve(ROOT, '..', 'shared', 'recordings', 'frappe-v15.55.1');

export interface RestCase {
  case: string;
  what: string;
  request: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; body?: unknown };
  response: { status: number; headers: { 'content-type': string }; body: unknown };
}

export interface HandshakeCase {
  case: string;
  what: string;
  handshake: { url: string; namespace: string; path?: string; headers: Record<string, string> };
  result: { connected: boolean; error: { message: string; data: unknown } | null };
}

export interface RestAction {
  rest: { method: string; path: string; auth: string; body?: unknown };
  status: number;
  result?: unknown;
  exc_type?: string;
  rest_case?: string;
}

export type Action = { emit: unknown[] } | RestAction | { note: string };

export interface EventCase {
  case: string;
  what: string;
  actions: Action[];
  events: { event: string; data: unknown; socket?: 'admin' | 'restricted' }[];
  /** The lead read right after the case and 3 s later. */
  lead_after?: { immediately: Record<string, unknown>; after_3s: Record<string, unknown> };
  /** The lead's Version rows after the case, oldest first. */
  lead_versions?: { owner: string; creation: string; changed: unknown[][] }[];
}

export type RealtimeCase = HandshakeCase | EventCase;

export function isHandshake(c: RealtimeCase): c is HandshakeCase {
  return 'handshake' in c;
}

function readJsonl<T>(file: string): T[] {
  const path = join(RECORDINGS_DIR, file);
  if (!existsSync(path)) {
    throw new Error(
      `Recordings not found: ${path}. The replay needs ../shared/recordings/frappe-v15.55.1/ beside the clone ` +
        '(rest.jsonl, realtime.jsonl, README.md); CI checks shared/ out next to the repository.',
    );
  }
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export function loadRecordings(): { rest: RestCase[]; realtime: RealtimeCase[] } {
  return { rest: readJsonl<RestCase>('rest.jsonl'), realtime: readJsonl<RealtimeCase>('realtime.jsonl') };
}

export type Step = { kind: 'rest'; case: RestCase } | { kind: 'events'; case: EventCase };

/**
 * The run order. REST cases are in run order; an event case ran at the place of the REST case it
 * names (`rest_case`), or — when it names none — where its recorded datetimes put it: after the
 * last REST case whose answer is older. `rt-restricted-subscriptions` and `rt-doctype-unsubscribe`
 * (20:02:13 and 20:02:17) come after `desk-savedocs` (20:02:11), before `rt-lead-delete`, which
 * performs `lead-delete-202`, the last REST case.
 */
export function runOrder(rest: RestCase[], realtime: RealtimeCase[]): Step[] {
  const events = realtime.filter((c): c is EventCase => !isHandshake(c));
  const embedded = new Set<string>();
  for (const e of events) for (const a of e.actions) if ('rest_case' in a && a.rest_case) embedded.add(a.rest_case);
  const anchored = new Map<string, EventCase[]>();
  const before = (restCase: string, e: EventCase) => anchored.set(restCase, [...(anchored.get(restCase) ?? []), e]);
  // Event cases anchored by time: the REST case they ran before (see the recorded datetimes).
  const ANCHOR: Record<string, string> = {
    'rt-lead-insert': 'set-value', // 20:01:35.15; set-value's lead SLA starts 20:01:35.17
    'rt-lead-save-doc-room': 'communication-insert-received', // 20:01:40
    'rt-restricted-subscriptions': 'lead-delete-202', // 20:02:13
    'rt-doctype-unsubscribe': 'lead-delete-202', // 20:02:17
  };
  for (const e of events) {
    const first = e.actions.find((a): a is RestAction => 'rest_case' in a && Boolean(a.rest_case));
    const anchor = first?.rest_case ?? ANCHOR[e.case];
    if (!anchor) throw new Error(`event case ${e.case}: no place in the run order`);
    if (!rest.some((r) => r.case === anchor)) throw new Error(`event case ${e.case}: REST case ${anchor} not recorded`);
    before(anchor, e);
  }
  const steps: Step[] = [];
  for (const r of rest) {
    for (const e of anchored.get(r.case) ?? []) steps.push({ kind: 'events', case: e });
    if (!embedded.has(r.case)) steps.push({ kind: 'rest', case: r });
  }
  return steps;
}

/** Every case id in the order the replay reports them: REST and event cases by run order (the REST cases an event case performs just before it), then the handshakes. */
export function caseIds(rest: RestCase[], realtime: RealtimeCase[]): string[] {
  const ids: string[] = [];
  for (const step of runOrder(rest, realtime)) {
    if (step.kind === 'events') for (const a of step.case.actions) if ('rest_case' in a && a.rest_case) ids.push(a.rest_case);
    ids.push(step.case.case);
  }
  for (const c of realtime) if (isHandshake(c)) ids.push(c.case);
  return ids;
}
