/**
 * The `auto` path finder: picks an algorithm by operand count, so that small
 * networks get the exact minimum and large ones a search bounded in time:
 *
 * | operands | finder |
 * |---|---|
 * | up to 6 | `optimal` |
 * | 7 to 12 | `dp` over every subset (exact) |
 * | 13 to 30 | `hyper` with a sixth of `pathTimeMs` (default {@link AUTO_DP_TIME_MS}), then `dp` over connected subsets (cheapest first), capped by hyper's cost, with the rest; hyper's path when the dp runs out of budget or finds nothing cheaper |
 * | more | `hyper` |
 *
 * Whatever it picks, the result is never costlier than `greedy`'s path.
 * Budgets are counted in work units, not time (`work.ts`), so the result is
 * deterministic.
 */
import { pathFlops, type PathFinder, type PathOptions } from "./finder.js";
import { DP_ALL_SUBSETS_MAX, DP_MAX_OPERANDS, PathSearchTimeout, dp, dpPath } from "./dp.js";
import { greedy } from "./greedy.js";
import { hyper } from "./hyper.js";
import type { ContractionPath, InternedNetwork } from "./network.js";
import { optimal } from "./optimal.js";

/** Largest operand count `auto` gives to `dp`. */
export const AUTO_DP_MAX = DP_MAX_OPERANDS;
/** The budget of `auto` between 13 and 30 operands, in milliseconds of work (`work.ts`): a sixth for `hyper`, the rest for `dp`. */
export const AUTO_DP_TIME_MS = 1200;

/**
 * The finder `auto` tries first for `count` operands (see the module comment).
 *
 * @example
 * ```ts
 * autoChoice(4).name;  // "optimal"
 * autoChoice(20).name; // "dp"
 * autoChoice(40).name; // "hyper"
 * ```
 */
export function autoChoice(count: number): PathFinder {
  if (count <= 6) return optimal;
  if (count <= AUTO_DP_MAX) return dp;
  return hyper;
}

function autoPath(net: InternedNetwork, options: PathOptions): ContractionPath {
  const chosen = autoChoice(net.sets.length);
  let path: ContractionPath;
  if (chosen === dp && net.sets.length > DP_ALL_SUBSETS_MAX) {
    // hyper first: its cost caps the dp's search, which then only keeps
    // subtrees that can be part of a cheaper tree.
    const budget = options.pathTimeMs ?? AUTO_DP_TIME_MS;
    const found = hyper.find(net, { ...options, pathTimeMs: budget / 6 });
    const foundFlops = pathFlops(net, found);
    try {
      const exact = dpPath(net, { ...options, pathTimeMs: (5 * budget) / 6 }, foundFlops);
      path = pathFlops(net, exact) < foundFlops ? exact : found;
    } catch (e) {
      if (!(e instanceof PathSearchTimeout)) throw e;
      path = found;
    }
  } else path = chosen.find(net, options);
  if (chosen === hyper) return path;
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
  description: "optimal up to 6 operands, dp (within a time budget) up to 30, hyper beyond",
  find: autoPath,
};
