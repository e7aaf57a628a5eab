/**
 * The path finders against NumPy's `einsum_path` (NumPy 1.24): on einsum
 * expressions of 3 to 8 operands, `optimal` and `dp` reach NumPy's
 * 'optimal' FLOP count exactly; `greedy` finds NumPy's greedy path step for
 * step; on random networks of 10 to 40 tensors, `auto` is never costlier
 * than NumPy's greedy. NumPy runs once, in one python process, for a batch.
 *
 * NumPy's costs are recomputed exactly in python by replaying its path with
 * its own `_find_contraction` and `_flop_count` (its report prints three
 * digits, and adds one to the optimized count).
 */
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import {
  contractionPath, describePath, internNetwork, networkShapes, networkToEinsum, pathFlops, printPathInfo, randomNetwork,
  type ContractionPath, type TensorNetwork,
} from "../../src/passes/contraction-path/index.js";
import { numpyPython } from "../support/numpy.js";

const python = numpyPython();
if (process.env["CI"] && python === null) throw new Error("NumPy is required in CI (/usr/bin/python3 with numpy)");

/** Extents by letter, as in opt_einsum's test suite. */
const SIZES = [2, 3, 4, 5, 4, 3, 2, 6, 5, 4, 3, 2, 5, 7, 4, 3, 2, 3, 4, 9, 10, 2, 4, 5, 3, 2, 6];

function fromSpec(spec: string, scale = 1): TensorNetwork {
  const [lhs, rhs] = spec.split("->") as [string, string];
  const inputs = lhs.split(",").map((t) => [...t]);
  const extents: Record<string, number> = {};
  for (const l of new Set(inputs.flat())) extents[l] = SIZES[(l.charCodeAt(0) - 97 + 26) % 26]! * scale;
  return { inputs, output: [...rhs], extents };
}

const EXPRESSIONS: readonly string[] = [
  "ij,jk,kl->il",
  "ea,fb,abcd,gc,hd->efgh",
  "ab,bc,cd->ad",
  "a,b,abc->c",
  "ij,jk,ki->",
  "ii,ij,jk->k",
  "eb,cb,fb->cef",
  "dd,fb,be,cdb->cef",
  "bca,cdb,dbf,afc->",
  "dcc,fce,ea,dbf->ab",
  "fdf,cdd,ccd,afe->ae",
  "ed,fcd,ff,bcf->be",
  "baa,dcf,af,cde->be",
  "bd,db,eac->ace",
  "fff,fae,bef,def->abd",
  "efc,dbc,acf,fd->abe",
  "ab,ab,c->",
  "ab,ab,cd,cd->ac",
  "ab,cd,ef->abcdef",
  "ab,cd,de->be",
  "ab,bcd,cd->abd",
  "abhe,hidj,jgba,hiab,gab->ed",
  "abc,bdef,fghj,cem,mhk,ljk->adgl",
  "ab,bc,cd,de,ef,fg,gh,hi->ai",
  "abc,cd,de,ef,fg,gh,ha->b",
  "ik,kj,jl,lm,mn,ni->",
];

interface NumpyCase {
  readonly spec: string;
  readonly shapes: number[][];
  readonly optimize: "optimal" | "greedy";
  readonly memoryLimit: number | null;
}

interface NumpyAnswer {
  readonly path: number[][];
  readonly flops: number;
  readonly naive: number;
  readonly naiveLine: string;
}

const SCRIPT = `
import json, sys
import numpy as np
from numpy.core.einsumfunc import _find_contraction, _flop_count
out = []
for c in json.load(sys.stdin):
    ops = [np.broadcast_to(np.zeros(()), tuple(s)) for s in c["shapes"]]
    opt = c["optimize"] if c["memoryLimit"] is None else (c["optimize"], c["memoryLimit"])
    path, text = np.einsum_path(c["spec"], *ops, optimize=opt)
    lhs, rhs = c["spec"].split("->")
    dims = {}
    for term, s in zip(lhs.split(","), c["shapes"]):
        for ch, n in zip(term, s): dims[ch] = n
    sets, output, flops = [set(t) for t in lhs.split(",")], set(rhs), 0
    for inds in path[1:]:
        inds = tuple(sorted(inds, reverse=True))
        _, sets, removed, contracted = _find_contraction(inds, sets, output)
        flops += _flop_count(contracted, removed, len(inds), dims)
    line = [l for l in text.split("\\n") if "Naive FLOP count" in l][0]
    out.append({"path": [list(p) for p in path[1:]], "flops": flops, "naiveLine": line})
json.dump(out, sys.stdout)
`;

