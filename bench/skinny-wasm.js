/**
 * Skinny and memory-bound float32 products on one thread: tns's WebAssembly
 * backend against TensorFlow.js's WebAssembly backend (XNNPACK, SIMD on,
 * threads off) in the same process, timed in turns. Shapes are M × K × N of
 * `C[i, j] = A[i, k] * B[k, j]`; `W·x` is `y[i] = W[i, k] * x[k]` with
 * W row-major (4096 × 4096 × 1), `x·W` the rank-1 vector form. Besides
 * GFLOP/s, the rate at which the large operand (the weight) is read, in GB/s,
 * and, for reference, the machine's plain read of a 256 MiB typed array.
 * Run `npm run build` first; then `node bench/skinny-wasm.js` (the shapes
 * above), `node bench/skinny-wasm.js NAME...` (some of them), or `node
 * bench/skinny-wasm.js --sweep [NAME | PREFIX*]...` (the broader sweep of
 * {@link sweepCases}, a shorter warm-up (0.8 s each) and 9 rounds, the slowest ten against
 * tfjs listed at the end).
 */
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { wasmBackend } from "../dist/backends/wasm/index.js";
import { parseProgramText } from "../dist/ir/parse-text.js";
import { randomTensor } from "../dist/runtime/random.js";
import { startTfjsWasm } from "./matmul-wasm.js";
import { gflops, median, timeInterleavedSamples } from "./util.js";

/**
 * The shapes of issue 14's table, and the two matrix-vector layouts, with
 * the large operand an `input`; then the one-row shapes again with it a
 * `weight` (bound at compile time, so the module keeps it in column panels:
 * src/backends/wasm/panels.ts). TensorFlow.js treats `B` as a weight in both
 * (its XNNPACK operator, with `B` packed, is cached per tensor and reused by
 * every call).
 */
export const SKINNY_CASES = [
  { name: "1x4096x4096", m: 1, k: 4096, n: 4096 },
  { name: "4x4096x4096", m: 4, k: 4096, n: 4096 },
  { name: "16x4096x4096", m: 16, k: 4096, n: 4096 },
  { name: "4096x4096x1", m: 4096, k: 4096, n: 1 },
  { name: "1x1024x4096", m: 1, k: 1024, n: 4096 },
  { name: "8x768x3072", m: 8, k: 768, n: 3072 },
  { name: "x·W 4096 (vector)", m: 1, k: 4096, n: 4096, vector: "xW" },
  { name: "W·x 4096 (vector)", m: 4096, k: 4096, n: 1, vector: "Wx" },
  { name: "1x4096x4096 weight", m: 1, k: 4096, n: 4096, weight: true },
  { name: "1x1024x4096 weight", m: 1, k: 1024, n: 4096, weight: true },
  { name: "x·W 4096 weight", m: 1, k: 4096, n: 4096, vector: "xW", weight: true },
];

/** The sizes of K and N the sweep combines: powers of two, transformer widths, and ones not divisible by 4 or 8. */
const SWEEP_SIZES = [768, 1024, 3072, 4096, 1000, 4095];

/**
 * The broader sweep (`--sweep`): M in 1, 2, 3, 4, 8, 16, 32 against every K and
 * N of {@link SWEEP_SIZES}, and M = 1 again with `B` a weight; the transposed forms (a few columns: 4096 × 4096 ×
 * 1, 2, 4, 8 and odd ones); both vector layouts at several sizes; odd sizes.
 * @param {string[]} [filter] keep the cases whose name contains one of these
 */
