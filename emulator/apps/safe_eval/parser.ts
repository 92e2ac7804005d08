/**
 * The parser of the safe_eval interpreter: a recursive-descent parser of Python's expression
 * grammar, restricted to what frappe/utils/safe_exec.py [v15] `safe_eval` compiles (RestrictedPython
 * in `eval` mode), building the AST the evaluator walks. The compile-time refusals live here:
 * statements, assignments and walrus (`_validate_safe_eval_syntax`), lambdas, comprehensions,
 * names and attributes starting with `_` (RestrictedPython `check_name`) and frappe's
 * UNSAFE_ATTRIBUTES.
 */
import { SafeEvalError } from './errors.js';
import { KEYWORDS, type Token } from './tokenizer.js';

export type Node =
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

export class Parser {
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
