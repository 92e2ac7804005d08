/**
 * Python values on JS data for the safe_eval interpreter: None is null/undefined, bool is boolean,
 * int/float are numbers, str is string, list is an array, tuple a frozen array made by makeTuple,
 * dict a plain object. Holds the type tests every other part uses, plus Python's type names,
 * truthiness and `==`; the operators built on them are in operators.ts.
 */
import { SafeEvalError } from './errors.js';

const tuples = new WeakSet<readonly unknown[]>();

export function makeTuple(items: unknown[]): readonly unknown[] {
  const t = Object.freeze(items);
  tuples.add(t);
  return t;
}

export const isTuple = (v: unknown): boolean => Array.isArray(v) && tuples.has(v);

export function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isNumeric(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

export const num = (v: number | boolean): number => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

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

export function typeError(message: string): SafeEvalError {
  return new SafeEvalError(message, 'TypeError');
}
