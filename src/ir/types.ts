/**
 * The tns IR: a DAG of tensor definitions. Each defined tensor is
 *
 *     out[idx] = reduce_{vars} expr(accesses with affine indices)
 *
 * with concrete sizes (size symbols are bound before lowering). The IR is
 * plain immutable data; build it with the constructors below, which keep it
 * canonical. `verify.ts` states and checks every invariant; the short list:
 *
 * 1. Tensor names are unique in a graph; tensors appear in topological order
 *    (an access or call argument names an earlier tensor or a parameter).
 * 2. A def's `indices` are distinct; `ranges` gives a positive integer extent
 *    for every index variable of the def (output and reduced); a reduced
 *    variable is bound by exactly one `reduce` node and is not an output index.
 * 3. `shape` is the output indices' extents grouped: `groups[k]` consecutive
 *    indices multiply to `shape[k]`, and `groups` sums to `indices.length`.
 *    Grouping is row-major and zero-copy: the storage of a def is the
 *    row-major array over its `indices` whatever its grouping.
 * 4. An access has one affine index per dimension of the accessed tensor's
 *    `shape`, in bounds for every value of the variables in their ranges,
 *    unless it is `guarded`: then a point where any index is out of bounds
 *    reads 0 (the checker admits one only under a `where` whose condition
 *    excludes those points, so the 0 is never used there).
 * 5. Affine forms are canonical: terms sorted by variable name, unique
 *    variables, nonzero integer coefficients, integer constant.
 * 6. A call names a function of the program; its arguments match the
 *    function's parameters in count, shape and order; its shape is the
 *    function result's shape.
 * 7. A grad node is at the top level; its loss is an earlier rank-0 def or
 *    call, its `wrt` an earlier input or weight whose shape it has.
 * 8. A recurrence (a def with `recurrence: v`) is the one exception to
 *    invariant 1: it may read itself. `v` is one of its output indices; it is
 *    ungrouped; every self-read has `v - c` (a constant c > 0) in v's
 *    dimension and does not mention v in any other; and each self-read sits
 *    where enclosing `where` conditions imply `v >= c` (the base case), which
 *    is also what makes it in bounds (invariant 4 for self-reads is checked
 *    over that guarded range). A def without `recurrence` never reads itself.
 *    The def's value is computed for v = 0, 1, ... in order; every element at
 *    one value of v depends only on elements at smaller values.
 * 9. A gather has one {@link GatherIndex} per dimension of the gathered
 *    tensor, at least one of them with a `value`; the affine parts follow
 *    invariant 5 and every value reads at least one i32 tensor. Its static
 *    dimensions (no value) are in bounds as an access's are; a dynamic one
 *    is checked at run time (mode `check`) or clamped into range.
 * 10. A scatter-add (a def with `scatter: { index: v, mode }`) has the body
 *    `sum(S) where(value == v, term, 0)` (its condition may be a product
 *    with other factors free of v; in mode `clamp` it compares
 *    `min(max(value, 0), |v| - 1)`), v an ungrouped output index free in
 *    neither `value` nor `term`. Its value is the body's; it is computed in
 *    one pass over S and the other output indices, adding `term` to the
 *    element `value` selects; in mode `check` an index outside v's range
 *    stops the run (TNS0620), as the gather it is the backward of does.
 * 11. A def's `split` (index-set splitting, a schedule, not a change of
 *    value; never on a scatter-add) names output indices, each at most
 *    once and not the recurrence's index, with cut points: integers strictly increasing inside
 *    `1 .. extent-1`. The cuts cut the output's box into pieces (their
 *    product over the split indices), each computed by the same body
 *    specialised to its sub-box; the value of every element is the body's,
 *    as without the split.
 * 12. A resumed sum (a def with `resumed: true`) is ungrouped, neither a
 *    recurrence nor a scatter-add nor split, and its body is
 *    `P[i, j, ...] + sum(S) term`: a read of an earlier tensor P of its type
 *    and shape at its own output indices (each once, in order), plus one
 *    sum. Its value at each point is computed from P's element by adding the
 *    terms one at a time in the reduction's order (the last variable
 *    fastest), `acc = P[i, j]; acc += term(s) ...`, not as P's element plus
 *    the sum. A sum cut into slices, each resuming from the one before,
 *    adds every element's terms in the whole sum's order: where a backend
 *    keeps the running sum in P's element type (a float64 P behind a kernel
 *    that accumulates in float64, a float32 P behind one that accumulates in
 *    float32), the slices end on the whole sum's bits. Read as written
 *    (by a pass, or a backend that does not resume), the body is the same
 *    value up to rounding.
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";

/** Element type of a stored tensor. Arithmetic is float64 in the reference interpreter. */
export type DType = "f32" | "f64" | "i32";

