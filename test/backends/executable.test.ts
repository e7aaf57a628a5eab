import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { Tensor } from "../../src/runtime/tensor.js";

const SUM = `
input A: f32[2, 3]
weight W: f64[3]
output S: f32[2] = [i:2] sum(j:3) A[i, j] * W[j]
`;

function codesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    return (e as CompileError).diagnostics.map((d) => d.code);
  }
  throw new Error("expected a CompileError");
}

describe("executables", () => {
  const program = parseProgramText(SUM, { weights: { W: Float64Array.from([1, 10, 100]) } });
  const exe = jsBackend.compile(program).executable;
  const A = Tensor.fromArray([[1, 2, 3], [4, 5, 6]]);

  it("runs with weights converted to their dtype and returns outputs in the node's dtype", () => {
    const out = exe.run({ A });
    expect(Object.keys(out)).toEqual(["S"]);
    expect(out["S"]!.dtype).toBe("f32");
    expect(out["S"]!.toArray()).toEqual([321, 654]);
  });

  it("converts an input of another dtype and returns fresh outputs each run", () => {
    const first = exe.run({ A: A.astype("f64") })["S"]!;
    const second = exe.run({ A })["S"]!;
    expect(first.toArray()).toEqual(second.toArray());
    expect(first.data).not.toBe(second.data);
  });

  it("reports missing, misshapen and unknown inputs as diagnostics", () => {
    expect(codesOf(() => exe.run({}))).toEqual(["TNS0601"]);
    expect(codesOf(() => exe.run({ A: Tensor.zeros([3, 2]) }))).toEqual(["TNS0602"]);
    expect(codesOf(() => exe.run({ A, B: A }))).toEqual(["TNS0606"]);
  });

  it("reports a weight without data when run", () => {
    const unbound = jsBackend.compile(parseProgramText(SUM)).executable;
    expect(codesOf(() => unbound.run({ A }))).toEqual(["TNS0603"]);
  });

  it("returns an input that is also an output", () => {
    const p = parseProgramText("output input X: f32[2]\noutput Y: f32[2] = [i:2] X[i] + 1\n");
    const out = jsBackend.compile(p).executable.run({ X: Tensor.fromArray([1, 2]) });
    expect(out["X"]!.toArray()).toEqual([1, 2]);
    expect(out["Y"]!.toArray()).toEqual([2, 3]);
  });
});
