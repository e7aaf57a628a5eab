/**
 * Index-set splitting (invariant 11): the pieces of a def with `split`, each
 * the def's body specialised to one sub-box of its output.
 *
 * A piece is itself a def: every split index `v` of the piece runs over
 * `0 .. hi-lo-1` and stands for `v + lo` of the whole (the body is
 * substituted), so a backend lowers it as any def and stores it at the
 * shifted offset. Specialising uses only what holds over the piece's box:
 * a comparison of index values that is true (false) at every point of the
 * box becomes 1 (0), and a padding read whose indices stay inside the
 * tensor everywhere in the box loses its guard (invariant 4 then holds
 * without it). Then `where` with a constant condition keeps its branch.
 * Nothing else changes, so each element is computed by the same operations
 * in the same order as in the whole def.
 *
 *     whole:  Y[y:8] = sum(d:3) where(1 <= d + y && d + y < 9, X?[d + y - 1] * K[d], 0)    split(y: 1, 7)
 *     pieces: y in 0..0   Y[y:1] = sum(d:3) where(1 <= d + y, X?[d + y - 1] * K[d], 0)
 *             y in 1..6   Y[y:6] = sum(d:3) X[d + y] * K[d]
 *             y in 7..7   Y[y:1] = sum(d:3) where(d + y < 2, X?[d + y + 6] * K[d], 0)
 */
import type { Affine, BinaryOp, DefNode, Expr } from "./types.js";
import { affine, num } from "./types.js";
import { evalBinary, evalUnary } from "./ops.js";
import { affineBounds } from "./verify.js";
import { mapExpr, substituteVars } from "./walk.js";

/** One piece of a split def. */
export interface SplitPiece {
  /** The piece as a def over its sub-box (no `split`): a split index `v` stands for `v + origin[v]`. */
  readonly def: DefNode;
  /** The first value of every output index in the piece (0 for the indices not split). */
  readonly origin: Readonly<Record<string, number>>;
}

/** A linear form of index values: terms by variable, and a constant. */
interface Linear {
  readonly terms: Map<string, number>;
  readonly constant: number;
}

/**
 * An index arithmetic expression (index values, integer constants, `+ - *`
 * by a constant, `/` by a constant that divides exactly) as an affine form,
 * else null.
 *
 * @example
 * ```ts
 * indexAffine(binary("add", indexValue("y"), num(1))); // y + 1
 * ```
 */
export function indexAffine(e: Expr): Affine | null {
  const l = linear(e);
  return l === null ? null : affine([...l.terms].map(([v, coef]) => ({ var: v, coef })), l.constant);
}

