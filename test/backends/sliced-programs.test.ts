/**
 * Slicing inside compiled programs (`maxIntermediateBytes`): a network whose
 * cheapest tree forms an intermediate 16 times over the limit runs on the
 * js, wasm and wgsl backends with every tensor the contraction forms within
 * the limit, the memory plan's peak of those tensors within it too, the
 * same values as the unsliced program, and the FLOPs slicing added in the
 * pass notes and in `tns explain`.
 */
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";
import { explainProgram, printExplainReport } from "../../src/cli/commands/explain.js";
import { check, compile, compileAsync, type CompiledProgram } from "../../src/compiler.js";
import type { Program } from "../../src/ir/types.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { relativeError } from "./support.js";

/** Four n×n×n tensors on the edges of a tetrahedron: the cheapest tree forms an n⁴ intermediate (256 KiB at n = 16, f32). */
const SOURCE = `
size n = 16
input A[n, n, n], B[n, n, n], C[n, n, n], D[n, n, n]
output O[f] = A[a, b, c] * B[a, d, e] * C[b, d, f] * D[c, e, f]
`;
const LIMIT = 16 * 1024;
const INPUTS: Record<string, Tensor> = Object.fromEntries(["A", "B", "C", "D"].map((name, k) => [name, randomTensor([16, 16, 16], "f32", 7 + k)]));

/** Bytes of the tensors the contraction forms (not inputs, not the output): the largest, and the most held at once. */
function intermediateMemory(ir: Program): { largest: number; peak: number } {
  const kp = lowerToKernels(ir);
  const plan = planMemory(kp);
  const formed = plan.lifetimes.filter((l) => !l.persistent && !kp.outputs.includes(l.name));
  let peak = 0;
  for (let k = 0; k < kp.kernels.length; k++) {
    peak = Math.max(peak, formed.filter((l) => l.first <= k && k <= l.last).reduce((a, l) => a + l.bytes, 0));
  }
  return { largest: Math.max(0, ...formed.map((l) => l.bytes)), peak };
}

function slicingNote(p: CompiledProgram) {
  return p.passLog.flatMap((e) => e.notes ?? []).find((n) => n.slicing !== undefined)?.slicing;
}

const unsliced = compile(SOURCE, { backend: "js" });
const want = unsliced.run(INPUTS)["O"]!;

describe("slicing inside compiled programs", () => {
  it("the unsliced program forms an intermediate 16 times the limit", () => {
    expect(unsliced.ok).toBe(true);
    expect(intermediateMemory(unsliced.ir!).largest).toBe(16 * LIMIT);
    expect(slicingNote(unsliced)).toBeUndefined();
  });

  it("runs under the limit on js and agrees with the unsliced program; the note says what slicing added", () => {
    const p = compile(SOURCE, { backend: "js", maxIntermediateBytes: LIMIT, verify: true });
    expect(p.ok).toBe(true);
    const mem = intermediateMemory(p.ir!);
    expect(mem.largest).toBeLessThanOrEqual(LIMIT);
    expect(mem.peak).toBeLessThanOrEqual(LIMIT);
    const got = p.run(INPUTS, { measureMemory: true })["O"]!;
    expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(1e-5);
    // The measured high-water mark: the inputs, the output, and the slices' tensors.
    const inputs = 4 * 16 ** 3 * 4;
    expect(p.measuredPeakBytes()!).toBeLessThanOrEqual(inputs + LIMIT + 64);
    expect(p.measuredPeakBytes()!).toBeLessThan(unsliced.memory!.peakBytes);
    const s = slicingNote(p)!;
    expect(s.refused).toBeNull();
    expect(s.slices).toBeGreaterThanOrEqual(16);
    expect(s.largestIntermediate * 4).toBeLessThanOrEqual(LIMIT);
    expect(s.extraFlops).toBeGreaterThan(0);
    expect(s.extraFlops).toBeLessThan(0.01 * s.flops);
  });

  it("runs under the limit on wasm", async () => {
    await loadBackend("wasm");
    const p = await compileAsync(SOURCE, { backend: "wasm", maxIntermediateBytes: LIMIT, threads: 1 });
    expect(p.ok).toBe(true);
    expect(intermediateMemory(p.ir!).peak).toBeLessThanOrEqual(LIMIT);
    const got = p.run(INPUTS, { measureMemory: true })["O"]!;
    expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(1e-5);
    expect(p.memory!.peakBytes).toBeLessThan(unsliced.memory!.peakBytes);
  });

  it("runs under the limit on wgsl", async () => {
    await loadBackend("wgsl");
    const p = await compileAsync(SOURCE, { backend: "wgsl", maxIntermediateBytes: LIMIT });
    expect(p.ok).toBe(true);
    try {
      expect(intermediateMemory(p.ir!).peak).toBeLessThanOrEqual(LIMIT);
      const got = (await p.runAsync(INPUTS))["O"]!;
      expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(1e-4);
    } finally {
      p.dispose();
    }
  });

  it("under a memory budget, slices to what the budget leaves beside the inputs, and fits the budget", async () => {
    const inputs = 4 * 16 ** 3 * 4;
    const budget = inputs + 2 * LIMIT;
    // The 256 KiB intermediate can never fit beside the inputs: sliced to the 32 KiB left.
    const p = await compileAsync(SOURCE, { backend: "js", memoryBudget: budget });
    expect(p.ok, p.formatDiagnostics()).toBe(true);
    const s = slicingNote(p)!;
    expect(s.limitBytes).toBe(2 * LIMIT);
    expect(s.refused).toBeNull();
    expect(p.memory!.peakBytes).toBeLessThanOrEqual(budget);
    const got = p.run(INPUTS)["O"]!;
    expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(1e-5);
  });

  it("explain names the sliced indices and the FLOPs slicing added", () => {
    const program = check(SOURCE).program!;
    const report = explainProgram(program, { maxIntermediateBytes: LIMIT });
    const c = report.contractions[0]!;
    expect(c.slicing?.refused).toBeNull();
    const text = printExplainReport(report, "none").join("\n");
    expect(text).toMatch(/Sliced under:\s+16384 bytes \(4096 elements\)/);
    expect(text).toMatch(/Sliced labels:\s+.+: \d+ slices/);
    expect(text).toMatch(/FLOPs when sliced:\s+\S+ \(\S+ added, \d+\.\d%\)/);
  });

  it("a limit that needs more than 256 slices is TNS0720, from compile and from explain", () => {
    const p = compile(SOURCE, { backend: "js", maxIntermediateBytes: 256 });
    expect(p.ok).toBe(false);
    expect(p.diagnostics[0]).toMatchObject({ code: "TNS0720", severity: "error" });
    expect(p.diagnostics[0]!.message).toMatch(/cannot be sliced to fit: it needs \d+ slices/);
    expect(() => explainProgram(check(SOURCE).program!, { maxIntermediateBytes: 256 })).toThrow(/TNS0720|cannot be sliced/);
  });

  it("refuses a maxIntermediateBytes that is not a positive number", () => {
    expect(() => compile(SOURCE, { maxIntermediateBytes: 0 })).toThrow(TypeError);
    expect(() => compile(SOURCE, { maxIntermediateBytes: "1MiB" as unknown as number })).toThrow(/maxIntermediateBytes/);
  });
});
