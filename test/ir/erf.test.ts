/**
 * The error function against Python's `math.erf` (float64): the
 * interpreter's `erf` to double precision, and every backend's erf of
 * float32 inputs to float32 precision (a few ulps of the result).
 */
import { describe, expect, it } from "vitest";
import { compileAsync } from "../../src/compiler.js";
import { erf, erfFunctionText } from "../../src/ir/erf.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();
const MATH_ERF = "import json, sys, math\nxs = json.load(sys.stdin)\njson.dump([math.erf(x) for x in xs], sys.stdout)";

/** Points across every piece and its breakpoints, both signs. */
function grid(n: number, to: number): number[] {
  const xs: number[] = [];
  for (let k = 0; k <= n; k++) xs.push(-to + (2 * to * k) / n);
  for (const b of [1, 2.5, 6]) xs.push(b, -b, Math.fround(b * (1 - 1e-7)), Math.fround(b * (1 + 1e-7)));
  xs.push(1e-30, -1e-30, 1e-8, 0.1, 0.5, 0.84375, 1.25, 3.9, 5.9);
  return xs;
}

/** One float32 ulp at |x|. */
function ulp32(x: number): number {
  const a = Math.max(Math.abs(x), 2 ** -126);
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe.skipIf(python === null)("erf", () => {
  it("agrees with math.erf to double precision", () => {
    const xs = grid(20000, 7);
    const want = runNumpyScript<number[]>(python!, MATH_ERF, xs);
    let worst = 0;
    xs.forEach((x, k) => {
      const w = want[k]!;
      worst = Math.max(worst, Math.abs(erf(x) - w) / Math.max(Math.abs(w), 1e-300));
    });
    expect(worst).toBeLessThan(1e-14);
  });

  it("keeps its special values", () => {
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it("is the same function as the text the JavaScript backend emits", () => {
    const text = erfFunctionText({
      header: "function erf(x)", lit: (v) => `(${v})`, decl: "let", abs: "Math.abs", exp: "Math.exp",
      nanCheck: (a) => `${a} !== ${a}`, signOf: (a) => `(${a} < 0 ? -1 : 1)`,
    });
    const emitted = new Function(`${text}\nreturn erf;`)() as (x: number) => number;
    for (const x of grid(2000, 7)) expect(emitted(x)).toBe(erf(x));
  });

  for (const backend of ["js", "wasm", "wgsl"] as const) {
    it(`is accurate to float32 on ${backend}`, async () => {
      const xs = grid(4000, 6.5).map(Math.fround);
      const compiled = await compileAsync(`input x[${xs.length}]\noutput Y[i] = erf(x[i])\n`, { file: "erf.tns", backend });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const got = (await compiled.runAsync({ x: new Tensor("f32", [xs.length], Float32Array.from(xs)) }))["Y"]!.data;
      compiled.dispose();
      const want = runNumpyScript<number[]>(python!, MATH_ERF, xs);
      let worst = 0;
      xs.forEach((_, k) => {
        worst = Math.max(worst, Math.abs(got[k]! - want[k]!) / ulp32(want[k]!));
      });
      // float32 results: within a few ulps (WGSL's exp is itself only accurate to a few ulps).
      expect(worst).toBeLessThanOrEqual(backend === "wgsl" ? 8 : 1);
    });
  }
});
