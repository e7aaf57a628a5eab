import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { arbProgram } from "../../src/ir/random-program.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { inlineCalls } from "../../src/passes/index.js";
import { materializeProgramReductions, materializeReductions } from "../../src/passes/materialize-reductions.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

describe("materialize-reductions", () => {
  it("gives a softmax's row sum a def of its own (the header example)", () => {
    const before = parseProgramText(`
input E: f32[4, 6]
input V: f32[6, 3]
output O: f32[4, 3] = [i:4, e:3] sum(j:6) E[i, j] * V[j, e] / sum(j_1:6) E[i, j_1]
`);
    const after = applyPass(materializeReductions, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["E", "V", "O_r0", "O"]);
    expectGolden("materialize-reductions/header", `${printProgram(before)}\n# after materialize-reductions\n${printProgram(after)}`);
    expectSameValues(before, after);
  });

  it("materializes nested ones recursively and keeps those that read every bound variable", () => {
    const before = parseProgramText(`
input X: f32[3, 5]
output Y: f32[3, 5] = [i:3, j:5] exp(X[i, j] - max(k:5) X[i, k]) / sum(l:5) exp(X[i, l] - max(m:5) X[i, m]) + exp(X[i, j] - max(k_1:5) X[i, k_1])
output Z: f32[3] = [i:3] sqrt(sum(j:5) X[i, j] * X[i, j])
`);
    const after = applyPass(materializeReductions, before);
    expectGolden("materialize-reductions/nested", printProgram(after));
    // Z's reduction reads i, the only variable bound around it: it stays.
    expect(after.tensors.filter((t) => t.name.startsWith("Z_"))).toEqual([]);
    expectSameValues(before, after);
  });

  it("leaves a program without shared reductions as it is", () => {
    const p = parseProgramText(`input A: f32[4, 5]\noutput S: f32[4] = [i:4] sum(j:5) A[i, j]`);
    expect(materializeProgramReductions(p)).toBe(p);
  });

  it("preserves the values and the IR invariants of random programs", () => {
    fc.assert(
      fc.property(arbProgram({ maxExtent: 4 }), (program) => {
        const p = inlineCalls.run(program);
        const after = materializeProgramReductions(p);
        verifyProgram(after);
        expectSameValues(p, after, [1]);
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});
