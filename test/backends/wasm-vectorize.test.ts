import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import type { Loop, Stmt } from "../../src/backends/kernel/types.js";
import { emitWasm, loadBinaryen, loadWasm } from "../../src/backends/wasm/index.js";
import { vectorizeLoop } from "../../src/backends/wasm/vectorize.js";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const wasm = await loadBackend("wasm");
const binaryen = await loadBinaryen();

/** Sizes that leave 1, 3, 1, 1 and 0 iterations to the scalar remainder loop (and 1, 3 run no vector at all). */
const SIZES = [1, 3, 5, 17, 1000];

/** Programs whose innermost loop runs in f32x4 lanes, at size `n`. */
const VECTOR_CASES: Record<string, (n: number) => string> = {
  "elementwise math": (n) => `
input A: f32[${n}]
input B: f32[${n}]
output Y: f32[${n}] = [i:${n}] exp(A[i]) * tanh(B[i] * 3) + sigmoid(A[i] - B[i]) + relu(A[i]) / (abs(B[i]) + 1) + rsqrt(abs(A[i]) + 1) + sqrt(abs(B[i])) - min(A[i], B[i]) + max(A[i], -B[i])
`,
  "comparisons, where and the index": (n) => `
input A: f32[${n}]
input B: f32[${n}]
output Y: f32[${n}] = [i:${n}] where(A[i] < B[i], A[i], B[i] * 2) + (A[i] >= 0) - (A[i] == B[i]) + where(i <= 2, 1, 0) + where(A[i], 0.5, -0.5)
`,
  "broadcast rows and invariant loads": (n) => `
input X: f32[3, ${n}]
input b: f32[${n}]
input s: f32[3]
output Y: f32[3, ${n}] = [r:3, i:${n}] (X[r, i] - s[r]) * b[i] + X[r, 0] + r
`,
  "sum, max, min and prod along the innermost loop": (n) => `
input X: f32[3, ${n}]
S: f32[3] = [r:3] sum(i:${n}) X[r, i] * 2
M: f32[3] = [r:3] max(i:${n}) X[r, i]
N: f32[3] = [r:3] min(i:${n}) -X[r, i]
output P: f32[3] = [r:3] prod(i:${n}) (1 + X[r, i] / 1000)
output T: f32[3] = [r:3] S[r] + M[r] - N[r]
`,
  // The interpreter evaluates the nested sum per output element: 7 columns keep n = 1000 quick.
  "softmax rows and a row-scaled product (attention's tail)": (n) => `
input S: f32[4, ${n}]
input V: f32[${n}, ${Math.min(n, 7)}]
M: f32[4] = [i:4] max(j:${n}) S[i, j]
E: f32[4, ${n}] = [i:4, j:${n}] exp(S[i, j] - M[i])
output O: f32[4, ${Math.min(n, 7)}] = [i:4, e:${Math.min(n, 7)}] sum(j:${n}) E[i, j] * V[j, e] / sum(j_1:${n}) E[i, j_1]
`,
};

/** The innermost loops of a kernel body, outermost first. */
function innermostLoops(stmts: readonly Stmt[]): Loop[] {
  return stmts.flatMap((s) => {
    if (s.kind !== "loop") return [];
    const inner = innermostLoops(s.body);
    return inner.length > 0 ? inner : [s];
  });
}

/** The vectoriser's decision on the first innermost loop of the program's only kernel. */
function decide(text: string) {
  const kp = lowerToKernels(parseProgramText(text));
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  const loop = innermostLoops(kp.kernels.at(-1)!.body)[0]!;
  return vectorizeLoop(loop, { dtypeOf: (b) => dtypes.get(b)!, inlineMath: true, extents: new Map() });
}

const textOf = (text: string): string => emitWasm(binaryen, lowerToKernels(parseProgramText(text)), { optimize: false }).text;

