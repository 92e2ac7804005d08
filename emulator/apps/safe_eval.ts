/**
 * The Python-expression subset that Frappe apps feed to `frappe.safe_eval`.
 *
 * Mirrors frappe/frappe:frappe/utils/safe_exec.py [v15] `safe_eval` as far as SLA conditions
 * need it: the code is NFKC-normalised, compiled by RestrictedPython in `eval` mode with empty
 * `__builtins__` plus WHITELISTED_SAFE_EVAL_GLOBALS (int, float, long, round), walrus is blocked
 * (`_validate_safe_eval_syntax`), names and attributes starting with `_` are refused
 * (RestrictedPython `check_name` / `_get_attr_for_eval`), `format`/`format_map` are
 * UNSAFE_ATTRIBUTES, and subscript keys starting with `_` raise (`_getitem`).
 *
 * Values use Python semantics on JS data: None ↔ null/undefined, bool ↔ boolean, int/float ↔
 * number, str ↔ string, list ↔ array, tuple ↔ frozen array created here, dict ↔ plain object.
 * Plain objects behave like `frappe._dict` (what `doc.as_dict()` returns): a missing attribute
 * reads as None, while `.get()` and the other dict methods win over same-named keys, as Python's
 * class attributes win over `_dict.__getattr__`.
 *
 * This is a tree-walking interpreter; JS `eval`/`Function` are never used.
 */

/** Why an expression was refused or failed; `pyType` is the Python exception it stands for. */
export class SafeEvalError extends Error {
  readonly pyType: string;

