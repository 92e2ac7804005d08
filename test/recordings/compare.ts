/**
 * Compare a recorded Frappe answer with the emulator's, by the rules of the recordings' README
 * ("How a replay should compare", ../shared/recordings/frappe-v15.55.1/README.md):
 *
 * - exactly: key sets (a key that is absent is absent), list lengths and order, JSON types, and
 *   every value that was sent or follows from what was sent;
 * - by shape: generated names (naming-series numbers, 10-character hashes, HD Ticket integers),
 *   datetimes (`YYYY-MM-DD HH:MM:SS.ffffff`, microseconds dropped only when zero), `opening_time`, `exc`,
 *   `__frappe_exc_id`, `first_response_time`, a social login's `userid`, and the secrets the recording blanked out.
 *
 * Generated names are mapped in order of appearance: the first time a recorded name meets an
 * emulator name at the same place, the pair is learnt (`Substitutions`); afterwards the recorded
 * name stands for that emulator name, in later requests and in later comparisons — including
 * inside texts such as `exception` and `_server_messages`.
 */

export interface Difference {
  /** JSON path of the value, `$` being the compared root. */
  path: string;
  problem: string;
  recorded?: unknown;
  actual?: unknown;
}

/** A datetime as Frappe writes it: naive, microseconds present unless zero. */
export const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$/;
const DATETIME_IN_TEXT = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{6})?/g;
/** Naming-series names such as `CRM-LEAD-2026-00038`. */
const SERIES = /^([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d{4}-)(\d{3,})$/;
const SERIES_IN_TEXT = /\b[A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d{4}-\d{3,}\b/g;
/** `frappe.generate_hash(length=10)` names: lower-case base 36. */
const HASH = /^[a-z0-9]{10}$/;
const HASH_IN_TEXT = /(?<![A-Za-z0-9_-])[a-z0-9]{10}(?![A-Za-z0-9_-])/g;
/** A secret the recording replaced, e.g. `<ticket-key>`. */
const SECRET = /^<[a-z][a-z-]*>$/;
const EXC_ID = /^[0-9a-f]{56}$/;

/** Keys whose values are names of documents (a hash there is a name even without a digit). */
const NAME_KEYS = new Set(['name', 'parent', 'docname', 'reference_name', 'document_name', 'link_name']);
/** By shape only. `userid`: the 39-character hash User.validate gives the "frappe" social login. */
const SHAPE_ONLY = new Set(['exc', '__frappe_exc_id', 'first_response_time', 'userid']);
const SOCIAL_LOGIN_ID = /^[0-9a-f]{39}$/;
/** Times the README lists as varying between runs: by shape, `H:MM:SS` with up to 6 fractional digits. */
const TIME_KEYS = new Set(['opening_time']);
const TIME = /^\d{1,2}:\d{2}:\d{2}(\.\d{1,6})?$/;

export function isGeneratedName(value: string, key?: string): boolean {
  if (SERIES.test(value)) return true;
  // A hash has a digit almost always; without one it is a name only where names go.
  return HASH.test(value) && (/\d/.test(value) || (key !== undefined && NAME_KEYS.has(key)));
}

function sameNameShape(recorded: string | number, actual: unknown): boolean {
  if (typeof recorded === 'number') return typeof actual === 'number' && Number.isInteger(actual);
  if (typeof actual !== 'string') return false;
  const series = SERIES.exec(recorded);
  if (series) return actual.startsWith(series[1]) && SERIES.test(actual);
  return HASH.test(actual);
}

/** Recorded → emulator values: generated names, datetimes and secrets, learnt in order of appearance. */
export class Substitutions {
  private readonly forward = new Map<string, string | number>();
  private readonly backward = new Map<string, string>();

  private static key(v: string | number): string {
    return `${typeof v}:${v}`;
  }

  has(recorded: string | number): boolean {
    return this.forward.has(Substitutions.key(recorded));
  }

  get(recorded: string | number): string | number | undefined {
    return this.forward.get(Substitutions.key(recorded));
  }

  /**
   * Learn `recorded` → `actual`. Returns a problem when `recorded` already stands for something
   * else, or (for names) when `actual` already stands for another recorded name.
   */
  learn(recorded: string | number, actual: string | number, opts: { unique?: boolean } = {}): string | null {
    const k = Substitutions.key(recorded);
    const known = this.forward.get(k);
    if (known !== undefined) return known === actual ? null : `stands for ${JSON.stringify(known)} since its first appearance`;
    const back = Substitutions.key(actual);
    if (opts.unique && this.backward.has(back) && this.backward.get(back) !== k) {
      return `the emulator gave the same name to ${this.backward.get(back)!.replace(/^\w+:/, '')}`;
    }
    this.forward.set(k, actual);
    if (opts.unique) this.backward.set(back, k);
    return null;
  }

  /** Every learnt string pair, longest recorded value first (so no pair rewrites part of another). */
  pairs(): [string, string][] {
    const out: [string, string][] = [];
    for (const [k, v] of this.forward) if (k.startsWith('string:')) out.push([k.slice(7), String(v)]);
    return out.sort((a, b) => b[0].length - a[0].length);
  }

  /** Numeric names (HD Ticket) learnt so far. */
  numbers(): [number, number][] {
    const out: [number, number][] = [];
    for (const [k, v] of this.forward) if (k.startsWith('number:') && typeof v === 'number') out.push([Number(k.slice(7)), v]);
    return out;
  }

  /**
   * Rewrite a recorded request string: every learnt value is replaced (datetimes also in their
   * ISO-8601 `T` form, which a case sends on purpose).
   */
  text(s: string): string {
    let out = s;
    for (const [from, to] of this.pairs()) {
      if (!out.includes(from) && !(DATETIME.test(from) && out.includes(from.replace(' ', 'T')))) continue;
      out = out.split(from).join(to);
      if (DATETIME.test(from)) out = out.split(from.replace(' ', 'T')).join(to.replace(' ', 'T'));
    }
    return out;
  }
}

export interface CompareRules {
  subs: Substitutions;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Match a recorded text against the emulator's: literal parts exactly; learnt names and datetimes
 * as the emulator's; names and datetimes not seen before by shape (and learnt from the match).
 */
export function compareText(recorded: string, actual: string, subs: Substitutions): string | null {
  type Part = { lit: string } | { kind: 'datetime' | 'series' | 'hash'; recorded: string };
  const tokens: { index: number; text: string; kind: 'datetime' | 'series' | 'hash' }[] = [];
  for (const [re, kind] of [[DATETIME_IN_TEXT, 'datetime'], [SERIES_IN_TEXT, 'series'], [HASH_IN_TEXT, 'hash']] as const) {
    for (const m of recorded.matchAll(re)) {
      if (kind === 'hash' && !/\d/.test(m[0])) continue;
      if (tokens.some((t) => m.index! < t.index + t.text.length && t.index < m.index! + m[0].length)) continue;
      tokens.push({ index: m.index!, text: m[0], kind });
    }
  }
  tokens.sort((a, b) => a.index - b.index);
  const parts: Part[] = [];
  let at = 0;
  for (const t of tokens) {
    if (t.index > at) parts.push({ lit: recorded.slice(at, t.index) });
    const known = subs.get(t.text);
    parts.push(known !== undefined ? { lit: String(known) } : { kind: t.kind, recorded: t.text });
    at = t.index + t.text.length;
  }
  if (at < recorded.length) parts.push({ lit: recorded.slice(at) });
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const shape = { datetime: '(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{6})?)', series: '([A-Z][A-Z0-9-]*-\\d{4}-\\d{3,})', hash: '([a-z0-9]{10})' };
  const re = new RegExp(`^${parts.map((p) => ('lit' in p ? esc(p.lit) : shape[p.kind])).join('')}$`, 's');
  const m = re.exec(actual);
  if (!m) return 'text differs';
  let g = 1;
  for (const p of parts) {
    if ('lit' in p) continue;
    const got = m[g++];
    if (p.kind === 'datetime') subs.learn(p.recorded, got);
    else if (p.kind === 'series' && !sameNameShape(p.recorded, got)) return `name ${got} is not shaped like ${p.recorded}`;
    else {
      const problem = subs.learn(p.recorded, got, { unique: true });
      if (problem) return `${p.recorded} ${problem}`;
    }
  }
  return null;
}

/** `_server_messages`: a JSON list of JSON-encoded message objects. */
function decodeServerMessages(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    const list = JSON.parse(v) as unknown;
    return Array.isArray(list) ? list.map((m) => (typeof m === 'string' ? (JSON.parse(m) as unknown) : m)) : list;
  } catch {
    return v;
  }
}

export function compare(recorded: unknown, actual: unknown, rules: CompareRules, path = '$', key?: string): Difference[] {
  const out: Difference[] = [];
  const diff = (problem: string) => out.push({ path, problem, recorded, actual });
  const { subs } = rules;

  if (key === '_server_messages' && typeof recorded === 'string' && typeof actual === 'string') {
    return compare(decodeServerMessages(recorded), decodeServerMessages(actual), rules, `${path}(decoded)`, '_server_messages[]');
  }
  if (key !== undefined && SHAPE_ONLY.has(key)) {
    if (typeOf(recorded) !== typeOf(actual)) diff(`type ${typeOf(actual)}, recorded ${typeOf(recorded)}`);
    else if (key === '__frappe_exc_id' && typeof actual === 'string' && !EXC_ID.test(actual)) diff('not a 56-character hex id');
    else if (key === 'userid' && typeof actual === 'string' && !SOCIAL_LOGIN_ID.test(actual)) diff('not a 39-character hex id');
    return out;
  }
  if (typeOf(recorded) !== typeOf(actual)) {
    diff(`type ${typeOf(actual)}, recorded ${typeOf(recorded)}`);
    return out;
  }
  if (typeof recorded === 'string') {
    const a = actual as string;
    if (SECRET.test(recorded)) return out; // a blanked secret: any string
    if (key !== undefined && TIME_KEYS.has(key) && TIME.test(recorded)) {
      if (!TIME.test(a)) diff('not a time H:MM:SS[.ffffff]');
      return out;
    }
    if (DATETIME.test(recorded)) {
      if (!DATETIME.test(a)) diff('not a datetime YYYY-MM-DD HH:MM:SS[.ffffff]');
      else if (a.endsWith('.000000')) diff('zero microseconds are dropped by Frappe');
      else subs.learn(recorded, a);
      return out;
    }
    if (isGeneratedName(recorded, key)) {
      const known = subs.get(recorded);
      if (known !== undefined) {
        if (known !== a) diff(`expected ${JSON.stringify(known)} (what ${recorded} stands for)`);
      } else if (!sameNameShape(recorded, a)) diff('not shaped like the recorded generated name');
      else {
        const problem = subs.learn(recorded, a, { unique: true });
        if (problem) diff(problem);
      }
      return out;
    }
    if (recorded !== a) {
      const problem = compareText(recorded, a, subs);
      if (problem) diff(problem);
    }
    return out;
  }
  if (typeof recorded === 'number') {
    const a = actual as number;
    if (key === 'name' && Number.isInteger(recorded)) {
      const known = subs.get(recorded);
      if (known !== undefined) {
        if (known !== a) diff(`expected ${known} (what ${recorded} stands for)`);
      } else if (!Number.isInteger(a)) diff('not an integer name');
      else {
        const problem = subs.learn(recorded, a, { unique: true });
        if (problem) diff(problem);
      }
      return out;
    }
    if (recorded !== a) diff('value differs');
    return out;
  }
  if (recorded === null || typeof recorded === 'boolean') {
    if (recorded !== actual) diff('value differs');
    return out;
  }
  if (Array.isArray(recorded)) {
    const a = actual as Json[];
    if (recorded.length !== a.length) diff(`${a.length} items, recorded ${recorded.length}`);
    const n = Math.min(recorded.length, a.length);
    // A list of hashes (frappe.client.insert_many's answer) is a list of names, letters-only ones included.
    const names = recorded.length > 0 && recorded.every((v) => typeof v === 'string' && HASH.test(v)) && recorded.some((v) => /\d/.test(String(v)));
    for (let i = 0; i < n; i++) out.push(...compare(recorded[i], a[i], rules, child(path, i), names ? 'name' : key));
    return out;
  }
  const r = recorded as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  // A key may hold a learnt name (`_link_titles`: "CRM Lead::CRM-LEAD-2026-00038"): it stands for the emulator's.
  const mapped = new Map(Object.keys(r).map((k) => [k, rules.subs.text(k)]));
  const recordedKeys = new Set(mapped.values());
  for (const [k, ak] of mapped) if (!(ak in a)) out.push({ path: child(path, k), problem: 'missing key', recorded: r[k] });
  for (const k of Object.keys(a)) if (!recordedKeys.has(k)) out.push({ path: child(path, k), problem: 'unexpected key', actual: a[k] });
  for (const [k, ak] of mapped) if (ak in a) out.push(...compare(r[k], a[ak], rules, child(path, k), k));
  return out;
}

/** One line per difference, values cut short (no secrets are in recordings or emulator answers we compare). */
export function describe(diffs: Difference[], max = 25): string {
  const cut = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? 'absent' : s.length > 160 ? `${s.slice(0, 157)}...` : s;
  };
  const lines = diffs.slice(0, max).map((d) => `  ${d.path}: ${d.problem}${'recorded' in d ? ` | recorded ${cut(d.recorded)}` : ''}${'actual' in d ? ` | emulator ${cut(d.actual)}` : ''}`);
  if (diffs.length > max) lines.push(`  … ${diffs.length - max} more`);
  return lines.join('\n');
}
