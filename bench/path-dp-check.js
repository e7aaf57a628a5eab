/**
 * tns's `auto` path search against opt_einsum's `dp` on fresh random
 * networks of 8 to 30 tensors (opt_einsum's `rand_equation`: regularity 3
 * and 4, 0, 2 or 3 output indices, a batch index on about a third of them),
 * drawn from a seed: each network's FLOPs relative to dp's, and tns's
 * search time (wall and CPU; the machine may be loaded by other work, so
 * CPU time is the one to compare with the 1 s goal). dp gets at most
 * `--dp-limit` seconds per network (default 120); networks it does not
 * finish are listed and skipped.
 *
 *     OPT_EINSUM_PATH=/path/to/opt_einsum npm run build && node bench/path-dp-check.js [--seed N] [--per-size K] [--dp-limit S]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { contractPath } from "../dist/index.js";

const arg = (name, fallback) => {
  const k = process.argv.indexOf(name);
  return k < 0 ? fallback : Number(process.argv[k + 1]);
};
const seed = arg("--seed", 20261207);
const perSize = arg("--per-size", 3);
const dpLimit = arg("--dp-limit", 120);

const PY = `
import json, sys, time, types, importlib, random, signal
fake = types.ModuleType("pytest"); fake.importorskip = importlib.import_module; sys.modules["pytest"] = fake
import opt_einsum as oe
from opt_einsum.testing import rand_equation
seed, per_size, limit = json.load(sys.stdin)
r = random.Random(seed)
class Late(Exception): pass
def late(*_): raise Late()
signal.signal(signal.SIGALRM, late)
for n in range(8, 31, 2):
    for reg in (3, 4):
        for _ in range(per_size):
            case = [n, reg, r.choice([0, 2, 3]), r.randrange(10**6), r.random() < 0.3]
            eq, shapes = rand_equation(case[0], reg, n_out=case[2], seed=case[3], global_dim=case[4])
            row = {"case": case, "eq": eq, "shapes": [list(s) for s in shapes], "dp": None}
            signal.alarm(limit)
            try:
                t0 = time.perf_counter()
                _, info = oe.contract_path(eq, *shapes, shapes=True, optimize="dp")
                row["dp"] = {"flops": float(info.opt_cost), "s": time.perf_counter() - t0}
            except Late:
                pass
            signal.alarm(0)
            print(json.dumps(row), flush=True)
`;

const root = process.env.OPT_EINSUM_PATH;
if (root === undefined || !existsSync(join(root, "opt_einsum", "testing.py"))) {
  console.log("bench/path-dp-check.js: set OPT_EINSUM_PATH to a source checkout of opt_einsum (the folder holding opt_einsum/); skipped.");
  process.exit(0);
}
const r = spawnSync("/usr/bin/python3", ["-c", PY], {
  input: JSON.stringify([seed, perSize, dpLimit]), encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, PYTHONPATH: root },
});
if (r.status !== 0) throw new Error(`opt_einsum failed: ${r.stderr}`);
const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
console.log(`seed ${seed}: tns auto against opt_einsum dp (FLOPs ratio; tns wall and CPU seconds; dp seconds)`);
let over = 0;
let slow = 0;
let worstCpu = 0;
const ratios = [];
for (const row of rows) {
  const name = `n=${row.case[0]} reg=${row.case[1]} out=${row.case[2]} seed=${row.case[3]}${row.case[4] ? " batch" : ""}`;
  if (row.dp === null) {
    console.log(`${name.padEnd(40)} dp did not finish in ${dpLimit} s`);
    continue;
  }
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const { flops } = contractPath(row.eq, row.shapes, { optimize: "auto" });
  const u = process.cpuUsage(u0);
  const wall = (performance.now() - t0) / 1000;
  const cpu = (u.user + u.system) / 1e6;
  const ratio = flops / row.dp.flops;
  ratios.push(ratio);
  worstCpu = Math.max(worstCpu, cpu);
  if (ratio > 1 + 1e-9) over++;
  if (cpu >= 1) slow++;
  const mark = ratio > 1 + 1e-9 ? "  over dp" : "";
  console.log(`${name.padEnd(40)} ${ratio.toFixed(4)}  tns ${wall.toFixed(2)} s (cpu ${cpu.toFixed(2)} s)  dp ${row.dp.s.toFixed(2)} s${mark}`);
}
const geo = Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length);
console.log(`${ratios.length} networks: ${over} costlier than dp (worst ${Math.max(...ratios).toFixed(3)}), geometric mean ${geo.toFixed(4)}; ${slow} over 1 s of CPU (slowest ${worstCpu.toFixed(2)} s)`);
