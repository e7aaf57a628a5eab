/**
 * Scatter-adds (invariant 10 of `types.ts`): a def marked `scatter` is the
 * sum, at each element, of the terms whose data-dependent index selects it,
 *
 *     grad_Wte: f32[7, 4] = scatter(g0) [g0:7, g1:4] sum(t:5) where(ids[t] == g0, dXe[t, g1], 0)
 *
 * which is exactly what its body says read pointwise (so every pass that
 * does not know the mark still computes the right values), but which the
 * reference interpreter and the js and wasm backends compute in one pass
 * over the terms, adding each to the element its index names: O(|ids|·|d|)
 * instead of O(|Wte|·|ids|). The helpers here take the form apart and check
 * the invariant; the verifier, the interpreter and the kernel layer share
 * them.
 */
import type { DefNode, Expr, GatherMode } from "./types.js";
import { binary, num, select } from "./types.js";
import { freeVars } from "./walk.js";

/** The parts of a scatter-add def. */
export interface ScatterAddForm {
  /** The output index the data-dependent index selects (`g0`). */
  readonly index: string;
  /** The summed variables (`t`). */
  readonly summed: readonly string[];
  /** The data-dependent index before `mode` resolves it (`ids[t]`); free of `index`. */
  readonly value: Expr;
  /** What each point adds (`dXe[t, g1]`, under the mask's other conditions); free of `index`. */
  readonly term: Expr;
  /** `check`: an index outside the dimension stops the run (TNS0620); `clamp`: it adds to the nearest element. */
  readonly mode: GatherMode;
}

const isIndex = (e: Expr, v: string): boolean => e.kind === "index" && e.var === v;

function factorsOf(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...factorsOf(e.lhs), ...factorsOf(e.rhs)] : [e];
}

/** The operand of `op(a, b)` other than the constant `c` (either order, as canonicalize leaves them), or null. */
function besides(e: Expr, op: "min" | "max", c: number): Expr | null {
  if (e.kind !== "binary" || e.op !== op) return null;
  if (e.rhs.kind === "const" && e.rhs.value === c) return e.lhs;
  if (e.lhs.kind === "const" && e.lhs.value === c) return e.rhs;
  return null;
}

/** `x` when `e` is `min(max(x, 0), last)` or `max(min(x, last), 0)` (operands in either order), else null. */
function unclamped(e: Expr, last: number): Expr | null {
  const outerMin = besides(e, "min", last);
  if (outerMin !== null) return besides(outerMin, "max", 0);
  const outerMax = besides(e, "max", 0);
  return outerMax === null ? null : besides(outerMax, "min", last);
}

/**
 * The parts of `def` when it is marked `scatter` and has the form of
 * invariant 10, else null:
 *
 *     sum(S) where(value == v  [* other conditions free of v], term, 0)
 *
 * with `v` the marked output index, free in neither `value` nor the rest; in
 * mode `clamp` the comparison reads `min(max(value, 0), |v| - 1)`.
 *
 * @example
 * ```ts
 * scatterAddForm(gradWte)?.value; // ids[t]
 * ```
 */
export function scatterAddForm(def: DefNode): ScatterAddForm | null {
  const mark = def.scatter;
  if (mark === undefined || def.recurrence !== undefined) return null;
  const v = mark.index;
  const body = def.body;
  if (!def.indices.includes(v) || body.kind !== "reduce" || body.op !== "sum" || body.vars.includes(v)) return null;
  const masked = body.body;
  if (masked.kind !== "select" || masked.else.kind !== "const" || masked.else.value !== 0) return null;
  const factors = factorsOf(masked.cond);
  const at = factors.findIndex((f) => f.kind === "binary" && f.op === "eq" && (isIndex(f.lhs, v) || isIndex(f.rhs, v)));
  if (at < 0) return null;
  const eq = factors[at] as Extract<Expr, { kind: "binary" }>;
  let value: Expr | null = isIndex(eq.lhs, v) ? eq.rhs : eq.lhs;
  if (mark.mode === "clamp") value = unclamped(value, def.ranges[v]! - 1);
  if (value === null) return null;
  const rest = factors.filter((_, k) => k !== at);
  const term = rest.length === 0 ? masked.then : select(rest.reduce((a, b) => binary("mul", a, b)), masked.then, num(0));
  if (freeVars(value).has(v) || freeVars(term).has(v)) return null;
  return { index: v, summed: body.vars, value, term, mode: mark.mode };
}

/**
 * The violations of invariant 10 by one def (empty when it holds or when
 * the def is not marked).
 *
 * @example
 * ```ts
 * scatterErrors(gradWte); // []
 * ```
 */
export function scatterErrors(def: DefNode): string[] {
  if (def.scatter === undefined) return [];
  const where = `tensor '${def.name}'`;
  if (def.groups.some((g) => g !== 1)) return [`${where}: a scatter-add has grouped dimensions (invariant 10)`];
  if (scatterAddForm(def) === null) {
    return [`${where}: marked scatter(${def.scatter.index}) but its body is not sum(...) where(index == ${def.scatter.index}, term, 0) with ${def.scatter.index} free in neither (invariant 10)`];
  }
  return [];
}
