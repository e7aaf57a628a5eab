/**
 * One small call of every stdlib function, with the plain-JavaScript formula
 * of its result: the stdlib tests check the interpreter and the JS backend
 * against them, the WebGPU tests the wgsl backend.
 */
import { erf } from "../../src/ir/erf.js";
import { fileURLToPath } from "node:url";
import type { Tensor } from "../../src/runtime/tensor.js";
import * as ref from "./reference.js";

/** Where the test programs claim to live; only stdlib imports are used, so nothing is read from here. */
export const FILE = fileURLToPath(new URL("./stdlib-case.tns", import.meta.url));

export interface Case {
  /** The stdlib module and function under test. */
  module: string;
  fn: string;
  /** A short label, distinct per case. */
  label: string;
  /** Declarations of the inputs and the output line(s). */
  body: string;
  /** The expected value of output `Y` from the inputs. */
  expected: (i: Record<string, Tensor>) => Tensor;
}

export const CASES: Case[] = [
  {
    module: "nn", fn: "gelu_exact", label: "3×4",
    body: "input X[3, 4]\noutput Y = gelu_exact(X)",
    expected: (i) => ref.build([3, 4], (a, b) => { const x = i.X!.data[a * 4 + b]!; return 0.5 * x * (1 + erf(x / Math.SQRT2)); }),
  },
  {
    module: "nn", fn: "conv2d_same", label: "3×3 kernel, zero padding",
    body: "input X[2, 5, 4], K[3, 2, 3, 3]\noutput Y = conv2d_same(X, K)",
    expected: (i) => ref.build([3, 5, 4], (f, y, x) => {
      let s = 0;
      for (let c = 0; c < 2; c++) for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) {
        const yy = y + dy - 1;
        const xx = x + dx - 1;
        if (yy >= 0 && yy < 5 && xx >= 0 && xx < 4) s += i.X!.data[(c * 5 + yy) * 4 + xx]! * i.K!.data[((f * 2 + c) * 3 + dy) * 3 + dx]!;
      }
      return s;
    }),
  },
  {
    module: "nn", fn: "positional_encoding", label: "5 positions, width 6",
    body: "output Y = positional_encoding(5, 6)",
    expected: () => ref.build([5, 6], (p, j) => {
      const angle = p * Math.pow(10000, -2 * Math.floor(j / 2) / 6);
      return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }),
  },
  {
    module: "nn", fn: "one_hot", label: "5 labels, 4 classes",
    body: "input L[5]: i32\noutput Y = one_hot(L, 4)",
    expected: (i) => ref.build([5, 4], (a, k) => (i.L!.data[a] === k ? 1 : 0)),
  },
  {
    module: "linalg", fn: "eye", label: "4×4",
    body: "output Y = eye(4)",
    expected: () => ref.build([4, 4], (a, b) => (a === b ? 1 : 0)),
  },
  {
    module: "linalg", fn: "diag", label: "3",
    body: "input v[3]\noutput Y = diag(v)",
    expected: (i) => ref.build([3, 3], (a, b) => (a === b ? i.v!.data[a]! : 0)),
  },
  {
    // The ids are an argmax: the stdlib tests fill inputs with random floats, and an index is an integer.
    module: "nn", fn: "embedding", label: "4 ids of argmax rows, 6×3 table",
    body: "input S[4, 6], W[6, 3]\nI[t] = argmax(j) S[t, j]\noutput Y = embedding(I, W)",
    expected: (i) => ref.embeddingOfArgmax(i.S!, i.W!),
  },
  { module: "nn", fn: "softmax", label: "3×5", body: "input X[3, 5]\noutput Y = softmax(X)", expected: (i) => ref.softmax(i.X!) },
  { module: "nn", fn: "logsumexp", label: "4×3", body: "input X[4, 3]\noutput Y = logsumexp(X)", expected: (i) => ref.logsumexp(i.X!) },
  {
    module: "nn", fn: "layernorm", label: "4×6",
    body: "input X[4, 6], G[6], B[6]\noutput Y = layernorm(X, G, B)",
    expected: (i) => ref.layernorm(i.X!, i.G!, i.B!),
  },
  {
    module: "nn", fn: "attention", label: "3 queries, 5 keys, d=4, e=2",
    body: "input Q[3, 4], K[5, 4], V[5, 2]\noutput Y = attention(Q, K, V)",
    expected: (i) => ref.attention(i.Q!, i.K!, i.V!),
  },
  {
    module: "nn", fn: "causal_attention", label: "n=5, d=4, e=3",
    body: "input Q[5, 4], K[5, 4], V[5, 3]\noutput Y = causal_attention(Q, K, V)",
    expected: (i) => ref.attention(i.Q!, i.K!, i.V!, true),
  },
  {
    module: "nn", fn: "mlp", label: "3×4 · 4×5",
    body: "input X[3, 4], W[4, 5], b[5]\noutput Y = mlp(X, W, b)",
    expected: (i) => ref.dense(i.X!, i.W!, i.b!),
  },
  {
    module: "nn", fn: "conv2d", label: "stride 1 (default)",
    body: "input X[2, 6, 5], K[3, 2, 3, 2]\noutput Y = conv2d(X, K)",
    expected: (i) => ref.conv2d(i.X!, i.K!, 1),
  },
  {
    module: "nn", fn: "conv2d", label: "stride 2, rounding down",
    body: "input X[2, 8, 7], K[3, 2, 3, 2]\noutput Y = conv2d(X, K, 2)",
    expected: (i) => ref.conv2d(i.X!, i.K!, 2),
  },
  {
    module: "nn", fn: "maxpool2d", label: "2×2 stride 2 (defaults), odd sizes",
    body: "input X[2, 7, 6]\noutput Y = maxpool2d(X)",
    expected: (i) => ref.maxpool2d(i.X!, 2, 2),
  },
  {
    module: "nn", fn: "maxpool2d", label: "overlapping 3×3 stride 2",
    body: "input X[2, 7, 6]\noutput Y = maxpool2d(X, 3, 2)",
    expected: (i) => ref.maxpool2d(i.X!, 3, 2),
  },
  {
    module: "nn", fn: "maxpool2d", label: "2×2 stride 1, every window",
    body: "input X[3, 4, 5]\noutput Y = maxpool2d(X, 2, 1)",
    expected: (i) => ref.maxpool2d(i.X!, 2, 1),
  },
  {
    module: "nn", fn: "rnn", label: "T=6, d=3, h=5",
    body: "input X[6, 3], Wx[3, 5], Wh[5, 5], b[5], h0[5]\noutput Y = rnn(X, Wx, Wh, b, h0)",
    expected: (i) => ref.rnn(i.X!, i.Wx!, i.Wh!, i.b!, i.h0!),
  },
  { module: "nn", fn: "cumsum", label: "3×7", body: "input X[3, 7]\noutput Y = cumsum(X)", expected: (i) => ref.cumsum(i.X!) },
  {
    module: "linalg", fn: "matmul", label: "3×4 · 4×5",
    body: "input A[3, 4], B[4, 5]\noutput Y = matmul(A, B)",
    expected: (i) => ref.matmul(i.A!, i.B!),
  },
  {
    module: "linalg", fn: "bmm", label: "2 × (3×4 · 4×5)",
    body: "input A[2, 3, 4], B[2, 4, 5]\noutput Y = bmm(A, B)",
    expected: (i) => ref.bmm(i.A!, i.B!),
  },
  {
    module: "linalg", fn: "kron", label: "2×3 ⊗ 4×2",
    body: "input A[2, 3], B[4, 2]\noutput Y = kron(A, B)",
    expected: (i) => ref.kron(i.A!, i.B!),
  },
  {
    module: "linalg", fn: "kron_matvec", label: "2×3 ⊗ 4×2",
    body: "input A[2, 3], B[4, 2], x[6]\noutput Y = kron_matvec(A, B, x)",
    expected: (i) => ref.kronMatvec(i.A!, i.B!, i.x!),
  },
  {
    module: "linalg", fn: "kron_matvec_factored", label: "2×3 ⊗ 4×2",
    body: "input A[2, 3], B[4, 2], x[6]\noutput Y = kron_matvec_factored(A, B, x)",
    expected: (i) => ref.kronMatvec(i.A!, i.B!, i.x!),
  },
  {
    module: "linalg", fn: "tt_matvec", label: "modes 2·3·2 ← 3·2·2, ranks 2, 3",
    body: "input G1[2, 3, 2], G2[2, 3, 2, 3], G3[3, 2, 2], x[12]\noutput Y = tt_matvec(G1, G2, G3, x)",
    expected: (i) => ref.ttMatvec(i.G1!, i.G2!, i.G3!, i.x!),
  },
  {
    module: "linalg", fn: "tucker", label: "core 2×3×2 to 4×3×5",
    body: "input G[2, 3, 2], U1[4, 2], U2[3, 3], U3[5, 2]\noutput Y = tucker(G, U1, U2, U3)",
    expected: (i) => ref.tucker(i.G!, i.U1!, i.U2!, i.U3!),
  },
  { module: "linalg", fn: "trace", label: "5×5", body: "input A[5, 5]\noutput Y = trace(A)", expected: (i) => ref.trace(i.A!) },
  { module: "linalg", fn: "outer", label: "3 × 4", body: "input x[3], y[4]\noutput Y = outer(x, y)", expected: (i) => ref.outer(i.x!, i.y!) },
];
