/**
 * Contraction ordering: the registry of path finders over abstract tensor
 * networks, and the two entry points, {@link contractionPath} and
 * {@link contractionPathInfo}. The `order-contractions` pass uses them on
 * sums of products; `tns explain` prints a {@link PathInfo}.
 *
 * @example
 * ```ts
 * const info = contractionPathInfo(
 *   { inputs: [["i", "j"], ["j", "k"], ["k", "l"]], output: ["i", "l"], extents: { i: 64, j: 64, k: 64, l: 8 } },
 *   "auto",
 * );
 * info.path;            // [[1, 2], [0, 1]]
 * printPathInfo(info);  // the report
 * ```
 */
import { auto } from "./auto.js";
import { dp } from "./dp.js";
import type { PathFinder, PathOptions } from "./finder.js";
import { greedy } from "./greedy.js";
import { hyper } from "./hyper.js";
import { checkPath, internNetwork, type ContractionPath, type TensorNetwork } from "./network.js";
import { optimal } from "./optimal.js";
import { describePath, type PathInfo } from "./path-info.js";
import { randomGreedy } from "./random-greedy.js";
import { PATH_FINDERS } from "./registry.js";

export { autoChoice } from "./auto.js";
export { pathFlops, type PathFinder, type PathOptions } from "./finder.js";
export { checkPath, internNetwork, type ContractionPath, type ContractionStep, type InternedNetwork, type TensorNetwork } from "./network.js";
export { describePath, naiveFlops, printPathInfo, type PathInfo, type PathStepInfo } from "./path-info.js";
export { networkShapes, networkToEinsum, randomNetwork, type RandomNetworkOptions } from "./random-network.js";
export { auto, dp, greedy, hyper, optimal, randomGreedy, PATH_FINDERS };
export { sliceForLimit, type Slicing } from "./slicing.js";
export { contractPath, networkOfSpec, type ContractPathOptions, type ContractPathResult, type OptimizeName } from "./contract-path.js";

function finderNamed(name: string): PathFinder {
  const f = PATH_FINDERS[name];
  if (f === undefined) throw new RangeError(`unknown path finder '${name}' (known: ${Object.keys(PATH_FINDERS).join(", ")})`);
  return f;
}

/**
 * The contraction path `finder` chooses for `network`.
 *
 * @example
 * ```ts
 * contractionPath({ inputs: [["i", "j"], ["j", "k"], ["k"]], output: ["i"], extents: { i: 9, j: 9, k: 9 } }, "optimal");
 * // [[1, 2], [0, 1]]
 * ```
 */
export function contractionPath(network: TensorNetwork, finder = "auto", options: PathOptions = {}): ContractionPath {
  const net = internNetwork(network);
  const path = finderNamed(finder).find(net, options);
  checkPath(path, net.sets.length);
  return path;
}

/**
 * The path `finder` chooses for `network`, described with its costs.
 *
 * @example
 * ```ts
 * contractionPathInfo(network, "dp", { memoryLimit: 1 << 20 }).optimizedFlops;
 * ```
 */
export function contractionPathInfo(network: TensorNetwork, finder = "auto", options: PathOptions = {}): PathInfo {
  const net = internNetwork(network);
  const path = finderNamed(finder).find(net, options);
  checkPath(path, net.sets.length);
  return describePath(net, path, finder);
}
