/**
 * The dp and the randomized greedy engine on a committed fixture of
 * opt_einsum's `rand_equation` networks (8 to 18 tensors, regularity 3 and
 * 4, 0 to 3 output labels, a batch label on a third) with opt_einsum's dp
 * path and `opt_cost`, so no Python is needed: FLOPs counted as opt_einsum
 * counts them, never above opt_einsum's dp, and the same answer every run.
 * Three networks of 27 to 30 tensors at regularity 4 (where opt_einsum's
 * dp takes minutes) check that `auto` finishes its dp within its default
 * budget: it reaches the cost of the dp run without any budget.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkPath, contractionPath, internNetwork, networkOfSpec, pathFlops } from "../../src/passes/contraction-path/index.js";
import { dpPath } from "../../src/passes/contraction-path/dp.js";
import { HeapGreedy } from "../../src/passes/contraction-path/heap-greedy.js";
import { seededUniform } from "../../src/passes/contraction-path/random-greedy.js";
import { applyStep, contractStep, type LabelSet } from "../../src/passes/contraction-path/network.js";

interface Recorded {
  n: number;
  regularity: number;
  eq: string;
  shapes: number[][];
  dp: number;
  dpPath: number[][];
}

interface Hard {
  n: number;
  eq: string;
  shapes: number[][];
  exactDp: number;
}

const fixture = JSON.parse(readFileSync(new URL("./rand-equation-dp.json", import.meta.url), "utf8")) as { networks: Recorded[]; hard: Hard[] };

describe("dp against opt_einsum's dp (recorded)", () => {
  it("counts FLOPs as opt_einsum does: its dp path costs its opt_cost", () => {
    expect(fixture.networks.length).toBe(40);
    for (const r of fixture.networks) {
      const net = internNetwork(networkOfSpec(r.eq, r.shapes));
      expect(pathFlops(net, r.dpPath), r.eq).toBe(r.dp);
    }
  });

  it("dp and auto never cost more than opt_einsum's dp, at regularity 3 and 4", () => {
    let cheaper = 0;
    for (const r of fixture.networks) {
      const network = networkOfSpec(r.eq, r.shapes);
      const net = internNetwork(network);
      const dp = pathFlops(net, contractionPath(network, "dp"));
      const auto = pathFlops(net, contractionPath(network, "auto"));
      expect(dp, r.eq).toBeLessThanOrEqual(r.dp);
      expect(auto, r.eq).toBeLessThanOrEqual(r.dp);
      if (auto < r.dp) cheaper++;
    }
    // opt_einsum's dp minimizes the sum of the steps' sizes, not FLOPs:
    // on some networks the FLOP minimum is strictly cheaper.
    expect(cheaper).toBeGreaterThan(0);
  });

  it("auto finishes the dp within its default budget at 27 to 30 tensors, regularity 4", () => {
    expect(fixture.hard.length).toBe(3);
    for (const h of fixture.hard) {
      const network = networkOfSpec(h.eq, h.shapes);
      const net = internNetwork(network);
      expect(pathFlops(net, contractionPath(network, "auto")), h.eq).toBe(h.exactDp);
    }
  });

  it("is deterministic", () => {
    for (const r of fixture.networks.filter((x) => x.n >= 14).slice(0, 4)) {
      const network = networkOfSpec(r.eq, r.shapes);
      expect(contractionPath(network, "auto")).toEqual(contractionPath(network, "auto"));
      expect(contractionPath(network, "dp")).toEqual(contractionPath(network, "dp"));
    }
  });

  it("handles disconnected parts: each part exactly, then their product", () => {
    // Two matrix chains of 7 with distinct labels: 14 operands, so the
    // search over connected subsets runs, on two components.
    const chain = (p: string, extents: number[]) => ({
      terms: extents.slice(1).map((_, k) => `${String.fromCharCode(p.charCodeAt(0) + k)}${String.fromCharCode(p.charCodeAt(0) + k + 1)}`),
      shapes: extents.slice(1).map((e, k) => [extents[k]!, e]),
    });
    const a = chain("a", [30, 5, 40, 8, 60, 4, 50, 7]);
    const b = chain("k", [9, 70, 3, 80, 6, 90, 2, 10]);
    const eq = `${[...a.terms, ...b.terms].join(",")}->ahkr`;
    const net = internNetwork(networkOfSpec(eq, [...a.shapes, ...b.shapes]));
    const path = dpPath(net, {});
    checkPath(path, 14);
    const part = (c: typeof a, out: string) => {
      const n = internNetwork(networkOfSpec(`${c.terms.join(",")}->${out}`, c.shapes));
      return pathFlops(n, dpPath(n, {}));
    };
    // The cheapest of each chain (every split of every subset at 7
    // operands: exact) plus the outer product of the two results.
    expect(pathFlops(net, path)).toBe(part(a, "ah") + part(b, "kr") + 30 * 7 * 9 * 10);
  });
});

describe("the heap-based greedy engine", () => {
  const r = fixture.networks.find((x) => x.n === 18 && x.regularity === 4)!;
  const net = internNetwork(networkOfSpec(r.eq, r.shapes));

  it("gives valid pairwise paths whose FLOPs it counts as pathFlops does", () => {
    const engine = new HeapGreedy(net);
    const random = seededUniform(5);
    for (let t = 0; t < 20; t++) {
      const trial = engine.run({ alpha: 2 * random(), temperature: t === 0 ? 0 : Math.pow(10, -2 + 2 * random()) }, random)!;
      checkPath(trial.path, net.sets.length);
      expect(trial.path.every((s) => s.length === 2)).toBe(true);
      expect(trial.flops).toBe(pathFlops(net, trial.path));
    }
  });

  it("at temperature 0 takes the pair that removes the most memory at every step", () => {
    const { path } = new HeapGreedy(net).run({ alpha: 1, temperature: 0 }, () => 0.5)!;
    let sets: readonly LabelSet[] = net.sets;
    const size = (s: LabelSet): number => s.reduce((p, l) => p * net.extent[l]!, 1);
    const sharesSummed = (a: LabelSet, b: LabelSet): boolean => a.some((l) => !net.inOutput[l] && b.includes(l));
    for (const step of path) {
      let best = Infinity;
      for (let a = 0; a < sets.length; a++) {
        for (let b = a + 1; b < sets.length; b++) {
          if (!sharesSummed(sets[a]!, sets[b]!)) continue;
          best = Math.min(best, contractStep(net, sets, [a, b]).resultSize - size(sets[a]!) - size(sets[b]!));
        }
      }
      const s = contractStep(net, sets, step);
      if (best < Infinity) expect(s.resultSize - size(sets[step[0]!]!) - size(sets[step[1]!]!)).toBe(best);
      sets = applyStep(sets, step, s.result);
    }
  });

  it("is deterministic for a seed, and the seed matters", () => {
    const run = (seed: number) => {
      const engine = new HeapGreedy(net);
      const random = seededUniform(seed);
      return Array.from({ length: 5 }, () => engine.run({ alpha: 1, temperature: 1 }, random)!.path);
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it("refuses intermediates over the memory limit", () => {
    const largestOf = (path: readonly (readonly number[])[]): number => {
      let largest = 0;
      let sets: readonly LabelSet[] = net.sets;
      path.forEach((step, k) => {
        const s = contractStep(net, sets, step);
        if (k < path.length - 1) largest = Math.max(largest, s.resultSize);
        sets = applyStep(sets, step, s.result);
      });
      return largest;
    };
    // A limit that binds: below the largest intermediate of most unlimited trials.
    const free = new HeapGreedy(net);
    const random = seededUniform(9);
    const largest = Array.from({ length: 30 }, () => largestOf(free.run({ alpha: 1, temperature: 0.3 }, random)!.path)).sort((x, y) => x - y);
    const limit = 2 * largest[0]!;
    expect(largest.filter((l) => l > limit).length).toBeGreaterThan(10);
    const engine = new HeapGreedy(net, limit);
    let ok = 0;
    for (let t = 0; t < 30; t++) {
      const trial = engine.run({ alpha: 1, temperature: 0.3 }, random);
      if (trial === null) continue;
      ok++;
      expect(largestOf(trial.path)).toBeLessThanOrEqual(limit);
    }
    expect(ok).toBeGreaterThan(0);
  });
});
