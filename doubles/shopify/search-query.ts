/**
 * A subset of Shopify's search syntax for the `orders(query:)` argument
 * (shopify.dev/docs/api/usage/search-syntax): `field:value`, range comparators `field:>v`,
 * `>=`, `<`, `<=`, quoted values ('…' or "…"), implicit AND between terms, explicit `AND` / `OR`,
 * `NOT` / leading `-`, and parentheses.
 *
 * Filters (shopify.dev queries/orders, argument `query`): created_at, updated_at, processed_at,
 * id, name, email, financial_status, fulfillment_status, status, tag, sku, test. A bare word
 * matches name, email or customer name. Unknown fields are ignored and reported as a search
 * warning (Shopify answers "Invalid search field for this query." in `extensions.search`; that
 * shape is recalled, not captured — ASSUMED).
 */
import { parseTime } from './time.js';
import type { ShopifyOrder } from './types.js';

type Comparator = ':' | '>' | '>=' | '<' | '<=';

type Node =
  | { kind: 'term'; field: string | null; op: Comparator; value: string }
  | { kind: 'and' | 'or'; items: Node[] }
  | { kind: 'not'; item: Node };

export interface SearchWarning {
  field: string;
  message: string;
}

export interface CompiledSearch {
  matches(order: ShopifyOrder): boolean;
  warnings: SearchWarning[];
}

const KNOWN_FIELDS = new Set([
  'created_at',
  'updated_at',
  'processed_at',
  'id',
  'name',
  'email',
  'financial_status',
  'fulfillment_status',
  'status',
  'tag',
  'sku',
  'test',
]);

const TIME_FIELDS = new Set(['created_at', 'updated_at', 'processed_at']);

function tokenize(q: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else {
      // A word runs to whitespace or a paren, but quoted stretches may hold either.
      let word = '';
      while (i < q.length && !/\s/.test(q[i]) && q[i] !== '(' && q[i] !== ')') {
        if (q[i] === "'" || q[i] === '"') {
          const quote = q[i++];
          const end = q.indexOf(quote, i);
          if (end < 0) throw new Error(`unterminated quote in search query: ${q}`);
          word += quote + q.slice(i, end) + quote;
          i = end + 1;
        } else {
          word += q[i++];
        }
      }
      tokens.push(word);
    }
  }
  return tokens;
}

