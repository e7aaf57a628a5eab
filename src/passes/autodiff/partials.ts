/**
 * Reverse-mode derivatives of one scalar IR expression: for every access
 * occurrence in it, the partial derivative of the expression with respect to
 * the value read there, as an expression of the same variables.
 *
 *     exp(X[i]) * Y[i, j]   ->   X[i]:    exp(X[i]) * Y[i, j]
 *                                Y[i, j]: exp(X[i])
 *
 * The expression must be free of reductions (`normalize.ts` hoists them into
 * defs of their own). Tie and kink rules, also in docs/language.md:
 * `relu` and `abs` have derivative 0 at 0; `min`/`max` split the derivative
 * evenly between equal arguments; comparisons, `where`'s condition and index
 * values have derivative 0. The derivatives of `tanh` and `sigmoid` use
 * forms that do not cancel in float32.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { binary, indexValue, num, reduce, select, unary, type Access, type Expr, type Gather } from "../../ir/types.js";
import { renameVars } from "../../ir/walk.js";

/**
 * One read occurrence and the derivative of the expression by its value.
 * For a gather, `access` is absent and `gather` is the read (its indices
 * are data: their own derivative is zero).
 */
export type Partial =
  | { readonly access: Access; readonly coef: Expr; readonly gather?: undefined; readonly within: readonly string[] }
  | { readonly access?: undefined; readonly coef: Expr; readonly gather: Gather; readonly within: readonly string[] };

/**
 * How {@link partials} treats reductions inside the expression. Without it a
 * reduction is an internal error (normalize the def first). With it (the
 * step of a recurrence, which cannot be split into defs because its
 * reductions read the recurrence itself), a read under `op_{k}` gets the
 * derivative of the reduction by its term at `k`, with `k` left free in the
 * coefficient and listed in the partial's `within`:
 *
 * - `sum`: 1;
 * - `prod`: the product of the other terms, `prod(k') where(k' == k, 1, e[k'])`;
 * - `max`/`min`: `(e[k] == M) / sum(k') (e[k'] == M)` with `M` the reduction
 *   itself, over stored terms (`store`): equal extremes share the derivative
 *   evenly.
 *
 * `fresh(v)` names a copy of the bound variable `v` (same extent) that is
 * used nowhere else.
 */
export interface NestedReductions {
  readonly fresh: (v: string) => string;
  /**
   * A read of `e` stored (a def over its free variables): the tie test of a
   * `max`/`min` then compares stored values, `B[.., k] == max(k') B[.., k']`,
   * which holds exactly on a float32 backend as in float64.
   */
  readonly store: (e: Expr) => Expr;
}

/**
 * The partial derivative of `e` by each access occurrence of it, in
 * left-to-right order; occurrences whose derivative is identically zero
 * (under a comparison or a `where` condition) are left out. `value` reads
 * the stored result of `e` when there is one: `exp(x)`'s derivative is then
 * that read instead of a second `exp`.
 *
 * @example
 * ```ts
 * partials(binary("mul", access("A", ["i"]), access("B", ["i"]))); // [{A[i], B[i]}, {B[i], A[i]}]
 * ```
 */
export function partials(e: Expr, value?: Expr, nested?: NestedReductions): Partial[] {
  const ctx: Ctx = { out: [], within: [], nested };
  // In a recurrence's step tanh's derivative comes from its stored result: recomputing the argument would redo the step's product.
  if (value !== undefined && e.kind === "unary" && (REUSES_VALUE.has(e.op) || (nested !== undefined && e.op === "tanh"))) walk(e.arg, derivativeFromValue(e.op, value, e.arg), ctx);
  else walk(e, num(1), ctx);
  return ctx.out;
}

interface Ctx {
  readonly out: Partial[];
  /** The variables of the reductions around the current node, outermost first. */
  readonly within: readonly string[];
  readonly nested: NestedReductions | undefined;
}

/** Operators whose derivative is cheaper from their stored result than from their argument. */
const REUSES_VALUE: ReadonlySet<string> = new Set(["exp", "sigmoid", "sqrt", "relu"]);

