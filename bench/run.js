// `npm run bench`: every benchmark of the project, side by side with its
// peers in one run, printing ratios. Record results in docs/benchmarks.md.
import os from "node:os";
import { runMatmulJsBench } from "./matmul-js.js";
import { runFrontendBench } from "./frontend.js";
import { formatRows } from "./util.js";

console.log(`machine: ${os.cpus()[0]?.model ?? "unknown cpu"}, ${os.cpus().length} cores, node ${process.version}`);

const rows = await runMatmulJsBench();
console.log("\nfloat32 matmul, JS backend vs @tensorflow/tfjs-backend-cpu (single thread, median)");
console.log(formatRows(rows));
for (let k = 0; k + 1 < rows.length; k += 2) {
  console.log(`n=${rows[k].n}: tns-js / tfjs-cpu = ${(rows[k].gflops / rows[k + 1].gflops).toFixed(2)}x`);
}

const fe = runFrontendBench();
console.log(`\nfront end: ${fe.statements}-statement program, parse + check + lower: ${fe.medianMs.toFixed(2)} ms median (min ${fe.minMs.toFixed(2)} ms, first fresh program ${fe.coldishMs.toFixed(2)} ms)`);
