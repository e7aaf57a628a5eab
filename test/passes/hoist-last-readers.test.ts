/**
 * hoist-last-readers: a def moves before an earlier reader of its operand
 * when that reader then reads the operand last, at the element it writes;
 * bodies never change, and the values stay the same.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";
import { interpret } from "../../src/ir/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { hoistLastReaders } from "../../src/passes/hoist-last-readers.js";
import { expectGolden } from "../golden.js";
import { fuzzParameters } from "../fuzz/support.js";
import { applyPass, expectSameValues, inputsFor } from "./support.js";

/** A backward step: the masked gradient G reads H at its own element, the weight gradient dW reads H after it. */
const backward = (options: { gOffset?: boolean; hOutput?: boolean; dwFirst?: string; between?: string } = {}): string => `
input X: f32[8, 6]
input W: f32[6, 5]
input dY: f32[8, 5]
input V: f32[5, 5]
${options.hOutput ? "output " : ""}H: f32[8, 5] = [i:8, j:5] relu(sum(k:6) X[i, k] * W[k, j])
${options.dwFirst ?? ""}
G: f32[8, 5] = [i:8, j:5] (sum(c:5) V[j, c] * dY[i, c]) * (0 < H[i, ${options.gOffset ? "4 - j" : "j"}])
${options.between ?? ""}
output dW: f32[5, 5] = [j:5, c:5] sum(i:8) H[i, j] * dY[i, c]
output dX: f32[8] = [i:8] sum(j:5) G[i, j]
`;

const names = (text: string): string[] => applyPass(hoistLastReaders, parseProgramText(text)).tensors.map((t) => t.name);

