/**
 * The path finders on their own: known paths, agreement between the exact
 * finders, the memory limit, determinism, and the PathInfo report.
 */
import { describe, expect, it } from "vitest";
import {
  PATH_FINDERS, autoChoice, checkPath, contractionPath, contractionPathInfo, describePath, internNetwork,
  pathFlops, printPathInfo, randomNetwork, type ContractionPath, type TensorNetwork,
} from "../../src/passes/contraction-path/index.js";
import { applyStep, contractStep, type LabelSet } from "../../src/passes/contraction-path/network.js";

const chain: TensorNetwork = {
  inputs: [["i", "j"], ["j", "k"], ["k", "l"]],
  output: ["i", "l"],
  extents: { i: 64, j: 64, k: 64, l: 8 },
};

const flops = (net: TensorNetwork, path: ContractionPath): number => pathFlops(internNetwork(net), path);

/** The sizes of the intermediates a path forms (not the final result), and whether it ends in a many-operand step. */
function intermediates(net: TensorNetwork, path: ContractionPath): { sizes: number[]; manyAtEnd: boolean } {
  const n = internNetwork(net);
  let sets: readonly LabelSet[] = n.sets;
  const sizes: number[] = [];
  path.forEach((step, k) => {
    const s = contractStep(n, sets, step);
    if (k < path.length - 1) sizes.push(s.resultSize);
    sets = applyStep(sets, step, s.result);
  });
  return { sizes, manyAtEnd: path.length > 0 && path[path.length - 1]!.length > 2 };
}

describe("path finders", () => {
  it("registers every finder under its name", () => {
    expect(Object.keys(PATH_FINDERS)).toEqual(["optimal", "dp", "greedy", "random-greedy", "hyper", "auto"]);
    expect(() => contractionPath(chain, "best")).toThrow(/unknown path finder 'best'/);
  });

  it("contracts a matrix chain on the small side first", () => {
    // (B C) costs 64·64·8·2 and leaves 64×8; (A B) first would cost 64³·2.
    for (const finder of Object.keys(PATH_FINDERS)) expect(contractionPath(chain, finder), finder).toEqual([[1, 2], [0, 1]]);
    expect(flops(chain, [[1, 2], [0, 1]])).toBe(2 * 64 * 64 * 8 * 2);
  });

  it("uses an outer product when that is cheapest", () => {
    // a,b,abc->c with tiny a and b: the 2×2 outer product first.
    const net: TensorNetwork = { inputs: [["a"], ["b"], ["a", "b", "c"]], output: ["c"], extents: { a: 2, b: 2, c: 100 } };
    expect(contractionPath(net, "optimal")).toEqual([[0, 1], [0, 1]]);
    expect(contractionPath(net, "dp")).toEqual([[0, 1], [0, 1]]);
    expect(flops(net, [[0, 1], [0, 1]])).toBe(4 + 800);
  });

  it("dp and optimal agree on random networks of 3 to 8 operands, with and without a memory limit", () => {
    for (let seed = 0; seed < 40; seed++) {
      const net = randomNetwork({ operands: 3 + (seed % 6), seed, maxExtent: 6, regularity: 2 + (seed % 3) });
      const exact = flops(net, contractionPath(net, "optimal"));
      expect(flops(net, contractionPath(net, "dp")), `seed ${seed}`).toBe(exact);
      expect(flops(net, contractionPath(net, "greedy"))).toBeGreaterThanOrEqual(exact);
      expect(flops(net, contractionPath(net, "random-greedy"))).toBeGreaterThanOrEqual(exact);
      expect(flops(net, contractionPath(net, "auto"))).toBeGreaterThanOrEqual(exact);
      const memoryLimit = 64;
      const limited = contractionPath(net, "optimal", { memoryLimit });
      if (!intermediates(net, limited).manyAtEnd) {
        expect(flops(net, contractionPath(net, "dp", { memoryLimit })), `seed ${seed}, limited`).toBe(flops(net, limited));
      }
    }
  });

  it("connected-subset dp (over 12 operands) is never costlier than greedy", () => {
    for (const seed of [1, 2, 3]) {
      const net = randomNetwork({ operands: 14, seed, regularity: 2.5 });
      const path = contractionPath(net, "dp");
      checkPath(path, 14);
      expect(flops(net, path)).toBeLessThanOrEqual(flops(net, contractionPath(net, "greedy")));
    }
  });

  it("every finder honours the memory limit", () => {
    for (let seed = 0; seed < 12; seed++) {
      const net = randomNetwork({ operands: 5 + seed, seed, maxExtent: 5 });
      for (const memoryLimit of [30, 200]) {
        for (const finder of Object.keys(PATH_FINDERS)) {
          if ((finder === "optimal" && net.inputs.length > 8)) continue;
          const path = contractionPath(net, finder, { memoryLimit });
          const { sizes } = intermediates(net, path);
          expect(Math.max(0, ...sizes), `${finder}, seed ${seed}, limit ${memoryLimit}`).toBeLessThanOrEqual(memoryLimit);
        }
      }
    }
  });

  it("ends with one step over the rest when no pair fits the limit", () => {
    // Any pair of these forms a 100-element intermediate.
    const net: TensorNetwork = { inputs: [["a", "b"], ["c", "d"], ["a", "c"], ["b", "d"]], output: [], extents: { a: 10, b: 10, c: 10, d: 10 } };
    for (const finder of Object.keys(PATH_FINDERS)) {
      const path = contractionPath(net, finder, { memoryLimit: 10 });
      expect(path, finder).toEqual([[0, 1, 2, 3]]);
    }
  });

  it("is deterministic, and random-greedy depends on its seed only", () => {
    const net = randomNetwork({ operands: 24, seed: 9 });
    for (const finder of ["greedy", "random-greedy", "auto"]) expect(contractionPath(net, finder)).toEqual(contractionPath(net, finder));
    const a = contractionPath(net, "random-greedy", { seed: 1, trials: 16 });
    expect(contractionPath(net, "random-greedy", { seed: 1, trials: 16 })).toEqual(a);
    expect(flops(net, a)).toBeLessThanOrEqual(flops(net, contractionPath(net, "greedy")));
  });

  it("auto picks by operand count", () => {
    expect([3, 6, 7, 14, 30, 31, 300].map((n) => autoChoice(n).name)).toEqual(
      ["optimal", "optimal", "dp", "dp", "dp", "hyper", "hyper"],
    );
  });

  it("rejects malformed networks and paths", () => {
    expect(() => internNetwork({ inputs: [["i"]], output: ["j"], extents: { i: 2, j: 2 } })).toThrow(/appears in no operand/);
    expect(() => internNetwork({ inputs: [["i"]], output: [], extents: {} })).toThrow(/no positive extent/);
    expect(() => checkPath([[0, 3]], 3)).toThrow(RangeError);
    expect(() => checkPath([[0, 1]], 3)).toThrow(/leaves 2/);
    expect(() => contractionPath(randomNetwork({ operands: 31, seed: 1 }), "dp")).toThrow(/at most 30/);
  });
});

