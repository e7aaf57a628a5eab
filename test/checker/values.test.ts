/**
 * Lowered programs run through the reference interpreter, against results
 * computed by hand.
 */
import { describe, expect, test } from "vitest";
import { interpret } from "../../src/interpret.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { nodeLoader } from "../../src/checker/index.js";
import { lower } from "./helpers.js";

function run(src: string, inputs: Record<string, number[] | number[][] | number[][][]>, options = {}): Record<string, unknown> {
  const p = lower(src, options);
  const ts = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Tensor.fromArray(v)]));
  return Object.fromEntries(Object.entries(interpret(p, ts)).map(([k, v]) => [k, v.toArray()]));
}

describe("lowered programs compute the right values", () => {
  test("matrix product by the Einstein rule", () => {
    const out = run("input A[2, 3], B[3, 2]\noutput C[i, j] = A[i, k] * B[k, j]", {
      A: [[1, 2, 3], [4, 5, 6]], B: [[1, 0], [0, 1], [1, 1]],
    });
    expect(out.C).toEqual([[4, 5], [10, 11]]);
  });

  test("the Einstein trap adds C once per j; the explicit sum once", () => {
    const inputs = { B: [[1, 2, 3], [4, 5, 6]], C: [10, 20] };
    expect(run("input B[2, 3], C[2]\noutput A[i] = B[i, j] + C[i]", inputs).A).toEqual([36, 75]);
    expect(run("input B[2, 3], C[2]\noutput A[i] = sum(j) B[i, j] + C[i]", inputs).A).toEqual([16, 35]);
  });

  test("valid 1-D convolution, stride 2 and reversal", () => {
    const X = [1, 2, 3, 4, 5];
    expect(run("input X[5], K[2]\noutput Y[y] = X[y + d] * K[d]", { X, K: [1, -1] }).Y).toEqual([-1, -1, -1, -1]);
    expect(run("input X[5], K[2]\noutput Y[y] = X[2*y + d] * K[d]", { X, K: [1, 10] }).Y).toEqual([21, 43]);
    expect(run("size n = 5\ninput X[n]\noutput R[i] = X[n - 1 - i]", { X }).R).toEqual([5, 4, 3, 2, 1]);
  });

  test("groups: a Kronecker product and a reshape", () => {
    const out = run("input A[2, 2], B[1, 2]\noutput K[(a, b), (c, d)] = A[a, c] * B[b, d]", { A: [[1, 2], [3, 4]], B: [[1, 10]] });
    expect(out.K).toEqual([[1, 10, 2, 20], [3, 30, 4, 40]]);
    const r = run("input x[6], u[2]\noutput Y[c, d] = x[(c, d)] * u[c]", { x: [1, 2, 3, 4, 5, 6], u: [1, 2] });
    expect(r.Y).toEqual([[1, 2, 3], [8, 10, 12]]);
  });

  test("a causal mask with max and -inf", () => {
    const out = run("input S[3, 3]\nSm[i, j] = where(j <= i, S[i, j], -inf)\noutput M[i] = max(j) Sm[i, j]", {
      S: [[1, 9, 9], [5, 2, 9], [0, 7, 3]],
    });
    expect(out.M).toEqual([1, 5, 7]);
  });

  test("nested reductions over the same name (renamed apart)", () => {
    const out = run("input X[2, 2]\noutput Y[i] = sum(j) (X[i, j] * sum(j) X[j, i])", { X: [[1, 2], [3, 4]] });
    // Y[i] = (Σ_j X[i, j]) * (Σ_j X[j, i])
    expect(out.Y).toEqual([3 * 4, 7 * 6]);
  });

  test("a user function and the stdlib softmax", () => {
    const src = 'import softmax from "nn"\nfn scale(X[n], size k = 3) -> Y { Y[i] = k * X[i] }\ninput S[1, 2], v[2]\n'
      + "output P = softmax(S)\noutput Q[i] = scale(v)[i] + scale(v, 2)[i]\n";
    const out = run(src, { S: [[0, Math.log(3)]], v: [1, 2] }, { loader: nodeLoader() });
    const [a, b] = (out.P as number[][])[0]!;
    expect(a).toBeCloseTo(0.25, 6);
    expect(b).toBeCloseTo(0.75, 6);
    expect(out.Q).toEqual([5, 10]);
  });

  test("an index used as a value", () => {
    expect(run("input X[4]\noutput Y[i] = X[i] * i", { X: [1, 1, 2, 2] }).Y).toEqual([0, 1, 4, 6]);
  });
});