function runNumpy(cases: readonly NumpyCase[]): NumpyAnswer[] {
  const r = spawnSync(python!, ["-c", SCRIPT], { input: JSON.stringify(cases), encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`numpy failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as NumpyAnswer[];
}

/** NumPy's default memory limit: the largest operand (repeated labels counted) or the output. */
function numpyMemoryLimit(net: TensorNetwork): number {
  const size = (ls: readonly string[]): number => ls.reduce((a, l) => a * net.extents[l]!, 1);
  return Math.max(size(net.output), ...net.inputs.map(size));
}

const flopsOf = (net: TensorNetwork, path: ContractionPath): number => pathFlops(internNetwork(net), path);
const pairwise = (path: readonly (readonly number[])[]): boolean => path.every((s) => s.length === 2);

const RANDOM_SIZES = [10, 14, 18, 22, 26, 30, 35, 40];
const randomNets = RANDOM_SIZES.flatMap((n, k) => [randomNetwork({ operands: n, seed: 100 + k }), randomNetwork({ operands: n, regularity: 2.5, seed: 200 + k, maxExtent: 6 })]);
// Seeds picked so that NumPy's breadth-first 'optimal' stays fast on 8 operands.
const smallNets = ([[6, 1], [6, 2], [7, 1], [7, 2], [8, 3], [8, 6]] as const).map(([n, seed]) => randomNetwork({ operands: n, seed, maxExtent: 5 }));
const specNets = [...EXPRESSIONS.map((s) => fromSpec(s)), ...smallNets];

describe.skipIf(python === null)("contraction paths against numpy.einsum_path", () => {
  let optimalDefault: NumpyAnswer[] = [];
  let optimalUnlimited: NumpyAnswer[] = [];
  let greedyDefault: NumpyAnswer[] = [];
  let greedyRandom: NumpyAnswer[] = [];
  const smallForUnlimited = specNets.filter((n) => n.inputs.length <= 6);

  beforeAll(() => {
    const caseOf = (net: TensorNetwork, optimize: "optimal" | "greedy", memoryLimit: number | null): NumpyCase =>
      ({ spec: networkToEinsum(net), shapes: networkShapes(net), optimize, memoryLimit });
    const cases = [
      ...specNets.map((n) => caseOf(n, "optimal", null)),
      ...smallForUnlimited.map((n) => caseOf(n, "optimal", 1e18)),
      ...specNets.map((n) => caseOf(n, "greedy", null)),
      ...randomNets.map((n) => caseOf(n, "greedy", null)),
    ];
    const answers = runNumpy(cases);
    let k = 0;
    optimalDefault = answers.slice(k, (k += specNets.length));
    optimalUnlimited = answers.slice(k, (k += smallForUnlimited.length));
    greedyDefault = answers.slice(k, (k += specNets.length));
    greedyRandom = answers.slice(k);
  }, 120_000);

  it("has enough cases", () => {
    expect(specNets.length).toBeGreaterThanOrEqual(30);
    expect(specNets.every((n) => n.inputs.length >= 3 && n.inputs.length <= 8)).toBe(true);
  });

  it("optimal and dp reach numpy's 'optimal' FLOP count under its default memory limit", () => {
    specNets.forEach((net, k) => {
      const np = optimalDefault[k]!;
      const memoryLimit = numpyMemoryLimit(net);
      for (const finder of ["optimal", "dp"]) {
        const ours = flopsOf(net, contractionPath(net, finder, { memoryLimit }));
        const what = `${finder} on ${networkToEinsum(net)}`;
        // NumPy leaves a contraction with no summed label, and a path stuck on
        // the memory limit, to one final einsum: there ours may only be cheaper.
        if (pairwise(np.path)) expect(ours, what).toBe(np.flops);
        else expect(ours, what).toBeLessThanOrEqual(np.flops);
      }
    });
  });

  it("optimal and dp reach numpy's 'optimal' FLOP count without a memory limit", () => {
    smallForUnlimited.forEach((net, k) => {
      const np = optimalUnlimited[k]!;
      for (const finder of ["optimal", "dp"]) {
        const ours = flopsOf(net, contractionPath(net, finder));
        if (pairwise(np.path)) expect(ours, `${finder} on ${networkToEinsum(net)}`).toBe(np.flops);
        else expect(ours).toBeLessThanOrEqual(np.flops);
      }
    });
  });

  it("the naive FLOP count is numpy's, printed the same way", () => {
    specNets.forEach((net, k) => {
      const info = describePath(internNetwork(net), contractionPath(net, "optimal"), "optimal");
      const line = printPathInfo(info).split("\n").find((l) => l.includes("Naive FLOP count"));
      expect(line, networkToEinsum(net)).toBe(optimalDefault[k]!.naiveLine);
    });
  });

  it("greedy finds numpy's greedy path, step for step", () => {
    const nets = [...specNets, ...randomNets];
    const answers = [...greedyDefault, ...greedyRandom];
    nets.forEach((net, k) => {
      // einsum_path skips its finder when no label is summed: nothing to compare.
      if (net.inputs.flat().every((l) => net.output.includes(l))) return;
      const ours = contractionPath(net, "greedy", { memoryLimit: numpyMemoryLimit(net) });
      expect(ours, networkToEinsum(net)).toEqual(answers[k]!.path);
    });
  });

  it("on random networks of 10 to 40 tensors, auto is never costlier than numpy's greedy", () => {
    let better = 0;
    randomNets.forEach((net, k) => {
      const np = greedyRandom[k]!;
      const ours = flopsOf(net, contractionPath(net, "auto", { memoryLimit: numpyMemoryLimit(net) }));
      expect(ours, networkToEinsum(net)).toBeLessThanOrEqual(np.flops);
      if (ours < np.flops) better++;
    });
    // Random sampling should beat plain greedy somewhere in sixteen networks.
    expect(better).toBeGreaterThan(0);
  });
});

describe("path search on larger networks", () => {
  it("finishes for a 20-tensor network with every finder that takes one", () => {
    const net = randomNetwork({ operands: 20, seed: 5 });
    for (const finder of ["auto", "greedy", "random-greedy"]) {
      const path = contractionPath(net, finder);
      expect(path.length).toBe(19);
    }
  });
});