const unquote = (v: string): string => (/^(['"]).*\1$/.test(v) ? v.slice(1, -1) : v);

function parseTerm(word: string): Node {
  if (word.startsWith('-') && word.length > 1) return { kind: 'not', item: parseTerm(word.slice(1)) };
  const colon = word.indexOf(':');
  if (colon <= 0 || /^['"]/.test(word)) return { kind: 'term', field: null, op: ':', value: unquote(word) };
  const field = word.slice(0, colon).toLowerCase();
  let rest = word.slice(colon + 1);
  let op: Comparator = ':';
  for (const candidate of ['>=', '<=', '>', '<'] as const) {
    if (rest.startsWith(candidate)) {
      op = candidate;
      rest = rest.slice(candidate.length);
      break;
    }
  }
  return { kind: 'term', field, op, value: unquote(rest) };
}

function parse(tokens: string[]): Node {
  let pos = 0;
  const peek = () => tokens[pos];
  const orExpr = (): Node => {
    const items = [andExpr()];
    while (peek() === 'OR') {
      pos++;
      items.push(andExpr());
    }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  };
  const andExpr = (): Node => {
    const items = [unary()];
    while (pos < tokens.length && peek() !== ')' && peek() !== 'OR') {
      if (peek() === 'AND') pos++;
      items.push(unary());
    }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  };
  const unary = (): Node => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error('search query ended early');
    if (t === 'NOT') return { kind: 'not', item: unary() };
    if (t === '(') {
      const inner = orExpr();
      if (tokens[pos++] !== ')') throw new Error('unbalanced parentheses in search query');
      return inner;
    }
    return parseTerm(t);
  };
  const root = orExpr();
  if (pos < tokens.length) throw new Error(`unexpected '${tokens[pos]}' in search query`);
  return root;
}

/** Time bounds of a filter value: a date alone means that whole day in the shop's offset. */
function timeRange(value: string, utcOffset: string): { from: number; to: number } | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const from = Date.parse(`${value}T00:00:00${utcOffset}`);
    return { from, to: from + 86_400_000 - 1 };
  }
  const withZone = /([zZ]|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}${utcOffset}`;
  const at = Date.parse(withZone);
  if (Number.isNaN(at)) return null;
  const second = Math.floor(at / 1000) * 1000;
  return { from: second, to: second + 999 };
}

function compareTime(actualIso: string | null, op: Comparator, value: string, utcOffset: string): boolean | null {
  const range = timeRange(value, utcOffset);
  if (!range) return null;
  if (actualIso === null) return false;
  const t = parseTime(actualIso);
  switch (op) {
    case ':':
      return t >= range.from && t <= range.to;
    case '>':
      return t > range.to;
    case '>=':
      return t >= range.from;
    case '<':
      return t < range.from;
    case '<=':
      return t <= range.to;
  }
}

function compareId(id: string, op: Comparator, value: string): boolean | null {
  const raw = value.replace(/^gid:\/\/shopify\/Order\//, '');
  if (!/^\d+$/.test(raw)) return null;
  const a = BigInt(id);
  const b = BigInt(raw);
  return op === ':' ? a === b : op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b;
}

const eqi = (a: string | null | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();

function matchStatus(o: ShopifyOrder, value: string): boolean | null {
  switch (value.toLowerCase()) {
    case 'open':
      return o.closed_at === null && o.cancelled_at === null;
    case 'closed':
      return o.closed_at !== null;
    case 'cancelled':
      return o.cancelled_at !== null;
    case 'not_closed':
      return o.closed_at === null;
    case 'any':
      return true;
    default:
      return null;
  }
}

function matchFulfillment(o: ShopifyOrder, value: string): boolean | null {
  const s = o.fulfillment_status;
  switch (value.toLowerCase()) {
    case 'shipped':
    case 'fulfilled':
      return s === 'fulfilled';
    case 'partial':
      return s === 'partial';
    case 'unshipped':
    case 'unfulfilled':
      return s === null;
    case 'any':
      return true;
    default:
      return null;
  }
}

export function compileSearch(query: string | null | undefined, utcOffset: string): CompiledSearch {
  const warnings: SearchWarning[] = [];
  if (!query || !query.trim()) return { matches: () => true, warnings };
  const root = parse(tokenize(query.trim()));

  const warn = (field: string, message: string) => {
    if (!warnings.some((w) => w.field === field && w.message === message)) warnings.push({ field, message });
  };

  // Report unusable terms up front, not only when some order happens to be evaluated.
  const precheck = (n: Node): void => {
    switch (n.kind) {
      case 'and':
      case 'or':
        return n.items.forEach(precheck);
      case 'not':
        return precheck(n.item);
      case 'term':
        if (n.field !== null && !KNOWN_FIELDS.has(n.field)) warn(n.field, 'Invalid search field for this query.');
        else if (n.field && TIME_FIELDS.has(n.field) && !timeRange(n.value, utcOffset)) warn(n.field, `Invalid value for ${n.field}: ${n.value}`);
    }
  };
  precheck(root);

  /** null → the term could not be applied (reported as a warning and ignored). */
  const evalTerm = (o: ShopifyOrder, t: Extract<Node, { kind: 'term' }>): boolean | null => {
    if (t.field === null) {
      const v = t.value.toLowerCase();
      const hay = [o.name, o.email, o.customer?.first_name, o.customer?.last_name].map((s) => (s ?? '').toLowerCase());
      return hay.some((h) => h.includes(v));
    }
    if (!KNOWN_FIELDS.has(t.field)) {
      warn(t.field, 'Invalid search field for this query.');
      return null;
    }
    const f = t.field as string;
    const result = (() => {
      switch (f) {
        case 'created_at':
        case 'updated_at':
        case 'processed_at':
          return compareTime(o[f], t.op, t.value, utcOffset);
        case 'id':
          return compareId(o.id, t.op, t.value);
        case 'name':
          return eqi(o.name, t.value) || eqi(o.name.replace(/^#/, ''), t.value.replace(/^#/, ''));
        case 'email':
          return eqi(o.email, t.value);
        case 'financial_status':
          return eqi(o.financial_status, t.value);
        case 'fulfillment_status':
          return matchFulfillment(o, t.value);
        case 'status':
          return matchStatus(o, t.value);
        case 'tag':
          return o.tags.split(',').map((s) => s.trim()).some((tag) => eqi(tag, t.value));
        case 'sku':
          return o.line_items.some((l) => eqi(l.sku, t.value));
        case 'test':
          return String(o.test) === t.value.toLowerCase();
        default:
          return null;
      }
    })();
    if (result === null) warn(f, `Invalid value for ${f}: ${t.value}`);
    return result;
  };

  const evalNode = (o: ShopifyOrder, n: Node): boolean => {
    switch (n.kind) {
      case 'term':
        return evalTerm(o, n) ?? true;
      case 'and':
        return n.items.every((i) => evalNode(o, i));
      case 'or':
        return n.items.some((i) => evalNode(o, i));
      case 'not':
        return !evalNode(o, n.item);
    }
  };

  return { matches: (o) => evalNode(o, root), warnings };
}