export function sweepCases(filter = []) {
  /** @type {{ name: string, m: number, k: number, n: number, vector?: string, weight?: boolean }[]} */
  const out = [];
  const add = (/** @type {number} */ m, /** @type {number} */ k, /** @type {number} */ n, /** @type {string | undefined} */ vector, weight = false) => {
    const name = (vector ? `${vector} ${vector === "xW" ? `${k}x${n}` : `${m}x${k}`}` : `${m}x${k}x${n}`) + (weight ? " weight" : "");
    out.push({ name, m, k, n, ...(vector ? { vector } : {}), ...(weight ? { weight } : {}) });
  };
  for (const m of [1, 2, 3, 4, 8, 16, 32]) for (const k of SWEEP_SIZES) for (const n of SWEEP_SIZES) add(m, k, n);
  // One row times a weight: the weight in column panels.
  for (const k of SWEEP_SIZES) for (const n of SWEEP_SIZES) add(1, k, n, undefined, true);
  for (const n of [1, 2, 3, 4, 8]) for (const [m, k] of [[4096, 4096], [3072, 768], [4095, 1000], [1000, 4095], [1024, 1024]]) add(m, k, n);
  for (const [k, n] of [[4096, 4096], [1024, 4096], [768, 3072], [4095, 4095], [1000, 1000]]) {
    add(1, k, n, "xW");
    add(n, k, 1, "Wx");
  }
  for (const [m, k, n] of [[5, 1001, 999], [7, 4095, 4093], [13, 333, 4097], [17, 1024, 4096], [1, 4097, 4099]]) add(m, k, n);
  return filter.length === 0 ? out : out.filter((c) => filter.some((f) => c.name === f || (f.endsWith("*") && c.name.startsWith(f.slice(0, -1)))));
}

/**
 * The program of a case; with `weight`, `B` is a weight bound to `data`.
 * @param {{ m: number, k: number, n: number, vector?: string, weight?: boolean }} c
 * @param {Float32Array} data
 */
function programOf(c, data) {
  const b = c.weight ? "weight" : "input";
  const options = c.weight ? { weights: { B: Float64Array.from(data) } } : {};
  if (c.vector === "xW") return parseProgramText(`input A: f32[${c.k}]\n${b} B: f32[${c.k}, ${c.n}]\noutput C: f32[${c.n}] = [j:${c.n}] sum(k:${c.k}) A[k] * B[k, j]\n`, options);
  if (c.vector === "Wx") return parseProgramText(`input A: f32[${c.m}, ${c.k}]\n${b} B: f32[${c.k}]\noutput C: f32[${c.m}] = [i:${c.m}] sum(k:${c.k}) A[i, k] * B[k]\n`, options);
  return parseProgramText(`input A: f32[${c.m}, ${c.k}]\n${b} B: f32[${c.k}, ${c.n}]\noutput C: f32[${c.m}, ${c.n}] = [i:${c.m}, j:${c.n}] sum(k:${c.k}) A[i, k] * B[k, j]\n`, options);
}

/** Milliseconds to read every element of a 256 MiB Float32Array once (the best of 5): the machine's plain read. */
export function plainReadGBs() {
  const big = new Float32Array(64 * 2 ** 20);
  big.fill(1);
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let s = 0;
    for (let q = 0; q < big.length; q++) s += big[q];
    best = Math.min(best, performance.now() - t0);
    sink += s;
  }
  if (sink === 0) throw new Error("unreachable");
  return big.byteLength / (best * 1e6);
}

/**
 * Times each case, tns and tfjs in turns (`reps` rounds after a warm-up of
 * `warmupMs` each), checks they agree, and returns one row per case: the
 * ratio of the medians, and of the fastest rounds (`bestRatio`: each side
 * at its least disturbed, a check on the median when the machine is busy).
 * @param {{ reps?: number, warmupMs?: number, cases?: { name: string, m: number, k: number, n: number, vector?: string, weight?: boolean }[], onRow?: (row: any) => void }} [options]
 */
