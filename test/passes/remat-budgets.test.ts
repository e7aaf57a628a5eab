/**
 * Rematerialization under random feasible budgets, end to end on the js,
 * wasm and wgsl backends. The programs are random forward and backward passes
 * (below), so that holding values costs memory and recomputing them is a
 * choice. For each program, the smallest peak the planner finds (what
 * TNS0701 would state) and the unbudgeted peak bound the budgets that
 * can be met; a budget drawn between them compiles, the planned peak stays
 * within it and the run reaches no more than that peak (the arena's
 * high-water mark; on js, exactly the peak, to the padding of the top
 * buffer), the
 * outputs are bitwise those of the unbudgeted program on the same backend;
 * the reference interpreter gives the budgeted program exactly the values of
 * the unbudgeted one, and the backend agrees with it on the program as
 * checked (float32 against float64).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { backendNamed, loadBackend } from "../../src/backends/index.js";
import { compile, compileAsync } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { randomInputs } from "../../src/ir/random-program.js";
import { loadMilpSolver, rematerialize } from "../../src/passes/rematerialize.js";
import type { Tensor } from "../../src/runtime/tensor.js";

beforeAll(async () => {
  await Promise.all([loadBackend("wasm"), loadBackend("wgsl"), loadMilpSolver()]);
});

/**
 * A random layered program of `m × m` values: a forward pass of products
 * and elementwise functions of the previous layer, another input or an
 * earlier layer, then a backward pass whose step k reads the step after it
 * and forward layer k (so every forward layer is held, or computed again,
 * until the backward pass comes back to it); a few layers are outputs too.
 */
const arbLayers: fc.Arbitrary<string> = fc
  .record({
    m: fc.integer({ min: 4, max: 12 }),
    layers: fc.array(fc.record({ kind: fc.integer({ min: 0, max: 3 }), back: fc.integer({ min: 0, max: 2 }), skip: fc.nat(), output: fc.integer({ min: 0, max: 7 }).map((x) => x === 0) }), { minLength: 2, maxLength: 7 }),
  })
  .map(({ m, layers }) => {
    const lines = [`size m = ${m}`, "input X[m, m], W[m, m]"];
    const forward = (a: string, b: string): string[] => [
      `tanh(${a}[i, k] * ${b}[k, j])`,
      `exp(tanh(${a}[i, j])) * ${b}[j, i]`,
      `tanh(${a}[i, j] + ${b}[i, j])`,
      `tanh(${a}[i, k] * ${b}[j, k]) * (1 - ${a}[i, j] * ${a}[i, j])`,
    ];
    const names = ["X", "W"];
    layers.forEach((l, k) => {
      const prev = k === 0 ? "X" : `F${k - 1}`;
      const other = names[l.skip % names.length]!;
      lines.push(`${l.output ? "output " : ""}F${k}[i, j] = ${forward(prev, other)[l.kind]!}`);
      names.push(`F${k}`);
    });
    const last = layers.length - 1;
    lines.push(`B${last}[i, j] = 1 - F${last}[i, j] * F${last}[i, j]`);
    for (let k = last - 1; k >= 0; k--) {
      const [g, f] = [`B${k + 1}`, `F${k}`];
      const body = [`${g}[i, k] * W[j, k] * (1 - ${f}[i, j] * ${f}[i, j])`, `${g}[i, j] * ${f}[i, j] + ${f}[j, i]`, `tanh(${g}[i, k] * ${f}[k, j])`][layers[k]!.back]!;
      lines.push(`${k === 0 ? "output " : ""}B${k}[i, j] = ${body}`);
    }
    return lines.join("\n") + "\n";
  });

const bitwise = (a: Tensor, b: Tensor): boolean => a.data.length === b.data.length && a.data.every((v, k) => Object.is(v, b.data[k]));

