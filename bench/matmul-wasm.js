/**
 * float32 matrix product C[i, j] = sum_k A[i, k] * B[k, j] at n = 256, 512
 * and 1024: the tns WebAssembly backend (SIMD128, one thread) against
 * TensorFlow.js's WebAssembly backend (XNNPACK, SIMD on, threads off), with
 * the tns JavaScript backend for reference, in the same process on the same
 * data; then, at n = 512 and 1024, the tns WebAssembly backend on one and on
 * two threads (`tns-wasm2t`), timed alternately so that both see the same
 * load on a shared machine.
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
import { formatRows, gflops, median, timeInterleaved, timeInterleavedSamples, timeMedian } from "./util.js";

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
 * Times the tns WebAssembly backend on one and on two threads at each size
 * (alternately, after warming both up) and checks that the two give the same
 * bits. Both run with their inputs in place and their output as a view
 * (`inputBuffer`, `outputs: "view"`), so what is timed is the product.
 * @param {{ sizes?: number[], reps?: number, warmupMs?: number }} [options]
 * @returns {Promise<Row[]>} rows `tns-wasm1t` and `tns-wasm2t`
 * @example const rows = await runMatmulThreadsBench({ sizes: [512] });
 */
export async function runMatmulThreadsBench({ sizes = [512, 1024], reps = 9, warmupMs = 4000 } = {}) {
  const one = await wasmBackend({ threads: 1 });
  const two = await wasmBackend({ threads: 2 });
  /** @type {Row[]} */
  const rows = [];
  for (const n of sizes) {
    const flops = 2 * n * n * n;
    const A = randomTensor([n, n], "f32", 1);
    const B = randomTensor([n, n], "f32", 2);
    const compiled = [one, two].map((w) => w.compile(matmulProgram(n)));
    if (!compiled[1].code.includes("_unit")) throw new Error(`matmul n=${n}: the two-thread module splits nothing`);
    const exes = compiled.map((c) => c.executable);
    // Inputs written once into each module's memory and the output read in place: the run is the product alone.
    const bound = exes.map((exe) => {
      const a = exe.inputBuffer("A");
      const b = exe.inputBuffer("B");
      a.data.set(A.data);
      b.data.set(B.data);
      return { A: a, B: b };
    });
    /** @type {ArrayLike<number>[]} */
    const outs = [[], []];
    const runs = exes.map((exe, k) => () => { outs[k] = exe.run(bound[k], { outputs: "view" })["C"].data; });
    for (const run of runs) warmUp(run, warmupMs);
    const [times1, times2] = timeInterleavedSamples(runs, { warmup: 1, reps });
    const [ms1, ms2] = [median(times1), median(times2)];
    for (let k = 0; k < outs[0].length; k++) {
      if (!Object.is(outs[0][k], outs[1][k])) throw new Error(`matmul n=${n}: one and two threads differ at ${k}`);
    }
    for (const exe of exes) exe.dispose?.();
    // The best round too: on a shared machine two threads need both cores at once, so load shows in the median first.
    rows.push({ bench: "matmul-wasm", impl: "tns-wasm1t", n, ms: ms1, gflops: gflops(flops, ms1), bestMs: Math.min(...times1) });
    rows.push({ bench: "matmul-wasm", impl: "tns-wasm2t", n, ms: ms2, gflops: gflops(flops, ms2), bestMs: Math.min(...times2) });
  }
  return rows;
}

/**
 * Times tns-wasm (one thread), tfjs-wasm and tns-js at each size and checks
 * they agree; then {@link runMatmulThreadsBench} at `threadSizes`.
 * @param {{ sizes?: number[], reps?: number, jsUpTo?: number, warmupMs?: number, threadSizes?: number[] }} [options]
 *   `jsUpTo`: largest n timed on the JS backend; `warmupMs`: warm-up time per WebAssembly implementation and size
 * @returns {Promise<Row[]>}
 * @example const rows = await runMatmulWasmBench({ sizes: [256], threadSizes: [] });
 */
export async function runMatmulWasmBench({ sizes = [256, 512, 1024], reps = 7, jsUpTo = 512, warmupMs = 4000, threadSizes = [512, 1024] } = {}) {
  await startTfjsWasm();
  // One thread, like the tfjs-wasm binary it is compared with.
  const wasm = await wasmBackend({ threads: 1 });
  /** @type {Row[]} */
  const rows = [];
  for (const n of sizes) {
    const flops = 2 * n * n * n;
    const A = randomTensor([n, n], "f32", 1);
    const B = randomTensor([n, n], "f32", 2);
    const exe = wasm.compile(matmulProgram(n)).executable;
    let ours = exe.run({ A, B })["C"].data;
    const tnsRun = () => { ours = exe.run({ A, B })["C"].data; };
    warmUp(tnsRun, warmupMs);
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
    // In turns, so that load on the shared machine falls on both alike.
    const [tnsWasm, tfjs] = timeInterleaved([tnsRun, tfjsRun], { warmup: 1, reps });
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
  rows.push(...(await runMatmulThreadsBench({ sizes: threadSizes, warmupMs })));
  return rows;
}

/**
 * One line per size: two threads' GFLOP/s over one thread's.
 * @param {Row[]} rows
 * @returns {string[]}
 */
export function threadRatioLines(rows) {
  const lines = [];
  for (const n of new Set(rows.filter((r) => r.impl === "tns-wasm2t").map((r) => r.n))) {
    const one = rows.find((r) => r.n === n && r.impl === "tns-wasm1t");
    const two = rows.find((r) => r.n === n && r.impl === "tns-wasm2t");
    const best = one.bestMs !== undefined && two.bestMs !== undefined ? ` (best rounds: ${one.bestMs.toFixed(1)} -> ${two.bestMs.toFixed(1)} ms, ${(one.bestMs / two.bestMs).toFixed(2)}x)` : "";
    lines.push(`n=${n}: tns-wasm 2 threads / 1 thread = ${(two.gflops / one.gflops).toFixed(2)}x${best}`);
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { loadavg } = await import("node:os");
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const rows = await runMatmulWasmBench();
  console.log(formatRows(rows));
  for (const line of threadRatioLines(rows)) console.log(line);
  for (const n of new Set(rows.filter((r) => r.impl === "tns-wasm").map((r) => r.n))) {
    const at = (impl) => rows.find((r) => r.n === n && r.impl === impl);
    const ours = at("tns-wasm");
    const theirs = at("tfjs-wasm");
    const js = at("tns-js");
    let line = `n=${n}: tns-wasm / tfjs-wasm = ${(ours.gflops / theirs.gflops).toFixed(2)}x`;
    if (js) line += `, tns-wasm / tns-js = ${(ours.gflops / js.gflops).toFixed(2)}x`;
    console.log(line);
  }
}
