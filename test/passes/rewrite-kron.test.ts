/**
 * Kronecker inlining end to end: examples/kron_matvec.tns and a
 * three-factor product compile to programs that never build A ⊗ B (no
 * tensor has |A|·|B| elements) and compute the same values as without
 * optimization; the 64×64-factor example cuts FLOPs by more than 20×
 * (bench/kron.js times it).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { printProgram } from "../../src/ir/print.js";
import { numel, type Program } from "../../src/ir/types.js";
import { randomInputs } from "../../src/ir/random-program.js";
import { accessedTensors } from "../../src/ir/walk.js";
import { inlineProducts, inlineProductsIn } from "../../src/passes/inline-products.js";
import { runPasses } from "../../src/passes/manager.js";
import { programCost } from "../../src/passes/cost.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import { orderContractions } from "../../src/passes/order-contractions.js";
import { eliminateDeadCode } from "../../src/passes/eliminate-dead-code.js";
import { expectGolden } from "../golden.js";
import { expectSameValues } from "./support.js";

const KRON = readFileSync(new URL("../../examples/kron_matvec.tns", import.meta.url), "utf8");

const KRON3 = `
size p = 2, q = 3, r = 3, s = 2, t = 2, u = 4
input A[p, q], B[r, s], C[t, u], x[q * s * u]
W[(a, b, e), (c, d, f)] = A[a, c] * B[b, d] * C[e, f]
output y[i] = W[i, j] * x[j]
`;

function lowered(src: string, sizes: Record<string, number> = {}): Program {
  const c = compile(src, { sizes, optimize: false, backend: "reference" });
  expect(c.ok, c.formatDiagnostics()).toBe(true);
  return c.loweredIr!;
}

function optimizeKron(p: Program): Program {
  return runPasses(p, [inlineCalls, inlineProducts, orderContractions, eliminateDeadCode], { verify: true }).program;
}

function largest(p: Program): number {
  return Math.max(...p.tensors.map((t) => numel(t.shape)));
}

describe("Kronecker inlining", () => {
  it("never builds A ⊗ B for examples/kron_matvec.tns at small sizes", () => {
    const before = lowered(KRON, { p: 2, q: 3, r: 4, s: 5 });
    const report = inlineProductsIn(runPasses(before, [inlineCalls]).program);
    expect(report.applied).toEqual(["split-index", "split-index", "inline-product-producer", "ungroup-access"]);
    const after = optimizeKron(before);
    expectGolden("rewrite/kron-matvec", `${printProgram(before)}\n# after inline-products, order-contractions, eliminate-dead-code\n${printProgram(after)}`);
    expect(after.tensors.some((t) => numel(t.shape) === 2 * 3 * 4 * 5)).toBe(false);
    expect(after.tensors.map((t) => t.name)).not.toContain("W");
    expectSameValues(before, after);
  });

  it("splits a three-factor product into three pairwise contractions", () => {
    const before = lowered(KRON3);
    const after = optimizeKron(before);
    expectGolden("rewrite/kron3-matvec", `${printProgram(before)}\n# after inline-products, order-contractions, eliminate-dead-code\n${printProgram(after)}`);
    expect(after.tensors.some((t) => numel(t.shape) === 6 * 6 * 8)).toBe(false);
    expect(after.tensors.filter((t) => t.role === "def" && t.name.startsWith("y"))).toHaveLength(3);
    expectSameValues(before, after);
  });

  it("inlines a Kronecker product built from another one (kron(kron(A, B), C))", () => {
    const before = lowered(`
size p = 2, q = 3, r = 2, s = 2, t = 3, u = 2
input A[p, q], B[r, s], C[t, u], x[q * s * u]
W1[(a, b), (c, d)] = A[a, c] * B[b, d]
W2[(i, e), (j, f)] = W1[i, j] * C[e, f]
output y[i] = W2[i, j] * x[j]
`);
    const after = optimizeKron(before);
    expect(after.tensors.map((t) => t.name)).not.toContain("W1");
    expect(after.tensors.map((t) => t.name)).not.toContain("W2");
    expect(largest(after)).toBeLessThan(numel([4 * 3, 6 * 2]) * 3);
    expectSameValues(before, after);
  });

  it("keeps W when the program also returns it, and still computes y without it", () => {
    const before = lowered(`
size p = 4, q = 5, r = 6, s = 7
input A[p, q], B[r, s], x[q * s]
output W[(a, b), (c, d)] = A[a, c] * B[b, d]
output y[i] = W[i, j] * x[j]
`);
    const after = optimizeKron(before);
    expect(after.tensors.find((t) => t.name === "W")?.output).toBe(true);
    const y = after.tensors.filter((t) => t.role === "def" && t.name.startsWith("y"));
    expect(y.length).toBeGreaterThan(1);
    expect(y.every((t) => t.role === "def" && !accessedTensors(t.body).has("W"))).toBe(true);
    expectSameValues(before, after);
  });

  it("returns the program itself when no rule pays", () => {
    const p = lowered("input A[3], B[4]\noutput Z[i, j] = A[i] * B[j]\noutput y[i] = exp(A[i])\n");
    expect(inlineProducts.run(p)).toBe(p);
  });

  it("never builds W at 64×64 factors and cuts the FLOPs by more than 20× (timing lives in bench/kron.js)", () => {
    const sizes = { p: 64, q: 64, r: 64, s: 64 };
    const fast = compile(KRON, { sizes, backend: "js" });
    const slow = compile(KRON, { sizes, backend: "js", optimize: false });
    expect(fast.ir!.tensors.every((t) => numel(t.shape) < 64 ** 4)).toBe(true);
    expect(programCost(slow.ir!).flops / programCost(fast.ir!).flops).toBeGreaterThan(20);
    const inputs = randomInputs(lowered(KRON, sizes), 7);
    const yFast = fast.run(inputs)["y"]!;
    const ySlow = slow.run(inputs)["y"]!;
    for (let k = 0; k < ySlow.data.length; k++) expect(yFast.data[k]).toBeCloseTo(ySlow.data[k]!, 2);
  });
});
