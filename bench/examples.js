/**
 * Every example in examples/ on the JS backend at its default sizes: the
 * optimized program against `-O0` (function inlining only), with the FLOPs
 * the cost model counts for each. Run `npm run build` first; then
 * `node bench/examples.js`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compile, randomTensor } from "../dist/index.js";
import { programCost } from "../dist/passes/cost.js";
import { timeInterleaved } from "./util.js";

const DIR = new URL("../examples/", import.meta.url);

/**
 * Times each example both ways and prints a table.
 * @example const rows = runExamplesBench();
 */
export function runExamplesBench({ reps = 7 } = {}) {
  const rows = [];
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".tns")).sort()) {
    const source = readFileSync(new URL(name, DIR), "utf8");
    const file = `examples/${name}`;
    const fast = compile(source, { file, backend: "js" });
    const slow = compile(source, { file, backend: "js", optimize: false });
    if (!fast.ok || !slow.ok) throw new Error(fast.formatDiagnostics() + slow.formatDiagnostics());
    const inputs = Object.fromEntries(fast.inputs.map((i, k) => [i.name, randomTensor(i.shape, i.dtype, k + 1)]));
    const [optimizedMs, unoptimizedMs] = timeInterleaved([() => fast.run(inputs), () => slow.run(inputs)], { warmup: 3, reps });
    rows.push({
      name,
      optimizedMs,
      unoptimizedMs,
      speedup: unoptimizedMs / optimizedMs,
      flopsBefore: programCost(slow.ir).flops,
      flopsAfter: programCost(fast.ir).flops,
    });
  }
  console.log(`${"example".padEnd(22)} ${"optimized ms".padStart(13)} ${"-O0 ms".padStart(10)} ${"speedup".padStart(8)} ${"FLOPs -O0".padStart(12)} ${"FLOPs opt".padStart(12)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(22)} ${r.optimizedMs.toFixed(2).padStart(13)} ${r.unoptimizedMs.toFixed(2).padStart(10)} ${(r.speedup.toFixed(2) + "x").padStart(8)} ${r.flopsBefore.toExponential(2).padStart(12)} ${r.flopsAfter.toExponential(2).padStart(12)}`);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runExamplesBench();
