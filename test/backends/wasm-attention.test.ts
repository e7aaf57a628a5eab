/**
 * Attention on the wasm backend after the online softmax: the blocked
 * kernel (emit-attention.ts) at the edges of its tiles (rows not a multiple
 * of 4, key blocks of 64 and the last shorter one, an odd key, value
 * columns by 8 and a 4 left over), with a causal mask, with masked keys
 * first (the running maximum -inf for a while), with a fully masked row
 * (NaN, as the reference), with peaked scores (most weights below the
 * kernel exp's cutoff), with a NaN in one query, with and without relaxed
 * SIMD; against the unfused program on wasm; the general
 * one-pass loop nest where the blocked form does not apply; both against
 * the reference interpreter on the program before any pass. At n = 4096,
 * d = 64 the module's arena holds no n × n tensor and sampled rows agree
 * with the reference (rows of attention are independent: the reference
 * runs the first rows' queries against every key).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { compile, compileAsync } from "../../src/compiler.js";
import { emitWasm, hostRunsRelaxedSimd, loadBinaryen, loadThreadHost, loadWasm } from "../../src/backends/wasm/index.js";
import { interpret } from "../../src/interpret.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { fuseOnlineSoftmaxWith } from "../../src/passes/fuse-online-softmax.js";
import { randomTensor } from "../../src/runtime/random.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { expectMatchesInterpreter, inputsFor, relativeError } from "./support.js";

/** The default pipeline, fusing attention at any size (the pipeline itself waits for 16 MiB of scores). */
const ALWAYS_FUSED = defaultPipeline().map((p) => (p.name === "fuse-online-softmax" ? fuseOnlineSoftmaxWith({ minSavingBytes: 0 }) : p));

const ATTENTION = readFileSync(new URL("../../examples/attention.tns", import.meta.url), "utf8");
const CAUSAL = readFileSync(new URL("../../examples/causal_attention.tns", import.meta.url), "utf8");

const masked = (mask: string): string => `size n = 8, d = 16
input Q[n, d], K[n, d], V[n, d]
S[i, j] = where(${mask}, sum(k) Q[i, k] * K[j, k] / 4, -inf)
M[i] = max(j) S[i, j]
E[i, j] = exp(S[i, j] - M[i])
output O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]
`;

const lowering = defaultPipeline().slice(0, 2);

/** Compiles on wasm (relaxed SIMD or not), checks which kernel runs O, and compares with the interpreter on the unoptimized program. */
const binaryen = await loadBinaryen();
const host = await loadThreadHost();

function check(
  source: string, sizes: Record<string, number>, kernel: "blocked" | "loop", relaxedSimd: boolean,
  adjust: (inputs: Record<string, Tensor>) => void = () => {}, tol = 2e-6,
): void {
  const r = compile(source, { sizes, passes: ALWAYS_FUSED });
  expect(r.ok, r.formatDiagnostics()).toBe(true);
  expect(r.ir!.tensors.filter((t) => t.role === "def").map((t) => t.name)).toEqual(["O"]);
  const kp = lowerToKernels(r.ir!);
  expect(kp.kernels[0]!.blockedAttention !== undefined, "blocked kernel").toBe(kernel === "blocked");
  const art = emitWasm(binaryen, kp, { relaxedSimd });
  // Only the blocked kernel takes a running maximum over f32x4 lanes.
  expect(art.text.includes("f32x4.pmax")).toBe(kernel === "blocked");
  const exe = loadWasm(art, kp, host);
  const reference = runPasses(r.loweredIr!, lowering).program;
  for (const seed of [1, 2]) {
    const inputs = inputsFor(reference, seed);
    adjust(inputs);
    expectMatchesInterpreter(reference, (x) => exe.run(x), inputs, tol);
  }
}

