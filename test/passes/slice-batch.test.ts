/**
 * Slicing a training step by rows of its batch (passes/slice-batch.ts): the
 * same bits as the whole step where the partial sums are kept in the type
 * the whole reductions' kernels keep their running sums in.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { runningSums } from "../../src/backends/kernel/running-sum.js";
import { loadBinaryen, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { compile } from "../../src/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { randomTensor } from "../../src/runtime/random.js";
import { sliceBatch } from "../../src/passes/slice-batch.js";

beforeAll(async () => {
  await loadBinaryen();
});

const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");

describe("slicing by rows of the batch", () => {
  it("train_mlp (batch 512, 256 hidden) on wasm in 2, 4, 8 and 16 slices: the same bits, less memory with more slices", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    const ir = compile(source, { sizes: { n: 512, hidden: 256 } }).ir!;
    const inputs = Object.fromEntries(ir.tensors.filter((t) => t.role === "input").map((t, k) => [t.name, randomTensor(t.shape, t.dtype, 11 + k)]));
    const want = wasm.compile(ir).executable.run(inputs);
    const plans: number[] = [];
    for (const slices of [2, 4, 8, 16]) {
      const s = sliceBatch(ir, { input: "X", dim: 0, slices, accumulator: runningSums(ir, "wasm") });
      expect(s.ok, s.ok ? "" : s.reason).toBe(true);
      if (!s.ok) return;
      const got = wasm.compile(s.program).executable.run(inputs);
      const bad = Object.keys(want).filter((name) => Array.from(got[name]!.data).some((x, q) => !Object.is(x, want[name]!.data[q])));
      expect(bad, `${slices} slices`).toEqual([]);
      expect(s.resumed).toEqual(["dW2", "W1_next", "_t2", "_t3"]);
      // The loss sums over the batch and the classes: it reads Z and LSE concatenated from the slices.
      expect(s.whole).toEqual(["Z", "LSE"]);
      plans.push(wasm.memoryPlan!(s.program).bytes);
    }
    // More slices, less memory: 16 slices plan under half of the whole step's peak.
    expect(plans).toEqual([...plans].sort((a, b) => b - a));
    expect(plans[3]!).toBeLessThan(wasm.memoryPlan!(ir).bytes / 2);
  });

  for (const n of [32, 96]) {
    it(`train_mlp (batch ${n}) in 2, 4 and 8 slices on js: valid IR, the same bits`, () => {
      const ir = compile(source, { sizes: { n } }).ir!;
      const inputs = Object.fromEntries(ir.tensors.filter((t) => t.role === "input").map((t, k) => [t.name, randomTensor(t.shape, t.dtype, 11 + k)]));
      const want = jsBackend.compile(ir).executable.run(inputs);
      for (const slices of [2, 4, 8]) {
        const s = sliceBatch(ir, { input: "X", dim: 0, slices, accumulator: runningSums(ir, "js") });
        expect(s.ok, s.ok ? "" : s.reason).toBe(true);
        if (!s.ok) return;
        expect(verifyProgramErrors(s.program), printProgram(s.program)).toEqual([]);
        const got = jsBackend.compile(s.program).executable.run(inputs);
        for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), `${name}, ${slices} slices`).toEqual(Array.from(want[name]!.data));
      }
    });
  }

  it("a row-local output is concatenated from its slices, the last slice shorter (10 rows in slices of 4): the same bits on js", () => {
    const p = parseProgramText(`
input X: f32[10, 3]
input W: f32[3, 2]
output Y: f32[10, 2] = [i:10, j:2] tanh(sum(k:3) X[i, k] * W[k, j])
output G: f32[3, 2] = [k:3, j:2] sum(i:10) X[i, k] * Y[i, j]
`);
    const s = sliceBatch(p, { input: "X", dim: 0, slices: 3, accumulator: runningSums(p, "js") });
    expect(s.ok, s.ok ? "" : s.reason).toBe(true);
    if (!s.ok) return;
    expect([s.slices, s.rows, s.resumed, s.whole]).toEqual([3, 4, ["G"], ["Y"]]);
    expect(verifyProgramErrors(s.program)).toEqual([]);
    const inputs = { X: randomTensor([10, 3], "f32", 1), W: randomTensor([3, 2], "f32", 2) };
    const want = jsBackend.compile(p).executable.run(inputs);
    const got = jsBackend.compile(s.program).executable.run(inputs);
    for (const name of ["Y", "G"]) expect(Array.from(got[name]!.data), name).toEqual(Array.from(want[name]!.data));
  });

  it("refuses what it cannot slice, with the reason", () => {
    const p = parseProgramText(`
input X: f32[8, 3]
S: f32[3] = [k:3] sum(i:8) X[i, k]
R: f32[3] = [k:3] S[k] * 2
output G: f32[3] = [k:3] sum(i:8) X[i, k] * R[k]
`);
    const s = sliceBatch(p, { input: "X", dim: 0, slices: 2, accumulator: runningSums(p, "js") });
    expect(s.ok ? "" : s.reason).toMatch(/no def is computed row by row|reads what a sum over the batch feeds/);
    const wgsl = sliceBatch(compile(source).ir!, { input: "X", dim: 0, slices: 4, accumulator: runningSums(compile(source).ir!, "wgsl") });
    expect(wgsl.ok ? "" : wgsl.reason).toMatch(/no reduction over the batch can resume its sum on this backend/);
  });
});
