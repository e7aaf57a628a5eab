/**
 * Contractions with an elementwise epilogue: the kernel lowering recognises
 * `f(sum_k A * B)` (a bias and an activation, a per-row scale, a mask), the
 * JS backend runs it as the register-blocked product applying `f` as it
 * stores, and the values match the reference interpreter at every tile edge
 * (4 rows; 4 and fewer columns).
 */
import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { matchEpilogueContraction } from "../../src/backends/kernel/contraction.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { printKernel } from "../../src/backends/kernel/print.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { denseLayer, expectMatchesInterpreter, inputsFor } from "./support.js";

const SIZES: readonly (readonly [number, number, number])[] = [[1, 1, 1], [3, 5, 2], [17, 13, 9], [33, 4, 17], [8, 7, 3]];

/** Epilogues beyond the dense layer: name and program. */
const CASES: readonly (readonly [string, string])[] = [
  ["a per-row scale read from a tensor (attention's normalizer)", `
input E: f32[10, 12]
input V: f32[12, 6]
input R: f32[10]
output O: f32[10, 6] = [i:10, e:6] R[i] * sum(j:12) E[i, j] * V[j, e]
`],
  ["a causal mask on index values, B transposed, a constant scale", `
input Q: f32[9, 5]
input K: f32[9, 5]
output S: f32[9, 9] = [i:9, j:9] where(j <= i, 0.5 * sum(d:5) Q[i, d] * K[j, d], -inf)
`],
  ["batched, the epilogue reading the batch, row and column variables", `
input A: f32[3, 7, 5]
input B: f32[3, 5, 6]
input G: f32[3, 7, 6]
output C: f32[3, 7, 6] = [b:3, i:7, j:6] tanh(sum(k:5) A[b, i, k] * B[b, k, j]) * G[b, i, j] + b
`],
  ["divided by a column term", `
input A: f32[6, 4]
input B: f32[4, 5]
input s: f32[5]
output C: f32[6, 5] = [i:6, j:5] (sum(k:4) A[i, k] * B[k, j]) / (1 + s[j] * s[j])
`],
  ["f64, a negated product", `
input A: f64[5, 3]
input B: f64[3, 7]
output C: f64[5, 7] = [i:5, j:7] exp(-(sum(k:3) A[i, k] * B[k, j]))
`],
];

function check(text: string): void {
  const p = parseProgramText(text);
  const kernel = lowerToKernels(p).kernels.at(-1)!;
  expect(kernel.epilogueContraction, printKernel(kernel)).toBeDefined();
  expect(kernel.contraction, "never both forms").toBeUndefined();
  const { executable, code } = jsBackend.compile(p);
  expect(code, "packed panel").toContain("const P = new Float64Array(");
  for (const seed of [3, 4]) expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, seed));
}

function lastDef(p: Program): DefNode {
  return p.tensors.filter((t): t is DefNode => t.role === "def").at(-1)!;
}

function shapes(p: Program): Map<string, readonly number[]> {
  return new Map(p.tensors.map((t) => [t.name, t.shape]));
}

describe("contractions with an elementwise epilogue on the js backend", () => {
  for (const [m, n, k] of SIZES) {
    it(`a dense layer ${m}x${n}x${k} (f32 and f64)`, () => {
      check(denseLayer(m, n, k));
      check(denseLayer(m, n, k, "f64"));
    });
  }

  for (const [name, text] of CASES) it(name, () => check(text));

  it("applies the epilogue as each sum is stored", () => {
    const { code } = jsBackend.compile(parseProgramText(denseLayer(8, 8, 8)));
    expect(code).toContain("H[c0 + 1] = relu((s01 + b$[(j0 + 1)]));");
  });

  it("describes the epilogue in the kernel's title", () => {
    const kernel = lowerToKernels(parseProgramText(denseLayer(4, 4, 4))).kernels[0]!;
    expect(printKernel(kernel).split("\n")[0]).toBe("kernel H  (loops i, j; contraction m 4 n 4 k 4; epilogue relu(acc + b[j]))");
  });

  it("keeps a scaled sum a plain contraction, the form every backend runs", () => {
    const p = parseProgramText(`input A: f32[4, 5]
input B: f32[5, 3]
output C: f32[4, 3] = [i:4, j:3] 0.5 * sum(k:5) A[i, k] * B[k, j]`);
    const kernel = lowerToKernels(p).kernels[0]!;
    expect(kernel.contraction?.scale).toBe(0.5);
    expect(kernel.epilogueContraction).toBeUndefined();
  });

  it("names an operand P apart from the packed panel", () => {
    check(`
input P: f32[5, 6]
input W: f32[6, 7]
output C: f32[5, 7] = [i:5, j:7] exp(sum(k:6) P[i, k] * W[k, j])
`);
  });

  it("refuses what is not one matrix product under elementwise work", () => {
    const refused = [
      // the normalizer is a second reduction, recomputed per element by an epilogue
      `input E: f32[4, 5]
input V: f32[5, 3]
output O: f32[4, 3] = [i:4, e:3] 1 / (sum(l:5) E[i, l]) * sum(j:5) E[i, j] * V[j, e]`,
      // three factors under the sum
      `input A: f32[4, 5]
input B: f32[5, 3]
input s: f32[5]
output C: f32[4, 3] = [i:4, j:3] relu(sum(k:5) A[i, k] * B[k, j] * s[k])`,
      // a max is not a product's sum
      `input A: f32[4, 5]
input B: f32[5, 3]
output C: f32[4, 3] = [i:4, j:3] relu(max(k:5) A[i, k] * B[k, j])`,
      // integers
      `input A: i32[4, 5]
input B: i32[5, 3]
output C: i32[4, 3] = [i:4, j:3] 1 + sum(k:5) A[i, k] * B[k, j]`,
    ];
    for (const text of refused) {
      const p = parseProgramText(text);
      expect(matchEpilogueContraction(lastDef(p), shapes(p)), text).toBeNull();
      const { executable } = jsBackend.compile(p);
      expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 2));
    }
  });
});
