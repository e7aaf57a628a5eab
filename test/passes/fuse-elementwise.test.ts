/**
 * fuse-elementwise: goldens of the two rules on attention's normalizer, an
 * MLP's copy and a causal mask over Q·Kᵀ, the programs it must leave alone, the steps it reports, and
 * the examples' defs reaching the backend as contractions with an epilogue.
 * Soundness on random programs is in properties.test.ts (every pass of the
 * default pipeline) and, rule by rule, in rules.test.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { compile } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import type { Program } from "../../src/ir/types.js";
import { fuseElementwise, fuseElementwiseIn } from "../../src/passes/fuse-elementwise.js";
import { defaultPipeline } from "../../src/passes/index.js";
import { programCost } from "../../src/passes/cost.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

function golden(name: string, before: Program): Program {
  const after = applyPass(fuseElementwise, before);
  expectGolden(`fuse-elementwise/${name}`, `${printProgram(before)}\n# after fuse-elementwise\n${printProgram(after)}`);
  expectSameValues(before, after);
  return after;
}

describe("fuse-elementwise", () => {
  it("moves attention's row normalizer out of the epilogue of E·V", () => {
    const before = parseProgramText(`
input S: f32[8, 8]
input V: f32[8, 4]
M: f32[8] = [i:8] max(j:8) S[i, j]
E: f32[8, 8] = [i:8, j:8] exp(S[i, j] - M[i])
output O: f32[8, 4] = [i:8, e:4] 1 / (sum(l:8) E[i, l]) * sum(j:8) E[i, j] * V[j, e]
`);
    const after = golden("attention", before);
    expect(after.tensors.map((t) => t.name)).toEqual(["S", "V", "M", "E", "O_r", "O"]);
    expect(fuseElementwiseIn(before).steps).toEqual([{ rule: "extract-invariant-reduction", tensor: "O", detail: "extracted O_r" }]);
    // The reciprocal is now taken once per row, not once per output element; the product
    // E·V moves to the blocked matrix-product path on the JS backend.
    const [was, is] = [programCost(before), programCost(after)];
    expect(was.flops - is.flops).toBe(8 * 4 - 8);
    expect(is.tensors.find((t) => t.name === "O")!.kernel).toBe("matrix-product-epilogue");
    expect(was.tensors.find((t) => t.name === "O")!.kernel).toBe("loop-nest");
    expect(is.blockedFlops.js - was.blockedFlops.js).toBe(2 * 8 * 8 * 4 + 8 * 4);
    expect(is.blockedFlops.wasm).toBe(is.blockedFlops.js);
  });

  it("inlines a copy of a dense layer and an elementwise chain", () => {
    const before = parseProgramText(`
input X: f32[4, 6]
input W: f32[6, 5]
input b: f32[5]
H: f32[4, 5] = [i:4, j:5] relu(b[j] + sum(k:6) X[i, k] * W[k, j])
output Y: f32[4, 5] = [i:4, j:5] H[i, j]
T: f32[4, 6] = [i:4, k:6] X[i, k] * 2
U: f32[6, 4] = [k:6, i:4] exp(T[i, k]) - 1
output Z: f32[6, 4] = [a:6, c:4] sqrt(abs(U[a, c]))
`);
    const after = golden("copy-and-chain", before);
    expect(after.tensors.map((t) => t.name)).toEqual(["X", "W", "b", "Y", "Z"]);
    expect(fuseElementwiseIn(before).steps.map((s) => `${s.rule} ${s.tensor}: ${s.detail}`)).toEqual([
      "fuse-elementwise-producer Y: inlined H",
      "fuse-elementwise-producer U: inlined T",
      "fuse-elementwise-producer Z: inlined U",
    ]);
    expect(programCost(after).bytesMoved).toBeLessThan(programCost(before).bytesMoved);
  });

  it("folds a matrix product into the elementwise def that post-processes it: one product with an epilogue", () => {
    const before = parseProgramText(`
input Q: f32[6, 4]
input K: f32[6, 4]
S: f32[6, 6] = [i:6, j:6] sum(k:4) Q[i, k] * K[j, k] * 0.5
Sm: f32[6, 6] = [i:6, j:6] where(j <= i, S[i, j], -inf)
M: f32[6] = [i:6] max(j:6) Sm[i, j]
output E: f32[6, 6] = [i:6, j:6] exp(Sm[i, j] - M[i])
`);
    const after = golden("matmul-epilogue", before);
    expect(after.tensors.map((t) => t.name)).toEqual(["Q", "K", "Sm", "M", "E"]);
    expect(fuseElementwiseIn(before).steps).toEqual([{ rule: "fuse-elementwise-producer", tensor: "Sm", detail: "inlined S" }]);
    const sm = lowerToKernels(after).kernels.find((k) => k.target === "Sm")!;
    expect(sm.epilogueContraction?.contraction).toMatchObject({ m: 6, n: 6, k: 4, scale: 0.5 });
    expect(programCost(after).bytesMoved).toBeLessThan(programCost(before).bytesMoved);
  });

  it("renames a fused producer's summed variables apart from the reader's", () => {
    const before = parseProgramText(`
input A: f32[3, 4]
P: f32[3] = [a:3] sum(k:4) A[a, k]
output Y: f32[3] = [k:3] P[k]
`);
    expect(printProgram(applyPass(fuseElementwise, before))).toContain("output Y: f32[3] = [k:3] sum(k_1:4) A[k, k_1]");
  });

  it("leaves alone what would duplicate work or lose a matrix product", () => {
    const before = parseProgramText(`
input A: f32[4, 4]
input B: f32[4, 4]
input s: f32[4]
P1: f32[4] = [i:4] exp(s[i])
output Y1: f32[4, 4] = [i:4, j:4] P1[i] * A[i, j]
P2: f32[4, 4] = [i:4, j:4] A[i, j] - 1
output Y2: f32[4, 4] = [i:4, j:4] P2[i, j] * P2[j, i]
P3: f32[4, 4] = [i:4, j:4] exp(A[i, j])
output Y3: f32[4, 4] = [i:4, l:4] sum(j:4) P3[i, j] * B[j, l]
S: f32[4, 4] = [i:4, j:4] sum(k:4) A[i, k] * B[k, j]
output Y4: f32[4, 4] = [i:4, j:4] relu(S[i, j]) + sum(l:4) A[i, l]
T: f32[4, 4] = [i:4, j:4] sum(k:4) A[i, k] * B[k, j] * s[k]
output Y9: f32[4, 4] = [i:4, j:4] relu(T[i, j])
output P5: f32[4] = [i:4] s[i] + 1
output Y5: f32[4] = [i:4] P5[i] * 2
output Y6: f32[4] = [i:4] s[i] / sum(j:4) s[j]
output Y7: f32[4, 4] = [i:4, j:4] A[i, j] / sum(l:4) A[i, l]
P8: i32[4] = [i:4] 3
output Y8: i32[4] = [i:4] P8[i] + 1
`);
    // P1 is read once per (i, j); P2 twice; P3 inside a sum; S is a matrix product that Y4's second
    // reduction would keep from being one matrix product with an epilogue, T a three-factor sum that
    // is none; P5 is an output; Y6 and Y7 have no contraction to make an epilogue of; P8 is an integer def.
    expect(applyPass(fuseElementwise, before)).toBe(before);
  });
});

describe("the examples after the default pipeline", () => {
  // Without the online softmax, which would make each attention one kernel (fuse-online-softmax.test.ts).
  const passes = defaultPipeline().filter((p) => p.name !== "fuse-online-softmax");
  const kernelsOf = (file: string) => {
    const p = compile(readFileSync(new URL(`../../examples/${file}`, import.meta.url), "utf8"), { file, passes });
    if (!p.ok || p.ir === null) throw new Error(p.formatDiagnostics());
    return lowerToKernels(p.ir).kernels;
  };

  it("attention: Q·Kᵀ carries the hoisted 1/√d, E·V the hoisted normalizer as an epilogue", () => {
    const kernels = kernelsOf("attention.tns");
    expect(kernels.find((k) => k.target === "S")!.contraction?.scale).toBe(0.125);
    const o = kernels.find((k) => k.target === "O")!;
    expect(o.epilogueContraction?.contraction).toMatchObject({ m: 256, n: 64, k: 256 });
    expect(kernels.map((k) => k.target)).toEqual(["S", "M", "E", "O_r", "O"]);
  });

  it("causal attention: the mask is the epilogue of Q·Kᵀ, the normalizer that of E·V", () => {
    const kernels = kernelsOf("causal_attention.tns");
    expect(kernels.map((k) => k.target)).toEqual(["Sm", "M", "E", "O_r", "O"]);
    expect(kernels.find((k) => k.target === "Sm")!.epilogueContraction?.contraction).toMatchObject({ m: 128, n: 128, k: 64 });
    expect(kernels.find((k) => k.target === "O")!.epilogueContraction).toBeDefined();
  });

  it("mlp: both layers are matrix products with a bias-and-relu epilogue, and the copy is gone", () => {
    const kernels = kernelsOf("mlp.tns");
    expect(kernels.map((k) => k.target)).toEqual(["H", "Y"]);
    expect(kernels.every((k) => k.epilogueContraction !== undefined)).toBe(true);
  });
});
