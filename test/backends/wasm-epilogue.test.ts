/**
 * Contractions with an elementwise epilogue on the wasm backend: the SIMD
 * micro-kernel applies the epilogue as it stores each tile (in f32x4 lanes
 * where every operation has a vector form, lane by lane in scalar code
 * otherwise, and in the scalar edge columns), so the values match the
 * reference interpreter at every tile edge (4 rows; 8, 4 and fewer than 4
 * columns), and the threaded entry points give the same bits as one thread.
 */
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { printKernel } from "../../src/backends/kernel/print.js";
import { skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { emitWasm, loadBinaryen, loadThreadHost, loadWasm, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Program } from "../../src/ir/types.js";
import { denseLayer, expectMatchesInterpreter, expectSameBitsAs, inputsFor } from "./support.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const single = (await wasmBackendFactory())({ threads: 1 });

/** Sizes around the tile edges: 4 rows; 8-wide pairs and panels, a 4-wide panel, fewer than 4 scalar columns. */
const SIZES = [1, 3, 5, 17, 33, 100];

/** Every size as m and as n, k cycling through them. */
const TRIPLES: readonly (readonly [number, number, number])[] = SIZES.flatMap((m, a) => SIZES.map((n, b) => [m, n, SIZES[(a + 2 * b + 1) % SIZES.length]!] as const));

/** Epilogues whose every operation and load has an f32x4 form: name and program. */
const VECTOR_CASES: readonly (readonly [string, string])[] = [
  ["a per-row scale read from a tensor (attention's normalizer)", `
input E: f32[17, 33]
input V: f32[33, 21]
input R: f32[17]
output O: f32[17, 21] = [i:17, e:21] R[i] * sum(j:33) E[i, j] * V[j, e]
`],
  ["a causal mask on index values, B transposed, a constant scale", `
input Q: f32[33, 5]
input K: f32[33, 5]
output S: f32[33, 33] = [i:33, j:33] where(j <= i, 0.5 * sum(d:5) Q[i, d] * K[j, d], -inf)
`],
  ["batched, per-batch, per-row and per-element operands and a batch index value", `
input A: f32[3, 7, 5]
input B: f32[3, 5, 13]
input G: f32[3, 7, 13]
input s: f32[3]
output C: f32[3, 7, 13] = [b:3, i:7, j:13] tanh(sum(k:5) A[b, i, k] * B[b, k, j]) * G[b, i, j] * s[b] + b
`],
  ["batched with a shared B, the epilogue reading one batch variable of two", `
input A: f32[2, 3, 9, 17]
input B: f32[17, 20]
input g: f32[3, 20]
output C: f32[2, 3, 9, 20] = [a:2, h:3, i:9, j:20] exp(sum(k:17) A[a, h, i, k] * B[k, j] - g[h, j])
`],
  ["divided by a column term", `
input A: f32[10, 4]
input B: f32[4, 29]
input s: f32[29]
output C: f32[10, 29] = [i:10, j:29] (sum(k:4) A[i, k] * B[k, j]) / (1 + s[j] * s[j])
`],
  ["exp of a negated product, sigmoid, min and max", `
input A: f32[9, 3]
input B: f32[3, 12]
output C: f32[9, 12] = [i:9, j:12] max(exp(-(sum(k:3) A[i, k] * B[k, j])), sigmoid(min(i, j)))
`],
];

/** Epilogues with a load or an operation that has no f32x4 form: each lane runs scalar code. */
const LANE_CASES: readonly (readonly [string, string])[] = [
  ["log", `
input A: f32[9, 7]
input B: f32[7, 20]
output C: f32[9, 20] = [i:9, j:20] log(1 + abs(sum(k:7) A[i, k] * B[k, j]))
`],
  ["an operand strided in the column", `
input A: f32[10, 5]
input B: f32[5, 13]
input G: f32[13, 10]
output C: f32[10, 13] = [i:10, j:13] sum(k:5) A[i, k] * B[k, j] + G[j, i]
`],
  ["a float64 operand of a float32 product", denseLayer(17, 21, 9, "f32", "f64")],
  ["an integer operand, batched", `
input A: f32[2, 5, 4]
input B: f32[2, 4, 12]
input t: i32[2, 12]
output C: f32[2, 5, 12] = [b:2, i:5, j:12] (sum(k:4) A[b, i, k] * B[b, k, j]) * t[b, j]
`],
];

/** The module's text before optimization (deterministic), single-threaded or split on two threads. */
function wasmText(p: Program, threads = 1): string {
  return emitWasm(binaryen, lowerToKernels(p), { optimize: false, threads, parallelMinFlops: 0 }).text;
}

/** Whether the micro-kernel's panel functions (`k0_C_p8`, `k0_C_pair_p8`, `k0_C_p4`) are in the text. */
const hasPanels = (text: string): boolean => /\(func \$k\d+_\w*_p[48] /.test(text);

/**
 * Compiles the program, checks that its last def is an epilogue contraction
 * and that the skinny kernel (skinny shapes) or the micro-kernel ran it (with
 * `n` ≥ 4: panel functions; the epilogue in f32x4 lanes or lane by lane), and
 * compares with the interpreter.
 */
function check(text: string, lanes: "vector" | "scalar"): void {
  const p = parseProgramText(text);
  const kernel = lowerToKernels(p).kernels.at(-1)!;
  const ec = kernel.epilogueContraction;
  expect(ec, printKernel(kernel)).toBeDefined();
  const wat = wasmText(p);
  // An unbatched skinny product (a few rows or columns) runs on the skinny kernel, its epilogue then over the small output.
  const skinny = ec!.contraction.batch.length === 0 && skinnyPlan(ec!.contraction) !== null;
  expect(/\(func \$k\d+_\w+_(axpy|dot) /.test(wat), "skinny kernel").toBe(skinny);
  const panels = !skinny && ec!.contraction.n >= 4;
  expect(hasPanels(wat), "SIMD micro-kernel").toBe(panels);
  if (panels) expect(wat.includes("f32x4.extract_lane"), "epilogue lane by lane").toBe(lanes === "scalar");
  const { executable } = single.compile(p);
  for (const seed of [3, 4]) expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, seed));
}

describe("contractions with an elementwise epilogue on the wasm backend", () => {
  for (const [m, n, k] of TRIPLES) it(`a dense layer ${m}x${n}x${k}`, () => check(denseLayer(m, n, k), "vector"));

  it("transposed B with a bias", () => {
    check(`
input X: f32[33, 17]
input W: f32[100, 17]
input b: f32[100]
output H: f32[33, 100] = [i:33, j:100] relu(sum(k:17) X[i, k] * W[j, k] + b[j])
`, "vector");
  });

  for (const [name, text] of VECTOR_CASES) it(`in f32x4 lanes: ${name}`, () => check(text, "vector"));
  for (const [name, text] of LANE_CASES) it(`lane by lane: ${name}`, () => check(text, "scalar"));

  it("applies the epilogue to each tile in f32x4 lanes: a vector load per 4 columns, a splat per row", () => {
    const wat = wasmText(parseProgramText(`
input X: f32[9, 8]
input W: f32[8, 8]
input b: f32[8]
input R: f32[9]
output H: f32[9, 8] = [i:9, j:8] relu(sum(k:8) X[i, k] * W[k, j] + b[j]) * R[i]
`));
    const panel = wat.slice(wat.indexOf("(func $k0_H_p8 "));
    // The code of a 4 × 8 tile and of a 1 × 8 one (row 8): one splat of R[i] per row, relu per vector.
    expect(panel.match(/f32x4\.max/g)?.length).toBe(5 * 2);
    expect(panel.match(/v128\.load32_splat offset=\d+\n\s+\(i32\.mul/g)?.length).toBe(5);
    expect(panel).not.toMatch(/f32x4\.extract_lane/);
  });

  it("calls Math.exp per lane where exp is not inline (standalone builds)", () => {
    const p = parseProgramText(VECTOR_CASES[5]![1]);
    const kp = lowerToKernels(p);
    const art = emitWasm(binaryen, kp, { inlineExp: false });
    expect(art.imports).toContain("exp");
    expectMatchesInterpreter(p, (x) => loadWasm(art, kp).run(x), inputsFor(p, 5));
  });

  it("runs float64 epilogue contractions on the scalar path", () => {
    for (const text of [denseLayer(17, 21, 9, "f64"), denseLayer(5, 100, 3, "f64", "f32")]) {
      const p = parseProgramText(text);
      expect(lowerToKernels(p).kernels[0]!.epilogueContraction).toBeDefined();
      expect(hasPanels(wasmText(p)), "no float32 micro-kernel").toBe(false);
      const { executable } = single.compile(p);
      // float64 accumulation throughout: as close to the interpreter as the general loop nest
      expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 2), 1e-12);
    }
  });
});

describe.skipIf(host === null)("threaded epilogue contractions on the wasm backend", () => {
  const cases: readonly (readonly [string, string])[] = [
    ["a dense layer 33x100x17", denseLayer(33, 100, 17)],
    ["a dense layer 5x3x100 (one unit: the scalar edge)", denseLayer(5, 3, 100)],
    ...VECTOR_CASES,
    ...LANE_CASES,
  ];
  for (const [name, text] of cases) {
    it(`gives the same bits on two threads as on one: ${name}`, () => {
      const p = parseProgramText(text);
      const kp = lowerToKernels(p);
      const threaded = emitWasm(binaryen, kp, { threads: 2, parallelMinFlops: 0 });
      const units = threaded.parallel.find((s) => s.kernel === kp.kernels.length - 1)?.units ?? 0;
      // Split whenever there are two work units (column groups × batch elements), like a plain product.
      expect(units >= 2, "split").toBe(!name.includes("one unit"));
      expectSameBitsAs(p, loadWasm(threaded, kp, host, 0), loadWasm(emitWasm(binaryen, kp), kp));
    });
  }
});
