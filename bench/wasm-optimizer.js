/**
 * What binaryen's optimizer (-O3) buys over tns's own encoder: the same
 * kernel programs compiled both ways on one thread, in one process: the
 * time to build the module (`compile`, binaryen already loaded), the first
 * run of the new module (V8 compiles each function on its first call, at
 * its baseline tier, and tiers up between calls) and the median of later
 * runs, timed in turns. Cases: square and skinny products, fused attention
 * and every example at its default sizes. Then the first run as `tns run`
 * meets it: fresh processes, `tns run EXAMPLE --random-inputs --no-cache`
 * with and without `--optimize-wasm` in turns, the run time the command
 * prints ("ran in", the module's first run; loading binaryen not included).
 * Run `npm run build` first; then `node bench/wasm-optimizer.js`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compileAsync, randomTensor } from "../dist/index.js";
import { loadBinaryen } from "../dist/backends/wasm/index.js";
import { median, timeInterleavedSamples } from "./util.js";

const DIR = new URL("../examples/", import.meta.url);
const product = (m, k, n) => `size M = ${m}, K = ${k}, N = ${n}\ninput A[M, K], B[K, N]\noutput C[i, j] = A[i, k] * B[k, j]\n`;

/** The cases: name, source, sizes. */
function cases() {
  const attention = readFileSync(new URL("attention.tns", DIR), "utf8");
  const list = [
    { name: "matmul 256", source: product(256, 256, 256) },
    { name: "matmul 1024", source: product(1024, 1024, 1024) },
    { name: "skinny 1x4096x4096", source: product(1, 4096, 4096) },
    { name: "skinny 8x768x3072", source: product(8, 768, 3072) },
    { name: "attention n=1024", source: attention, sizes: { n: 1024 } },
  ];
  for (const f of readdirSync(DIR).filter((x) => x.endsWith(".tns")).sort()) {
    list.push({ name: `examples/${f}`, source: readFileSync(new URL(f, DIR), "utf8"), file: `examples/${f}` });
  }
  return list;
}

/**
 * Times every case with and without the optimizer; returns one row per case.
 * @param {{ reps?: number }} [options]
 */
export async function runWasmOptimizerBench({ reps = 9 } = {}) {
  await loadBinaryen();
  const rows = [];
  for (const c of cases()) {
    const built = [];
    for (const optimizeWasm of [false, true]) {
      const t0 = performance.now();
      const r = await compileAsync(c.source, { backend: "wasm", threads: 1, sizes: c.sizes, file: c.file, optimizeWasm });
      const compileMs = performance.now() - t0;
      if (!r.ok) throw new Error(`${c.name}: ${r.formatDiagnostics()}`);
      built.push({ r, compileMs });
    }
    const inputs = Object.fromEntries(built[0].r.inputs.map((i, k) => [i.name, randomTensor(i.shape, i.dtype, k + 1)]));
    // First runs: each module's first call (its functions compiled on that call), the encoder's first.
    let first;
    try {
      first = built.map(({ r }) => {
        const t0 = performance.now();
        r.run(inputs);
        return performance.now() - t0;
      });
    } catch {
      // Index inputs (gathers) need data in range, which random data is not: skipped.
      for (const { r } of built) r.dispose();
      continue;
    }
    const samples = timeInterleavedSamples(built.map(({ r }) => () => r.run(inputs)), { warmup: 2, reps });
    for (const { r } of built) r.dispose();
    rows.push({
      name: c.name,
      encoderCompileMs: built[0].compileMs, optimizedCompileMs: built[1].compileMs,
      encoderFirstMs: first[0], optimizedFirstMs: first[1],
      encoderMs: median(samples[0]), optimizedMs: median(samples[1]),
      encoderBestMs: Math.min(...samples[0]), optimizedBestMs: Math.min(...samples[1]),
    });
  }
  return rows;
}

/** @param {Awaited<ReturnType<typeof runWasmOptimizerBench>>} rows */
export function formatWasmOptimizerRows(rows) {
  const head = `${"case".padEnd(34)} ${"compile enc".padStart(11)} ${"-O3".padStart(7)} ${"first enc".padStart(10)} ${"-O3".padStart(8)} ${"median enc".padStart(11)} ${"-O3".padStart(9)} ${"-O3 / enc".padStart(10)} ${"best enc".padStart(9)} ${"-O3".padStart(9)}`;
  const lines = rows.map((r) => [
    r.name.padEnd(34),
    `${r.encoderCompileMs.toFixed(1)}`.padStart(11), `${r.optimizedCompileMs.toFixed(1)}`.padStart(7),
    `${r.encoderFirstMs.toFixed(2)}`.padStart(10), `${r.optimizedFirstMs.toFixed(2)}`.padStart(8),
    `${r.encoderMs.toFixed(3)}`.padStart(11), `${r.optimizedMs.toFixed(3)}`.padStart(9),
    `${(r.optimizedMs / r.encoderMs).toFixed(2)}x`.padStart(10),
    `${r.encoderBestMs.toFixed(3)}`.padStart(9), `${r.optimizedBestMs.toFixed(3)}`.padStart(9),
  ].join(" "));
  return [`${head}\n(milliseconds; "-O3 / enc" < 1 means the optimized module runs faster)`, ...lines].join("\n");
}

/**
 * First runs in fresh processes: `tns run` with and without `--optimize-wasm`, in turns.
 * @param {{ reps?: number, examples?: string[] }} [options]
 * @returns {string} a table
 */
export function firstRunLines({ reps = 5, examples = ["attention", "causal_attention", "mlp", "tucker", "conv2d", "layernorm", "char_rnn", "train_mlp"] } = {}) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const ranIn = (args) => {
    const r = spawnSync(process.execPath, ["bin/tns.js", "run", ...args], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tns run ${args.join(" ")}: ${r.stderr}`);
    return Number(/ran in ([0-9.]+) ms/.exec(r.stdout)?.[1] ?? NaN);
  };
  const lines = [`${"tns run EXAMPLE --no-cache".padEnd(34)} ${"ran in, enc".padStart(12)} ${"-O3".padStart(8)}  (median of ${reps} fresh processes each, ms)`];
  for (const name of examples) {
    const times = [[], []];
    for (let k = 0; k < reps; k++) {
      times[0].push(ranIn([`examples/${name}.tns`, "--random-inputs", "--no-cache"]));
      times[1].push(ranIn([`examples/${name}.tns`, "--random-inputs", "--no-cache", "--optimize-wasm"]));
    }
    lines.push(`${name.padEnd(34)} ${median(times[0]).toFixed(2).padStart(12)} ${median(times[1]).toFixed(2).padStart(8)}`);
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatWasmOptimizerRows(await runWasmOptimizerBench({ reps: 15 })));
  console.log(firstRunLines());
}
