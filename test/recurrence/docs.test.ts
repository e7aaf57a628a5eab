/**
 * The code block of docs/language.md's "Recurrences" section checks as
 * written, and its cumulative sum and two-step recurrence compute what the
 * section says.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { Tensor } from "../../src/runtime/tensor.js";

const LANGUAGE = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");

function recurrencesBlock(): string {
  const start = LANGUAGE.indexOf("### Recurrences\n");
  expect(start).toBeGreaterThanOrEqual(0);
  const m = /```tns\n([\s\S]*?)```/.exec(LANGUAGE.slice(start));
  expect(m).not.toBeNull();
  return m![1]!;
}

describe("docs/language.md: Recurrences", () => {
  it("checks, and computes a cumulative sum and F[t] = F[t - 1] + F[t - 2]", () => {
    const source = `size T = 6, D = 3, H = 4\ninput x[5], a[6], X[T, D], W[D, H], U[H, H], h0[H]\n${recurrencesBlock()}`;
    const { program, diagnostics } = check(source, { file: "doc.tns" });
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    const rec = program!.tensors.filter((t) => t.role === "def" && t.recurrence !== undefined).map((t) => t.name);
    expect(rec).toEqual(["Cs", "Hs", "F"]);
    const zeros = (shape: number[]): Tensor => new Tensor("f32", shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    const out = interpret(program!, {
      x: new Tensor("f32", [5], Float32Array.from([1, 2, 3, 4, 5])), a: new Tensor("f32", [6], new Float32Array(6).fill(1)), X: zeros([6, 3]), W: zeros([3, 4]), U: zeros([4, 4]), h0: zeros([4]),
    });
    expect(Array.from(out.Cs!.data)).toEqual([1, 3, 6, 10, 15]);
    expect(Array.from(out.F!.data)).toEqual([1, 1, 2, 3, 5, 8]);
  });
});
