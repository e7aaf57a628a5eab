/**
 * Recurrences: defs that read themselves at an earlier value of one index
 * (invariant 8 of `types.ts`). The helpers here find the self-reads of a
 * def, the base-case guard around each, and check the invariant; the
 * checker, the verifier and the passes share them.
 *
 *     Cs[i] = x[i] + where(i > 0, Cs[i - 1], 0)
 *     selfReads: Cs[i - 1]  step 1, guarded by i >= 1   (in bounds: i - 1 >= 0)
 */
import type { Access, Affine, DefNode, Expr } from "./types.js";

/** One self-read of a recurrence: the access and the smallest value of the sequential index its guards allow. */
export interface SelfRead {
  readonly access: Access;
  /** The largest `c` such that the enclosing `where` conditions imply `v >= c` (0 when none do). */
  readonly guard: number;
}

/** Whether an expression is the constant `value`'s kind and returns its value, else null. */
const constOf = (e: Expr): number | null => (e.kind === "const" ? e.value : null);
const isIndex = (e: Expr, v: string): boolean => e.kind === "index" && e.var === v;

const COMPARISONS: ReadonlySet<string> = new Set(["lt", "le", "gt", "ge", "eq", "ne"]);

/** Whether an expression is a condition: a comparison, or a product or `min` of conditions (always 0 or 1). */
function isCondition(e: Expr): boolean {
  if (e.kind !== "binary") return false;
  if (COMPARISONS.has(e.op)) return true;
  return (e.op === "mul" || e.op === "min") && isCondition(e.lhs) && isCondition(e.rhs);
}

/**
 * The lower bound on `v` that `cond` (or, with `negated`, its negation)
 * implies for a nonnegative integer `v`; 0 when it implies none. Understood:
 * comparisons of `v` with a constant on either side, and conjunctions
 * (a product or `min` of conditions, themselves comparisons or
 * conjunctions, so that the value is 0 or 1 and never NaN).
 *
 * @example
 * ```ts
 * guardLowerBound(binary("gt", indexValue("t"), num(0)), "t", false); // 1
 * guardLowerBound(binary("lt", indexValue("t"), num(2)), "t", true);  // 2 (the else branch of t < 2)
 * ```
 */
export function guardLowerBound(cond: Expr, v: string, negated: boolean): number {
  if (cond.kind !== "binary") return 0;
  const { op, lhs, rhs } = cond;
  // A conjunction only of conditions (each 0 or 1): `0 * NaN` or `min(0, -1)` would be nonzero.
  if (!negated && (op === "mul" || op === "min")) {
    return isCondition(lhs) && isCondition(rhs) ? Math.max(guardLowerBound(lhs, v, false), guardLowerBound(rhs, v, false)) : 0;
  }
  // Normalise to `v OP k`.
  let rel: string = op;
  let k: number | null = null;
  if (isIndex(lhs, v)) k = constOf(rhs);
  else if (isIndex(rhs, v)) {
    k = constOf(lhs);
    rel = ({ lt: "gt", le: "ge", gt: "lt", ge: "le", eq: "eq", ne: "ne" } as Record<string, string>)[op] ?? "";
  }
  if (k === null || !Number.isFinite(k)) return 0;
  if (negated) rel = ({ lt: "ge", le: "gt", gt: "le", ge: "lt", eq: "ne", ne: "eq" } as Record<string, string>)[rel] ?? "";
  switch (rel) {
    case "gt": return Math.max(0, Math.floor(k) + 1);
    case "ge": return Math.max(0, Math.ceil(k));
    case "ne": return k === 0 ? 1 : 0;
    case "eq": return Number.isInteger(k) ? Math.max(0, k) : 0;
    default: return 0;
  }
}

/**
 * Every access of `def.body` to the tensor `self` with the guard bound on
 * `v` at that point, in the body's order (select: condition, then, else).
 *
 * @example
 * ```ts
 * selfReads(cs.body, "Cs", "i"); // [{ access: Cs[i - 1], guard: 1 }]
 * ```
 */
