/**
 * The dynamic-programming path finder (opt_einsum's `dp`): the cheapest
 * contraction tree of every subset of operands, built from the cheapest
 * trees of its two halves. A subset's result labels do not depend on how it
 * was contracted (a label survives when an output or an operand outside the
 * subset has it), which is what makes the recursion exact.
 *
 * Two modes:
 * - up to {@link DP_ALL_SUBSETS_MAX} operands, every split of every subset
 *   (3^n work): the exact FLOP minimum over all pairwise paths, outer
 *   products included;
 * - above, only connected subsets split into connected halves (connected:
 *   sharing a summed label, as in opt_einsum's
 *   default), per connected component; the components' results are then
 *   multiplied smallest first. Exact among paths without outer products;
 *   practical while the network has not too many connected subsets. Any
 *   subtree costing more than the whole greedy path is dropped.
 *
 * Intermediates over the memory limit are not formed; when that leaves no
 * complete pairwise tree, the result is greedy's path (which ends with one
 * step over the remaining operands).
 */
import type { PathFinder, PathOptions } from "./finder.js";
import { firstBest, greedySearch } from "./greedy.js";
import { randomGreedySearch } from "./random-greedy.js";
import { flopCount, type ContractionStep, type InternedNetwork } from "./network.js";
import { workBudget } from "./work.js";

/** Largest operand count for which `dp` tries every split of every subset. */
export const DP_ALL_SUBSETS_MAX = 12;
/** The most operands `dp` accepts (subsets are 31-bit masks). */
export const DP_MAX_OPERANDS = 30;

/** What a subset of operands contracts to. */
interface SubsetResult {
  readonly labels: readonly number[];
  readonly size: number;
}

/** The subset tables: result labels per subset, and the best split found so far. */
class SubsetTables {
  private readonly results = new Map<number, SubsetResult>();
  readonly cost = new Map<number, number>();
  readonly split = new Map<number, number>();
  private readonly labelMasks: number[];
  /** Trees costing more than this cannot be part of a path better than the bound's. */
  bound = Infinity;

  constructor(readonly net: InternedNetwork, readonly options: PathOptions) {
    this.labelMasks = net.extent.map(() => 0);
    net.sets.forEach((s, k) => {
      for (const l of s) this.labelMasks[l]! |= 1 << k;
      this.cost.set(1 << k, 0);
    });
  }

  get all(): number {
    return (1 << this.net.sets.length) - 1;
  }

  result(mask: number): SubsetResult {
    let r = this.results.get(mask);
    if (r === undefined) {
      const labels: number[] = [];
      let size = 1;
      for (let k = 0; mask >>> k !== 0; k++) {
        if ((mask & (1 << k)) === 0) continue;
        for (const l of this.net.sets[k]!) {
          const m = this.labelMasks[l]!;
          // Counted once: at the lowest operand of `mask` holding it.
          if ((m & mask & ((1 << k) - 1)) !== 0) continue;
          if (this.net.inOutput[l] || (m & ~mask) !== 0) {
            labels.push(l);
            size *= this.net.extent[l]!;
          }
        }
      }
      r = { labels, size };
      this.results.set(mask, r);
    }
    return r;
  }

  /** Whether `mask` may be formed: the whole network, or an intermediate within the limit. */
  allowed(mask: number): boolean {
    return mask === this.all || this.result(mask).size <= (this.options.memoryLimit ?? Infinity);
  }

  /**
   * The FLOPs of contracting the results of `a` and `b` (disjoint). A label
   * of `a`'s result is in `b`'s too exactly when some operand of `b` has it,
   * so one walk over each result's labels gives the union's size and whether
   * the step sums a label away (a shared label no other operand and not the
   * output has).
   */
  stepFlops(a: number, b: number): number {
    const extent = this.net.extent;
    const masks = this.labelMasks;
    const both = a | b;
    let size = 1;
    let inner = false;
    for (const l of this.result(a).labels) {
      size *= extent[l]!;
      const m = masks[l]!;
      if ((m & b) !== 0 && (m & ~both) === 0 && !this.net.inOutput[l]) inner = true;
    }
    for (const l of this.result(b).labels) if ((masks[l]! & a) === 0) size *= extent[l]!;
    return flopCount(size, inner, 2);
  }

