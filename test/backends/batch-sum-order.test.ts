/**
 * How the backends sum a weight gradient over the batch, `dW[k, j] =
 * sum(i) X[i, k] * G[i, j]`: the order and precision decide whether a batch
 * sum computed slice by slice (resuming from a stored float32 partial) can
 * give the unsliced kernel's bits (docs/optimizer.md, "Half the peak of a
 * training step").
 *
 * - js: the register-blocked product accumulates each element in a float64
 *   local and rounds once, at the store. A sum resumed from a float32
 *   partial rounds once more, so slicing the batch changes bits.
 * - wasm: the SIMD micro-kernel accumulates float32 lanes, one batch row
 *   after another (with relaxed SIMD's multiply-add, fused or not as the
 *   engine chooses). A float32 partial is exactly its accumulator, so a
 *   sum resumed from it in the same order is the same bits.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { hostRunsRelaxedSimd } from "../../src/backends/wasm/index.js";
import { compile, Tensor } from "../../src/index.js";
import { randomTensor } from "../../src/runtime/random.js";

beforeAll(async () => {
  await loadBackend("wasm");
});

const [B, K, J] = [32, 64, 128];
const SOURCE = `size b = ${B}, d = ${K}, h = ${J}
input X[b, d], G[b, h]
output dW[k, j] = sum(i) X[i, k] * G[i, j]`;
const X = randomTensor([B, K], "f32", 3);
const G = randomTensor([B, J], "f32", 4);
const x = (i: number, k: number): number => X.data[i * K + k]!;
const g = (i: number, j: number): number => G.data[i * J + j]!;

/** The float64 sum of rows `from .. to - 1`, starting at `start`. */
function sum64(k: number, j: number, from: number, to: number, start = 0): number {
  let s = start;
  for (let i = from; i < to; i++) s += x(i, k) * g(i, j);
  return s;
}

/** The float32 sum in row order, each product and each addition rounded (`fused`: one rounding per multiply-add). */
function sum32(k: number, j: number, fused: boolean): number {
  let s = 0;
  for (let i = 0; i < B; i++) s = fused ? Math.fround(s + x(i, k) * g(i, j)) : Math.fround(s + Math.fround(x(i, k) * g(i, j)));
  return s;
}

const run = (backend: "js" | "wasm"): Float32Array => {
  const p = compile(SOURCE, { backend, threads: 1 });
  expect(p.ok, p.formatDiagnostics()).toBe(true);
  return p.run({ X: new Tensor("f32", X.shape, X.data), G: new Tensor("f32", G.shape, G.data) }).dW!.data as Float32Array;
};

describe("the order of a batch sum", () => {
  it("js: a float64 sum rounded once at the store, which a sliced sum does not reproduce", () => {
    const got = run("js");
    let differs = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < J; j++) {
        expect(got[k * J + j], `${k}, ${j}`).toBe(Math.fround(sum64(k, j, 0, B)));
        // Two slices of the batch, the first stored as float32 and resumed.
        const sliced = Math.fround(sum64(k, j, B / 2, B, Math.fround(sum64(k, j, 0, B / 2))));
        if (sliced !== got[k * J + j]) differs++;
      }
    }
    expect(differs).toBeGreaterThan(0);
  });

  it("wasm: float32 lanes summed row after row, which a sum resumed from its float32 partial reproduces", () => {
    const got = run("wasm");
    const relaxed = hostRunsRelaxedSimd();
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < J; j++) {
        const v = got[k * J + j]!;
        if (relaxed) expect([sum32(k, j, false), sum32(k, j, true)], `${k}, ${j}`).toContain(v);
        else expect(v, `${k}, ${j}`).toBe(sum32(k, j, false));
      }
    }
  });
});