describe("rematerialize under random feasible budgets", () => {
  for (const backend of ["js", "wasm"] as const) {
    it(`meets every budget between the smallest peak found and the unbudgeted one on ${backend}, bitwise`, () => {
      let squeezed = 0;
      fc.assert(
        fc.property(
          arbLayers, fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }),
          (source, seed, where) => {
            const base = compile(source, { backend, threads: 1 });
            expect(base.ok, base.formatDiagnostics()).toBe(true);
            const program = base.loweredIr!;
            const inputs = randomInputs(program, seed);
            const want = base.run(inputs);
            const unbudgeted = base.memory!.peakBytes;
            // The smallest peak the planner finds on this backend: what a budget of nothing is refused with.
            const plan = backendNamed(backend, { threads: 1 }).memoryPlan!;
            const refused = rematerialize(base.ir!, { budgetBytes: 16, plan, timeLimitMs: 300 });
            const smallest = refused.ok ? refused.report.peakBytes : refused.smallestBytes;
            expect(smallest).toBeLessThanOrEqual(unbudgeted);
            const budget = Math.floor(smallest + where * (unbudgeted - smallest));
            const p = compile(source, { backend, threads: 1, memoryBudget: budget, memoryTimeLimitMs: 300 });
            expect(p.ok, p.formatDiagnostics()).toBe(true);
            expect(p.memory!.peakBytes).toBeLessThanOrEqual(budget);
            if (p.memory!.recomputed.length > 0) squeezed++;
            const got = p.run(inputs, { measureMemory: true });
            // The run reaches the planned peak, less at most the padding of the top buffer to the arena's 16-byte alignment
            // (on wasm, the top may be a kernel's scratch space, which a run need not fill).
            expect(p.measuredPeakBytes()!).toBeLessThanOrEqual(p.memory!.peakBytes);
            if (backend === "js") expect(p.measuredPeakBytes()!).toBeGreaterThan(p.memory!.peakBytes - 16);
            // The reference interpreter (float64) gives the budgeted program exactly the values of the unbudgeted one.
            const reference = interpret(base.ir!, inputs);
            const budgeted = interpret(p.ir!, inputs);
            const checked = interpret(program, inputs);
            for (const out of base.outputs) {
              expect(bitwise(got[out.name]!, want[out.name]!), out.name).toBe(true);
              expect(bitwise(budgeted[out.name]!, reference[out.name]!), out.name).toBe(true);
              checked[out.name]!.data.forEach((v, k) => {
                if (Number.isFinite(v)) expect(Math.abs(got[out.name]!.data[k]! - v) / Math.max(1, Math.abs(v)), out.name).toBeLessThan(1e-2);
              });
            }
          },
        ),
        { numRuns: 25, seed: 20261207 },
      );
      // Some of the budgets needed recomputation, so the property is not met by programs that fit anyway.
      expect(squeezed).toBeGreaterThan(0);
    });
  }
  it("meets random feasible budgets on wgsl: the storage buffers a run creates are the plan's, outputs bitwise", async () => {
    let squeezed = 0;
    await fc.assert(
      fc.asyncProperty(arbLayers, fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), async (source, seed, where) => {
        const base = await compileAsync(source, { backend: "wgsl" });
        expect(base.ok, base.formatDiagnostics()).toBe(true);
        const inputs = randomInputs(base.loweredIr!, seed);
        const want = await base.runAsync(inputs);
        expect(base.measuredPeakBytes()).toBe(base.memory!.peakBytes);
        base.dispose();
        const refused = rematerialize(base.ir!, { budgetBytes: 16, plan: backendNamed("wgsl").memoryPlan!, timeLimitMs: 300 });
        const smallest = refused.ok ? refused.report.peakBytes : refused.smallestBytes;
        const budget = Math.floor(smallest + where * (base.memory!.peakBytes - smallest));
        const p = await compileAsync(source, { backend: "wgsl", memoryBudget: budget, memoryTimeLimitMs: 300 });
        expect(p.ok, p.formatDiagnostics()).toBe(true);
        if (p.memory!.recomputed.length > 0) squeezed++;
        const got = await p.runAsync(inputs);
        expect(p.measuredPeakBytes()).toBe(p.memory!.peakBytes);
        expect(p.memory!.peakBytes).toBeLessThanOrEqual(budget);
        for (const out of base.outputs) expect(bitwise(got[out.name]!, want[out.name]!), out.name).toBe(true);
        p.dispose();
      }),
      { numRuns: 6, seed: 20261207 },
    );
    expect(squeezed).toBeGreaterThan(0);
  });
});
