/**
 * fold-constants: evaluates constant subexpressions and applies the
 * algebraic identities that hold for every double, `inf` and `nan` included.
 *
 * - an operator whose operands are all constants becomes its value, computed
 *   with the reference interpreter's own operator semantics (`sqrt(64)` is 8);
 * - `x * 1`, `x + (-0)`, `x - 0`, `x / 1`, `x ^ 1`, `min(x, inf)`,
 *   `max(x, -inf)` become `x`, and so does `x + 0` where `x` cannot be `-0`
 *   (`-0 + 0` is `+0`); `x ^ 0` becomes 1; `x ^ 2` becomes `x * x` when `x`
 *   is an access or an index (so that no work is duplicated);
 * - `where(c, a, b)` with a constant `c` becomes `a` or `b`, and
 *   `where(c, a, a)` becomes `a`;
 * - a reduction over variables its body does not use: `max`/`min` drop them,
 *   `sum` multiplies by their extent (`sum(j) x` is `x * |j|`, plus `0` when
 *   `x` may be `-0`; a constant body is summed at compile time, in the
 *   interpreter's order, when the extent is small), `prod` of a constant is
 *   computed.
 *
 * Not folded, because it is wrong for `inf`/`nan`: `x * 0`, `x - x`, `x / x`.
 * Factoring a partly independent body (`sum(j) A[i] * B[j]`) is left to the
 * optimizer.
 *
 * Before:
 *
 *     Y[i] = sum(j) (exp(A[i]) * (sqrt(64) - 7)) + pow(where(1, B[i], C[i]), 2)
 *
 * After (with `|j|` = 3):
 *
 *     Y[i] = 3 * exp(A[i]) + B[i] * B[i]
 */
import type { BinaryOp, DefNode, Expr, Program, Reduce, TensorNode } from "../ir/types.js";
import { num, select } from "../ir/types.js";
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import { boundVars, exprEquals, freeVars, mapGatherValues } from "../ir/walk.js";
import { canonicalBinary, canonicalReduce, canonicalUnary, cannotBeNegativeZero } from "./canonicalize.js";
import { PROPERTIES, type Pass } from "./pass.js";
import { evalBinary, evalUnary } from "../ir/ops.js";

export { evalBinary, evalUnary } from "../ir/ops.js";

/**
 * The fold-constants pass.
 *
 * @example
 * ```ts
 * foldConstants.run(program); // sqrt(64) is now 8
 * ```
 */
export const foldConstants: Pass = {
  name: "fold-constants",
  description: "evaluate constant subexpressions and apply inf/nan-safe identities",
  requires: [PROPERTIES.noCalls],
  guarantees: [PROPERTIES.folded],
  // Rebuilding through canonicalize's builders keeps a canonical body canonical.
  preserves: [PROPERTIES.noCalls, PROPERTIES.noDeadCode, PROPERTIES.canonical],
  run: foldProgram,
};

/** Largest number of terms summed one by one at compile time for a constant `sum`/`prod` body. */
const MAX_SEQUENTIAL_FOLD = 1 << 16;

/**
 * Folds the body of every def of `program`.
 *
 * @example
 * ```ts
 * foldProgram(parseProgramText("input A: f32[2]\noutput Y: f32[2] = [i:2] A[i] * sqrt(4)\n"));
 * // ...output Y: f32[2] = [i:2] 2 * A[i]
 * ```
 */
export function foldProgram(program: Program): Program {
  return { ...program, tensors: program.tensors.map(foldNode) };
}

function foldNode(t: TensorNode): TensorNode {
  if (t.role !== "def") return t;
  const body = foldExpr(t.body, t.ranges);
  return body === t.body ? t : { ...t, body, ranges: usedRanges(t, body) };
}

/** The def's ranges restricted to the variables still in use (folding may drop reduction variables). */
function usedRanges(t: DefNode, body: Expr): Record<string, number> {
  const keep = new Set([...t.indices, ...boundVars(body)]);
  const out: Record<string, number> = {};
  for (const [v, n] of Object.entries(t.ranges)) if (keep.has(v)) out[v] = n;
  return out;
}

/** Enough rounds for any chain of folds that canonical reordering exposes in practice. */
const MAX_ROUNDS = 16;

/**
 * The folded form of `e`; `ranges` gives the extent of every index variable.
 * Nodes are rebuilt through canonicalize's builders only where something
 * folded, so a canonical input gives a canonical output; rounds repeat while
 * reordering brings constants together (`2 + a + where(1, 3, b)`).
 *
 * @example
 * ```ts
 * foldExpr(unary("sqrt", num(64)), {}); // num(8)
 * ```
 */
export function foldExpr(e: Expr, ranges: Readonly<Record<string, number>>): Expr {
  let current = e;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = foldOnce(current, ranges);
    if (next === current) break;
    current = next;
  }
  return current;
}

