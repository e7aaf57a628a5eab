import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { emitWasm, loadBinaryen } from "../../src/backends/wasm/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { REVERSED_B, sizeTriples, transposedB, TRANSPOSED_CASES } from "./contraction-cases.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const wasm = await loadBackend("wasm");
const binaryen = await loadBinaryen();

/** Compiles, checks the SIMD path was (or was not) taken, and compares with the interpreter. */
function check(text: string, simd: boolean): void {
  const p = parseProgramText(text);
  const kp = lowerToKernels(p);
  expect(kp.kernels.some((k) => k.contraction), "recognised as a contraction").toBe(true);
  // The micro-kernel's panel functions (`k0_C_p8`, `k0_C_p4`) or a skinny kernel's (`k0_C_axpy`, `k0_C_dot`, emit-skinny.ts);
  // other loops may use f32x4 too (emit-vector-loop.ts).
  expect(/\(func \$k\d+_\w*_(p[48]|axpy|dot) /.test(emitWasm(binaryen, kp, { optimize: false }).text), "SIMD kernel").toBe(simd);
  const { executable } = wasm.compile(p);
  expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 3));
}

/** Whether a skinny kernel (emit-skinny.ts) takes the program's product. */
const skinny = (text: string): boolean => skinnyPlan(lowerToKernels(parseProgramText(text)).kernels[0]!.contraction!) !== null;

const matmul = (m: number, n: number, k: number): string => `
input A: f32[${m}, ${k}]
input B: f32[${k}, ${n}]
output C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[i, k] * B[k, j]
`;

const SIZES = [1, 3, 17, 33, 100];

describe("SIMD contraction on the wasm backend", () => {
  // Every pair of row and column counts (tile edges: 4 rows, 8 / 4 / <4 columns), k cycling through the
  // sizes; fewer than 4 columns run the micro-kernel's scalar float32 edge loop only.
  for (const [a, m] of SIZES.entries()) {
    for (const [b, n] of SIZES.entries()) {
      const k = SIZES[(a + b) % SIZES.length]!;
      // Fewer than 4 columns: the micro-kernel's scalar edge only, unless a skinny kernel takes the product (W·x).
      it(`matmul ${m}x${n}x${k}`, () => check(matmul(m, n, k), n >= 4 || skinny(matmul(m, n, k))));
    }
  }

  it("handles a transposed A (k stride > 1) and a 1-wide k", () => {
    check(`
input A: f32[33, 17]
input B: f32[33, 12]
output C: f32[17, 12] = [i:17, j:12] sum(k:33) A[k, i] * B[k, j]
`, true);
    check(matmul(9, 12, 1), true);
  });

  it("runs batched contractions with batch-dependent and shared operands", () => {
    check(`
input A: f32[3, 7, 5]
input B: f32[3, 5, 13]
output C: f32[3, 7, 13] = [b:3, i:7, j:13] sum(k:5) A[b, i, k] * B[b, k, j]
`, true);
    check(`
input A: f32[2, 3, 9, 17]
input B: f32[17, 20]
output C: f32[2, 3, 9, 20] = [a:2, b:3, i:9, j:20] sum(k:17) A[a, b, i, k] * B[k, j]
`, true);
  });

  it("writes into an output that sits after other buffers (non-zero base offsets)", () => {
    check(`
input X: f32[5, 6]
input B: f32[6, 9]
A: f32[5, 6] = [i:5, k:6] X[i, k] * 2
output C: f32[5, 9] = [i:5, j:9] sum(k:6) A[i, k] * B[k, j]
`, true);
  });

  // B read as B[j, k]: the panel copy gathers each packed row from several rows of B.
  for (const [m, n, k] of sizeTriples()) {
    it(`transposed-B matmul ${m}x${n}x${k}`, () => check(transposedB(m, n, k), n >= 4 || skinny(transposedB(m, n, k))));
  }

  for (const [name, text] of TRANSPOSED_CASES) it(`transposed B: ${name}`, () => check(text, true));
  it("leaves a B with reversed columns (negative column stride) to the scalar path", () => check(REVERSED_B, false));

  it("uses the scalar path for f64 contractions", () => {
    check(`
input A: f64[5, 7]
input B: f64[7, 9]
output C: f64[5, 9] = [i:5, j:9] sum(k:7) A[i, k] * B[k, j]
`, false);
  });
});
