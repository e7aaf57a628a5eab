/**
 * Recognises batched matrix products so a backend can emit a register-blocked
 * loop nest for them. A def matches when it is
 *
 *     out[b.., i, j] = sum_k A[...] * B[...]
 *
 * with `A` reading `i` and `k` but not `j`, `B` reading `k` and `j` but not
 * `i` (with any strides, so a transposed `B[j, k]` matches too), and both
 * otherwise reading only batch variables. The output is contiguous in `j`
 * since `j` is its last index. The match is a description; the kernel's
 * general loop nest stays valid.
 *
 *     before: C[i, j] = sum_k A[i, k] * B[k, j]     (A[4, 8], B[8, 3])
 *     after:  m 4, n 3, k 8; out C + 3*i + j; a A + 8*i + 1*k; b B + 3*k + 1*j
 *
 *     before: S[q, t] = sum_d Q[q, d] * K[t, d]     (Q[4, 8], K[5, 8])
 *     after:  m 4, n 5, k 8; out S + 5*q + t; a Q + 8*q + 1*d; b K + 1*d + 8*t
 *
 * Constant factors and divisors inside the sum (attention's `Q Kᵀ / sqrt(d)`
 * arrives as `sum_k K[j, k] * Q[i, k] * 0.125`) fold into one `scale`, which
 * the emitted code applies once per output element after accumulating, so
 * its rounding differs slightly from the scalar loop nest's:
 *
 *     before: S[i, j] = sum_k K[j, k] * Q[i, k] * 0.125
 *     after:  m 256, n 256, k 64; ...; scale 0.125
 *
 * A def that applies elementwise work to such a sum (a bias and an
 * activation, a per-row scale) is a contraction with an epilogue
 * ({@link matchEpilogueContraction}).
 */
import type { Access, DefNode, Expr } from "../../ir/types.js";
import { affine } from "../../ir/types.js";
import { coefOf, dropVars, flattenIndex } from "./exprs.js";
import { evalUnary } from "../../ir/ops.js";
import { children, visitExpr } from "../../ir/walk.js";
import { productFactors } from "./reassociate.js";
import { EPILOGUE_ACC, type Contraction, type EpilogueContraction, type KExpr } from "./types.js";

/** The two accesses of a sum's product and its constant factors folded into one number, or null. */
interface ScaledProduct {
  readonly accesses: readonly Access[];
  readonly scale: number;
}

/** The value of a number or a unary function of one (`sqrt(8)`), or null. */
function constantOf(e: Expr): number | null {
  if (e.kind === "const") return e.value;
  if (e.kind !== "unary") return null;
  const arg = constantOf(e.arg);
  return arg === null ? null : evalUnary(e.op, arg);
}

/**
 * Splits `A * B * c1 / c2 ...` into its accesses and the product of its
 * constants (`sqrt(8)` included), multiplied left to right in float64
 * (`-x` counts as `-1 * x`).
 * Refuses a divided access, any other kind of factor, a division by zero and
 * a scale that is not finite, all of which the scalar loop nest handles.
 */
function scaledProduct(body: Expr): ScaledProduct | null {
  const accesses: Access[] = [];
  let scale = 1;
  for (const f of productFactors(body)) {
    let e = f.expr;
    while (e.kind === "unary" && e.op === "neg") {
      scale = -scale;
      e = e.arg;
    }
    const value = constantOf(e);
    if (value !== null) {
      if (f.inverse && value === 0) return null;
      scale = f.inverse ? scale / value : scale * value;
    } else if (e.kind === "access" && !f.inverse) {
      accesses.push(e);
    } else {
      return null;
    }
  }
  return accesses.length === 2 && Number.isFinite(scale) ? { accesses, scale } : null;
}

/**
 * The contraction a def computes, or null when it is not a plain batched matrix product.
 *
 * @example
 * ```ts
 * matchContraction(def, shapes)?.k; // 8 for C[i, j] = A[i, k] * B[k, j] with A[4, 8]
 * ```
 */
