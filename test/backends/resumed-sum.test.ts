/**
 * Resumed sums (IR invariant 12) on every backend: a sum cut into slices,
 * each resuming from the one before, computes the whole sum's value, and
 * where the running sum is kept in the start's type and the kernels add
 * each element's terms in order, its bits.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { kernelForm, lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";
import { skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { printKernels } from "../../src/backends/kernel/print.js";
import { loadBinaryen, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { interpret } from "../../src/ir/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Program } from "../../src/ir/types.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { fuzzParameters } from "../fuzz/support.js";

beforeAll(async () => {
  await loadBinaryen();
});

/**
 * `S = Aᵀ B` over n rows whole, and as slices of the given sizes each
 * resuming from the one before, their running sum in `acc`, rounded to f32
 * at the end (`F`).
 */
function sliced(n: number, k: number, j: number, cuts: readonly number[], acc: "f32" | "f64"): Program {
  const lines = [`input A: f32[${n}, ${k}]`, `input B: f32[${n}, ${j}]`, `output S: f32[${k}, ${j}] = [k:${k}, j:${j}] sum(i:${n}) A[i, k] * B[i, j]`];
  let from = 0;
  cuts.forEach((size, s) => {
    const at = from === 0 ? "i" : `i + ${from}`;
    const sum = `sum(i:${size}) A[${at}, k] * B[${at}, j]`;
    lines.push(s === 0 ? `P0: ${acc}[${k}, ${j}] = [k:${k}, j:${j}] ${sum}` : `P${s}: ${acc}[${k}, ${j}] = resume [k:${k}, j:${j}] P${s - 1}[k, j] + ${sum}`);
    from += size;
  });
  lines.push(`output F: f32[${k}, ${j}] = [k:${k}, j:${j}] P${cuts.length - 1}[k, j]`);
  return parseProgramText(lines.join("\n") + "\n");
}

function inputs(n: number, k: number, j: number, seed: number): Record<string, Tensor> {
  return { A: randomTensor([n, k], "f32", seed), B: randomTensor([n, j], "f32", seed + 7) };
}

