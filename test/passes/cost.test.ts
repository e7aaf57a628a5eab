import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { defFlops } from "../../src/backends/kernel/flops.js";
import { elementBytes, programCost, WASM_RATES, wasmSecondsOf } from "../../src/passes/cost.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import { eliminateDeadCode } from "../../src/passes/eliminate-dead-code.js";
import { orderContractions, orderContractionsWithNotes } from "../../src/passes/order-contractions.js";
import { runPasses } from "../../src/passes/manager.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";

const def = (p: Program, name: string): DefNode => p.tensors.find((t) => t.name === name) as DefNode;

describe("programCost", () => {
  it("counts a matmul as 2·n³ FLOPs, each operand read once and the result written once", () => {
    const p = parseProgramText("input A: f32[8, 8]\ninput B: f32[8, 8]\noutput C: f32[8, 8] = [i:8, j:8] sum(k:8) A[i, k] * B[k, j]\n");
    const cost = programCost(p);
    expect(cost.flops).toBe(2 * 8 ** 3);
    expect(cost.tensors).toEqual([{
      name: "C", role: "def", flops: 1024, bytesRead: 512, bytesWritten: 256, elements: 64, bytes: 256, kernel: "matrix-product",
      // 8 rows and B read in place, row by row: the skinny axpy kernel on wasm, priced by its 768 bytes (its FLOPs take less).
      wasmKernel: "skinny-axpy", wasmSeconds: 768 / WASM_RATES.readBytes,
    }]);
    expect(cost.blockedFlops).toEqual({ js: 1024, wasm: 1024 });
    expect(cost.bytesMoved).toBe(768);
    expect(cost.largestIntermediate).toBeNull();
    expect(cost.peakMemory).toEqual({ bytes: 768, liveBytes: 768, at: "C", live: ["A", "B", "C"] });
  });

  it("names the wasm kernel by shape and prices skinny products by their bytes, square ones by their FLOPs", () => {
    const product = (m: number, k: number, n: number, bT = false) => programCost(parseProgramText(
      `input A: f32[${m}, ${k}]\ninput B: f32[${bT ? `${n}, ${k}` : `${k}, ${n}`}]\noutput C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[i, k] * ${bT ? "B[j, k]" : "B[k, j]"}\n`,
    )).tensors[0]!;
    const gemv = product(1, 4096, 4096);
    expect(gemv.wasmKernel).toBe("skinny-axpy");
    const bytes = 4 * (4096 + 4096 * 4096 + 4096);
    expect(gemv.wasmSeconds).toBe(bytes / WASM_RATES.readBytes);
    expect(product(4096, 4096, 1).wasmKernel).toBe("skinny-dot");
    expect(product(1, 4096, 4096, true).wasmKernel).toBe("skinny-dot");
    // Up to 8 rows the axpy form whatever the size; 9 to 16 rows only for a B of 8 MiB or more; the dot form up to 4.
    expect(product(8, 64, 64).wasmKernel).toBe("skinny-axpy");
    expect(product(9, 64, 64).wasmKernel).toBe("gemm");
    expect(product(9, 2048, 1024).wasmKernel).toBe("skinny-axpy");
    expect(product(5, 64, 64, true).wasmKernel).toBe("gemm");
    const square = product(1024, 1024, 1024);
    expect(square.wasmKernel).toBe("gemm");
    expect(square.wasmSeconds).toBe(2 * 1024 ** 3 / WASM_RATES.gemmFlops);
    expect(wasmSecondsOf("loop-nest", 2e9, 16e9)).toBeCloseTo(2, 12);
    const f64 = programCost(parseProgramText("input A: f64[1, 64]\ninput B: f64[64, 64]\noutput C: f64[1, 64] = [i:1, j:64] sum(k:64) A[i, k] * B[k, j]\n"));
    expect(f64.tensors[0]!.wasmKernel).toBe("loop-nest");
  });

  it("counts epilogue products as blocked on both backends, and only float32 ones on wasm", () => {
    const dense = (t: string) => parseProgramText(
      `input X: ${t}[8, 8]\ninput W: ${t}[8, 8]\ninput b: ${t}[8]\noutput Y: ${t}[8, 8] = [i:8, j:8] max(0, b[j] + sum(k:8) X[i, k] * W[k, j])\n`,
    );
    const f32 = programCost(dense("f32"));
    expect(f32.tensors[0]!.kernel).toBe("matrix-product-epilogue");
    expect(f32.blockedFlops.wasm).toBe(f32.blockedFlops.js);
    expect(f32.blockedFlops.js).toBeGreaterThanOrEqual(2 * 8 ** 3);
    const f64 = programCost(dense("f64"));
    expect(f64.blockedFlops).toEqual({ js: f32.blockedFlops.js, wasm: 0 });
  });

  it("reads a tensor accessed twice in one def once, at its element size", () => {
    const p = parseProgramText("input x: f64[10]\noutput y: f32[10] = [i:10] x[i] * x[i] + 1\n");
    const [y] = programCost(p).tensors;
    expect(y!.flops).toBe(20);
    expect(y!.bytesRead).toBe(80);
    expect(y!.bytesWritten).toBe(40);
    expect([elementBytes("f32"), elementBytes("f64"), elementBytes("i32")]).toEqual([4, 8, 4]);
  });

  it("counts nothing for an operator over constants only, as the backends fold it", () => {
    const p = parseProgramText("input x: f32[10]\noutput y: f32[10] = [i:10] x[i] / sqrt(64) + -(2)\n");
    expect(programCost(p).flops).toBe(20);
  });

  it("costs attention term by term, with the softmax denominator hoisted", () => {
    const n = 16, d = 8;
    const p = parseProgramText(`
sizes d=${d}, n=${n}
input Q: f32[${n}, ${d}]
input K: f32[${n}, ${d}]
input V: f32[${n}, ${d}]
S: f32[${n}, ${n}] = [i:${n}, j:${n}] sum(k:${d}) Q[i, k] * K[j, k] / 2
M: f32[${n}] = [i:${n}] max(j:${n}) S[i, j]
E: f32[${n}, ${n}] = [i:${n}, j:${n}] exp(S[i, j] - M[i])
P: f32[${n}, ${n}] = [i:${n}, j:${n}] E[i, j] / sum(k:${n}) E[i, k]
output O: f32[${n}, ${d}] = [i:${n}, e:${d}] sum(j:${n}) P[i, j] * V[j, e]
`);
    const cost = programCost(p);
    const flops = Object.fromEntries(cost.tensors.map((t) => [t.name, t.flops]));
    expect(flops).toEqual({
      S: 3 * n * n * d, // a multiply, a divide and an add per (i, j, k)
      M: n * n, // one max per (i, j)
      E: 2 * n * n, // a subtract and an exp per (i, j)
      P: 2 * n * n, // a divide per (i, j); the sum once per i, n adds each
      O: 2 * n * n * d,
    });
    expect(cost.flops).toBe(5 * n * n * d + 5 * n * n);
    const f = 4;
    expect(cost.bytesMoved).toBe(
      f * ((2 * n * d + n * n) + (n * n + n) + (n * n + n + n * n) + (2 * n * n) + (n * n + n * d + n * d)),
    );
    expect(cost.largestIntermediate).toEqual({ name: "S", elements: n * n, bytes: f * n * n });
    // Live at E: the inputs and output, then S (read by E), M and E itself.
    expect(cost.peakMemory).toMatchObject({ liveBytes: f * (4 * n * d + 2 * n * n + n), at: "E", live: ["Q", "K", "V", "S", "M", "E", "O"] });
    // The planned peak: the output lives from its def on, so S's space is free for it.
    expect(cost.peakMemory.bytes).toBe(planMemory(lowerToKernels(p)).bytes);
    expect(cost.peakMemory.bytes).toBeLessThan(cost.peakMemory.liveBytes);
  });

  it("computes a nested reduction once per combination of its own free variables", () => {
    const n = 10;
    const p = parseProgramText(`
input A: f32[${n}, ${n}]
input B: f32[${n}, ${n}]
output O: f32[${n}] = [i:${n}] sum(j:${n}) A[i, j] * sum(k:${n}) B[j, k]
output R: f32[${n}] = [i:${n}] sum(j:${n}) sum(k:${n}) B[j, k] * A[i, j]
`);
    // O: the inner sum depends on j only: n·n adds once, then a multiply and an add per (i, j).
    expect(defFlops(def(p, "O"))).toBe(n * n + 2 * n * n);
    // R: directly nested sums run as one loop nest over (i, j, k): a multiply and an add per point.
    expect(defFlops(def(p, "R"))).toBe(2 * n ** 3);
  });

  it("counts a def's top-level reduction once per output point even when it ignores an output index", () => {
    const p = parseProgramText("input A: f32[4, 5]\noutput D: f32[4, 3] = [i:4, j:3] sum(k:5) A[i, k]\n");
    expect(defFlops(def(p, "D"))).toBe(4 * 3 * 5);
  });

  it("tracks liveness along a chain: a tensor lives from its def to its last reader", () => {
    const p = parseProgramText(`
input x: f32[100]
a: f32[100] = [i:100] x[i] * 2
b: f32[100] = [i:100] a[i] + 1
c: f32[100] = [i:100] b[i] * b[i]
output d: f32[100] = [i:100] c[i] - 1
`);
    const cost = programCost(p);
    // x and d always; a and b together while b is computed, b and c while c is.
    expect(cost.peakMemory).toEqual({ bytes: 800, liveBytes: 1600, at: "b", live: ["x", "a", "b", "d"] });
    // Planned: b, c and d each overwrite their operand in place, so x and one slot of 400 bytes.
    expect(cost.flops).toBe(400); // one operator per element in each of the four defs
    expect(cost.largestIntermediate).toEqual({ name: "a", elements: 100, bytes: 400 });
    // Reading a again at the end keeps it alive throughout: one more tensor at the peak.
    const longer = parseProgramText(`
input x: f32[100]
a: f32[100] = [i:100] x[i] * 2
b: f32[100] = [i:100] a[i] + 1
c: f32[100] = [i:100] b[i] * b[i]
output d: f32[100] = [i:100] c[i] - a[i]
`);
    // Planned: a is held to the end; b overwrites nothing (a lives on), c overwrites b, d overwrites c.
    expect(programCost(longer).peakMemory).toEqual({ bytes: 1200, liveBytes: 2000, at: "c", live: ["x", "a", "b", "c", "d"] });
  });

  it("costs a call as its function's body, its intermediates live while it runs", () => {
    const withCall = parseProgramText(`
fn f(X: f32[4]) -> Y {
  T: f32[4] = [i:4] exp(X[i])
  Y: f32[4] = [i:4] T[i] * 2
}
input A: f32[4]
output B: f32[4] = call f(A)
`);
    const inlined = runPasses(withCall, [inlineCalls]).program;
    const a = programCost(withCall);
    const b = programCost(inlined);
    expect(a.tensors).toEqual([{ name: "B", role: "call", flops: 8, bytesRead: 32, bytesWritten: 32, elements: 4, bytes: 16, kernel: "call", wasmKernel: "call", wasmSeconds: a.wasmSeconds }]);
    expect(a.flops).toBe(b.flops);
    expect(a.bytesMoved).toBe(b.bytesMoved);
    expect(a.peakMemory.bytes).toBe(b.peakMemory.liveBytes);
    expect(a.peakMemory.bytes).toBe(48);
    // Planned after inlining: B overwrites T in place.
    expect(b.peakMemory.bytes).toBe(32);
  });

  it("agrees with contraction-path's naive and optimized FLOPs on a split chain", () => {
    const p = parseProgramText(`
input A: f32[64, 64]
input B: f32[64, 64]
input C: f32[64, 8]
input x: f32[8, 32]
output D: f32[64, 32] = [i:64, m:32] sum(j:64, k:64, l:8) A[i, j] * B[j, k] * C[k, l] * x[l, m]
`);
    const { program: after, notes } = orderContractionsWithNotes(p);
    expect(notes).toHaveLength(1);
    const info = notes[0]!.info;
    expect(programCost(p).flops).toBe(info.naiveFlops);
    expect(programCost(after).flops).toBe(info.optimizedFlops);
    expect(programCost(after).flops).toBeLessThan(programCost(p).flops);
    expect(notes[0]!.intermediates).toEqual(after.tensors.filter((t) => t.role === "def" && !t.output).map((t) => t.name));
  });

  it("is logged after each pass with cost: true, beside order-contractions' notes", () => {
    const p = parseProgramText("input A: f32[32, 32]\ninput B: f32[32, 32]\ninput C: f32[32, 4]\noutput D: f32[32, 4] = [i:32, l:4] sum(j:32, k:32) A[i, j] * B[j, k] * C[k, l]\n");
    const { program, log } = runPasses(p, [orderContractions, eliminateDeadCode], { cost: true });
    expect(log.map((e) => e.cost)).toEqual([programCost(program), programCost(program)]);
    expect(log[0]!.notes).toEqual(orderContractionsWithNotes(p).notes);
    expect(log[0]!.notes![0]).toMatchObject({ kind: "contraction-path", tensor: "D", intermediates: ["D_p1"], info: { equation: "ij,jk,kl->il" } });
    expect(log[1]!.notes).toBeUndefined();
    expect(runPasses(p, [orderContractions]).log[0]!.cost).toBeUndefined();
  });
});