export function matchContraction(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): Contraction | null {
  // Padding reads are bounds-checked loads, which the blocked kernels do not make.
  if (readsPadding(def.body)) return null;
  const body = def.body;
  if (def.dtype === "i32" || body.kind !== "reduce" || body.op !== "sum" || body.vars.length !== 1) return null;
  const prod = scaledProduct(body.body);
  if (prod === null || def.indices.length < 1) return null;
  if (def.indices.length === 1) return matchMatrixVector(def, body.vars[0]!, prod, shapes);
  const k = body.vars[0]!;
  const i = def.indices[def.indices.length - 2]!;
  const j = def.indices[def.indices.length - 1]!;
  const batch = def.indices.slice(0, -2);
  const offsets = prod.accesses.map((a) => {
    const shape = shapes.get(a.tensor);
    return shape ? { buffer: a.tensor, offset: flattenIndex(a.index, shape) } : null;
  });
  const onlyBatch = (off: { terms: readonly { var: string }[] }, allowed: readonly string[]): boolean =>
    off.terms.every((t) => batch.includes(t.var) || allowed.includes(t.var));
  let a = offsets[0];
  let b = offsets[1];
  if (!a || !b) return null;
  if (coefOf(a.offset, j) !== 0) [a, b] = [b, a];
  const aRow = coefOf(a.offset, i);
  const aK = coefOf(a.offset, k);
  const bK = coefOf(b.offset, k);
  const bCol = coefOf(b.offset, j);
  if (aRow === 0 || aK === 0 || bK === 0 || coefOf(a.offset, j) !== 0) return null;
  if (bCol === 0 || coefOf(b.offset, i) !== 0) return null;
  if (!onlyBatch(a.offset, [i, k]) || !onlyBatch(b.offset, [k, j])) return null;
  const range = (v: string): number => def.ranges[v] ?? 0;
  const outOffset = flattenIndex(def.indices.map((v) => affine([{ var: v, coef: 1 }])), def.indices.map(range));
  return {
    batch: batch.map((v) => ({ var: v, extent: range(v) })),
    m: range(i),
    n: range(j),
    k: range(k),
    out: { buffer: def.name, base: dropVars(outOffset, [i, j]), rowStride: coefOf(outOffset, i) },
    a: { buffer: a.buffer, base: dropVars(a.offset, [i, k]), rowStride: aRow, kStride: aK },
    b: { buffer: b.buffer, base: dropVars(b.offset, [k, j]), kStride: bK, colStride: bCol },
    ...(prod.scale === 1 ? {} : { scale: prod.scale }),
  };
}

/**
 * A matrix-vector product written with a rank-1 output, `y[j] = sum_k x[k] *
 * W[k, j]` or `y[i] = sum_k W[i, k] * x[k]` (any strides), as the 1-row
 * product `y[0, j] = sum_k x[0, k] * W[k, j]`: the vector is `A` (its row
 * stride is never used), the matrix `B`. So the written form does not decide
 * the kernel: `y[j]` and `Y[0, j]` run alike.
 *
 *     before: y[j] = sum_k W[j, k] * x[k]     (W[5, 8])
 *     after:  m 1, n 5, k 8; out y + 5*0 + j; a x + 1*k; b W + 1*k + 8*j
 */
function matchMatrixVector(def: DefNode, k: string, prod: ScaledProduct, shapes: ReadonlyMap<string, readonly number[]>): Contraction | null {
  const j = def.indices[0]!;
  const offsets = prod.accesses.map((a) => {
    const shape = shapes.get(a.tensor);
    return shape ? { buffer: a.tensor, offset: flattenIndex(a.index, shape) } : null;
  });
  let x = offsets[0];
  let w = offsets[1];
  if (!x || !w) return null;
  if (coefOf(x.offset, j) !== 0) [x, w] = [w, x];
  const xK = coefOf(x.offset, k);
  const wK = coefOf(w.offset, k);
  const wCol = coefOf(w.offset, j);
  if (xK === 0 || wK === 0 || wCol === 0 || coefOf(x.offset, j) !== 0) return null;
  if (x.offset.terms.some((t) => t.var !== k) || w.offset.terms.some((t) => t.var !== k && t.var !== j)) return null;
  const n = def.ranges[j] ?? 0;
  return {
    batch: [],
    m: 1,
    n,
    k: def.ranges[k] ?? 0,
    out: { buffer: def.name, base: affine([]), rowStride: n },
    a: { buffer: x.buffer, base: dropVars(x.offset, [k]), rowStride: 1, kStride: xK },
    b: { buffer: w.buffer, base: dropVars(w.offset, [k, j]), kStride: wK, colStride: wCol },
    ...(prod.scale === 1 ? {} : { scale: prod.scale }),
  };
}

