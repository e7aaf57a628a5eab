/**
 * Contraction ordering: tns's path finders against NumPy's einsum_path
 * (FLOP counts and search times), what ordering buys at run time on a
 * matrix chain, and, when OPT_EINSUM_PATH names a source checkout of
 * opt_einsum (the folder holding opt_einsum/; it is pure Python, run with
 * /usr/bin/python3 and Debian's NumPy), tns's `auto` against opt_einsum on
 * `rand_equation` networks in three ranges, side by side: n <= 30 against
 * its `dp`, n = 40 to 60 against the best of `greedy` and
 * `random-greedy` (128 repeats), n = 100 to 300 against random-greedy(128)
 * with both search times. Run `npm run build` first; then
 * `[OPT_EINSUM_PATH=/path/to/opt_einsum] node bench/contraction-paths.js [--quick]`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { contractPath } from "../dist/index.js";
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

/** rand_equation networks per range: [tensors, regularity, output labels, batch label, seed]. */
const OE_RANGES = {
  "n <= 30 (vs opt_einsum dp)": [
    [12, 3, 2, false, 101], [12, 4, 0, true, 102], [16, 3, 1, false, 103], [16, 4, 3, false, 104],
    [20, 3, 0, true, 105], [20, 4, 2, false, 106], [24, 3, 2, false, 107], [26, 4, 1, false, 108], [30, 3, 3, true, 109],
  ],
  "n = 40 to 60 (vs the best of opt_einsum greedy and random-greedy(128))": [
    [40, 3, 2, false, 201], [40, 4, 0, false, 202], [50, 3, 1, true, 203], [50, 4, 3, false, 204], [60, 3, 0, false, 205], [60, 4, 2, true, 206],
  ],
  "n = 100 to 300 (vs opt_einsum random-greedy(128))": [[100, 3, 2, false, 301], [200, 4, 0, false, 302], [300, 3, 2, false, 303]],
};
const QUICK_RANGES = {
  "n <= 30 (vs opt_einsum dp)": [[16, 4, 3, false, 104], [24, 3, 2, false, 107]],
  "n = 40 to 60 (vs the best of opt_einsum greedy and random-greedy(128))": [[50, 4, 3, false, 204]],
  "n = 100 to 300 (vs opt_einsum random-greedy(128))": [[100, 3, 2, false, 301]],
};

const OE_PY = `
import json, sys, time, types, importlib, random, signal
fake = types.ModuleType("pytest"); fake.importorskip = importlib.import_module; sys.modules["pytest"] = fake
import numpy as np
import opt_einsum as oe
from opt_einsum.testing import rand_equation
class Late(Exception): pass
def late(*_): raise Late()
signal.signal(signal.SIGALRM, late)
out = []
for n, reg, n_out, batch, seed, dp_limit in json.load(sys.stdin):
    eq, shapes = rand_equation(n, reg, n_out=n_out, seed=seed, global_dim=batch)
    row = {"eq": eq, "shapes": [list(s) for s in shapes]}
    for m in (["dp"] if dp_limit else ["greedy", "random-greedy-128"]):
        random.seed(seed); np.random.seed(seed)
        opt = oe.RandomGreedy(max_repeats=128) if m == "random-greedy-128" else m
        signal.alarm(dp_limit if m == "dp" else 0)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            _, info = oe.contract_path(eq, *shapes, shapes=True, optimize=opt)
            row[m] = {"flops": float(info.opt_cost), "s": time.perf_counter() - t0, "cpu": time.process_time() - c0}
        except Late:
            row[m] = None
        signal.alarm(0)
    out.append(row)
json.dump(out, sys.stdout)
`;

/**
 * tns's `auto` against opt_einsum on rand_equation networks, three ranges,
 * side by side (FLOPs ratio, wall and CPU seconds of both). Skipped (with a
 * line saying so) without OPT_EINSUM_PATH.
 * @param {{ quick?: boolean, dpLimit?: number, only?: string }} [options] `only`: run the ranges whose title starts with it
 * @example compareOptEinsum({ quick: true });
 */
