/**
 * Nearest Kronecker products (Van Loan and Pitsianis 1993). For W of size
 * m1·m2 × n1·n2 the rearrangement R(W), of size m1·n1 × m2·n2, has the row
 * (a, c) equal to the block W[a·m2 : (a+1)·m2, c·n2 : (c+1)·n2] flattened;
 * it maps A ⊗ B to vec(A)·vec(B)ᵀ and keeps Frobenius norms, so the best
 * Σ_s A_s ⊗ B_s with t terms is the best rank-t approximation of R(W).
 */
import { frobeniusNorm, matrix, type Matrix } from "./matrix.js";
import { randomizedSketch, truncatedSvd, type SvdMethod } from "./svd.js";

/** Factor shapes of W ≈ A ⊗ B: A is m1×n1, B is m2×n2. */
export interface KronShape {
  readonly m1: number;
  readonly n1: number;
  readonly m2: number;
  readonly n2: number;
}

/**
 * R(W): row a·n1 + c, column b·n2 + d holds W[a·m2 + b, c·n2 + d].
 *
 * @example
 * ```ts
 * rearrange(w, { m1: 2, n1: 2, m2: 3, n2: 3 }).rows; // 4
 * ```
 */
export function rearrange(w: Matrix, s: KronShape): Matrix {
  if (w.rows !== s.m1 * s.m2 || w.cols !== s.n1 * s.n2) throw new RangeError("rearrange: factor shapes do not match");
  const out = new Float64Array(w.rows * w.cols);
  const rc = s.m2 * s.n2;
  for (let a = 0; a < s.m1; a++) {
    for (let b = 0; b < s.m2; b++) {
      const row = (a * s.m2 + b) * w.cols;
      for (let c = 0; c < s.n1; c++) {
        const base = (a * s.n1 + c) * rc + b * s.n2;
        const from = row + c * s.n2;
        for (let d = 0; d < s.n2; d++) out[base + d] = w.data[from + d]!;
      }
    }
  }
  return matrix(s.m1 * s.n1, rc, out);
}

/** A ⊗ B for A m1×n1, B m2×n2. */
export function kronecker(a: Matrix, b: Matrix): Matrix {
  const out = new Float64Array(a.rows * b.rows * a.cols * b.cols);
  const cols = a.cols * b.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < b.rows; k++) {
      for (let j = 0; j < a.cols; j++) {
        const x = a.data[i * a.cols + j]!;
        for (let l = 0; l < b.cols; l++) out[(i * b.rows + k) * cols + j * b.cols + l] = x * b.data[k * b.cols + l]!;
      }
    }
  }
  return matrix(a.rows * b.rows, cols, out);
}

/** The result of {@link nearestKronecker}: W ≈ Σ_s A_s ⊗ B_s. */
export type KronFactoring =
  | {
    readonly ok: true;
    readonly shape: KronShape;
    /** A_s (m1×n1) and B_s (m2×n2), one pair per term, scaled to equal norms. */
    readonly terms: ReadonlyArray<{ readonly a: Matrix; readonly b: Matrix }>;
    readonly relativeError: number;
    readonly method: SvdMethod;
  }
  | { readonly ok: false; readonly shape: KronShape; readonly neededTerms: number; readonly errorAtMaxTerms: number };

/**
 * The nearest sum of at most `maxTerms` Kronecker products with factor
 * shapes `shape` whose relative Frobenius error is at most `tol` (or,
 * without `tol`, the nearest single product).
 *
 * @example
 * ```ts
 * const f = nearestKronecker(kronecker(a, b), { m1: 2, n1: 2, m2: 3, n3: 3 }, { tol: 1e-6 });
 * f.ok && f.relativeError; // about 1e-16
 * ```
 */
export function nearestKronecker(w: Matrix, shape: KronShape, options: { tol?: number; maxTerms?: number; seed?: number } = {}): KronFactoring {
  const r = rearrange(w, shape);
  const t = truncatedSvd(r, options.tol === undefined ? { rank: 1, seed: options.seed } : { tol: options.tol, maxRank: options.maxTerms ?? 1, seed: options.seed });
  if (!t.ok) return { ok: false, shape, neededTerms: t.neededRank, errorAtMaxTerms: t.errorAtMaxRank };
  const terms = [];
  for (let s = 0; s < t.rank; s++) {
    const scale = Math.sqrt(t.svd.s[s]!);
    const a = new Float64Array(shape.m1 * shape.n1);
    const b = new Float64Array(shape.m2 * shape.n2);
    for (let i = 0; i < a.length; i++) a[i] = t.svd.u.data[i * t.rank + s]! * scale;
    for (let i = 0; i < b.length; i++) b[i] = t.svd.v.data[i * t.rank + s]! * scale;
    terms.push({ a: matrix(shape.m1, shape.n1, a), b: matrix(shape.m2, shape.n2, b) });
  }
  return { ok: true, shape, terms, relativeError: t.relativeError, method: t.method };
}

/**
 * A lower bound of the relative error of the nearest single Kronecker
 * product with these factor shapes, from a small randomized sketch of R(W)
 * (σᵢ of the sketch bound R's from below): cheap enough to rule out most
 * factor shapes of a search before any of them is computed in full.
 */
export function kronErrorLowerBound(w: Matrix, shape: KronShape, seed = 1): number {
  const r = rearrange(w, shape);
  const norm = frobeniusNorm(r);
  if (norm === 0) return 0;
  const sketch = randomizedSketch(r, 6, { powerIterations: 1, seed });
  let tail = 0;
  for (let i = 1; i < sketch.s.length; i++) tail += sketch.s[i]! * sketch.s[i]!;
  return Math.sqrt(tail) / norm;
}

/**
 * The factor shapes to try for an m×n matrix: every m1 | m, n1 | n but the
 * trivial ones (A or B a scalar), most balanced first, at most `limit`.
 */
export function kronShapeCandidates(m: number, n: number, limit = 16): KronShape[] {
  const divisors = (x: number): number[] => Array.from({ length: x }, (_, k) => k + 1).filter((d) => x % d === 0);
  const out: KronShape[] = [];
  for (const m1 of divisors(m)) {
    for (const n1 of divisors(n)) {
      const m2 = m / m1;
      const n2 = n / n1;
      if (m1 * n1 === 1 || m2 * n2 === 1) continue;
      out.push({ m1, n1, m2, n2 });
    }
  }
  const imbalance = (s: KronShape): number => Math.abs(Math.log(s.m1 / s.m2)) + Math.abs(Math.log(s.n1 / s.n2));
  return out.sort((x, y) => imbalance(x) - imbalance(y)).slice(0, limit);
}
