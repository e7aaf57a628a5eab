/** programToSource on hand-written IR: exact text, pins, and the programs it refuses. */
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { interpret } from "../../src/interpret.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { PIN_INPUT, programToSource, sourceInputs, sourceWeights, unrepresentable } from "../support/to-source.js";

const WINDOW = "input A: f32[4, 3]\noutput T0: f32[2, 3] = [i:2, j:3] sum(k:3) A[i + k, j] * i\n";

describe("programToSource", () => {
  it("writes every construct in surface syntax", () => {
    const p = parseProgramText(
      "input X: f64[3, 4]\ninput s: i32[]\n" +
        "output Y: f64[12] = [(a:3, b:4)] where(a <= b, max(X[a, b], -2), pow(abs(X[2 - a, b]) + 1, 0.5)) - s[]\n" +
        "output Z: f32[] = [] max(i:3, j:4) -exp(X[i, j])\n",
    );
    expect(programToSource(p)).toBe(
      "input X[3, 4]: f64\ninput s: i32\n" +
        "output Y[(a, b)] = (where((a <= b), (max(X[a, b], (-2))), (pow((abs(X[(-a + 2), b]) + 1), 0.5))) - s)\n" +
        "output Z = (max(i < 3, j < 4) ((-exp(X[i, j]))))\n",
    );
    const inputs = { X: new Tensor("f64", [3, 4], Float64Array.from({ length: 12 }, (_, k) => k / 4 - 1)), s: new Tensor("i32", [], Int32Array.from([3])) };
    const got = compile(programToSource(p)).run(inputs);
    const want = interpret(p, inputs);
    expect(Array.from(got.Y!.data)).toEqual(Array.from(want.Y!.data));
    expect(got.Z!.data[0]).toBeCloseTo(want.Z!.data[0]!, 6);
  });

  it("states extents that inference cannot recover, and the stated source computes the same", () => {
    const p = parseProgramText(WINDOW);
    expect(compile(programToSource(p, { pin: false })).diagnostics.map((d) => d.code)).toContain("TNS0204");
    const text = programToSource(p);
    expect(text).toBe(`input ${PIN_INPUT}[2]\ninput A[4, 3]\noutput T0[i, j] = ((sum(k < 3) ((A[(i + k), j] * i))) + ${PIN_INPUT}[i])\n`);
    const A = Tensor.fromArray([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    const compiled = compile(text);
    expect(compiled.ok).toBe(true);
    expect(compiled.run(sourceInputs(p, { A })).T0!.toArray()).toEqual(interpret(p, { A }).T0!.toArray());
    expect(Object.keys(sourceInputs(p, { A }, { pin: false }))).toEqual(["A"]);
  });

  it("declares weights and hands their data over", () => {
    const p = parseProgramText("weight W: f32[2] (data)\noutput Y: f32[2] = [i:2] 2 * W[i]\n");
    const withData = { ...p, tensors: p.tensors.map((t) => (t.role === "weight" ? { ...t, data: Float64Array.from([3, 4]) } : t)) };
    expect(programToSource(withData)).toBe("weight W[2]\noutput Y[i] = (2 * W[i])\n");
    expect(compile(programToSource(withData), { weights: sourceWeights(withData) }).run().Y!.toArray()).toEqual([6, 8]);
  });

  it("refuses programs without a faithful source", () => {
    expect(unrepresentable(parseProgramText("input A: f32[4]\noutput B: f32[2] = [i:2] A[i]\n"))).toMatch(/used bare on a dimension of size 4/);
    expect(unrepresentable(parseProgramText("fn f(X: f32[2]) -> Y {\n  Y: f32[2] = [i:2] X[i]\n}\ninput A: f32[2]\noutput B: f32[2] = call f(A)\n"))).toMatch(/inline/);
    expect(unrepresentable(parseProgramText("input A: f32[2]\noutput B: f32[2] = [exp:2] A[exp]\n"))).toMatch(/reserved/);
    expect(() => programToSource(parseProgramText("input A: f32[4]\noutput B: f32[2] = [i:2] A[i]\n"))).toThrow(/no tns source/);
    expect(unrepresentable(parseProgramText(WINDOW))).toBeNull();
  });

  it("bounds a reduction that covers a prefix of a dimension", () => {
    const p = parseProgramText("input A: f32[4]\noutput B: f32[] = [] sum(k:2) A[k]\n");
    expect(programToSource(p)).toBe("input A[4]\noutput B = (sum(k < 2) (A[k]))\n");
    expect(compile(programToSource(p)).run({ A: Tensor.fromArray([1, 2, 4, 8]) }).B!.toArray()).toEqual(3);
  });
});