/** d op(x) / dx written with y = op(x), the def's stored value. */
function derivativeFromValue(op: Extract<Expr, { kind: "unary" }>["op"], y: Expr, x: Expr): Expr {
  switch (op) {
    case "exp": return y;
    case "sigmoid": return binary("mul", y, unary("sigmoid", unary("neg", x)));
    case "sqrt": return binary("div", num(0.5), y);
    // relu(x) > 0 exactly when x > 0 (0 at 0, as from the argument): the mask reads the stored result, so the argument's
    // own def need not be held until the backward pass (the memory planner can then write the result over it).
    case "relu": return binary("gt", y, num(0));
    // (1 - y)(1 + y) = 1 - tanh²(x); its absolute error in float32 stays at one ulp of 1.
    case "tanh": return binary("mul", binary("sub", num(1), y), binary("add", num(1), y));
    default: throw new InternalCompilerError(`derivativeFromValue: ${op}`);
  }
}

function walk(e: Expr, adj: Expr, ctx: Ctx): void {
  if (isZero(adj)) return;
  switch (e.kind) {
    case "const":
    case "index":
      return;
    case "access":
      ctx.out.push({ access: e, coef: adj, within: ctx.within });
      return;
    case "gather":
      ctx.out.push({ gather: e, coef: adj, within: ctx.within });
      return;
    case "unary":
      // floor, ceil, round and sign are piecewise constant: zero derivative (where it exists).
      if (PIECEWISE_CONSTANT.has(e.op)) return;
      walk(e.arg, mul(adj, unaryDerivative(e.op, e.arg)), ctx);
      return;
    case "select":
      walk(e.then, select(e.cond, adj, num(0)), ctx);
      walk(e.else, select(e.cond, num(0), adj), ctx);
      return;
    case "binary":
      walkBinary(e.op, e.lhs, e.rhs, adj, ctx);
      return;
    case "reduce":
      if (ctx.nested === undefined) throw new InternalCompilerError("partials: a reduction inside an expression (normalize the def first)");
      walk(e.body, mul(adj, reductionDerivative(e, ctx.nested)), { ...ctx, within: [...ctx.within, ...e.vars] });
      return;
  }
}

/** The derivative of `op_{k} b` by its term at `k` (see {@link NestedReductions}), with `k` free. */
function reductionDerivative(r: Extract<Expr, { kind: "reduce" }>, nested: NestedReductions): Expr {
  if (r.op === "sum") return num(1);
  // The terms again, over copies k' of the reduction's variables.
  const renamed = new Map(r.vars.map((v) => [v, nested.fresh(v)]));
  const copies = r.vars.map((v) => renamed.get(v)!);
  if (r.op === "prod") {
    const others = renameVars(r.body, renamed);
    const same = r.vars.map((v) => binary("eq", indexValue(renamed.get(v)!), indexValue(v)) as Expr).reduce((a, b) => binary("mul", a, b));
    return reduce("prod", copies, select(same, num(1), others));
  }
  // The extreme of the stored terms and the number of terms equal to it.
  const term = nested.store(r.body);
  const extreme = nested.store(reduce(r.op, copies, renameVars(term, renamed)));
  const counted = new Map(r.vars.map((v) => [v, nested.fresh(v)]));
  return binary("div", binary("eq", term, extreme), reduce("sum", [...counted.values()], binary("eq", renameVars(term, counted), extreme)));
}

/** d op(x) / dx as an expression of x. */
function unaryDerivative(op: Extract<Expr, { kind: "unary" }>["op"], x: Expr): Expr {
  switch (op) {
    case "neg": return num(-1);
    case "exp": return unary("exp", x);
    case "log": return binary("div", num(1), x);
    case "sqrt": return binary("div", num(0.5), unary("sqrt", x));
    case "rsqrt": return binary("div", binary("mul", num(-0.5), unary("rsqrt", x)), x);
    case "tanh": {
      // sech²(x) = 4z / (1 + z)² with z = exp(-2|x|): 1 - tanh²(x) would cancel in float32 once tanh(x) nears ±1.
      const z = unary("exp", binary("mul", num(-2), unary("abs", x)));
      const onePlus = binary("add", num(1), z);
      return binary("div", binary("mul", num(4), z), binary("mul", onePlus, onePlus));
    }
    case "sigmoid":
      // sigmoid(x) sigmoid(-x) = sigmoid(x) (1 - sigmoid(x)), without the cancellation of 1 - sigmoid(x) near 1.
      return binary("mul", unary("sigmoid", x), unary("sigmoid", unary("neg", x)));
    case "relu": return binary("gt", x, num(0));
    case "abs": return binary("sub", binary("gt", x, num(0)), binary("lt", x, num(0)));
    case "sin": return unary("cos", x);
    case "cos": return unary("neg", unary("sin", x));
    case "tan": {
      const c = unary("cos", x);
      return binary("div", num(1), binary("mul", c, c));
    }
    case "atan": return binary("div", num(1), binary("add", num(1), binary("mul", x, x)));
    // 2/sqrt(pi) * exp(-x^2)
    case "erf": return binary("mul", num(2 / Math.sqrt(Math.PI)), unary("exp", unary("neg", binary("mul", x, x))));
    case "log1p": return binary("div", num(1), binary("add", num(1), x));
    case "expm1": return unary("exp", x);
    case "sign": case "floor": case "ceil": case "round": return num(0);
  }
}