  constructor(message: string, pyType = 'SyntaxError') {
    super(message);
    this.name = 'SafeEvalError';
    this.pyType = pyType;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokKind = 'num' | 'str' | 'name' | 'op' | 'newline' | 'end';

interface Token {
  kind: TokKind;
  value: string;
  /** Literal payload: parsed number or decoded string. */
  literal?: number | string;
  pos: number;
}

const KEYWORDS = new Set([
  'and', 'or', 'not', 'in', 'is', 'if', 'else', 'True', 'False', 'None', 'lambda', 'for',
  'async', 'await', 'yield', 'import', 'from', 'as', 'def', 'class', 'return', 'del', 'pass',
  'raise', 'try', 'except', 'finally', 'while', 'with', 'global', 'nonlocal', 'assert',
  'break', 'continue', 'elif',
]);

// Longest first so that `**` wins over `*`, `//` over `/`, etc.
const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...',
  '**', '//', '==', '!=', '<=', '>=', ':=', '->', '<<', '>>', '+=', '-=', '*=', '/=', '%=',
  '&=', '|=', '^=', '@=',
  '+', '-', '*', '/', '%', '<', '>', '(', ')', '[', ']', '{', '}', ',', ':', '.', '=', '@',
  '~', '&', '|', '^', ';',
];

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_]/u;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\f' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      // explicit line continuation
      i += 2;
      continue;
    }
    if (c === '\n') {
      // Inside brackets a newline is whitespace (implicit line joining); outside, the
      // expression must be over.
      if (depth === 0) tokens.push({ kind: 'newline', value: '\n', pos: i });
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)/.exec(
        src.slice(i),
      );
      const text = m ? m[0] : c;
      if (/[jJ]/.test(src[i + text.length] ?? '')) throw new SafeEvalError('complex numbers are not supported');
      const clean = text.replace(/_/g, '');
      const value = Number(clean);
      if (Number.isNaN(value)) throw new SafeEvalError(`invalid number literal '${text}'`);
      tokens.push({ kind: 'num', value: text, literal: value, pos: i });
      i += text.length;
      continue;
    }
    // String literal, possibly with a prefix.
    const strMatch = /^([rRbBuUfF]{0,2})(['"])/.exec(src.slice(i));
    if (strMatch) {
      const prefix = strMatch[1].toLowerCase();
      if (prefix.includes('f')) throw new SafeEvalError('f-strings are not allowed');
      if (prefix.includes('b')) throw new SafeEvalError('bytes literals are not supported');
      const raw = prefix.includes('r');
      const start = i;
      i += strMatch[1].length;
      const quote = src[i];
      const triple = src.startsWith(quote.repeat(3), i);
      const delim = triple ? quote.repeat(3) : quote;
      i += delim.length;
      let out = '';
      for (;;) {
        if (i >= src.length) throw new SafeEvalError('unterminated string literal');
        if (src.startsWith(delim, i)) {
          i += delim.length;
          break;
        }
        const ch = src[i];
        if (ch === '\n' && !triple) throw new SafeEvalError('unterminated string literal');
        if (ch === '\\') {
          if (raw) {
            out += ch + (src[i + 1] ?? '');
            i += 2;
            continue;
          }
          const [text, used] = decodeEscape(src, i);
          out += text;
          i += used;
          continue;
        }
        out += ch;
        i++;
      }
      tokens.push({ kind: 'str', value: src.slice(start, i), literal: out, pos: start });
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < src.length && IDENT_PART.test(src[j])) j++;
      tokens.push({ kind: 'name', value: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new SafeEvalError(`invalid character '${c}' at position ${i}`);
    if (op === '(' || op === '[' || op === '{') depth++;
    if (op === ')' || op === ']' || op === '}') depth = Math.max(0, depth - 1);
    tokens.push({ kind: 'op', value: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', value: '', pos: src.length });
  return tokens;
}

/** A backslash escape inside a non-raw string: returns the text and how many chars it used. */
function decodeEscape(src: string, i: number): [string, number] {
  const n = src[i + 1];
  const simple: Record<string, string> = {
    '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '',
  };
  if (n !== undefined && n in simple) return [simple[n], 2];
  const hex = (len: number): [string, number] => {
    const digits = src.slice(i + 2, i + 2 + len);
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(digits)) throw new SafeEvalError('invalid escape sequence');
    return [String.fromCodePoint(parseInt(digits, 16)), 2 + len];
  };
  if (n === 'x') return hex(2);
  if (n === 'u') return hex(4);
  if (n === 'U') return hex(8);
  if (n !== undefined && /[0-7]/.test(n)) {
    const m = /^[0-7]{1,3}/.exec(src.slice(i + 1));
    const digits = m ? m[0] : n;
    return [String.fromCodePoint(parseInt(digits, 8)), 1 + digits.length];
  }
  // Python keeps unknown escapes verbatim (with a warning).
  return ['\\' + (n ?? ''), n === undefined ? 1 : 2];
}

// ---------------------------------------------------------------------------------------------
// AST

type Node =
  | { t: 'const'; value: unknown }
  | { t: 'name'; id: string }
  | { t: 'list'; items: Node[] }
  | { t: 'tuple'; items: Node[] }
  | { t: 'dict'; keys: Node[]; values: Node[] }
  | { t: 'attr'; obj: Node; name: string }
  | { t: 'sub'; obj: Node; index: Node }
  | { t: 'slice'; obj: Node; lower: Node | null; upper: Node | null }
  | { t: 'call'; fn: Node; args: Node[] }
  | { t: 'unary'; op: string; operand: Node }
  | { t: 'bin'; op: string; left: Node; right: Node }
  | { t: 'bool'; op: 'and' | 'or'; values: Node[] }
  | { t: 'not'; operand: Node }
  | { t: 'compare'; first: Node; ops: string[]; rest: Node[] }
  | { t: 'ifexp'; test: Node; body: Node; orelse: Node };

class Parser {
  private i = 0;

  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    this.skipNewlines();
    if (this.peek().kind === 'end') throw new SafeEvalError('empty expression');
    const node = this.expression();
    const top = this.maybeTupleTail(node, []);
    this.skipNewlines();
    const t = this.peek();
    if (t.kind !== 'end') this.unexpected(t);
    return top;
  }

  // -- helpers -------------------------------------------------------------------------------

  private peek(offset = 0): Token {
    return this.toks[Math.min(this.i + offset, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private isOp(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.value === value;
  }

  private isKw(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'name' && t.value === value;
  }

  private expectOp(value: string): void {
    const t = this.next();
    if (t.kind !== 'op' || t.value !== value) this.unexpected(t, `expected '${value}'`);
  }

  private skipNewlines(): void {
    while (this.peek().kind === 'newline') this.next();
  }

  /** Turn a stray token into the clearest refusal we can give. */
  private unexpected(t: Token, hint?: string): never {
    if (t.kind === 'op') {
      if (t.value === '=') throw new SafeEvalError('assignments are not allowed in an expression');
      if (t.value === ':=') throw new SafeEvalError('Operation not allowed: assignment expressions (:=)');
      if (/^(\*\*|\/\/|>>|<<|[-+*\/%&|^@])=$/.test(t.value)) {
        throw new SafeEvalError('augmented assignments are not allowed in an expression');
      }
      if (t.value === ';') throw new SafeEvalError('only a single expression is allowed');
    }
    if (t.kind === 'newline') throw new SafeEvalError('only a single expression is allowed');
    if (t.kind === 'name') {
      if (t.value === 'for') throw new SafeEvalError('comprehensions are not allowed');
      if (t.value === 'import' || t.value === 'from') throw new SafeEvalError('imports are not allowed');
      if (t.value === 'lambda') throw new SafeEvalError('lambda is not allowed');
    }
    const what = t.kind === 'end' ? 'end of expression' : `'${t.value}'`;
    throw new SafeEvalError(`invalid syntax: unexpected ${what} at position ${t.pos}${hint ? ` (${hint})` : ''}`);
  }

  // -- grammar (Python's, restricted) --------------------------------------------------------

  private expression(): Node {
    if (this.isKw('lambda')) throw new SafeEvalError('lambda is not allowed');
    if (this.isKw('yield') || this.isKw('await')) throw new SafeEvalError(`'${this.peek().value}' is not allowed`);
    if (this.isOp('*') || this.isOp('**')) throw new SafeEvalError('starred expressions are not supported');
    const body = this.disjunction();
    if (this.isOp(':=')) throw new SafeEvalError('Operation not allowed: assignment expressions (:=)');
    if (this.isKw('if')) {
      this.next();
      const test = this.disjunction();
      if (!this.isKw('else')) this.unexpected(this.peek(), "expected 'else'");
      this.next();
      const orelse = this.expression();
      return { t: 'ifexp', test, body, orelse };
    }
    return body;
  }

  /** `a, b` at top level or inside parentheses makes a tuple. */
  private maybeTupleTail(first: Node, stops: string[]): Node {
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.next();
      const t = this.peek();
      if (t.kind === 'end' || t.kind === 'newline' || (t.kind === 'op' && stops.includes(t.value))) break;
      items.push(this.expression());
    }
    return { t: 'tuple', items };
  }

  private disjunction(): Node {
    const first = this.conjunction();
    if (!this.isKw('or')) return first;
    const values = [first];
    while (this.isKw('or')) {
      this.next();
      values.push(this.conjunction());
    }
    return { t: 'bool', op: 'or', values };
  }

  private conjunction(): Node {
    const first = this.inversion();
    if (!this.isKw('and')) return first;
    const values = [first];
    while (this.isKw('and')) {
      this.next();
      values.push(this.inversion());
    }
    return { t: 'bool', op: 'and', values };
  }

  private inversion(): Node {
    if (this.isKw('not')) {
      this.next();
      return { t: 'not', operand: this.inversion() };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const first = this.arith();
    const ops: string[] = [];
    const rest: Node[] = [];
    for (;;) {
      const t = this.peek();
      let op: string | null = null;
      if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)) {
        op = t.value;
        this.next();
      } else if (this.isKw('in')) {
        op = 'in';
        this.next();
      } else if (this.isKw('not') && this.isKw('in', 1)) {
        op = 'not in';
        this.next();
        this.next();
      } else if (this.isKw('is')) {
        this.next();
        if (this.isKw('not')) {
          this.next();
          op = 'is not';
        } else {
          op = 'is';
        }
      }
      if (!op) break;
      ops.push(op);
      rest.push(this.arith());
    }
    return ops.length ? { t: 'compare', first, ops, rest } : first;
  }

  private arith(): Node {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && (t.value === '+' || t.value === '-')) {
        this.next();
        left = { t: 'bin', op: t.value, left, right: this.term() };
        continue;
      }
      if (t.kind === 'op' && ['|', '&', '^', '<<', '>>'].includes(t.value)) {
        throw new SafeEvalError(`bitwise operator '${t.value}' is not supported`);
      }
      return left;
    }
  }

  private term(): Node {
    let left = this.factor();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && ['*', '/', '%', '//'].includes(t.value)) {
        this.next();
        left = { t: 'bin', op: t.value, left, right: this.factor() };
        continue;
      }
      if (t.kind === 'op' && t.value === '@') throw new SafeEvalError("operator '@' is not supported");
      return left;
    }
  }

  private factor(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
      this.next();
      return { t: 'unary', op: t.value, operand: this.factor() };
    }
    if (t.kind === 'op' && t.value === '~') throw new SafeEvalError("operator '~' is not supported");
    return this.power();
  }

  private power(): Node {
    const base = this.primary();
    if (this.isOp('**')) {
      this.next();
      return { t: 'bin', op: '**', left: base, right: this.factor() };
    }
    return base;
  }

  private primary(): Node {
    let node = this.atom();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.kind !== 'name' || KEYWORDS.has(t.value)) this.unexpected(t, 'expected an attribute name');
        checkAttrName(t.value);
        node = { t: 'attr', obj: node, name: t.value };
      } else if (this.isOp('(')) {
        this.next();
        node = { t: 'call', fn: node, args: this.callArgs() };
      } else if (this.isOp('[')) {
        this.next();
        node = this.subscript(node);
      } else {
        return node;
      }
    }
  }

  private callArgs(): Node[] {
    const args: Node[] = [];
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) throw new SafeEvalError('argument unpacking is not supported');
      if (this.peek().kind === 'name' && this.isOp('=', 1)) {
        throw new SafeEvalError('keyword arguments are not supported');
      }
      const arg = this.expression();
      if (this.isKw('for')) throw new SafeEvalError('comprehensions are not allowed');
      args.push(arg);
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')');
    return args;
  }

  private subscript(obj: Node): Node {
    let lower: Node | null = null;
    if (!this.isOp(':')) lower = this.expression();
    if (this.isOp(':')) {
      this.next();
      let upper: Node | null = null;
      if (!this.isOp(']') && !this.isOp(':')) upper = this.expression();
      if (this.isOp(':')) throw new SafeEvalError('slice steps are not supported');
      this.expectOp(']');
      return { t: 'slice', obj, lower, upper };
    }
    const index = this.maybeTupleTail(lower as Node, [']']);
    this.expectOp(']');
    return { t: 'sub', obj, index };
  }

  private atom(): Node {
    const t = this.next();
    if (t.kind === 'num') return { t: 'const', value: t.literal };
    if (t.kind === 'str') {
      // Adjacent literals concatenate, as in Python.
      let s = t.literal as string;
      while (this.peek().kind === 'str') s += this.next().literal as string;
      return { t: 'const', value: s };
    }
    if (t.kind === 'name') {
      if (t.value === 'True') return { t: 'const', value: true };
      if (t.value === 'False') return { t: 'const', value: false };
      if (t.value === 'None') return { t: 'const', value: null };
      if (KEYWORDS.has(t.value)) this.unexpected(t);
      checkName(t.value);
      return { t: 'name', id: t.value };
    }
    if (t.kind === 'op') {
      if (t.value === '(') {
        if (this.isOp(')')) {
          this.next();
          return { t: 'tuple', items: [] };
        }
        const first = this.expression();
        if (this.isKw('for')) throw new SafeEvalError('generator expressions are not allowed');
        const inner = this.maybeTupleTail(first, [')']);
        this.expectOp(')');
        return inner;
      }
      if (t.value === '[') {
        const items: Node[] = [];
        while (!this.isOp(']')) {
          items.push(this.expression());
          if (this.isKw('for')) throw new SafeEvalError('comprehensions are not allowed');
          if (!this.isOp(',')) break;
          this.next();
        }
        this.expectOp(']');
        return { t: 'list', items };
      }
      if (t.value === '{') {
        const keys: Node[] = [];
        const values: Node[] = [];
        while (!this.isOp('}')) {
          if (this.isOp('**')) throw new SafeEvalError('dict unpacking is not supported');
          const key = this.expression();
          if (!this.isOp(':')) {
            if (this.isKw('for')) throw new SafeEvalError('comprehensions are not allowed');
            throw new SafeEvalError('set literals are not supported');
          }
          this.next();
          const value = this.expression();
          if (this.isKw('for')) throw new SafeEvalError('comprehensions are not allowed');
          keys.push(key);
          values.push(value);
          if (!this.isOp(',')) break;
          this.next();
        }
        this.expectOp('}');
        return { t: 'dict', keys, values };
      }
    }
    this.unexpected(t);
  }
}

