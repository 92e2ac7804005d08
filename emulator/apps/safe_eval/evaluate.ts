/**
 * The evaluator of the safe_eval interpreter: walks the parser's AST against the names frappe
 * passes to `safe_eval` (its globals and `eval_locals`), with Python's short-circuiting `and`/`or`
 * and chained comparisons. Only functions reachable through those names can be called; JS
 * `eval`/`Function` are never used.
 */
import { SafeEvalError } from './errors.js';
import { binaryOp, getAttr, pyCompareOrder, pyContains, pyIs, sliceOf, subscript } from './operators.js';
import type { Node } from './parser.js';
import { isNumeric, makeTuple, num, pyEquals, pyTruthy, pyTypeName, typeError } from './values.js';

export function evaluate(node: Node, names: Record<string, unknown>): unknown {
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
