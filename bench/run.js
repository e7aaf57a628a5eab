// `npm run bench`: every benchmark of the project, side by side with its
// peers in one run, printing ratios. Record results in docs/benchmarks.md.
// `npm run bench -- matmul-js frontend` runs only the named sections.
import os from "node:os";
import { existsSync } from "node:fs";
import { runMatmulJsBench } from "./matmul-js.js";
import { runMatmulWasmBench, threadRatioLines } from "./matmul-wasm.js";
import { runFrontendBench } from "./frontend.js";
import { runContractionPathBench } from "./contraction-paths.js";
import { runKronBench } from "./kron.js";
import { runExamplesBench } from "./examples.js";
import { formatRows } from "./util.js";

const only = new Set(process.argv.slice(2));
const wanted = (name) => only.size === 0 || only.has(name);

const { hostRunsRelaxedSimd } = await import("../dist/backends/wasm/relaxed-simd.js");
// Relaxed SIMD (f32x4.relaxed_madd) is emitted where the engine runs it: Node 20 only with --experimental-wasm-relaxed-simd.
const relaxed = hostRunsRelaxedSimd() ? "on" : "off";
console.log(`machine: ${os.cpus()[0]?.model ?? "unknown cpu"}, ${os.cpus().length} cores, node ${process.version}, relaxed SIMD ${relaxed}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);

function ratios(rows, ours, theirs) {
  for (const n of [...new Set(rows.map((r) => r.n))]) {
    const a = rows.find((r) => r.n === n && r.impl === ours);
    const b = rows.find((r) => r.n === n && r.impl === theirs);
    if (a && b) console.log(`n=${n}: ${ours} / ${theirs} = ${(a.gflops / b.gflops).toFixed(2)}x`);
  }
}

if (wanted("frontend")) {
  const fe = runFrontendBench();
  console.log(`\n## front end\n${fe.statements}-statement program, parse + check + lower: ${fe.medianMs.toFixed(2)} ms median (min ${fe.minMs.toFixed(2)} ms, first fresh program ${fe.coldishMs.toFixed(2)} ms)`);
}

if (wanted("matmul-js")) {
  const rows = await runMatmulJsBench();
  console.log("\n## float32 matmul, JS backend vs @tensorflow/tfjs-backend-cpu (single thread, median)");
  console.log(formatRows(rows));
  ratios(rows, "tns-js", "tfjs-cpu");
}

if (wanted("matmul-wasm")) {
  const rows = await runMatmulWasmBench();
  console.log("\n## float32 matmul, WASM backend vs @tensorflow/tfjs-backend-wasm (SIMD, one thread, median)");
  console.log(formatRows(rows));
  ratios(rows, "tns-wasm", "tfjs-wasm");
  for (const line of threadRatioLines(rows)) console.log(line);
  // The peak right after the matmuls, best of three processes' worth of tries (the machine is shared).
  const { measureSimdPeak } = await import("./simd-peak.js");
  const peak = Math.max(...[0, 1, 2].map(() => measureSimdPeak().gflops));
  console.log(`float32 SIMD128 peak, one thread (bench/simd-peak.js: independent f32x4 mul+add chains): ${peak.toFixed(1)} GFLOP/s`);
  for (const r of rows.filter((x) => x.impl === "tns-wasm")) {
    console.log(`n=${r.n}: tns-wasm one thread at ${((100 * r.gflops) / peak).toFixed(0)}% of that peak`);
  }
}

if (wanted("skinny-wasm")) {
  const { runSkinnyWasmBench, formatSkinnyRows, plainReadGBs } = await import("./skinny-wasm.js");
  console.log("\n## skinny and matrix-vector float32 products, WASM backend vs @tensorflow/tfjs-backend-wasm (one thread, in turns, median)");
  console.log(`plain read of a 256 MiB Float32Array: ${plainReadGBs().toFixed(1)} GB/s`);
  console.log(formatSkinnyRows(await runSkinnyWasmBench()));
}

