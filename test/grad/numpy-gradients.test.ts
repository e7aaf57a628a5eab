/**
 * Gradients against NumPy float64 references written by hand, independently
 * of tns (the textbook backward formulas, not a transcription of the
 * differentiate pass): an MLP with softmax cross-entropy, layer
 * normalization, attention, a strided 2-D convolution and an RNN through
 * time (a loop over the steps backward). The tns programs
 * are f64 and run on the reference interpreter and on the js and wasm
 * backends; every gradient must agree within 1e-6 (max |difference| over
 * max |reference|).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { compile, compileAsync } from "../../src/compiler.js";
import type { BackendName } from "../../src/backends/index.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython, relativeError, runNumpyScript } from "../support/numpy.js";
import { smoothInputs } from "../support/gradcheck.js";

const python = numpyPython();
const TOLERANCE = 1e-6;

const PRELUDE = `
import json, sys
import numpy as np
given = json.load(sys.stdin)
a = {k: np.array(v["data"], dtype=np.float64).reshape(v["shape"]) for k, v in given.items()}
def emit(grads):
    json.dump({k: {"shape": list(np.shape(v)), "data": np.asarray(v, dtype=np.float64).reshape(-1).tolist()} for k, v in grads.items()}, sys.stdout)
`;

interface Case {
  readonly source: string;
  /** NumPy code computing the gradients from the dict `a` of inputs and calling emit({name: array}). */
  readonly numpy: string;
  /** Inputs to replace after the random fill (one-hot targets). */
  readonly fix?: (inputs: Record<string, Tensor>) => void;
}

