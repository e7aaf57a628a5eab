/**
 * Every example in examples/ at its default sizes, on the JS backend or on
 * the WebAssembly one (its default threads): the optimized program against
 * `-O0` (function inlining only), with the FLOPs the cost model counts for
 * each. Run `npm run build` first; then `node bench/examples.js [wasm]`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compile, loadBackend, randomTensor } from "../dist/index.js";
import { programCost } from "../dist/passes/cost.js";
import { timeInterleaved } from "./util.js";

const DIR = new URL("../examples/", import.meta.url);

/**
 * Times each example both ways and prints a table. For `backend: "wasm"`,
 * `await loadBackend("wasm")` first.
 * @param {{ reps?: number, backend?: "js" | "wasm" }} [options]
 * @example const rows = runExamplesBench({ backend: "js" });
 */
export function runExamplesBench({ reps = 7, backend = "js" } = {}) {
  const rows = [];
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".tns")).sort()) {
    const source = readFileSync(new URL(name, DIR), "utf8");
    const file = `examples/${name}`;
    const fast = compile(source, { file, backend });
    const slow = compile(source, { file, backend, optimize: false });
    if (!fast.ok || !slow.ok) throw new Error(fast.formatDiagnostics() + slow.formatDiagnostics());
    const inputs = Object.fromEntries(fast.inputs.map((i, k) => [i.name, randomTensor(i.shape, i.dtype, k + 1)]));
    const [optimizedMs, unoptimizedMs] = timeInterleaved([() => fast.run(inputs), () => slow.run(inputs)], { warmup: 3, reps });
    fast.dispose();
    slow.dispose();
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const backend = process.argv[2] === "wasm" ? "wasm" : "js";
  if (backend === "wasm") await loadBackend("wasm");
  runExamplesBench({ backend });
}
