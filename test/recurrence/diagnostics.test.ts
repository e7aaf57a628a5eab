/**
 * Misused recurrences: each gets a located diagnostic with a hint (and no
 * other error), never a crash; a self-read without a base case, a forward
 * or same-point read, a read along two indices, a grouped left side, a
 * recurrence through a second tensor.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";

const CASES: readonly { name: string; source: string; code: string; at: string }[] = [
  { name: "no base case", source: "input x[5]\noutput C[i] = x[i] + C[i - 1]\n", code: "TNS0241", at: "C[i - 1]" },
  { name: "a guard that does not cover the step", source: "input x[5]\noutput C[i] = x[i] + where(i > 0, C[i - 2], 0)\n", code: "TNS0241", at: "C[i - 2]" },
  { name: "a guard on the wrong index", source: "input X[3, 4]\noutput C[b, i] = X[b, i] + where(b > 0, C[b, i - 1], 0)\n", code: "TNS0241", at: "C[b, i - 1]" },
  { name: "a forward read", source: "input x[5]\noutput C[i] = x[i] + where(i < 4, C[i + 1], 0)\n", code: "TNS0240", at: "C[i + 1]" },
  { name: "a read at the same point", source: "input x[5]\noutput C[i] = x[i] + C[i]\n", code: "TNS0240", at: "C[i]" },
  { name: "a step back along two indices", source: "input X[4, 4]\noutput D[i, j] = X[i, j] + where(i > 0, where(j > 0, D[i - 1, j - 1], 0), 0)\n", code: "TNS0242", at: "D[i - 1, j - 1]" },
  { name: "a fixed row", source: "input x[5]\noutput C[i] = x[i] + where(i > 0, C[0], 0)\n", code: "TNS0242", at: "C[0]" },
  { name: "the sequential index elsewhere", source: "input X[4, 4]\noutput D[i, j] = X[i, j] + where(i > 0, D[i - 1, i], 0)\n", code: "TNS0242", at: "D[i - 1, i]" },
  { name: "a grouped left side", source: "input X[2, 3]\noutput D[(a, b)] = X[a, b] + where(b > 0, D[(a, b)], 0)\n", code: "TNS0242", at: "D" },
  { name: "through a second tensor", source: "input x[5]\nA[i] = x[i] + where(i > 0, B[i - 1], 0)\noutput B[i] = 2 * A[i]\n", code: "TNS0243", at: "B" },
];

describe("recurrence diagnostics", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { program, diagnostics } = check(c.source, { file: "r.tns" });
      expect(program).toBeNull();
      const errors = diagnostics.filter((d) => d.severity === "error");
      expect(errors.map((d) => d.code)).toEqual([c.code]);
      const d = errors[0]!;
      expect(d.hint ?? "").not.toBe("");
      expect(d.span).toBeDefined();
      const line = c.source.split("\n")[d.span!.start.line - 1]!;
      expect(line.slice(d.span!.start.column - 1).startsWith(c.at), `${line} at column ${d.span!.start.column}`).toBe(true);
    });
  }

  it("a recurrence in a function body is checked like one at the top level", () => {
    const source = "fn f(x[n]) -> C[n] {\n  C[i] = x[i] + C[i + 1]\n}\ninput v[4]\noutput Y = f(v)\n";
    const { program, diagnostics } = check(source, { file: "r.tns" });
    expect(program).toBeNull();
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["TNS0240"]);
  });
});
