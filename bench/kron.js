/**
 * Kronecker inlining: y = (A ⊗ B) x with 64×64 factors (W is 4096×4096) and
 * a 3-factor product (16×16 factors, W 4096×4096), optimized against `-O0`
 * on the JS backend, in one run. The optimized program never builds W.
 * Run `npm run build` first; then `node bench/kron.js`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compile, randomTensor } from "../dist/index.js";
import { timeMedian } from "./util.js";

const KRON2 = readFileSync(new URL("../examples/kron_matvec.tns", import.meta.url), "utf8");
const KRON3 = `
size p = 16, q = 16, r = 16, s = 16, t = 16, u = 16
input A[p, q], B[r, s], C[t, u], x[q * s * u]
W[(a, b, e), (c, d, f)] = A[a, c] * B[b, d] * C[e, f]
output y[i] = W[i, j] * x[j]
`;

function timeBoth(name, source) {
  const fast = compile(source, { backend: "js" });
  const slow = compile(source, { backend: "js", optimize: false });
  if (!fast.ok || !slow.ok) throw new Error(fast.formatDiagnostics() + slow.formatDiagnostics());
  const inputs = Object.fromEntries(fast.inputs.map((i, k) => [i.name, randomTensor(i.shape, i.dtype, k + 1)]));
  const largest = Math.max(...fast.ir.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1)));
  const optimizedMs = timeMedian(() => fast.run(inputs), { warmup: 3, reps: 15 });
  const unoptimizedMs = timeMedian(() => slow.run(inputs), { warmup: 1, reps: 3 });
  return { name, optimizedMs, unoptimizedMs, speedup: unoptimizedMs / optimizedMs, largestTensor: largest };
}

/**
 * Times both Kronecker programs and prints one line each.
 * @example const rows = runKronBench();
 */
export function runKronBench() {
  const rows = [timeBoth("2 factors 64×64 (W 4096×4096)", KRON2), timeBoth("3 factors 16×16 (W 4096×4096)", KRON3)];
  for (const r of rows) {
    console.log(`${r.name.padEnd(32)} optimized ${r.optimizedMs.toFixed(2)} ms  -O0 ${r.unoptimizedMs.toFixed(1)} ms  speedup ${r.speedup.toFixed(0)}x  largest tensor ${r.largestTensor} elements`);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runKronBench();
