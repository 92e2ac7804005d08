/**
 * The builtins `frappe.safe_eval` offers besides the caller's names: Python's int, long (an alias of
 * int), float and round, as SAFE_EVAL_BUILTINS for callers to merge into the names they pass.
 */
import { SafeEvalError } from './errors.js';
import { isNumeric, num, pyTypeName, typeError } from './values.js';

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
