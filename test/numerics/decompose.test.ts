import { describe, expect, it } from "vitest";
import { frobeniusDistance, frobeniusNorm, gaussianMatrix, hosvd, ttSvd, ttTensor, tuckerTensor, unfold, type DenseTensor } from "../../src/numerics/index.js";
import { numpyPython, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();

/** core ×₁ U1 ×₂ U2 ×₃ U3 with random orthonormal-free factors. */
function lowMultilinearRank(shape: number[], ranks: number[], seed: number): DenseTensor {
  const core = { shape: ranks, data: gaussianMatrix(1, ranks.reduce((a, b) => a * b, 1), seed).data };
  const factors = shape.map((n, k) => gaussianMatrix(n, ranks[k]!, seed + 1 + k));
  return tuckerTensor({ core, factors, relativeError: 0 });
}

describe("Tucker and tensor-train decompositions", () => {
  it("HOSVD recovers the multilinear rank of an exact Tucker tensor", () => {
    const t = lowMultilinearRank([12, 10, 14], [2, 3, 4], 1);
    const tk = hosvd(t, 1e-8)!;
    expect(tk.core.shape).toEqual([2, 3, 4]);
    expect(tk.relativeError).toBeLessThan(1e-10);
    expect(frobeniusDistance(tuckerTensor(tk).data, t.data) / frobeniusNorm(t.data)).toBeLessThan(1e-10);
  });

  it("TT-SVD recovers the TT ranks of an exact tensor train and meets a loose tolerance on noise", () => {
    const g1 = { shape: [6, 2], data: gaussianMatrix(6, 2, 1).data };
    const g2 = { shape: [2, 7, 3], data: gaussianMatrix(1, 42, 2).data };
    const g3 = { shape: [3, 5], data: gaussianMatrix(3, 5, 3).data };
    const t = ttTensor([g1, g2, g3]);
    expect(t.shape).toEqual([6, 7, 5]);
    const tt = ttSvd(t, 1e-8)!;
    expect(tt.ranks).toEqual([2, 3]);
    expect(tt.relativeError).toBeLessThan(1e-10);
    const noisy = { shape: t.shape, data: t.data.map((x, k) => x + 1e-3 * gaussianMatrix(1, t.data.length, 9).data[k]!) };
    const loose = ttSvd(noisy, 1e-2)!;
    expect(loose.relativeError).toBeLessThanOrEqual(1e-2);
  });

  it("HOSVD stays within its tolerance on a tensor with a decaying spectrum", () => {
    const t = { shape: [8, 9, 10], data: Float64Array.from(gaussianMatrix(1, 720, 4).data, (x, k) => x * Math.exp(-(k % 10) - ((k / 10) % 9))) };
    for (const tol of [1e-1, 1e-2, 1e-3]) {
      const tk = hosvd(t, tol)!;
      expect(tk.relativeError).toBeLessThanOrEqual(tol);
    }
  });

  it.skipIf(python === null)("mode unfoldings agree with NumPy's moveaxis + reshape", () => {
    const t = { shape: [3, 4, 5], data: gaussianMatrix(1, 60, 5).data };
    const script = `
import json, sys
import numpy as np
a = json.load(sys.stdin)
x = np.array(a["data"]).reshape(a["shape"])
json.dump([np.moveaxis(x, k, 0).reshape(x.shape[k], -1).reshape(-1).tolist() for k in range(3)], sys.stdout)
`;
    const want = runNumpyScript<number[][]>(python!, script, { shape: t.shape, data: Array.from(t.data) });
    for (let k = 0; k < 3; k++) expect(Array.from(unfold(t, k).data)).toEqual(want[k]);
  });
});
