/**
 * Golden IR of backward programs: a matrix product, a softmax, a 2-D
 * convolution (stride 1, and stride 2: a transposed convolution) and an RNN
 * (backpropagation through time: a recurrence over the reversed steps) and
 * an embedding lookup (a gather, whose backward is a scatter-add),
 * each with its loss, printed after `differentiate` (the
 * backward program as the pass builds it) and after the whole default
 * pipeline (as the backends get it). Regenerate with
 * `TNS_UPDATE_GOLDEN=1 npx vitest run test/grad/golden-backward.test.ts`
 * and read the diff.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { printProgram } from "../../src/ir/print.js";
import { defaultPipeline, loweringPipeline, runPasses } from "../../src/passes/index.js";
import { relativeError } from "../support/numpy.js";
import { smoothInputs } from "../support/gradcheck.js";
import { expectGolden } from "../golden.js";

const PROGRAMS: Readonly<Record<string, string>> = {
  matmul: `size n = 4, k = 3, m = 5
input A[n, k], B[k, m], R[n, m]
C[i, j] = A[i, l] * B[l, j]
L = sum(i, j) C[i, j] * R[i, j]
output dA = grad(L, A)
output dB = grad(L, B)
`,
  softmax: `import softmax from "nn"
size n = 3, m = 4
input X[n, m], R[n, m]
P = softmax(X)
L = sum(i, j) P[i, j] * R[i, j]
output dX = grad(L, X)
`,
  conv2d: `import conv2d from "nn"
input X[2, 6, 5], K[3, 2, 3, 2], R[3, 4, 4]
Y = conv2d(X, K)
L = sum(o, y, x) Y[o, y, x] * R[o, y, x]
output dX = grad(L, X)
output dK = grad(L, K)
`,
  "conv2d-stride2": `import conv2d from "nn"
input X[2, 9, 8], K[3, 2, 3, 2], R[3, 4, 4]
Y = conv2d(X, K, 2)
L = sum(o, y, x) Y[o, y, x] * R[o, y, x]
output dX = grad(L, X)
output dK = grad(L, K)
`,
  rnn: `size T = 4, D = 3, H = 5
input X[T, D], W[D, H], U[H, H], h0[H], R[T, H]
Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
L = sum(t, j) Hs[t, j] * R[t, j]
output dW = grad(L, W)
output dU = grad(L, U)
output dh0 = grad(L, h0)
`,
  embedding: `size T = 5, V = 7, D = 3
input ids[T]: i32, Wte[V, D], R[T, D]
Xe[t, d] = Wte[ids[t], d]
L = sum(t, d) tanh(Xe[t, d]) * R[t, d]
output dWte = grad(L, Wte)
`,
};

describe("golden IR of backward programs", () => {
  for (const [name, source] of Object.entries(PROGRAMS)) {
    it(name, () => {
      const { program, diagnostics } = check(source);
      expect(diagnostics).toEqual([]);
      const backward = runPasses(program!, loweringPipeline(), { verify: true }).program;
      const optimized = runPasses(program!, defaultPipeline(), { verify: true }).program;
      expectGolden(`backward-${name}`, `== after differentiate ==\n${printProgram(backward)}\n== after the default pipeline ==\n${printProgram(optimized)}`);
      const inputs = smoothInputs(program!, 2);
      const want = interpret(backward, inputs);
      const got = interpret(optimized, inputs);
      for (const out of Object.keys(want)) expect(relativeError(got[out]!.data, want[out]!.data), out).toBeLessThan(1e-12);
    });
  }
});
