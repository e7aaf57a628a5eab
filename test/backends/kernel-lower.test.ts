import { describe, expect, it } from "vitest";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { printKernel, printKernels } from "../../src/backends/kernel/print.js";
import type { Kernel, Stmt } from "../../src/backends/kernel/types.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Program } from "../../src/ir/types.js";
import { expectGolden } from "../golden.js";
import { CORPUS } from "./corpus.js";

const kernelOf = (text: string, target?: string): Kernel => {
  const kp = lowerToKernels(parseProgramText(text));
  return target ? kp.kernels.find((k) => k.target === target)! : kp.kernels[kp.kernels.length - 1]!;
};

/** Every statement with the loop variables enclosing it. */
function* walk(stmts: readonly Stmt[], loops: string[] = []): Generator<{ s: Stmt; loops: string[] }> {
  for (const s of stmts) {
    yield { s, loops };
    if (s.kind === "loop") yield* walk(s.body, [...loops, s.var]);
  }
}

describe("lowerToKernels", () => {
  it("orders a matrix product i, k, j and accumulates rows of C in place", () => {
    const k = kernelOf(CORPUS["matmul"]!);
    expect(k.loopOrder).toEqual(["i", "k", "j"]);
    expect(k.body[0]).toEqual({ kind: "fill", buffer: "C", value: 0 });
    const loadA = [...walk(k.body)].find(({ s }) => s.kind === "let" && s.value.kind === "load" && s.value.buffer === "A");
    expect(loadA?.loops).toEqual(["i", "k"]);
    expect(k.contraction).toMatchObject({ m: 3, n: 5, k: 17, a: { rowStride: 17, kStride: 1 }, b: { kStride: 5 } });
  });

  it("computes the attention normalizer once per row, outside the j and e loops", () => {
    const k = kernelOf(CORPUS["attention"]!, "O");
    expect(k.loopOrder).toEqual(["i", "j", "e"]);
    const sums = [...walk(k.body)].filter(({ s }) => s.kind === "declare");
    expect(sums.map((x) => x.loops)).toEqual([["i"]]);
    const inner = [...walk(k.body)].filter(({ loops }) => loops.length === 3);
    expect(inner).toHaveLength(1);
    expect(k.contraction).toBeUndefined();
  });

  it("divides a sum by a constant once, after the reduction loop", () => {
    const k = kernelOf(CORPUS["attention"]!, "S");
    const store = [...walk(k.body)].find(({ s }) => s.kind === "store")!;
    expect(store.loops).toEqual(["i", "j"]);
    expect(printKernel(k)).toContain("S[5*i + j] = t0 / 2.8284271247461903");
  });

  it("hoists a per-row term of a broadcast out of the inner loop", () => {
    const k = kernelOf(CORPUS["layernorm"]!, "Y");
    const lets = [...walk(k.body)].filter(({ s }) => s.kind === "let");
    expect(lets.length).toBeGreaterThan(0);
    for (const l of lets) expect(l.loops).toEqual(["i"]);
  });

  it("puts the contiguous variable of a nested reduction innermost, whatever the order of its variables", () => {
    // The sum of a convolution inside relu(...): canonicalize lists its variables alphabetically (dx before dy).
    const conv = (vars: string) => kernelOf(`
input X: f32[2, 6, 6]
input K: f32[2, 3, 3]
output Y: f32[4, 4] = [y:4, x:4] relu(sum(${vars}) K[ci, dy, dx] * X[ci, dy + y, dx + x])
`);
    for (const vars of ["ci:2, dx:3, dy:3", "ci:2, dy:3, dx:3", "dx:3, dy:3, ci:2"]) {
      const update = [...walk(conv(vars).body)].find(({ s }) => s.kind === "update")!;
      expect(update.loops.at(-1), vars).toBe("dx");
    }
  });

  it("moves the output index innermost when it is contiguous in more accesses", () => {
    expect(kernelOf(CORPUS["transposed-matvec"]!).loopOrder).toEqual(["j", "i"]);
    expect(kernelOf(CORPUS["max-pool"]!).loopOrder).toEqual(["c", "y", "x", "dy", "dx"]);
  });

  it("recognises batched products, with the operands in either order and B transposed", () => {
    expect(kernelOf(CORPUS["batched-matmul"]!).contraction?.batch).toEqual([{ var: "b", extent: 2 }]);
    expect(kernelOf(CORPUS["batched-matmul-shared-b"]!).contraction).toMatchObject({ a: { buffer: "A" }, b: { buffer: "B" } });
    expect(kernelOf(CORPUS["matmul-transposed-b"]!).contraction).toMatchObject({ m: 5, n: 4, k: 3, b: { kStride: 1, colStride: 3 } });
    expect(kernelOf(CORPUS["matmul"]!).contraction?.b.colStride).toBe(1);
  });

  it("lowers a nested sum of a reciprocal (a constant-1 factor must not loop the factoring)", () => {
    const text = "input T0: f32[3]\noutput T2: f32[1] = [i:1] sum(j:2) -2 / (abs(T0[2*i + j]) + 1) + i\n";
    const k = kernelOf(text);
    expect(k.target).toBe("T2");
    expect(printKernel(k)).toContain("for j < 2");
  });

  it("puts a sum that the optimizer factored a term out of back outermost, keeping the contiguous loop order", () => {
    const factored = "input E: f32[8, 8]\ninput V: f32[8, 4]\noutput O: f32[8, 4] = [i:8, e:4] 1 / (sum(j_1:8) E[i, j_1]) * sum(j:8) E[i, j] * V[j, e]\n";
    const plain = "input E: f32[8, 8]\ninput V: f32[8, 4]\noutput O: f32[8, 4] = [i:8, e:4] sum(j:8) E[i, j] * V[j, e] / sum(j_1:8) E[i, j_1]\n";
    expect(kernelOf(factored).loopOrder).toEqual(["i", "j", "e"]);
    expect(kernelOf(factored).loopOrder).toEqual(kernelOf(plain).loopOrder);
  });

  it("rejects a program that still has calls", () => {
    const p: Program = {
      sizes: {},
      tensors: [
        { role: "input", name: "X", dtype: "f32", shape: [2], output: false },
        { role: "call", name: "Y", dtype: "f32", shape: [2], output: true, fn: "f", args: ["X"] },
      ],
      functions: {},
    };
    expect(() => lowerToKernels(p)).toThrow(InternalCompilerError);
  });

  it("prints kernels (golden)", () => {
    for (const name of ["matmul", "attention", "nested-reductions", "conv2d-stride2", "kronecker"]) {
      expectGolden(`kernels-${name}`, printKernels(lowerToKernels(parseProgramText(CORPUS[name]!))));
    }
  });
});
