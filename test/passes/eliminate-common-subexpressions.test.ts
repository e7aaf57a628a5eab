import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { eliminateCommonSubexpressions } from "../../src/passes/eliminate-common-subexpressions.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

const cse = (text: string) => {
  const before = parseProgramText(text);
  const after = applyPass(eliminateCommonSubexpressions, before);
  expectSameValues(before, after);
  return { before, after };
};

describe("eliminate-common-subexpressions", () => {
  it("merges defs equal up to index names and hoists repeated reductions", () => {
    const { before, after } = cse(`
input X: f32[4, 3]
A: f32[4] = [i:4] sum(j:3) X[i, j]
B: f32[4] = [k:4] sum(l:3) X[k, l]
output Y: f32[4] = [i:4] A[i] / (sum(j:3) X[i, j] + sum(m:3) X[i, m])
output Z: f32[4] = [i:4] B[i] * 2
`);
    expect(printProgram(after)).toBe(
      [
        "input X: f32[4, 3]",
        "A: f32[4] = [i:4] sum(j:3) X[i, j]",
        "output Y: f32[4] = [i:4] A[i] / (A[i] + A[i])",
        "output Z: f32[4] = [i:4] A[i] * 2",
        "",
      ].join("\n"),
    );
    expectGolden("eliminate-common-subexpressions/header", `${printProgram(before)}\n# after eliminate-common-subexpressions\n${printProgram(after)}`);
  });

  it("keeps both outputs when two outputs are equal: the second copies the first", () => {
    const { after } = cse(`
input X: f32[2, 3]
output P: f32[2, 3] = [i:2, j:3] exp(X[i, j])
output Q: f32[2, 3] = [a:2, b:3] exp(X[a, b])
`);
    expect(printProgram(after)).toContain("output Q: f32[2, 3] = [a:2, b:3] P[a, b]");
    expect(after.tensors.filter((t) => t.output).map((t) => t.name)).toEqual(["P", "Q"]);
  });

  it("copies through grouped dimensions", () => {
    const { after } = cse(`
input A: f32[2]
input B: f32[3]
K: f32[6] = [(a:2, b:3)] A[a] * B[b]
output L: f32[6] = [(c:2, d:3)] A[c] * B[d]
output M: f32[6] = [e:6] K[e] + L[e]
`);
    expect(printProgram(after)).toContain("output L: f32[6] = [(c:2, d:3)] K[3*c + d]");
  });

  it("does not merge defs that differ in extents, dtype or bound-variable order", () => {
    const { before, after } = cse(`
input X: f32[4, 4]
A: f32[4] = [i:4] sum(j:4) X[i, j]
B: f32[2] = [i:2] sum(j:4) X[i, j]
C: f64[4] = [i:4] sum(j:4) X[i, j]
D: f32[4] = [i:4] sum(j:4) X[j, i]
output Y: f32[4] = [i:4] A[i] + B[0] + C[i] + D[i]
`);
    expect(after.tensors.length).toBe(before.tensors.length);
  });

  it("hoists a reduction repeated inside a def only when it uses output indices alone", () => {
    const { before, after } = cse(`
input X: f32[4, 3]
output Y: f32[4, 3] = [i:4, j:3] X[i, j] * sum(k:3) X[i, k] + sum(l:3) X[i, l] * X[j, l]
output Z: f32[4] = [i:4] sum(j:3) ((sum(k:3) X[j, k]) * (sum(l:3) X[j, l]) + X[i, j])
`);
    // Y's two reductions differ; Z's repeated one depends on the reduced j.
    expect(printProgram(after)).toBe(printProgram(before));
  });

  it("hoists a scalar reduction used twice", () => {
    const { after } = cse(`
input X: f32[5]
output Y: f32[5] = [i:5] X[i] / sum(k:5) X[k] - (sum(l:5) X[l]) * 2
`);
    expect(printProgram(after)).toContain("Y_r0: f32[] = [] sum(k:5) X[k]");
    expect(printProgram(after)).toContain("output Y: f32[5] = [i:5] X[i] / Y_r0[] - Y_r0[] * 2");
  });
});