  /** Records `a ∪ b` if its tree through `(a, b)` is the cheapest so far. */
  offer(a: number, b: number): void {
    const ca = this.cost.get(a);
    const cb = this.cost.get(b);
    if (ca === undefined || cb === undefined) return;
    const c = ca + cb + this.stepFlops(a, b);
    if (c > this.bound) return;
    const s = a | b;
    const prev = this.cost.get(s);
    if ((prev === undefined || c < prev) && this.allowed(s)) {
      this.cost.set(s, c);
      this.split.set(s, a);
    }
  }
}

/**
 * The dp path of `net`. `knownFlops`, the cost of a path found another
 * way, caps the search above 12 operands (no subtree dearer than it can be
 * in a better path); the dp's tree is then the cheapest of those under it,
 * or greedy's path when none is. `pathTimeMs` is a budget of work units
 * (`work.ts`), not of time: past it, a `PathSearchTimeout`.
 *
 * @example
 * ```ts
 * dpPath(internNetwork(network), {}); // e.g. [[1, 2], [0, 1]]
 * ```
 */
export function dpPath(net: InternedNetwork, options: PathOptions, knownFlops = Infinity): ContractionStep[] {
  const n = net.sets.length;
  if (n > DP_MAX_OPERANDS) throw new RangeError(`dp handles at most ${DP_MAX_OPERANDS} operands, got ${n}; use greedy or random-greedy`);
  if (n < 2) return [];
  const t = new SubsetTables(net, options);
  // The bound: the cheaper of greedy and a few randomized greedy trials.
  const greedyPath = [greedySearch(net, options, firstBest), randomGreedySearch(net, { ...options, trials: n <= DP_ALL_SUBSETS_MAX ? 1 : 16 })]
    .reduce((a, b) => (b.flops < a.flops ? b : a));
  if (n <= DP_ALL_SUBSETS_MAX) allSubsets(t);
  else {
    // Costs only add up, so a subtree dearer than a whole greedy path is useless.
    t.bound = Math.min(greedyPath.flops, knownFlops);
    const timeMs = options.pathTimeMs ?? Infinity;
    connectedSubsets(t, workBudget(timeMs) * DP_CHECKS_PER_UNIT, timeMs);
  }
  if (!t.cost.has(t.all)) return greedyPath.path;
  return treeToPath(n, t);
}

function allSubsets(t: SubsetTables): void {
  for (let s = 1; s <= t.all; s++) {
    if ((s & (s - 1)) === 0) continue;
    const low = s & -s;
    // Each unordered split once: the half holding the lowest operand is `a`.
    for (let a = (s - 1) & s; a > 0; a = (a - 1) & s) if ((a & low) !== 0) t.offer(a, s ^ a);
  }
}

/**
 * Pairs of subsets the connected-subset search checks per unit of work
 * (`work.ts`): a check is a few bit operations, a fraction of a greedy
 * candidate evaluation.
 */
export const DP_CHECKS_PER_UNIT = 8;

/** Thrown inside the search when its budget (`pathTimeMs` as work units) runs out. */
export class PathSearchTimeout extends Error {
  constructor(finder: string, ms: number) {
    super(`${finder} ran past its time budget of ${ms} ms`);
  }
}

