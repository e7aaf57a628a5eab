/**
 * Singular value decompositions for the approximation passes.
 *
 * - {@link jacobiSvd}: one-sided (Hestenes) Jacobi, exact to working
 *   precision, for small matrices and for the sketches below; small singular
 *   values come out with high relative accuracy.
 * - {@link singularValues}: every singular value of a large matrix from the
 *   eigenvalues of its Gram matrix (Householder tridiagonalization and
 *   implicit QL), accurate down to about 1e-8·σ₁, which is what choosing a
 *   rank under a tolerance needs.
 * - {@link randomizedSvd}: Halko–Martinsson–Tropp range finder with power
 *   iterations, then the exact SVD of the small projected matrix.
 * - {@link truncatedSvd}: the rank-r approximation a request asks for
 *   (a relative Frobenius tolerance or a rank), exact for small matrices,
 *   randomized for large ones with its error measured against A and checked
 *   against the optimal error (Eckart–Young), falling back to Jacobi when the
 *   check fails.
 *
 * ml-matrix's SVD (a Golub–Kahan port) was measured before writing these:
 * 5.5 s for 256×256 and 23 s for 512×512 on the shared development machine,
 * so about three minutes for 1024×1024, where {@link truncatedSvd} needs a
 * few seconds at most (docs/optimizer.md, "Approximations").
 */
import { frobeniusDistance, frobeniusNorm, gaussianMatrix, matmul, matmulTransA, matrix, type Matrix, orthonormalColumns, transpose } from "./matrix.js";

/** A thin SVD A ≈ U·diag(s)·Vᵀ: U m×r, V n×r, s descending. */
export interface Svd {
  readonly u: Matrix;
  readonly s: Float64Array;
  readonly v: Matrix;
}

const EPS = 2.220446049250313e-16;

/**
 * The thin SVD of `a` by one-sided Jacobi: rotations of column pairs until
 * every pair is orthogonal to working precision. U and V have min(m, n)
 * columns; s is sorted descending.
 *
 * @example
 * ```ts
 * jacobiSvd(matrix(2, 2, Float64Array.of(3, 0, 0, -2))).s; // [3, 2]
 * ```
 */
export function jacobiSvd(a: Matrix, maxSweeps = 60): Svd {
  if (a.rows < a.cols) {
    const t = jacobiSvd(transpose(a), maxSweeps);
    return { u: t.v, s: t.s, v: t.u };
  }
  const m = a.rows;
  const n = a.cols;
  const w = transpose(a).data; // row j: column j of A, rotated in place
  const vt = new Float64Array(n * n); // row j: column j of V
  for (let j = 0; j < n; j++) vt[j * n + j] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const wp = p * m;
      for (let q = p + 1; q < n; q++) {
        const wq = q * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let t = 0; t < m; t++) {
          const x = w[wp + t]!;
          const y = w[wq + t]!;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const tan = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + tan * tan);
        const s = c * tan;
        for (let t = 0; t < m; t++) {
          const x = w[wp + t]!;
          const y = w[wq + t]!;
          w[wp + t] = c * x - s * y;
          w[wq + t] = s * x + c * y;
        }
        const vp = p * n;
        const vq = q * n;
        for (let t = 0; t < n; t++) {
          const x = vt[vp + t]!;
          const y = vt[vq + t]!;
          vt[vp + t] = c * x - s * y;
          vt[vq + t] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => frobeniusNorm(w.subarray(j * m, (j + 1) * m)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]!);
  const u = new Float64Array(m * n);
  const v = new Float64Array(n * n);
  const s = new Float64Array(n);
  order.forEach((j, col) => {
    const sigma = norms[j]!;
    s[col] = sigma;
    for (let t = 0; t < m; t++) u[t * n + col] = sigma > 0 ? w[j * m + t]! / sigma : 0;
    for (let t = 0; t < n; t++) v[t * n + col] = vt[j * n + t]!;
  });
  return { u: matrix(m, n, u), s, v: matrix(n, n, v) };
}

