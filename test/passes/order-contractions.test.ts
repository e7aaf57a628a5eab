/**
 * order-contractions: goldens of the rewrite, the defs it must leave alone,
 * and soundness on random programs and random einsum networks (the
 * interpreter's values before and after agree to 1e-9, and the result
 * verifies).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { arbProgram } from "../../src/ir/random-program.js";
import type { Program } from "../../src/ir/types.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { runPasses } from "../../src/passes/index.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import { matchSumOfProducts, orderContractions } from "../../src/passes/order-contractions.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues, firstDifference, inputsFor, networkProgram } from "./support.js";

function golden(name: string, before: Program): Program {
  const after = applyPass(orderContractions, before);
  expectGolden(`order-contractions/${name}`, `${printProgram(before)}\n# after order-contractions\n${printProgram(after)}`);
  expectSameValues(before, after);
  return after;
}

describe("order-contractions", () => {
  it("splits a matrix chain, small side first (the header example)", () => {
    const after = golden("chain", parseProgramText(`
input A: f32[64, 64]
input B: f32[64, 64]
input C: f32[64, 8]
output D: f32[64, 8] = [i:64, l:8] sum(j:64, k:64) A[i, j] * B[j, k] * C[k, l]
`));
    expect(after.tensors.map((t) => t.name)).toEqual(["A", "B", "C", "D_p1", "D"]);
  });

  it("keeps constants and outer factors on the last def, and the output's grouping", () => {
    const after = golden("factors", parseProgramText(`
input A: f32[6, 5]
input B: f32[5, 7]
input C: f32[7, 7]
input V: f32[6]
output Y: f32[42] = [(i:6, l:7)] V[i] * sum(j:5, k:7) 0.5 * A[i, j] * B[j, k] * C[k, k] * C[k, l]
`));
    const y = after.tensors.find((t) => t.name === "Y")!;
    expect(y.role === "def" && y.groups).toEqual([2]);
  });

  it("orders a five-tensor network ('ea,fb,abcd,gc,hd->efgh')", () => {
    const after = golden("network", parseProgramText(`
input E: f64[6, 6]
input F: f64[6, 6]
input G: f64[6, 6, 6, 6]
input H: f64[6, 6]
input K: f64[6, 6]
output O: f64[6, 6, 6, 6] = [e:6, f:6, g:6, h:6] sum(a:6, b:6, c:6, d:6) E[e, a] * F[f, b] * G[a, b, c, d] * H[g, c] * K[h, d]
`));
    expect(after.tensors.filter((t) => t.role === "def")).toHaveLength(4);
  });

  it("splits a small network whose every intermediate is larger than its operands (a tensor train)", () => {
    // NumPy's default limit (64 elements here) would refuse every pair: each intermediate has 128.
    const before = parseProgramText(`
input G1: f32[4, 4, 2]
input G2: f32[2, 4, 4, 2]
input G3: f32[2, 4, 4]
input X: f32[4, 4, 4]
output Y: f32[4, 4, 4] = [i1:4, i2:4, i3:4] sum(j1:4, u:2, j2:4, v:2, j3:4) G1[i1, j1, u] * G2[u, i2, j2, v] * G3[v, i3, j3] * X[j1, j2, j3]
`);
    const after = applyPass(orderContractions, before);
    expect(after.tensors.filter((t) => t.role === "def")).toHaveLength(3);
    expectSameValues(before, after);
  });

  it("leaves alone what it must not or need not touch", () => {
    const before = parseProgramText(`
input A: f32[4, 4]
input B: f32[4, 4]
input C: f32[4, 4]
input S: f32[5, 4]
T1: f32[4, 4] = [i:4, l:4] sum(j:4, k:4) A[i, j] * B[j, k] * S[k + 1, l]
T2: f32[4, 4] = [i:4, l:4] sum(j:4, k:4) A[i, j] * exp(B[j, k]) * C[k, l]
T3: f32[4, 4] = [i:4, l:4] sum(j:4) A[i, j] * B[j, l]
T4: f32[4] = [i:4] sum(j:4) A[i, j] * sum(k:4) B[j, k] * C[k, i]
T5: f32[4] = [i:4] max(j:4, k:4) A[i, j] * B[j, k] * C[k, i]
T6: f32[4] = [i:4] A[i, i] * B[i, i] * C[i, i]
T7: f32[4] = [i:4] sum(j:4) A[i, j] * B[i, j] * C[i, j]
output Y: f32[4] = [i:4] T1[i, i] + T2[i, i] + T3[i, i] + T4[i] + T5[i] + T6[i] + T7[i]
`);
    expect(applyPass(orderContractions, before)).toBe(before);
    const defs = before.tensors.filter((t) => t.role === "def");
    // Only T7 has the shape, and splitting it saves nothing (48 FLOPs either way).
    expect(defs.map((d) => matchSumOfProducts(d) !== null)).toEqual([false, false, false, false, false, false, true, false]);
  });

  it("names intermediates apart from existing tensors", () => {
    const before = parseProgramText(`
input A: f32[9, 9]
input D_p1: f32[9, 2]
output D: f32[9, 2] = [i:9, l:2] sum(j:9, k:9) A[i, j] * A[j, k] * D_p1[k, l]
`);
    const after = applyPass(orderContractions, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["A", "D_p1", "D_p1_1", "D"]);
    expectSameValues(before, after);
  });

  it("keeps the interpreter's values on random programs", () => {
    fc.assert(
      fc.property(arbProgram(), fc.integer({ min: 0, max: 1 << 20 }), (before, seed) => {
        const after = runPasses(before, [inlineCalls, orderContractions], { verify: true }).program;
        const diff = firstDifference(before, after, inputsFor(before, seed));
        if (diff !== undefined) throw new Error(`${diff}\n${printProgram(before)}---\n${printProgram(after)}`);
      }),
      { numRuns: 80 },
    );
  });

  it("keeps the interpreter's values on random einsum networks (diagonals, factors, broadcast outputs)", () => {
    let rewritten = 0;
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 6 }), fc.integer({ min: 0, max: 1 << 20 }), fc.boolean(), fc.boolean(), (n, seed, diagonal, factor) => {
        const before = networkProgram(n, seed, diagonal, factor);
        const after = orderContractions.run(before);
        verifyProgram(after);
        if (after !== before) rewritten++;
        const diff = firstDifference(before, after, inputsFor(before, seed));
        if (diff !== undefined) throw new Error(`${diff}\n${printProgram(before)}---\n${printProgram(after)}`);
      }),
      { numRuns: 60 },
    );
    expect(rewritten).toBeGreaterThan(15);
  });
});

