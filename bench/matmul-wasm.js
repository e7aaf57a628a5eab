/**
 * float32 matrix product C[i, j] = sum_k A[i, k] * B[k, j] at n = 256, 512
 * and 1024: the tns WebAssembly backend (SIMD128) against TensorFlow.js's
 * WebAssembly backend (XNNPACK, SIMD on, threads off), with the tns
 * JavaScript backend for reference, in the same process on the same data.
 * Run `npm run build` first; then `node bench/matmul-wasm.js`.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { jsBackend } from "../dist/backends/backend.js";
import { wasmBackend } from "../dist/backends/wasm/index.js";
import { parseProgramText } from "../dist/ir/parse-text.js";
import { randomTensor } from "../dist/runtime/random.js";
import { formatRows, gflops, timeMedian } from "./util.js";

/** @typedef {import("./util.js").Row} Row */

/**
 * The IR of an n×n×n float32 matrix product.
 * @param {number} n
 */
function matmulProgram(n) {
  return parseProgramText(
    `input A: f32[${n}, ${n}]\ninput B: f32[${n}, ${n}]\noutput C: f32[${n}, ${n}] = [i:${n}, j:${n}] sum(k:${n}) A[i, k] * B[k, j]\n`,
  );
}

/** Starts tfjs's wasm backend with the single-threaded SIMD binary from node_modules. */
export async function startTfjsWasm() {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"));
  setWasmPaths(join(dist, "/"));
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend did not start");
  await tf.ready();
}

/**
 * Calls `fn` for at least `ms` milliseconds (and at least 3 times). V8 runs
 * new WebAssembly code in its baseline tier (Liftoff) and swaps in optimized
 * code compiled in the background. Right after binaryen (itself a 15 MB wasm
 * module) has run, its own tier-up jobs fill that background queue, and a
 * freshly compiled tns module can stay in the baseline tier for a few
 * seconds; so both WebAssembly implementations are warmed up by time.
 * @param {() => void} fn
 * @param {number} ms
 */
function warmUp(fn, ms) {
  const t0 = performance.now();
  for (let k = 0; k < 3 || performance.now() - t0 < ms; k++) fn();
}

/**
 * Largest difference between two float32 results.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
function maxDiff(a, b) {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/**
 * Times tns-wasm, tfjs-wasm and tns-js at each size and checks they agree.
 * @param {{ sizes?: number[], reps?: number, jsUpTo?: number, warmupMs?: number }} [options]
 *   `jsUpTo`: largest n timed on the JS backend; `warmupMs`: warm-up time per WebAssembly implementation and size
 * @returns {Promise<Row[]>}
 * @example const rows = await runMatmulWasmBench({ sizes: [256] });
 */
export async function runMatmulWasmBench({ sizes = [256, 512, 1024], reps = 7, jsUpTo = 512, warmupMs = 4000 } = {}) {
  await startTfjsWasm();
  const wasm = await wasmBackend();
  /** @type {Row[]} */
  const rows = [];
  for (const n of sizes) {
    const flops = 2 * n * n * n;
    const A = randomTensor([n, n], "f32", 1);
    const B = randomTensor([n, n], "f32", 2);
    const exe = wasm.compile(matmulProgram(n)).executable;
    let ours = exe.run({ A, B })["C"].data;
    warmUp(() => exe.run({ A, B }), warmupMs);
    const tnsWasm = timeMedian(() => { ours = exe.run({ A, B })["C"].data; }, { reps });
    const ta = tf.tensor2d(A.data, [n, n]);
    const tb = tf.tensor2d(B.data, [n, n]);
    /** @type {ArrayLike<number>} */
    let theirs = [];
    const tfjsRun = () => {
      const c = tf.matMul(ta, tb);
      theirs = /** @type {Float32Array} */ (c.dataSync());
      c.dispose();
    };
    warmUp(tfjsRun, warmupMs);
    const tfjs = timeMedian(tfjsRun, { reps });
    ta.dispose();
    tb.dispose();
    const worst = maxDiff(ours, theirs);
    if (worst > 1e-3 * n) throw new Error(`matmul n=${n}: tns-wasm and tfjs-wasm disagree by ${worst}`);
    rows.push({ bench: "matmul-wasm", impl: "tns-wasm", n, ms: tnsWasm, gflops: gflops(flops, tnsWasm) });
    rows.push({ bench: "matmul-wasm", impl: "tfjs-wasm", n, ms: tfjs, gflops: gflops(flops, tfjs) });
    if (n <= jsUpTo) {
      const js = jsBackend.compile(matmulProgram(n)).executable;
      const tnsJs = timeMedian(() => { js.run({ A, B }); }, { reps: Math.min(reps, 3), warmup: 1 });
      rows.push({ bench: "matmul-wasm", impl: "tns-js", n, ms: tnsJs, gflops: gflops(flops, tnsJs) });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runMatmulWasmBench();
  console.log(formatRows(rows));
  for (const n of new Set(rows.map((r) => r.n))) {
    const at = (impl) => rows.find((r) => r.n === n && r.impl === impl);
    const ours = at("tns-wasm");
    const theirs = at("tfjs-wasm");
    const js = at("tns-js");
    let line = `n=${n}: tns-wasm / tfjs-wasm = ${(ours.gflops / theirs.gflops).toFixed(2)}x`;
    if (js) line += `, tns-wasm / tns-js = ${(ours.gflops / js.gflops).toFixed(2)}x`;
    console.log(line);
  }
}