/**
 * The one `sum` of `body` not nested in another reduction, or null when there is not exactly one reduction outside others.
 *
 * @example
 * ```ts
 * soleTopReduction(parseExprText("relu(sum(k:4) A[i, k] * B[k, j] + b[j])").expr); // the sum over k
 * ```
 */
export function soleTopReduction(body: Expr): Extract<Expr, { kind: "reduce" }> | null {
  const found: Extract<Expr, { kind: "reduce" }>[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === "reduce") found.push(e);
    else for (const c of children(e)) walk(c);
  };
  walk(body);
  return found.length === 1 && found[0]!.op === "sum" ? found[0]! : null;
}

/** A reduction-free IR expression as a kernel expression, with `hole` standing for the local {@link EPILOGUE_ACC}. */
function epilogueExpr(e: Expr, hole: Expr, shapes: ReadonlyMap<string, readonly number[]>): KExpr | null {
  if (e === hole) return { kind: "local", name: EPILOGUE_ACC };
  switch (e.kind) {
    case "const":
    case "index":
      return e;
    case "access": {
      const shape = shapes.get(e.tensor);
      return shape ? { kind: "load", buffer: e.tensor, offset: flattenIndex(e.index, shape) } : null;
    }
    case "gather":
      return null;
    case "unary": {
      const arg = epilogueExpr(e.arg, hole, shapes);
      return arg && { kind: "unary", op: e.op, arg };
    }
    case "binary": {
      const lhs = epilogueExpr(e.lhs, hole, shapes);
      const rhs = epilogueExpr(e.rhs, hole, shapes);
      return lhs && rhs && { kind: "binary", op: e.op, lhs, rhs };
    }
    case "select": {
      const cond = epilogueExpr(e.cond, hole, shapes);
      const then = epilogueExpr(e.then, hole, shapes);
      const otherwise = epilogueExpr(e.else, hole, shapes);
      return cond && then && otherwise && { kind: "select", cond, then, else: otherwise };
    }
    case "reduce":
      return null;
  }
}

/**
 * The contraction and elementwise epilogue a def computes, or null. The def
 * must read as `f(sum_k A * B * constants)` where the sum is a batched matrix
 * product ({@link matchContraction}) and `f` is elementwise: no other
 * reduction, so it reads only the def's output indices. `lowerToKernels`
 * tries {@link matchContraction} first, so a def that is the sum times
 * constants stays a plain contraction, the form every backend runs.
 *
 *     before: H[i, j] = relu(b[j] + sum_k W[k, j] * X[i, k])
 *     after:  m 64, n 256, k 128; ...; epilogue relu(b[j] + acc)
 *
 * @example
 * ```ts
 * matchEpilogueContraction(def, shapes)?.epilogue; // relu(b[j] + acc) for a dense layer
 * ```
 */
export function matchEpilogueContraction(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): EpilogueContraction | null {
  if (readsPadding(def.body)) return null;
  // The epilogue names the output's row and column variables: two indices at least.
  if (def.body.kind === "reduce" || def.indices.length < 2) return null;
  const sum = soleTopReduction(def.body);
  if (sum === null) return null;
  const contraction = matchContraction({ ...def, body: sum }, shapes);
  const epilogue = contraction && epilogueExpr(def.body, sum, shapes);
  if (!contraction || !epilogue) return null;
  return { contraction, row: def.indices[def.indices.length - 2]!, col: def.indices[def.indices.length - 1]!, epilogue };
}

/** Whether an expression has a guarded (padding) access. */
function readsPadding(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.kind === "access" && x.guarded) found = true;
  });
  return found;
}
