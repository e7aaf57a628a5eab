/**
 * Slicing a training step by rows of its batch (passes/slice-batch.ts): the
 * same bits as the whole step where the partial sums are kept in the type
 * the whole reductions' kernels keep their running sums in.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { loadBinaryen, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";
import { compile } from "../../src/index.js";
import { printProgram } from "../../src/ir/print.js";
import type { DefNode, DType, Program } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { randomTensor } from "../../src/runtime/random.js";
import { sliceBatch } from "../../src/passes/slice-batch.js";

/** The js backend's running sums: float64 in its products and scalar accumulators, the output's type when a loop nest sums into its output. */
function jsAccumulator(program: Program): (def: DefNode) => DType | null {
  const kernels = new Map(lowerToKernels(program).kernels.map((k) => [k.target, k]));
  return (def) => {
    const k = kernels.get(def.name)!;
    const product = k.contraction ?? k.epilogueContraction?.contraction;
    if (product !== undefined) return product.scale === undefined ? "f64" : null;
    return k.body.some((s) => s.kind === "fill" && s.buffer === def.name) ? def.dtype : "f64";
  };
}

/** The wasm backend's running sums: float32 in the micro-kernel (not in a skinny form), float64 in scalar accumulators, the output's type when a loop nest sums into its output. */
function wasmAccumulator(program: Program): (def: DefNode) => DType | null {
  const kernels = new Map(lowerToKernels(program).kernels.map((k) => [k.target, k]));
  return (def) => {
    const k = kernels.get(def.name)!;
    const product = k.contraction ?? k.epilogueContraction?.contraction;
    if (product !== undefined) return product.scale === undefined && skinnyPlan(product) === null && def.dtype === "f32" ? "f32" : null;
    return k.body.some((s) => s.kind === "fill" && s.buffer === def.name) ? def.dtype : "f64";
  };
}

beforeAll(async () => {
  await loadBinaryen();
});

const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");

describe("slicing by rows of the batch", () => {
  it("train_mlp (batch 512, 256 hidden) on wasm in 2, 4, 8 slices: the same bits", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    const ir = compile(source, { sizes: { n: 512, hidden: 256 } }).ir!;
    const inputs = Object.fromEntries(ir.tensors.filter((t) => t.role === "input").map((t, k) => [t.name, randomTensor(t.shape, t.dtype, 11 + k)]));
    const want = wasm.compile(ir).executable.run(inputs);
    for (const slices of [2, 4, 8, 16]) {
      const s = sliceBatch(ir, { input: "X", dim: 0, slices, accumulator: wasmAccumulator(ir) });
      expect(s.ok, s.ok ? "" : s.reason).toBe(true);
      if (!s.ok) return;
      const got = wasm.compile(s.program).executable.run(inputs);
      const bad = Object.keys(want).filter((name) => Array.from(got[name]!.data).some((x, q) => !Object.is(x, want[name]!.data[q])));
      const [whole, parts] = [wasm.memoryPlan!(ir).bytes, wasm.memoryPlan!(s.program).bytes];
      console.log(`wasm n=512 slices=${slices}: resumed ${s.resumed.join(",")}; whole ${s.whole.join(",")}; plan ${whole} -> ${parts}; differing ${bad.join(",")}`);
    }
  });

  for (const n of [32, 96]) {
    it(`train_mlp (batch ${n}) in 2, 4 and 8 slices on js: valid IR, the same bits`, () => {
      const ir = compile(source, { sizes: { n } }).ir!;
      const inputs = Object.fromEntries(ir.tensors.filter((t) => t.role === "input").map((t, k) => [t.name, randomTensor(t.shape, t.dtype, 11 + k)]));
      const want = jsBackend.compile(ir).executable.run(inputs);
      for (const slices of [2, 4, 8]) {
        const s = sliceBatch(ir, { input: "X", dim: 0, slices, accumulator: jsAccumulator(ir) });
        expect(s.ok, s.ok ? "" : s.reason).toBe(true);
        if (!s.ok) return;
        expect(verifyProgramErrors(s.program), printProgram(s.program)).toEqual([]);
        const got = jsBackend.compile(s.program).executable.run(inputs);
        for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), `${name}, ${slices} slices`).toEqual(Array.from(want[name]!.data));
        const [whole, parts] = [planMemory(lowerToKernels(ir)).bytes, planMemory(lowerToKernels(s.program)).bytes];
        console.log(`n=${n} slices=${slices}: resumed ${s.resumed.join(",")}; whole ${s.whole.join(",")}; plan ${whole} -> ${parts}`);
      }
    });
  }
});