/** RestrictedPython `check_name`: a name may not start with `_`. */
function checkName(id: string): void {
  if (id.startsWith('_')) {
    throw new SafeEvalError(`"${id}" is an invalid variable name because it starts with "_"`);
  }
}

/** RestrictedPython attribute check plus frappe's UNSAFE_ATTRIBUTES (only `format*` can apply here). */
function checkAttrName(name: string): void {
  if (name.startsWith('_')) {
    throw new SafeEvalError(`"${name}" is an invalid attribute name because it starts with "_"`);
  }
  if (name === 'format' || name === 'format_map') throw new SafeEvalError(`${name} is an unsafe attribute`);
}

// ---------------------------------------------------------------------------------------------
// Python value semantics

const tuples = new WeakSet<readonly unknown[]>();

function makeTuple(items: unknown[]): readonly unknown[] {
  const t = Object.freeze(items);
  tuples.add(t);
  return t;
}

const isTuple = (v: unknown): boolean => Array.isArray(v) && tuples.has(v);

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumeric(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

const num = (v: number | boolean): number => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

/** Python's `type(x).__name__`, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (typeof v === 'function') return 'function';
  return 'dict';
}

/** Python truthiness. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  // NaN is truthy in Python too; only zero is false.
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'function') return true;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return Boolean(v);
}

/** Python `==`. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (isNumeric(a) && isNumeric(b)) return num(a) === num(b);
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    return a.every((x, k) => pyEquals(x, b[k]));
  }
  if (typeof a === 'function' || typeof b === 'function') return a === b;
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && pyEquals(a[k], b[k]));
  }
  return a === b;
}

function typeError(message: string): SafeEvalError {
  return new SafeEvalError(message, 'TypeError');
}

/** Python `<` and friends: only numbers, strings and same-kind sequences are ordered. */
function pyCompareOrder(op: string, a: unknown, b: unknown): boolean {
  const cmp = orderCmp(op, a, b);
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    default:
      return cmp >= 0;
  }
}

