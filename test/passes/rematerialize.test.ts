/**
 * The rematerialize pass on programs, on the js and wasm backends: under a
 * budget below the program's planned peak, the planned peak and the peak a
 * run measures (the arena's high-water mark) stay within the budget, and
 * the outputs are bitwise those of the program without a budget on the same
 * backend. A budget below the smallest peak found is TNS0701, and the peak
 * it states is a budget that compiles.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compileAsync, type CompiledProgram } from "../../src/compiler.js";
import { loadBackend } from "../../src/backends/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { interpret } from "../../src/interpret.js";
import { heldAtEndBytes, loadMilpSolver, rematerialize } from "../../src/passes/rematerialize.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";

beforeAll(async () => {
  await Promise.all([loadBackend("wasm"), loadMilpSolver()]);
});

/** Three tanh layers and a hand-written backward pass: each activation is read again by the backward. */
const TRAINING = `
size n = 64
input X[n, n], W1[n, n], W2[n, n], W3[n, n]
A1[i, j] = tanh(X[i, k] * W1[k, j])
A2[i, j] = tanh(A1[i, k] * W2[k, j])
A3[i, j] = tanh(A2[i, k] * W3[k, j])
G3[i, j] = A3[i, j] * (1 - A3[i, j])
G2[i, j] = G3[i, k] * W3[j, k] * (1 - A2[i, j] * A2[i, j])
G1[i, j] = G2[i, k] * W2[j, k] * (1 - A1[i, j] * A1[i, j])
output D[i, j] = G1[i, k] * W1[j, k]
`;

/** A U-net: two encoder levels, a bottom, two decoder levels with skip connections. */
const UNET = `
size n = 48
input X[n, n], W1[n, n], W2[n, n], W3[n, n], W4[n, n], W5[n, n]
E1[i, j] = relu(X[i, k] * W1[k, j])
E2[i, j] = relu(E1[i, k] * W2[k, j])
M[i, j] = relu(E2[i, k] * W3[k, j])
D2[i, j] = relu(M[i, k] * W4[k, j]) + E2[i, j]
output D1[i, j] = relu(D2[i, k] * W5[k, j]) + E1[i, j]
`;

function inputsOf(p: CompiledProgram): Record<string, Tensor> {
  return Object.fromEntries(p.inputs.map((t, k) => [t.name, randomTensor(t.shape, t.dtype, 11 + k)]));
}

function bitwiseEqual(a: Tensor, b: Tensor): boolean {
  return a.data.length === b.data.length && a.data.every((v, k) => Object.is(v, b.data[k]));
}