function linear(e: Expr): Linear | null {
  switch (e.kind) {
    case "const":
      return Number.isInteger(e.value) ? { terms: new Map(), constant: e.value } : null;
    case "index":
      return { terms: new Map([[e.var, 1]]), constant: 0 };
    case "unary":
      return e.op === "neg" ? scaled(linear(e.arg), -1) : null;
    case "binary": {
      const a = linear(e.lhs);
      const b = linear(e.rhs);
      if (a === null || b === null) return null;
      if (e.op === "add") return combined(a, b, 1);
      if (e.op === "sub") return combined(a, b, -1);
      if (e.op === "mul") {
        if (a.terms.size === 0) return scaled(b, a.constant);
        if (b.terms.size === 0) return scaled(a, b.constant);
      }
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

function combined(a: Linear, b: Linear, sign: number): Linear {
  const terms = new Map(a.terms);
  for (const [v, c] of b.terms) terms.set(v, (terms.get(v) ?? 0) + sign * c);
  return { terms, constant: a.constant + sign * b.constant };
}

const COMPARISONS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(["lt", "le", "gt", "ge", "eq", "ne"]);

/** The value of `lhs op rhs` at every point where `lhs - rhs` lies in `min .. max`, or null when it varies. */
function decide(op: BinaryOp, min: number, max: number): 0 | 1 | null {
  const always = (p: boolean, q: boolean): 0 | 1 | null => (p ? 1 : q ? 0 : null);
  switch (op) {
    case "lt": return always(max < 0, min >= 0);
    case "le": return always(max <= 0, min > 0);
    case "gt": return always(min > 0, max <= 0);
    case "ge": return always(min >= 0, max < 0);
    case "eq": return always(min === 0 && max === 0, min > 0 || max < 0);
    case "ne": return always(min > 0 || max < 0, min === 0 && max === 0);
    default: return null;
  }
}

/** Whether `e` is always 0 or 1: a comparison, a constant 0 or 1, or `*`, `min`, `max` of such. */
function isTruthValue(e: Expr): boolean {
  if (e.kind === "const") return e.value === 0 || e.value === 1;
  if (e.kind !== "binary") return false;
  if (COMPARISONS.has(e.op)) return true;
  return (e.op === "mul" || e.op === "max" || e.op === "min") && isTruthValue(e.lhs) && isTruthValue(e.rhs);
}

/**
 * `body` with what holds over the box `ranges` (every variable in
 * `0 .. ranges[v]-1`) folded: decided comparisons of index values, padding
 * reads that stay in bounds, then constants and `where`s they leave.
 * Folding never reorders or drops an operation that has a non-constant
 * value, except the unselected branch of a decided `where` and the product
 * of a decided 0 with a truth value.
 *
 * @example
 * ```ts
 * specializeToBox(parseExpr("where(1 <= d + y, X?[d + y - 1], 0)"), { y: 5, d: 3 }, shapes); // X?[...] when y may be 0
 * ```
 */
export function specializeToBox(body: Expr, ranges: Readonly<Record<string, number>>, shapes: ReadonlyMap<string, readonly number[]>): Expr {
  return mapExpr(body, (e) => {
    switch (e.kind) {
      case "access": {
        const shape = shapes.get(e.tensor);
        if (!e.guarded || shape === undefined) return e;
        const inside = e.index.every((a, k) => {
          const { min, max } = affineBounds(a, ranges);
          return min >= 0 && max <= shape[k]! - 1;
        });
        return inside ? { kind: "access", tensor: e.tensor, index: e.index } : e;
      }
      case "unary":
        return e.arg.kind === "const" ? num(evalUnary(e.op, e.arg.value)) : e;
      case "binary": {
        if (e.lhs.kind === "const" && e.rhs.kind === "const") return num(evalBinary(e.op, e.lhs.value, e.rhs.value));
        if (COMPARISONS.has(e.op)) {
          const a = linear(e.lhs);
          const b = linear(e.rhs);
          if (a === null || b === null) return e;
          const d = combined(a, b, -1);
          const { min, max } = affineBounds(affine([...d.terms].filter(([, c]) => c !== 0).map(([v, coef]) => ({ var: v, coef })), d.constant), ranges);
          const value = decide(e.op, min, max);
          return value === null ? e : num(value);
        }
        if (e.op === "mul" && isTruthValue(e.lhs) && isTruthValue(e.rhs)) {
          if (e.lhs.kind === "const") return e.lhs.value === 0 ? e.lhs : e.rhs;
          if (e.rhs.kind === "const") return e.rhs.value === 0 ? e.rhs : e.lhs;
        }
        return e;
      }
      case "select":
        if (e.cond.kind !== "const") return e;
        // `where` picks `then` where the condition is nonzero (NaN included).
        return e.cond.value !== 0 ? e.then : e.else;
      default:
        return e;
    }
  });
}

/**
 * The pieces of a def with `split`, in row-major order of the grid of
 * sub-boxes; a def without it is its own one piece. `shapes` gives the
 * shape of every tensor the def reads.
 *
 * @example
 * ```ts
 * splitPieces({ ...def, split: [{ var: "y", cuts: [1, 7] }] }, shapes).map((p) => p.origin.y); // [0, 1, 7]
 * ```
 */
export function splitPieces(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): SplitPiece[] {
  const { split, ...whole } = def;
  if (split === undefined || split.length === 0) return [{ def: whole, origin: Object.fromEntries(def.indices.map((v) => [v, 0])) }];
  // Each split index's intervals [lo, hi).
  const intervals = split.map((s) => {
    const bounds = [0, ...s.cuts, def.ranges[s.var]!];
    return bounds.slice(0, -1).map((lo, k) => ({ var: s.var, lo, hi: bounds[k + 1]! }));
  });
  let boxes: { var: string; lo: number; hi: number }[][] = [[]];
  for (const choices of intervals) boxes = boxes.flatMap((b) => choices.map((c) => [...b, c]));
  return boxes.map((box) => {
    const shift: Record<string, Affine> = {};
    const ranges: Record<string, number> = { ...def.ranges };
    const origin: Record<string, number> = Object.fromEntries(def.indices.map((v) => [v, 0]));
    for (const { var: v, lo, hi } of box) {
      if (lo !== 0) shift[v] = affine([{ var: v, coef: 1 }], lo);
      ranges[v] = hi - lo;
      origin[v] = lo;
    }
    const shifted = Object.keys(shift).length === 0 ? def.body : substituteVars(def.body, shift);
    const body = mapExpr(specializeToBox(shifted, ranges, shapes), (e) => (e.kind === "reduce" ? trimSum(e, ranges, shapes) : e));
    const shape = shapeOf(whole, ranges);
    return { def: { ...whole, shape, ranges, body }, origin };
  });
}

/** The conjuncts of a truth value: the factors of a product of truth values. */
function conjuncts(c: Expr): Expr[] {
  if (c.kind === "binary" && c.op === "mul" && isTruthValue(c.lhs) && isTruthValue(c.rhs)) return [...conjuncts(c.lhs), ...conjuncts(c.rhs)];
  return [c];
}

/**
 * A `sum(vars) where(c, t, 0)` whose condition bounds one summed
 * variable `r` (a conjunct in `r` and variables of extent 1 only, such as
 * `1 <= dy + y` in a one-row piece) summed over the values of `r` that
 * satisfy it: `r` becomes `r + lo` with extent `hi - lo + 1`, and the
 * conjunct, now always true, folds away (as does the guard of a padding
 * read it kept in bounds). The terms left out are the `where`'s `0`, and
 * adding 0 to a sum that starts at +0 never changes it, so the value is
 * exactly the same. `ranges` is updated in place.
 */
function trimSum(body: Expr, ranges: Record<string, number>, shapes: ReadonlyMap<string, readonly number[]>): Expr {
  if (body.kind !== "reduce" || body.op !== "sum" || body.body.kind !== "select") return body;
  const inner = body.body;
  if (inner.else.kind !== "const" || inner.else.value !== 0) return body;
  const bounds = new Map<string, { lo: number; hi: number }>(body.vars.map((v) => [v, { lo: 0, hi: ranges[v]! - 1 }]));
  for (const c of conjuncts(inner.cond)) {
    if (c.kind !== "binary" || !COMPARISONS.has(c.op) || c.op === "ne") continue;
    const a = linear(c.lhs);
    const b = linear(c.rhs);
    if (a === null || b === null) continue;
    // lhs - rhs = k*r + rest, with rest over variables of extent 1 (each 0).
    const d = combined(a, b, -1);
    const live = [...d.terms].filter(([v, k]) => k !== 0 && (ranges[v] ?? 1) > 1);
    if (live.length !== 1 || !bounds.has(live[0]![0])) continue;
    const [r, k] = live[0]!;
    const rest = d.constant;
    const known = bounds.get(r)!;
    // The values of k*r satisfying `k*r + rest  op  0`, as lo .. hi.
    const [min, max] = c.op === "lt" ? [-Infinity, -rest - 1] : c.op === "le" ? [-Infinity, -rest]
      : c.op === "gt" ? [-rest + 1, Infinity] : c.op === "ge" ? [-rest, Infinity] : [-rest, -rest];
    const [lo, hi] = k > 0 ? [Math.ceil(min / k), Math.floor(max / k)] : [Math.ceil(max / k), Math.floor(min / k)];
    bounds.set(r, { lo: Math.max(known.lo, lo), hi: Math.min(known.hi, hi) });
  }
  const shift: Record<string, Affine> = {};
  for (const [r, { lo, hi }] of bounds) {
    // An empty range: every term is the `where`'s 0 (left to the general nest).
    if (lo > hi) return body;
    if (lo === 0 && hi === ranges[r]! - 1) continue;
    shift[r] = affine([{ var: r, coef: 1 }], lo);
  }
  if (Object.keys(shift).length === 0) return body;
  for (const [r, { lo, hi }] of bounds) if (shift[r] !== undefined) ranges[r] = hi - lo + 1;
  return specializeToBox({ ...body, body: substituteVars(inner, shift) }, ranges, shapes);
}

/** The shape of a def over other ranges of its output indices (grouped as the def is). */
function shapeOf(def: DefNode, ranges: Readonly<Record<string, number>>): number[] {
  let k = 0;
  return def.groups.map((g) => {
    const vars = def.indices.slice(k, k += g);
    return vars.reduce((n, v) => n * ranges[v]!, 1);
  });
}
