/**
 * The backward program is ordinary IR, so the optimizer treats it like the
 * forward one: the gradient of a matrix product is a matrix product (the
 * backends' blocked kernel), the gradient of a chain of products goes
 * through the contraction-path search, and the gradient of a convolution by
 * its input is a convolution.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { programCost } from "../../src/passes/cost.js";
import { defaultPipeline, loweringPipeline, runPasses } from "../../src/passes/index.js";

function optimized(source: string): { program: Program; notes: string[] } {
  const { program, diagnostics } = check(source);
  expect(diagnostics).toEqual([]);
  const { program: out, log } = runPasses(program!, defaultPipeline(), { verify: true });
  const notes = log.flatMap((e) => (e.notes ?? []).map((n) => n.tensor));
  return { program: out, notes };
}

const def = (p: Program, name: string): DefNode => p.tensors.find((t): t is DefNode => t.name === name && t.role === "def")!;

describe("the optimizer on backward programs", () => {
  it("the gradients of a matrix product run as matrix products", () => {
    const { program } = optimized("input A[16, 8], B[8, 12], R[16, 12]\nC[i, j] = A[i, k] * B[k, j]\nL = sum(i, j) C[i, j] * R[i, j]\noutput dA = grad(L, A)\noutput dB = grad(L, B)\n");
    const kernels = new Map(programCost(program).tensors.map((t) => [t.name, t.kernel]));
    expect(kernels.get("dA")).toMatch(/^matrix-product/);
    expect(kernels.get("dB")).toMatch(/^matrix-product/);
  });

  it("the gradient of a chain of products goes through contraction ordering", () => {
    const { program, notes } = optimized(`size n = 16, m = 2
input A[n, n], B[n, n], C[n, m], R[n, m]
D[i, l] = A[i, j] * B[j, k] * C[k, l]
L = sum(i, l) D[i, l] * R[i, l]
output dB = grad(L, B)
`);
    // dB[j, k] = sum(i, l) A[i, j] * R[i, l] * C[k, l]: three factors, split into pairwise products.
    expect(notes.some((t) => t === "dB" || t.startsWith("grad_B"))).toBe(true);
    expect(programCost(program).tensors.filter((t) => t.kernel === "loop-nest").map((t) => t.name)).toEqual([]);
  });

  it("the gradient of a convolution by its input is a convolution with the flipped kernel", () => {
    const { program } = check(`import conv2d from "nn"
input X[3, 10, 9], K[4, 3, 3, 2], R[4, 8, 8]
Y = conv2d(X, K)
L = sum(o, y, x) Y[o, y, x] * R[o, y, x]
output dX = grad(L, X)
`);
    const backward = runPasses(program!, loweringPipeline(), { verify: true }).program;
    const dX = def(backward, "dX");
    const contribution = def(backward, (dX.body as { tensor: string }).tensor);
    const body = contribution.body;
    expect(body.kind).toBe("reduce");
    if (body.kind !== "reduce") return;
    // A sum over the output channel and the window, of the padded output adjoint read at -dy, -dx times the kernel.
    expect([...body.vars].sort()).toEqual(["dx", "dy", "f"]);
    expect(body.body.kind).toBe("binary");
    const text = JSON.stringify(body.body);
    expect(text).toContain('"var":"dy","coef":-1');
    expect(text).toContain('"var":"dx","coef":-1');
    expect(text).not.toContain('"kind":"select"');
    const work = contribution.shape.reduce((a, b) => a * b, 1) * 4 * 3 * 2;
    expect(programCost(backward).tensors.find((t) => t.name === contribution.name)!.flops).toBeLessThanOrEqual(2 * work);
  });
});
