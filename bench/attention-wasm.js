/**
 * Attention (examples/attention.tns, d = 64 unless told) on one thread of tns's
 * WebAssembly backend, fused by the online softmax (one pass over the keys,
 * the scores never stored), against the matrix-product throughput the same
 * backend reaches on attention's own two products (S = Q·Kᵀ and O = P·V,
 * each 2·n²·d FLOPs, timed as separate programs), against tns with the
 * fusion left out (S, M, E stored), and against @tensorflow/tfjs-backend-wasm
 * (XNNPACK, one thread) running the same softmax(Q·Kᵀ/√d)·V, all in one
 * process, in turns, at n = 256, 1024, 2048, 4096. GFLOP/s count the two
 * products only (4·n²·d), for every implementation, so the columns compare
 * times at equal work. Every tns program runs with its inputs already in its
 * memory and its outputs read in place, as bench/matmul-wasm.js times the
 * product: the products' n × n operands are not copied in or out. The "of
 * matmul" column is the fused attention's time against the two products'
 * times added: 100% means attention costs no more than its two matrix
 * products at the same n and d; the "cpu" columns repeat it in this
 * process's CPU time, which leaves out the time other processes hold the
 * core on a loaded machine. The fused program is
 * compiled with the fusion forced (`minSavingBytes: 0`): the default
 * pipeline fuses only where it saves 16 MiB of peak memory, n ≥ 2048 at
 * d = 64.
 * Run `npm run build` first; then `node bench/attention-wasm.js [n ...] [d=D]`
 * (e.g. `node bench/attention-wasm.js 1024 d=128`).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { compileAsync } from "../dist/index.js";
import { defaultPipeline } from "../dist/passes/index.js";
import { fuseOnlineSoftmaxWith } from "../dist/passes/fuse-online-softmax.js";
import { randomTensor } from "../dist/runtime/random.js";
import { startTfjsWasm } from "./matmul-wasm.js";
import { gflops, median } from "./util.js";

const ATTENTION = readFileSync(new URL("../examples/attention.tns", import.meta.url), "utf8");

/** @param {string} source @param {Record<string, number>} sizes @param {object} [extra] */
async function wasmExe(source, sizes, extra = {}) {
  const r = await compileAsync(source, { backend: "wasm", sizes, threads: 1, ...extra });
  if (!r.ok) throw new Error(r.formatDiagnostics());
  return r;
}

/**
 * A tns program's run with its inputs written once into its own memory and
 * its outputs read in place (`inputBuffer`, `outputs: "view"`, as
 * bench/matmul-wasm.js times the product), so what is timed is the kernels
 * alone, not copies of the n × n operands in and out.
 * @param {Awaited<ReturnType<typeof wasmExe>>} r @param {Record<string, { data: ArrayLike<number> }>} inputs @param {string} output
 * @returns {() => ArrayLike<number>}
 */
function inPlace(r, inputs, output) {
  const bound = Object.fromEntries(Object.entries(inputs).map(([name, t]) => {
    const place = r.inputBuffer(name);
    place.data.set(t.data);
    return [name, place];
  }));
  return () => r.run(bound, { outputs: "view" })[output].data;
}

/** Process CPU time in milliseconds (user + system): on a loaded machine it leaves out the time other processes hold the core. */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Times every implementation at each n (`reps` rounds in turns after a warm-up of `warmupMs` each).
 * Each is timed in wall time and in this process's CPU time; the two agree on a quiet machine.
 * @param {{ sizes?: number[], d?: number, reps?: number, warmupMs?: number }} [options]
 */
