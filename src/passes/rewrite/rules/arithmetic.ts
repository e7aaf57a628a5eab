/**
 * Rules of ordinary arithmetic: distributing and factoring, commuting and
 * reassociating products, and turning a division by an invariant into a
 * multiplication by its reciprocal (which the sum rules can then hoist).
 */
import type { Expr } from "../../../ir/types.js";
import { binary, num } from "../../../ir/types.js";
import { exprKey } from "../../../ir/walk.js";
import { exprRule } from "../rule.js";
import { dependsOn, hasReduction, productFactors, productOf } from "./products.js";

type AddOp = "add" | "sub";

interface Distribute {
  readonly a: Expr;
  readonly op: AddOp;
  readonly b: Expr;
  readonly c: Expr;
  /** Whether `a` stood on the left of the sum. */
  readonly left: boolean;
}

/**
 * `distribute`: a·(b ± c) = a·b ± a·c (and (b ± c)·a = b·a ± c·a).
 *
 * @example
 * ```ts
 * // A[i] * (B[i] + C[i])  →  A[i] * B[i] + A[i] * C[i]
 * applyAtRoot(distribute, expr, ctx);
 * ```
 */
export const distribute = exprRule<Distribute>({
  name: "distribute",
  statement: "a·(b ± c) = a·b ± a·c",
  conditions: [{ name: "duplicated-factor-has-no-reduction", holds: (b) => !hasReduction(b.a) }],
  match: (e) => {
    if (e.kind !== "binary" || e.op !== "mul") return null;
    const { lhs, rhs } = e;
    if (rhs.kind === "binary" && (rhs.op === "add" || rhs.op === "sub")) return { a: lhs, op: rhs.op, b: rhs.lhs, c: rhs.rhs, left: true };
    if (lhs.kind === "binary" && (lhs.op === "add" || lhs.op === "sub")) return { a: rhs, op: lhs.op, b: lhs.lhs, c: lhs.rhs, left: false };
    return null;
  },
  rewrite: ({ a, op, b, c, left }) => (left
    ? binary(op, binary("mul", a, b), binary("mul", a, c))
    : binary(op, binary("mul", b, a), binary("mul", c, a))),
});

interface Factor {
  readonly common: Expr;
  readonly op: AddOp;
  readonly restL: readonly Expr[];
  readonly restR: readonly Expr[];
}

function without(factors: readonly Expr[], key: string): Expr[] {
  const k = factors.findIndex((f) => exprKey(f) === key);
  return factors.filter((_, j) => j !== k);
}

/**
 * `factor`: a·b ± a·c = a·(b ± c), `a` the first factor of the left product
 * that the right product also has.
 *
 * @example
 * ```ts
 * // A[i] * B[i] + A[i] * C[i]  →  A[i] * (B[i] + C[i])
 * applyAtRoot(factor, expr, ctx);
 * ```
 */
export const factor = exprRule<Factor | { common: null }>({
  name: "factor",
  statement: "a·b ± a·c = a·(b ± c)",
  conditions: [{ name: "has-common-factor", holds: (b) => b.common !== null }],
  match: (e) => {
    if (e.kind !== "binary" || (e.op !== "add" && e.op !== "sub")) return null;
    const l = productFactors(e.lhs);
    const r = productFactors(e.rhs);
    if (l.length < 2 && r.length < 2) return null;
    const rKeys = new Set(r.map(exprKey));
    const common = l.find((f) => rKeys.has(exprKey(f)));
    if (common === undefined) return { common: null };
    const key = exprKey(common);
    return { common, op: e.op, restL: without(l, key), restR: without(r, key) };
  },
  rewrite: (b) => {
    const f = b as Factor;
    return binary("mul", f.common, binary(f.op, productOf(f.restL), productOf(f.restR)));
  },
});

/**
 * `mul-comm`: a·b = b·a.
 *
 * @example
 * ```ts
 * // A[i] * B[i]  →  B[i] * A[i]
 * applyAtRoot(mulComm, expr, ctx);
 * ```
 */
export const mulComm = exprRule<{ a: Expr; b: Expr }>({
  name: "mul-comm",
  statement: "a·b = b·a",
  match: (e) => (e.kind === "binary" && e.op === "mul" ? { a: e.lhs, b: e.rhs } : null),
  rewrite: ({ a, b }) => binary("mul", b, a),
});

/**
 * `mul-assoc`: (a·b)·c = a·(b·c).
 *
 * @example
 * ```ts
 * // A[i] * B[i] * C[i]  →  A[i] * (B[i] * C[i])
 * applyAtRoot(mulAssoc, expr, ctx);
 * ```
 */
export const mulAssoc = exprRule<{ a: Expr; b: Expr; c: Expr }>({
  name: "mul-assoc",
  statement: "(a·b)·c = a·(b·c)",
  match: (e) => (e.kind === "binary" && e.op === "mul" && e.lhs.kind === "binary" && e.lhs.op === "mul"
    ? { a: e.lhs.lhs, b: e.lhs.rhs, c: e.rhs }
    : null),
  rewrite: ({ a, b, c }) => binary("mul", a, binary("mul", b, c)),
});

/**
 * `div-to-mul-reciprocal`: x / s = x·(1 / s), where s does not depend on the
 * innermost enclosing sum's variables (so `sum-factor-out` can hoist 1 / s).
 *
 * @example
 * ```ts
 * // inside sum(k): A[i, k] / S[i]  →  A[i, k] * (1 / S[i])
 * applyAtRoot(divToMulReciprocal, expr, { ...ctx, enclosing: [["k"]] });
 * ```
 */
export const divToMulReciprocal = exprRule<{ x: Expr; s: Expr }>({
  name: "div-to-mul-reciprocal",
  statement: "x / s = x·(1 / s) when s is invariant in the enclosing sum",
  conditions: [
    // Rounding of x·(1/s) differs from x / s in the last bit; an integer def would truncate that difference.
    { name: "not-an-integer-def", holds: (_b, ctx) => ctx.dtype !== "i32" },
    {
      name: "divisor-invariant-in-enclosing-sum",
      holds: (b, ctx) => ctx.enclosing.length > 0 && !dependsOn(b.s, ctx.enclosing[ctx.enclosing.length - 1]!),
    },
    { name: "divisor-is-not-a-constant", holds: (b) => b.s.kind !== "const" },
  ],
  match: (e) => (e.kind === "binary" && e.op === "div" ? { x: e.lhs, s: e.rhs } : null),
  rewrite: ({ x, s }) => binary("mul", x, binary("div", num(1), s)),
});
