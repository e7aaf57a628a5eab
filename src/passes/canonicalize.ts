/**
 * canonicalize: rewrites every def body into one deterministic normal form,
 * so that equal computations look equal to later passes (CSE compares
 * bodies structurally).
 *
 * - operands of the commutative operators (`add mul min max eq ne`) are
 *   ordered by {@link compareExprs}; nested chains of the same associative operator
 *   (`add mul min max`) are flattened and rebuilt left-associated (balanced when long), constants
 *   first, so that fold-constants meets them side by side;
 * - `a > b` becomes `b < a` and `a >= b` becomes `b <= a`; `a - b` stays;
 * - `x * 1`, `x + (-0)` and `--x` become `x`, and so does `x + 0` where `x`
 *   cannot be `-0` (see {@link cannotBeNegativeZero}): every rewrite here is
 *   exact for signed zeros, infinities and NaN;
 * - `x / c` becomes `x * (1/c)` only when `c` is a power of two, the one case
 *   where the reciprocal is exact and the product rounds like the quotient;
 * - reduction variables are sorted, and a reduction directly nested in one of
 *   the same operator is merged into it (`sum(i) sum(j) e` is
 *   `sum(i, j) e`); different operators never merge.
 *
 * Reassociating `add` and `mul` (flattening chains, merging sums) may change
 * the last bits of a float result, as any reduction order does; `min` and
 * `max` are exact.
 *
 * Before:
 *
 *     Y[i] = sum(j) sum(k) (A[i, k] * 1 + (B[j] + C[i])) / 4
 *
 * After:
 *
 *     Y[i] = sum(j, k) 0.25 * (A[i, k] + B[j] + C[i])
 */
import type { BinaryOp, Expr, Program, ReduceOp, TensorNode, UnaryOp } from "../ir/types.js";
import { associativeChain, binary, reduce, select, unary } from "../ir/types.js";
import { exprKey, mapGatherValues } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";

/**
 * The canonicalize pass.
 *
 * @example
 * ```ts
 * canonicalize.run(canonicalize.run(p)); // equals canonicalize.run(p)
 * ```
 */
export const canonicalize: Pass = {
  name: "canonicalize",
  description: "put every body in a deterministic normal form",
  requires: [PROPERTIES.noCalls],
  guarantees: [PROPERTIES.canonical],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noDeadCode],
  run: canonicalizeProgram,
};

/**
 * Canonicalizes the body of every def of `program`.
 *
 * @example
 * ```ts
 * canonicalizeProgram(parseProgramText("input A: f32[2]\noutput Y: f32[2] = [i:2] 1 * A[i]\n"));
 * // input A: f32[2]
 * // output Y: f32[2] = [i:2] A[i]
 * ```
 */
export function canonicalizeProgram(program: Program): Program {
  return { ...program, tensors: program.tensors.map(canonicalizeNode) };
}

function canonicalizeNode(t: TensorNode): TensorNode {
  return t.role === "def" ? { ...t, body: canonicalizeExpr(t.body) } : t;
}

const ASSOCIATIVE: ReadonlySet<BinaryOp> = new Set(["add", "mul", "min", "max"]);
const COMMUTATIVE: ReadonlySet<BinaryOp> = new Set(["add", "mul", "min", "max", "eq", "ne"]);

/**
 * The canonical form of one expression.
 *
 * @example
 * ```ts
 * canonicalizeExpr(binary("add", access("B", ["i"]), access("A", ["i"]))); // A[i] + B[i]
 * ```
 */
export function canonicalizeExpr(e: Expr): Expr {
  switch (e.kind) {
    case "const":
    case "index":
    case "access":
      return e;
    case "gather":
      return mapGatherValues(e, canonicalizeExpr);
    case "unary":
      return canonicalUnary(e.op, canonicalizeExpr(e.arg));
    case "select":
      return select(canonicalizeExpr(e.cond), canonicalizeExpr(e.then), canonicalizeExpr(e.else));
    case "reduce":
      return canonicalReduce(e.op, e.vars, canonicalizeExpr(e.body));
    case "binary":
      return canonicalBinary(e.op, canonicalizeExpr(e.lhs), canonicalizeExpr(e.rhs));
  }
}

// The three builders below give a canonical node from canonical operands;
// fold-constants builds through them so that it keeps a canonical program
// canonical.

/**
 * `op(arg)` in canonical form, given a canonical `arg`.
 *
 * @example
 * ```ts
 * canonicalUnary("neg", unary("neg", access("A", ["i"]))); // A[i]
 * ```
 */
export function canonicalUnary(op: UnaryOp, arg: Expr): Expr {
  if (op === "neg" && arg.kind === "unary" && arg.op === "neg") return arg.arg;
  return unary(op, arg);
}

/**
 * `op_{vars} body` in canonical form, given a canonical `body`.
 *
 * @example
 * ```ts
 * canonicalReduce("sum", ["j"], reduce("sum", ["i"], access("A", ["i", "j"]))); // sum(i, j) A[i, j]
 * ```
 */
export function canonicalReduce(op: ReduceOp, vars: readonly string[], body: Expr): Expr {
  if (body.kind === "reduce" && body.op === op) return reduce(op, sortedVars([...vars, ...body.vars]), body.body);
  return reduce(op, sortedVars(vars), body);
}

/**
 * `op(lhs, rhs)` in canonical form, given canonical operands.
 *
 * @example
 * ```ts
 * canonicalBinary("div", access("A", ["i"]), num(4)); // 0.25 * A[i]
 * ```
 */