function orderCmp(op: string, a: unknown, b: unknown): number {
  if (isNumeric(a) && isNumeric(b)) {
    const x = num(a);
    const y = num(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
    const n = Math.min(a.length, b.length);
    for (let k = 0; k < n; k++) {
      if (!pyEquals(a[k], b[k])) return orderCmp(op, a[k], b[k]);
    }
    return a.length - b.length;
  }
  throw typeError(
    `'${op}' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`,
  );
}

function pyContains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      throw typeError(`'in <string>' requires string as left operand, not ${pyTypeName(item)}`);
    }
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (isDict(container)) {
    if (Array.isArray(item) && !isTuple(item)) throw typeError("unhashable type: 'list'");
    if (isDict(item)) throw typeError("unhashable type: 'dict'");
    return typeof item === 'string' && Object.prototype.hasOwnProperty.call(container, item);
  }
  throw typeError(`argument of type '${pyTypeName(container)}' is not iterable`);
}

function pyIs(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  return a === b;
}

function repeat(seq: unknown, times: number | boolean): unknown {
  const n = num(times);
  if (!Number.isInteger(n)) throw typeError(`can't multiply sequence by non-int of type 'float'`);
  const count = Math.max(0, n);
  if (typeof seq === 'string') return seq.repeat(count);
  const arr = seq as unknown[];
  const out: unknown[] = [];
  for (let k = 0; k < count; k++) out.push(...arr);
  return isTuple(arr) ? makeTuple(out) : out;
}

