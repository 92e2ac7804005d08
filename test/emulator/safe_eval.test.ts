// Mirrors frappe/frappe:frappe/utils/safe_exec.py [v15] `safe_eval` (RestrictedPython eval mode,
// WHITELISTED_SAFE_EVAL_GLOBALS, `_getitem` guard, UNSAFE_ATTRIBUTES) on the subset SLA
// conditions use.
import { describe, it, expect } from 'vitest';
import { SAFE_EVAL_BUILTINS, SafeEvalError, safeEval } from '../../emulator/apps/safe_eval.js';

const doc = {
  status: 'Open',
  source: 'Ads',
  priority: 'High',
  annual_revenue: 1500,
  converted: 0,
  email: 'jane@example.com',
  tags: ['vip', 'eu'],
  products: [{ item: 'A', qty: 2 }],
  nothing: null,
};

const ev = (expr: string, extra: Record<string, unknown> = {}) => safeEval(expr, { doc, ...extra });

describe('safe_eval literals and names (frappe/utils/safe_exec.py safe_eval)', () => {
  it('evaluates literals', () => {
    expect(ev("'a'")).toBe('a');
    expect(ev('"b"')).toBe('b');
    expect(ev("'it\\'s'")).toBe("it's");
    expect(ev("'a' 'b'")).toBe('ab');
    expect(ev('42')).toBe(42);
    expect(ev('1.5')).toBe(1.5);
    expect(ev('1_000')).toBe(1000);
    expect(ev('True')).toBe(true);
    expect(ev('False')).toBe(false);
    expect(ev('None')).toBeNull();
    expect(ev('[1, 2, 3]')).toEqual([1, 2, 3]);
    expect(ev('(1, 2)')).toEqual([1, 2]);
    expect(ev("{'a': 1, \"b\": [2]}")).toEqual({ a: 1, b: [2] });
  });

  it('reads names and attributes like frappe._dict (missing → None)', () => {
    expect(ev('doc.status')).toBe('Open');
    expect(ev('doc.no_such_field')).toBeNull();
    expect(ev('doc.nothing is None')).toBe(true);
    expect(ev('doc.products[0].qty')).toBe(2);
    expect(ev('doc.products[0].missing')).toBeNull();
  });

  it('raises NameError for unknown names', () => {
    expect(() => ev('undefined_name')).toThrowError(SafeEvalError);
    let err: unknown = null;
    try {
      ev('foo == 1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SafeEvalError);
    expect((err as SafeEvalError).pyType).toBe('NameError');
    expect((err as Error).message).toBe("name 'foo' is not defined");
  });

  it('supports subscripts, negative indexes, slices and dict .get()', () => {
    expect(ev("doc['status']")).toBe('Open');
    expect(ev('doc.tags[-1]')).toBe('eu');
    expect(ev('doc.email[-12:]')).toBe('@example.com');
    expect(ev("doc.get('source')")).toBe('Ads');
    expect(ev("doc.get('missing')")).toBeNull();
    expect(ev("doc.get('missing', 'fallback')")).toBe('fallback');
    expect(() => ev("doc['missing']")).toThrowError(/'missing'/);
    expect(() => ev("doc['_secret']")).toThrowError(/Key starts with _/);
  });
});

describe('safe_eval operators (Python semantics)', () => {
  it('compares, including chains and membership', () => {
    expect(ev("doc.status == 'Open' and doc.source == 'Ads'")).toBe(true);
    expect(ev("doc.status != 'Open'")).toBe(false);
    expect(ev('1000 < doc.annual_revenue <= 1500')).toBe(true);
    expect(ev('1 < 2 > 3')).toBe(false);
    expect(ev("'vip' in doc.tags")).toBe(true);
    expect(ev("'gold' not in doc.tags")).toBe(true);
    expect(ev("'example' in doc.email")).toBe(true);
    expect(ev("'status' in doc")).toBe(true);
    expect(ev('doc.status is not None')).toBe(true);
    expect(ev('1 == 1.0 == True')).toBe(true);
    expect(ev('(1, 2) == [1, 2]')).toBe(false);
    expect(ev('[1, [2]] == [1, [2]]')).toBe(true);
  });

  it('raises TypeError where Python does', () => {
    expect(() => ev('doc.nothing < 1')).toThrowError(/'<' not supported between instances of 'NoneType' and 'int'/);
    expect(() => ev("'x' in doc.nothing")).toThrowError(/argument of type 'NoneType' is not iterable/);
    expect(() => ev("1 + 'a'")).toThrowError(SafeEvalError);
  });

  it('short-circuits and/or and returns the deciding operand', () => {
    expect(ev("doc.nothing or 'default'")).toBe('default');
    expect(ev("doc.status and doc.source")).toBe('Ads');
    expect(ev('doc.converted and undefined_name')).toBe(0);
    expect(ev('doc.status or undefined_name')).toBe('Open');
    expect(ev('not doc.converted')).toBe(true);
    expect(ev("not ''")).toBe(true);
    expect(ev('not []')).toBe(true);
    expect(ev('not {}')).toBe(true);
  });

  it('does arithmetic', () => {
    expect(ev('1 + 2 * 3')).toBe(7);
    expect(ev('(1 + 2) * 3')).toBe(9);
    expect(ev('7 / 2')).toBe(3.5);
    expect(ev('7 // 2')).toBe(3);
    expect(ev('-7 % 3')).toBe(2);
    expect(ev('7 % -3')).toBe(-2);
    expect(ev('-2 ** 2')).toBe(-4);
    expect(ev("'ab' * 2")).toBe('abab');
    expect(ev("'a' + 'b'")).toBe('ab');
    expect(ev('True + 1')).toBe(2);
    expect(() => ev('1 / 0')).toThrowError(/division by zero/);
  });

  it('evaluates conditional expressions lazily', () => {
    expect(ev("'big' if doc.annual_revenue > 1000 else 'small'")).toBe('big');
    expect(ev("'yes' if doc.converted else 'no'")).toBe('no');
    expect(ev("1 if True else undefined_name")).toBe(1);
  });

  it('calls only functions passed in names', () => {
    expect(ev('double(doc.annual_revenue)', { double: (x: unknown) => (x as number) * 2 })).toBe(3000);
    expect(safeEval("int('12') + round(2.5) + float('0.5')", { ...SAFE_EVAL_BUILTINS })).toBe(14.5);
    expect(() => ev('len(doc.tags)')).toThrowError(/name 'len' is not defined/);
    expect(() => ev('doc.status()')).toThrowError(/'str' object is not callable/);
    expect(() => ev("doc.email.upper()")).toThrowError(/'str' object has no attribute 'upper'/);
  });
});

describe('safe_eval refusals', () => {
  const refused: [string, RegExp][] = [
    ['lambda x: x', /lambda is not allowed/],
    ['[x for x in doc.tags]', /comprehensions are not allowed/],
    ['{k: 1 for k in doc.tags}', /comprehensions are not allowed/],
    ['(x for x in doc.tags)', /generator expressions are not allowed/],
    ['doc.__class__', /invalid attribute name because it starts with "_"/],
    ['__import__', /invalid variable name because it starts with "_"/],
    ['doc._private', /starts with "_"/],
    ["'{}'.format", /format is an unsafe attribute/],
    ['x = 1', /assignments are not allowed/],
    ['(y := 1)', /assignment expressions/],
    ['import os', /imports are not allowed/],
    ['doc.a; doc.b', /single expression/],
    ["f'{doc}'", /f-strings are not allowed/],
    ['double(x=1)', /keyword arguments are not supported/],
    ['', /empty expression/],
    ['doc.status ==', /invalid syntax/],
  ];
  for (const [expr, message] of refused) {
    it(`refuses ${JSON.stringify(expr)}`, () => {
      expect(() => safeEval(expr, { doc, double: (v: unknown) => v })).toThrowError(message);
      expect(() => safeEval(expr, { doc, double: (v: unknown) => v })).toThrowError(SafeEvalError);
    });
  }

  it('accepts expressions split across lines inside brackets and trailing comments', () => {
    expect(ev("(doc.status == 'Open'\n and doc.source == 'Ads')  # routing")).toBe(true);
    expect(() => ev("doc.status == 'Open'\nand doc.source == 'Ads'")).toThrowError(SafeEvalError);
  });
});
