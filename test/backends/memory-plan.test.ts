/**
 * The memory planner: which kernels may write over an operand in place, and,
 * on random programs, that a budget either is met by rematerialization, with
 * the same values and a valid program, or is refused with a smallest peak
 * above it; and that runs over the planned arena (in-place updates, shared
 * space) agree bitwise with the program's own run on both backends.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { bufferLifetimes, planMemory, updatesInPlace } from "../../src/backends/kernel/memory-plan.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { interpret } from "../../src/interpret.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { inlineCalls } from "../../src/passes/index.js";
import { eliminateDeadTensors } from "../../src/passes/eliminate-dead-code.js";
import { loadMilpSolver, rematerialize } from "../../src/passes/rematerialize.js";

beforeAll(async () => {
  await Promise.all([loadBackend("wasm"), loadMilpSolver()]);
});

/** The kernel of the last def of `body` (after `input S: f32[4, 6]` and `input v: f32[4]`). */
function kernelOf(def: string): ReturnType<typeof lowerToKernels>["kernels"][number] {
  const kp = lowerToKernels(parseProgramText(`input S: f32[4, 6]\ninput v: f32[4]\n${def}\n`));
  return kp.kernels.at(-1)!;
}

describe("the peak of a plan", () => {
  it("names the kernel where the live bytes peak and what is held there, largest first, with what it writes over", () => {
    const kp = lowerToKernels(parseProgramText(`input x: f32[1024]
h: f32[1024] = [i:1024] exp(x[i])
g: f32[1024] = [i:1024] h[i] + 1
output y: f32[16] = [i:16] sum(j:64) g[64 * i + j]
`));
    const plan = planMemory(kp);
    // g is written over h; the most is held at y's kernel: x, the place of h and g, and y.
    expect(plan.peak).toEqual({
      kernel: 2, target: "y", held: [{ names: ["x"], bytes: 4096 }, { names: ["h", "g"], bytes: 4096 }, { names: ["y"], bytes: 64 }],
    });
    expect(plan.peak!.held.reduce((a, h) => a + h.bytes, 0)).toBe(plan.liveBytes);
  });
});

describe("updatesInPlace", () => {
  it("allows a kernel that reads the operand only at the element it stores", () => {
    expect(updatesInPlace(kernelOf("output E: f32[4, 6] = [i:4, j:6] S[i, j] + 1"), "S")).toBe(true);
    expect(updatesInPlace(kernelOf("output E: f32[4, 6] = [i:4, j:6] S[i, j] * S[i, j] + v[i]"), "S")).toBe(true);
  });

  it("refuses other reads, accumulation, and matrix products", () => {
    expect(updatesInPlace(kernelOf("output E: f32[6, 4] = [j:6, i:4] S[i, j] + 1"), "S")).toBe(false); // transposed
    expect(updatesInPlace(kernelOf("output E: f32[4, 6] = [i:4, j:6] S[i, j] + S[i, 0]"), "S")).toBe(false); // another element
    expect(updatesInPlace(kernelOf("output E: f32[4, 6] = [i:4, j:6] S[i, j] / sum(k:6) S[i, k]"), "S")).toBe(false); // a row sum
    expect(updatesInPlace(kernelOf("output E: f32[4] = [i:4] sum(k:6) S[i, k]"), "S")).toBe(false); // a reduction
    expect(updatesInPlace(kernelOf("output E: f32[4, 4] = [i:4, j:4] sum(k:6) S[i, k] * S[j, k]"), "S")).toBe(false); // a product
    expect(updatesInPlace(kernelOf("output E: f32[4, 6] = [i:4, j:6] v[i] * 2"), "v")).toBe(false); // broadcast: v[i] read 6 times
  });
});

describe("planMemory", () => {
  it("keeps inputs and weights at the bottom and an output from its kernel to the end", () => {
    const kp = lowerToKernels(parseProgramText(`
input x: f32[16]
a: f32[16] = [i:16] exp(x[i])
output y: f32[16] = [i:16] a[15 - i] * 2
b: f32[16] = [i:16] y[i] + a[i]
output z: f32[16] = [i:16] b[15 - i] - 1
`));
    const plan = planMemory(kp);
    const life = new Map(bufferLifetimes(kp).map((l) => [l.name, l]));
    expect(plan.offsets.get("x")).toBe(0);
    expect(plan.persistentBytes).toBe(64);
    expect(life.get("y")).toMatchObject({ first: 1, last: 4 });
    expect(life.get("a")).toMatchObject({ first: 0, last: 2 });
    // b overwrites a in place (b reads a[i] and stores b[i]); z cannot overwrite b (reversed read).
    expect(plan.inPlace).toEqual([{ kernel: 2, target: "b", over: "a" }]);
    expect(plan.bytes).toBe(64 * 4);
    expect(plan.unplannedBytes).toBe(64 * 5);
  });

  it("runs random programs over the planned arena with the values of the interpreter (js)", () => {
    fc.assert(
      fc.property(arbProgram({ calls: false }), fc.integer({ min: 0, max: 1000 }), (program, seed) => {
        const plan = planMemory(lowerToKernels(program));
        expect(plan.bytes).toBeLessThanOrEqual(plan.unplannedBytes);
        expect(plan.liveBytes).toBeLessThanOrEqual(plan.bytes);
        const inputs = randomInputs(program, seed);
        const { executable } = jsBackend.compile(program);
        const got = executable.run(inputs, { measureMemory: true });
        expect(executable.measuredPeakBytes!()).toBeLessThanOrEqual(plan.bytes);
        const want = interpret(program, inputs);
        for (const [name, t] of Object.entries(want)) {
          const g = got[name]!;
          t.data.forEach((v, k) => {
            const scale = Math.max(1, Math.abs(v));
            if (Number.isFinite(v)) expect(Math.abs(g.data[k]! - v) / scale, name).toBeLessThan(1e-3);
          });
        }
      }),
      { numRuns: 150, seed: 424242 },
    );
  });
});

describe("rematerialize on random programs", () => {
  it("meets a budget below the planned peak with the same values, or refuses it stating a larger smallest peak", () => {
    let met = 0;
    fc.assert(
      fc.property(arbProgram({ calls: false, maxDefs: 10, maxExtent: 6 }), fc.integer({ min: 0, max: 1000 }), fc.boolean(), (raw, seed, useSolver) => {
        const program = eliminateDeadTensors(inlineCalls.run(raw));
        const before = planMemory(lowerToKernels(program)).bytes;
        const budget = before - 16;
        const result = rematerialize(program, { budgetBytes: budget, useSolver, timeLimitMs: 500 });
        if (!result.ok) {
          expect(result.diagnostic.code).toBe("TNS0701");
          expect(result.smallestBytes).toBeGreaterThan(budget);
          return;
        }
        met++;
        verifyProgram(result.program);
        expect(result.report.peakBytes).toBeLessThanOrEqual(budget);
        expect(planMemory(lowerToKernels(result.program)).bytes).toBe(result.report.peakBytes);
        const inputs = randomInputs(program, seed);
        const want = interpret(program, inputs);
        const got = interpret(result.program, inputs);
        for (const [name, t] of Object.entries(want)) expect(Array.from(got[name]!.data), name).toEqual(Array.from(t.data));
      }),
      { numRuns: 120, seed: 31337 },
    );
    expect(met).toBeGreaterThan(0);
  });
});
