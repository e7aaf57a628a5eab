import { describe, expect, it } from "vitest";
import { emitJs } from "../../src/backends/js/emit.js";
import { jsName } from "../../src/backends/js/names.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { expectGolden } from "../golden.js";
import { CORPUS } from "./corpus.js";

describe("emitJs", () => {
  it("emits readable JavaScript (golden)", () => {
    for (const name of ["attention", "matmul", "causal-mask", "elementwise-ops"]) {
      expectGolden(`js-${name}`, emitJs(lowerToKernels(parseProgramText(CORPUS[name]!))));
    }
  });

  it("folds strides into constants and hoists row offsets", () => {
    const js = emitJs(lowerToKernels(parseProgramText(CORPUS["layernorm"]!)));
    expect(js).toContain("const o0 = 17 * i;");
    expect(js).not.toMatch(/shape|stride/);
  });

  it("renames tns names that would clash with JavaScript or generated locals", () => {
    expect(jsName("X")).toBe("X");
    expect(jsName("in")).toBe("in$");
    expect(jsName("t0")).toBe("t0$");
    expect(jsName("Math")).toBe("Math$");
    const p = parseProgramText(`
input t0: f32[3]
input in: f32[3]
output Math: f32[3] = [o0:3] t0[o0] * in[o0]
`);
    const js = emitJs(lowerToKernels(p));
    const run = new Function(js)() as (b: Record<string, Float32Array>) => void;
    const b = { t0: new Float32Array([1, 2, 3]), in: new Float32Array([4, 5, 6]), Math: new Float32Array(3) };
    run(b);
    expect(Array.from(b.Math)).toEqual([4, 10, 18]);
  });
});
