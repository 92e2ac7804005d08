/**
 * The tokenizer of the safe_eval interpreter: turns Python expression source into tokens (numbers,
 * decoded strings, names, operators, newlines outside brackets), following Python's lexical rules
 * as far as `frappe.safe_eval` conditions need them. Literals Python has but safe_eval cannot use
 * here (f-strings, bytes, complex numbers) are refused at this stage; KEYWORDS is shared with the
 * parser, which refuses keywords where a name or attribute is expected.
 */
import { SafeEvalError } from './errors.js';

type TokKind = 'num' | 'str' | 'name' | 'op' | 'newline' | 'end';

export interface Token {
  kind: TokKind;
  value: string;
  /** Literal payload: parsed number or decoded string. */
  literal?: number | string;
  pos: number;
}

export const KEYWORDS = new Set([
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

export function tokenize(src: string): Token[] {
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
