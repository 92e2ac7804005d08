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
import { evaluate } from './safe_eval/evaluate.js';
import { SafeEvalError } from './safe_eval/errors.js';
import { Parser } from './safe_eval/parser.js';
import { tokenize } from './safe_eval/tokenizer.js';

export { SAFE_EVAL_BUILTINS } from './safe_eval/builtins.js';
export { SafeEvalError } from './safe_eval/errors.js';
export { pyEquals, pyTruthy, pyTypeName } from './safe_eval/values.js';

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
