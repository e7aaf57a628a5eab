/**
 * The interface every path finder implements, and the helpers they share:
 * the cost of a whole path and the memory-limit rule.
 */
import { applyStep, contractStep, type ContractionPath, type InternedNetwork, type LabelSet } from "./network.js";

/**
 * Options every finder honours.
 *
 * @example
 * ```ts
 * const options: PathOptions = { memoryLimit: 1 << 20, seed: 7, trials: 64 };
 * ```
 */
export interface PathOptions {
  /**
   * Largest allowed intermediate, in elements (default: no limit). The final
   * result is not an intermediate and is never refused. When no pair can be
   * contracted within the limit, the path ends with one step contracting all
   * remaining operands, as NumPy and opt_einsum do.
   */
  readonly memoryLimit?: number;
  /** Seed of `random-greedy` (default 0). */
  readonly seed?: number;
  /** Trials of `random-greedy` (default 32). */
  readonly trials?: number;
  /**
   * Budget of the search, in milliseconds of work: counted in work units
   * (`work.ts`: about 1000 greedy candidate evaluations per millisecond),
   * never read from the clock, so the path is the same on any machine and
   * under any load. `dp` gives up past it (a `PathSearchTimeout`, which
   * `auto` catches); `hyper` runs trials until half of it is spent
   * and reconfigures with the rest. The default depends on the finder (`dp`:
   * none; `hyper`: `hyperTimeMs`; `auto`: 1200 between 13 and 30 operands).
   */
  readonly pathTimeMs?: number;
}

/**
 * A named path-finding algorithm.
 *
 * @example
 * ```ts
 * const finder: PathFinder = PATH_FINDERS["greedy"]!;
 * finder.find(internNetwork(network), {}); // [[0, 1], [0, 1]]
 * ```
 */
export interface PathFinder {
  readonly name: string;
  readonly description: string;
  /** Deterministic for a given network and options. */
  find(net: InternedNetwork, options: PathOptions): ContractionPath;
}

/**
 * The FLOP count of `path` on `net` (the sum of its steps' counts).
 *
 * @example
 * ```ts
 * pathFlops(net, [[0, 1], [0, 1]]);
 * ```
 */
export function pathFlops(net: InternedNetwork, path: ContractionPath): number {
  let current: readonly LabelSet[] = net.sets;
  let total = 0;
  for (const step of path) {
    const s = contractStep(net, current, step);
    total += s.flops;
    current = applyStep(current, step, s.result);
  }
  return total;
}

/**
 * Whether a step producing `resultSize` elements respects the memory limit;
 * `remaining` is how many operands are left after the step (1: the final
 * result, which is never refused).
 *
 * @example
 * ```ts
 * fitsMemory(1000, 2, { memoryLimit: 100 }); // false
 * fitsMemory(1000, 1, { memoryLimit: 100 }); // true: the output
 * ```
 */
export function fitsMemory(resultSize: number, remaining: number, options: PathOptions): boolean {
  return remaining === 1 || resultSize <= (options.memoryLimit ?? Infinity);
}

/**
 * The path that contracts every operand in one step (or nothing for one operand).
 *
 * @example
 * ```ts
 * allAtOnce(3); // [[0, 1, 2]]
 * ```
 */
export function allAtOnce(count: number): ContractionPath {
  return count < 2 ? [] : [Array.from({ length: count }, (_, k) => k)];
}
