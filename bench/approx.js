/**
 * Approximations: examples/lowrank_mlp.tns at d = 1024, b = 64 with the
 * weights of examples/lowrank_mlp_weights.js (W1 rank 8, W2 Kronecker, W3
 * dense, each plus noise), compiled with and without
 * `--approx "lowrank:tol=1e-4;kron:tol=1e-4"` on the js and wasm backends
 * (one thread), timed in turns in one process. Prints the measured speedup
 * next to the cost model's predicted FLOP reduction, and the output error.
 * Run `npm run build` first; then `node bench/approx.js`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compileAsync, outputErrors, randomTensor } from "../dist/index.js";
import { programCost } from "../dist/passes/cost.js";
import { lowRankMlpWeights } from "../examples/lowrank_mlp_weights.js";
import { timeInterleaved } from "./util.js";

const SOURCE = readFileSync(new URL("../examples/lowrank_mlp.tns", import.meta.url), "utf8");
export const APPROX_SPEC = "lowrank:tol=1e-4;kron:tol=1e-4";

/**
 * Times the exact and the approximated program on each backend; one row per backend.
 * @example const rows = await runApproxBench();
 */
export async function runApproxBench({ d = 1024, b = 64, reps = 9 } = {}) {
  const weights = lowRankMlpWeights(d);
  const sizes = { d, b };
  const x = randomTensor([b, d], "f32", 1);
  const rows = [];
  for (const backend of ["js", "wasm"]) {
    const exact = await compileAsync(SOURCE, { sizes, weights, backend, threads: backend === "wasm" ? 1 : undefined });
    const t0 = performance.now();
    const approx = await compileAsync(SOURCE, { sizes, weights, backend, approx: APPROX_SPEC, threads: backend === "wasm" ? 1 : undefined });
    const compileMs = performance.now() - t0;
    if (!exact.ok || !approx.ok) throw new Error(exact.formatDiagnostics() + approx.formatDiagnostics());
    const flopsBefore = programCost(exact.ir).flops;
    const flopsAfter = programCost(approx.ir).flops;
    const [exactMs, approxMs] = timeInterleaved([() => exact.run({ x }), () => approx.run({ x })], { warmup: 2, reps });
    const error = outputErrors(exact.loweredIr, approx.loweredIr, { x }).y;
    rows.push({ backend, exactMs, approxMs, measured: exactMs / approxMs, predicted: flopsBefore / flopsAfter, flopsBefore, flopsAfter, error, compileMs,
      applied: approx.approximations.filter((a) => a.applied).map((a) => `${a.weight} ${a.kind}`) });
    exact.dispose();
    approx.dispose();
  }
  for (const r of rows) {
    console.log(`${r.backend.padEnd(4)}  exact ${r.exactMs.toFixed(2)} ms  approximated ${r.approxMs.toFixed(2)} ms  measured speedup ${r.measured.toFixed(2)}x  predicted FLOP reduction ${r.predicted.toFixed(2)}x (${r.flopsBefore.toLocaleString("en-US")} -> ${r.flopsAfter.toLocaleString("en-US")})  measured/predicted ${(r.measured / r.predicted).toFixed(2)}  output error ${r.error.toExponential(2)}  [${r.applied.join(", ")}; approximating took ${(r.compileMs / 1000).toFixed(1)} s]`);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runApproxBench();