function binaryOp(op: string, a: unknown, b: unknown): unknown {
  const unsupported = () =>
    typeError(`unsupported operand type(s) for ${op}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
  if (op === '+') {
    if (isNumeric(a) && isNumeric(b)) return num(a) + num(b);
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
      return isTuple(a) ? makeTuple([...a, ...b]) : [...a, ...b];
    }
    if (typeof a === 'string' || typeof b === 'string') {
      throw typeError(`can only concatenate str (not "${pyTypeName(typeof a === 'string' ? b : a)}") to str`);
    }
    throw unsupported();
  }
  if (op === '*') {
    if (isNumeric(a) && isNumeric(b)) return num(a) * num(b);
    if ((typeof a === 'string' || Array.isArray(a)) && isNumeric(b)) return repeat(a, b);
    if ((typeof b === 'string' || Array.isArray(b)) && isNumeric(a)) return repeat(b, a);
    throw unsupported();
  }
  if (op === '%' && typeof a === 'string') {
    throw new SafeEvalError('printf-style string formatting is not supported', 'TypeError');
  }
  if (!isNumeric(a) || !isNumeric(b)) throw unsupported();
  const x = num(a);
  const y = num(b);
  switch (op) {
    case '-':
      return x - y;
    case '/':
      if (y === 0) throw new SafeEvalError('division by zero', 'ZeroDivisionError');
      return x / y;
    case '//':
      if (y === 0) throw new SafeEvalError('integer division or modulo by zero', 'ZeroDivisionError');
      return Math.floor(x / y);
    case '%': {
      if (y === 0) throw new SafeEvalError('integer modulo by zero', 'ZeroDivisionError');
      // Python's result takes the sign of the divisor.
      const r = x % y;
      return r !== 0 && r < 0 !== y < 0 ? r + y : r;
    }
    case '**':
      if (x === 0 && y < 0) throw new SafeEvalError('0.0 cannot be raised to a negative power', 'ZeroDivisionError');
      return x ** y;
    default:
      throw new SafeEvalError(`operator '${op}' is not supported`);
  }
}

function normIndex(len: number, index: unknown, what: string): number {
  if (!isNumeric(index) || !Number.isInteger(num(index))) {
    throw typeError(`${what} indices must be integers or slices, not ${pyTypeName(index)}`);
  }
  const k = num(index);
  const real = k < 0 ? len + k : k;
  if (real < 0 || real >= len) throw new SafeEvalError(`${what} index out of range`, 'IndexError');
  return real;
}

/** frappe's `_getitem` guard, then Python subscription. */
function subscript(obj: unknown, key: unknown): unknown {
  if (typeof key === 'string' && key.startsWith('_')) throw new SafeEvalError('Key starts with _');
  if (typeof obj === 'string') return obj[normIndex(obj.length, key, 'string')];
  if (Array.isArray(obj)) return obj[normIndex(obj.length, key, isTuple(obj) ? 'tuple' : 'list')];
  if (isDict(obj)) {
    if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(obj, key)) {
      const v = obj[key];
      return v === undefined ? null : v;
    }
    if (Array.isArray(key) && !isTuple(key)) throw typeError("unhashable type: 'list'");
    throw new SafeEvalError(typeof key === 'string' ? `'${key}'` : String(key), 'KeyError');
  }
  throw typeError(`'${pyTypeName(obj)}' object is not subscriptable`);
}

function sliceOf(obj: unknown, lower: unknown, upper: unknown): unknown {
  if (typeof obj !== 'string' && !Array.isArray(obj)) throw typeError(`'${pyTypeName(obj)}' object is not subscriptable`);
  const len = obj.length;
  const bound = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    if (!isNumeric(v) || !Number.isInteger(num(v))) {
      throw typeError('slice indices must be integers or None or have an __index__ method');
    }
    const k = num(v);
    return Math.min(Math.max(k < 0 ? len + k : k, 0), len);
  };
  const from = bound(lower, 0);
  const to = bound(upper, len);
  if (typeof obj === 'string') return obj.slice(from, Math.max(from, to));
  const out = obj.slice(from, Math.max(from, to));
  return isTuple(obj) ? makeTuple(out) : out;
}

/** `dict` methods that Python finds before `_dict.__getattr__` falls back to keys. */
const DICT_METHODS = new Set([
  'get', 'keys', 'values', 'items', 'copy', 'update', 'pop', 'popitem', 'setdefault', 'clear', 'fromkeys',
]);

function dictMethod(obj: Record<string, unknown>, name: string): (...args: unknown[]) => unknown {
  switch (name) {
    case 'get':
      return (...args: unknown[]) => {
        if (args.length < 1 || args.length > 2) {
          throw typeError(`get expected at most 2 arguments, got ${args.length}`);
        }
        const [key, dflt = null] = args;
        if (typeof key === 'string' && Object.prototype.hasOwnProperty.call(obj, key)) {
          const v = obj[key];
          return v === undefined ? null : v;
        }
        return dflt;
      };
    case 'keys':
      return () => Object.keys(obj);
    case 'values':
      return () => Object.values(obj).map((v) => (v === undefined ? null : v));
    case 'items':
      return () => Object.entries(obj).map(([k, v]) => makeTuple([k, v === undefined ? null : v]));
    case 'copy':
      return () => ({ ...obj });
    default:
      throw new SafeEvalError(`dict.${name}() is not supported in conditions`);
  }
}

function getAttr(obj: unknown, name: string): unknown {
  if (isDict(obj)) {
    if (DICT_METHODS.has(name)) return dictMethod(obj, name);
    // frappe._dict: missing keys read as None instead of raising AttributeError.
    if (Object.prototype.hasOwnProperty.call(obj, name)) {
      const v = obj[name];
      return v === undefined ? null : v;
    }
    return null;
  }
  throw new SafeEvalError(`'${pyTypeName(obj)}' object has no attribute '${name}'`, 'AttributeError');
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function evaluate(node: Node, names: Record<string, unknown>): unknown {
  switch (node.t) {
    case 'const':
      return node.value;
    case 'name': {
      if (!Object.prototype.hasOwnProperty.call(names, node.id)) {
        throw new SafeEvalError(`name '${node.id}' is not defined`, 'NameError');
      }
      const v = names[node.id];
      return v === undefined ? null : v;
    }
    case 'list':
      return node.items.map((n) => evaluate(n, names));
    case 'tuple':
      return makeTuple(node.items.map((n) => evaluate(n, names)));
    case 'dict': {
      const out: Record<string, unknown> = {};
      node.keys.forEach((k, idx) => {
        const key = evaluate(k, names);
        if (typeof key !== 'string') throw new SafeEvalError('only str keys are supported in dict literals', 'TypeError');
        out[key] = evaluate(node.values[idx], names);
      });
      return out;
    }
    case 'attr':
      return getAttr(evaluate(node.obj, names), node.name);
    case 'sub':
      return subscript(evaluate(node.obj, names), evaluate(node.index, names));
    case 'slice':
      return sliceOf(
        evaluate(node.obj, names),
        node.lower ? evaluate(node.lower, names) : null,
        node.upper ? evaluate(node.upper, names) : null,
      );
    case 'call': {
      const fn = evaluate(node.fn, names);
      if (typeof fn !== 'function') throw typeError(`'${pyTypeName(fn)}' object is not callable`);
      const args = node.args.map((a) => evaluate(a, names));
      const result = (fn as (...a: unknown[]) => unknown)(...args);
      return result === undefined ? null : result;
    }
    case 'unary': {
      const v = evaluate(node.operand, names);
      if (!isNumeric(v)) throw typeError(`bad operand type for unary ${node.op}: '${pyTypeName(v)}'`);
      return node.op === '-' ? -num(v) : num(v);
    }
    case 'bin':
      return binaryOp(node.op, evaluate(node.left, names), evaluate(node.right, names));
    case 'bool': {
      // Short-circuit and return the deciding operand, as Python does.
      let v: unknown = null;
      for (const part of node.values) {
        v = evaluate(part, names);
        if (node.op === 'and' ? !pyTruthy(v) : pyTruthy(v)) return v;
      }
      return v;
    }
    case 'not':
      return !pyTruthy(evaluate(node.operand, names));
    case 'compare': {
      // Chained: `a < b < c` is `a < b and b < c` with `b` evaluated once.
      let left = evaluate(node.first, names);
      for (let k = 0; k < node.ops.length; k++) {
        const right = evaluate(node.rest[k], names);
        if (!compareOnce(node.ops[k], left, right)) return false;
        left = right;
      }
      return true;
    }
    case 'ifexp':
      return pyTruthy(evaluate(node.test, names)) ? evaluate(node.body, names) : evaluate(node.orelse, names);
  }
}

function compareOnce(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return pyEquals(a, b);
    case '!=':
      return !pyEquals(a, b);
    case 'in':
      return pyContains(b, a);
    case 'not in':
      return !pyContains(b, a);
    case 'is':
      return pyIs(a, b);
    case 'is not':
      return !pyIs(a, b);
    default:
      return pyCompareOrder(op, a ?? null, b ?? null);
  }
}

/**
 * Evaluate a Python expression against `names` (the `eval_locals`/globals frappe passes).
 * Only functions reachable through `names` can be called.
 */
export function safeEval(expression: string, names: Record<string, unknown>): unknown {
  if (typeof expression !== 'string') throw new SafeEvalError('expression must be a string', 'TypeError');
  // safe_eval normalises first so that look-alike characters cannot smuggle `_` etc.
  const code = expression.normalize('NFKC');
  const ast = new Parser(tokenize(code)).parse();
  return evaluate(ast, names);
}

// ---------------------------------------------------------------------------------------------
// WHITELISTED_SAFE_EVAL_GLOBALS (frappe/utils/safe_exec.py [v15]): int, float, long, round.

function pyInt(v: unknown): number {
  if (isNumeric(v)) return Math.trunc(num(v));
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (!/^[+-]?\d+$/.test(s)) throw new SafeEvalError(`invalid literal for int() with base 10: '${v}'`, 'ValueError');
    return parseInt(s, 10);
  }
  throw typeError(`int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(v)}'`);
}