export function selfReads(body: Expr, self: string, v: string): SelfRead[] {
  const out: SelfRead[] = [];
  const walk = (e: Expr, guard: number): void => {
    switch (e.kind) {
      case "const":
      case "index":
        return;
      case "access":
        if (e.tensor === self) out.push({ access: e, guard });
        return;
      case "gather":
        for (const d of e.index) if (d.value !== null) walk(d.value, guard);
        return;
      case "unary":
        walk(e.arg, guard);
        return;
      case "binary":
        walk(e.lhs, guard);
        walk(e.rhs, guard);
        return;
      case "select":
        walk(e.cond, guard);
        walk(e.then, Math.max(guard, guardLowerBound(e.cond, v, false)));
        walk(e.else, Math.max(guard, guardLowerBound(e.cond, v, true)));
        return;
      case "reduce":
        walk(e.body, e.vars.includes(v) ? 0 : guard);
        return;
    }
  };
  walk(body, 0);
  return out;
}

/**
 * The step `c` of a self-read's index in the sequential dimension when it is
 * `v - c` with a constant c > 0, else null.
 *
 * @example
 * ```ts
 * recurrenceStep(affine([{ var: "t", coef: 1 }], -1), "t"); // 1
 * recurrenceStep(affine([{ var: "t", coef: 1 }], 1), "t");  // null (a forward read)
 * ```
 */
export function recurrenceStep(a: Affine, v: string): number | null {
  if (a.terms.length !== 1 || a.terms[0]!.var !== v || a.terms[0]!.coef !== 1) return null;
  return a.constant < 0 ? -a.constant : null;
}

/**
 * Whether an expression reads the tensor `name` anywhere.
 *
 * @example
 * ```ts
 * readsTensor(parseExpr("x[i] + Cs[i - 1]"), "Cs"); // true
 * ```
 */
export function readsTensor(e: Expr, name: string): boolean {
  switch (e.kind) {
    case "const":
    case "index":
      return false;
    case "access":
      return e.tensor === name;
    case "gather":
      return e.tensor === name || e.index.some((d) => d.value !== null && readsTensor(d.value, name));
    case "unary":
      return readsTensor(e.arg, name);
    case "binary":
      return readsTensor(e.lhs, name) || readsTensor(e.rhs, name);
    case "select":
      return readsTensor(e.cond, name) || readsTensor(e.then, name) || readsTensor(e.else, name);
    case "reduce":
      return readsTensor(e.body, name);
  }
}

/**
 * The violations of invariant 8 by one def (empty when it holds): the
 * sequential index is an ungrouped output index, and every self-read is at
 * `v - c` in v's dimension, does not mention v elsewhere, and is guarded by
 * `v >= c`. A def without `recurrence` must not read itself.
 *
 * @example
 * ```ts
 * recurrenceErrors(csDef); // []
 * ```
 */
export function recurrenceErrors(d: DefNode): string[] {
  const where = `tensor '${d.name}'`;
  const v = d.recurrence;
  if (v === undefined) return readsTensor(d.body, d.name) ? [`${where}: reads itself but is not a recurrence (invariant 1)`] : [];
  const errors: string[] = [];
  const dim = d.indices.indexOf(v);
  if (dim < 0) return [`${where}: sequential index '${v}' is not an output index (invariant 8)`];
  if (d.groups.some((g) => g !== 1)) errors.push(`${where}: a recurrence has grouped dimensions (invariant 8)`);
  for (const { access, guard } of selfReads(d.body, d.name, v)) {
    const a = access.index[dim];
    const text = `self-read ${d.name}[${access.index.length} indices]`;
    if (access.index.length !== d.indices.length || a === undefined) {
      errors.push(`${where}: ${text} has the wrong rank (invariant 8)`);
      continue;
    }
    const c = recurrenceStep(a, v);
    if (c === null) errors.push(`${where}: ${text} is not at '${v} - c' with c > 0 in dimension ${dim + 1} (invariant 8)`);
    else if (guard < c) errors.push(`${where}: ${text} at '${v} - ${c}' is guarded only by ${v} >= ${guard} (invariant 8)`);
    access.index.forEach((b, k) => {
      if (k !== dim && b.terms.some((t) => t.var === v)) errors.push(`${where}: ${text} mentions '${v}' in dimension ${k + 1} (invariant 8)`);
    });
  }
  return errors;
}
