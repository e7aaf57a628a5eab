import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { eliminateDeadCode } from "../../src/passes/eliminate-dead-code.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

describe("eliminate-dead-code", () => {
  it("removes defs and weights no output reads, keeps every input", () => {
    const before = parseProgramText(`
input A: f32[4]
input B: f32[4]
weight W: f32[4]
weight V: f32[4]
T: f32[4] = [i:4] exp(B[i]) + V[i]
U: f32[4] = [i:4] A[i] * W[i]
output Y: f32[4] = [i:4] U[i] * 2
S: f32[] = [] sum(i:4) T[i]
`);
    const after = applyPass(eliminateDeadCode, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["A", "B", "W", "U", "Y"]);
    expectGolden("eliminate-dead-code/basic", `${printProgram(before)}\n# after eliminate-dead-code\n${printProgram(after)}`);
    expectSameValues(before, after);
  });

  it("removes functions no remaining call reaches, and keeps those that are", () => {
    const before = parseProgramText(`
fn twice(X: f32[2]) -> Y {
  Y: f32[2] = [i:2] X[i] * 2
}
fn four(X: f32[2]) -> Y {
  T: f32[2] = call twice(X)
  Y: f32[2] = call twice(T)
}
fn unused(X: f32[2]) -> Y {
  Y: f32[2] = [i:2] exp(X[i])
}
input A: f32[2]
D: f32[2] = call unused(A)
output Z: f32[2] = call four(A)
`);
    const after = applyPass(eliminateDeadCode, before);
    expect(Object.keys(after.functions).sort()).toEqual(["four", "twice"]);
    expect(after.tensors.map((t) => t.name)).toEqual(["A", "Z"]);
    expectSameValues(before, after);
  });

  it("keeps everything but the inputs when there is no output", () => {
    const before = parseProgramText("input A: f32[2]\nB: f32[2] = [i:2] A[i]\n");
    expect(applyPass(eliminateDeadCode, before).tensors.map((t) => t.name)).toEqual(["A"]);
  });
});
