/**
 * Gradients of every stdlib function (and the strided and overlapping
 * variants of its convolution and pooling) agree with central finite
 * differences in float64 on the reference interpreter. Each case calls one
 * function on f64 inputs; the loss is half the sum of squares of its result,
 * differentiated by every input.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";

/** Relative error every gradient must stay below. */
const TOLERANCE = 1e-6;

const CASES: Readonly<Record<string, string>> = {
  matmul: `input A[3, 4]: f64, B[4, 5]: f64\noutput Y = matmul(A, B)`,
  bmm: `input A[2, 3, 4]: f64, B[2, 4, 3]: f64\noutput Y = bmm(A, B)`,
  kron: `input A[2, 3]: f64, B[3, 2]: f64\noutput Y = kron(A, B)`,
  kron_matvec: `input A[2, 3]: f64, B[3, 2]: f64, x[6]: f64\noutput Y = kron_matvec(A, B, x)`,
  kron_matvec_factored: `input A[2, 3]: f64, B[3, 2]: f64, x[6]: f64\noutput Y = kron_matvec_factored(A, B, x)`,
  tt_matvec: `input G1[2, 2, 2]: f64, G2[2, 2, 3, 2]: f64, G3[2, 2, 2]: f64, x[12]: f64\noutput Y = tt_matvec(G1, G2, G3, x)`,
  tucker: `input G[2, 3, 2]: f64, U1[3, 2]: f64, U2[4, 3]: f64, U3[2, 2]: f64\noutput Y = tucker(G, U1, U2, U3)`,
  trace: `input A[4, 4]: f64\noutput Y = trace(A)`,
  outer: `input x[3]: f64, y[4]: f64\noutput Y = outer(x, y)`,
  softmax: `input X[3, 5]: f64\noutput Y = softmax(X)`,
  logsumexp: `input X[3, 5]: f64\noutput Y = logsumexp(X)`,
  layernorm: `input X[3, 6]: f64, G[6]: f64, B[6]: f64\noutput Y = layernorm(X, G, B)`,
  attention: `input Q[3, 4]: f64, K[5, 4]: f64, V[5, 2]: f64\noutput Y = attention(Q, K, V)`,
  causal_attention: `input Q[4, 3]: f64, K[4, 3]: f64, V[4, 2]: f64\noutput Y = causal_attention(Q, K, V)`,
  mlp: `input X[3, 4]: f64, W[4, 5]: f64, b[5]: f64\noutput Y = mlp(X, W, b)`,
  conv2d: `input X[2, 5, 6]: f64, K[3, 2, 2, 3]: f64\noutput Y = conv2d(X, K)`,
  "conv2d stride 2": `input X[2, 7, 6]: f64, K[3, 2, 3, 2]: f64\noutput Y = conv2d(X, K, 2)`,
  maxpool2d: `input X[2, 6, 5]: f64\noutput Y = maxpool2d(X)`,
  "maxpool2d overlapping": `input X[2, 5, 5]: f64\noutput Y = maxpool2d(X, 3, 1)`,
};

describe("gradients of the stdlib agree with central differences (f64, interpreter)", () => {
  it("covers every stdlib function", async () => {
    const { readFileSync } = await import("node:fs");
    const names = ["nn", "linalg"].flatMap((m) =>
      [...readFileSync(new URL(`../../stdlib/${m}.tns`, import.meta.url), "utf8").matchAll(/^fn (\w+)/gm)].map((x) => x[1]!));
    expect(names.filter((n) => !(n in CASES))).toEqual([]);
  });

  for (const [name, body] of Object.entries(CASES)) {
    it(name, () => {
      const { program, diagnostics } = check(`import "nn"\nimport "linalg"\n${body}\n`);
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const { program: withGrads } = withSquareLoss(program!);
      const reports = checkGradients(withGrads, smoothInputs(withGrads, 7));
      expect(reports.length).toBeGreaterThan(0);
      for (const r of reports) expect(r.relError, `${name}: d/d${r.wrt}`).toBeLessThan(TOLERANCE);
    });
  }
});