describe("rematerialize", () => {
  for (const backend of ["js", "wasm"] as const) {
    for (const [name, source] of [["training chain", TRAINING], ["U-net", UNET]] as const) {
      it(`keeps the ${name}'s measured peak under the budget on ${backend}, outputs bitwise unchanged`, async () => {
        const base = await compileAsync(source, { backend, threads: 1 });
        const inputs = inputsOf(base);
        const want = base.run(inputs, { measureMemory: true });
        expect(base.measuredPeakBytes()).toBeLessThanOrEqual(base.memory!.peakBytes);
        expect(base.memory!.peakBytes).toBeLessThan(base.memory!.unplannedPeakBytes);
        const budget = base.memory!.peakBytes - 1;
        const p = await compileAsync(source, { backend, threads: 1, memoryBudget: budget, verify: true });
        expect(p.ok, p.formatDiagnostics()).toBe(true);
        const m = p.memory!;
        expect(m.budgetBytes).toBe(budget);
        expect(m.peakBytes).toBeLessThanOrEqual(budget);
        expect(m.recomputed.length).toBeGreaterThan(0);
        expect(m.recomputedFlops).toBeGreaterThan(0);
        expect(m.solver.name).toBe("highs");
        expect(p.passLog.at(-1)!.pass).toBe("rematerialize");
        const got = p.run(inputs, { measureMemory: true });
        const measured = p.measuredPeakBytes()!;
        expect(measured).toBeGreaterThan(0);
        expect(measured).toBeLessThanOrEqual(budget);
        for (const out of base.outputs) expect(bitwiseEqual(got[out.name]!, want[out.name]!), out.name).toBe(true);
      });
    }
  }

  it("names each recomputation and the defs it serves, and the new program verifies and computes the same", () => {
    const program = parseProgramText(`
input x: f32[256]
h: f32[256] = [i:256] exp(x[i])
g: f32[2, 256] = [a:2, i:256] sum(j:256) h[j] * x[i]
z: f32[2, 256] = [a:2, i:256] g[a, i] * g[1 - a, 255 - i]
output y: f32[256] = [i:256] z[0, i] + z[1, i] + h[255 - i]
`);
    // As written, x, h, g and z are live while z is computed: 6 KiB. Computing h again before y: 5 KiB.
    const result = rematerialize(program, { budgetBytes: 5 * 1024 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.report.plannedPeakBeforeBytes).toBe(6 * 1024);
    expect(result.report.peakBytes).toBe(5 * 1024);
    verifyProgram(result.program);
    expect(result.report.recomputed).toEqual([{ tensor: "h", copy: "h_r1", before: ["y"] }]);
    const names = result.program.tensors.map((t) => t.name);
    expect(names).toEqual(["x", "h", "g", "z", "h_r1", "y"]);
    const x = randomTensor([256], "f32", 3);
    expect(interpret(result.program, { x }).y!.data).toEqual(interpret(program, { x }).y!.data);
  });

  it("refuses a budget below the smallest peak it can find with TNS0701, stating a budget that works", async () => {
    const tiny = await compileAsync(TRAINING, { backend: "js", memoryBudget: 1024 });
    expect(tiny.ok).toBe(false);
    const d = tiny.diagnostics.find((x) => x.code === "TNS0701")!;
    expect(d.message).toMatch(/memory budget 1\.0 KiB is below the smallest peak found for this program, [\d.]+ KiB \((\d+) bytes\)/);
    const smallest = Number(/\((\d+) bytes\)/.exec(d.message)![1]);
    // A note names the kernel where that schedule peaks and the buffers it holds there, largest first.
    const peak = d.notes.find((n) => n.message.startsWith("at its peak"))!;
    expect(peak.message).toMatch(/^at its peak \((the kernel that writes \w+|before the first kernel|after the last kernel)\) the smallest schedule found holds \S+ [\d.]+ (B|KiB)/);
    const sizes = [...peak.message.matchAll(/ ([\d.]+) (B|KiB)(?=,| and|$)/g)].map((m) => Number(m[1]) * (m[2] === "KiB" ? 1024 : 1));
    expect(sizes).toEqual([...sizes].sort((x, y) => y - x));
    const fits = await compileAsync(TRAINING, { backend: "js", memoryBudget: smallest });
    expect(fits.ok, fits.formatDiagnostics()).toBe(true);
    expect(fits.memory!.peakBytes).toBeLessThanOrEqual(smallest);
    const below = await compileAsync(TRAINING, { backend: "js", memoryBudget: smallest - 16 });
    expect(below.diagnostics.map((x) => x.code)).toContain("TNS0701");
  });

  it("stores an output that nothing reads late when that lowers the peak, recomputing nothing, with the solver and without", () => {
    const program = parseProgramText(`
input x: f32[1024]
output W: f32[1024] = [i:1024] x[i] * 2
h: f32[1024] = [i:1024] exp(x[i])
g: f32[1024] = [i:1024] h[1023 - i] + 1
output y: f32[1024] = [i:1024] g[1023 - i] * h[1023 - i]
output s: f32[1] = [i:1] y[0] + y[1023]
`);
    // As written x, W, h, g and y are live at y: 20 KiB. With W computed at the last stage (s's, where h and g are dead),
    // W is not held while h and g are: 16 KiB.
    for (const useSolver of [true, false]) {
      const result = rematerialize(program, { budgetBytes: 16 * 1024, useSolver });
      expect(result.ok, String(useSolver)).toBe(true);
      if (!result.ok) return;
      expect(result.report.plannedPeakBeforeBytes).toBe(20 * 1024);
      expect(result.report.peakBytes).toBe(16 * 1024);
      expect(result.report.recomputed).toEqual([]);
      expect(result.report.recomputedFlops).toBe(0);
      expect(result.program.tensors.map((t) => t.name)).toEqual(["x", "h", "g", "y", "W", "s"]);
      const x = randomTensor([1024], "f32", 5);
      const got = interpret(result.program, { x });
      const want = interpret(program, { x });
      for (const name of ["W", "y", "s"]) expect(got[name]!.data).toEqual(want[name]!.data);
    }
  });

  it("states the floor of inputs, weights and outputs held at the last kernel, which no budget below passes", async () => {
    const program = (await compileAsync(TRAINING, { backend: "js" })).ir!;
    // Four 64×64 float32 inputs and one output of the same size.
    expect(heldAtEndBytes(program)).toEqual({ inputs: 4 * 16384, outputs: 16384 });
    const below = rematerialize(program, { budgetBytes: 5 * 16384 - 16 });
    expect(below.ok).toBe(false);
    if (below.ok) return;
    expect(below.smallestBytes).toBeGreaterThanOrEqual(5 * 16384);
    expect(below.diagnostic.notes.map((n) => n.message)).toContain(
      "inputs and weights (64.0 KiB) and outputs (16.0 KiB) are all held at the last kernel: no schedule needs less than 80.0 KiB");
  });

  it("leaves a program that fits alone, and plans with the heuristic when asked to", async () => {
    const base = await compileAsync(UNET, { backend: "js" });
    const roomy = await compileAsync(UNET, { backend: "js", memoryBudget: base.memory!.peakBytes });
    expect(roomy.memory!.solver).toMatchObject({ name: "none", status: "not-needed" });
    expect(roomy.memory!.recomputed).toEqual([]);
    const program = (await compileAsync(UNET, { backend: "js" })).ir!;
    const heuristic = rematerialize(program, { budgetBytes: base.memory!.peakBytes - 1, useSolver: false });
    expect(heuristic.ok).toBe(true);
    if (heuristic.ok) {
      expect(heuristic.report.solver).toMatchObject({ name: "heuristic", status: "solver-off" });
      expect(heuristic.report.peakBytes).toBeLessThan(base.memory!.peakBytes);
    }
  });
});
