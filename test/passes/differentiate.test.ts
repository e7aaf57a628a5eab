/**
 * The differentiate pass on its own: its contract with the pass manager,
 * purity, one backward program per loss, and what it leaves.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { differentiate, differentiateProgram } from "../../src/passes/differentiate.js";
import { inlineCalls, PROPERTIES, runPasses } from "../../src/passes/index.js";

const TWO_GRADS = `input A[4, 5], B[5, 6]
C[i, j] = A[i, k] * B[k, j]
L = sum(i, j) exp(C[i, j])
output dA = grad(L, A)
output dB = grad(L, B)
`;

describe("the differentiate pass", () => {
  it("states its contract", () => {
    expect(differentiate.requires).toEqual([PROPERTIES.noCalls]);
    expect(differentiate.guarantees).toEqual([PROPERTIES.noGrads]);
    const { program } = check(`import softmax from "nn"\ninput X[2, 3]\nP = softmax(X)\nL = sum(i, j) P[i, j] * X[i, j]\noutput d = grad(L, X)\n`);
    expect(() => runPasses(program!, [differentiate])).toThrow(/requires 'no-calls'/);
    const { properties } = runPasses(program!, [inlineCalls, differentiate], { verify: true });
    expect([...properties]).toContain(PROPERTIES.noGrads);
  });

  it("is pure, and returns a program without grad nodes unchanged", () => {
    const { program } = check(TWO_GRADS);
    const before = printProgram(program!);
    const out = differentiateProgram(program!);
    expect(printProgram(program!)).toBe(before);
    expect(out.tensors.some((t) => t.role === "grad")).toBe(false);
    verifyProgram(out);
    const plain = parseProgramText("input x: f32[3]\noutput y: f32[3] = [i:3] 2 * x[i]\n");
    expect(differentiateProgram(plain)).toBe(plain);
  });

  it("builds one backward program for all gradients of a loss", () => {
    const { program } = check(TWO_GRADS);
    const out = differentiateProgram(program!);
    const names = out.tensors.map((t) => t.name);
    // The adjoint of C is built once and read by both gradients.
    expect(names.filter((n) => n.startsWith("grad_C"))).toEqual(["grad_C_L"]);
    expect(names.filter((n) => n.startsWith("grad_A") || n.startsWith("grad_B"))).toEqual(["grad_A_C", "grad_B_C"]);
    // d/dC of sum(exp(C)) is exp(C), and it flows straight to both readers of C.
    expect(printProgram(out)).toMatch(/^grad_C_L: f32\[4, 6\] = \[g0:4, g1:6\] exp\(C\[g0, g1\]\)$/m);
  });

  it("keeps the forward defs and inserts the backward program before the first gradient", () => {
    const { program } = check(TWO_GRADS);
    const out = differentiateProgram(program!);
    const names = out.tensors.map((t) => t.name);
    expect(names.slice(0, 4)).toEqual(["A", "B", "C", "L"]);
    expect(names.slice(-2)).toEqual(["dA", "dB"]);
  });
});
