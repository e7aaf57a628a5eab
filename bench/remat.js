/**
 * Rematerialization under a memory budget against Chen et al.'s √n
 * checkpointing ("Training Deep Nets with Sublinear Memory Cost", 2016), on
 * a chain of n tanh layers with its backward pass written out (each layer's
 * activation is read again by the backward step of that layer), and the
 * solver's time on chains of about 100 and 500 defs.
 *
 * For n = 64: the planned peak of the program as written; the peak and
 * recomputed FLOPs of √n checkpointing (every 8th layer kept, each segment
 * recomputed once when the backward pass enters it), planned by the same
 * memory planner; and the solver's schedule at Chen's peak as the budget,
 * with a counting lower bound on any schedule's recomputation at that
 * budget. The budgeted program then runs on js and wasm: the measured
 * high-water mark and whether its output is bitwise the unbudgeted run's.
 *
 * For examples/train_mlp.tns: the planned peak, the smallest peak found,
 * the bytes that every schedule holds at its last kernel (inputs, weights
 * and outputs), √n checkpointing, and the solver at three budgets down to
 * the smallest peak.
 *
 * Run `npm run build` first; then `node bench/remat.js`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compile, loadBackend, loadMilpSolver, randomTensor, rematerialize } from "../dist/index.js";
import { lowerToKernels } from "../dist/backends/kernel/lower.js";
import { planMemory } from "../dist/backends/kernel/memory-plan.js";
import { checkpointSchedule } from "../dist/passes/remat/heuristic.js";
import { heldAtEndBytes } from "../dist/passes/rematerialize.js";
import { realizeSchedule } from "../dist/passes/remat/realize.js";
import { rematGraph, scheduleMemory } from "../dist/passes/remat/schedule.js";

/**
 * The source of a chain of `layers` layers and its backward pass.
 * @param {number} layers
 * @param {number} [width]
 * @example trainingChainSource(4)
 */
export function trainingChainSource(layers, width = 32) {
  const lines = [`size b = ${width}, d = ${width}`, "input X[b, d]"];
  for (let k = 0; k < layers; k++) lines.push(`input W${k}[d, d]`);
  for (let k = 0; k < layers; k++) lines.push(`f${k}[i, j] = tanh(${k === 0 ? "X" : `f${k - 1}`}[i, m] * W${k}[m, j])`);
  lines.push(`g${layers - 1}[i, j] = 1 - f${layers - 1}[i, j] * f${layers - 1}[i, j]`);
  for (let k = layers - 2; k >= 0; k--) lines.push(`g${k}[i, j] = g${k + 1}[i, m] * W${k + 1}[j, m] * (1 - f${k}[i, j] * f${k}[i, j])`);
  lines.push("output dX[i, j] = g0[i, m] * W0[j, m]");
  return lines.join("\n") + "\n";
}

const plannedPeak = (program) => planMemory(lowerToKernels(program)).bytes;

/**
 * Chen's √n checkpointing of the chain: the forward layers f(k) with k % s = s - 1 kept, s = round(√n).
 * @param {import("../dist/ir/types.js").Program} program
 * @param {number} layers
 */
