import { describe, expect, test } from "vitest";
import type { Program, TensorNode } from "../../src/ir/types.js";
import { access, binary, num, reduce, unary } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { interpret, interpretAll } from "../../src/ir/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { inlineAllCalls } from "../../src/passes/inline-calls.js";
import { convAndKron, softmaxCall } from "./fixtures.js";

const run = (text: string, inputs: Record<string, Tensor>) => interpret(parseProgramText(text), inputs);

describe("interpret", () => {
  test("matrix product", () => {
    const out = run("input A: f32[2, 3]\ninput B: f32[3, 2]\noutput C: f32[2, 2] = [i:2, j:2] sum(k:3) A[i, k] * B[k, j]\n", {
      A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]),
      B: Tensor.fromArray([[7, 8], [9, 10], [11, 12]]),
    });
    expect(out.C!.dtype).toBe("f64");
    expect(out.C!.toArray()).toEqual([[58, 64], [139, 154]]);
  });

  test("max and min reductions, and reductions of nothing but the identity", () => {
    const out = run("input A: f32[2, 3]\noutput M: f32[2] = [i:2] max(j:3) A[i, j]\noutput N: f32[] = [] min(i:2, j:3) A[i, j]\n", {
      A: Tensor.fromArray([[1, -5, 3], [-4, 0, -2]]),
    });
    expect(out.M!.toArray()).toEqual([3, 0]);
    expect(out.N!.toArray()).toEqual(-5);
  });

  test("strided convolution with an affine index, a causal mask, a Kronecker product with groups", () => {
    const out = interpret(convAndKron(), {
      X: Tensor.fromArray([0, 1, 2, 3, 4, 5, 6, 7]),
      A: Tensor.fromArray([[1, 2], [3, 4]]),
      B: Tensor.fromArray([[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    });
    // Y[y] = sum(dy) X[2y + dy + 1] * W[dy], W = [1, 2, 3]: 1+4+9, 3+8+15, 5+12+21.
    expect(out.Mask!.toArray()).toEqual([[14, -Infinity, -Infinity], [14, 26, -Infinity], [14, 26, 38]]);
    const kr = out.Kr!.toArray() as number[][];
    expect(out.Kr!.shape).toEqual([6, 6]);
    expect(kr[0]![0]).toBe(1); // A[0,0] * B[0,0]
    expect(kr[0]![3]).toBe(2); // A[0,1] * B[0,0]
    expect(kr[4]![1]).toBe(3); // (a=1, b=1), (c=0, d=1): A[1,0] * B[1,1]
    expect(kr[4]![4]).toBe(4);
    expect(kr[0]![1]).toBe(0);
    expect(kr[5]).toEqual([0, 0, 3, 0, 0, 4]);
  });

  test("select on a comparison, index values and unary functions", () => {
    const out = run(
      "input A: f32[3]\noutput R: f32[3] = [i:3] where(A[i] > 0, sqrt(A[i]), i * 10)\noutput U: f32[4] = [i:4] where(i == 0, relu(-2), where(i == 1, sigmoid(0), where(i == 2, rsqrt(4), abs(-3))))\n",
      { A: Tensor.fromArray([4, -1, 0]) },
    );
    expect(out.R!.toArray()).toEqual([2, 10, 20]);
    expect(out.U!.toArray()).toEqual([0, 0.5, 0.5, 3]);
  });

  test("nested reductions with products and powers", () => {
    const out = run("input A: f32[2, 2]\noutput S: f32[] = [] sum(i:2) prod(j:2) pow(A[i, j], 2)\n", { A: Tensor.fromArray([[1, 2], [3, 4]]) });
    expect(out.S!.toArray()).toBe(1 * 4 + 9 * 16);
  });

  test("a call evaluates the function body, as the inlined program does", () => {
    const p = softmaxCall();
    const S = Tensor.fromArray([[0, 0, 0], [0, Math.log(2), Math.log(3)]], "f64");
    const out = interpret(p, { S });
    const rows = out.P!.toArray() as number[][];
    for (const v of rows[0]!) expect(v).toBeCloseTo(1 / 3, 12);
    expect(rows[1]![0]).toBeCloseTo(1 / 6, 12);
    expect(rows[1]![1]).toBeCloseTo(2 / 6, 12);
    expect(rows[1]![2]).toBeCloseTo(3 / 6, 12);
    expect(interpret(inlineAllCalls(p), { S })).toEqual(out);
  });

  test("defs are not rounded to their dtype", () => {
    const out = run("input A: f32[1]\noutput B: i32[1] = [i:1] A[i] / 3\n", { A: Tensor.fromArray([1]) });
    expect(out.B!.toArray()).toEqual([1 / 3]);
  });

  test("weights use their data unless an input overrides it", () => {
    const text = "weight W: f32[2] (data)\noutput B: f32[2] = [i:2] W[i] * 2\n";
    const p = parseProgramText(text, { weights: { W: Float64Array.from([1, 2]) } });
    expect(interpret(p, {}).B!.toArray()).toEqual([2, 4]);
    expect(interpret(p, { W: Tensor.fromArray([5, 6]) }).B!.toArray()).toEqual([10, 12]);
    expect(() => interpret(parseProgramText(text), {})).toThrow(/weight 'W' has no data/);
  });

  test("inputs are read as given, whatever their dtype", () => {
    const out = run("input A: i32[2]\noutput B: f32[2] = [i:2] A[i] + 0.5\n", { A: Tensor.fromArray([3, -1], "i32") });
    expect(out.B!.toArray()).toEqual([3.5, -0.5]);
  });

  test("missing inputs and shape mismatches are clear errors", () => {
    const text = "input A: f32[2, 3]\noutput B: f32[2] = [i:2] A[i, 0]\n";
    expect(() => run(text, {})).toThrow(/missing input 'A' \(f32\[2, 3\]\)/);
    expect(() => run(text, { A: Tensor.fromArray([[1, 2], [3, 4]]) })).toThrow(/input 'A' has shape \[2, 2\], expected \[2, 3\]/);
  });

  test("interpretAll returns every tensor", () => {
    const all = interpretAll(parseProgramText("input A: f32[2]\nT: f32[2] = [i:2] A[i] + 1\noutput U: f32[2] = [i:2] T[i] * T[i]\n"), { A: Tensor.fromArray([1, 2]) });
    expect([...all.keys()]).toEqual(["A", "T", "U"]);
    expect(all.get("T")!.toArray()).toEqual([2, 3]);
  });

  test("a 64×64×64 product runs quickly", () => {
    const n = 64;
    const ramp = (k: number) => Tensor.fromArray(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => ((i * k + j) % 7) - 3)));
    const p: Program = {
      sizes: {},
      tensors: [
        { role: "input", name: "A", dtype: "f32", shape: [n, n], output: false },
        { role: "input", name: "B", dtype: "f32", shape: [n, n], output: false },
        {
          role: "def", name: "C", dtype: "f32", shape: [n, n], output: true, indices: ["i", "j"], groups: [1, 1],
          ranges: { i: n, j: n, k: n },
          body: unary("relu", reduce("sum", ["k"], binary("add", binary("mul", access("A", ["i", "k"]), access("B", ["k", "j"])), num(0)))),
        } as TensorNode,
      ],
      functions: {},
    };
    const A = ramp(3);
    const B = ramp(5);
    const C = interpret(p, { A, B }).C!;
    let expect00 = 0;
    for (let k = 0; k < n; k++) expect00 += A.get(5, k) * B.get(k, 9);
    expect(C.get(5, 9)).toBe(Math.max(0, expect00));
  });
});