export function compareOptEinsum({ quick = false, dpLimit = 300, only = "" } = {}) {
  const root = process.env.OPT_EINSUM_PATH;
  if (root === undefined || !existsSync(join(root, "opt_einsum", "testing.py"))) {
    console.log("\nopt_einsum comparison skipped: set OPT_EINSUM_PATH to a source checkout of opt_einsum (the folder holding opt_einsum/)");
    return null;
  }
  const ranges = quick ? QUICK_RANGES : OE_RANGES;
  const results = {};
  for (const [title, cases] of Object.entries(ranges)) {
    if (!title.startsWith(only)) continue;
    const dp = title.startsWith("n <= 30");
    const r = spawnSync("/usr/bin/python3", ["-c", OE_PY], {
      input: JSON.stringify(cases.map(([n, reg, out, batch, seed]) => [n, reg, out, batch, seed, dp ? dpLimit : 0])),
      encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, PYTHONPATH: root },
    });
    if (r.status !== 0) throw new Error(`opt_einsum failed: ${r.stderr}`);
    const rows = JSON.parse(r.stdout);
    console.log(`\n${title}: FLOPs of tns auto / opt_einsum's; search seconds, wall (cpu)`);
    console.log(`${"n".padStart(4)} ${"reg".padStart(3)} ${"out".padStart(3)} ${"batch".padStart(5)} | ${"tns/oe".padStart(8)} | ${"tns auto".padStart(16)} | ${(dp ? "oe dp" : "oe greedy").padStart(16)} | ${(dp ? "" : "oe rg128").padStart(16)}`);
    const ratios = [];
    rows.forEach((row, k) => {
      const [n, reg, out, batch] = cases[k];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const tns = contractPath(row.eq, row.shapes, { optimize: "auto" });
      const wall = (performance.now() - t0) / 1000;
      const cu = process.cpuUsage(c0);
      const cpu = (cu.user + cu.system) / 1e6;
      const refs = (dp ? ["dp"] : ["greedy", "random-greedy-128"]).map((m) => row[m]).filter((x) => x);
      const ref = refs.length ? Math.min(...refs.map((x) => x.flops)) : NaN;
      const ratio = tns.flops / ref;
      if (Number.isFinite(ratio)) ratios.push(ratio);
      const t = (x) => (x ? `${x.s.toFixed(2)} (${x.cpu.toFixed(2)})`.padStart(16) : (dp ? "did not finish" : "").padStart(16));
      console.log(`${String(n).padStart(4)} ${String(reg).padStart(3)} ${String(out).padStart(3)} ${String(batch ? "yes" : "no").padStart(5)} | ${(Number.isFinite(ratio) ? ratio.toFixed(4) : "-").padStart(8)} | ${`${wall.toFixed(2)} (${cpu.toFixed(2)})`.padStart(16)} | ${t(dp ? row.dp : row.greedy)} | ${dp ? "" : t(row["random-greedy-128"])}`);
    });
    const geo = Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length);
    console.log(`geometric mean ${geo.toFixed(4)}, worst ${Math.max(...ratios).toFixed(4)} (${ratios.filter((x) => x > 1 + 1e-9).length} of ${ratios.length} above 1)`);
    results[title] = { rows, ratios };
  }
  return results;
}

/**
 * Runs the three comparisons and prints them.
 * @param {{ scale?: number, searchSizes?: number[], n?: number, reps?: number, quick?: boolean }} [options]
 * @example const { flops, search, chain } = runContractionPathBench({ n: 128 });
 */
export function runContractionPathBench({ scale = 2, searchSizes = [20, 30, 40], n = 256, reps = 5, quick = false } = {}) {
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
  const optEinsum = compareOptEinsum({ quick });
  return { flops, search, chain, optEinsum };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runContractionPathBench({ quick: process.argv.includes("--quick") });
