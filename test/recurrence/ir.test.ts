/**
 * Recurrences in the IR: the text form `recur(v)` prints and parses back,
 * the verifier states invariant 8 (each way of breaking it is reported), the
 * reference interpreter runs the steps in order, and the guard analysis
 * understands the documented conditions.
 */
import { describe, expect, it } from "vitest";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { guardLowerBound } from "../../src/ir/recurrence.js";
import { binary, indexValue, num } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { Tensor } from "../../src/runtime/tensor.js";

const CUMSUM = `input X: f32[2, 4]
output C: f32[2, 4] = recur(i) [b:2, i:4] X[b, i] + where(i > 0, C[b, i - 1], 0)
`;

describe("recurrences in the IR", () => {
  it("print and parse back, and verify", () => {
    const p = parseProgramText(CUMSUM);
    expect(printProgram(p)).toBe(CUMSUM);
    expect(verifyProgramErrors(p)).toEqual([]);
  });

  it("interpret with the sequential index outermost", () => {
    const out = interpret(parseProgramText(CUMSUM), { X: new Tensor("f32", [2, 4], Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40])) });
    expect(Array.from(out.C!.data)).toEqual([1, 3, 6, 10, 10, 30, 60, 100]);
  });

  const broken: readonly [string, string, RegExp][] = [
    ["an unguarded self-read", "[i:4] X[0, i] + C[i - 1]", /guarded only by i >= 0 \(invariant 8\)/],
    ["a guard too weak for the step", "[i:4] X[0, i] + where(i > 0, C[i - 2], 0)", /guarded only by i >= 1 \(invariant 8\)/],
    ["a forward self-read", "[i:4] X[0, i] + where(i < 3, C[i + 1], 0)", /not at 'i - c' with c > 0 .*invariant 8/],
  ];
  for (const [what, def, message] of broken) {
    it(`reports ${what}`, () => {
      const p = parseProgramText(`input X: f32[2, 4]\noutput C: f32[4] = recur(i) ${def}\n`);
      expect(verifyProgramErrors(p).join("\n")).toMatch(message);
    });
  }

  it("reports a self-read in a def that is not a recurrence", () => {
    const p = parseProgramText("input x: f32[4]\noutput C: f32[4] = [i:4] x[i] + where(i > 0, C[i - 1], 0)\n");
    expect(verifyProgramErrors(p).join("\n")).toMatch(/C.*(invariant 1)/);
  });

  it("reports a sequential index that is not an output index", () => {
    const p = parseProgramText("input x: f32[4]\noutput C: f32[4] = recur(t) [i:4] x[i]\n");
    expect(verifyProgramErrors(p).join("\n")).toMatch(/sequential index 't' is not an output index \(invariant 8\)/);
  });

  it("reads the documented guards", () => {
    const t = indexValue("t");
    expect(guardLowerBound(binary("gt", t, num(0)), "t", false)).toBe(1);
    expect(guardLowerBound(binary("ge", t, num(2)), "t", false)).toBe(2);
    expect(guardLowerBound(binary("lt", num(1), t), "t", false)).toBe(2);
    expect(guardLowerBound(binary("ne", t, num(0)), "t", false)).toBe(1);
    expect(guardLowerBound(binary("lt", t, num(3)), "t", true)).toBe(3);
    expect(guardLowerBound(binary("eq", t, num(0)), "t", true)).toBe(1);
    expect(guardLowerBound(binary("mul", binary("gt", t, num(0)), binary("ge", t, num(2))), "t", false)).toBe(2);
    expect(guardLowerBound(binary("gt", t, num(0)), "t", true)).toBe(0);
    // `!(t < 2)` and the else branch of `t < 1 || t < 2`.
    expect(guardLowerBound(binary("eq", binary("lt", t, num(2)), num(0)), "t", false)).toBe(2);
    expect(guardLowerBound(binary("max", binary("lt", t, num(1)), binary("lt", t, num(2))), "t", true)).toBe(2);
    // 0 * NaN is NaN, which counts as true: a product with a value is no guard.
    expect(guardLowerBound(binary("mul", binary("gt", t, num(0)), indexValue("s")), "t", false)).toBe(0);
    expect(guardLowerBound(binary("gt", indexValue("s"), num(4)), "t", false)).toBe(0);
  });
});