/**
 * The eigenvalues of a symmetric matrix, descending: Householder reduction
 * to tridiagonal form, then the implicit QL algorithm with Wilkinson shifts.
 * Only the lower triangle of `a` is read.
 *
 * @example
 * ```ts
 * symmetricEigenvalues(matrix(2, 2, Float64Array.of(2, 1, 1, 2))); // [3, 1]
 * ```
 */
export function symmetricEigenvalues(a: Matrix): Float64Array {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError("symmetricEigenvalues: not square");
  const z = Float64Array.from(a.data);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const at = (i: number, j: number): number => z[i * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(at(i, k));
      if (scale === 0) {
        e[i] = at(i, l);
      } else {
        for (let k = 0; k <= l; k++) {
          z[i * n + k]! /= scale;
          h += at(i, k) * at(i, k);
        }
        let f = at(i, l);
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        z[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          g = 0;
          for (let k = 0; k <= j; k++) g += at(j, k) * at(i, k);
          for (let k = j + 1; k <= l; k++) g += at(k, j) * at(i, k);
          e[j] = g / h;
          f += e[j]! * at(i, j);
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = at(i, j);
          g = e[j]! - hh * f;
          e[j] = g;
          for (let k = 0; k <= j; k++) z[j * n + k]! -= f * e[k]! + g * at(i, k);
        }
      }
    } else {
      e[i] = at(i, l);
    }
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = at(i, i);
  // Implicit QL on the tridiagonal (d, e).
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  if (n > 0) e[n - 1] = 0;
  // Off-diagonals below eps·‖T‖ are negligible (absolute accuracy, as promised).
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]!) + Math.abs(e[i]!));
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= EPS * dd || Math.abs(e[m]!) <= EPS * anorm) break;
      }
      if (m !== l) {
        if (iter++ === 100) throw new Error("symmetricEigenvalues: no convergence");
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          f = 0;
        }
        if (r === 0 && i >= l) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d.sort().reverse();
}

/**
 * Every singular value of `a`, descending (min(m, n) of them): exact Jacobi
 * for small matrices, else the square roots of the Gram matrix's
 * eigenvalues (values below about 1e-8·σ₁ are then only bounded, not
 * resolved).
 */
export function singularValues(a: Matrix): Float64Array {
  if (Math.min(a.rows, a.cols) <= EXACT_MAX_DIM) return jacobiSvd(a).s;
  const g = a.rows >= a.cols ? matmulTransA(a, a) : matmulTransA(transpose(a), transpose(a));
  return symmetricEigenvalues(g).map((x) => Math.sqrt(Math.max(x, 0)));
}

/** Options of {@link randomizedSvd}. */
export interface RandomizedOptions {
  /** Extra sampled directions beyond the rank (default 10). */
  readonly oversample?: number;
  /** Power iterations (default 2). */
  readonly powerIterations?: number;
  readonly seed?: number;
}

/**
 * A rank-`rank` SVD by random projection (Halko, Martinsson, Tropp 2011,
 * algorithm 4.4 with re-orthonormalization between power iterations), then
 * the exact SVD of the (rank + oversample) × n projection.
 *
 * @example
 * ```ts
 * randomizedSvd(a, 8).s.length; // 8
 * ```
 */
export function randomizedSvd(a: Matrix, rank: number, options: RandomizedOptions = {}): Svd {
  const sketch = randomizedSketch(a, rank + (options.oversample ?? 10), options);
  const r = Math.min(rank, sketch.s.length);
  return { u: leadingColumns(sketch.u, r), s: sketch.s.slice(0, r), v: leadingColumns(sketch.v, r) };
}

/**
 * The SVD of QQᵀA for an orthonormal basis Q of k sampled directions (with
 * power iterations): k singular triplets. Its singular values are lower
 * bounds of A's (σᵢ(QᵀA) ≤ σᵢ(A)), which {@link truncatedSvd} uses to prove
 * a rank minimal.
 */
export function randomizedSketch(a: Matrix, k0: number, options: RandomizedOptions = {}): Svd {
  const { rows: m, cols: n } = a;
  const k = Math.min(k0, m, n);
  const seed = options.seed ?? 1;
  let q = orthonormalColumns(matmul(a, gaussianMatrix(n, k, seed)), seed + 1);
  for (let it = 0; it < (options.powerIterations ?? 2); it++) {
    const z = orthonormalColumns(transpose(matmulTransA(q, a)), seed + 2 + 2 * it);
    q = orthonormalColumns(matmul(a, z), seed + 3 + 2 * it);
  }
  const b = matmulTransA(q, a); // k × n
  const small = jacobiSvd(b);
  return { u: matmul(q, small.u), s: small.s, v: small.v };
}

