/**
 * The one error type of the safe_eval interpreter, shared by its tokenizer, parser and evaluator:
 * a refusal or failure carries the Python exception name it stands for (`SyntaxError` for what
 * frappe/utils/safe_exec.py [v15] `safe_eval` refuses to compile, `TypeError`, `NameError`, ... for
 * what fails while evaluating), so callers can answer as Frappe would.
 */

/** Why an expression was refused or failed; `pyType` is the Python exception it stands for. */
export class SafeEvalError extends Error {
  readonly pyType: string;

  constructor(message: string, pyType = 'SyntaxError') {
    super(message);
    this.name = 'SafeEvalError';
    this.pyType = pyType;
  }
}
