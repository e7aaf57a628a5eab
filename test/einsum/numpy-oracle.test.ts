import { describe, expect, it } from "vitest";
import { einsum, einsumWith } from "../../src/einsum/index.js";
import { randomTensor } from "../../src/runtime/random.js";
import { EINSUM_CORPUS } from "./corpus.js";
import { numpyEinsum, numpyPython, relativeError } from "../support/numpy.js";

const python = numpyPython();
// CI installs python3-numpy; a developer machine without it skips this oracle.
const describeNumpy = python || process.env["CI"] ? describe : describe.skip;

describeNumpy("einsum agrees with numpy.einsum", () => {
  const cases = EINSUM_CORPUS.map((c, k) => ({
    ...c,
    tensors: c.shapes.map((shape, j) => randomTensor(shape, "f32", 1000 * k + j)),
  }));
  const expected = numpyEinsum(
    python!,
    cases.map((c) => ({ spec: c.spec, arrays: c.tensors.map((t) => ({ shape: t.shape, data: t.data })) })),
  );

  it("has a corpus of at least 60 expressions", () => {
    expect(EINSUM_CORPUS.length).toBeGreaterThanOrEqual(60);
  });

  cases.forEach((c, k) => {
    it(`${c.spec} on ${c.shapes.map((s) => `[${s.join(",")}]`).join(" ")}`, () => {
      const got = einsum(c.spec, ...c.tensors);
      expect([...got.shape]).toEqual(expected[k]!.shape);
      expect(relativeError(got.data, expected[k]!.data)).toBeLessThan(1e-5);
      const unoptimized = einsumWith(c.spec, c.tensors, { optimize: false });
      expect(relativeError(unoptimized.data, expected[k]!.data)).toBeLessThan(1e-5);
    });
  });
});