/** The first `r` columns. */
export function leadingColumns(a: Matrix, r: number): Matrix {
  const out = new Float64Array(a.rows * r);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < r; j++) out[i * r + j] = a.data[i * a.cols + j]!;
  return matrix(a.rows, r, out);
}

/** U·diag(s)·Vᵀ. */
export function reconstruct(svd: Svd): Matrix {
  const r = svd.s.length;
  const us = new Float64Array(svd.u.rows * r);
  for (let i = 0; i < svd.u.rows; i++) for (let j = 0; j < r; j++) us[i * r + j] = svd.u.data[i * svd.u.cols + j]! * svd.s[j]!;
  return matmul(matrix(svd.u.rows, r, us), transpose(svd.v));
}

/** Matrices with at most this many rows or columns get the exact (Jacobi) SVD. */
export const EXACT_MAX_DIM = 192;

/** What {@link truncatedSvd} should find. */
export interface TruncationRequest {
  /** Relative Frobenius error bound ‖A − A_r‖_F ≤ tol·‖A‖_F: the smallest such rank. */
  readonly tol?: number;
  /** A fixed rank (takes precedence over `tol`). */
  readonly rank?: number;
  /** The largest rank worth having; above it the request is refused. */
  readonly maxRank?: number;
  readonly seed?: number;
}

/** How a {@link truncatedSvd} was computed. */
export type SvdMethod = "jacobi" | "randomized" | "randomized, then jacobi";

/** The result of {@link truncatedSvd}. */
export type Truncation =
  | {
    readonly ok: true;
    readonly svd: Svd;
    readonly rank: number;
    /** ‖A − U·diag(s)·Vᵀ‖_F / ‖A‖_F, measured on the factors returned. */
    readonly relativeError: number;
    /** The optimal (Eckart–Young) relative error at this rank, as far as it is known. */
    readonly optimalError: number;
    readonly method: SvdMethod;
  }
  | {
    readonly ok: false;
    /** The smallest rank that meets the tolerance. */
    readonly neededRank: number;
    /** The relative error at `maxRank`. */
    readonly errorAtMaxRank: number;
    readonly maxRank: number;
  };

/** √(Σ_{i ≥ r} s_i²)/‖A‖ for every r, from the full spectrum. */
function tailErrors(s: Float64Array, norm: number): Float64Array {
  const out = new Float64Array(s.length + 1);
  let acc = 0;
  for (let r = s.length; r >= 0; r--) {
    out[r] = norm > 0 ? Math.sqrt(acc) / norm : 0;
    if (r > 0) acc += s[r - 1]! * s[r - 1]!;
  }
  return out;
}

/**
 * The best rank-r approximation of `a` that `request` asks for: with
 * `rank`, that rank; with `tol`, the smallest rank whose relative Frobenius
 * error is at most `tol`. Refused (ok false) when that rank is above
 * `maxRank`. Small matrices get the exact Jacobi SVD. Large ones get the
 * spectrum (to choose the rank) and then a randomized SVD, whose error is
 * measured on A and accepted within 1% of the optimal error (or 1e-12·‖A‖),
 * else computed again with more power iterations, else by Jacobi.
 *
 * @example
 * ```ts
 * const t = truncatedSvd(a, { tol: 1e-4 });
 * if (t.ok) t.rank; // e.g. 8
 * ```
 */