/** One term `coef * var` of an affine index. */
export interface AffineTerm {
  readonly var: string;
  readonly coef: number;
}

/** An affine index `sum(coef * var) + constant`; canonical (see invariant 5). */
export interface Affine {
  readonly terms: readonly AffineTerm[];
  readonly constant: number;
}

/**
 * Elementwise unary operators. `floor ceil round sign` are piecewise
 * constant (`round` rounds half to even, as NumPy does); `erf` is the error
 * function (src/ir/erf.ts).
 */
export type UnaryOp =
  | "neg" | "exp" | "log" | "sqrt" | "rsqrt" | "tanh" | "sigmoid" | "relu" | "abs"
  | "sin" | "cos" | "tan" | "atan" | "erf" | "log1p" | "expm1" | "sign" | "floor" | "ceil" | "round";

/** Every unary operator, in a fixed order. */
export const UNARY_OPS: readonly UnaryOp[] = [
  "neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs",
  "sin", "cos", "tan", "atan", "erf", "log1p", "expm1", "sign", "floor", "ceil", "round",
];

/** Elementwise binary operators. Comparisons yield 1 or 0. */
export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "min" | "max" | "atan2"
  | "lt" | "le" | "gt" | "ge" | "eq" | "ne";

/** Reduction operators. */
export type ReduceOp = "sum" | "max" | "min" | "prod";

/** A scalar expression evaluated at one point of a def's iteration space. */
export type Expr = Const | IndexValue | Access | Gather | UnaryExpr | BinaryExpr | Select | Reduce;

/** A numeric constant. */
export interface Const { readonly kind: "const"; readonly value: number }
/** The current value of an index variable, as a number (`where(j <= i, ...)`). */
export interface IndexValue { readonly kind: "index"; readonly var: string }
/**
 * `tensor[affine, ...]`. A `guarded` access may index outside the tensor
 * (zero padding under a `where`); such a read yields 0 and touches no
 * memory (invariant 4).
 */
export interface Access { readonly kind: "access"; readonly tensor: string; readonly index: readonly Affine[]; readonly guarded?: true }
/**
 * One dimension of a {@link Gather}: the index `affine + value`, where
 * `value` is an integer-valued expression of data (it reads i32 tensors),
 * or null for a dimension indexed by the affine form alone.
 */
export interface GatherIndex { readonly affine: Affine; readonly value: Expr | null }
/**
 * What a gather does with a dynamic index outside `0 .. extent-1`: `check`
 * stops the run with an error naming the tensor and the dimension; `clamp`
 * reads the nearest element.
 */
export type GatherMode = "check" | "clamp";
/**
 * `tensor[affine + value, ...]` with data-dependent indices (an embedding
 * lookup `Wte[ids[t], d]`). Kept apart from {@link Access}, whose indices
 * are affine forms everywhere in the compiler: passes that reason about
 * affine reads see a gather as an opaque read of `tensor`.
 */
export interface Gather { readonly kind: "gather"; readonly tensor: string; readonly index: readonly GatherIndex[]; readonly mode: GatherMode }
/** `op(arg)`. */
export interface UnaryExpr { readonly kind: "unary"; readonly op: UnaryOp; readonly arg: Expr }
/** `op(lhs, rhs)`. */
export interface BinaryExpr { readonly kind: "binary"; readonly op: BinaryOp; readonly lhs: Expr; readonly rhs: Expr }
/** `where(cond, then, else)`: `then` where `cond` is nonzero. */
export interface Select { readonly kind: "select"; readonly cond: Expr; readonly then: Expr; readonly else: Expr }
/** `op_{vars} body`: reduce body over every combination of `vars` in their ranges. */
export interface Reduce { readonly kind: "reduce"; readonly op: ReduceOp; readonly vars: readonly string[]; readonly body: Expr }

interface NodeBase {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Whether the program returns this tensor. */
  readonly output: boolean;
}

/** A tensor given at run time (a program input, or a function parameter). */
export interface InputNode extends NodeBase { readonly role: "input" }

/** A tensor known at compile time; `data` (row-major, length = product of shape) may be absent until bound. */
export interface WeightNode extends NodeBase {
  readonly role: "weight";
  readonly data: Float64Array | null;
}