function connectedSubsets(t: SubsetTables, maxChecks: number, timeMs: number): void {
  const n = t.net.sets.length;
  // Operands are neighbours when they share a summed label, as in
  // opt_einsum's dp: a label every operand and the output hold (a batch
  // index) would otherwise connect everything, and pairs sharing only
  // output labels are outer products, which this search leaves out.
  const neighbours = t.net.sets.map((s, i) => {
    let m = 0;
    t.net.sets.forEach((o, j) => {
      if (j !== i && s.some((l) => !t.net.inOutput[l] && o.includes(l))) m |= 1 << j;
    });
    return m;
  });
  const reach = (mask: number): number => {
    let m = 0;
    for (let k = 0; k < n; k++) if (mask & (1 << k)) m |= neighbours[k]!;
    return m & ~mask;
  };
  const components: number[] = [];
  let left = t.all;
  while (left !== 0) {
    let comp = left & -left;
    for (let grown = comp | reach(comp); grown !== comp; grown = comp | reach(comp)) comp = grown;
    components.push(comp);
    left &= ~comp;
  }
  const ceiling = t.bound;
  let checks = 0;
  for (const comp of components) {
    // Cost capping (opt_einsum's dp): search only trees whose every subtree
    // costs at most `cap`, raising the cap until the component is formed.
    // A subtree never costs more than the tree holding it, so the first tree
    // found under a cap is the cheapest of all; the low caps keep the tables
    // small on the way.
    const labels = [...bits(comp)].flatMap((k) => t.net.sets[k]!);
    // Any starting cap gives the same tree (the first formed under a cap is
    // the cheapest); starting near a known path's cost skips the rounds
    // that cannot form the component when that path is close to the best.
    let cap = Math.max(1, t.result(comp).size, ceiling < Infinity && components.length === 1 ? ceiling / 64 : 0);
    const increment = labels.length === 0 ? 4 : Math.max(4, Math.min(...labels.map((l) => t.net.extent[l]!)));
    for (;;) {
      t.bound = Math.min(cap, ceiling);
      const levels: number[][] = [[], [...bits(comp)].map((k) => 1 << k)];
      const size = levels[1]!.length;
      for (let m = 2; m <= size; m++) {
        const fresh = new Set<number>();
        for (let a = 1; a <= m >> 1; a++) {
          for (const x of levels[a]!) {
            const ys = levels[m - a]!;
            checks += ys.length + 1;
            if (checks > maxChecks) throw new PathSearchTimeout("dp", timeMs);
            const rx = reach(x);
            for (const y of ys) {
              if ((x & y) !== 0 || (rx & y) === 0 || (a === m - a && y < x)) continue;
              t.offer(x, y);
              const c = t.cost.get(x | y);
              if (c !== undefined && c <= t.bound) fresh.add(x | y);
            }
          }
        }
        levels.push([...fresh]);
      }
      if (t.cost.has(comp) || cap >= ceiling) break;
      cap *= increment;
    }
  }
  t.bound = ceiling;
  // Multiply the components' results together, smallest first.
  const order = components
    .filter((c) => t.cost.has(c))
    .sort((x, y) => t.result(x).size - t.result(y).size);
  if (order.length !== components.length) return;
  let acc = order[0]!;
  for (const c of order.slice(1)) {
    t.offer(acc, c);
    acc |= c;
  }
}

function* bits(mask: number): Generator<number> {
  for (let k = 0; mask >> k !== 0; k++) if (mask & (1 << k)) yield k;
}

/** The chosen tree as an opt_einsum path: each merge's two positions in the current list. */
function treeToPath(n: number, t: SubsetTables): ContractionStep[] {
  const current = Array.from({ length: n }, (_, k) => k);
  let next = n;
  const path: ContractionStep[] = [];
  const build = (mask: number): number => {
    if ((mask & (mask - 1)) === 0) return Math.log2(mask);
    const a = t.split.get(mask)!;
    const x = build(a);
    const y = build(mask ^ a);
    const px = current.indexOf(x);
    const py = current.indexOf(y);
    path.push([Math.min(px, py), Math.max(px, py)]);
    current.splice(Math.max(px, py), 1);
    current.splice(Math.min(px, py), 1);
    current.push(next);
    return next++;
  };
  build(t.all);
  return path;
}

/**
 * The dp finder.
 *
 * @example
 * ```ts
 * dp.find(internNetwork(network), {});
 * ```
 */
export const dp: PathFinder = {
  name: "dp",
  description: "dynamic programming over subsets: exact up to 12 operands, connected subsets beyond",
  find: dpPath,
};