describe("attention on the wasm backend, one pass over the keys", () => {
  // Relaxed SIMD is emitted always and run where the engine accepts it.
  const relaxed = [false, ...(hostRunsRelaxedSimd() ? [true] : [])];
  for (const relaxedSimd of relaxed) {
    const tag = relaxedSimd ? " (relaxed SIMD)" : "";
    for (const [n, d] of [[4, 4], [7, 8], [64, 16], [65, 12], [130, 20], [9, 4]] as const) {
      it(`attention n = ${n}, d = ${d}${tag}`, () => check(ATTENTION, { n, d }, "blocked", relaxedSimd));
    }
    it(`cross-attention, 19 queries against 75 keys${tag}`, () => check(ATTENTION.replace("input Q[n, d]", "input Q[19, d]"), { n: 75, d: 12 }, "blocked", relaxedSimd));
    it(`causal attention n = 70, d = 16${tag}`, () => check(CAUSAL, { n: 70, d: 16 }, "blocked", relaxedSimd));
    it(`masked keys first${tag}`, () => check(masked("j >= i"), {}, "blocked", relaxedSimd));
    it(`a fully masked row${tag}`, () => check(masked("i != 3"), {}, "blocked", relaxedSimd));
    // Scores that differ by hundreds: most weights fall below e^-87.3, where the kernel's exp gives 0. A float32
    // score of magnitude 100 is off by up to 100·2^-24 = 6e-6, and its weight by as much relatively: hence 2e-5.
    it(`peaked scores${tag}`, () => check(ATTENTION, { n: 40, d: 8 }, "blocked", relaxedSimd, (x) => x.Q!.data.forEach((v, k, a) => { a[k] = 400 * v; }), 2e-5));
    // A NaN in one query: its row is NaN (the block maximum may pass over it, its weights do not), the others as the reference.
    it(`a NaN in one query${tag}`, () => check(ATTENTION, { n: 21, d: 8 }, "blocked", relaxedSimd, (x) => { x.Q!.data[5 * 8 + 3] = NaN; }));
  }
  it("d not a multiple of 4: the one-pass loop nest", () => check(ATTENTION, { n: 9, d: 6 }, "loop", false));
  it("a value that is not a plain row-major read: the one-pass loop nest", () =>
    check("size n = 9, d = 8\ninput Q[n, d], K[n, d], V[n, d]\nS[i, j] = Q[i, k] * K[j, k]\nM[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * tanh(V[j, e]) / sum(l) E[i, l]\n", {}, "loop", false));

  it("agrees with the unfused program on wasm (scores stored, both products on the micro-kernel) at n = 300, d = 64", async () => {
    const sizes = { n: 300, d: 64 };
    const fused = await compileAsync(ATTENTION, { backend: "wasm", sizes, passes: ALWAYS_FUSED });
    const unfused = await compileAsync(ATTENTION, { backend: "wasm", sizes, passes: defaultPipeline().filter((p) => p.name !== "fuse-online-softmax") });
    expect(fused.ir!.tensors.filter((t) => t.role === "def").length).toBe(1);
    expect(unfused.ir!.tensors.filter((t) => t.role === "def").length).toBeGreaterThan(1);
    const inputs = { Q: randomTensor([300, 64], "f32", 21), K: randomTensor([300, 64], "f32", 22), V: randomTensor([300, 64], "f32", 23) };
    expect(relativeError(fused.run(inputs).O!.data, unfused.run(inputs).O!.data)).toBeLessThan(2e-6);
  });

  it("n = 4096, d = 64: no n × n buffer, and sampled rows agree with the reference", async () => {
    const n = 4096;
    const d = 64;
    const r = await compileAsync(ATTENTION, { backend: "wasm", sizes: { n, d } });
    expect(r.ok).toBe(true);
    // Q, K, V, O and the kernel's scratch: K packed transposed (n × d), its 4 KiB tile of scores and a few floats per row.
    expect(r.memory!.peakBytes).toBeLessThanOrEqual(5 * n * d * 4 + 8192);
    const inputs = { Q: randomTensor([n, d], "f32", 11), K: randomTensor([n, d], "f32", 12), V: randomTensor([n, d], "f32", 13) };
    const got = r.run(inputs).O!;
    // The reference for the first 8 rows: the same program with 8 queries against all 4096 keys.
    const rows = 8;
    // Optimized but not fused (the interpreter would compute each row's normalizer once per element otherwise).
    const passes = defaultPipeline().filter((p) => p.name !== "fuse-online-softmax");
    const few = compile(ATTENTION.replace("input Q[n, d]", `input Q[${rows}, d]`), { sizes: { n, d }, passes });
    const reference = few.ir!;
    const want = interpret(reference, { Q: new Tensor("f32", [rows, d], inputs.Q.data.slice(0, rows * d)), K: inputs.K, V: inputs.V }).O!;
    expect(relativeError(got.data.subarray(0, rows * d), want.data)).toBeLessThan(1e-5);
  }, 120_000);
});
