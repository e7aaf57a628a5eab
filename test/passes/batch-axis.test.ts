/**
 * The batch axis of a program (passes/batch-axis.ts): which defs are
 * row-local, which sum over the batch, and the programs that have no axis
 * to slice, with the reason.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { findBatchAxis } from "../../src/passes/batch-axis.js";

const refusal = (text: string, input = "X"): string => {
  const axis = findBatchAxis(parseProgramText(text), input, 0);
  return axis.ok ? "(none)" : axis.reason;
};

describe("the batch axis", () => {
  it("of train_mlp's training step, after the optimizer: the forward and backward rows, the gradients summed over the batch", () => {
    const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");
    const ir = compile(source).ir!;
    const axis = findBatchAxis(ir, "X", 0);
    expect(axis.ok, axis.ok ? "" : axis.reason).toBe(true);
    if (!axis.ok) return;
    expect(axis.extent).toBe(512);
    expect(axis.dims.get("T")).toBe(0);
    const role = (name: string) => axis.roles.get(name);
    expect(role("H")).toEqual({ kind: "row-local", var: "i", dim: 0 });
    for (const name of ["Z", "M", "LSE", "grad_Z", "grad_H_r_H"]) expect(role(name)?.kind, name).toBe("row-local");
    expect(role("dW2")).toEqual({ kind: "reduction", var: "i", alone: true });
    // The update's sum is under an epilogue: W1 - 0.1 · Σ_i ...
    expect(role("W1_next")).toEqual({ kind: "reduction", var: "i", alone: true });
    // The loss sums over the batch and the classes together.
    expect(role("L")).toEqual({ kind: "reduction", var: "i", alone: false });
    for (const name of ["b1_next", "W2_next", "b2_next"]) expect(role(name)?.kind, name).toBe("untouched");
  });

  it("takes in an input read by the batch index before any def reads it beside the seed", () => {
    const axis = findBatchAxis(parseProgramText(`
input X: f32[6, 3]
input T: f32[6, 2]
U: f32[6, 2] = [i:6, c:2] T[i, c] * 2
H: f32[6, 3] = [i:6, k:3] X[i, k] + U[i, 0]
output S: f32[3] = [k:3] sum(i:6) H[i, k]
`), "X", 0);
    expect(axis.ok && [axis.roles.get("U"), axis.dims.get("T")]).toEqual([{ kind: "row-local", var: "i", dim: 0 }, 0]);
  });

  it("refuses a row computed from a sum over the whole batch (a batch normalization)", () => {
    expect(refusal(`
input X: f32[6, 3]
Mean: f32[3] = [k:3] sum(i:6) X[i, k] / 6
output Y: f32[6, 3] = [i:6, k:3] X[i, k] - Mean[k]
`)).toMatch(/'Y' is computed per row from a sum over the whole batch/);
  });

  it("refuses reads of the axis at an offset, by two variables, or by a variable used another way", () => {
    expect(refusal("input X: f32[6, 3]\noutput Y: f32[5, 3] = [i:5, k:3] X[i + 1, k]\n")).toMatch(/other than by a variable of its own/);
    expect(refusal("input X: f32[6, 3]\noutput G: f32[6, 6] = [i:6, j:6] sum(k:3) X[i, k] * X[j, k]\n")).toMatch(/by two variables/);
    expect(refusal("input X: f32[6, 3]\noutput Y: f32[6, 3] = [i:6, k:3] X[i, k] * i\n")).toMatch(/uses the batch index 'i' other than to read the batch axis/);
    expect(refusal("input X: f32[6, 3]\ninput W: f32[6, 6]\noutput Y: f32[6, 3] = [i:6, k:3] X[i, k] * W[i, i]\n")).toMatch(/cannot join the axis|other than to read/);
    expect(refusal("input Y: f32[6]\noutput Z: f32[6] = [i:6] Y[i]\n", "X")).toMatch(/'X' is not an input/);
    expect(refusal("input X: f32[6, 3]\noutput S: f32[3] = [k:3] sum(i:4) X[i, k]\n")).toMatch(/reads 4 rows of the batch axis, not all 6/);
  });
});