export async function runSkinnyWasmBench({ reps = 15, warmupMs = 1500, cases = SKINNY_CASES, onRow = undefined } = {}) {
  await startTfjsWasm();
  const wasm = await wasmBackend({ threads: 1 });
  const rows = [];
  for (const c of cases) {
    const flops = 2 * c.m * c.n * c.k;
    const aShape = c.vector === "xW" ? [c.k] : [c.m, c.k];
    const bShape = c.vector === "Wx" ? [c.k] : [c.k, c.n];
    const A = randomTensor(aShape, "f32", 1);
    const B = randomTensor(bShape, "f32", 2);
    const exe = wasm.compile(programOf(c, /** @type {Float32Array} */ (B.data))).executable;
    const a = exe.inputBuffer("A");
    a.data.set(A.data);
    /** @type {Record<string, import("../dist/runtime/tensor.js").Tensor>} */
    const inputs = { A: a };
    if (!c.weight) {
      inputs["B"] = exe.inputBuffer("B");
      inputs["B"].data.set(B.data);
    }
    /** @type {ArrayLike<number>} */
    let ours = [];
    const tnsRun = () => { ours = exe.run(inputs, { outputs: "view" })["C"].data; };
    const ta = tf.tensor2d(A.data, [c.m, c.k]);
    const tb = tf.tensor2d(B.data, [c.k, c.n]);
    /** @type {ArrayLike<number>} */
    let theirs = [];
    const tfjsRun = () => {
      const out = tf.matMul(ta, tb);
      theirs = /** @type {Float32Array} */ (out.dataSync());
      out.dispose();
    };
    for (const f of [tnsRun, tfjsRun]) {
      const t0 = performance.now();
      for (let r = 0; r < 3 || performance.now() - t0 < warmupMs; r++) f();
    }
    const [tnsTimes, tfjsTimes] = timeInterleavedSamples([tnsRun, tfjsRun], { warmup: 1, reps });
    ta.dispose();
    tb.dispose();
    let worst = 0;
    let scale = 0;
    for (let q = 0; q < ours.length; q++) {
      worst = Math.max(worst, Math.abs(ours[q] - theirs[q]));
      scale = Math.max(scale, Math.abs(theirs[q]));
    }
    if (worst > 1e-4 * scale) throw new Error(`${c.name}: tns-wasm and tfjs-wasm disagree by ${worst} (largest ${scale})`);
    const weightBytes = 4 * Math.max(c.m, c.n) * c.k;
    const [tnsMs, tfjsMs] = [median(tnsTimes), median(tfjsTimes)];
    const row = {
      case: c.name, tnsMs, tfjsMs, tnsGflops: gflops(flops, tnsMs), tfjsGflops: gflops(flops, tfjsMs),
      tnsGBs: weightBytes / (tnsMs * 1e6), tfjsGBs: weightBytes / (tfjsMs * 1e6), ratio: tfjsMs / tnsMs,
      bestRatio: Math.min(...tfjsTimes) / Math.min(...tnsTimes),
    };
    rows.push(row);
    onRow?.(row);
    exe.dispose?.();
  }
  return rows;
}

/** @param {Awaited<ReturnType<typeof runSkinnyWasmBench>>} rows */
export function formatSkinnyRows(rows) {
  const lines = [`${"M x K x N".padEnd(20)} ${"tns ms".padStart(8)} ${"GFLOP/s".padStart(8)} ${"W GB/s".padStart(7)} ${"tfjs ms".padStart(8)} ${"GFLOP/s".padStart(8)} ${"W GB/s".padStart(7)} ${"tns/tfjs".padStart(8)} ${"best".padStart(6)}`];
  for (const r of rows) {
    lines.push(`${r.case.padEnd(20)} ${r.tnsMs.toFixed(3).padStart(8)} ${r.tnsGflops.toFixed(1).padStart(8)} ${r.tnsGBs.toFixed(1).padStart(7)} ${r.tfjsMs.toFixed(3).padStart(8)} ${r.tfjsGflops.toFixed(1).padStart(8)} ${r.tfjsGBs.toFixed(1).padStart(7)} ${(r.ratio.toFixed(2) + "x").padStart(8)} ${(r.bestRatio.toFixed(2) + "x").padStart(6)}`);
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { loadavg } = await import("node:os");
  const args = process.argv.slice(2);
  const sweep = args.includes("--sweep");
  const only = args.filter((a) => !a.startsWith("--"));
  const cases = sweep ? sweepCases(only) : only.length > 0 ? SKINNY_CASES.filter((c) => only.includes(c.name)) : SKINNY_CASES;
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`plain read of a 256 MiB Float32Array: ${plainReadGBs().toFixed(1)} GB/s`);
  const rows = await runSkinnyWasmBench(sweep ? { cases, reps: 9, warmupMs: 800, onRow: (r) => console.log(formatSkinnyRows([r]).split("\n")[1]) } : { cases });
  if (!sweep) console.log(formatSkinnyRows(rows));
  else {
    const worst = [...rows].sort((a, b) => a.ratio - b.ratio).slice(0, 10);
    console.log(`\n${rows.length} cases; the slowest against tfjs:\n${formatSkinnyRows(worst)}`);
    // One run on a shared machine can catch a burst of load on one side: those under 1.05x run again, longer.
    const again = rows.filter((r) => r.ratio < 1.05).map((r) => cases.find((c) => c.name === r.case));
    if (again.length > 0) console.log(`\nagain, 15 rounds:\n${formatSkinnyRows(await runSkinnyWasmBench({ cases: again, reps: 15, warmupMs: 500 }))}`);
  }
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