if (wanted("attention-wasm")) {
  const { runAttentionWasmBench, formatAttentionRows } = await import("./attention-wasm.js");
  console.log("\n## attention (d = 64), WASM backend fused by the online softmax vs its two matrix products, unfused, and @tensorflow/tfjs-backend-wasm (one thread, in turns, median)");
  console.log(formatAttentionRows(await runAttentionWasmBench()));
}

if (wanted("einsum-wasm") && existsSync(new URL("./einsum-wasm.js", import.meta.url))) {
  const { runEinsumWasmBench } = await import("./einsum-wasm.js");
  console.log("\n## batched contractions on the WASM backend");
  await runEinsumWasmBench();
}

if (wanted("jax")) {
  const { runJaxBench } = await import("./jax.js");
  console.log("\n## float32 ops, WASM backend vs @jax-js/jax on its Wasm device (one thread, median)");
  await runJaxBench();
}

if (wanted("wgsl")) {
  const { runWgslBench } = await import("./wgsl.js");
  console.log("\n## float32 on WebGPU: wgsl backend vs @jax-js/jax on its WebGPU device (same adapter, median)");
  await runWgslBench();
}

if (wanted("rnn")) {
  const { runRnnBench } = await import("./rnn.js");
  console.log("\n## a recurrence: tanh RNN, T=256, hidden 256, JS and WASM backends vs a plain JS loop and tfjs-wasm (one thread, in turns, median)");
  await runRnnBench();
}

if (wanted("gather")) {
  const { runGatherBench } = await import("./gather.js");
  console.log("\n## gathers, argmax and top-k: embedding lookup and greedy decoding, JS and WASM backends vs plain JS loops (one thread, in turns, median)");
  await runGatherBench();
}

if (wanted("backward")) {
  const { runBackwardBench } = await import("./backward.js");
  console.log("\n## backward passes: an embedding's scatter-add vs the masked sum, and backpropagation through a tanh RNN (one thread, in turns, median)");
  await runBackwardBench();
}

if (wanted("padded-conv")) {
  const { runPaddedConvBench } = await import("./padded-conv.js");
  console.log("\n## zero padding: same vs valid convolution and 1-D stencil, WASM and JS backends vs tfjs-wasm (one thread, in turns, median)");
  await runPaddedConvBench();
}

if (wanted("kron")) {
  console.log("\n## Kronecker inlining, JS backend, optimized vs -O0 (median)");
  runKronBench();
}

if (wanted("approx")) {
  const { runApproxBench } = await import("./approx.js");
  console.log("\n## approximations: examples/lowrank_mlp.tns (d=1024, b=64), exact vs --approx, measured speedup vs predicted FLOP reduction (in turns, median)");
  await runApproxBench();
}

if (wanted("remat")) {
  const { runRematBench } = await import("./remat.js");
  console.log("\n## rematerialization under a memory budget vs sqrt(n) checkpointing");
  await runRematBench();
}

if (wanted("examples")) {
  console.log("\n## every example, JS backend, optimized vs -O0 (median)");
  runExamplesBench();
}

if (wanted("examples-wasm")) {
  const { loadBackend } = await import("../dist/index.js");
  await loadBackend("wasm");
  console.log("\n## every example, WASM backend (default threads), optimized vs -O0 (median)");
  runExamplesBench({ backend: "wasm" });
}

if (wanted("contraction-paths")) {
  console.log("\n## contraction paths vs NumPy");
  runContractionPathBench();
}

if (wanted("cold-start")) {
  const { runColdStartBench } = await import("./cold-start.js");
  console.log("\n## cold start: whole commands in fresh processes (wall time)");
  runColdStartBench();
}

if (wanted("wasm-optimizer")) {
  const { runWasmOptimizerBench, formatWasmOptimizerRows, firstRunLines } = await import("./wasm-optimizer.js");
  console.log("\n## WebAssembly modules from tns's encoder against the same after binaryen -O3 (one thread, in turns)");
  console.log(formatWasmOptimizerRows(await runWasmOptimizerBench()));
  console.log(firstRunLines());
}