export function canonicalBinary(op: BinaryOp, lhs: Expr, rhs: Expr): Expr {
  if (op === "div" && rhs.kind === "const" && hasExactReciprocal(rhs.value)) return canonicalBinary("mul", lhs, { kind: "const", value: 1 / rhs.value });
  if (op === "gt") return binary("lt", rhs, lhs);
  if (op === "ge") return binary("le", rhs, lhs);
  if (ASSOCIATIVE.has(op)) return chain(op, [...operands(op, lhs), ...operands(op, rhs)]);
  if (COMMUTATIVE.has(op) && compareExprs(rhs, lhs) < 0) return binary(op, rhs, lhs);
  return binary(op, lhs, rhs);
}

/** The operands of a (canonical) chain of `op`, left to right, or `[e]`. */
function operands(op: BinaryOp, e: Expr): Expr[] {
  const out: Expr[] = [];
  const pending: Expr[] = [e];
  while (pending.length > 0) {
    const x = pending.pop()!;
    if (x.kind === "binary" && x.op === op) pending.push(x.rhs, x.lhs);
    else out.push(x);
  }
  return out;
}

/** A sorted chain of `op` over `items`, without the identity operands it can drop exactly. */
function chain(op: BinaryOp, items: readonly Expr[]): Expr {
  let kept = op === "add" ? withoutZeros(items) : op === "mul" ? items.filter((x) => !isConst(x, 1)) : [...items];
  if (kept.length === 0) kept = [items[0]!];
  // Long chains are balanced trees (associativeChain), never deeper than log2 of their length.
  return associativeChain(op, [...kept].sort(compareExprs));
}

/**
 * The operands of a sum without its zero constants where that is exact:
 * `-0` always goes; `+0` goes when another operand cannot be `-0` (a sum is
 * `-0` only when every operand is), otherwise one `+0` stays.
 */
function withoutZeros(items: readonly Expr[]): Expr[] {
  const rest = items.filter((x) => !isConst(x, 0) && !isConst(x, -0));
  const hadPositiveZero = items.some((x) => isConst(x, 0));
  if (!hadPositiveZero || rest.length === 0 || rest.some(cannotBeNegativeZero)) return rest;
  return [{ kind: "const", value: 0 }, ...rest];
}

function isAtLeastOne(e: Expr): boolean {
  return e.kind === "const" && e.value >= 1;
}

function isConst(e: Expr, value: number): boolean {
  return e.kind === "const" && Object.is(e.value, value);
}

/**
 * Whether `e` is never `-0`, so that `e + 0` is exactly `e` (for `-0`,
 * `-0 + 0` is `+0`, and `1 / (x + 0)` is `inf` where `1 / x` is `-inf`).
 * Conservative: `false` means "don't know".
 *
 * @example
 * ```ts
 * cannotBeNegativeZero(unary("exp", access("A", ["i"]))); // true
 * cannotBeNegativeZero(access("A", ["i"])); // false
 * ```
 */
export function cannotBeNegativeZero(e: Expr): boolean {
  switch (e.kind) {
    case "const":
      return !Object.is(e.value, -0);
    case "index":
      return true;
    case "access":
    case "gather":
      return false;
    case "unary":
      if (e.op === "exp" || e.op === "sigmoid" || e.op === "relu" || e.op === "abs" || e.op === "rsqrt") return true;
      return (e.op === "tanh" || e.op === "sqrt") && cannotBeNegativeZero(e.arg);
    case "binary":
      switch (e.op) {
        case "lt": case "le": case "gt": case "ge": case "eq": case "ne": return true;
        case "add": return cannotBeNegativeZero(e.lhs) || cannotBeNegativeZero(e.rhs);
        case "sub": return cannotBeNegativeZero(e.lhs);
        // A factor c >= 1 neither flips a sign nor underflows to zero.
        case "mul": return (isAtLeastOne(e.lhs) && cannotBeNegativeZero(e.rhs)) || (isAtLeastOne(e.rhs) && cannotBeNegativeZero(e.lhs));
        case "min": case "max": return cannotBeNegativeZero(e.lhs) && cannotBeNegativeZero(e.rhs);
        default: return false;
      }
    case "select":
      return cannotBeNegativeZero(e.then) && cannotBeNegativeZero(e.else);
    case "reduce":
      // A sum starts from +0, and +0 + -0 is +0; max and min return one of their values.
      if (e.op === "sum") return true;
      return e.op !== "prod" && cannotBeNegativeZero(e.body);
  }
}

/** Whether `1 / c` is exact and `x * (1 / c)` rounds like `x / c` for every `x`: `c` is a power of two. */
function hasExactReciprocal(c: number): boolean {
  if (!Number.isFinite(c) || c === 0) return false;
  const r = 1 / c;
  if (!Number.isFinite(r) || r === 0) return false;
  const e = Math.log2(Math.abs(c));
  return Number.isInteger(e) && Math.abs(c) === 2 ** e && r * c === 1;
}

function sortedVars(vars: readonly string[]): string[] {
  return [...vars].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A total order on expressions: by kind (constants first, then index values,
 * accesses, unary, binary, select, reduce), then by structural key.
 *
 * @example
 * ```ts
 * compareExprs(num(2), access("A", ["i"])); // negative: constants sort first
 * ```
 */
export function compareExprs(a: Expr, b: Expr): number {
  const ka = orderKey(a);
  const kb = orderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

const KIND_RANK: Readonly<Record<Expr["kind"], string>> = {
  const: "0", index: "1", access: "2", gather: "2z", unary: "3", binary: "4", select: "5", reduce: "6",
};

function orderKey(e: Expr): string {
  return KIND_RANK[e.kind] + exprKey(e);
}