describe("PathInfo", () => {
  it("describes each step like numpy.einsum_path", () => {
    const info = contractionPathInfo(chain, "optimal");
    expect(info.equation).toBe("ij,jk,kl->il");
    // NumPy's text: operands right to left, intermediate labels by (extent, label).
    expect(info.steps.map((s) => s.einsum)).toEqual(["kl,jk->lj", "lj,ij->il"]);
    expect(info.steps.map((s) => s.remaining)).toEqual(["ij,lj->il", "il->il"]);
    expect(info.naiveFlops).toBe(64 * 64 * 64 * 8 * 3);
    expect(info.optimizedFlops).toBe(2 * 64 * 64 * 8 * 2);
    expect(info.speedup).toBeCloseTo(48, 10);
    expect(info.largestIntermediate).toBe(64 * 8);
    expect(info.intermediateBytes).toBe(64 * 8 * 8);
    expect([info.naiveScaling, info.optimizedScaling]).toEqual([4, 3]);
  });

  it("prints a report with the path finder and each step's FLOPs", () => {
    const text = printPathInfo(contractionPathInfo(chain, "auto"));
    expect(text).toContain("  Complete contraction:  ij,jk,kl->il\n");
    expect(text).toContain("      Naive FLOP count:  6.291e+06\n");
    expect(text).toContain("  Optimized FLOP count:  1.311e+05\n");
    expect(text).toMatch(/ {4}3 +6\.554e\+04 +kl,jk->lj +ij,lj->il/);
  });

  it("maps labels that are not single letters to letters, with a legend", () => {
    const net: TensorNetwork = { inputs: [["i", "j_1"], ["j_1", "k"], ["k"]], output: ["i"], extents: { i: 3, j_1: 4, k: 5 } };
    const info = describePath(internNetwork(net), [[1, 2], [0, 1]], "optimal");
    expect(info.equation).toBe("ab,bc,c->a");
    expect(info.legend).toEqual({ i: "a", j_1: "b", k: "c" });
    expect(printPathInfo(info)).toContain("a=i b=j_1 c=k");
  });
});
