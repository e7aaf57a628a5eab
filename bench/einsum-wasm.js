/**
 * Batched contractions in float32 on WebAssembly, one thread: a batched
 * matrix product 'bij,bjk->bik' (b = 8, 256³) and the 4-D attention scores
 * 'bhqd,bhkd->bhqk' (b = 2, h = 8, q = k = 256, d = 64). tns's wasm backend
 * (through `einsumWith(..., { backend: "wasm", threads: 1 })`) against TensorFlow.js's
 * WebAssembly backend (SIMD on, threads off; it registers no einsum kernel,
 * so batched `matMul` on reshaped 3-D tensors, `transposeB` for attention)
 * and NumPy's single-threaded `einsum(..., optimize=True)` (timed inside
 * Python). Run `npm run build` first; then `node bench/einsum-wasm.js`.
 */
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../dist/backends/index.js";
import { einsumWith } from "../dist/einsum/index.js";
import { randomTensor } from "../dist/runtime/random.js";
import { startTfjsWasm } from "./matmul-wasm.js";
import { formatRows, gflops, timeMedian } from "./util.js";

/** @typedef {import("./util.js").Row} Row */

/**
 * The two cases: spec, operand shapes, multiply-add count, and the same
 * contraction as a batched matMul of [batch, m, k] by [batch, k, n] (or [batch, n, k] transposed).
 */
const CASES = [
  { name: "bmm", spec: "bij,bjk->bik", shapes: [[8, 256, 256], [8, 256, 256]], macs: 8 * 256 ** 3,
    tfjs: { a: [8, 256, 256], b: [8, 256, 256], transposeB: false } },
  { name: "attn-qk", spec: "bhqd,bhkd->bhqk", shapes: [[2, 8, 256, 64], [2, 8, 256, 64]], macs: 16 * 256 * 256 * 64,
    tfjs: { a: [16, 256, 64], b: [16, 256, 64], transposeB: true } },
];

const PY = `
import json, sys, time
import numpy as np
cases = json.load(sys.stdin)
out = []
for c in cases:
    rng = np.random.default_rng(0)
    ops = [rng.uniform(-1, 1, s).astype(np.float32) for s in c["shapes"]]
    np.einsum(c["spec"], *ops, optimize=True)
    times = []
    for _ in range(c["reps"]):
        t0 = time.perf_counter()
        np.einsum(c["spec"], *ops, optimize=True)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out.append(times[len(times) // 2])
print(json.dumps(out))
`;

/**
 * NumPy's median time per case, in ms (one thread), or null when NumPy is not installed.
 * @param {{ spec: string, shapes: number[][] }[]} cases
 * @param {number} reps
 * @returns {(number[] | null)}
 */
function numpyTimes(cases, reps) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const input = JSON.stringify(cases.map((c) => ({ spec: c.spec, shapes: c.shapes, reps })));
  const r = spawnSync("/usr/bin/python3", ["-c", PY], { input, env, encoding: "utf8" });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout);
}

/**
 * Largest difference between two results.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
function maxDiff(a, b) {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/**
 * Times every case on tns-wasm, tfjs-wasm and NumPy, checks tns and tfjs
 * agree, prints a table and the ratios, and returns the rows (`n` is the
 * case's position).
 * @param {{ reps?: number, warmupMs?: number }} [options]
 * @returns {Promise<Row[]>}
 * @example const rows = await runEinsumWasmBench({ reps: 3 });
 */
export async function runEinsumWasmBench({ reps = 7, warmupMs = 3000 } = {}) {
  await startTfjsWasm();
  await loadBackend("wasm");
  /** @type {Row[]} */
  const rows = [];
  const warmUp = (/** @type {() => void} */ fn) => {
    const t0 = performance.now();
    for (let k = 0; k < 3 || performance.now() - t0 < warmupMs; k++) fn();
  };
  for (const [index, c] of CASES.entries()) {
    const flops = 2 * c.macs;
    const [x, y] = c.shapes.map((s, k) => randomTensor(s, "f32", k + 1));
    let ours = einsumWith(c.spec, [x, y], { backend: "wasm", threads: 1 }).data;
    warmUp(() => einsumWith(c.spec, [x, y], { backend: "wasm", threads: 1 }));
    const tns = timeMedian(() => { ours = einsumWith(c.spec, [x, y], { backend: "wasm", threads: 1 }).data; }, { reps });
    const ta = tf.tensor3d(x.data, /** @type {[number, number, number]} */ (c.tfjs.a));
    const tb = tf.tensor3d(y.data, /** @type {[number, number, number]} */ (c.tfjs.b));
    /** @type {ArrayLike<number>} */
    let theirs = [];
    const tfjsRun = () => {
      const r = tf.matMul(ta, tb, false, c.tfjs.transposeB);
      theirs = /** @type {Float32Array} */ (r.dataSync());
      r.dispose();
    };
    warmUp(tfjsRun);
    const tfjs = timeMedian(tfjsRun, { reps });
    ta.dispose();
    tb.dispose();
    const worst = maxDiff(ours, theirs);
    if (worst > 1e-3 * Math.sqrt(c.macs)) throw new Error(`${c.name}: tns-wasm and tfjs-wasm disagree by ${worst}`);
    rows.push({ bench: c.name, impl: "tns-wasm", n: index, ms: tns, gflops: gflops(flops, tns) });
    rows.push({ bench: c.name, impl: "tfjs-wasm", n: index, ms: tfjs, gflops: gflops(flops, tfjs) });
  }
  const numpy = numpyTimes(CASES, reps);
  CASES.forEach((c, index) => {
    if (numpy) rows.push({ bench: c.name, impl: "numpy-1t", n: index, ms: numpy[index], gflops: gflops(2 * c.macs, numpy[index]) });
  });
  rows.sort((a, b) => a.n - b.n);
  console.log(formatRows(rows));
  for (const [index, c] of CASES.entries()) {
    const at = (/** @type {string} */ impl) => rows.find((r) => r.n === index && r.impl === impl);
    const ours = at("tns-wasm");
    let line = `${c.name} (${c.spec}): tns-wasm / tfjs-wasm = ${(ours.gflops / at("tfjs-wasm").gflops).toFixed(2)}x`;
    const np = at("numpy-1t");
    line += np ? `, tns-wasm / numpy-1t = ${(ours.gflops / np.gflops).toFixed(2)}x` : ", numpy: not available";
    console.log(line);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runEinsumWasmBench();
}
