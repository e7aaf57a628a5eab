import { describe, expect, it } from "vitest";
import {
  frobeniusDistance, frobeniusNorm, gaussianMatrix, jacobiSvd, kronecker, leadingColumns, matmul, matmulTransA, matrix, nearestKronecker,
  orthonormalColumns, randomizedSvd, rearrange, reconstruct, singularValues, symmetricEigenvalues, transpose, truncatedSvd, type Matrix,
} from "../../src/numerics/index.js";
import { numpyPython, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();

/** NumPy's singular values (and eigenvalues of symmetric matrices) of each matrix. */
function numpySpectra(ms: Matrix[], kind: "svd" | "eigh"): number[][] {
  const script = `
import json, sys
import numpy as np
out = []
for a in json.load(sys.stdin):
    m = np.array(a["data"], dtype=np.float64).reshape(a["shape"])
    v = np.linalg.svd(m, compute_uv=False) if "${kind}" == "svd" else np.sort(np.linalg.eigvalsh(m))[::-1]
    out.append(v.tolist())
json.dump(out, sys.stdout)
`;
  return runNumpyScript<number[][]>(python!, script, ms.map((m) => ({ shape: [m.rows, m.cols], data: Array.from(m.data) })));
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, scale: number): number {
  let d = 0;
  for (let k = 0; k < b.length; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
  return d / scale;
}

/** A matrix with singular values `s` (descending) and seeded random singular vectors. */
function withSpectrum(m: number, n: number, s: readonly number[], seed: number): Matrix {
  const u = orthonormalColumns(gaussianMatrix(m, s.length, seed), seed + 1);
  const v = orthonormalColumns(gaussianMatrix(n, s.length, seed + 2), seed + 3);
  const us = matrix(m, s.length, u.data.map((x, k) => x * s[k % s.length]!));
  return matmul(us, transpose(v));
}

function orthonormalityError(q: Matrix): number {
  const g = matmulTransA(q, q);
  let e = 0;
  for (let i = 0; i < q.cols; i++) for (let j = 0; j < q.cols; j++) e = Math.max(e, Math.abs(g.data[i * q.cols + j]! - (i === j ? 1 : 0)));
  return e;
}

describe.skipIf(python === null)("SVD against NumPy", () => {
  it("one-sided Jacobi gives NumPy's singular values, orthonormal factors and A back", () => {
    const cases = [gaussianMatrix(40, 25, 1), gaussianMatrix(17, 60, 2), withSpectrum(50, 50, [1e3, 10, 1, 1e-3, 1e-9], 3), gaussianMatrix(1, 7, 4)];
    const expected = numpySpectra(cases, "svd");
    cases.forEach((a, k) => {
      const svd = jacobiSvd(a);
      const want = expected[k]!;
      expect(maxRelDiff(svd.s, want, want[0]!)).toBeLessThan(1e-13);
      expect(orthonormalityError(svd.v)).toBeLessThan(1e-12);
      expect(frobeniusDistance(reconstruct(svd), a) / frobeniusNorm(a)).toBeLessThan(1e-13);
    });
  });

  it("the Gram-matrix spectrum matches NumPy above 1e-8 of the largest value", () => {
    const a = withSpectrum(300, 240, Array.from({ length: 240 }, (_, k) => Math.exp(-k / 20)), 5);
    const g = matmulTransA(a, a);
    const [sv, ev] = [numpySpectra([a], "svd")[0]!, numpySpectra([g], "eigh")[0]!];
    expect(maxRelDiff(symmetricEigenvalues(g), ev, ev[0]!)).toBeLessThan(1e-12);
    expect(maxRelDiff(singularValues(a), sv, sv[0]!)).toBeLessThan(1e-7);
  });

  it("randomized SVD with power iterations comes within 1% of the optimal rank-k error", () => {
    const a = withSpectrum(400, 300, Array.from({ length: 300 }, (_, k) => 1 / (1 + k) ** 2), 6);
    const sv = numpySpectra([a], "svd")[0]!;
    const k = 10;
    const optimal = Math.sqrt(sv.slice(k).reduce((x, s) => x + s * s, 0));
    const svd = randomizedSvd(a, k, { powerIterations: 2, seed: 3 });
    expect(maxRelDiff(svd.s, sv.slice(0, k), sv[0]!)).toBeLessThan(1e-6);
    expect(frobeniusDistance(reconstruct(svd), a)).toBeLessThan(optimal * 1.01);
  });

  it("a tolerance picks NumPy's smallest rank, and a rank above the cap is refused with it", () => {
    const a = withSpectrum(256, 230, Array.from({ length: 230 }, (_, k) => 0.9 ** k), 7);
    const sv = numpySpectra([a], "svd")[0]!;
    const norm = Math.sqrt(sv.reduce((x, s) => x + s * s, 0));
    const tail = (r: number): number => Math.sqrt(sv.slice(r).reduce((x, s) => x + s * s, 0)) / norm;
    const tol = 1e-3;
    let want = 0;
    while (tail(want) > tol) want++;
    const t = truncatedSvd(a, { tol });
    expect(t.ok && t.rank).toBe(want);
    expect(t.ok && t.relativeError).toBeLessThanOrEqual(tol);
    // Within the 1% of the optimal error that the randomized path accepts.
    expect(t.ok && t.relativeError).toBeGreaterThanOrEqual(tail(want) * (1 - 1e-9));
    expect(t.ok && t.relativeError).toBeLessThanOrEqual(tail(want) * 1.01);
    const refused = truncatedSvd(a, { tol, maxRank: want - 5 });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.neededRank).toBe(want);
    expect(!refused.ok && Math.abs(refused.errorAtMaxRank - tail(want - 5))).toBeLessThan(1e-7);
  });
});

describe("truncated SVD of large matrices", () => {
  it("recovers rank 8 of a 1024x1024 rank-8 matrix within 1e-5 (randomized path)", () => {
    const a = matmul(gaussianMatrix(1024, 8, 11), gaussianMatrix(8, 1024, 12));
    const t = truncatedSvd(a, { tol: 1e-4, maxRank: 511 });
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    expect(t.rank).toBe(8);
    expect(t.method).toBe("randomized");
    expect(t.relativeError).toBeLessThan(1e-5);
    // The reported error is the measured one.
    expect(Math.abs(frobeniusDistance(reconstruct(t.svd), a) / frobeniusNorm(a) - t.relativeError)).toBeLessThan(1e-15);
  });

  it("keeps the noise floor out of the rank: rank 8 plus 1e-7 noise at tol 1e-4", () => {
    const a = matmul(gaussianMatrix(600, 8, 13), gaussianMatrix(8, 500, 14));
    const noise = gaussianMatrix(600, 500, 15);
    const scale = 1e-7 * frobeniusNorm(a) / frobeniusNorm(noise);
    const noisy = matrix(600, 500, a.data.map((x, k) => x + scale * noise.data[k]!));
    const t = truncatedSvd(noisy, { tol: 1e-4 });
    expect(t.ok && t.rank).toBe(8);
    expect(t.ok && t.relativeError).toBeLessThan(2e-7);
  });

  it("leadingColumns keeps the first columns", () => {
    expect(Array.from(leadingColumns(matrix(2, 3, Float64Array.of(1, 2, 3, 4, 5, 6)), 2).data)).toEqual([1, 2, 4, 5]);
  });
});

describe("nearest Kronecker product", () => {
  it("the rearrangement maps A ⊗ B to vec(A)·vec(B)ᵀ", () => {
    const a = gaussianMatrix(2, 3, 1);
    const b = gaussianMatrix(4, 5, 2);
    const r = rearrange(kronecker(a, b), { m1: 2, n1: 3, m2: 4, n2: 5 });
    expect(r.rows).toBe(6);
    expect(r.cols).toBe(20);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 20; j++) expect(r.data[i * 20 + j]).toBeCloseTo(a.data[i]! * b.data[j]!, 14);
  });

  it("factors an exact 1024x1024 A ⊗ B (32x32 factors) within 1e-5", () => {
    const a = gaussianMatrix(32, 32, 3);
    const b = gaussianMatrix(32, 32, 4);
    const w = kronecker(a, b);
    const f = nearestKronecker(w, { m1: 32, n1: 32, m2: 32, n2: 32 }, { tol: 1e-6 });
    expect(f.ok).toBe(true);
    if (!f.ok) return;
    expect(f.terms.length).toBe(1);
    expect(f.relativeError).toBeLessThan(1e-5);
    const back = kronecker(f.terms[0]!.a, f.terms[0]!.b);
    expect(frobeniusDistance(back, w) / frobeniusNorm(w)).toBeLessThan(1e-12);
  });

  it.skipIf(python === null)("matches the error of NumPy's SVD of the rearrangement", () => {
    const w = gaussianMatrix(12, 20, 9);
    const shape = { m1: 3, n1: 4, m2: 4, n2: 5 };
    const sv = numpySpectra([rearrange(w, shape)], "svd")[0]!;
    const optimal = Math.sqrt(sv.slice(1).reduce((x, s) => x + s * s, 0)) / frobeniusNorm(w);
    const f = nearestKronecker(w, shape);
    expect(f.ok && Math.abs(f.relativeError - optimal)).toBeLessThan(1e-12);
  });
});
