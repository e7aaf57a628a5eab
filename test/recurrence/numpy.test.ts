/**
 * Recurrences against NumPy (float64) as an external oracle, on every
 * backend: the program 4 (a tanh RNN and a cumulative sum), the HMM
 * forward pass of examples/hmm_forward.tns and the character-level RNN of
 * examples/char_rnn.tns. NumPy runs the steps with an explicit Python loop,
 * written independently of tns.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileAsync } from "../../src/compiler.js";
import { randomTensor } from "../../src/runtime/random.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython, relativeError, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();
const TOLERANCE = 1e-4;

const PROGRAM_4 = `size T = 12, D = 5, H = 8
input X[T, D], W[D, H], U[H, H], h0[H], x[T]
output Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
output Cs[i] = x[i] + where(i > 0, Cs[i - 1], 0)
`;

const SCRIPT = `
import json, sys
import numpy as np
req = json.load(sys.stdin)
a = {k: np.array(v["data"], dtype=np.float64).reshape(v["shape"]) for k, v in req["inputs"].items()}
out = {}
def lse(v, axis):
    m = v.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(v - m).sum(axis=axis, keepdims=True))).squeeze(axis)
if req["case"] == "program4":
    T, H = a["X"].shape[0], a["W"].shape[1]
    Hs = np.zeros((T, H))
    prev = a["h0"]
    for t in range(T):
        Hs[t] = np.tanh(a["X"][t] @ a["W"] + prev @ a["U"])
        prev = Hs[t]
    out["Hs"] = Hs
    out["Cs"] = np.cumsum(a["x"])
elif req["case"] == "hmm":
    T, S = a["Obs"].shape[0], a["logA"].shape[0]
    E = a["Obs"] @ a["logB"].T
    La = np.zeros((T, S))
    La[0] = E[0] + a["logpi"]
    for t in range(1, T):
        La[t] = E[t] + lse(La[t - 1][:, None] + a["logA"], 0)
    out["La"] = La
    out["LogL"] = np.array(lse(La[T - 1], 0))
elif req["case"] == "char_rnn":
    T, H = a["Xoh"].shape[0], a["Whh"].shape[0]
    Wrec = a["Whh"] / np.sqrt(H)
    Hs = np.zeros((T, H))
    prev = a["h0"]
    for t in range(T):
        Hs[t] = np.tanh(a["Xoh"][t] @ a["Wxh"] + prev @ Wrec + a["bh"])
        prev = Hs[t]
    Z = Hs @ a["Why"] + a["by"]
    out["LogP"] = Z - lse(Z, 1)[:, None]
json.dump({k: {"shape": list(np.shape(v)), "data": np.ravel(v).tolist()} for k, v in out.items()}, sys.stdout)
`;

/** A one-hot matrix: row t has a 1 at a seeded pseudo-random column. */
function oneHot(rows: number, cols: number, seed: number): Tensor {
  const data = new Float64Array(rows * cols);
  let s = seed;
  for (let t = 0; t < rows; t++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[t * cols + (s % cols)] = 1;
  }
  return new Tensor("f32", [rows, cols], Float32Array.from(data));
}

/** Rows of log-probabilities: the log of a seeded positive matrix normalized along its rows. */
function logStochastic(rows: number, cols: number, seed: number): Tensor {
  const r = randomTensor([rows, cols], "f64", seed).data;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let total = 0;
    for (let j = 0; j < cols; j++) total += 1.5 + r[i * cols + j]!;
    for (let j = 0; j < cols; j++) data[i * cols + j] = Math.log((1.5 + r[i * cols + j]!) / total);
  }
  return new Tensor("f32", [rows, cols], Float32Array.from(data));
}

/** A seeded f32 tensor scaled by `scale`. */
function scaled(shape: number[], seed: number, scale = 1): Tensor {
  const r = randomTensor(shape, "f32", seed);
  return new Tensor("f32", shape, Float32Array.from(r.data, (v) => v * scale));
}

interface Case { readonly name: string; readonly source: string; readonly file?: string; readonly inputs: () => Record<string, Tensor> }

const CASES: readonly Case[] = [
  {
    name: "program4", source: PROGRAM_4,
    inputs: () => ({ X: scaled([12, 5], 1), W: scaled([5, 8], 2), U: scaled([8, 8], 3, 1 / Math.sqrt(8)), h0: scaled([8], 4), x: scaled([12], 5) }),
  },
  {
    name: "hmm", source: readFileSync(new URL("../../examples/hmm_forward.tns", import.meta.url), "utf8"),
    inputs: () => ({ logA: logStochastic(8, 8, 11), logB: logStochastic(8, 12, 12), logpi: new Tensor("f32", [8], logStochastic(1, 8, 13).data as Float32Array), Obs: oneHot(50, 12, 14) }),
  },
  {
    name: "char_rnn", source: readFileSync(new URL("../../examples/char_rnn.tns", import.meta.url), "utf8"),
    file: new URL("../../examples/char_rnn.tns", import.meta.url).pathname,
    inputs: () => ({
      Xoh: oneHot(64, 65, 21), Wxh: scaled([65, 128], 22), Whh: scaled([128, 128], 23), bh: scaled([128], 24), h0: scaled([128], 25),
      Why: scaled([128, 65], 26), by: scaled([65], 27),
    }),
  },
];

describe.skipIf(python === null).each(["js", "wasm", "wgsl"] as const)("recurrences agree with NumPy on the %s backend", (backend) => {
  for (const c of CASES) {
    it(c.name, async () => {
      const compiled = await compileAsync(c.source, { backend, ...(c.file ? { file: c.file } : {}) });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const inputs = c.inputs();
      const payload = { case: c.name, inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])) };
      const want = runNumpyScript<Record<string, { shape: number[]; data: number[] }>>(python!, SCRIPT, payload);
      const got = await compiled.runAsync(inputs);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [name, w] of Object.entries(want)) {
        expect(got[name]!.shape, name).toEqual(w.shape);
        expect(relativeError(got[name]!.data, w.data), name).toBeLessThanOrEqual(TOLERANCE);
      }
      compiled.dispose?.();
    });
  }
});
