import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

const SOFTMAX = `
fn softmax(X: f32[4, 3]) -> Y {
  M: f32[4] = [i:4] max(j:3) X[i, j]
  E: f32[4, 3] = [i:4, j:3] exp(X[i, j] - M[i])
  Y: f32[4, 3] = [i:4, j:3] E[i, j] / sum(k:3) E[i, k]
}
input S: f32[4, 3]
output P: f32[4, 3] = call softmax(S)
`;

describe("inline-calls", () => {
  it("replaces a call by the callee's body", () => {
    const before = parseProgramText(SOFTMAX);
    const after = applyPass(inlineCalls, before);
    expect(after.functions).toEqual({});
    expect(after.tensors.map((t) => t.name)).toEqual(["S", "P_M", "P_E", "P"]);
    expect(after.tensors.find((t) => t.name === "P")!.output).toBe(true);
    expect(after.tensors.filter((t) => t.output).length).toBe(1);
    expectGolden("inline-calls/softmax", `${printProgram(before)}\n# after inline-calls\n${printProgram(after)}`);
    expectSameValues(before, after);
  });

  it("inlines functions that call functions, and the same function twice", () => {
    const before = parseProgramText(`
fn sq(A: f32[3]) -> B {
  B: f32[3] = [i:3] A[i] * A[i]
}
fn quad(X: f32[3]) -> Y {
  T: f32[3] = call sq(X)
  Y: f32[3] = call sq(T)
}
input U: f32[3]
Q1: f32[3] = call quad(U)
output Q2: f32[3] = call quad(Q1)
`);
    const after = applyPass(inlineCalls, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["U", "Q1_T", "Q1", "Q2_T", "Q2"]);
    expect(after.tensors.some((t) => t.role === "call")).toBe(false);
    expectGolden("inline-calls/nested", printProgram(after));
    expectSameValues(before, after);
  });

  it("avoids names the program already uses", () => {
    const before = parseProgramText(`
fn f(X: f32[2]) -> Y {
  T: f32[2] = [i:2] exp(X[i])
  Y: f32[2] = [i:2] T[i] + 1
}
input A: f32[2]
P_T: f32[2] = [i:2] A[i] * 3
P: f32[2] = call f(A)
output Z: f32[2] = [i:2] P[i] + P_T[i]
`);
    const after = applyPass(inlineCalls, before);
    const names = after.tensors.map((t) => t.name);
    expect(names).toEqual(["A", "P_T", "P_T_2", "P", "Z"]);
    expect(new Set(names).size).toBe(names.length);
    expectSameValues(before, after);
  });

  it("turns a function returning its parameter into a copy", () => {
    const before = parseProgramText(`
fn id(X: f32[2, 3]) -> X {
}
input A: f32[2, 3]
output B: f32[2, 3] = call id(A)
`);
    const after = applyPass(inlineCalls, before);
    expect(printProgram(after)).toContain("output B: f32[2, 3] = [i0:2, i1:3] A[i0, i1]");
    expectSameValues(before, after);
  });

  it("returns a program without calls unchanged", () => {
    const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] A[i]\n");
    expect(inlineCalls.run(p)).toBe(p);
  });
});