function chenCheckpointing(program, layers) {
  const graph = rematGraph(program);
  const s = Math.round(Math.sqrt(layers));
  const keep = new Set(graph.nodes.filter((v) => /^f\d+$/.test(v.name) && Number(v.name.slice(1)) % s === s - 1).map((v) => v.pos));
  const schedule = checkpointSchedule(graph, keep);
  const realized = realizeSchedule(program, graph, schedule).program;
  return { peak: plannedPeak(realized), recomputedFlops: scheduleMemory(graph, schedule).recomputedFlops, segment: s };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/** `highs time-limit, gap 12%, improved on its start`. */
function solverText(s) {
  const gap = s.gap === undefined ? "" : `, gap ${(100 * s.gap).toFixed(0)}%`;
  const start = s.improvedOnStart === undefined ? "" : s.improvedOnStart ? ", improved on its start" : ", returned its start";
  return `${s.name} ${s.status}${gap}${start}`;
}

/**
 * Runs the benchmark and prints it.
 * @example await runRematBench();
 */
export async function runRematBench() {
  await Promise.all([loadMilpSolver(), loadBackend("wasm")]);
  const layers = 64;
  const source = trainingChainSource(layers);
  const base = compile(source, { backend: "js" });
  const program = base.ir;
  const defs = program.tensors.filter((t) => t.role === "def").length;
  const chen = chenCheckpointing(program, layers);
  const t0 = performance.now();
  const solved = rematerialize(program, { budgetBytes: chen.peak });
  const ms = performance.now() - t0;
  if (!solved.ok) throw new Error(solved.diagnostic.message);
  const r = solved.report;
  console.log(`chain of ${layers} layers with its backward pass (${defs} defs, 32x32 float32 activations of 4 KiB, weights ${kib(layers * 4096)})`);
  console.log(`  as written (planned):          peak ${kib(base.memory.peakBytes)}, before planning ${kib(base.memory.unplannedPeakBytes)}`);
  console.log(`  sqrt(n) checkpointing (s=${chen.segment}):   peak ${kib(chen.peak)}, recomputed ${chen.recomputedFlops.toLocaleString("en-US")} FLOPs`);
  console.log(`  solver at that budget:         peak ${kib(r.peakBytes)}, recomputed ${r.recomputedFlops.toLocaleString("en-US")} FLOPs` +
    ` (${solverText(r.solver)}, ${ms.toFixed(0)} ms, ${r.recomputed.length} copies)`);
  console.log(`  solver / checkpointing: ${(r.recomputedFlops / chen.recomputedFlops).toFixed(3)}x the recomputation at ${(r.peakBytes / chen.peak).toFixed(3)}x the peak`);
  // At the stage of g(n-2), g(n-1), f(n-2) and g(n-2) are held: of f(0..n-3), at most (free slots - 3) are; every other is computed again.
  const slots = Math.floor((chen.peak - rematGraph(program).persistentBytes) / 4096);
  const layerFlops = rematGraph(program).nodes.find((v) => v.name === "f1").flops;
  const atLeast = layers + 1 - slots;
  console.log(`  lower bound at that budget: ${slots} activations fit beside the weights, so at least ${atLeast} layers are computed again` +
    ` (${(atLeast * layerFlops).toLocaleString("en-US")} FLOPs); the solver's schedule recomputes ${(r.recomputedFlops / layerFlops).toFixed(0)}`);
  for (const backend of ["js", "wasm"]) {
    const plain = compile(source, { backend, threads: 1 });
    const fitted = compile(source, { backend, threads: 1, memoryBudget: chen.peak });
    const inputs = Object.fromEntries(plain.inputs.map((t, k) => [t.name, randomTensor(t.shape, t.dtype, k + 1)]));
    const want = plain.run(inputs, { measureMemory: true }).dX;
    const got = fitted.run(inputs, { measureMemory: true }).dX;
    const same = got.data.every((v, k) => Object.is(v, want.data[k]));
    console.log(`  ${backend.padEnd(4)} measured peak ${kib(plain.measuredPeakBytes())} as written, ${kib(fitted.measuredPeakBytes())} under the budget of ${kib(chen.peak)}; output bitwise equal: ${same}`);
  }
  const mlpSource = readFileSync(new URL("../examples/train_mlp.tns", import.meta.url), "utf8");
  const mlp = compile(mlpSource, { backend: "js" });
  const least = rematerialize(mlp.ir, { budgetBytes: 16 });
  const smallest = least.ok ? least.report.peakBytes : least.smallestBytes;
  const held = heldAtEndBytes(mlp.ir);
  console.log(`examples/train_mlp.tns (${mlp.ir.tensors.filter((t) => t.role === "def").length} defs):`);
  console.log(`  as written (planned): peak ${kib(mlp.memory.peakBytes)}; half of it ${kib(mlp.memory.peakBytes / 2)}; smallest peak found ${kib(smallest)}`);
  console.log(`  held at the last kernel by any schedule: inputs and weights ${kib(held.inputs)}, outputs ${kib(held.outputs)}, together ${kib(held.inputs + held.outputs)}`);
  const mlpChen = (() => {
    const graph = rematGraph(mlp.ir);
    const k = Math.round(Math.sqrt(graph.nodes.length));
    const schedule = checkpointSchedule(graph, new Set(graph.nodes.filter((v) => v.pos % k === k - 1).map((v) => v.pos)));
    return { k, peak: plannedPeak(realizeSchedule(mlp.ir, graph, schedule).program), recomputedFlops: scheduleMemory(graph, schedule).recomputedFlops };
  })();
  console.log(`  sqrt(n) checkpointing (every ${mlpChen.k}th def kept): peak ${kib(mlpChen.peak)}, recomputed ${mlpChen.recomputedFlops.toLocaleString("en-US")} FLOPs`);
  for (const budget of [Math.min(mlpChen.peak, mlp.memory.peakBytes - 16), Math.ceil((smallest + mlp.memory.peakBytes) / 32) * 16, smallest]) {
    const solved = rematerialize(mlp.ir, { budgetBytes: budget });
    const what = solved.ok
      ? `peak ${kib(solved.report.peakBytes)}, recomputed ${solved.report.recomputedFlops.toLocaleString("en-US")} FLOPs (${solverText(solved.report.solver)})`
      : "refused";
    console.log(`  solver at a budget of ${kib(budget)}: ${what}`);
  }
  // With the inputs donated (as tns run does): the update of each parameter may take the parameter's bytes.
  const donated = compile(mlpSource, { backend: "js", donate: "all" });
  const donatedLeast = rematerialize(donated.ir, { budgetBytes: Math.floor(mlp.memory.peakBytes / 2) });
  console.log(`  inputs donated: planned peak ${kib(donated.memory.peakBytes)}; half of the default plan (${kib(mlp.memory.peakBytes / 2)}) with whole tensors only ` +
    (donatedLeast.ok ? `met: peak ${kib(donatedLeast.report.peakBytes)}` : `refused, smallest peak found ${kib(donatedLeast.smallestBytes)}`));
  // Half of the default plan, as tns run does it (inputs donated): no schedule of whole tensors fits, the step runs a
  // slice of the batch's rows at a time. Run times of the step, plain and sliced, in turns.
  for (const backend of ["js", "wasm"]) {
    const budget = Math.floor(0.5 * mlp.memory.peakBytes);
    const plain = compile(mlpSource, { backend, threads: 1 });
    const fitted = compile(mlpSource, { backend, threads: 1, donate: "all", memoryBudget: budget });
    const inputs = Object.fromEntries(plain.inputs.map((t, k) => [t.name, randomTensor(t.shape, t.dtype, k + 1)]));
    const want = plain.run(inputs, { measureMemory: true });
    const got = fitted.run(inputs, { measureMemory: true });
    const same = plain.outputs.every((o) => got[o.name].data.every((v, k) => Object.is(v, want[o.name].data[k])));
    const sliced = fitted.memory.slicedBatch;
    const times = [[], []];
    for (let r = 0; r < 15; r++) {
      [plain, fitted].forEach((p, q) => { const t0 = performance.now(); p.run(inputs); times[q].push(performance.now() - t0); });
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    console.log(`  ${backend.padEnd(4)} inputs donated, budget ${kib(budget)} (half the default plan): planned ${kib(fitted.memory.peakBytes)}, ` +
      `measured ${kib(fitted.measuredPeakBytes())} (as written, nothing donated: ${kib(plain.measuredPeakBytes())}); ` +
      `${sliced ? `${sliced.slices} slices of ${sliced.rows} rows` : solverText(fitted.memory.solver)}; outputs bitwise equal: ${same}; ` +
      `step ${med(times[1]).toFixed(2)} ms against ${med(times[0]).toFixed(2)} ms whole`);
  }
  for (const n of [50, 250]) {
    const p = compile(trainingChainSource(n), { backend: "js" }).ir;
    const count = p.tensors.filter((t) => t.role === "def").length;
    const peak = plannedPeak(p);
    const budget = chenCheckpointing(p, n).peak;
    const start = performance.now();
    const result = rematerialize(p, { budgetBytes: budget });
    const took = performance.now() - start;
    const what = result.ok
      ? `${solverText(result.report.solver)}, peak ${kib(result.report.peakBytes)}, recomputed ${result.report.recomputedFlops.toLocaleString("en-US")} FLOPs`
      : `refused: ${result.diagnostic.message}`;
    console.log(`${count}-def chain, budget ${kib(budget)} (as written ${kib(peak)}): ${took.toFixed(0)} ms, ${what}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runRematBench();
