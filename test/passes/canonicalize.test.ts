import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printExpr, printProgram } from "../../src/ir/print.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { canonicalize } from "../../src/passes/canonicalize.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

function body(p: Program, name: string): string {
  const d = p.tensors.find((t) => t.name === name) as DefNode;
  return printExpr(d.body);
}

const MIXED = `
input A: f32[4, 3]
input B: f32[3]
input C: f32[4]
Y: f32[4] = [i:4] sum(j:3) sum(k:3) (A[i, k] * 1 + (B[j] + C[i])) / 4
Z: f32[4] = [i:4] max(C[i], max(A[i, 0], C[i] * 2)) + -(-C[i]) + 0
W: f32[4] = [i:4] where(C[i] > A[i, 1], C[i] == A[i, 2], B[1] / 3)
output O: f32[4] = [i:4] Y[i] + Z[i] + W[i]
`;

describe("canonicalize", () => {
  it("orders, flattens and simplifies", () => {
    const before = parseProgramText(MIXED);
    const after = applyPass(canonicalize, before);
    expect(body(after, "Y")).toBe("sum(j, k) 0.25 * (A[i, k] + B[j] + C[i])");
    expect(body(after, "Z")).toBe("0 + C[i] + max(max(A[i, 0], C[i]), 2 * C[i])");
    expectGolden("canonicalize/mixed", `${printProgram(before)}\n# after canonicalize\n${printProgram(after)}`);
    expectSameValues(before, after);
  });

  it("drops + 0 only where the other operand cannot be -0", () => {
    const p = parseProgramText("input A: f32[3]\noutput Y: f32[3] = [i:3] (A[i] + 0) + (exp(A[i]) + 0) + (A[i] + -0)\n");
    expect(body(applyPass(canonicalize, p), "Y")).toBe("A[i] + A[i] + exp(A[i])");
    const q = parseProgramText("input A: f32[3]\noutput Y: f32[3] = [i:3] A[i] + 0\n");
    expect(body(applyPass(canonicalize, q), "Y")).toBe("0 + A[i]");
  });

  it("turns > into < and keeps division by a non-power of two", () => {
    const after = applyPass(canonicalize, parseProgramText(MIXED));
    expect(body(after, "W")).toBe("where(A[i, 1] < C[i], A[i, 2] == C[i], B[1] / 3)");
  });

  it("does not merge reductions of different operators", () => {
    const p = parseProgramText("input A: f32[2, 3]\noutput Y: f32[] = [] max(i:2) sum(j:3) A[i, j]\n");
    expect(body(applyPass(canonicalize, p), "Y")).toBe("max(i) sum(j) A[i, j]");
  });

  it("gives the same form to the same computation written two ways", () => {
    const a = parseProgramText("input A: f32[3]\ninput B: f32[3]\noutput Y: f32[3] = [i:3] (B[i] * A[i]) * (2 + A[i])\n");
    const b = parseProgramText("input A: f32[3]\ninput B: f32[3]\noutput Y: f32[3] = [i:3] A[i] * ((A[i] + 2) * B[i])\n");
    expect(printProgram(canonicalize.run(a))).toBe(printProgram(canonicalize.run(b)));
  });

  it("is idempotent", () => {
    const once = canonicalize.run(parseProgramText(MIXED));
    expect(printProgram(canonicalize.run(once))).toBe(printProgram(once));
  });
});
