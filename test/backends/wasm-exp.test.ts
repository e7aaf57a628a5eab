import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitWasm, loadBinaryen, loadWasm } from "../../src/backends/wasm/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { Tensor, arrayTypeOf } from "../../src/runtime/tensor.js";

const binaryen = await loadBinaryen();

/** `B[i] = exp(A[i])` over `n` elements of `dtype`, compiled and loaded. */
function expProgram(n: number, dtype: "f32" | "f64") {
  const p = parseProgramText(`
input A: ${dtype}[${n}]
output B: ${dtype}[${n}] = [i:${n}] exp(A[i])
`);
  const kp = lowerToKernels(p);
  const art = emitWasm(binaryen, kp);
  const exe = loadWasm(art, kp);
  return { art, run: (xs: ArrayLike<number>) => exe.run({ A: new Tensor(dtype, [n], arrayTypeOf(dtype).from(xs)) })["B"]!.data };
}

const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** The spacing of float32 values at the float32 nearest to `v` (v positive, finite in float32). */
function f32Ulp(v: number): number {
  asFloat[0] = v;
  const here = asFloat[0]!;
  bits[0] = bits[0]! + 1;
  return asFloat[0]! - here;
}

describe("inline exp for float32 kernels", () => {
  // A contiguous loop: this is the four-lane exp (the scalar form is bounded in wasm-vectorize.test.ts).
  it("stays within 2 ulp of Math.exp over 10^6 points of [-87, 88] (measured: within 1.22)", () => {
    const n = 1_000_000;
    const xs = Float64Array.from({ length: n }, (_, k) => Math.fround(-87 + (175 * k) / (n - 1)));
    const { art, run } = expProgram(n, "f32");
    expect(art.imports, "no call to Math.exp").toEqual([]);
    const got = run(xs);
    let worst = 0;
    let worstRounded = 0;
    for (let k = 0; k < n; k++) {
      const want = Math.exp(xs[k]!);
      const ulp = f32Ulp(want);
      worst = Math.max(worst, Math.abs(got[k]! - want) / ulp);
      worstRounded = Math.max(worstRounded, Math.abs(got[k]! - Math.fround(want)) / ulp);
    }
    expect(worst).toBeLessThanOrEqual(2);
    // Stronger than the bound: the float64 polynomial errs far below float32 rounding.
    expect(worstRounded).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.4); // the sweep does reach rounding boundaries (a broken sweep would give 0)
  });

  it("overflows to +inf, underflows through the subnormals to 0, and propagates NaN", () => {
    const xs = [NaN, Infinity, -Infinity, 0, -0, 88.5, 88.75, 89, 100.5, 1e30, -1e30, -90, -100, -103.9, -104.5, -110.5, -1000, 1e-30, -1e-30];
    const got = expProgram(xs.length, "f32").run(xs);
    xs.forEach((x, k) => {
      const want = Math.fround(Math.exp(x));
      if (want !== 0 && want < 2 ** -126) expect(Math.abs(got[k]! - want), `exp(${x}) (subnormal)`).toBeLessThanOrEqual(2 ** -149);
      else expect(Object.is(got[k], want), `exp(${x}) = ${got[k]}, want ${want}`).toBe(true);
    });
  });

  it("feeds a float32 sigmoid and softmax inline too", () => {
    const p = parseProgramText(`
input A: f32[8]
output S: f32[8] = [i:8] sigmoid(A[i])
`);
    const art = emitWasm(binaryen, lowerToKernels(p));
    expect(art.imports).toEqual([]);
    const xs = [-20, -3, -0.5, 0, 0.25, 1, 4, 30];
    const out = loadWasm(art, lowerToKernels(p)).run({ A: new Tensor("f32", [8], Float32Array.from(xs)) })["S"]!.data;
    xs.forEach((x, k) => expect(out[k]).toBeCloseTo(1 / (1 + Math.exp(-x)), 6));
  });

  it("calls Math.exp in float32 kernels when inlineExp is off", () => {
    const kp = lowerToKernels(parseProgramText("input A: f32[3]\noutput B: f32[3] = [i:3] exp(A[i])"));
    const art = emitWasm(binaryen, kp, { inlineExp: false });
    expect(art.imports).toEqual(["exp"]);
    const xs = [-1.5, 0, 2];
    const got = loadWasm(art, kp).run({ A: new Tensor("f32", [3], Float32Array.from(xs)) })["B"]!.data;
    expect(Array.from(got)).toEqual(xs.map((x) => Math.fround(Math.exp(Math.fround(x)))));
  });

  it("keeps float64 kernels on Math.exp, exactly", () => {
    const xs = [-700, -3.3, 0, 1e-8, 2.5, 700];
    const { art, run } = expProgram(xs.length, "f64");
    expect(art.imports).toEqual(["exp"]);
    expect(Array.from(run(xs))).toEqual(xs.map(Math.exp));
  });
});