/** One bottom-up folding round; returns `e` itself when nothing folds. */
function foldOnce(e: Expr, ranges: Readonly<Record<string, number>>): Expr {
  switch (e.kind) {
    case "const":
    case "index":
    case "access":
      return e;
    case "gather":
      return mapGatherValues(e, (v) => foldOnce(v, ranges));
    case "unary": {
      const arg = foldOnce(e.arg, ranges);
      if (arg.kind === "const") return num(evalUnary(e.op, arg.value));
      return arg === e.arg ? e : canonicalUnary(e.op, arg);
    }
    case "binary": {
      const lhs = foldOnce(e.lhs, ranges);
      const rhs = foldOnce(e.rhs, ranges);
      const folded = foldBinary(e.op, lhs, rhs);
      if (folded !== undefined) return folded;
      return lhs === e.lhs && rhs === e.rhs ? e : canonicalBinary(e.op, lhs, rhs);
    }
    case "select": {
      const cond = foldOnce(e.cond, ranges);
      const then = foldOnce(e.then, ranges);
      const otherwise = foldOnce(e.else, ranges);
      if (cond.kind === "const") return isTrue(cond.value) ? then : otherwise;
      if (exprEquals(then, otherwise)) return then;
      return cond === e.cond && then === e.then && otherwise === e.else ? e : select(cond, then, otherwise);
    }
    case "reduce": {
      const body = foldOnce(e.body, ranges);
      return foldReduce(e, body, ranges) ?? (body === e.body ? e : canonicalReduce(e.op, e.vars, body));
    }
  }
}

/** The folded `op(lhs, rhs)`, or undefined when no rule applies. */
function foldBinary(op: BinaryOp, lhs: Expr, rhs: Expr): Expr | undefined {
  const l = lhs.kind === "const" ? lhs.value : undefined;
  const r = rhs.kind === "const" ? rhs.value : undefined;
  if (l !== undefined && r !== undefined) return num(evalBinary(op, l, r));
  switch (op) {
    case "mul":
      if (r === 1) return lhs;
      if (l === 1) return rhs;
      return undefined;
    case "add":
      if (r !== undefined && isZeroFor(rhs, lhs)) return lhs;
      if (l !== undefined && isZeroFor(lhs, rhs)) return rhs;
      return undefined;
    case "sub":
      return Object.is(r, 0) ? lhs : undefined;
    case "div":
      return r === 1 ? lhs : undefined;
    case "pow":
      if (r === 1) return lhs;
      if (r === 0) return num(1);
      if (r === 2 && isLeaf(lhs)) return canonicalBinary("mul", lhs, lhs);
      return undefined;
    case "min":
      if (r === Infinity) return lhs;
      if (l === Infinity) return rhs;
      return undefined;
    case "max":
      if (r === -Infinity) return lhs;
      if (l === -Infinity) return rhs;
      return undefined;
    default:
      return undefined;
  }
}

/** Whether adding the constant `zero` to `x` gives exactly `x`: `-0` always, `+0` when `x` cannot be `-0`. */
function isZeroFor(zero: Expr, x: Expr): boolean {
  if (zero.kind !== "const") return false;
  return Object.is(zero.value, -0) || (Object.is(zero.value, 0) && cannotBeNegativeZero(x));
}

/** Whether `e` is cheap enough to evaluate twice (`x ^ 2` as `x * x` must not duplicate work). */
function isLeaf(e: Expr): boolean {
  return e.kind === "access" || e.kind === "index";
}

/** A reduction with folded `body` without the variables the body does not use, or undefined when it uses all. */
function foldReduce(e: Reduce, body: Expr, ranges: Readonly<Record<string, number>>): Expr | undefined {
  const used = freeVars(body);
  const live = e.vars.filter((v) => used.has(v));
  if (live.length === e.vars.length) return undefined;
  const dead = e.vars.filter((v) => !used.has(v));
  const count = dead.reduce((n, v) => n * extentOf(v, ranges), 1);
  const inner = live.length > 0 ? canonicalReduce(e.op, live, body) : body;
  switch (e.op) {
    case "max":
    case "min":
      return inner;
    case "sum":
      if (inner.kind === "const") return num(repeatedSum(inner.value, count));
      // The loop starts from +0, so a body of -0 sums to +0: keep the `0 +` unless the body cannot be -0.
      return canonicalBinary("add", num(0), canonicalBinary("mul", inner, num(count)));
    case "prod":
      // Only a constant product folds: `x ^ count` would round differently from the loop.
      return inner.kind === "const" ? num(repeatedProduct(inner.value, count)) : undefined;
  }
}

/** `x` added `count` times to 0, one by one when that is cheap, so rounding matches the interpreter's loop. */
function repeatedSum(x: number, count: number): number {
  if (count > MAX_SEQUENTIAL_FOLD) return x * count;
  let acc = 0;
  for (let k = 0; k < count; k++) acc += x;
  return acc;
}

/** `x` multiplied `count` times into 1, one by one when that is cheap. */
function repeatedProduct(x: number, count: number): number {
  if (count > MAX_SEQUENTIAL_FOLD) return Math.pow(x, count);
  let acc = 1;
  for (let k = 0; k < count; k++) acc *= x;
  return acc;
}

function extentOf(v: string, ranges: Readonly<Record<string, number>>): number {
  const n = ranges[v];
  if (n === undefined) throw new InternalCompilerError(`reduction variable '${v}' has no range`);
  return n;
}

function isTrue(c: number): boolean {
  return c !== 0;
}
