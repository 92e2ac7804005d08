/**
 * Python operators on the safe_eval interpreter's values: ordering comparisons, `in`, `is`,
 * arithmetic and sequence `+`/`*`, subscription and slicing (with frappe's `_getitem` guard against
 * `_` keys) and attribute access, where a plain object behaves like `frappe._dict`: dict methods
 * first, then keys, a missing one reading as None. The evaluator calls these for each AST node.
 */
import { SafeEvalError } from './errors.js';
import { isDict, isNumeric, isTuple, makeTuple, num, pyEquals, pyTypeName, typeError } from './values.js';

/** Python `<` and friends: only numbers, strings and same-kind sequences are ordered. */
export function pyCompareOrder(op: string, a: unknown, b: unknown): boolean {
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

export function pyContains(container: unknown, item: unknown): boolean {
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

export function pyIs(a: unknown, b: unknown): boolean {
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

export function binaryOp(op: string, a: unknown, b: unknown): unknown {
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
export function subscript(obj: unknown, key: unknown): unknown {
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

export function sliceOf(obj: unknown, lower: unknown, upper: unknown): unknown {
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

export function getAttr(obj: unknown, name: string): unknown {
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
