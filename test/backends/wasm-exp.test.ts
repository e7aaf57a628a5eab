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

/** The host's WebAssembly namespace (the Node typings omit it). */
const Wasm = (globalThis as unknown as { WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
} }).WebAssembly;

describe("inline 2^x of non-positive float32 lanes (softmax weights)", async () => {
  const { FunctionContext } = await import("../../src/backends/wasm/function-context.js");
  const { EXP2_NON_POSITIVE_CONSTANTS: CONSTANTS, inlineExp2F32x4NonPositive: expOf } = await import("../../src/backends/wasm/emit-exp.js");

  /** `out[k] = 2^in[k]` over `n` floats (n a multiple of 4) through the f32x4 form, its constants in locals or inline. */
  function lanesProgram(n: number, inline: boolean): (xs: ArrayLike<number>) => Float32Array {
    const m = binaryen.createModule();
    m.importMemory(Math.ceil((8 * n) / 65536));
    const ctx = new FunctionContext(m, new Map(), new Set());
    const ptr = ctx.locals.fresh("i32");
    const held = CONSTANTS.map(() => ctx.locals.fresh("v128"));
    const constant = (k: number) => {
      const v = CONSTANTS[k]!;
      return inline ? m.f32x4Const([v, v, v, v]) : m.get(held[k]!, "v128");
    };
    const exp = expOf(ctx, m.v128Load(0, m.get(ptr, "i32")), constant);
    m.addFunction("run", [], "none", ctx.locals.types, m.block([
      ...CONSTANTS.map((v, k) => m.set(held[k]!, m.f32x4Const([v, v, v, v]))),
      m.loop("L", m.block([
        m.v128Store(4 * n, m.get(ptr, "i32"), exp),
        m.set(ptr, m.i32("add", m.get(ptr, "i32"), m.i32Const(16))),
        m.brIf("L", m.i32("ne", m.get(ptr, "i32"), m.i32Const(4 * n))),
      ])),
    ]));
    m.exportFunction("run");
    const { binary } = m.finish({ optimize: true });
    const memory = new Wasm.Memory({ initial: Math.ceil((8 * n) / 65536), maximum: 65536 });
    const instance = new Wasm.Instance(new Wasm.Module(binary), { env: { memory } });
    return (xs) => {
      new Float32Array(memory.buffer, 0, n).set(xs);
      (instance.exports.run as () => void)();
      return new Float32Array(memory.buffer, 4 * n, n).slice();
    };
  }

  it("stays within 2 ulp of 2^x over 10^6 points of [-126, 0] (measured: within 1.45), constants in locals or inline alike; 0 below and for -inf, NaN for NaN", () => {
    const n = 1_000_000;
    const xs = Float64Array.from({ length: n }, (_, k) => Math.fround((-126 * k) / (n - 1)));
    const got = lanesProgram(n, false)(xs);
    expect(Array.from(lanesProgram(4096, true)(xs.subarray(0, 4096)))).toEqual(Array.from(got.subarray(0, 4096)));
    let worst = 0;
    for (let k = 0; k < n; k++) {
      const want = 2 ** xs[k]!;
      worst = Math.max(worst, Math.abs(got[k]! - want) / f32Ulp(want));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(worst).toBeGreaterThan(0.4);
    const edges = [0, -0.5, -126, -126.5, -127, -1e30, -Infinity, NaN];
    const at = lanesProgram(edges.length, false)(edges);
    expect(Array.from(at.subarray(0, 3))).toEqual([1, Math.fround(Math.SQRT1_2), 2 ** -126]);
    expect(Array.from(at.subarray(3, 7))).toEqual([0, 0, 0, 0]);
    expect(at[7]).toBeNaN();
  });
});
