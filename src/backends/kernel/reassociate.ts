/**
 * Product rewrites that let loop-invariant factors be computed outside a loop:
 *
 * - ordering a product's factors by the depth of the loop they depend on, so
 *   the outer factors form a prefix that is hoisted as one local:
 *
 *       before: (E[i, j] * V[j, e]) / s[i]     (loops i, j, e)
 *       after:  ((1 / s[i]) * E[i, j]) * V[j, e]
 *
 * - moving factors that do not depend on a sum's variables out of the sum:
 *
 *       before: sum(k) Q[i, k] * K[j, k] / 8
 *       after:  sum(k) (Q[i, k] * K[j, k]) / 8
 *
 * Both reassociate floating-point products, which changes results only by
 * rounding.
 */
import type { Expr } from "../../ir/types.js";
import { BALANCE_CHAINS_OVER, binary, num, reduce } from "../../ir/types.js";
import { freeVars } from "../../ir/walk.js";

/** One factor of a product, divided by rather than multiplied with when `inverse`. */
export interface Factor {
  readonly expr: Expr;
  readonly inverse: boolean;
}

/**
 * The factors of a chain of `*` and `/`, left to right.
 *
 * @example
 * ```ts
 * productFactors(parse("a * b / c")); // [a, b, 1/c]
 * ```
 */
export function productFactors(e: Expr, inverse = false, out: Factor[] = []): Factor[] {
  if (e.kind === "binary" && (e.op === "mul" || e.op === "div")) {
    productFactors(e.lhs, inverse, out);
    productFactors(e.rhs, e.op === "div" ? !inverse : inverse, out);
  } else if (!(e.kind === "const" && e.value === 1)) {
    // A factor 1 is the identity; keeping it would let factorOutOfSum "move
    // it out" of `sum(j) 1 / x` forever, rebuilding the same product.
    out.push({ expr: e, inverse });
  }
  return out;
}

/**
 * The product of factors, left-associated; `1 / f` starts a product whose first factor is inverse.
 *
 * @example
 * ```ts
 * buildProduct([{ expr: a, inverse: false }, { expr: c, inverse: true }]); // a / c
 * ```
 */
export function buildProduct(factors: readonly Factor[]): Expr {
  if (factors.length > BALANCE_CHAINS_OVER) return balancedProduct(factors, 0, factors.length, false);
  let acc: Expr | null = null;
  for (const f of factors) {
    if (acc === null) acc = f.inverse ? binary("div", num(1), f.expr) : f.expr;
    else acc = binary(f.inverse ? "div" : "mul", acc, f.expr);
  }
  return acc ?? num(1);
}

/**
 * A long product as a balanced tree, so that it is no deeper than log2 of
 * its length: `a * b / c * d` is `(a * b) / (c / d)`, the right half's
 * factors inverted when the operator between the halves divides.
 */
function balancedProduct(factors: readonly Factor[], from: number, to: number, flipped: boolean): Expr {
  if (to - from === 1) {
    const f = factors[from]!;
    return f.inverse !== flipped ? binary("div", num(1), f.expr) : f.expr;
  }
  const mid = (from + to) >> 1;
  const divides = factors[mid]!.inverse !== flipped;
  const lhs = balancedProduct(factors, from, mid, flipped);
  const rhs = balancedProduct(factors, mid, to, flipped !== divides);
  return binary(divides ? "div" : "mul", lhs, rhs);
}

/**
 * The product with factors stably sorted by `depth`, or null when sorting
 * would not group at least two outer factors (nothing to gain).
 *
 * @example
 * ```ts
 * sortProductByDepth(parse("E[i, j] * V[j, e] / s[i]"), depthOfLoops); // (1 / s[i]) * E[i, j] * V[j, e]
 * ```
 */
export function sortProductByDepth(e: Expr, depth: (f: Expr) => number): Expr | null {
  const factors = productFactors(e);
  if (factors.length < 3) return null;
  const depths = factors.map((f) => depth(f.expr));
  const max = Math.max(...depths);
  if (depths.filter((d) => d < max).length < 2) return null;
  if (depths.every((d, k) => k === 0 || depths[k - 1]! <= d)) return null;
  const order = factors.map((f, k) => ({ f, d: depths[k]!, k })).sort((a, b) => a.d - b.d || a.k - b.k);
  return buildProduct(order.map((x) => x.f));
}

/**
 * `sum(vars) body` with the factors of `body` that do not read `vars` moved
 * outside, or null when there are none (or nothing would be left inside).
 *
 * @example
 * ```ts
 * factorOutOfSum(["k"], parse("Q[i, k] * K[j, k] / 8")); // sum(k) (Q[i, k] * K[j, k]) / 8
 * ```
 */
export function factorOutOfSum(vars: readonly string[], body: Expr): Expr | null {
  const factors = productFactors(body);
  if (factors.length < 2) return null;
  const reads = (f: Factor): boolean => [...freeVars(f.expr)].some((v) => vars.includes(v));
  const inner = factors.filter(reads);
  const outer = factors.filter((f) => !reads(f));
  if (inner.length === 0 || outer.length === 0) return null;
  return buildProduct([{ expr: reduce("sum", vars, buildProduct(inner)), inverse: false }, ...outer]);
}

/**
 * A def body with its one top-level sum made outermost again: the optimizer
 * factors invariant terms out of sums (`0.125 * sum(k) K * Q`), but the loop
 * nest wants the sum on the outside so it can choose a contiguous loop
 * order and accumulate in place; its own hoisting puts the factor back
 * where it is cheapest. Returns `body` unchanged unless it is a product with
 * exactly one (non-divisor) `sum` factor.
 *
 * @example
 * ```ts
 * sumOutermost(parse("0.125 * sum(k) K[j, k] * Q[i, k]")); // sum(k) K[j, k] * Q[i, k] * 0.125
 * ```
 */
export function sumOutermost(body: Expr): Expr {
  if (body.kind !== "binary" || (body.op !== "mul" && body.op !== "div")) return body;
  const factors = productFactors(body);
  const sums = factors.filter((f) => !f.inverse && f.expr.kind === "reduce" && f.expr.op === "sum");
  if (sums.length !== 1) return body;
  const sum = sums[0]!.expr as Extract<Expr, { kind: "reduce" }>;
  const others = factors.filter((f) => f !== sums[0]);
  if (others.some((f) => [...freeVars(f.expr)].some((v) => sum.vars.includes(v)))) return body;
  return reduce("sum", sum.vars, buildProduct([{ expr: sum.body, inverse: false }, ...others]));
}
