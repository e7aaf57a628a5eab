/**
 * A simple FLOP estimate, the rewrite search's default cost. Every operator
 * node costs one FLOP per iteration of the loop nest it runs in: the def's
 * output indices at the top level, and inside a reduction the reduction's
 * own free variables and summed variables. A reduction is thus counted once
 * per value of its free variables (as if hoisted out of loops it does not
 * depend on), plus one combining operation per iteration.
 *
 * For `y[i] = sum(k) a[i] * f[i, k]` (i: 8, k: 16): the reduction runs over
 * (i, k), 128 iterations of one multiply and one add, 256 FLOPs;
 * `a[i] * sum(k) f[i, k]` costs 128 adds and 8 multiplies, 136.
 */
import type { DefNode, Expr, Program } from "../../ir/types.js";
import { numel } from "../../ir/types.js";
import { children, freeVars } from "../../ir/walk.js";

function extentOf(vars: Iterable<string>, ranges: Readonly<Record<string, number>>): number {
  let n = 1;
  for (const v of vars) n *= ranges[v] ?? 1;
  return n;
}

/**
 * FLOPs of evaluating `e` once per point of a loop nest of `iterations`
 * points (see the module comment).
 *
 * @example
 * ```ts
 * exprFlops(parseExprText("sum(k:16) A[i, k] * B[k]").expr, { i: 8, k: 16 }, 8); // 256
 * ```
 */
export function exprFlops(e: Expr, ranges: Readonly<Record<string, number>>, iterations: number): number {
  switch (e.kind) {
    case "const":
    case "index":
    case "access":
      return 0;
    case "reduce": {
      const inner = extentOf(new Set([...freeVars(e), ...e.vars]), ranges);
      return inner + exprFlops(e.body, ranges, inner);
    }
    default:
      return children(e).reduce((acc, c) => acc + exprFlops(c, ranges, iterations), iterations);
  }
}

/**
 * The FLOP estimate of one def's body over its output indices.
 *
 * @example
 * ```ts
 * defFlops(def); // 256 for y[i:8] = sum(k:16) a[i] * f[i, k]
 * ```
 */
export function defFlops(def: DefNode): number {
  return exprFlops(def.body, def.ranges, extentOf(def.indices, def.ranges));
}

/**
 * A program's cost for the program-level search: every def's FLOPs plus the
 * elements it stores (writing a tensor is not free, so materializing a big
 * intermediate such as a Kronecker matrix counts against it).
 *
 * @example
 * ```ts
 * programFlops(program); // Σ defFlops(def) + numel(def.shape)
 * ```
 */
export function programFlops(program: Program): number {
  let total = 0;
  for (const t of program.tensors) if (t.role === "def") total += defFlops(t) + numel(t.shape);
  return total;
}
