/**
 * materialize-product-operands: gives a factor of a def's top-level sum its
 * own def when the factor holds a reduction of its own and depends on only
 * some of the variables around it (or is a product itself), and the def is
 * then a matrix product.
 * A two-layer network written in one line is the case:
 *
 * Before (one loop nest: the backends hoist the inner sum per (i, j), but
 * the outer product has an operand that is no tensor, so no product kernel
 * runs it; 64 × 512 × 1024, wasm: 88 ms):
 *
 *     output y[i, e] = sum(j) W2[j, e] * relu(sum(k) W1[k, j] * x[i, k])
 *
 * After (two products, the first with its ReLU as an epilogue: 10 ms):
 *
 *     y_p0[i, j] = relu(sum(k) W1[k, j] * x[i, k])
 *     output y[i, e] = sum(j) W2[j, e] * y_p0[i, j]
 *
 * The factor is computed once per point of its own variables either way
 * (the loop nest hoists it), so the work does not grow; what changes is
 * that both halves run on the kernels made for them (the register-blocked
 * or skinny products, their epilogues). The new def is an intermediate the
 * loop nest did not store: its bytes are the price, and the memory planner
 * and the budgeted passes see it like any other. Its element type is
 * float32 unless the factor reads float64, so a float32 def's factor is
 * rounded once more than in the loop nest, as at any def boundary.
 *
 * A factor qualifies when it is not a plain tensor access, contains a
 * reduction, does not read the def itself, holds no more than
 * {@link LIMIT_FACTOR} times the largest tensor the def reads or writes,
 * and either leaves out at least one of the variables bound around it (its
 * value is shared) or is itself a matrix product, with or without an
 * epilogue (in `y[i] = sum(j) W2[j] * relu(sum(k) W1[j, k] * x[i, k])` the
 * inner layer then runs on the product kernel, the outer sum as a
 * matrix-vector product). The def qualifies when it is a sum, or one sum
 * under an elementwise epilogue (not a recurrence, a scatter-add or a
 * resumed sum), and, with its qualifying factors replaced, is a matrix
 * product (with its epilogue) as the kernel lowering sees it. Both factors
 * of a product may qualify: `sum(j) f(sum(k) ...)[i, j] * g(sum(c) ...)[j, e]`.
 */
import type { DefNode, DType, Expr, Program, TensorNode } from "../ir/types.js";
import { access, affineVar, numel } from "../ir/types.js";
import { accessedTensors, boundVars, freeVars, mapExpr } from "../ir/walk.js";
import { matrixProductOf } from "../backends/kernel/lower.js";
import { matchEpilogueContraction, soleTopReduction } from "../backends/kernel/contraction.js";
import { topReductionVars } from "./materialize-reductions.js";
import type { Derivation, DerivingPass } from "./manager.js";
import { PROPERTIES } from "./pass.js";
import { freshName } from "./rewrite/rules/program-helpers.js";

/**
 * A new def holds at most {@link LIMIT_FACTOR} times as many elements as the
 * largest tensor its def reads or writes, or {@link MIN_LIMIT_ELEMENTS},
 * whichever is more: a hidden layer four times as wide as its input is
 * common (a transformer's), one that would hold far more than anything the
 * program already has is left to the loop nest, which stores none of it.
 */
export const LIMIT_FACTOR = 4;
/** See {@link LIMIT_FACTOR}: 64 Ki elements. */
export const MIN_LIMIT_ELEMENTS = 65536;

/**
 * The materialize-product-operands pass. Each new def is listed as a
 * derivation (rule `product-operand` on the def it was taken from).
 *
 * @example
 * ```ts
 * materializeProductOperands.run(program); // y = sum(j) W2 * relu(sum(k) W1 * x): the relu factor a def of its own
 * ```
 */
export const materializeProductOperands: DerivingPass = {
  name: "materialize-product-operands",
  description: "give a factor of a sum that holds a reduction of its own a def, when the sum is then a matrix product",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noGrads, PROPERTIES.folded, PROPERTIES.noDeadCode],
  run: (program) => materializeProductOperandsIn(program).program,
  runWithDerivations: materializeProductOperandsIn,
};

/**
 * `program` with the qualifying factors (see the module header) as defs of
 * their own, each right before the def it was taken from (`program` itself
 * when none qualifies), and one derivation per new def.
 *
 * @example
 * ```ts
 * const { program: split, derivations } = materializeProductOperandsIn(program);
 * derivations[0]!.detail; // "y_p0[i, j] is a def of its own, and y a matrix product"
 * ```
 */
