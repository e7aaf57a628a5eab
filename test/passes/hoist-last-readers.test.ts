/**
 * hoist-last-readers: a def moves before an earlier reader of its operand
 * when that reader then reads the operand last, at the element it writes;
 * bodies never change, and the values stay the same.
 */
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { planMemory } from "../../src/backends/kernel/memory-plan.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { hoistLastReaders } from "../../src/passes/hoist-last-readers.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

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
  });
});
