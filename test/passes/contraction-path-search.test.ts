/**
 * The searches for good paths on networks of opt_einsum's `rand_equation`:
 * the capped dp against opt_einsum's dp (recorded costs) and the exact
 * search, and the hyper-optimizer against opt_einsum's greedy and
 * random-greedy; contraction trees and subtree reconfiguration as theorems.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { contractionPath, internNetwork, pathFlops, randomNetwork, type TensorNetwork } from "../../src/passes/contraction-path/index.js";
import { dpPath } from "../../src/passes/contraction-path/dp.js";
import { hyperSearch, reconfigure } from "../../src/passes/contraction-path/hyper.js";
import { optimalPath } from "../../src/passes/contraction-path/optimal.js";
import { greedySearch, firstBest } from "../../src/passes/contraction-path/greedy.js";
import { applyStep, contractStep, type LabelSet } from "../../src/passes/contraction-path/network.js";
import { pathToTree, treeContext, treeToPath } from "../../src/passes/contraction-path/tree.js";

interface Recorded {
  n: number;
  eq: string;
  shapes: number[][];
  dp?: number;
  greedy: number;
  randomGreedy128: number;
}

const recorded: Recorded[] = JSON.parse(readFileSync(new URL("./rand-equation-networks.json", import.meta.url), "utf8")).networks;

function networkOf(eq: string, shapes: number[][]): TensorNetwork {
  const [lhs, rhs] = eq.split("->") as [string, string];
  const inputs = lhs.split(",").map((t) => [...t]);
  const extents: Record<string, number> = {};
  inputs.forEach((t, k) => t.forEach((l, j) => (extents[l] = shapes[k]![j]!)));
  return { inputs, output: [...rhs], extents };
}

const flopsOf = (net: TensorNetwork, finder: string, options = {}): number => pathFlops(internNetwork(net), contractionPath(net, finder, options));

describe("dp with cost capping", () => {
  it("costs no more than opt_einsum's dp on recorded networks of 8 to 20 tensors", () => {
    const small = recorded.filter((r) => r.dp !== undefined);
    expect(small.length).toBeGreaterThanOrEqual(8);
    for (const r of small) {
      const net = networkOf(r.eq, r.shapes);
      expect(flopsOf(net, "dp"), r.eq).toBeLessThanOrEqual(r.dp!);
      expect(flopsOf(net, "auto"), r.eq).toBeLessThanOrEqual(r.dp!);
    }
  });

  it("over every subset (up to 12 operands) reaches the exhaustive minimum", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const net = randomNetwork({ operands: 7 + (seed % 3), seed });
      const n = internNetwork(net);
      const exact = pathFlops(n, optimalPath(n, {}));
      expect(pathFlops(n, dpPath(n, {}))).toBe(exact);
    }
  });

  it("gives up past its time budget, and auto then still returns a path no worse than greedy's", () => {
    const r = recorded.find((x) => x.n === 20 && x.dp !== undefined && x.dp < x.greedy / 10)!;
    const net = networkOf(r.eq, r.shapes);
    expect(() => contractionPath(net, "dp", { pathTimeMs: 0 })).toThrow(/time budget/);
    expect(flopsOf(net, "auto", { pathTimeMs: 0 })).toBeLessThanOrEqual(r.greedy);
  });
});

describe("contraction trees", () => {
  it("a tree costs what its path costs, and gives back a path of the same cost", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const net = internNetwork(randomNetwork({ operands: 12, seed }));
      const ctx = treeContext(net);
      const path = greedySearch(net, {}, firstBest).path;
      const tree = pathToTree(ctx, path)!;
      expect(tree.total).toBe(pathFlops(net, path));
      expect(pathFlops(net, treeToPath(12, tree))).toBe(tree.total);
    }
  });

  it("reconfiguring a tree of at most 8 leaves finds the exact minimum", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const net = internNetwork(randomNetwork({ operands: 5 + (seed % 4), seed }));
      const ctx = treeContext(net);
      const tree = pathToTree(ctx, greedySearch(net, {}, firstBest).path)!;
      expect(reconfigure(ctx, tree, {}).total).toBe(pathFlops(net, optimalPath(net, {})));
    }
  });

  it("reconfiguration never makes a tree costlier", () => {
    const net = internNetwork(randomNetwork({ operands: 40, seed: 3 }));
    const ctx = treeContext(net);
    const tree = pathToTree(ctx, greedySearch(net, {}, firstBest).path)!;
    expect(reconfigure(ctx, tree, {}).total).toBeLessThanOrEqual(tree.total);
  });
});

describe("hyper", () => {
  it("costs no more than the best of opt_einsum's greedy and random-greedy(128) on recorded networks of 40 to 100 tensors", () => {
    const large = recorded.filter((r) => r.n >= 40);
    expect(large.length).toBeGreaterThanOrEqual(4);
    for (const r of large) {
      const net = networkOf(r.eq, r.shapes);
      expect(flopsOf(net, "hyper"), r.eq).toBeLessThanOrEqual(Math.min(r.greedy, r.randomGreedy128));
    }
  });

  it("is deterministic for a seed under a budget, and never reads the clock", () => {
    const net = randomNetwork({ operands: 40, seed: 11 });
    const a = contractionPath(net, "hyper", { seed: 1, pathTimeMs: 150 });
    // A clock that jumps by a second at every reading: a search that looked
    // at it would stop early, or differently.
    let t = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => (t += 1000));
    const dateClock = vi.spyOn(Date, "now").mockImplementation(() => (t += 1000));
    try {
      expect(contractionPath(net, "hyper", { seed: 1, pathTimeMs: 150 })).toEqual(a);
      expect(contractionPath(net, "auto", { seed: 1, pathTimeMs: 150 })).toEqual(contractionPath(net, "auto", { seed: 1, pathTimeMs: 150 }));
      const mid = randomNetwork({ operands: 20, seed: 4, regularity: 4 });
      expect(contractionPath(mid, "auto", { pathTimeMs: 100 })).toEqual(contractionPath(mid, "auto", { pathTimeMs: 100 }));
      expect(clock).not.toHaveBeenCalled();
      expect(dateClock).not.toHaveBeenCalled();
    } finally {
      clock.mockRestore();
      dateClock.mockRestore();
    }
  });

  it("honours the memory limit", () => {
    const net = randomNetwork({ operands: 30, seed: 5 });
    const n = internNetwork(net);
    const free = hyperSearch(n, {}).tree!;
    const limit = Math.max(1, Math.floor(Math.max(free.left!.largest, free.right!.largest) / 4));
    const path = contractionPath(net, "hyper", { memoryLimit: limit });
    let sets: readonly LabelSet[] = n.sets;
    path.forEach((step, k) => {
      const s = contractStep(n, sets, step);
      if (k < path.length - 1) expect(s.resultSize).toBeLessThanOrEqual(limit);
      sets = applyStep(sets, step, s.result);
    });
    const { tree } = hyperSearch(n, { memoryLimit: limit });
    if (tree !== null) expect(Math.max(tree.left!.largest, tree.right!.largest)).toBeLessThanOrEqual(limit);
    expect(pathFlops(n, path)).toBeGreaterThanOrEqual(free.total);
  });
});
