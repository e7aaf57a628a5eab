/**
 * Slicing a program by rows of its batch (micro-batches, the gradients
 * accumulated slice by slice): the row-local defs (`batch-axis.ts`) are
 * computed for one slice of rows at a time, each reduction over the batch
 * that can resume (IR invariant 12) adds each slice's terms to a partial sum
 * that the next slice resumes from, and what needs whole tensors (an output
 * with the batch axis, a reduction that cannot resume) reads them
 * concatenated from the slices. A slice's temporaries die with it, so the
 * peak holds one slice's activations instead of the batch's:
 *
 *     before:  H[i, j] = relu(sum(k) X[i, k] * W[k, j])             (n rows)
 *              dW[k, j] = sum(i) X[i, k] * H[i, j]
 *     after:   H_s0[i, j] = relu(sum(k) X[i, k] * W[k, j])          (rows 0 .. B-1)
 *              dW_p0[k, j] = sum(i) X[i, k] * H_s0[i, j]
 *              H_s1[i, j] = relu(sum(k) X[i + B, k] * W[k, j])      (rows B .. 2B-1)
 *              dW_p1[k, j] = resume dW_p0[k, j] + sum(i) X[i + B, k] * H_s1[i, j]
 *              dW[k, j] = dW_p1[k, j]
 *
 * Every element sums the same terms in the same order as the whole def, so
 * where the partial sums are kept in the type the whole def's kernel keeps
 * its running sum in (`accumulator`, which the backend answers from the
 * kernel it would run), the result is the whole program's bits.
 */
import type { Affine, DefNode, DType, Expr, Program, TensorNode } from "../ir/types.js";
import { access, affine, binary, num } from "../ir/types.js";
import { accessedTensors, freshNamer, mapExpr } from "../ir/walk.js";
import { findBatchAxis } from "./batch-axis.js";

/** A program sliced by rows of its batch: `slices` slices of `rows` rows (the last may have fewer), the reductions resumed slice by slice and the tensors concatenated whole. */
export interface SlicedProgram {
  readonly ok: true;
  readonly program: Program;
  readonly slices: number;
  readonly rows: number;
  readonly resumed: readonly string[];
  readonly whole: readonly string[];
}

/** How a slicing went: the program, or why there is none. */
export type BatchSlicing = SlicedProgram | { readonly ok: false; readonly reason: string };

/** Options of {@link sliceBatch}. */
export interface SliceBatchOptions {
  /** The input and dimension the batch axis starts from. */
  readonly input: string;
  readonly dim: number;
  /** How many slices (at most the batch's extent). */
  readonly slices: number;
  /**
   * The type the backend's kernel for a whole reduction keeps its running
   * sum in (float64 for a js product, float32 for the wasm micro-kernel),
   * or null when its kernel does not add each element's terms one by one
   * in order (a skinny product, a scaled one): then it stays whole.
   */
  readonly accumulator: (def: DefNode) => DType | null;
}

/**
 * The program sliced by rows of its batch, or why it cannot be.
 *
 * @example
 * ```ts
 * const s = sliceBatch(trainStep, { input: "X", dim: 0, slices: 4, accumulator: () => "f64" });
 * s.ok && s.resumed; // ["dW2", "W1_next", ...]
 * ```
 */
