/**
 * Dense float64 matrices for the approximation passes: row-major storage and
 * the few products, norms and factorizations the SVD needs. Plain loops in
 * the order that walks memory contiguously (i, k, j for A·B).
 */
import { splitmix32 } from "../runtime/random.js";

/** A row-major float64 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** `rows * cols` elements, row-major. */
  readonly data: Float64Array;
}

/**
 * A matrix over `data` (row-major), or a zero matrix when `data` is absent.
 *
 * @example
 * ```ts
 * matrix(2, 2, Float64Array.of(1, 2, 3, 4)).data[3]; // 4
 * ```
 */
export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`a ${rows}x${cols} matrix needs ${rows * cols} elements, got ${d.length}`);
  return { rows, cols, data: d };
}

/** A·B. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`matmul: ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  const c = new Float64Array(a.rows * b.cols);
  const n = b.cols;
  if (n <= 32) {
    // Few columns: dot products of A's rows with Bᵀ's rows, both contiguous.
    const bt = transpose(b).data;
    const kk = a.cols;
    for (let i = 0; i < a.rows; i++) {
      const ai = i * kk;
      for (let j = 0; j < n; j++) {
        const bj = j * kk;
        let acc = 0;
        for (let k = 0; k < kk; k++) acc += a.data[ai + k]! * bt[bj + k]!;
        c[i * n + j] = acc;
      }
    }
    return matrix(a.rows, n, c);
  }
  for (let i = 0; i < a.rows; i++) {
    const ci = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j]! += aik * b.data[bk + j]!;
    }
  }
  return matrix(a.rows, n, c);
}

/** Aᵀ·B. */
export function matmulTransA(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) throw new RangeError(`matmulTransA: ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  const c = new Float64Array(a.cols * b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const bi = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]!;
      if (aik === 0) continue;
      const ck = k * n;
      for (let j = 0; j < n; j++) c[ck + j]! += aik * b.data[bi + j]!;
    }
  }
  return matrix(a.cols, n, c);
}

/** Aᵀ. */
export function transpose(a: Matrix): Matrix {
  const t = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t[j * a.rows + i] = a.data[i * a.cols + j]!;
  return matrix(a.cols, a.rows, t);
}

/** The Frobenius norm, scaled against overflow. */
export function frobeniusNorm(a: Matrix | Float64Array): number {
  const d = a instanceof Float64Array ? a : a.data;
  let scale = 0;
  for (let k = 0; k < d.length; k++) scale = Math.max(scale, Math.abs(d[k]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let k = 0; k < d.length; k++) {
    const x = d[k]! / scale;
    s += x * x;
  }
  return scale * Math.sqrt(s);
}

/** ‖A − B‖_F for matrices (or arrays) of one size. */
export function frobeniusDistance(a: Matrix | Float64Array, b: Matrix | Float64Array): number {
  const x = a instanceof Float64Array ? a : a.data;
  const y = b instanceof Float64Array ? b : b.data;
  if (x.length !== y.length) throw new RangeError("frobeniusDistance: sizes differ");
  const d = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) d[k] = x[k]! - y[k]!;
  return frobeniusNorm(d);
}

/**
 * Seeded standard normal samples (Box–Muller over splitmix32), the same on
 * every platform.
 *
 * @example
 * ```ts
 * gaussianMatrix(3, 2, 7).data.length; // 6
 * ```
 */
export function gaussianMatrix(rows: number, cols: number, seed: number): Matrix {
  const next = splitmix32(seed);
  const uniform = (): number => (next() + 0.5) / 4294967296;
  const d = new Float64Array(rows * cols);
  for (let k = 0; k < d.length; k += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    d[k] = r * Math.cos(t);
    if (k + 1 < d.length) d[k + 1] = r * Math.sin(t);
  }
  return matrix(rows, cols, d);
}

/**
 * An orthonormal basis of the columns of `y` (m×k, k ≤ m) as an m×k matrix:
 * modified Gram–Schmidt applied twice ("twice is enough"), so the basis is
 * orthonormal to working precision. A column that depends on the earlier
 * ones is replaced by a seeded random direction orthogonal to them, so the
 * result always has k orthonormal columns.
 */
export function orthonormalColumns(y: Matrix, seed = 1): Matrix {
  const { rows: m, cols: k } = y;
  if (k > m) throw new RangeError(`orthonormalColumns: ${k} columns in dimension ${m}`);
  const cols = transpose(y).data; // row j is column j of y
  const fresh = gaussianMatrix(k, m, seed).data;
  for (let j = 0; j < k; j++) {
    const cj = j * m;
    let original = 0;
    for (let t = 0; t < m; t++) original = Math.max(original, Math.abs(cols[cj + t]!));
    for (let attempt = 0; attempt < 3; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          const ci = i * m;
          let dot = 0;
          for (let t = 0; t < m; t++) dot += cols[ci + t]! * cols[cj + t]!;
          for (let t = 0; t < m; t++) cols[cj + t]! -= dot * cols[ci + t]!;
        }
      }
      const norm = frobeniusNorm(cols.subarray(cj, cj + m));
      if (norm > 1e-10 * original && norm > 0) {
        for (let t = 0; t < m; t++) cols[cj + t]! /= norm;
        break;
      }
      // Dependent column: start again from a random direction.
      for (let t = 0; t < m; t++) cols[cj + t] = fresh[cj + t]!;
      original = 1;
    }
  }
  return transpose(matrix(k, m, cols));
}
