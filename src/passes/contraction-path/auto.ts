/**
 * The `auto` path finder: picks an algorithm by operand count, so that small
 * networks get the exact minimum and large ones a search bounded in time:
 *
 * | operands | finder |
 * |---|---|
 * | up to 6 | `optimal` |
 * | 7 to 30 | `dp` (every subset up to 12; connected subsets with cost capping beyond), within `pathTimeMs` (default {@link AUTO_DP_TIME_MS}); when it runs out of time, `hyper` |
 * | more | `hyper` |
 *
 * Whatever it picks, the result is never costlier than `greedy`'s path.
 * The result is deterministic whenever the dp finishes within its budget
 * (always, up to 12 operands).
 */
import { pathFlops, type PathFinder, type PathOptions } from "./finder.js";
import { DP_MAX_OPERANDS, PathSearchTimeout, dp } from "./dp.js";
import { greedy } from "./greedy.js";
import { hyper } from "./hyper.js";
import type { ContractionPath, InternedNetwork } from "./network.js";
import { optimal } from "./optimal.js";

/** Largest operand count `auto` gives to `dp`. */
export const AUTO_DP_MAX = DP_MAX_OPERANDS;
/** The time `auto` allows `dp` before it turns to `hyper`, in milliseconds. */
export const AUTO_DP_TIME_MS = 1000;

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
  if (chosen === dp) {
    const budget = options.pathTimeMs ?? AUTO_DP_TIME_MS;
    const start = performance.now();
    try {
      path = dp.find(net, { ...options, pathTimeMs: budget });
    } catch (e) {
      if (!(e instanceof PathSearchTimeout)) throw e;
      path = hyper.find(net, { ...options, pathTimeMs: Math.max(budget - (performance.now() - start), budget / 2) });
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
