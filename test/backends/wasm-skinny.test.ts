/**
 * Skinny float32 products on the wasm backend (emit-skinny.ts): products with
 * a few rows or columns on one side take the axpy or the dot kernel, chosen
 * by shape and layout (src/backends/kernel/skinny.ts), whether written as a
 * matrix product or with a rank-1 vector; every form agrees with the
 * reference interpreter at the edges of its loops (chunks of columns, blocks
 * of rows of L, groups of 4 columns, k left over), with and without a scale,
 * with and without relaxed SIMD; split across threads they give the bits of
 * one thread; and the cost model names the same kernel.
 */
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { AXPY_ROWS, MEMORY_BOUND_ROWS, SKINNY_MAX_ROWS, skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { rowsPerPass } from "../../src/backends/wasm/emit-skinny.js";
import { emitWasm, loadBinaryen, loadThreadHost, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { checkSkinny, inputsFor, runUnitsBackwards, skinnyForm } from "./support.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const single = (await wasmBackendFactory())({ threads: 1 });

const matmul = (m: number, k: number, n: number, opts: { bT?: boolean; aT?: boolean; scale?: string } = {}): string => `
input A: f32[${opts.aT ? `${k}, ${m}` : `${m}, ${k}`}]
input B: f32[${opts.bT ? `${n}, ${k}` : `${k}, ${n}`}]
output C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) ${opts.aT ? "A[k, i]" : "A[i, k]"} * ${opts.bT ? "B[j, k]" : "B[k, j]"}${opts.scale ?? ""}
`;

const check = (source: string, form: string | null): void => checkSkinny(binaryen, host, parseProgramText(source), form);

describe("skinny products on the wasm backend", () => {
  // Rows 1..16 (one and several passes, 4 and 6 rows of L per pass), columns around the groups of 4 and the
  // chunks of columns (a chunk is 4096 / rows floats), k with and without a remainder.
  for (const [m, k, n] of [[1, 7, 4], [1, 9, 13], [1, 1, 4], [2, 8, 1030], [3, 5, 100], [4, 33, 257], [3, 12, 515], [4, 3, 300], [4, 17, 40], [1, 300, 4099]] as const) {
    it(`x·W ${m}×${k}×${n}: axpy`, () => check(matmul(m, k, n), "axpy"));
    it(`x·W ${m}×${k}×${n} with a scale: axpy`, () => check(matmul(m, k, n, { scale: " / 3" }), "axpy"));
  }
  for (const [m, k, n] of [[1, 7, 4], [1, 9, 13], [3, 5, 100], [4, 33, 17], [2, 64, 64], [4, 4, 7]] as const) {
    it(`x·Wᵀ ${m}×${k}×${n}: dot`, () => check(matmul(m, k, n, { bT: true }), "dot"));
    it(`x·Wᵀ ${m}×${k}×${n} with a scale: dot`, () => check(matmul(m, k, n, { bT: true, scale: " * 0.25" }), "dot"));
  }
  // Few columns: W·x. With A row-major the dot form; with A stored transposed (A[k, i]) and n = 1 the axpy form.
  // Several columns of B[k, j] are not contiguous in k: copied into scratch first.
  for (const [m, k, n] of [[4, 4, 1], [37, 9, 1], [100, 33, 3], [64, 5, 4], [5, 130, 2]] as const) {
    it(`W·x ${m}×${k}×${n}: dot`, () => check(matmul(m, k, n), "dot"));
  }
  for (const [m, k] of [[4, 4], [37, 9], [1000, 3]] as const) {
    it(`Wᵀ·x ${m}×${k}×1: axpy`, () => check(matmul(m, k, 1, { aT: true }), "axpy"));
  }
  it("rank-1 forms take the same kernels as the matrix forms", () => {
    check("input x: f32[33]\ninput W: f32[33, 21]\noutput y: f32[21] = [j:21] sum(k:33) x[k] * W[k, j]\n", "axpy");
    check("input x: f32[33]\ninput W: f32[21, 33]\noutput y: f32[21] = [i:21] sum(k:33) W[i, k] * x[k]\n", "dot");
    check("input x: f32[33]\ninput W: f32[21, 33]\noutput y: f32[21] = [j:21] sum(k:33) x[k] * W[j, k] * 2\n", "dot");
  });
  it("a bias and an activation after a skinny product: the skinny kernel, then the epilogue over its output", () => {
    // x·W + b with a ReLU (axpy), W·x + b with a tanh (dot), a scaled one with a row-dependent term.
    check("input A: f32[1, 70]\ninput B: f32[70, 300]\ninput b: f32[300]\noutput C: f32[1, 300] = [i:1, j:300] relu(sum(k:70) A[i, k] * B[k, j] + b[j])\n", "axpy");
    check("input A: f32[4, 33]\ninput B: f32[33, 257]\ninput b: f32[257]\noutput C: f32[4, 257] = [i:4, j:257] relu(b[j] + sum(k:33) A[i, k] * B[k, j] * 0.5)\n", "axpy");
    check("input A: f32[100, 33]\ninput B: f32[33, 3]\ninput b: f32[100]\noutput C: f32[100, 3] = [i:100, j:3] tanh(sum(k:33) A[i, k] * B[k, j] + b[i])\n", "dot");
    check("input A: f32[3, 16]\ninput B: f32[40, 16]\ninput s: f32[3]\noutput C: f32[3, 40] = [i:3, j:40] (sum(k:16) A[i, k] * B[j, k]) * s[i] - j\n", "dot");
  });
  it("batched skinny products loop over the batch", () => {
    check(`
input A: f32[3, 2, 9]
input B: f32[3, 9, 40]
output C: f32[3, 2, 40] = [b:3, i:2, j:40] sum(k:9) A[b, i, k] * B[b, k, j]
`, "axpy");
  });
  it("from 9 to 16 rows, the axpy form only for a large operand of 8 MiB or more", () => {
    check(matmul(AXPY_ROWS + 1, 2048, 1024), "axpy");
    check(matmul(SKINNY_MAX_ROWS, 512, 1024), null);
    check(matmul(AXPY_ROWS + 1, 512, 1024), null);
    check(matmul(MEMORY_BOUND_ROWS + 1, 2048, 1024, { bT: true }), null);
  });
  // Every row count from 1 to 17 in both layouts of B, with k not a multiple of the rows of B per pass (4, 6)
  // and columns not a multiple of 4: the axpy form up to AXPY_ROWS rows, the dot form up to MEMORY_BOUND_ROWS.
  for (let m = 1; m <= SKINNY_MAX_ROWS + 1; m++) {
    it(`${m} rows against the interpreter: x·W (${m <= AXPY_ROWS ? "axpy" : "micro-kernel"}), x·Wᵀ (${m <= MEMORY_BOUND_ROWS ? "dot" : "micro-kernel"}), W·x`, () => {
      check(matmul(m, 23, 37), m <= AXPY_ROWS ? "axpy" : null);
      check(matmul(m, 23, 37, { bT: true }), m <= MEMORY_BOUND_ROWS ? "dot" : null);
      check(matmul(37, 23, m), m <= MEMORY_BOUND_ROWS ? "dot" : null);
    });
  }
  it("rows of B per pass: 6 for one row, 4 for several rows", () => {
    const plan = (m: number, k: number, n: number) => skinnyPlan(lowerToKernels(parseProgramText(matmul(m, k, n))).kernels[0]!.contraction!)!;
    expect([plan(1, 512, 4096), plan(1, 4096, 1024), plan(1, 30, 40)].map(rowsPerPass)).toEqual([6, 6, 6]);
    expect([plan(2, 2048, 1024), plan(AXPY_ROWS, 30, 40)].map(rowsPerPass)).toEqual([4, 4]);
  });
  it("one row and a streamed operand: 6 rows of B per pass 341 apart and 5 left over; 6 rows 85 apart and 5 left over, a chunk of 4096 columns, 3 scalar columns", () => {
    check(matmul(1, 2051, 1023), "axpy");
    check(matmul(1, 515, 4099), "axpy");
  });
  it("several rows, spaced passes, rows left over", () => {
    check(matmul(3, 301, 1023), "axpy");
    check(matmul(2, 31, 2053), "axpy");
    check(matmul(2, 31, 4099), "axpy");
  });
  for (const [m, k, n] of [[5, 23, 37], [6, 9, 515], [7, 33, 1030], [8, 5, 8199]] as const) {
    it(`x·W ${m}×${k}×${n} in cache, 5 to 8 rows: axpy (pairs of rows and a last row, chunks of columns)`, () => check(matmul(m, k, n), "axpy"));
  }
  it("one row and more columns than a chunk holds (32,768): two chunks and 3 scalar columns", () => check(matmul(1, 5, 32803), "axpy"));
  it("products with more rows and columns than SKINNY_MAX_ROWS, fewer than 4 large columns, or a strided large operand keep the micro-kernel", () => {
    check(matmul(SKINNY_MAX_ROWS + 1, 8, SKINNY_MAX_ROWS + 1), null);
    check(matmul(AXPY_ROWS + 1, 8, AXPY_ROWS + 1), null);
    check(matmul(2, 8, 3), null);
    // B strided in j with k not contiguous either: neither form reads it in order.
    check(`
input A: f32[2, 6]
input B: f32[6, 40, 2]
output C: f32[2, 40] = [i:2, j:40] sum(k:6) A[i, k] * B[k, j, 1]
`, null);
  });
  it("the plan is a function of the shape: the few rows go on the small side", () => {
    const kp = lowerToKernels(parseProgramText(matmul(4096, 64, 1)));
    const plan = skinnyPlan(kp.kernels[0]!.contraction!)!;
    expect(plan).toMatchObject({ form: "dot", s: 1, l: 4096, k: 64, smallIsA: false });
    const kp2 = lowerToKernels(parseProgramText(matmul(2, 64, 3000)));
    expect(skinnyPlan(kp2.kernels[0]!.contraction!)).toMatchObject({ form: "axpy", s: 2, l: 3000, smallIsA: true });
  });
  // Units: chunks of columns (axpy), runs of 8 groups of 4 columns (dot), the last columns, per batch element;
  // each thread its own copy of a packed S.
  for (const [label, source] of [
    ["axpy, 2 rows, chunks and a 3-column rest", matmul(2, 70, 2051)],
    ["axpy, batched", "input A: f32[3, 2, 9]\ninput B: f32[3, 9, 4000]\noutput C: f32[3, 2, 4000] = [b:3, i:2, j:4000] sum(k:9) A[b, i, k] * B[b, k, j]\n"],
    ["dot, W·x", matmul(301, 40, 1)],
    ["dot with S packed, batched", "input A: f32[2, 99, 12]\ninput B: f32[2, 12, 3]\noutput C: f32[2, 99, 3] = [b:2, i:99, j:3] sum(k:12) A[b, i, k] * B[b, k, j] * 0.5\n"],
  ] as const) {
    it(`split across threads (${label}): units in any order on any thread give the bits of one thread`, () => {
      const p = parseProgramText(source);
      const kp = lowerToKernels(p);
      const threads = 3;
      const art = emitWasm(binaryen, kp, { threads, parallelMinFlops: 0 });
      expect(skinnyForm(art.text)).not.toBeNull();
      const inputs = inputsFor(p, 4);
      const reference = single.compile(p).executable.run(inputs)["C"]!;
      const view = runUnitsBackwards(art, kp, threads, (v) => {
        v("A").set(inputs["A"]!.data);
        v("B").set(inputs["B"]!.data);
        v("C").fill(Number.NaN);
      });
      expect(Array.from(view("C")).every((x, q) => Object.is(x, reference.data[q]))).toBe(true);
    });
  }
  it("the backend splits a large skinny product and gives the bits of one thread", async () => {
    const p = parseProgramText(matmul(2, 512, 2048));
    const two = (await wasmBackendFactory())({ threads: 2 }).compile(p);
    expect(two.code).toContain("_unit");
    const inputs = inputsFor(p, 2);
    const got = two.executable.run(inputs)["C"]!.data;
    const want = single.compile(p).executable.run(inputs)["C"]!.data;
    expect(Array.from(got).every((x, q) => Object.is(x, want[q]))).toBe(true);
    two.executable.dispose?.();
  });
});