export function sliceBatch(program: Program, options: SliceBatchOptions): BatchSlicing {
  const axis = findBatchAxis(program, options.input, options.dim);
  if (!axis.ok) return axis;
  const n = axis.extent;
  const slices = Math.min(options.slices, n);
  if (slices < 2) return { ok: false, reason: "one slice is the whole batch" };
  const rows = Math.ceil(n / slices);
  const count = Math.ceil(n / rows);
  const sizeOf = (s: number): number => Math.min(rows, n - s * rows);
  const defs = program.tensors.filter((t): t is DefNode => t.role === "def");
  const role = (t: DefNode) => axis.roles.get(t.name)!;
  const rowLocal = defs.filter((t) => role(t).kind === "row-local");
  if (rowLocal.length === 0) return { ok: false, reason: "no def is computed row by row" };
  const resumable = new Map<string, DType>();
  for (const t of defs) {
    const r = role(t);
    if (r.kind !== "reduction" || !r.alone) continue;
    const acc = options.accumulator(t);
    if (acc !== null) resumable.set(t.name, acc);
  }
  if (resumable.size === 0) return { ok: false, reason: "no reduction over the batch can resume its sum on this backend" };
  const fresh = freshNamer(program.tensors.map((t) => t.name));
  const sliceName = new Map(rowLocal.map((t) => [t.name, Array.from({ length: count }, (_, s) => fresh(`${t.name}_s${s}`))]));
  const partialName = new Map([...resumable.keys()].map((name) => [name, Array.from({ length: count }, (_, s) => fresh(`${name}_p${s}`))]));

  /** `e` for slice `s`: reads of carried inputs move down the slice's first row, reads of row-local defs take the slice's copy. */
  const forSlice = (e: Expr, s: number): Expr => mapExpr(e, (x) => {
    if (x.kind !== "access") return x;
    const d = axis.dims.get(x.tensor);
    if (d === undefined) return x;
    const copy = sliceName.get(x.tensor)?.[s];
    if (copy !== undefined) return { ...x, tensor: copy };
    if (s === 0) return x;
    const index = x.index.map((a, k) => (k === d ? shift(a, s * rows) : a));
    return { ...x, index };
  });

  const before: TensorNode[] = [];
  const sliced: TensorNode[] = [];
  const after: TensorNode[] = [];
  // Untouched defs that no reduction feeds may run before the slices; the rest after, in the program's order.
  const afterReduction = new Set<string>();
  for (const t of program.tensors) {
    if (t.role !== "def") {
      before.push(t);
      continue;
    }
    const r = role(t);
    const reads = accessedTensors(t.body);
    if (r.kind === "untouched") {
      if ([...reads].some((x) => afterReduction.has(x))) {
        afterReduction.add(t.name);
        after.push(t);
      } else before.push(t);
      continue;
    }
    afterReduction.add(t.name);
  }
  // What the slices and the reductions read must come before them.
  const late = new Set(after.map((t) => t.name));
  const early = defs.find((t) => role(t).kind !== "untouched" && [...accessedTensors(t.body)].some((x) => late.has(x)));
  if (early !== undefined) return { ok: false, reason: `'${early.name}' reads what a sum over the batch feeds` };
  // The slices: each one's row-local defs, then its partial sums.
  const whole = new Set<string>();
  for (let s = 0; s < count; s++) {
    const b = sizeOf(s);
    for (const t of rowLocal) {
      const r = role(t) as { var: string; dim: number };
      const shape = t.shape.map((x, k) => (k === r.dim ? b : x));
      sliced.push({ ...t, name: sliceName.get(t.name)![s]!, output: false, shape, ranges: { ...t.ranges, [r.var]: b }, body: forSlice(t.body, s) });
    }
    for (const [name, dtype] of resumable) {
      const t = defs.find((d) => d.name === name)!;
      const r = role(t) as { var: string };
      const sum = theSum(t.body, r.var)!;
      const term = forSlice(sum.body, s);
      const indices = t.indices;
      const base = { role: "def" as const, name: partialName.get(name)![s]!, dtype, shape: indices.map((v) => t.ranges[v]!), output: false, indices, groups: indices.map(() => 1), ranges: { ...t.ranges, [r.var]: b } };
      const slice: Expr = { ...sum, body: term };
      sliced.push(s === 0 ? { ...base, body: slice } : { ...base, resumed: true, body: binary("add", access(partialName.get(name)![s - 1]!, [...indices]), slice) });
    }
  }
  // After the slices: row-local outputs and what whole reductions read, concatenated; the reductions' finals.
  const concat = (t: DefNode): DefNode => {
    const r = role(t) as { var: string; dim: number };
    const v = r.var;
    let body: Expr = readSlice(t, sliceName.get(t.name)![count - 1]!, (count - 1) * rows, r.dim);
    for (let s = count - 2; s >= 0; s--) {
      body = { kind: "select", cond: binary("lt", { kind: "index", var: v }, num((s + 1) * rows)), then: readSlice(t, sliceName.get(t.name)![s]!, s * rows, r.dim), else: body };
    }
    return { ...t, body, recurrence: undefined, scatter: undefined, split: undefined };
  };
  const needWhole = new Set<string>();
  for (const t of defs) {
    const r = role(t);
    if (r.kind === "reduction" && !resumable.has(t.name)) for (const x of accessedTensors(t.body)) if (sliceName.has(x)) needWhole.add(x);
  }
  for (const t of rowLocal) if (t.output) needWhole.add(t.name);
  const finals: TensorNode[] = [];
  for (const t of defs) {
    const r = role(t);
    if (r.kind === "row-local") {
      if (needWhole.has(t.name)) {
        finals.push(concat(t));
        whole.add(t.name);
      }
    } else if (r.kind === "reduction") {
      if (resumable.has(t.name)) {
        const last = partialName.get(t.name)![count - 1]!;
        const sum = theSum(t.body, r.var)!;
        finals.push({ ...t, body: mapExpr(t.body, (x) => (x === sum ? access(last, [...t.indices]) : x)) });
      } else finals.push(t);
    }
  }
  const tensors = [...before, ...sliced, ...finals, ...after];
  return { ok: true, program: { ...program, tensors }, slices: count, rows, resumed: [...resumable.keys()], whole: [...whole] };
}

/** The sum over `v` in `body` (there is one, over `v` alone: a reduction whose role says `alone`). */
function theSum(body: Expr, v: string): Extract<Expr, { kind: "reduce" }> | null {
  let found: Extract<Expr, { kind: "reduce" }> | null = null;
  mapExpr(body, (x) => {
    if (x.kind === "reduce" && x.vars.includes(v)) found = x;
    return x;
  });
  return found;
}

function shift(a: Affine, by: number): Affine {
  return affine(a.terms, a.constant + by);
}

/** A guarded read of slice `copy` (its rows from `first`) at the whole def's point: 0 outside the slice's rows. */
function readSlice(t: DefNode, copy: string, first: number, dim: number): Expr {
  const index = t.indices.map((v, k) => (k === dim ? affine([{ var: v, coef: 1 }], -first) : affine([{ var: v, coef: 1 }])));
  return access(copy, index, true);
}