/** A tensor defined by an index expression. */
export interface DefNode extends NodeBase {
  readonly role: "def";
  /** Output index variables, in storage (row-major) order. */
  readonly indices: readonly string[];
  /** How many consecutive indices form each dimension of `shape` (all 1 when ungrouped). */
  readonly groups: readonly number[];
  /** Extent of every index variable of this def, output and reduced. */
  readonly ranges: Readonly<Record<string, number>>;
  readonly body: Expr;
  /**
   * Set on a recurrence: the output index along which the def is computed
   * step by step (`t` of `Hs[t, j] = ... Hs[t - 1, k] ...`); see invariant 8.
   * Absent on every other def.
   */
  readonly recurrence?: string;
  /**
   * Set on a scatter-add (invariant 10): the body is
   * `sum(S) where(value == index, term, 0)` and the def is computed by adding
   * each term to the element its `value` selects, resolved under `mode`
   * (`ir/scatter.ts`). The backward of a gather.
   */
  readonly scatter?: { readonly index: string; readonly mode: GatherMode };
  /**
   * Index-set splitting (invariant 11): where to cut output indices so that
   * each piece of the output's box is computed by the body specialised to
   * it: `[{ var: "y", cuts: [1, 55] }]` computes rows `0`, `1 .. 54` and
   * `55` separately, and the middle piece, where every padding read of the
   * body is in bounds, without guards. Set by the `split-index-sets` pass;
   * it never changes a value, so passes that ignore it stay sound.
   */
  readonly split?: readonly IndexSplit[];
  /**
   * A resumed sum (invariant 12): the body is `P[idx] + sum(S) term`, and
   * the sum starts from P's element instead of from 0, adding its terms one
   * at a time. Slices of a sum each resuming from the one before add every
   * element's terms in the whole sum's order.
   */
  readonly resumed?: true;
}

/** Cut points of one output index of a def (see {@link DefNode.split}). */
export interface IndexSplit {
  readonly var: string;
  /** Strictly increasing integers in `1 .. extent-1`: the first element of every piece but the first. */
  readonly cuts: readonly number[];
}

/** A whole-tensor call of a (monomorphized) function; removed by the inline pass. */
export interface CallNode extends NodeBase {
  readonly role: "call";
  readonly fn: string;
  readonly args: readonly string[];
}

/**
 * `grad(loss, wrt)`: the derivative of the rank-0 tensor `loss` with respect
 * to the input or weight `wrt`, of `wrt`'s shape; only at the top level of a
 * program, after both tensors. Removed by the `differentiate` pass, which
 * builds one backward program per loss (`passes/differentiate.ts`).
 */
export interface GradNode extends NodeBase {
  readonly role: "grad";
  readonly loss: string;
  readonly wrt: string;
}

/** Any node of the tensor DAG. */
export type TensorNode = InputNode | WeightNode | DefNode | CallNode | GradNode;

/**
 * A function monomorphized for one binding of its size parameters. Its
 * `params` are input nodes; `tensors` holds the body's defs and calls; the
 * value of a call is the tensor named `result`.
 */
export interface IRFunction {
  readonly name: string;
  readonly params: readonly InputNode[];
  readonly tensors: readonly TensorNode[];
  readonly result: string;
}

/** A whole program: the tensor DAG in topological order and the functions it calls. */
export interface Program {
  /** Size symbols as bound for this program (informational; shapes are already concrete). */
  readonly sizes: Readonly<Record<string, number>>;
  readonly tensors: readonly TensorNode[];
  readonly functions: Readonly<Record<string, IRFunction>>;
  /**
   * Inputs donated by the caller (`donate` in the compile options): their
   * storage may be reused, and overwritten by an output updating them in
   * place, once their last reader has run, so their contents after a run
   * are undefined. Absent: none. Only run-time inputs (role `input`) appear.
   */
  readonly donated?: readonly string[];
}

// ---------------------------------------------------------------------------
// Checking constructors. They keep the IR canonical and reject malformed
// pieces with an internal compiler error (user mistakes never reach here).
// ---------------------------------------------------------------------------

/**
 * Builds a canonical affine form.
 *
 * @example
 * ```ts
 * affine([{ var: "y", coef: 1 }, { var: "dy", coef: 1 }], 0); // dy + y
 * affine([{ var: "i", coef: 2 }, { var: "i", coef: -2 }], 3); // 3
 * ```
 */
export function affine(terms: readonly AffineTerm[], constant = 0): Affine {
  if (!Number.isInteger(constant)) throw new InternalCompilerError(`affine constant ${constant} is not an integer`);
  const sums = new Map<string, number>();
  for (const t of terms) {
    if (!Number.isInteger(t.coef)) throw new InternalCompilerError(`affine coefficient ${t.coef} is not an integer`);
    sums.set(t.var, (sums.get(t.var) ?? 0) + t.coef);
  }
  const out: AffineTerm[] = [];
  for (const [v, c] of sums) if (c !== 0) out.push({ var: v, coef: c });
  out.sort((a, b) => (a.var < b.var ? -1 : a.var > b.var ? 1 : 0));
  return { terms: out, constant };
}

/** The affine form of a single variable. */
export function affineVar(v: string): Affine {
  return { terms: [{ var: v, coef: 1 }], constant: 0 };
}

