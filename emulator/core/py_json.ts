/**
 * Python's `json.loads` as Frappe meets it (a malformed `filters`, `fields` or request body):
 * JSON.parse for the value, and on failure the `json.decoder.JSONDecodeError` text Python 3.11
 * gives — the same first error at the same position, found by walking the text the way
 * Lib/json/decoder.py and Lib/json/scanner.py do (recording list-bad-filter-json:
 * "Expecting value: line 1 column 16 (char 15)").
 */
import { FrappeError } from './errors.js';

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

class DecodeError extends Error {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {
    super(msg);
  }
}

/** `JSONDecodeError.__init__`: "msg: line L column C (char P)". */
function errorText(s: string, e: DecodeError): string {
  const lineno = s.slice(0, e.pos).split('\n').length;
  const colno = e.pos - s.lastIndexOf('\n', e.pos - 1);
  return `${e.msg}: line ${lineno} column ${colno} (char ${e.pos})`;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i])) i++;
  return i;
}

/** `scanstring` (the C scanner's texts, strict): `end` is just after the opening quote; returns the index after the closing one. */
function scanString(s: string, end: number): number {
  const begin = end - 1;
  for (;;) {
    while (end < s.length && s[end] !== '"' && s[end] !== '\\' && s.charCodeAt(end) >= 0x20) end++;
    if (end >= s.length) throw new DecodeError('Unterminated string starting at', begin);
    const ch = s[end];
    if (ch === '"') return end + 1;
    if (ch !== '\\') throw new DecodeError('Invalid control character at', end);
    end++;
    if (end >= s.length) throw new DecodeError('Unterminated string starting at', begin);
    const esc = s[end];
    if (esc === 'u') {
      const hex = s.slice(end + 1, end + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new DecodeError('Invalid \\uXXXX escape', end);
      end += 5;
    } else if (ESCAPES.has(esc)) end++;
    else throw new DecodeError('Invalid \\escape', end - 1);
  }
}

/** `scan_once`: one value at `i`; returns the index after it. A missing value is "Expecting value" at `i`. */
function scanValue(s: string, i: number): number {
  if (i >= s.length) throw new DecodeError('Expecting value', i);
  const ch = s[i];
  if (ch === '"') return scanString(s, i + 1);
  if (ch === '{') return scanObject(s, i + 1);
  if (ch === '[') return scanArray(s, i + 1);
  for (const word of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) if (s.startsWith(word, i)) return i + word.length;
  NUMBER.lastIndex = i;
  const m = NUMBER.exec(s);
  if (m) return i + m[0].length;
  throw new DecodeError('Expecting value', i);
}

/** `JSONArray`: `end` is just after `[`. */
function scanArray(s: string, end: number): number {
  end = skipWs(s, end);
  if (s[end] === ']') return end + 1;
  for (;;) {
    end = skipWs(s, scanValue(s, end));
    const ch = s[end];
    end++;
    if (ch === ']') return end;
    if (ch !== ',') throw new DecodeError("Expecting ',' delimiter", end - 1);
    end = skipWs(s, end);
  }
}

/** `JSONObject`: `end` is just after `{`. */
function scanObject(s: string, end: number): number {
  end = skipWs(s, end);
  if (s[end] === '}') return end + 1;
  if (s[end] !== '"') throw new DecodeError('Expecting property name enclosed in double quotes', end);
  end++;
  for (;;) {
    end = scanString(s, end);
    end = skipWs(s, end);
    if (s[end] !== ':') throw new DecodeError("Expecting ':' delimiter", end);
    end = skipWs(s, end + 1);
    end = skipWs(s, scanValue(s, end));
    const ch = s[end];
    end++;
    if (ch === '}') return end;
    if (ch !== ',') throw new DecodeError("Expecting ',' delimiter", end - 1);
    end = skipWs(s, end);
    const next = s[end];
    end++;
    if (next !== '"') throw new DecodeError('Expecting property name enclosed in double quotes', end - 1);
  }
}

/** The `JSONDecodeError` text `json.loads(s)` raises, or null when Python would accept `s`. */
export function pyJsonError(s: string): string | null {
  try {
    const end = skipWs(s, scanValue(s, skipWs(s, 0)));
    if (end !== s.length) throw new DecodeError('Extra data', end);
    return null;
  } catch (e) {
    if (e instanceof DecodeError) return errorText(s, e);
    throw e;
  }
}

/** `json.loads(text)`: the value, or Frappe's 500 answer for the JSONDecodeError Python raises. */
export function pyJsonLoads(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const excText = pyJsonError(text) ?? 'Expecting value: line 1 column 1 (char 0)';
    throw new FrappeError('JSONDecodeError', { excText, httpStatus: 500 });
  }
}
