/**
 * One training step of examples/train_mlp.tns under a memory budget, with
 * its inputs donated (as `tns run` does) or kept: the run's measured
 * high-water mark stays under the budget and every output equals the
 * unbudgeted run's bit for bit, on js and wasm, down to half of the planned
 * peak that `tns explain examples/train_mlp.tns --json` reports
 * (`memory.peakBytes`, default options: nothing donated), by computing the
 * step a slice of the batch's rows at a time.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { compile, loadMilpSolver, type Tensor } from "../../src/index.js";
import { randomTensor } from "../../src/runtime/random.js";

beforeAll(async () => {
  await Promise.all([loadBackend("wasm"), loadMilpSolver()]);
});

const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");

describe("train_mlp under a memory budget", () => {
  // The plan `tns explain examples/train_mlp.tns --json` reports: nothing donated, the js backend (849,984 bytes).
  const planned = compile(source).memory!.peakBytes;
  const data: Record<string, Tensor> = Object.fromEntries(compile(source).inputs.map((info, k) => [info.name, randomTensor(info.shape, info.dtype, 5 + k)]));

  // Kept inputs on js: its partial sums are float64 (js accumulates in float64), twice the gradients' bytes, and
  // half of the plan is out of reach (436,336 bytes is the least found); 55% is not.
  const cases = { js: [[0.5, true], [0.55, false], [0.7, true]], wasm: [[0.5, true], [0.5, false], [0.7, true]] } as const;
  for (const backend of ["js", "wasm"] as const) {
    for (const [share, donate] of cases[backend]) {
      it(`keeps the measured peak under ${Math.round(share * 100)}% of the unbudgeted plan, inputs ${donate ? "donated" : "kept"}, outputs bit for bit (${backend})`, { timeout: 120_000 }, () => {
        const budget = Math.floor(share * planned);
        const base = compile(source, { backend, threads: 1 });
        const want = base.run(data);
        const p = compile(source, { backend, threads: 1, ...(donate ? { donate: "all" as const } : {}), memoryBudget: budget, memoryTimeLimitMs: 10_000 });
        expect(p.ok, p.formatDiagnostics()).toBe(true);
        expect(p.memory!.peakBytes).toBeLessThanOrEqual(budget);
        // No schedule of whole tensors fits: the step runs a slice of the batch's rows at a time.
        expect(p.memory!.solver.name).toBe("batch-slicing");
        expect(p.memory!.slicedBatch).toMatchObject({ input: "X", dim: 0 });
        expect(p.memory!.slicedBatch!.resumed).toEqual(expect.arrayContaining(["dW2", "W1_next"]));
        const got = p.run(data, { measureMemory: true });
        expect(p.measuredPeakBytes()!).toBeLessThanOrEqual(budget);
        for (const out of base.outputs) expect(Array.from(got[out.name]!.data), out.name).toEqual(Array.from(want[out.name]!.data));
      });
    }
  }

  it("refuses a third of the unbudgeted plan, stating the smallest peak it found", { timeout: 120_000 }, () => {
    const p = compile(source, { donate: "all", memoryBudget: Math.floor(planned / 3), memoryTimeLimitMs: 4000 });
    expect(p.ok).toBe(false);
    const d = p.diagnostics[0]!;
    expect(d.code).toBe("TNS0701");
    const smallest = Number(/\((\d+) bytes\)/.exec(d.message)![1]);
    expect(smallest).toBeLessThan(planned / 2);
    expect(smallest).toBeGreaterThan(planned / 3);
  });
});