/** Whether an affine form is exactly one variable with coefficient 1. */
export function isPlainVar(a: Affine): a is Affine & { terms: [AffineTerm] } {
  return a.constant === 0 && a.terms.length === 1 && a.terms[0]!.coef === 1;
}

/** A constant expression. */
export const num = (value: number): Const => ({ kind: "const", value });
/** The value of an index variable. */
export const indexValue = (v: string): IndexValue => ({ kind: "index", var: v });
/** An access with affine indices (plain variable names are accepted as shorthand); `guarded` marks a padding read. */
export function access(tensor: string, index: readonly (Affine | string)[], guarded = false): Access {
  const idx = index.map((a) => (typeof a === "string" ? affineVar(a) : a));
  return guarded ? { kind: "access", tensor, index: idx, guarded: true } : { kind: "access", tensor, index: idx };
}
/**
 * A gather; an index given as an affine form (or a variable name) is a
 * static dimension, `{ affine, value }` a dynamic one. A gather with no
 * dynamic dimension is an internal error (it is an access).
 *
 * @example
 * ```ts
 * gather("Wte", [{ affine: affine([]), value: access("ids", ["t"]) }, "d"]); // Wte[ids[t], d]
 * ```
 */
export function gather(tensor: string, index: readonly (GatherIndex | Affine | string)[], mode: GatherMode = "check"): Gather {
  const dims = index.map((a): GatherIndex => (typeof a === "string" ? { affine: affineVar(a), value: null } : "affine" in a ? a : { affine: a, value: null }));
  if (!dims.some((d) => d.value !== null)) throw new InternalCompilerError(`gather of ${tensor} has no data-dependent index`);
  return { kind: "gather", tensor, index: dims, mode };
}
/** A unary expression. */
export const unary = (op: UnaryOp, arg: Expr): UnaryExpr => ({ kind: "unary", op, arg });
/** A binary expression. */
export const binary = (op: BinaryOp, lhs: Expr, rhs: Expr): BinaryExpr => ({ kind: "binary", op, lhs, rhs });
/**
 * Chains with more operands than this are built as balanced trees (see
 * {@link associativeChain}; docs/limits.md).
 */
export const BALANCE_CHAINS_OVER = 32;

/**
 * `items` combined by an associative operator (`add mul min max`): left to
 * right, or, past {@link BALANCE_CHAINS_OVER} items, a balanced tree, so
 * that no chain is deeper than log2 of its length for the stages that walk
 * it recursively.
 *
 * @example
 * ```ts
 * associativeChain("add", [num(1), num(2), num(3)]); // (1 + 2) + 3
 * ```
 */
export function associativeChain(op: BinaryOp, items: readonly Expr[]): Expr {
  if (items.length === 0) throw new InternalCompilerError(`empty ${op} chain`);
  if (items.length <= BALANCE_CHAINS_OVER) return items.slice(1).reduce<Expr>((acc, x) => binary(op, acc, x), items[0]!);
  const build = (from: number, to: number): Expr => {
    if (to - from === 1) return items[from]!;
    const mid = (from + to) >> 1;
    return binary(op, build(from, mid), build(mid, to));
  };
  return build(0, items.length);
}

/** A select (`where`). */
export const select = (cond: Expr, then: Expr, otherwise: Expr): Select => ({ kind: "select", cond, then, else: otherwise });
/** A reduction; an empty variable list is an internal error (there is nothing to reduce). */
export function reduce(op: ReduceOp, vars: readonly string[], body: Expr): Reduce {
  if (vars.length === 0) throw new InternalCompilerError("reduce with no variables");
  if (new Set(vars).size !== vars.length) throw new InternalCompilerError(`reduce binds a variable twice: ${vars.join(", ")}`);
  return { kind: "reduce", op, vars: [...vars], body };
}

/** Product of a shape's extents (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k]!;
  }
  return s;
}

/** The identity element of a reduction (`sum` 0, `prod` 1, `max` -Infinity, `min` +Infinity). */
export function reduceIdentity(op: ReduceOp): number {
  switch (op) {
    case "sum": return 0;
    case "prod": return 1;
    case "max": return -Infinity;
    case "min": return Infinity;
  }
}

/**
 * The element type of a def that a pass splits out of a def of type
 * `dtype`: f64 for an f64 def, else f32. An i32 def (argmax, top-k indices)
 * computes with float parts — the row maximum of float scores, masks with
 * -inf — that an i32 store would truncate; float32 holds every integer part
 * exactly up to 2^24.
 *
 * @example
 * ```ts
 * partDtype("i32"); // "f32"
 * ```
 */
export function partDtype(dtype: DType): DType {
  return dtype === "f64" ? "f64" : "f32";
}