const CASES: Readonly<Record<string, Case>> = {
  "RNN, backpropagation through time": {
    source: `
size T = 7, d = 4, h = 5
input X[T, d]: f64, W[d, h]: f64, U[h, h]: f64, h0[h]: f64, R[T, h]: f64
Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
L = sum(t, j) Hs[t, j] * R[t, j] + 0.5 * sum(j) Hs[T - 1, j] * Hs[T - 1, j]
output dX = grad(L, X)
output dW = grad(L, W)
output dU = grad(L, U)
output dh0 = grad(L, h0)
`,
    numpy: `
X, W, U, h0, R = a["X"], a["W"], a["U"], a["h0"], a["R"]
T = X.shape[0]
H = np.zeros((T, W.shape[1]))
prev = h0
for t in range(T):
    H[t] = np.tanh(X[t] @ W + prev @ U)
    prev = H[t]
dH = R.copy()
dH[T - 1] += H[T - 1]
dX = np.zeros_like(X); dW = np.zeros_like(W); dU = np.zeros_like(U)
carry = np.zeros(W.shape[1])
for t in reversed(range(T)):
    dA = (dH[t] + carry) * (1 - H[t] ** 2)
    dX[t] = W @ dA
    dW += np.outer(X[t], dA)
    dU += np.outer(H[t - 1] if t > 0 else h0, dA)
    carry = U @ dA
emit({"dX": dX, "dW": dW, "dU": dU, "dh0": carry})
`,
  },
  "MLP with softmax cross-entropy": {
    source: `
size n = 6, d = 5, h = 7, c = 4
input X[n, d]: f64, T[n, c]: f64, W1[d, h]: f64, b1[h]: f64, W2[h, c]: f64, b2[c]: f64
H[i, j] = relu(sum(k) X[i, k] * W1[k, j] + b1[j])
Z[i, l] = sum(j) H[i, j] * W2[j, l] + b2[l]
M[i] = max(l) Z[i, l]
LSE[i] = M[i] + log(sum(l) exp(Z[i, l] - M[i]))
L = sum(i, l) T[i, l] * (LSE[i] - Z[i, l]) / n
output dX = grad(L, X)
output dW1 = grad(L, W1)
output db1 = grad(L, b1)
output dW2 = grad(L, W2)
output db2 = grad(L, b2)
`,
    numpy: `
X, T, W1, b1, W2, b2 = a["X"], a["T"], a["W1"], a["b1"], a["W2"], a["b2"]
n = X.shape[0]
A = X @ W1 + b1
H = np.maximum(A, 0)
Z = H @ W2 + b2
P = np.exp(Z - Z.max(axis=1, keepdims=True)); P /= P.sum(axis=1, keepdims=True)
dZ = (P * T.sum(axis=1, keepdims=True) - T) / n
dH = dZ @ W2.T
dA = dH * (A > 0)
emit({"dX": dA @ W1.T, "dW1": X.T @ dA, "db1": dA.sum(axis=0), "dW2": H.T @ dZ, "db2": dZ.sum(axis=0)})
`,
    fix: (inputs) => {
      const [n, c] = inputs["T"]!.shape as [number, number];
      const data = new Float64Array(n * c);
      for (let i = 0; i < n; i++) data[i * c + ((i * 3 + 1) % c)] = 1;
      inputs["T"] = new Tensor("f64", [n, c], data);
    },
  },
  "layer normalization": {
    source: `
import layernorm from "nn"
size n = 4, d = 6
input X[n, d]: f64, G[d]: f64, B[d]: f64, R[n, d]: f64
Y = layernorm(X, G, B)
L = sum(i, j) Y[i, j] * R[i, j]
output dX = grad(L, X)
output dG = grad(L, G)
output dB = grad(L, B)
`,
    numpy: `
X, G, B, R = a["X"], a["G"], a["B"], a["R"]
d = X.shape[1]
mu = X.mean(axis=1, keepdims=True)
var = ((X - mu) ** 2).mean(axis=1, keepdims=True)
rstd = 1 / np.sqrt(var + 1e-5)
xhat = (X - mu) * rstd
dxhat = R * G
dX = rstd / d * (d * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
emit({"dX": dX, "dG": (R * xhat).sum(axis=0), "dB": R.sum(axis=0)})
`,
  },
  attention: {
    source: `
import attention from "nn"
size n = 5, m = 6, d = 4, e = 3
input Q[n, d]: f64, K[m, d]: f64, V[m, e]: f64, R[n, e]: f64
O = attention(Q, K, V)
L = sum(i, c) O[i, c] * R[i, c]
output dQ = grad(L, Q)
output dK = grad(L, K)
output dV = grad(L, V)
`,
    numpy: `
Q, K, V, R = a["Q"], a["K"], a["V"], a["R"]
s = 1 / np.sqrt(Q.shape[1])
S = Q @ K.T * s
P = np.exp(S - S.max(axis=1, keepdims=True)); P /= P.sum(axis=1, keepdims=True)
dP = R @ V.T
dS = P * (dP - (dP * P).sum(axis=1, keepdims=True))
emit({"dQ": dS @ K * s, "dK": dS.T @ Q * s, "dV": P.T @ R})
`,
  },
  "strided conv2d": {
    source: `
import conv2d from "nn"
input X[2, 9, 8]: f64, K[3, 2, 3, 2]: f64, R[3, 4, 4]: f64
Y = conv2d(X, K, 2)
L = sum(o, y, x) Y[o, y, x] * R[o, y, x]
output dX = grad(L, X)
output dK = grad(L, K)
`,
    numpy: `
X, K, R = a["X"], a["K"], a["R"]
s = 2
O, C, KH, KW = K.shape
_, OH, OW = R.shape
dX = np.zeros_like(X)
dK = np.zeros_like(K)
for y in range(OH):
    for x in range(OW):
        patch = X[:, s*y:s*y+KH, s*x:s*x+KW]
        dK += R[:, y, x][:, None, None, None] * patch[None]
        dX[:, s*y:s*y+KH, s*x:s*x+KW] += np.tensordot(R[:, y, x], K, axes=(0, 0))
emit({"dX": dX, "dK": dK})
`,
  },
};

const BACKENDS: readonly BackendName[] = ["reference", "js", "wasm"];

describe.skipIf(python === null)("gradients agree with NumPy float64 references", () => {
  beforeAll(async () => {
    await compileAsync("input x[1]\noutput y[i] = x[i]", { backend: "wasm" });
  });

  for (const [name, c] of Object.entries(CASES)) {
    const probe = compile(c.source, { backend: "reference" });
    const inputs = probe.ok ? smoothInputs(probe.loweredIr!, 21) : {};
    c.fix?.(inputs);
    for (const backend of BACKENDS) {
      it(`${name} on ${backend}`, () => {
        expect(probe.ok, probe.formatDiagnostics()).toBe(true);
        const want = runNumpyScript<Record<string, { shape: number[]; data: number[] }>>(python!, PRELUDE + c.numpy,
          Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])));
        const compiled = compile(c.source, { backend, verify: true });
        expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
        const got = compiled.run(inputs);
        expect(Object.keys(want).sort()).toEqual(compiled.outputs.map((o) => o.name).sort());
        for (const [out, ref] of Object.entries(want)) {
          expect(got[out]!.shape, out).toEqual(ref.shape);
          expect(relativeError(got[out]!.data, ref.data), `${name}: ${out} on ${backend}`).toBeLessThan(TOLERANCE);
        }
      });
    }
  }
});
