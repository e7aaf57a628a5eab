/**
 * Resumed sums (invariant 12): a sum cut into slices, each resuming from the
 * one before, adds every element's terms in the whole sum's order.
 */
import { describe, expect, it } from "vitest";
import { interpret } from "../../src/ir/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { randomTensor } from "../../src/runtime/random.js";

/** `S = Aᵀ B` summed over 10 rows whole, and as slices of 3, 4 and 3 rows each resuming from the last. */
const SLICED = `
input A: f64[10, 4]
input B: f64[10, 5]
output S: f64[4, 5] = [k:4, j:5] sum(i:10) A[i, k] * B[i, j]
P0: f64[4, 5] = [k:4, j:5] sum(i:3) A[i, k] * B[i, j]
P1: f64[4, 5] = resume [k:4, j:5] P0[k, j] + sum(i:4) A[i + 3, k] * B[i + 3, j]
output P2: f64[4, 5] = resume [k:4, j:5] P1[k, j] + sum(i:3) A[i + 7, k] * B[i + 7, j]
`;

const errors = (text: string): string[] => verifyProgramErrors(parseProgramText(text));

describe("resumed sums (invariant 12)", () => {
  it("print and parse back", () => {
    const p = parseProgramText(SLICED);
    expect(printProgram(p)).toContain("P1: f64[4, 5] = resume [k:4, j:5] P0[k, j] + sum(i:4) A[i + 3, k] * B[i + 3, j]");
    expect(parseProgramText(printProgram(p))).toEqual(p);
  });

  it("the interpreter adds each slice's terms to the running sum one by one: the slices end on the whole sum's bits", () => {
    const p = parseProgramText(SLICED);
    for (const seed of [1, 2, 3]) {
      const out = interpret(p, { A: randomTensor([10, 4], "f64", seed), B: randomTensor([10, 5], "f64", seed + 10) });
      expect(Array.from(out["P2"]!.data)).toEqual(Array.from(out["S"]!.data));
    }
  });

  it("is not P + (the slice's sum): with terms 1e16, 1 and -1e16 the two orders differ", () => {
    const p = parseProgramText(`
input X: f64[3]
P: f64[] = [] sum(i:1) X[i]
output R: f64[] = resume [] P[] + sum(i:2) X[i + 1]
output Q: f64[] = [] P[] + sum(i:2) X[i + 1]
`);
    const X = { shape: [3], dtype: "f64", data: new Float64Array([1, 1e16, -1e16]) };
    const out = interpret(p, { X: X as never });
    expect(out["R"]!.data[0]).toBe(0);
    expect(out["Q"]!.data[0]).toBe(1);
  });

  it("the verifier refuses another body, a later tensor, another shape or type, a recurrence", () => {
    const head = "input A: f32[4]\nP: f32[] = [] sum(i:4) A[i]\n";
    expect(errors(`${head}R: f32[] = resume [] P[] + max(i:4) A[i]\n`).join("\n")).toMatch(/body is not P\[\] \+ sum\(\.\.\.\) \(invariant 12\)/);
    expect(errors(`${head}R: f32[] = resume [] 2 * P[] + sum(i:4) A[i]\n`).join("\n")).toMatch(/body is not/);
    expect(errors(`input A: f32[4]\nP: f32[2] = [j:2] sum(i:4) A[i]\nR: f32[2] = resume [j:2] P[1 - j] + sum(i:4) A[i]\n`).join("\n")).toMatch(/body is not P\[j\]/);
    expect(errors(`input A: f32[4]\nR: f32[] = resume [] Q[] + sum(i:4) A[i]\nQ: f32[] = [] sum(i:4) A[i]\n`).join("\n")).toMatch(/resumes from 'Q', which is not an earlier tensor/);
    expect(errors(`input A: f32[4]\nP: f64[] = [] sum(i:4) A[i]\nR: f32[] = resume [] P[] + sum(i:4) A[i]\n`).join("\n")).toMatch(/not of its type and shape f32\[\]/);
    expect(errors(`input A: f32[4]\nP: f32[4] = [t:4] sum(i:4) A[i]\nR: f32[4] = recur(t) resume [t:4] P[t] + sum(i:4) A[i]\n`).join("\n")).toMatch(/a recurrence, a scatter-add or split/);
    expect(errors(SLICED)).toEqual([]);
  });
});
