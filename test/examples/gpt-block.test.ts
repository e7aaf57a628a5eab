/**
 * examples/gpt_block.tns (embedding gather, sinusoidal positions, causal
 * attention, exact GELU, greedy argmax) against the same block written in
 * NumPy float64, on the js and wasm backends.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileAsync } from "../../src/compiler.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython, relativeError, runNumpyScript } from "../support/numpy.js";
import { EXAMPLES_DIR } from "./harness.js";
import { seededUniform } from "./reference.js";

const python = numpyPython();
const SIZES = { T: 9, Vocab: 13, D: 8, F: 20 };

const NUMPY_BLOCK = `
import json, math, sys
import numpy as np
a = json.load(sys.stdin)
T, V, D, F = a["T"], a["Vocab"], a["D"], a["F"]
g = lambda n, *shape: np.array(a[n], dtype=np.float64).reshape(shape)
ids = np.array(a["ids"], dtype=np.int64)
Wte, Wout = g("Wte", V, D), g("Wout", D, V)
G1, B1, G2, B2 = g("G1", D), g("B1", D), g("G2", D), g("B2", D)
Wq, Wk, Wv, Wo = g("Wq", D, D), g("Wk", D, D), g("Wv", D, D), g("Wo", D, D)
W1, b1, W2, b2 = g("W1", D, F), g("b1", F), g("W2", F, D), g("b2", D)
p = np.arange(T)[:, None]; k = np.arange(D // 2)[None, :]
angle = p * np.power(10000.0, -2 * k / D)
PE = np.zeros((T, D)); PE[:, 0::2] = np.sin(angle); PE[:, 1::2] = np.cos(angle)
def ln(X, G, B):
    mu = X.mean(1, keepdims=True); var = ((X - mu) ** 2).mean(1, keepdims=True)
    return (X - mu) / np.sqrt(var + 1e-5) * G + B
X0 = Wte[ids] + PE
H1 = ln(X0, G1, B1)
Q, K, Vv = H1 @ Wq, H1 @ Wk, H1 @ Wv
S = Q @ K.T / math.sqrt(D)
S = np.where(np.tril(np.ones((T, T))) > 0, S, -np.inf)
E = np.exp(S - S.max(1, keepdims=True))
X1 = X0 + (E @ Vv / E.sum(1, keepdims=True)) @ Wo
U = ln(X1, G2, B2) @ W1 + b1
Gu = 0.5 * U * (1 + np.vectorize(math.erf)(U / math.sqrt(2)))
X2 = X1 + Gu @ W2 + b2
L = X2 @ Wout
top2 = np.sort(L, 1)[:, -2:]
json.dump({"Logits": L.reshape(-1).tolist(), "Next": L.argmax(1).tolist(), "margin": (top2[:, 1] - top2[:, 0]).tolist()}, sys.stdout)
`;

/** Inputs of order one for the activations: weights scaled by 1/sqrt(fan-in), ids spread over the vocabulary. */
function inputs(seed: number): Record<string, Tensor> {
  const next = seededUniform(seed);
  const { T, Vocab, D, F } = SIZES;
  const t = (shape: number[], scale: number, offset = 0): Tensor =>
    new Tensor("f32", shape, Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => offset + scale * next()));
  return {
    ids: new Tensor("i32", [T], Int32Array.from({ length: T }, (_, k) => (k * 5 + seed) % Vocab)),
    Wte: t([Vocab, D], 1), G1: t([D], 0.2, 1), B1: t([D], 0.1), G2: t([D], 0.2, 1), B2: t([D], 0.1),
    Wq: t([D, D], 1 / Math.sqrt(D)), Wk: t([D, D], 1 / Math.sqrt(D)), Wv: t([D, D], 1 / Math.sqrt(D)), Wo: t([D, D], 1 / Math.sqrt(D)),
    W1: t([D, F], 1 / Math.sqrt(D)), b1: t([F], 0.1), W2: t([F, D], 1 / Math.sqrt(F)), b2: t([D], 0.1),
    Wout: t([D, Vocab], 1 / Math.sqrt(D)),
  };
}

describe.skipIf(python === null)("examples/gpt_block.tns against NumPy", () => {
  const file = join(EXAMPLES_DIR, "gpt_block.tns");
  for (const backend of ["js", "wasm"] as const) {
    it(`logits within 1e-4 and the greedy tokens on ${backend}`, async () => {
      const program = await compileAsync(readFileSync(file, "utf8"), { file, sizes: SIZES, backend });
      expect(program.ok, program.formatDiagnostics()).toBe(true);
      for (const seed of [1, 2]) {
        const given = inputs(seed);
        const payload: Record<string, unknown> = { ...SIZES };
        for (const [name, x] of Object.entries(given)) payload[name] = Array.from(x.data);
        const want = runNumpyScript<{ Logits: number[]; Next: number[]; margin: number[] }>(python!, NUMPY_BLOCK, payload);
        const got = await program.runAsync(given);
        expect(relativeError(got.Logits!.data, want.Logits)).toBeLessThanOrEqual(1e-4);
        expect(got.Next!.dtype).toBe("i32");
        // Where the two best logits are clearly apart the greedy token is NumPy's; a near tie may go either way in float32.
        const clear = want.margin.map((m, t) => (m > 1e-3 ? t : -1)).filter((t) => t >= 0);
        expect(clear.length).toBeGreaterThan(SIZES.T / 2);
        for (const t of clear) expect(got.Next!.data[t], `position ${t}`).toBe(want.Next[t]);
      }
    });
  }
});
