/**
 * What a `where` condition says about index values, for zero padding
 * (docs/language.md, "Zero padding"): its conjuncts `a <= b`, `a < b`,
 * `a >= b`, `a > b`, `a == b` between affine expressions of index values
 * become facts `f >= 0` with f affine (integer coefficients), and a read
 * index is kept in bounds by the guard when it differs from such a fact by
 * a constant that keeps it at or above 0 (at or below the top).
 *
 *     where(y + dy >= 1 && y + dy <= H, X[y + dy - 1], 0)      H = 8
 *     facts:   dy + y - 1 >= 0,   -dy - y + 8 >= 0
 *     index:   dy + y - 1  =  (dy + y - 1) + 0            >= 0
 *     top:     7 - (dy + y - 1) = (-dy - y + 8) + 0       >= 0
 */
import { indexAffine } from "../ir/split.js";
import * as ir from "../ir/types.js";

/** `a - b + shift` as one affine form. */
function difference(a: ir.Affine, b: ir.Affine, shift = 0): ir.Affine {
  return ir.affine([...a.terms, ...b.terms.map((t) => ({ var: t.var, coef: -t.coef }))], a.constant - b.constant + shift);
}

/**
 * The facts `f >= 0` that a condition's conjuncts state about index values.
 *
 * @example
 * ```ts
 * guardFacts([binary("ge", binary("add", indexValue("y"), indexValue("dy")), num(1))]); // [dy + y - 1]
 * ```
 */
export function guardFacts(conds: readonly ir.Expr[]): ir.Affine[] {
  const out: ir.Affine[] = [];
  const visit = (c: ir.Expr): void => {
    if (c.kind !== "binary") return;
    if (c.op === "mul") {
      visit(c.lhs);
      visit(c.rhs);
      return;
    }
    const a = indexAffine(c.lhs);
    const b = indexAffine(c.rhs);
    if (a === null || b === null) return;
    switch (c.op) {
      case "ge": out.push(difference(a, b)); break;
      case "gt": out.push(difference(a, b, -1)); break;
      case "le": out.push(difference(b, a)); break;
      case "lt": out.push(difference(b, a, -1)); break;
      case "eq": out.push(difference(a, b), difference(b, a)); break;
      default: break;
    }
  };
  for (const c of conds) visit(c);
  return out;
}

/** `a - b` when it is a constant, else null. */
function constantDifference(a: ir.Affine, b: ir.Affine): number | null {
  const d = difference(a, b);
  return d.terms.length === 0 ? d.constant : null;
}

/**
 * Whether the facts prove `index >= 0` (side "low") or `index <= size - 1` (side "high").
 *
 * @example
 * ```ts
 * guardProves(facts, affine([{ var: "y", coef: 1 }], -1), 8, "low"); // true given y - 1 >= 0
 * ```
 */
export function guardProves(facts: readonly ir.Affine[], index: ir.Affine, size: number, side: "low" | "high"): boolean {
  const target = side === "low" ? index : ir.affine(index.terms.map((t) => ({ var: t.var, coef: -t.coef })), size - 1 - index.constant);
  return facts.some((f) => {
    const d = constantDifference(target, f);
    return d !== null && d >= 0;
  });
}
