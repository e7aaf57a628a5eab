/**
 * The unused-input warning (TNS0111). An input counts as used when any
 * statement mentions it, even one that failed to check, and the warning is
 * only given for programs without errors: next to an error it is noise
 * (the bad call or the misspelt name is the thing to fix).
 *
 *     input S[4, 5], T[4, 5], U[4]
 *     output P[i, j] = S[i, j] + T[i, j]
 *     ->  warning[TNS0111]: input 'U' is never used
 *
 *     output P = softmax(S, T)        (TNS0401: wrong number of arguments)
 *     ->  no TNS0111 at all
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";

/**
 * Warns about each input no statement mentions; silent when errors were reported.
 *
 * @example
 * ```ts
 * warnUnusedInputs(module, (name) => graph.reads.has(name) || graph.broken.has(name), diags);
 * ```
 */
export function warnUnusedInputs(module: ast.Module, quiet: (name: string) => boolean, diags: DiagnosticBag): void {
  if (diags.hasErrors) return;
  const mentioned = mentionedNames(module);
  for (const item of module.items) {
    if (item.kind !== "tensor" || item.role !== "input") continue;
    if (mentioned.has(item.name.name) || quiet(item.name.name)) continue;
    diags.warning("TNS0111", `input '${item.name.name}' is never used`, item.name.span);
  }
}

/**
 * Every name written on the right side of a top-level definition (tensors,
 * call arguments, indices). Function bodies are left out: their names are
 * the function's parameters, never the program's inputs.
 *
 * @example
 * ```ts
 * mentionedNames(parseModule("input S[4], T[4]\noutput P = f(S, T)", "a.tns", diags)); // Set { "f", "S", "T" }
 * ```
 */
export function mentionedNames(module: ast.Module): Set<string> {
  const out = new Set<string>();
  for (const item of module.items) {
    if (item.kind === "def") namesIn(item.rhs, out);
  }
  return out;
}

function namesIn(e: ast.Expr, out: Set<string>): void {
  switch (e.kind) {
    case "number":
      return;
    case "ident":
      out.add(e.name);
      return;
    case "access":
      if ("kind" in e.target) namesIn(e.target, out);
      else out.add(e.target.name);
      for (const i of e.indices) namesIn(i, out);
      return;
    case "unary":
      namesIn(e.arg, out);
      return;
    case "binary":
      namesIn(e.lhs, out);
      namesIn(e.rhs, out);
      return;
    case "call":
      out.add(e.callee.name);
      for (const a of e.args) namesIn(a, out);
      return;
    case "reduce":
      for (const x of e.extents) if (x !== null) namesIn(x, out);
      namesIn(e.body, out);
      return;
    case "group":
      for (const i of e.items) namesIn(i, out);
      return;
  }
}
