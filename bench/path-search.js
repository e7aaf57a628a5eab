/**
 * Contraction-path search on opt_einsum's random networks: tns's `auto` and
 * `hyper` against opt_einsum's `dp` (up to 20 tensors; it takes minutes
 * beyond), `greedy` and `random-greedy` with 128 repeats, side by side: FLOPs
 * (opt_einsum's `opt_cost`) relative to the best opt_einsum result, and
 * search times.
 *
 * opt_einsum is run from a source checkout (it is pure Python; NumPy is
 * Debian's python3-numpy):
 *
 *     OPT_EINSUM_PATH=/path/to/opt_einsum npm run build && node bench/path-search.js [--quick]
 *
 * Without OPT_EINSUM_PATH the benchmark says so and exits.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { contractPath } from "../dist/index.js";

/** [tensors, regularity, output indices, seed]. */
const QUICK = [[10, 3, 2, 1], [16, 4, 0, 2], [20, 3, 2, 3], [40, 3, 2, 4], [60, 4, 0, 5], [100, 3, 2, 6]];
const FULL = [
  ...[8, 12, 16, 20].flatMap((n, k) => [[n, 3, 2, 10 + k], [n, 4, 0, 20 + k]]),
  ...[40, 50, 60].flatMap((n, k) => [[n, 3, 2, 30 + k], [n, 4, 0, 40 + k], [n, 3, 0, 50 + k]]),
  [100, 3, 2, 60], [200, 3, 0, 61], [300, 3, 2, 62],
];
const DP_MAX = 20;

const PY = `
import json, sys, time, types, importlib, random
fake = types.ModuleType("pytest"); fake.importorskip = importlib.import_module; sys.modules["pytest"] = fake
import numpy as np
import opt_einsum as oe
from opt_einsum.testing import rand_equation
out = []
for n, reg, n_out, seed, dp in json.load(sys.stdin):
    eq, shapes = rand_equation(n, reg, n_out=n_out, seed=seed)
    row = {"eq": eq, "shapes": [list(s) for s in shapes]}
    methods = (["dp"] if dp else []) + ["greedy", "random-greedy-128"]
    for m in methods:
        random.seed(seed); np.random.seed(seed)
        opt = oe.RandomGreedy(max_repeats=128) if m == "random-greedy-128" else m
        t0 = time.perf_counter()
        _, info = oe.contract_path(eq, *shapes, shapes=True, optimize=opt)
        row[m] = {"flops": float(info.opt_cost), "s": time.perf_counter() - t0}
    out.append(row)
json.dump(out, sys.stdout)
`;

function optEinsum(cases) {
  const root = process.env.OPT_EINSUM_PATH;
  const r = spawnSync("/usr/bin/python3", ["-c", PY], {
    input: JSON.stringify(cases.map(([n, reg, out, seed]) => [n, reg, out, seed, n <= DP_MAX])),
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, PYTHONPATH: root },
  });
  if (r.status !== 0) throw new Error(`opt_einsum failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function tns(row, optimize) {
  const t0 = performance.now();
  const r = contractPath(row.eq, row.shapes, { optimize });
  return { flops: r.flops, s: (performance.now() - t0) / 1000 };
}

const root = process.env.OPT_EINSUM_PATH;
if (root === undefined || !existsSync(join(root, "opt_einsum", "testing.py"))) {
  console.log("bench/path-search.js: set OPT_EINSUM_PATH to a source checkout of opt_einsum (the folder holding opt_einsum/); skipped.");
  process.exit(0);
}
const cases = process.argv.includes("--quick") ? QUICK : FULL;
const rows = optEinsum(cases);
const fmt = (x) => x.toFixed(3).padStart(7);
const sec = (x) => `${x.toFixed(2)}s`.padStart(7);
console.log("FLOPs relative to the best of opt_einsum's dp, greedy and random-greedy(128); search time in seconds");
console.log(`${"n".padStart(4)} ${"reg".padStart(3)} ${"out".padStart(3)} | ${"oe dp".padStart(15)} | ${"oe greedy".padStart(15)} | ${"oe rg128".padStart(15)} | ${"tns auto".padStart(15)} | ${"tns hyper".padStart(15)}`);
const ratios = { auto: [], hyper: [] };
rows.forEach((row, k) => {
  const [n, reg, out] = cases[k];
  const ref = Math.min(...["dp", "greedy", "random-greedy-128"].filter((m) => row[m]).map((m) => row[m].flops));
  const cell = (c) => (c ? `${fmt(c.flops / ref)} ${sec(c.s)}` : "-".padStart(15));
  const auto = tns(row, "auto");
  const hyper = tns(row, "hyper");
  ratios.auto.push(auto.flops / ref);
  ratios.hyper.push(hyper.flops / ref);
  console.log(`${String(n).padStart(4)} ${String(reg).padStart(3)} ${String(out).padStart(3)} | ${cell(row.dp)} | ${cell(row.greedy)} | ${cell(row["random-greedy-128"])} | ${cell(auto)} | ${cell(hyper)}`);
});
const geo = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
console.log(`geometric mean vs opt_einsum's best: auto ${geo(ratios.auto).toFixed(3)}, hyper ${geo(ratios.hyper).toFixed(3)}; worst: auto ${Math.max(...ratios.auto).toFixed(3)}, hyper ${Math.max(...ratios.hyper).toFixed(3)}`);
