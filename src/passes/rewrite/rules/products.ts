/**
 * Helpers the rules share: products as flat factor lists, and dependence
 * of an expression on a set of variables.
 */
import type { Expr } from "../../../ir/types.js";
import { associativeChain, num } from "../../../ir/types.js";
import { freeVars } from "../../../ir/walk.js";

/**
 * The factors of a chain of `mul` nodes, left to right.
 *
 * @example
 * ```ts
 * productFactors(parseExprText("A[i] * (B[i] * 2)").expr).length; // 3
 * ```
 */
export function productFactors(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...productFactors(e.lhs), ...productFactors(e.rhs)] : [e];
}

/**
 * The left-nested product of `factors` (the constant 1 when empty; balanced when long, see `associativeChain`).
 *
 * @example
 * ```ts
 * productOf([access("A", ["i"]), num(2)]); // A[i] * 2
 * ```
 */
export function productOf(factors: readonly Expr[]): Expr {
  if (factors.length === 0) return num(1);
  return associativeChain("mul", factors);
}

/**
 * Whether `e` uses any of `vars` freely.
 *
 * @example
 * ```ts
 * dependsOn(access("A", ["i", "k"]), ["k"]); // true
 * ```
 */
export function dependsOn(e: Expr, vars: Iterable<string>): boolean {
  const free = freeVars(e);
  for (const v of vars) if (free.has(v)) return true;
  return false;
}

/**
 * Whether `e` contains a reduction (duplicating it would bind its variables twice).
 *
 * @example
 * ```ts
 * hasReduction(parseExprText("sum(k:2) A[k]").expr); // true
 * ```
 */
export function hasReduction(e: Expr): boolean {
  switch (e.kind) {
    case "reduce":
      return true;
    case "unary":
      return hasReduction(e.arg);
    case "binary":
      return hasReduction(e.lhs) || hasReduction(e.rhs);
    case "select":
      return hasReduction(e.cond) || hasReduction(e.then) || hasReduction(e.else);
    default:
      return false;
  }
}
