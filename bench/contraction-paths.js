/**
 * Contraction ordering: tns's path finders against NumPy's einsum_path
 * (FLOP counts and search times), and what ordering buys at run time on a
 * matrix chain. Run `npm run build` first; then
 * `node bench/contraction-paths.js`. NumPy is called through /usr/bin/python3.
 */
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { compileProgram } from "../dist/compiler.js";
import { DiagnosticBag } from "../dist/diagnostics/diagnostic.js";
import { lowerEinsum, parseEinsumSpec } from "../dist/einsum/spec.js";
import {
  contractionPath, internNetwork, networkShapes, networkToEinsum, pathFlops, randomNetwork,
} from "../dist/passes/contraction-path/index.js";
import { randomTensor } from "../dist/runtime/random.js";
import { median, timeInterleaved, timeMedian } from "./util.js";

/** Expressions compared with NumPy (sizes as in opt_einsum's tests, times `scale`). */
const EXPRESSIONS = [
  "ij,jk,kl->il",
  "ea,fb,abcd,gc,hd->efgh",
  "abc,bdef,fghj,cem,mhk,ljk->adgl",
  "abhe,hidj,jgba,hiab,gab->ed",
  "ab,bc,cd,de,ef,fg,gh,hi->ai",
  "abc,cd,de,ef,fg,gh,ha->b",
  "bca,cdb,dbf,afc->",
  "efc,dbc,acf,fd->abe",
];
const SIZES = [2, 3, 4, 5, 4, 3, 2, 6, 5, 4, 3, 2, 5, 7, 4, 3, 2, 3, 4, 9, 10, 2, 4, 5, 3, 2, 6];

const PY = `
import json, sys, time
import numpy as np
from numpy.core.einsumfunc import _find_contraction, _flop_count
out = []
for c in json.load(sys.stdin):
    ops = [np.broadcast_to(np.zeros(()), tuple(s)) for s in c["shapes"]]
    t0 = time.perf_counter()
    path, _ = np.einsum_path(c["spec"], *ops, optimize=c["optimize"])
    seconds = time.perf_counter() - t0
    lhs, rhs = c["spec"].split("->")
    dims = {ch: n for term, s in zip(lhs.split(","), c["shapes"]) for ch, n in zip(term, s)}
    sets, flops = [set(t) for t in lhs.split(",")], 0
    for inds in path[1:]:
        inds = tuple(sorted(inds, reverse=True))
        _, sets, removed, contracted = _find_contraction(inds, sets, set(rhs))
        flops += _flop_count(contracted, removed, len(inds), dims)
    out.append({"flops": flops, "ms": seconds * 1000})
json.dump(out, sys.stdout)
`;

