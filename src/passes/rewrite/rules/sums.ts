/**
 * Rules about sums: moving invariant factors out, splitting a sum of a
 * separable product into a product of sums, and nesting or merging sums.
 */
import type { Expr } from "../../../ir/types.js";
import { binary, reduce } from "../../../ir/types.js";
import { freeVars } from "../../../ir/walk.js";
import { exprRule } from "../rule.js";
import { dependsOn, productFactors, productOf } from "./products.js";

interface FactorOut {
  readonly vars: readonly string[];
  readonly invariant: readonly Expr[];
  readonly varying: readonly Expr[];
}

/**
 * `sum-factor-out`: Σ_k a·f(k) = a·Σ_k f(k) when k ∉ a.
 *
 * @example
 * ```ts
 * // sum(k:4) A[i] * B[i, k]  →  A[i] * sum(k:4) B[i, k]
 * applyAtRoot(sumFactorOut, expr, ctx);
 * ```
 */
export const sumFactorOut = exprRule<FactorOut>({
  name: "sum-factor-out",
  statement: "Σ_k a·f(k) = a·Σ_k f(k) when k ∉ a",
  conditions: [
    { name: "has-invariant-factor", holds: (b) => b.invariant.length > 0 },
    { name: "keeps-a-varying-factor", holds: (b) => b.varying.length > 0 },
  ],
  match: (e) => {
    if (e.kind !== "reduce" || e.op !== "sum") return null;
    const factors = productFactors(e.body);
    return {
      vars: e.vars,
      invariant: factors.filter((f) => !dependsOn(f, e.vars)),
      varying: factors.filter((f) => dependsOn(f, e.vars)),
    };
  },
  rewrite: (b) => binary("mul", productOf(b.invariant), reduce("sum", b.vars, productOf(b.varying))),
});

interface Split {
  /** Summed variables and factors of the first independent group, then of the rest. */
  readonly first: { readonly vars: readonly string[]; readonly factors: readonly Expr[] };
  readonly rest: { readonly vars: readonly string[]; readonly factors: readonly Expr[] };
  readonly everyFactorVaries: boolean;
}

/** Summed variables reachable from `seed` through factors that share them. */
function componentOf(seed: string, vars: readonly string[], factors: readonly Expr[]): Set<string> {
  const uses = factors.map((f) => freeVars(f));
  const comp = new Set([seed]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const u of uses) {
      if (![...comp].some((v) => u.has(v))) continue;
      for (const v of vars) if (u.has(v) && !comp.has(v)) comp.add(v), (grew = true);
    }
  }
  return comp;
}

/**
 * `sum-split`: Σ_{j,k} f(j)·g(k) = (Σ_j f(j))·(Σ_k g(k)) when no factor uses both.
 *
 * @example
 * ```ts
 * // sum(j:3, k:4) A[j] * B[k]  →  sum(j:3) A[j] * sum(k:4) B[k]
 * applyAtRoot(sumSplit, expr, ctx);
 * ```
 */
export const sumSplit = exprRule<Split>({
  name: "sum-split",
  statement: "Σ_{j,k} f(j)·g(k) = (Σ_j f(j))·(Σ_k g(k)) when no factor uses both j and k",
  conditions: [
    { name: "every-factor-varies", holds: (b) => b.everyFactorVaries },
    { name: "separable", holds: (b) => b.rest.vars.length > 0 && b.first.factors.length > 0 && b.rest.factors.length > 0 },
  ],
  match: (e) => {
    if (e.kind !== "reduce" || e.op !== "sum" || e.vars.length < 2) return null;
    const factors = productFactors(e.body);
    const comp = componentOf(e.vars[0]!, e.vars, factors);
    const inFirst = (f: Expr): boolean => dependsOn(f, comp);
    return {
      first: { vars: e.vars.filter((v) => comp.has(v)), factors: factors.filter(inFirst) },
      rest: { vars: e.vars.filter((v) => !comp.has(v)), factors: factors.filter((f) => !inFirst(f)) },
      everyFactorVaries: factors.every((f) => dependsOn(f, e.vars)),
    };
  },
  rewrite: (b) => binary("mul", reduce("sum", b.first.vars, productOf(b.first.factors)), reduce("sum", b.rest.vars, productOf(b.rest.factors))),
});

/**
 * `sum-merge`: Σ_j Σ_k f = Σ_{j,k} f.
 *
 * @example
 * ```ts
 * // sum(j:3) sum(k:4) A[j, k]  →  sum(j:3, k:4) A[j, k]
 * applyAtRoot(sumMerge, expr, ctx);
 * ```
 */
export const sumMerge = exprRule<{ outer: readonly string[]; inner: readonly string[]; body: Expr }>({
  name: "sum-merge",
  statement: "Σ_j Σ_k f = Σ_{j,k} f",
  match: (e) => (e.kind === "reduce" && e.op === "sum" && e.body.kind === "reduce" && e.body.op === "sum"
    ? { outer: e.vars, inner: e.body.vars, body: e.body.body }
    : null),
  rewrite: (b) => reduce("sum", [...b.outer, ...b.inner], b.body),
});

/**
 * `sum-unmerge`: Σ_{j,k} f = Σ_j Σ_k f (the first variable becomes the outer sum).
 *
 * @example
 * ```ts
 * // sum(j:3, k:4) A[j, k]  →  sum(j:3) sum(k:4) A[j, k]
 * applyAtRoot(sumUnmerge, expr, ctx);
 * ```
 */
export const sumUnmerge = exprRule<{ outer: string; inner: readonly string[]; body: Expr }>({
  name: "sum-unmerge",
  statement: "Σ_{j,k} f = Σ_j Σ_k f",
  match: (e) => (e.kind === "reduce" && e.op === "sum" && e.vars.length >= 2
    ? { outer: e.vars[0]!, inner: e.vars.slice(1), body: e.body }
    : null),
  rewrite: (b) => reduce("sum", [b.outer], reduce("sum", b.inner, b.body)),
});
