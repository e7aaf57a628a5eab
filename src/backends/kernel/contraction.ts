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
 */
import type { Access, DefNode, Expr } from "../../ir/types.js";
import { affine } from "../../ir/types.js";
import { coefOf, dropVars, flattenIndex } from "./exprs.js";
import { evalUnary } from "../../ir/ops.js";
import { productFactors } from "./reassociate.js";
import type { Contraction } from "./types.js";

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
  const body = def.body;
  if (def.dtype === "i32" || body.kind !== "reduce" || body.op !== "sum" || body.vars.length !== 1) return null;
  const prod = scaledProduct(body.body);
  if (prod === null || def.indices.length < 2) return null;
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