function pyFloat(v: unknown): number {
  if (isNumeric(v)) return num(v);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(s)) return Number.NaN;
    if (!/^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(e[+-]?\d+)?$/.test(s)) {
      throw new SafeEvalError(`could not convert string to float: '${v}'`, 'ValueError');
    }
    return Number(s.replace(/_/g, ''));
  }
  throw typeError(`float() argument must be a string or a real number, not '${pyTypeName(v)}'`);
}

/** Python's round(): half to even. */
function pyRound(v: unknown, ndigits?: unknown): number {
  if (!isNumeric(v)) throw typeError(`type ${pyTypeName(v)} doesn't define __round__ method`);
  const x = num(v);
  const digits = ndigits === undefined || ndigits === null ? 0 : pyInt(ndigits);
  const f = 10 ** digits;
  const scaled = x * f;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let r: number;
  if (Math.abs(diff - 0.5) < 1e-9) r = floor % 2 === 0 ? floor : floor + 1;
  else r = Math.round(scaled);
  return r / f;
}

export const SAFE_EVAL_BUILTINS: Readonly<Record<string, (...args: unknown[]) => unknown>> = Object.freeze({
  int: (v: unknown = 0) => pyInt(v),
  long: (v: unknown = 0) => pyInt(v),
  float: (v: unknown = 0) => pyFloat(v),
  round: (v: unknown, n?: unknown) => pyRound(v, n),
});
