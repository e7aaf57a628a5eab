/**
 * The optimal path finder: a depth-first branch and bound over every
 * sequence of pairwise contractions (outer products included), the exact
 * FLOP minimum. The greedy path's cost is the first bound; a state (which
 * inputs each remaining operand holds) reached again at no lower cost is cut.
 * Practical up to about 8 operands; it refuses more than 30.
 *
 * With a memory limit the minimum is over the pairwise paths whose
 * intermediates fit. Only when none exists is a path allowed to end, where
 * no pair fits, with one step contracting all remaining operands.
 */
import { fitsMemory, type PathFinder, type PathOptions } from "./finder.js";
import { firstBest, greedySearch, lastStepFlops } from "./greedy.js";
import { applyStep, contractStep, type ContractionStep, type InternedNetwork, type LabelSet } from "./network.js";

/** The most operands `optimal` accepts (subsets are tracked as 31-bit masks). */
export const OPTIMAL_MAX_OPERANDS = 30;

interface Best {
  flops: number;
  path: ContractionStep[] | null;
}

/**
 * The exact minimum-FLOP path of `net` (see the module comment for the memory limit).
 *
 * @example
 * ```ts
 * optimalPath(internNetwork(network), {}); // e.g. [[1, 2], [0, 1]]
 * ```
 */
export function optimalPath(net: InternedNetwork, options: PathOptions): ContractionStep[] {
  const n = net.sets.length;
  if (n > OPTIMAL_MAX_OPERANDS) throw new RangeError(`optimal handles at most ${OPTIMAL_MAX_OPERANDS} operands, got ${n}; use dp, greedy or random-greedy`);
  if (n < 2) return [];
  const start = greedySearch(net, options, firstBest);
  const pairwise = start.path.every((s) => s.length === 2);
  const best: Best = pairwise ? { flops: start.flops, path: start.path } : { flops: Infinity, path: null };
  search(net, options, best, false);
  if (best.path === null) search(net, options, best, true);
  return best.path!;
}

function search(net: InternedNetwork, options: PathOptions, best: Best, allowStuck: boolean): void {
  const seen = new Map<string, number>();
  const path: ContractionStep[] = [];
  const visit = (sets: readonly LabelSet[], masks: readonly number[], flops: number): void => {
    if (sets.length === 1) {
      if (flops < best.flops) {
        best.flops = flops;
        best.path = [...path];
      }
      return;
    }
    const key = [...masks].sort((a, b) => a - b).join(",");
    const before = seen.get(key);
    if (before !== undefined && before <= flops) return;
    seen.set(key, flops);
    const moves: { step: [number, number]; flops: number; result: LabelSet }[] = [];
    let anyFits = false;
    for (let i = 0; i < sets.length; i++) {
      for (let j = i + 1; j < sets.length; j++) {
        const s = contractStep(net, sets, [i, j]);
        if (!fitsMemory(s.resultSize, sets.length - 1, options)) continue;
        anyFits = true;
        if (flops + s.flops < best.flops) moves.push({ step: [i, j], flops: s.flops, result: s.result });
      }
    }
    if (!anyFits) {
      if (!allowStuck) return;
      const total = flops + lastStepFlops(net, sets);
      if (total < best.flops) {
        best.flops = total;
        best.path = [...path, sets.map((_, k) => k)];
      }
      return;
    }
    moves.sort((a, b) => a.flops - b.flops);
    for (const m of moves) {
      if (flops + m.flops >= best.flops) continue;
      path.push(m.step);
      const [i, j] = m.step;
      visit(applyStep(sets, m.step, m.result), applyStep(masks, m.step, masks[i]! | masks[j]!), flops + m.flops);
      path.pop();
    }
  };
  visit(net.sets, net.sets.map((_, k) => 1 << k), 0);
}

/**
 * The optimal finder.
 *
 * @example
 * ```ts
 * optimal.find(internNetwork(network), { memoryLimit: 1e6 });
 * ```
 */
export const optimal: PathFinder = {
  name: "optimal",
  description: "exhaustive branch and bound: the exact FLOP minimum (up to about 8 operands)",
  find: optimalPath,
};