describe("hoist-last-readers", () => {
  it("moves the weight gradient before the masked gradient, which then takes H's bytes in the plan", () => {
    const before = parseProgramText(backward());
    const after = applyPass(hoistLastReaders, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["X", "W", "dY", "V", "H", "dW", "G", "dX"]);
    expect(hoistLastReaders.runWithDerivations(before).derivations).toEqual([
      { rule: "hoist-last-reader", tensor: "dW", detail: "before G, which then reads H last, at the element it writes" },
    ]);
    expectGolden("hoist-last-readers/backward", `${printProgram(before)}\n# after hoist-last-readers\n${printProgram(after)}`);
    expectSameValues(before, after);
    const planBefore = planMemory(lowerToKernels(before));
    const planAfter = planMemory(lowerToKernels(after));
    expect(planBefore.inPlace.some((u) => u.target === "G" && u.over === "H")).toBe(false);
    expect(planAfter.inPlace).toContainEqual(expect.objectContaining({ target: "G", over: "H" }));
    expect(planAfter.bytes).toBeLessThan(planBefore.bytes);
  });

  it("leaves the order alone when the reader reads the operand elsewhere than at the element it writes", () => {
    expect(names(backward({ gOffset: true }))).toEqual(["X", "W", "dY", "V", "H", "G", "dW", "dX"]);
  });

  it("leaves an output operand alone: it lives to the end whatever the order", () => {
    expect(names(backward({ hOutput: true }))).toEqual(["X", "W", "dY", "V", "H", "G", "dW", "dX"]);
  });

  it("does not move a def above what it reads", () => {
    // dW reads E, defined after G: it cannot run before G.
    const text = backward({ between: "E: f32[8, 5] = [i:8, c:5] dY[i, c] * 2" }).replace("H[i, j] * dY[i, c]", "H[i, j] * E[i, c]");
    expect(names(text)).toEqual(["X", "W", "dY", "V", "H", "G", "E", "dW", "dX"]);
  });

  it("keeps the outputs in order: an output does not pass another", () => {
    const text = backward({ between: "output Q: f32[5] = [c:5] sum(i:8) dY[i, c]" });
    expect(names(text)).toEqual(["X", "W", "dY", "V", "H", "G", "Q", "dW", "dX"]);
  });

  it("does not move a def whose output is larger than the operand it frees", () => {
    const text = backward().replace("output dW: f32[5, 5] = [j:5, c:5] sum(i:8) H[i, j] * dY[i, c]", "output dW: f32[5, 5, 8] = [j:5, c:5, i:8] H[i, j] * dY[i, c]");
    expect(names(text)).toEqual(["X", "W", "dY", "V", "H", "G", "dW", "dX"]);
  });

  it("moves each def at most once, and a program with nothing to move comes back as it was", () => {
    const p = parseProgramText("input A: f32[4]\nB: f32[4] = [i:4] A[i] * 2\noutput C: f32[4] = [i:4] B[i] + 1\n");
    expect(hoistLastReaders.run(p)).toBe(p);
    expect(hoistLastReaders.runWithDerivations(p).derivations).toEqual([]);
  });

  it("on random backward-like programs: the same bits, a program that verifies, and where the reader updates in place, no kernel holds more", () => {
    // H, a reader R of H (at its own element or not), a reduction D of H after R (smaller or larger than H), and
    // sometimes H an output, an output or a def between R and D, or D reading that def.
    const shape = fc.record({
      n: fc.integer({ min: 1, max: 5 }), m: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 7 }),
      act: fc.constantFrom("relu", "exp", "tanh"), own: fc.constantFrom(true, true, true, false), reduced: fc.boolean(),
      hOutput: fc.constantFrom(false, false, false, true),
      between: fc.constantFrom("none", "def", "output"), dReadsBetween: fc.boolean(), dOutput: fc.boolean(),
    });
    let moves = 0;
    fc.assert(fc.property(shape, fc.integer({ min: 0, max: 1000 }), (c, seed) => {
      const { n, m, k } = c;
      const hRead = c.own ? "H[i, j]" : `H[i, ${m - 1} - j]`;
      const rBody = c.reduced ? `(sum(c:${k}) V[j, c] * Y[i, c]) * (0 < ${hRead})` : `${hRead} * Y2[i, j] + 1`;
      const between = c.between === "none" ? "" : `${c.between === "output" ? "output " : ""}E: f32[${n}, ${k}] = [i:${n}, c:${k}] Y[i, c] * 2\n`;
      const dOperand = c.dReadsBetween && c.between !== "none" ? "E" : "Y";
      const text = [
        `input X: f32[${n}, ${m}]`, `input W: f32[${m}]`, `input Y: f32[${n}, ${k}]`, `input Y2: f32[${n}, ${m}]`, `input V: f32[${m}, ${k}]`,
        `${c.hOutput ? "output " : ""}H: f32[${n}, ${m}] = [i:${n}, j:${m}] ${c.act}(X[i, j] * 2 + W[j])`,
        `R: f32[${n}, ${m}] = [i:${n}, j:${m}] ${rBody}`,
        between.trimEnd(),
        `${c.dOutput ? "output " : ""}D: f32[${m}, ${k}] = [j:${m}, c:${k}] sum(i:${n}) H[i, j] * ${dOperand}[i, c]`,
        `output Out: f32[${n}] = [i:${n}] sum(j:${m}) R[i, j]`,
        c.dOutput ? "" : `output Out2: f32[${k}] = [c:${k}] sum(j:${m}) D[j, c]`,
      ].filter((l) => l !== "").join("\n") + "\n";
      const before = parseProgramText(text);
      const after = applyPass(hoistLastReaders, before);
      const inputs = inputsFor(before, seed);
      const want = interpret(before, inputs);
      const got = interpret(after, inputs);
      for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), name).toEqual(Array.from(want[name]!.data));
      // Outputs keep their order.
      expect(after.tensors.filter((t) => t.output).map((t) => t.name)).toEqual(before.tensors.filter((t) => t.output).map((t) => t.name));
      if (after === before) return;
      moves++;
      const planBefore = planMemory(lowerToKernels(before));
      const planAfter = planMemory(lowerToKernels(after));
      if (planAfter.inPlace.some((u) => u.target === "R" && u.over === "H")) expect(planAfter.liveBytes).toBeLessThanOrEqual(planBefore.liveBytes);
    }), fuzzParameters(200));
    // The shapes that qualify are common enough that the property sees moves.
    expect(moves).toBeGreaterThan(0);
  });
});