/** Unary operators whose derivative is zero wherever it exists. */
const PIECEWISE_CONSTANT: ReadonlySet<string> = new Set(["sign", "floor", "ceil", "round"]);

function walkBinary(op: Extract<Expr, { kind: "binary" }>["op"], a: Expr, b: Expr, adj: Expr, ctx: Ctx): void {
  switch (op) {
    case "add":
      walk(a, adj, ctx);
      walk(b, adj, ctx);
      return;
    case "sub":
      walk(a, adj, ctx);
      walk(b, neg(adj), ctx);
      return;
    case "mul":
      walk(a, mul(adj, b), ctx);
      walk(b, mul(adj, a), ctx);
      return;
    case "div":
      walk(a, div(adj, b), ctx);
      walk(b, neg(div(mul(adj, a), binary("mul", b, b))), ctx);
      return;
    case "pow":
      // d a^b / da = b a^(b-1); d a^b / db = a^b log a (only walked when b reads a tensor).
      walk(a, mul(adj, mul(b, binary("pow", a, b.kind === "const" ? num(b.value - 1) : binary("sub", b, num(1))))), ctx);
      if (hasAccess(b)) walk(b, mul(adj, binary("mul", binary("pow", a, b), unary("log", a))), ctx);
      return;
    case "atan2": {
      // d atan2(a, b) = (b da - a db) / (a^2 + b^2)
      const r2 = binary("add", binary("mul", a, a), binary("mul", b, b));
      walk(a, mul(adj, binary("div", b, r2)), ctx);
      walk(b, neg(mul(adj, binary("div", a, r2))), ctx);
      return;
    }
    case "max":
    case "min": {
      // The winner takes the derivative; equal arguments split it evenly.
      const wins = op === "max" ? "gt" : "lt";
      walk(a, mul(adj, share(binary(wins, a, b), binary("eq", a, b))), ctx);
      walk(b, mul(adj, share(binary(wins, b, a), binary("eq", a, b))), ctx);
      return;
    }
    case "lt": case "le": case "gt": case "ge": case "eq": case "ne":
      return;
  }
}

/** `wins + 0.5 * tie`: 1 for the strict winner, 1/2 each on a tie. */
function share(wins: Expr, tie: Expr): Expr {
  return binary("add", wins, binary("mul", num(0.5), tie));
}

function hasAccess(e: Expr): boolean {
  switch (e.kind) {
    case "access": case "gather": return true;
    case "const": case "index": return false;
    case "unary": return hasAccess(e.arg);
    case "binary": return hasAccess(e.lhs) || hasAccess(e.rhs);
    case "select": return hasAccess(e.cond) || hasAccess(e.then) || hasAccess(e.else);
    case "reduce": return hasAccess(e.body);
  }
}

function isZero(e: Expr): boolean {
  return e.kind === "const" && e.value === 0;
}

/** A product with the constant-one and constant-zero cases folded. */
export function mul(a: Expr, b: Expr): Expr {
  if (a.kind === "const" && a.value === 1) return b;
  if (b.kind === "const" && b.value === 1) return a;
  if (a.kind === "const" && b.kind === "const") return num(a.value * b.value);
  return binary("mul", a, b);
}

function div(a: Expr, b: Expr): Expr {
  return b.kind === "const" && b.value === 1 ? a : binary("div", a, b);
}

function neg(a: Expr): Expr {
  if (a.kind === "const") return num(-a.value);
  return unary("neg", a);
}
