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
import * as ir from "../ir/types.js";

type Linear = { terms: Map<string, number>; constant: number };

/** An index arithmetic expression (index values, integer constants, + - and * by a constant) as a linear form, else null. */
function linear(e: ir.Expr): Linear | null {
  switch (e.kind) {
    case "const":
      return Number.isInteger(e.value) ? { terms: new Map(), constant: e.value } : null;
    case "index":
      return { terms: new Map([[e.var, 1]]), constant: 0 };
    case "unary":
      if (e.op !== "neg") return null;
      return scaled(linear(e.arg), -1);
    case "binary": {
      const a = linear(e.lhs);
      const b = linear(e.rhs);
      if (a === null || b === null) return null;
      if (e.op === "add") return sum(a, b, 1);
      if (e.op === "sub") return sum(a, b, -1);
      if (e.op === "mul") {
        if (a.terms.size === 0) return scaled(b, a.constant);
        if (b.terms.size === 0) return scaled(a, b.constant);
      }
      // Division by a constant that divides exactly (sizes: `(kh - 1) / 2`).
      if (e.op === "div" && b.terms.size === 0 && b.constant !== 0) {
        const k = b.constant;
        if (a.constant % k === 0 && [...a.terms.values()].every((c) => c % k === 0)) return scaled(a, 1 / k);
      }
      return null;
    }
    default:
      return null;
  }
}

function scaled(a: Linear | null, k: number): Linear | null {
  if (a === null) return null;
  return { terms: new Map([...a.terms].map(([v, c]) => [v, c * k])), constant: a.constant * k };
}

function sum(a: Linear, b: Linear, sign: number): Linear {
  const terms = new Map(a.terms);
  for (const [v, c] of b.terms) terms.set(v, (terms.get(v) ?? 0) + sign * c);
  return { terms, constant: a.constant + sign * b.constant };
}

function toAffine(l: Linear): ir.Affine {
  return ir.affine([...l.terms].map(([v, coef]) => ({ var: v, coef })), l.constant);
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
    const a = linear(c.lhs);
    const b = linear(c.rhs);
    if (a === null || b === null) return;
    const aMinusB = sum(a, b, -1);
    const bMinusA = sum(b, a, -1);
    switch (c.op) {
      case "ge": out.push(toAffine(aMinusB)); break;
      case "gt": out.push(toAffine({ ...aMinusB, constant: aMinusB.constant - 1 })); break;
      case "le": out.push(toAffine(bMinusA)); break;
      case "lt": out.push(toAffine({ ...bMinusA, constant: bMinusA.constant - 1 })); break;
      case "eq": out.push(toAffine(aMinusB), toAffine(bMinusA)); break;
      default: break;
    }
  };
  for (const c of conds) visit(c);
  return out;
}

/** `a - b` when it is a constant, else null. */
function constantDifference(a: ir.Affine, b: ir.Affine): number | null {
  const d = ir.affine([...a.terms, ...b.terms.map((t) => ({ var: t.var, coef: -t.coef }))], a.constant - b.constant);
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
