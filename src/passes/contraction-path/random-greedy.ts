/**
 * The random-greedy path finder (opt_einsum's `random-greedy`): the greedy
 * search run many times, each trial sampling every step from a Boltzmann
 * distribution over the best few candidates instead of always taking the
 * best, with a randomly drawn temperature and weight of the inputs' sizes.
 * The cheapest path wins. Trial 0 is the plain greedy path, so the result is
 * never worse than `greedy`'s. Seeded, so the same input gives the same path.
 */
import type { PathFinder, PathOptions } from "./finder.js";
import type { InternedNetwork } from "./network.js";
import { firstBest, greedySearch, type GreedyCandidate, type GreedyChooser, type GreedyResult } from "./greedy.js";

/** How many of the best candidates a step samples from. */
const BRANCHES = 8;

/**
 * A seeded uniform generator on [0, 1) (mulberry32).
 *
 * @example
 * ```ts
 * const next = seededUniform(42);
 * next(); // the same number for seed 42, every run
 * ```
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A chooser that samples among the `BRANCHES` best candidates by
 * `size(result) - alpha * (size(a) + size(b))`, with probability
 * `exp(-(h - hbest) / (temperature * max(1, |hbest|)))`.
 */
export function thermalChooser(random: () => number, alpha: number, temperature: number): GreedyChooser {
  return (candidates: readonly GreedyCandidate[]) => {
    const scored = candidates.map((c, k) => ({ k, h: c.resultSize - alpha * (c.sizeA + c.sizeB), flops: c.flops }));
    scored.sort((x, y) => x.h - y.h || x.flops - y.flops || x.k - y.k);
    const top = scored.slice(0, BRANCHES);
    const h0 = top[0]!.h;
    const scale = temperature * Math.max(1, Math.abs(h0));
    const weights = top.map((c) => Math.exp(-(c.h - h0) / scale));
    let r = random() * weights.reduce((a, w) => a + w, 0);
    for (let k = 0; k < top.length; k++) {
      r -= weights[k]!;
      if (r < 0) return top[k]!.k;
    }
    return top[0]!.k;
  };
}

/**
 * The random-greedy finder; `options.trials` (default 32) and `options.seed`
 * (default 0) control the sampling.
 *
 * @example
 * ```ts
 * randomGreedy.find(internNetwork(network), { seed: 1, trials: 64 });
 * ```
 */
export const randomGreedy: PathFinder = {
  name: "random-greedy",
  description: "best of many greedy searches with Boltzmann-sampled steps (seeded)",
  find: (net, options) => randomGreedySearch(net, options).path,
};

/**
 * The best of `options.trials` randomized greedy searches (trial 0 is plain
 * greedy), with its FLOPs.
 *
 * @example
 * ```ts
 * randomGreedySearch(internNetwork(network), { trials: 16 }).flops;
 * ```
 */
export function randomGreedySearch(net: InternedNetwork, options: PathOptions): GreedyResult {
  const random = seededUniform(options.seed ?? 0);
  let best: GreedyResult = greedySearch(net, options, firstBest);
  const trials = options.trials ?? 32;
  for (let t = 1; t < trials; t++) {
    const trial = greedySearch(net, options, randomChooser(random));
    if (trial.flops < best.flops) best = trial;
  }
  return best;
}

/**
 * A thermal chooser with a freshly drawn temperature (log-uniform in
 * [0.01, 1]) and input weight (uniform in [0.5, 2]).
 *
 * @example
 * ```ts
 * greedySearch(net, {}, randomChooser(seededUniform(3)));
 * ```
 */
export function randomChooser(random: () => number): GreedyChooser {
  const temperature = Math.pow(10, -2 + 2 * random());
  const alpha = 0.5 + 1.5 * random();
  return thermalChooser(random, alpha, temperature);
}