function numpy(cases) {
  const r = spawnSync("/usr/bin/python3", ["-c", PY], { input: JSON.stringify(cases), encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`numpy failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function fromSpec(spec, scale) {
  const [lhs, rhs] = spec.split("->");
  const inputs = lhs.split(",").map((t) => [...t]);
  const extents = {};
  for (const l of new Set(inputs.flat())) extents[l] = SIZES[(l.charCodeAt(0) - 97 + 26) % 26] * scale;
  return { inputs, output: [...rhs], extents };
}

/** NumPy's default memory limit, so both sides search the same space. */
function numpyLimit(net) {
  const size = (ls) => ls.reduce((a, l) => a * net.extents[l], 1);
  return Math.max(size(net.output), ...net.inputs.map(size));
}

const caseOf = (net, optimize) => ({ spec: networkToEinsum(net), shapes: networkShapes(net), optimize });
const fmt = (x) => x.toExponential(3);

/** FLOPs of tns's finders and NumPy's, per expression. */
function compareFlops(scale) {
  const nets = EXPRESSIONS.map((s) => fromSpec(s, scale));
  const np = numpy(nets.flatMap((n) => [caseOf(n, "optimal"), caseOf(n, "greedy")]));
  return nets.map((net, k) => {
    const flopsOf = (finder) => pathFlops(internNetwork(net), contractionPath(net, finder, { memoryLimit: numpyLimit(net) }));
    return {
      spec: networkToEinsum(net), optimal: flopsOf("optimal"), dp: flopsOf("dp"), greedy: flopsOf("greedy"),
      npOptimal: np[2 * k].flops, npGreedy: np[2 * k + 1].flops,
    };
  });
}

/** Path-search time (median ms) on random networks, tns's finders and NumPy's greedy. */
function compareSearch(sizes) {
  const nets = sizes.map((n) => randomNetwork({ operands: n, seed: n }));
  const reps = 5;
  const np = numpy(nets.flatMap((n) => Array.from({ length: reps }, () => caseOf(n, "greedy"))));
  return nets.map((net, k) => {
    const row = { operands: sizes[k] };
    for (const finder of ["greedy", "random-greedy", "auto", ...(sizes[k] <= 20 ? ["dp"] : [])]) {
      let path;
      const ms = timeMedian(() => { path = contractionPath(net, finder, { memoryLimit: numpyLimit(net) }); }, { warmup: 1, reps });
      row[finder] = { ms, flops: pathFlops(internNetwork(net), path) };
    }
    const runs = np.slice(k * reps, (k + 1) * reps);
    row.npGreedy = { ms: median(runs.map((r) => r.ms)), flops: runs[0].flops };
    return row;
  });
}

function lowered(spec, shapes) {
  const diags = new DiagnosticBag();
  const program = lowerEinsum(parseEinsumSpec(spec, diags), shapes.map((shape) => ({ shape, dtype: "f32" })), diags).program;
  if (diags.hasErrors) throw new Error(`bad einsum ${spec}`);
  return program;
}

/** 'ij,jk,kl->il' at n through the JS backend: ordered vs one loop nest vs one matmul. */
function timeChain(n, reps) {
  const [a, b, c] = [1, 2, 3].map((seed) => randomTensor([n, n], "f32", seed));
  const chain = lowered("ij,jk,kl->il", [[n, n], [n, n], [n, n]]);
  const ordered = compileProgram(chain);
  const nest = compileProgram(chain, { optimize: false });
  const matmul = compileProgram(lowered("ij,jk->ik", [[n, n], [n, n]]));
  const want = nest.run({ x0: a, x1: b, x2: c }).out;
  const got = ordered.run({ x0: a, x1: b, x2: c }).out;
  let err = 0;
  for (let k = 0; k < want.data.length; k++) err = Math.max(err, Math.abs(want.data[k] - got.data[k]) / (1 + Math.abs(want.data[k])));
  const [orderedMs, matmulMs] = timeInterleaved(
    [() => ordered.run({ x0: a, x1: b, x2: c }), () => matmul.run({ x0: a, x1: b })],
    { warmup: 5, reps: Math.max(reps, 9) },
  );
  return {
    n,
    orderedMs,
    // n⁴ iterations: one timed run is enough to see the gap.
    nestMs: timeMedian(() => nest.run({ x0: a, x1: b, x2: c }), { warmup: 0, reps: 1 }),
    matmulMs,
    maxRelDiff: err,
    defsAfterPass: ordered.ir.tensors.filter((t) => t.role === "def").length,
  };
}

/**
 * Runs the three comparisons and prints them.
 * @param {{ scale?: number, searchSizes?: number[], n?: number, reps?: number }} [options]
 * @example const { flops, search, chain } = runContractionPathBench({ n: 128 });
 */
export function runContractionPathBench({ scale = 2, searchSizes = [20, 30, 40], n = 256, reps = 5 } = {}) {
  const flops = compareFlops(scale);
  console.log(`FLOPs (extents x${scale}; NumPy's default memory limit on both sides; NumPy's printout adds 1 to the optimized count)`);
  console.log(`${"expression".padEnd(34)} ${"tns optimal".padStart(11)} ${"tns dp".padStart(11)} ${"tns greedy".padStart(11)} ${"np optimal".padStart(11)} ${"np greedy".padStart(11)}`);
  for (const r of flops) {
    console.log(`${r.spec.padEnd(34)} ${fmt(r.optimal).padStart(11)} ${fmt(r.dp).padStart(11)} ${fmt(r.greedy).padStart(11)} ${fmt(r.npOptimal).padStart(11)} ${fmt(r.npGreedy).padStart(11)}`);
  }
  const search = compareSearch(searchSizes);
  console.log("\npath search on random networks: median ms (FLOPs of the path found)");
  for (const r of search) {
    const cell = (x) => (x ? `${x.ms.toFixed(2)} ms (${fmt(x.flops)})` : "-").padStart(24);
    console.log(`${String(r.operands).padStart(3)} tensors  greedy ${cell(r.greedy)}  random-greedy ${cell(r["random-greedy"])}  auto ${cell(r.auto)}  dp ${cell(r.dp)}  np greedy ${cell(r.npGreedy)}`);
  }
  const chain = timeChain(n, reps);
  console.log(`\n'ij,jk,kl->il' at n=${n}, f32, JS backend (median ms): default pipeline ${chain.orderedMs.toFixed(1)}, -O0 (one loop nest) ${chain.nestMs.toFixed(1)}, one matmul 'ij,jk->ik' ${chain.matmulMs.toFixed(1)} (defs after the pass: ${chain.defsAfterPass}, max rel. difference ${chain.maxRelDiff.toExponential(1)})`);
  console.log(`chain / one matmul = ${(chain.orderedMs / chain.matmulMs).toFixed(2)}x (timed interleaved; the chain is two matmuls' work)`);
  return { flops, search, chain };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runContractionPathBench();
