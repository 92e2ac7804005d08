// Python's json.loads errors as Frappe answers them (json.decoder.JSONDecodeError; recording
// list-bad-filter-json). Each expected text is what CPython 3.11's json.loads raises for the input.
import { describe, expect, it } from 'vitest';
import { pyJsonError, pyJsonLoads } from '../../emulator/core/py_json.js';
import { FrappeError } from '../../emulator/core/errors.js';

const CASES: [string, string][] = [
  ["[[\"name\", \"=\", ", "Expecting value: line 1 column 16 (char 15)"],
  ["", "Expecting value: line 1 column 1 (char 0)"],
  ["   ", "Expecting value: line 1 column 4 (char 3)"],
  ["{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)"],
  ["{\"a\": 1,}", "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"],
  ["[1, 2,]", "Expecting value: line 1 column 7 (char 6)"],
  ["[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"],
  ["{'a': 1}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["[\"abc", "Unterminated string starting at: line 1 column 2 (char 1)"],
  ["\"a\\qb\"", "Invalid \\escape: line 1 column 3 (char 2)"],
  ["[1]x", "Extra data: line 1 column 4 (char 3)"],
  ["{\"a\":\n  }", "Expecting value: line 2 column 3 (char 8)"],
  ["\"tab\there\"", "Invalid control character at: line 1 column 5 (char 4)"],
  ["[\"\\u12\"]", "Invalid \\uXXXX escape: line 1 column 4 (char 3)"],
  ["-", "Expecting value: line 1 column 1 (char 0)"],
  ["{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["[", "Expecting value: line 1 column 2 (char 1)"],
  ["{\"a\":1 \"b\":2}", "Expecting ',' delimiter: line 1 column 8 (char 7)"],
  ["nul", "Expecting value: line 1 column 1 (char 0)"],
  ["[1,\n2,\n]", "Expecting value: line 3 column 1 (char 7)"],
];

describe('pyJsonError (Lib/json/decoder.py, Modules/_json.c)', () => {
  it.each(CASES)('%j → %s', (text, expected) => {
    expect(pyJsonError(text)).toBe(expected);
  });

  it('accepts what Python accepts', () => {
    for (const text of ['[]', ' {"a": [1, 2.5e3, null, true, "x\\u00e9"]} ', '"\\n"', 'NaN', '-Infinity']) expect(pyJsonError(text)).toBeNull();
  });

  it('pyJsonLoads gives the value, or a 500 JSONDecodeError with Python\'s text', () => {
    expect(pyJsonLoads('[["name", "=", "x"]]')).toEqual([['name', '=', 'x']]);
    let err: unknown;
    try {
      pyJsonLoads('[["name", "=", ');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrappeError);
    expect(err).toMatchObject({ excType: 'JSONDecodeError', httpStatus: 500, excText: 'Expecting value: line 1 column 16 (char 15)' });
  });
});
