// Weights for examples/lowrank_mlp.tns: W1 rank 8 plus noise, W2 a Kronecker
// product of two √d×√d factors plus noise, W3 dense Gaussian, each noise at
// 1e-6 of its weight's norm; float32, in one .npz.
//   node examples/lowrank_mlp_weights.js D OUT.npz      (D a perfect square; build first)
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Tensor, writeNpz } from "../dist/index.js";
import { frobeniusNorm, gaussianMatrix, kronecker, matmul } from "../dist/numerics/index.js";

/**
 * The three weights for width `d` (a perfect square), seeded.
 * @example const { W1, W2, W3 } = lowRankMlpWeights(1024);
 */
export function lowRankMlpWeights(d, noise = 1e-6) {
  const s = Math.round(Math.sqrt(d));
  if (s * s !== d) throw new RangeError(`d must be a perfect square, got ${d}`);
  const plus = (m, seed) => {
    const g = gaussianMatrix(m.rows, m.cols, seed);
    const scale = (noise * frobeniusNorm(m)) / frobeniusNorm(g);
    // Scaled so that ‖W‖²/n = 1: activations keep their size through the layers.
    const out = 1 / Math.sqrt((frobeniusNorm(m) ** 2) / m.cols);
    return new Tensor("f32", [m.rows, m.cols], Float32Array.from(m.data, (x, k) => (x + scale * g.data[k]) * out));
  };
  return {
    W1: plus(matmul(gaussianMatrix(d, 8, 1), gaussianMatrix(8, d, 2)), 3),
    W2: plus(kronecker(gaussianMatrix(s, s, 4), gaussianMatrix(s, s, 5)), 6),
    W3: plus(gaussianMatrix(d, d, 7), 8),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [d, out] = [Number(process.argv[2] ?? 1024), process.argv[3] ?? "lowrank_mlp_weights.npz"];
  writeFileSync(out, writeNpz(lowRankMlpWeights(d)));
  console.log(`wrote ${out}: W1 (rank 8), W2 (Kronecker), W3 (dense), ${d}x${d} each`);
}