export async function runAttentionWasmBench({ sizes = [256, 1024, 2048, 4096], d: D = 64, reps = 9, warmupMs = 1500 } = {}) {
  const tfjs = await startTfjsWasm().then(() => true, () => false);
  const rows = [];
  for (const n of sizes) {
    const inputs = { Q: randomTensor([n, D], "f32", 1), K: randomTensor([n, D], "f32", 2), V: randomTensor([n, D], "f32", 3) };
    const P = randomTensor([n, n], "f32", 4);
    const fusedPasses = defaultPipeline().map((p) => (p.name === "fuse-online-softmax" ? fuseOnlineSoftmaxWith({ minSavingBytes: 0 }) : p));
    const fused = await wasmExe(ATTENTION, { n, d: D }, { passes: fusedPasses });
    if (fused.ir.tensors.filter((t) => t.role === "def").length !== 1) throw new Error(`n=${n}: attention was not fused`);
    const unfusedPasses = defaultPipeline().filter((p) => p.name !== "fuse-online-softmax");
    const unfused = await wasmExe(ATTENTION, { n, d: D }, { passes: unfusedPasses });
    const qk = await wasmExe(`size n = ${n}, d = ${D}\ninput Q[n, d], K[n, d]\noutput S[i, j] = Q[i, k] * K[j, k]\n`, {});
    const pv = await wasmExe(`size n = ${n}, d = ${D}\ninput P[n, n], V[n, d]\noutput O[i, e] = P[i, j] * V[j, e]\n`, {});
    /** @type {ArrayLike<number>} */ let ours = [];
    /** @type {ArrayLike<number>} */ let theirs = [];
    const runFused = inPlace(fused, inputs, "O");
    const runQk = inPlace(qk, { Q: inputs.Q, K: inputs.K }, "S");
    const runPv = inPlace(pv, { P, V: inputs.V }, "O");
    const runUnfused = inPlace(unfused, inputs, "O");
    const fns = [() => { ours = runFused(); }, runQk, runPv, runUnfused];
    let tq, tk, tv;
    if (tfjs) {
      tq = tf.tensor2d(inputs.Q.data, [n, D]);
      tk = tf.tensor2d(inputs.K.data, [n, D]);
      tv = tf.tensor2d(inputs.V.data, [n, D]);
      fns.push(() => {
        const out = tf.tidy(() => tf.matMul(tf.softmax(tf.div(tf.matMul(tq, tk, false, true), Math.sqrt(D))), tv));
        theirs = out.dataSync();
        out.dispose();
      });
    }
    for (const f of fns) {
      const t0 = performance.now();
      for (let r = 0; r < 2 || performance.now() - t0 < warmupMs; r++) f();
    }
    const rounds = n >= 4096 ? Math.min(reps, 3) : reps;
    const wall = fns.map(() => []);
    const cpu = fns.map(() => []);
    for (let r = 0; r < rounds; r++) {
      fns.forEach((f, j) => {
        const [t0, c0] = [performance.now(), cpuMs()];
        f();
        cpu[j].push(cpuMs() - c0);
        wall[j].push(performance.now() - t0);
      });
    }
    const [fusedMs, qkMs, pvMs, unfusedMs, tfjsMs] = wall.map(median);
    const [fusedCpuMs, qkCpuMs, pvCpuMs] = cpu.map(median);
    const agree = Array.from(ours);
    if (tfjs) {
      let worst = 0;
      for (let q = 0; q < agree.length; q++) worst = Math.max(worst, Math.abs(agree[q] - theirs[q]));
      if (worst > 1e-4) throw new Error(`n=${n}: tns and tfjs-wasm attention disagree by ${worst}`);
      tq.dispose(); tk.dispose(); tv.dispose();
    }
    for (const r of [fused, unfused, qk, pv]) r.dispose?.();
    const flops = 4 * n * n * D;
    rows.push({
      n, d: D, fusedMs, qkMs, pvMs, unfusedMs, tfjsMs: tfjsMs ?? null, fusedCpuMs, qkCpuMs, pvCpuMs,
      fusedGflops: gflops(flops, fusedMs), matmulGflops: gflops(flops, qkMs + pvMs), ofMatmul: (qkMs + pvMs) / fusedMs,
      ofMatmulCpu: (qkCpuMs + pvCpuMs) / fusedCpuMs,
    });
  }
  return rows;
}

/** @param {Awaited<ReturnType<typeof runAttentionWasmBench>>} rows */
export function formatAttentionRows(rows) {
  const lines = [`${"n".padStart(5)} ${"d".padStart(4)} ${"fused ms".padStart(9)} ${"GFLOP/s".padStart(8)} ${"QK+PV ms".padStart(9)} ${"GFLOP/s".padStart(8)} ${"of matmul".padStart(9)} ${"cpu: fused".padStart(10)} ${"QK+PV".padStart(7)} ${"of matmul".padStart(9)} ${"unfused ms".padStart(10)} ${"tfjs ms".padStart(8)} ${"tns/tfjs".padStart(8)}`];
  for (const r of rows) {
    const vsTfjs = r.tfjsMs === null ? "n/a" : `${(r.tfjsMs / r.fusedMs).toFixed(2)}x`;
    lines.push(`${String(r.n).padStart(5)} ${String(r.d).padStart(4)} ${r.fusedMs.toFixed(2).padStart(9)} ${r.fusedGflops.toFixed(1).padStart(8)} ${(r.qkMs + r.pvMs).toFixed(2).padStart(9)} ${r.matmulGflops.toFixed(1).padStart(8)} ${`${(100 * r.ofMatmul).toFixed(0)}%`.padStart(9)} ${r.fusedCpuMs.toFixed(2).padStart(10)} ${(r.qkCpuMs + r.pvCpuMs).toFixed(2).padStart(7)} ${`${(100 * r.ofMatmulCpu).toFixed(0)}%`.padStart(9)} ${r.unfusedMs.toFixed(2).padStart(10)} ${(r.tfjsMs === null ? "n/a" : r.tfjsMs.toFixed(2)).padStart(8)} ${vsTfjs.padStart(8)}`);
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { loadavg } = await import("node:os");
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const args = process.argv.slice(2);
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const d = Number(args.find((a) => a.startsWith("d="))?.slice(2) ?? 64);
  console.log(formatAttentionRows(await runAttentionWasmBench({ ...(sizes.length > 0 ? { sizes } : {}), d })));
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