export function truncatedSvd(a: Matrix, request: TruncationRequest): Truncation {
  const minDim = Math.min(a.rows, a.cols);
  const norm = frobeniusNorm(a);
  const maxRank = Math.min(request.maxRank ?? minDim, minDim);
  const small = minDim <= EXACT_MAX_DIM;
  if (!small && request.rank === undefined && request.tol !== undefined) {
    const quick = sketchedTruncation(a, request.tol, norm, maxRank, request.seed ?? 1);
    if (quick) return quick;
  }
  const exact = small ? jacobiSvd(a) : null;
  const spectrum = exact ? exact.s : request.rank !== undefined && request.tol === undefined ? null : singularValues(a);
  const tails = spectrum ? tailErrors(spectrum, norm) : null;
  let rank: number;
  if (request.rank !== undefined) {
    rank = Math.min(request.rank, minDim);
  } else {
    const tol = request.tol ?? 0;
    rank = 0;
    while (rank < minDim && tails![rank]! > tol) rank++;
  }
  if (rank > maxRank) return { ok: false, neededRank: rank, errorAtMaxRank: tails ? tails[maxRank]! : NaN, maxRank };
  const optimal = tails ? tails[rank]! : NaN;
  const measure = (svd: Svd): number => (norm > 0 ? frobeniusDistance(a, reconstruct(svd)) / norm : 0);
  if (exact) {
    const svd = { u: leadingColumns(exact.u, rank), s: exact.s.slice(0, rank), v: leadingColumns(exact.v, rank) };
    return { ok: true, svd, rank, relativeError: measure(svd), optimalError: optimal, method: "jacobi" };
  }
  const acceptable = (err: number): boolean => Number.isNaN(optimal) || err <= optimal * 1.01 + 1e-12;
  for (const powerIterations of [2, 6]) {
    const svd = randomizedSvd(a, rank, { powerIterations, seed: request.seed });
    const err = measure(svd);
    if (acceptable(err)) return { ok: true, svd, rank, relativeError: err, optimalError: Number.isNaN(optimal) ? err : optimal, method: "randomized" };
  }
  const full = jacobiSvd(a);
  const svd = { u: leadingColumns(full.u, rank), s: full.s.slice(0, rank), v: leadingColumns(full.v, rank) };
  const err = measure(svd);
  return { ok: true, svd, rank, relativeError: err, optimalError: tailErrors(full.s, norm)[rank]!, method: "randomized, then jacobi" };
}

/**
 * The tolerance path without the whole spectrum, for matrices of low
 * numerical rank: sketch k = 16, then 64 directions; take the smallest rank
 * r whose measured error meets `tol`, and accept it only when the sketch's
 * singular values prove rank r − 1 cannot (‖A − A_{r−1}‖² ≥ Σ_{i=r..k} σᵢ(QᵀA)²),
 * so the rank is the optimal one. Null when no sketch settles it.
 */
function sketchedTruncation(a: Matrix, tol: number, norm: number, maxRank: number, seed: number): Truncation | null {
  const minDim = Math.min(a.rows, a.cols);
  for (const k of [...new Set([Math.min(16, maxRank + 8), Math.min(64, maxRank + 8)])]) {
    if (k >= minDim) return null;
    const sketch = randomizedSketch(a, k, { powerIterations: 2, seed });
    const s = sketch.s;
    let captured = 0;
    for (let i = 0; i < s.length; i++) captured += s[i]! * s[i]!;
    // A sketch that holds less than half the energy: no numerically low rank in sight.
    if (captured < 0.5 * norm * norm) return null;
    // Upper bound of the error at rank r: ‖A‖² − Σ_{i<r} σᵢ(QᵀA)² (cancellation aside; measured below).
    let kept = 0;
    let rank = -1;
    for (let r = 0; r <= Math.min(k - 6, maxRank); r++) {
      if (Math.sqrt(Math.max(norm * norm - kept, 0)) <= tol * norm * 0.999) {
        rank = r;
        break;
      }
      kept += s[r]! * s[r]!;
    }
    if (rank < 0 || rank > maxRank) continue;
    let lower = 0;
    for (let i = rank - 1; i < s.length; i++) if (i >= 0) lower += s[i]! * s[i]!;
    if (rank > 0 && Math.sqrt(lower) <= tol * norm) continue;
    const svd = { u: leadingColumns(sketch.u, rank), s: s.slice(0, rank), v: leadingColumns(sketch.v, rank) };
    const err = norm > 0 ? frobeniusDistance(a, reconstruct(svd)) / norm : 0;
    if (err > tol) continue;
    return { ok: true, svd, rank, relativeError: err, optimalError: err, method: "randomized" };
  }
  return null;
}
