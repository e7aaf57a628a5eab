/**
 * Sliced einsum: a contraction whose best tree has an intermediate 16× over
 * the limit runs slice by slice on js and wasm and agrees with the unsliced
 * result.
 */
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { einsumWith } from "../../src/einsum/index.js";
import { einsumSliced } from "../../src/einsum/sliced.js";
import { contractPath } from "../../src/passes/contraction-path/index.js";
import { randomTensor } from "../../src/runtime/random.js";

describe("einsumSliced", () => {
  for (const backend of ["js", "wasm"] as const) {
    it(`matches the unsliced einsum under a limit 16× below the largest intermediate (${backend})`, async () => {
      await loadBackend(backend);
      const spec = "ab,bc,cd,de->ae";
      const shapes = [[6, 32], [32, 32], [32, 32], [32, 5]];
      const tensors = shapes.map((s, k) => randomTensor(s, "f32", k + 1));
      const largest = Math.max(...contractPath(spec, shapes, { bytesPerElement: 4 }).info.steps.slice(0, -1).map((s) => s.resultSize));
      const limit = (largest * 4) / 16;
      const { result, slicing } = einsumSliced(spec, tensors, { backend, maxIntermediateBytes: limit });
      expect(slicing.slices).toBeGreaterThan(1);
      expect(slicing.largestIntermediate * 4).toBeLessThanOrEqual(limit);
      const plain = einsumWith(spec, tensors, { backend });
      expect(result.shape).toEqual(plain.shape);
      for (let i = 0; i < plain.data.length; i++) expect(Math.abs(result.data[i]! - plain.data[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(plain.data[i]!)));
    });
  }

  it("slices output labels too, writing each slice into its place", () => {
    const spec = "ab,bc->ac";
    const tensors = [[40, 3], [3, 40]].map((s, k) => randomTensor(s, "f32", 7 + k));
    const { result, slicing } = einsumSliced(spec, tensors, { maxIntermediateBytes: 40 * 4 });
    expect(slicing.labels.some((l) => l === "a" || l === "c")).toBe(true);
    const plain = einsumWith(spec, tensors, {});
    for (let i = 0; i < plain.data.length; i++) expect(Math.abs(result.data[i]! - plain.data[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(plain.data[i]!)));
  });
});