describe("vectorised loops on the wasm backend", () => {
  for (const [name, program] of Object.entries(VECTOR_CASES)) {
    for (const n of SIZES) {
      it(`${name}, n = ${n}, agrees with the interpreter`, () => {
        const p = parseProgramText(program(n));
        const { executable } = wasm.compile(p);
        expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, n));
      });
    }
    it(`${name}: runs in f32x4 lanes`, () => {
      const text = textOf(program(17));
      expect(text).toContain("v128.load");
      expect(text).toMatch(/f32x4\.(add|mul|max|min|sub)/);
    });
  }

  it("keeps a strided access, a float64 kernel and a host-only function scalar, saying why", () => {
    const strided = "input X: f32[40]\noutput Y: f32[20] = [i:20] X[2*i] + 1";
    expect(decide(strided)).toEqual({ ok: false, reason: "X is read with stride 2 in i" });
    expect(textOf(strided)).not.toContain("v128");
    expect(decide("input X: f32[8, 8]\noutput Y: f32[8, 8] = [i:8, j:8] X[j, i]")).toEqual({ ok: false, reason: "X is read with stride 8 in j" });
    expect(decide("input X: f64[20]\noutput Y: f64[20] = [i:20] X[i] + 1")).toEqual({ ok: false, reason: "Y is not float32" });
    expect(decide("input X: f32[20]\noutput Y: f32[20] = [i:20] log(X[i])")).toEqual({ ok: false, reason: "log has no vector form" });
    expect(decide("input X: f32[3]\noutput Y: f32[3] = [i:3] X[i] + 1")).toEqual({ ok: false, reason: "3 iterations fill no vector" });
    expect(decide("input X: f32[8]\noutput Y: f32[8] = [i:8] X[i] * 1e39")).toEqual({ ok: false, reason: "the constant 1e+39 overflows float32" });
  });

  // Max and min run in four chains of partial results from 16 iterations on (emit-vector-loop.ts); any grouping gives the same value.
  for (const n of [15, 16, 17, 31, 32, 33, 64, 100, 1001]) {
    it(`row max and min at n = ${n} (four chains from 16) equal the interpreter bit for bit, with NaN and signed zeros`, () => {
      const text = `input X: f32[6, ${n}]\noutput M: f32[6] = [r:6] max(i:${n}) X[r, i] * 2\noutput N: f32[6] = [r:6] min(i:${n}) X[r, i] - 1`;
      const p = parseProgramText(text);
      // f32x4.max: four chains in the loop and three merges (and one more for steps left past a multiple of 16), else one.
      const vectorEnd = n - (n % 4);
      const chained = n >= 16 ? 7 + (vectorEnd > n - (n % 16) ? 1 : 0) : 1;
      expect(textOf(text).match(/f32x4\.max/g)?.length).toBe(chained);
      const X = inputsFor(p, n)["X"]!;
      const data = X.data as Float32Array;
      // Row 1: a NaN at the end; row 2: a NaN first; row 3: zeros of both signs only; row 4: -0 then +0 among negatives.
      data[2 * n - 1] = Number.NaN;
      data[2 * n] = Number.NaN;
      for (let i = 0; i < n; i++) data[3 * n + i] = i % 2 === 0 ? -0 : 0;
      for (let i = 0; i < n; i++) data[4 * n + i] = i === n - 1 ? 0 : i === 0 ? -0 : -1 - i;
      const got = wasm.compile(p).executable.run({ X });
      const want = interpret(p, { X });
      for (const name of ["M", "N"]) {
        expect(Array.from(got[name]!.data).map((x) => Object.is(x, -0) ? "-0" : String(x)), name)
          .toEqual(Array.from(want[name]!.data).map((x) => Object.is(x, -0) ? "-0" : String(Math.fround(x))));
      }
    });
  }

  it("plans lets as vectors and updates of outer accumulators as reductions", () => {
    const d = decide("input X: f32[4, 9]\noutput Y: f32[4] = [r:4] max(i:9) X[r, i]");
    expect(d.ok).toBe(true);
    if (d.ok) expect([...d.plan.reductions]).toEqual([["t0", "max"]]);
  });
});

const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** The spacing of float32 values above |v| rounded to float32. */
function f32Ulp(v: number): number {
  asFloat[0] = Math.abs(v);
  const here = asFloat[0]!;
  bits[0] = bits[0]! + 1;
  return asFloat[0]! - here;
}

/**
 * `fn` applied to each of `xs` by a compiled float32 kernel: in f32x4 lanes,
 * or (`scalar`) with a stride-2 read that keeps the loop scalar.
 */
