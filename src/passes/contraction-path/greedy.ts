/**
 * The greedy path finder, step for step NumPy's `_greedy_path` (the same
 * candidates, sieves and tie-breaking, so it finds the same path): at each
 * step contract the pair whose result is smallest relative to its inputs
 * (`size(result) - size(a) - size(b)`, ties broken by FLOPs, then by the
 * order candidates were found). Outer products are considered only when no
 * pair shares a label. A candidate is dropped when its result exceeds the
 * memory limit or when the path so far plus the step would cost more than
 * the single loop nest.
 *
 * Candidates are cached between steps: contracting other operands never
 * changes a pair's result (a label the pair shares with a contracted operand
 * survives into the new one), so only pairs with the new operand are scored.
 *
 * The engine takes a `choose` function so that `random-greedy` can sample
 * among the best candidates instead of taking the first.
 */
import { fitsMemory, type PathFinder, type PathOptions } from "./finder.js";
import { flopCount, setSize, type ContractionStep, type InternedNetwork, type LabelSet } from "./network.js";
import type { WorkMeter } from "./work.js";

/** A pair the greedy search may contract, by operand ids (stable across steps). */
export interface GreedyCandidate {
  readonly a: number;
  readonly b: number;
  /** `size(result) - size(a) - size(b)`: lower is better. */
  readonly gain: number;
  readonly sizeA: number;
  readonly sizeB: number;
  readonly flops: number;
  readonly result: LabelSet;
  readonly resultSize: number;
}

/** Picks the index of the candidate to contract. */
export type GreedyChooser = (candidates: readonly GreedyCandidate[]) => number;

/**
 * NumPy's choice: the first candidate with the least `(gain, flops)`.
 *
 * @example
 * ```ts
 * firstBest([{ gain: 3, flops: 1 }, { gain: 1, flops: 9 }] as GreedyCandidate[]); // 1
 * ```
 */
export function firstBest(candidates: readonly GreedyCandidate[]): number {
  let best = 0;
  for (let k = 1; k < candidates.length; k++) {
    const c = candidates[k]!;
    const b = candidates[best]!;
    if (c.gain < b.gain || (c.gain === b.gain && c.flops < b.flops)) best = k;
  }
  return best;
}

/** A greedy path and its FLOP count. */
export interface GreedyResult {
  readonly path: ContractionStep[];
  readonly flops: number;
}

/**
 * Runs the greedy search with `choose` picking each step; each candidate
 * pair it scores spends one unit of `meter`.
 *
 * @example
 * ```ts
 * greedySearch(internNetwork(network), {}, firstBest).path; // e.g. [[0, 1], [0, 1]]
 * ```
 */
export function greedySearch(net: InternedNetwork, options: PathOptions, choose: GreedyChooser, meter?: WorkMeter): GreedyResult {
  const n = net.sets.length;
  if (n < 2) return { path: [], flops: 0 };
  const sets: LabelSet[] = [...net.sets];
  const sizes = sets.map((s) => setSize(net, s));
  const counts = net.extent.map(() => 0);
  for (const s of sets) for (const l of s) counts[l]!++;
  const naive = greedyNaiveFlops(net);
  let order = sets.map((_, k) => k);
  let known: GreedyCandidate[] = [];
  let pathFlops = 0;
  const path: ContractionStep[] = [];

  const score = (a: number, b: number): GreedyCandidate | null => {
    meter?.spend(1);
    const sa = sets[a]!;
    const sb = sets[b]!;
    const contracted = mergeSets(sa, sb);
    const result = contracted.filter((l) => net.inOutput[l] || counts[l]! - (sa.includes(l) ? 1 : 0) - (sb.includes(l) ? 1 : 0) > 0);
    const resultSize = setSize(net, result);
    if (!fitsMemory(resultSize, order.length - 1, options)) return null;
    const flops = flopCount(setSize(net, contracted), result.length < contracted.length, 2);
    if (pathFlops + flops > naive) return null;
    return { a, b, gain: resultSize - sizes[a]! - sizes[b]!, sizeA: sizes[a]!, sizeB: sizes[b]!, flops, result, resultSize };
  };
  const scan = (pairs: Iterable<[number, number]>, outer: boolean): void => {
    for (const [a, b] of pairs) {
      if (!outer && disjoint(sets[a]!, sets[b]!)) continue;
      const c = score(a, b);
      if (c !== null) known.push(c);
    }
  };

  let pending: Iterable<[number, number]> = allPairs(order);
  while (order.length > 1) {
    scan(pending, false);
    if (known.length === 0) {
      scan(allPairs(order), true);
      if (known.length === 0) {
        path.push(order.map((_, k) => k));
        pathFlops += lastStepFlops(net, order.map((id) => sets[id]!));
        break;
      }
    }
    const best = known[choose(known)]!;
    known = known.filter((c) => c.a !== best.a && c.a !== best.b && c.b !== best.a && c.b !== best.b);
    path.push([order.indexOf(best.a), order.indexOf(best.b)].sort((x, y) => x - y));
    pathFlops += best.flops;
    for (const l of sets[best.a]!) counts[l]!--;
    for (const l of sets[best.b]!) counts[l]!--;
    for (const l of best.result) counts[l]!++;
    const id = sets.length;
    sets.push(best.result);
    sizes.push(best.resultSize);
    order = [...order.filter((x) => x !== best.a && x !== best.b), id];
    pending = order.slice(0, -1).map((x): [number, number] => [x, id]);
  }
  return { path, flops: pathFlops };
}

/** Every pair of `order`, in `itertools.combinations` order. */
function* allPairs(order: readonly number[]): Generator<[number, number]> {
  for (let x = 0; x < order.length; x++) for (let y = x + 1; y < order.length; y++) yield [order[x]!, order[y]!];
}

function disjoint(a: LabelSet, b: LabelSet): boolean {
  return !a.some((l) => b.includes(l));
}

function mergeSets(a: LabelSet, b: LabelSet): LabelSet {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** The cost of contracting all of `operands` into the output in one step. */
export function lastStepFlops(net: InternedNetwork, operands: readonly LabelSet[]): number {
  const contracted = [...new Set(operands.flat())];
  const summed = contracted.some((l) => !net.inOutput[l]);
  return flopCount(setSize(net, contracted), summed, operands.length);
}

/** NumPy's greedy sieve bound: one loop nest over every label, summing when any label is not an output. */
function greedyNaiveFlops(net: InternedNetwork): number {
  return lastStepFlops(net, net.sets);
}

/**
 * The greedy finder.
 *
 * @example
 * ```ts
 * greedy.find(internNetwork({ inputs: [["i", "j"], ["j", "k"], ["k"]], output: ["i"], extents: { i: 9, j: 9, k: 9 } }), {});
 * // [[1, 2], [0, 1]]: the matrix-vector product first
 * ```
 */
export const greedy: PathFinder = {
  name: "greedy",
  description: "contract the pair with the smallest result relative to its inputs, repeatedly (NumPy's greedy)",
  find: (net, options) => greedySearch(net, options, firstBest).path,
};
