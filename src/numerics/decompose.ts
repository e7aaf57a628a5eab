/**
 * Tucker (truncated HOSVD) and tensor-train (TT-SVD) decompositions of
 * dense tensors, each with a relative Frobenius tolerance split evenly over
 * its truncations (so the total error stays within it: √d·(tol/√d) = tol
 * for HOSVD, the same for TT-SVD's d − 1 truncations), and the error
 * measured on the tensor rebuilt from the factors.
 */
import { frobeniusDistance, frobeniusNorm, matmul, matrix, type Matrix, transpose } from "./matrix.js";
import { truncatedSvd, type Truncation } from "./svd.js";

/** A dense tensor: row-major data and its shape. */
export interface DenseTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The mode-k unfolding: rows indexed by mode k, columns by the other modes in order. */
export function unfold(t: DenseTensor, k: number): Matrix {
  const nk = t.shape[k]!;
  const inner = size(t.shape.slice(k + 1));
  const outer = size(t.shape.slice(0, k));
  const out = new Float64Array(t.data.length);
  const cols = outer * inner;
  for (let o = 0; o < outer; o++) for (let i = 0; i < nk; i++) for (let j = 0; j < inner; j++) out[i * cols + o * inner + j] = t.data[(o * nk + i) * inner + j]!;
  return matrix(nk, cols, out);
}

/** t ×_k Mᵀ (M is n_k × r): mode k shrinks from n_k to r. */
export function modeProductT(t: DenseTensor, k: number, m: Matrix): DenseTensor {
  const nk = t.shape[k]!;
  const r = m.cols;
  const inner = size(t.shape.slice(k + 1));
  const outer = size(t.shape.slice(0, k));
  const out = new Float64Array(outer * r * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < nk; i++) {
      const src = (o * nk + i) * inner;
      for (let a = 0; a < r; a++) {
        const c = m.data[i * r + a]!;
        if (c === 0) continue;
        const dst = (o * r + a) * inner;
        for (let j = 0; j < inner; j++) out[dst + j]! += c * t.data[src + j]!;
      }
    }
  }
  return { shape: t.shape.map((n, j) => (j === k ? r : n)), data: out };
}

/** t ×_k M (M is n × r_k): mode k grows from r_k to n. */
function modeProduct(t: DenseTensor, k: number, m: Matrix): DenseTensor {
  return modeProductT(t, k, transpose(m));
}

/** A Tucker decomposition: W = core ×_1 U1 ×_2 U2 ... (U_k is n_k × r_k). */
export interface Tucker {
  readonly core: DenseTensor;
  readonly factors: readonly Matrix[];
  readonly relativeError: number;
}

/** The tensor a Tucker decomposition stands for. */
export function tuckerTensor(t: Tucker): DenseTensor {
  return t.factors.reduce<DenseTensor>((acc, u, k) => modeProduct(acc, k, u), t.core);
}

/**
 * Truncated HOSVD within `tol` (relative Frobenius): each mode's rank the
 * smallest whose discarded energy is at most tol²/d of the whole; null when
 * some mode would need more than `maxRank[k]`.
 *
 * @example
 * ```ts
 * hosvd({ shape: [8, 8, 8], data }, 1e-6)!.core.shape; // e.g. [2, 3, 2]
 * ```
 */
export function hosvd(t: DenseTensor, tol: number, maxRank?: readonly number[]): Tucker | null {
  const d = t.shape.length;
  const factors: Matrix[] = [];
  for (let k = 0; k < d; k++) {
    const tr = truncatedSvd(unfold(t, k), { tol: tol / Math.sqrt(d), maxRank: maxRank?.[k] });
    if (!tr.ok) return null;
    factors.push(tr.rank > 0 ? tr.svd.u : matrix(t.shape[k]!, 1));
  }
  const core = factors.reduce<DenseTensor>((acc, u, k) => modeProductT(acc, k, u), t);
  const norm = frobeniusNorm(t.data);
  const relativeError = norm > 0 ? frobeniusDistance(tuckerTensor({ core, factors, relativeError: 0 }).data, t.data) / norm : 0;
  return { core, factors, relativeError };
}

/** A tensor train: core k has shape [r_{k-1}, n_k, r_k] (r_0 = r_d = 1, dropped for the first and last). */
export interface TensorTrain {
  readonly cores: readonly DenseTensor[];
  readonly ranks: readonly number[];
  readonly relativeError: number;
}

/** The tensor a tensor train stands for. */
export function ttTensor(cores: readonly DenseTensor[]): DenseTensor {
  let acc = matrix(1, cores[0]!.data.length, cores[0]!.data);
  let shape = [cores[0]!.shape[0]!];
  for (let k = 1; k < cores.length; k++) {
    const c = cores[k]!;
    const r = c.shape[0]!;
    const rest = c.data.length / r;
    acc = matmul(matrix(acc.data.length / r, r, acc.data), matrix(r, rest, c.data));
    shape = [...shape, c.shape[1]!];
  }
  return { shape, data: acc.data };
}

/**
 * TT-SVD within `tol`: d − 1 truncated SVDs of the sequential unfoldings,
 * each within tol/√(d − 1); null when a rank would exceed `maxRank`.
 *
 * @example
 * ```ts
 * ttSvd({ shape: [8, 8, 8], data }, 1e-6)!.ranks; // e.g. [2, 3]
 * ```
 */
export function ttSvd(t: DenseTensor, tol: number, maxRank?: number): TensorTrain | null {
  const d = t.shape.length;
  const cores: DenseTensor[] = [];
  const ranks: number[] = [];
  let rest = t.data;
  let r = 1;
  for (let k = 0; k < d - 1; k++) {
    const nk = t.shape[k]!;
    const rows = r * nk;
    const c = matrix(rows, rest.length / rows, rest);
    const tr: Truncation = truncatedSvd(c, { tol: tol / Math.sqrt(d - 1), maxRank });
    if (!tr.ok) return null;
    const rk = Math.max(tr.rank, 1);
    const u = tr.rank > 0 ? tr.svd.u : matrix(rows, 1);
    cores.push({ shape: k === 0 ? [nk, rk] : [r, nk, rk], data: Float64Array.from(u.data) });
    // The remainder diag(s)·Vᵀ, rk × (columns).
    const sv = new Float64Array(rk * c.cols);
    for (let a = 0; a < tr.rank; a++) for (let j = 0; j < c.cols; j++) sv[a * c.cols + j] = tr.svd.s[a]! * tr.svd.v.data[j * tr.rank + a]!;
    rest = sv;
    ranks.push(rk);
    r = rk;
  }
  cores.push({ shape: [r, t.shape[d - 1]!], data: rest });
  const norm = frobeniusNorm(t.data);
  const relativeError = norm > 0 ? frobeniusDistance(ttTensor(cores).data, t.data) / norm : 0;
  return { cores, ranks, relativeError };
}