function applyF32(fn: string, xs: Float64Array, scalar: boolean): Float32Array {
  const n = xs.length;
  const text = scalar
    ? `input X: f32[${2 * n}]\noutput Y: f32[${n}] = [i:${n}] ${fn}(X[2*i])`
    : `input X: f32[${n}]\noutput Y: f32[${n}] = [i:${n}] ${fn}(X[i])`;
  const kp = lowerToKernels(parseProgramText(text));
  const art = emitWasm(binaryen, kp);
  expect(art.imports, `${fn} inline`).toEqual([]);
  expect(art.text.includes("f32x4"), "vectorised").toBe(!scalar);
  const data = new Float32Array(scalar ? 2 * n : n);
  xs.forEach((x, k) => (data[scalar ? 2 * k : k] = x));
  return loadWasm(art, kp).run({ X: new Tensor("f32", [data.length], data) })["Y"]!.data as Float32Array;
}

/** Largest error in float32 ulps of `got` against `ref` (float64) and against its float32 rounding. */
function ulpErrors(xs: Float64Array, got: ArrayLike<number>, ref: (x: number) => number): { exact: number; rounded: number } {
  let exact = 0;
  let rounded = 0;
  xs.forEach((x, k) => {
    const want = ref(x);
    const ulp = f32Ulp(want);
    exact = Math.max(exact, Math.abs(got[k]! - want) / ulp);
    rounded = Math.max(rounded, Math.abs(got[k]! - Math.fround(want)) / ulp);
  });
  return { exact, rounded };
}

/** `n` float32 points spread evenly over [lo, hi]. */
const sweep = (lo: number, hi: number, n: number): Float64Array =>
  Float64Array.from({ length: n }, (_, k) => Math.fround(lo + ((hi - lo) * k) / (n - 1)));

const path = (scalar: boolean): string => (scalar ? "scalar" : "f32x4");

describe("inline tanh and vector exp for float32 kernels", () => {
  // docs/wasm.md gives the full 10^6-point measurements; these samples check the same bounds.
  const points = sweep(-10, 10, 200_000);
  const nearSplit = sweep(0.55, 0.7, 20_000);
  for (const scalar of [false, true]) {
    it(`tanh (${path(scalar)}) stays within 1 ulp of Math.fround(Math.tanh(x))`, () => {
      for (const xs of [points, nearSplit, sweep(-1e-3, 1e-3, 20_000)]) {
        const e = ulpErrors(xs, applyF32("tanh", xs, scalar), Math.tanh);
        expect(e.rounded).toBeLessThanOrEqual(1);
        expect(e.exact).toBeLessThanOrEqual(scalar ? 0.6 : 1.4);
        expect(e.exact).toBeGreaterThan(0.4); // the sweep reaches rounding boundaries
      }
    });
  }

  for (const scalar of [false, true]) {
    it(`exp (${path(scalar)}) stays within 1 ulp of Math.fround(Math.exp(x)) over [-104, 88]`, () => {
      const xs = sweep(-104, 88, 200_000);
      const e = ulpErrors(xs, applyF32("exp", xs, scalar), Math.exp);
      expect(e.rounded).toBeLessThanOrEqual(1);
      expect(e.exact).toBeLessThanOrEqual(scalar ? 0.6 : 1.3);
      expect(e.exact).toBeGreaterThan(0.4);
    });
  }

  it("gives the limits, signed zeros and NaN of tanh and exp on both paths", () => {
    const xs = Float64Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 20, -20, 1e30, -1e30, 0.625, -0.625, 88.75, -110.5]);
    for (const scalar of [false, true]) {
      const t = applyF32("tanh", xs, scalar);
      const e = applyF32("exp", xs, scalar);
      // Zeros (with their sign), infinities and NaN exactly; finite non-zero results within 1 ulp.
      const close = (got: number, want: number): boolean =>
        Object.is(got, want) || (want !== 0 && Number.isFinite(want) && Math.abs(got - want) <= f32Ulp(want));
      xs.forEach((x, k) => {
        expect(close(t[k]!, Math.fround(Math.tanh(x))), `${path(scalar)} tanh(${x}) = ${t[k]}`).toBe(true);
        expect(close(e[k]!, Math.fround(Math.exp(x))), `${path(scalar)} exp(${x}) = ${e[k]}`).toBe(true);
      });
    }
  });
});