describe("resumed sums on the backends", () => {
  it("lower to a loop nest whose accumulator starts from the start's element", () => {
    const kp = lowerToKernels(sliced(10, 3, 2, [4, 6], "f64"));
    const text = printKernels(kp);
    expect(text).toMatch(/fill P1 = P0|= P0\[/);
    expect(kp.kernels.find((kk) => kk.target === "P1")!.reads).toContain("P0");
    // How the cost model and explain see it: a product whose sums start from P0.
    const p = sliced(10, 3, 2, [4, 6], "f32");
    const shapes = new Map(p.tensors.map((t) => [t.name, t.shape] as const));
    const p1 = p.tensors.find((t) => t.name === "P1")!;
    expect(p1.role === "def" && kernelForm(p1, shapes)).toBe("matrix-product");
    expect(lowerToKernels(p).kernels.find((kk) => kk.target === "P1")!.contraction?.start).toBe("P0");
  });

  it("js: slices with a float64 running sum end on the bits of the whole product (float64 accumulation, one rounding)", () => {
    for (const [n, k, j, cuts] of [[10, 3, 2, [4, 6]], [64, 9, 17, [16, 16, 16, 16]], [33, 4, 4, [1, 31, 1]]] as const) {
      const p = sliced(n, k, j, cuts, "f64");
      const out = jsBackend.compile(p).executable.run(inputs(n, k, j, n));
      expect(Array.from(out["F"]!.data)).toEqual(Array.from(out["S"]!.data));
    }
  });

  it("wasm: slices with a float32 running sum, each a product that starts from the last, end on the bits of the whole product", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    for (const [n, k, j, cuts] of [[10, 3, 2, [4, 6]], [64, 9, 17, [16, 16, 16, 16]], [33, 12, 20, [1, 31, 1]], [40, 64, 128, [8, 8, 8, 8, 8]]] as const) {
      const p = sliced(n, k, j, cuts, "f32");
      const kp = lowerToKernels(p);
      expect(kp.kernels.filter((kk) => kk.contraction?.start !== undefined).map((kk) => kk.target)).toEqual(cuts.slice(1).map((_, s) => `P${s + 1}`));
      const out = wasm.compile(p).executable.run(inputs(n, k, j, n));
      expect(Array.from(out["F"]!.data), `${n}x${k}x${j}`).toEqual(Array.from(out["S"]!.data));
    }
  });

  it("js and wasm agree with the interpreter on resumed sums, a start copied into the output or read per element", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    for (const acc of ["f32", "f64"] as const) {
      const p = sliced(24, 5, 7, [8, 8, 8], acc);
      const data = inputs(24, 5, 7, 3);
      const want = interpret(p, data)["F"]!.data;
      for (const exe of [jsBackend.compile(p).executable, wasm.compile(p).executable]) {
        const got = exe.run(data)["F"]!.data;
        for (let q = 0; q < want.length; q++) expect(Math.abs(got[q]! - want[q]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[q]!)));
      }
    }
  });

  it("a start read per element (the summed index innermost): js, wasm and the interpreter agree, and js keeps the whole sum's bits", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    const p = parseProgramText([
      "input A: f32[3, 20]", "input B: f32[4, 20]",
      "output S: f32[3, 4] = [k:3, j:4] sum(i:20) A[k, i] * B[j, i]",
      "P0: f64[3, 4] = [k:3, j:4] sum(i:7) A[k, i] * B[j, i]",
      "P1: f64[3, 4] = resume [k:3, j:4] P0[k, j] + sum(i:13) A[k, i + 7] * B[j, i + 7]",
      "output F: f32[3, 4] = [k:3, j:4] P1[k, j]",
    ].join("\n") + "\n");
    const kernel = lowerToKernels(p).kernels.find((kk) => kk.target === "P1")!;
    expect(printKernels({ ...lowerToKernels(p), kernels: [kernel] })).toMatch(/t\d+ = P0\[/);
    const data = { A: randomTensor([3, 20], "f32", 4), B: randomTensor([4, 20], "f32", 5) };
    const want = interpret(p, data)["F"]!.data;
    const js = jsBackend.compile(p).executable.run(data);
    expect(Array.from(js["F"]!.data)).toEqual(Array.from(js["S"]!.data));
    const got = wasm.compile(p).executable.run(data)["F"]!.data;
    for (let q = 0; q < want.length; q++) expect(Math.abs(got[q]! - want[q]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[q]!)));
  });

  it("the plan writes each slice over the one before (it reads it only at the element it writes)", () => {
    const plan = planMemory(lowerToKernels(sliced(10, 3, 2, [4, 3, 3], "f64")));
    expect(plan.inPlace).toContainEqual(expect.objectContaining({ target: "P1", over: "P0" }));
    expect(plan.inPlace).toContainEqual(expect.objectContaining({ target: "P2", over: "P1" }));
  });

  it("on random shapes and cuts: js (float64 slices) and wasm (float32 slices) end on the whole product's bits, unless the whole is a skinny kernel on wasm", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    const shape = fc.record({ n: fc.integer({ min: 2, max: 40 }), k: fc.integer({ min: 1, max: 20 }), j: fc.integer({ min: 1, max: 20 }), seed: fc.integer({ min: 0, max: 999 }) })
      .chain((c) => fc.uniqueArray(fc.integer({ min: 1, max: c.n - 1 }), { minLength: 1, maxLength: Math.min(4, c.n - 1) }).map((points) => ({ ...c, points: [...points].sort((a, b) => a - b) })));
    fc.assert(fc.property(shape, ({ n, k, j, seed, points }) => {
      const cuts = [...points, n].map((p, q) => p - (q === 0 ? 0 : points[q - 1]!));
      const data = inputs(n, k, j, seed);
      for (const [backend, acc] of [[jsBackend, "f64"], [wasm, "f32"]] as const) {
        const p = sliced(n, k, j, cuts, acc);
        const out = backend.compile(p).executable.run(data);
        const what = `${backend.name} ${n}x${k}x${j} cuts ${cuts.join(",")}`;
        // The skinny forms group the terms of a sum (docs/wasm.md): a whole product on one of them is not in k order.
        const whole = lowerToKernels(p).kernels.find((kk) => kk.target === "S")!.contraction;
        if (backend === wasm && whole !== undefined && skinnyPlan(whole) !== null) {
          const [got, want] = [out["F"]!.data, out["S"]!.data];
          for (let q = 0; q < want.length; q++) expect(Math.abs(got[q]! - want[q]!), what).toBeLessThan(1e-5 * (1 + Math.abs(want[q]!)));
        } else {
          expect(Array.from(out["F"]!.data), what).toEqual(Array.from(out["S"]!.data));
        }
      }
    }), fuzzParameters(60));
  });
});