export function materializeProductOperandsIn(program: Program): { program: Program; derivations: Derivation[] } {
  const taken = new Set(program.tensors.map((t) => t.name));
  const shapes = new Map(program.tensors.map((t) => [t.name, t.shape]));
  const dtypes = new Map(program.tensors.map((t) => [t.name, t.dtype]));
  const tensors: TensorNode[] = [];
  const derivations: Derivation[] = [];
  for (const t of program.tensors) {
    const split = t.role === "def" ? splitDef(t, taken, shapes, dtypes) : null;
    if (split === null) {
      tensors.push(t);
      continue;
    }
    for (const made of split.operands) {
      taken.add(made.name);
      shapes.set(made.name, made.shape);
      dtypes.set(made.name, made.dtype);
      derivations.push({ rule: "product-operand", tensor: t.name, detail: `${made.name}[${made.indices.join(", ")}] is a def of its own, and ${t.name} a matrix product` });
    }
    tensors.push(...split.operands, split.def);
  }
  return { program: derivations.length === 0 ? program : { ...program, tensors }, derivations };
}

/** `def` with its qualifying factors replaced by accesses of new defs, and those defs; null when it does not qualify. */
function splitDef(
  def: DefNode, taken: ReadonlySet<string>, shapes: ReadonlyMap<string, readonly number[]>, dtypes: ReadonlyMap<string, DType>,
): { def: DefNode; operands: DefNode[] } | null {
  if (def.recurrence !== undefined || def.scatter !== undefined || def.resumed) return null;
  // The sum at the top, or the one sum under an elementwise epilogue (a bias, an activation).
  const top = def.body.kind === "reduce" ? def.body : soleTopReduction(def.body);
  if (top === null || top.op !== "sum") return null;
  const sum = topReductionVars(top);
  const order = [...def.indices, ...sum.vars];
  const around = new Set(order);
  const largest = Math.max(numel(def.shape), ...[...accessedTensors(def.body)].map((r) => numel(shapes.get(r) ?? [])));
  const limit = Math.max(MIN_LIMIT_ELEMENTS, LIMIT_FACTOR * largest);
  const operands: DefNode[] = [];
  const names = new Set(taken);
  const replace = (factor: Expr): Expr => {
    if (factor.kind === "access" || boundVars(factor).length === 0) return factor;
    const free = [...freeVars(factor)];
    if (!free.every((v) => around.has(v))) return factor;
    const reads = accessedTensors(factor);
    if (reads.has(def.name)) return factor;
    const indices = free.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    if (numel(indices.map((v) => def.ranges[v]!)) > limit) return factor;
    const ranges: Record<string, number> = {};
    for (const v of [...indices, ...boundVars(factor)]) ranges[v] = def.ranges[v]!;
    const dtype: DType = [...reads].some((r) => dtypes.get(r) === "f64") ? "f64" : "f32";
    const operand: DefNode = {
      role: "def", name: freshName(`${def.name}_p${operands.length}`, names), dtype, output: false,
      shape: indices.map((v) => def.ranges[v]!), indices, groups: indices.map(() => 1), ranges, body: factor,
    };
    // A factor of every variable around it is computed once per point either way: taken out only to run on a product kernel itself.
    if (free.length === around.size && matrixProductOf(operand, shapes) === null && matchEpilogueContraction(operand, shapes) === null) return factor;
    names.add(operand.name);
    operands.push(operand);
    return access(operand.name, indices.map(affineVar));
  };
  const inner = mapFactors(sum.inner, replace);
  if (operands.length === 0) return null;
  const summed = rebuildSum(top, inner);
  const body = mapExpr(def.body, (x) => (x === top ? summed : x));
  const ranges: Record<string, number> = {};
  for (const v of [...def.indices, ...boundVars(body)]) ranges[v] = def.ranges[v]!;
  const next: DefNode = { ...def, body, ranges };
  const known = new Map(shapes);
  for (const o of operands) known.set(o.name, o.shape);
  const product = top === def.body ? matrixProductOf(next, known) : matchEpilogueContraction(next, known);
  return product === null ? null : { def: next, operands };
}

/** `e` with each factor of its product (a tree of `mul`) passed through `f`. */
function mapFactors(e: Expr, f: (factor: Expr) => Expr): Expr {
  if (e.kind === "binary" && e.op === "mul") {
    const lhs = mapFactors(e.lhs, f);
    const rhs = mapFactors(e.rhs, f);
    return lhs === e.lhs && rhs === e.rhs ? e : { ...e, lhs, rhs };
  }
  return f(e);
}

/** The sum chain `body` (as `topReductionVars` reads it) with its summand replaced by `inner`. */
function rebuildSum(body: Expr, inner: Expr): Expr {
  if (body.kind !== "reduce" || body.op !== "sum") return inner;
  return { ...body, body: rebuildSum(body.body, inner) };
}
