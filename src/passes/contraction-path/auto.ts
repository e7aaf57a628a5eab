/**
 * The `auto` path finder: picks an algorithm by operand count so that the
 * search stays within a few milliseconds for the networks programs usually
 * have, and under a second for 30–40 operands:
 *
 * | operands | finder |
 * |---|---|
 * | up to 6 | `optimal` |
 * | 7 to 14 | `dp` (every subset up to 12, connected subsets beyond) |
 * | 15 to 60 | `random-greedy`, 32 trials |
 * | more | `greedy` |
 *
 * Whatever it picks, the result is never costlier than `greedy`'s path.
 */
import { pathFlops, type PathFinder, type PathOptions } from "./finder.js";
import { dp } from "./dp.js";
import { greedy } from "./greedy.js";
import type { ContractionPath, InternedNetwork } from "./network.js";
import { optimal } from "./optimal.js";
import { randomGreedy } from "./random-greedy.js";

/** Largest operand count `auto` gives to `dp` (a few hundred ms at worst on random networks). */
export const AUTO_DP_MAX = 14;

/**
 * The finder `auto` uses for `count` operands (see the module comment).
 *
 * @example
 * ```ts
 * autoChoice(4).name;  // "optimal"
 * autoChoice(20).name; // "random-greedy"
 * ```
 */
export function autoChoice(count: number): PathFinder {
  if (count <= 6) return optimal;
  if (count <= AUTO_DP_MAX) return dp;
  if (count <= 60) return randomGreedy;
  return greedy;
}

function autoPath(net: InternedNetwork, options: PathOptions): ContractionPath {
  const chosen = autoChoice(net.sets.length);
  const path = chosen.find(net, options);
  if (chosen === greedy || chosen === randomGreedy) return path;
  const fallback = greedy.find(net, options);
  return pathFlops(net, fallback) < pathFlops(net, path) ? fallback : path;
}

/**
 * The auto finder.
 *
 * @example
 * ```ts
 * auto.find(internNetwork(network), {});
 * ```
 */
export const auto: PathFinder = {
  name: "auto",
  description: "optimal up to 6 operands, dp up to 14, random-greedy up to 60, greedy beyond",
  find: autoPath,
};
