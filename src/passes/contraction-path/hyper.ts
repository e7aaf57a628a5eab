/**
 * The `hyper` path finder, for large networks (in the spirit of cotengra's
 * hyper-optimizer): many trials of two randomized tree builders, the best
 * tree then improved by subtree reconfiguration.
 *
 * - **Randomized greedy**: the heap-based greedy engine (`heap-greedy.ts`,
 *   O(E log E) per trial) with Boltzmann-sampled steps; each trial draws a
 *   temperature and a weight of the inputs' sizes: a third near
 *   opt_einsum's random-greedy setting (T = 1, alpha = 1), and after the
 *   first 24 trials half near the best parameters so far (a simple tuner in
 *   place of a Bayesian one), the rest wide.
 * - **Recursive bisection**: the operands are split in two by a
 *   Kernighan–Lin style partitioner on the index hypergraph (a label's
 *   weight is log2 of its extent; the cut is the weight of the labels held
 *   on both sides), recursively, down to groups of at most 8 that are then
 *   contracted exactly. Each trial draws the imbalance allowed and the seed
 *   of the initial split.
 * - **Subtree reconfiguration**: for every node of a tree, its subtree is
 *   cut to at most {@link RECONFIGURE_PIECES} pieces (expanding the
 *   costliest pieces first) and the pieces are recombined exactly; repeated
 *   while it pays. Which tree reconfigures best is often not the cheapest
 *   one before (on random networks of 50 tensors, a tree 1.5 times dearer
 *   can end 100 times cheaper), so the best {@link RECONFIGURE_CANDIDATES}
 *   distinct trees of each builder are reconfigured, each with an equal
 *   share of the work left, and the cheapest result wins.
 *
 * Deterministic: the search never reads the clock. `pathTimeMs` (default
 * {@link hyperTimeMs}) becomes a budget of work units (`work.ts`): trials
 * run until {@link TRIAL_SHARE} of it is spent (or `trials` greedy trials,
 * when given), reconfiguration until the rest is. For a given network, options
 * and seed the path is the same on any machine and under any load.
 */
import type { PathFinder, PathOptions } from "./finder.js";
import { firstBest, greedySearch, type GreedyResult } from "./greedy.js";
import type { ContractionPath, InternedNetwork } from "./network.js";
import { HeapGreedy } from "./heap-greedy.js";
import { seededUniform } from "./random-greedy.js";
import { WorkMeter, workBudget } from "./work.js";
import { bestTreeOver, joinNodes, leafNode, pathToTree, treeContext, treeToPath, type TreeContext, type TreeNode } from "./tree.js";

/** Default time budget of `hyper` up to 60 operands, in milliseconds of work (see {@link hyperTimeMs} beyond). */
export const HYPER_TIME_MS = 1200;

/**
 * The default time budget of `hyper` for `count` operands, in milliseconds
 * of work (`work.ts`). The search takes about a quarter to a half of that in
 * CPU time on a 2-core AMD EPYC under load, which is less than opt_einsum's
 * random-greedy with 128 repeats takes on the same network (7 ms per
 * operand at n = 100, 8 at 160, 10 to 12 at 250 to 300).
 *
 * @example
 * ```ts
 * hyperTimeMs(40);  // 1200
 * hyperTimeMs(100); // 800
 * hyperTimeMs(300); // 5400
 * ```
 */
export function hyperTimeMs(count: number): number {
  // opt_einsum's random-greedy costs more per operand as networks grow
  // (each of its trials is O(n E) in Python), and so does finding a good tree.
  if (count <= 60) return HYPER_TIME_MS;
  return Math.max(800, count * (8 + Math.max(0, count - 100) / 20));
}
/** Units of work a greedy trial spends per operand beside its candidates (building its path and tree). */
export const HYPER_UNITS_PER_TRIAL_OPERAND = 8;
/** Units of work a recursive bisection trial spends per operand beside its partitioner's moves and exact groups. */
export const HYPER_UNITS_PER_BISECTION_OPERAND = 150;
/** The most randomized greedy trials when `trials` is not given (the work budget usually stops them first). */
export const HYPER_GREEDY_TRIALS = 4096;
/** Greedy trials per recursive bisection trial. */
export const HYPER_GREEDY_PER_PARTITION = 4;
/** The share of the work budget the trials take; subtree reconfiguration gets the rest. */
export const TRIAL_SHARE = 0.6;
/** How many of the best trees of each builder (greedy, bisection) are reconfigured. */
export const RECONFIGURE_CANDIDATES = 3;
/** The most pieces a reconfigured subtree is cut into. */
export const RECONFIGURE_PIECES = 8;

/**
 * The hyper-optimized tree of `net` (null when no pairwise tree fits the
 * memory limit) and the best greedy path found on the way.
 *
 * @example
 * ```ts
 * hyperSearch(internNetwork(network), { seed: 1 }).tree?.total;
 * ```
 */
export function hyperSearch(net: InternedNetwork, options: PathOptions): { tree: TreeNode | null; greedy: GreedyResult } {
  const budget = options.pathTimeMs ?? hyperTimeMs(net.sets.length);
  const meter = new WorkMeter(workBudget(budget));
  const ctx = treeContext(net);
  const random = seededUniform(options.seed ?? 0);
  const limit = options.memoryLimit ?? Infinity;
  const fits = (t: TreeNode): boolean => t.largest <= limit || (t.left !== null && Math.max(t.left.largest, t.right!.largest) <= limit);

  let bestGreedy: GreedyResult = greedySearch(net, options, firstBest, meter);
  const engine = new HeapGreedy(net, options.memoryLimit ?? Infinity);
  let best: TreeNode | null = pathToTree(ctx, bestGreedy.path);
  // The best few trees of each builder, for reconfiguration: which tree
  // reconfigures best is not always the cheapest one before.
  const pools: TreeNode[][] = [[], []];
  const offer = (t: TreeNode | null, pool = 0): void => {
    if (t === null || !fits(t)) return;
    if (best === null || t.total < best.total) best = t;
    const list = pools[pool]!;
    if (list.some((o) => o.total === t.total)) return;
    list.push(t);
    list.sort((a, b) => a.total - b.total);
    if (list.length > RECONFIGURE_CANDIDATES) list.pop();
  };
  offer(best);

  // Randomized greedy trials, with the tuner, and recursive bisection
  // trials, interleaved (HYPER_GREEDY_PER_PARTITION to one) until
  // TRIAL_SHARE of the work budget is spent.
  const greedyTrials = options.trials ?? HYPER_GREEDY_TRIALS;
  const partitions = net.sets.length > RECONFIGURE_PIECES;
  const leaves = net.sets.map((_, k) => leafNode(ctx, k));
  let bestParams = { logT: -1, alpha: 1 };
  let g = 1;
  let p = 0;
  while (g < greedyTrials && !meter.exhausted(TRIAL_SHARE)) {
    if (partitions && p * HYPER_GREEDY_PER_PARTITION < g) {
      const imbalance = 0.05 + 0.45 * random();
      meter.spend(HYPER_UNITS_PER_BISECTION_OPERAND * net.sets.length);
      offer(bisectionTree(ctx, leaves, random, imbalance, options, meter), 1);
      p++;
      continue;
    }
    // A third of the draws at opt_einsum's random-greedy setting (T = 1,
    // alpha = 1), jittered; after the first 24 trials half of the rest
    // near the best draw so far; the others wide.
    const u = random();
    const near = g > 24 && u < 0.5;
    const oe = !near && u > 2 / 3;
    const logT = near ? clamp(bestParams.logT + 0.5 * (random() - 0.5), -3, 0.5) : oe ? 0.2 * (random() - 0.5) : -2.5 + 2.5 * random();
    const alpha = near ? clamp(bestParams.alpha + 0.4 * (random() - 0.5), 0, 2) : oe ? 1 + 0.1 * (random() - 0.5) : 2 * random();
    // Beside its candidates, a trial builds its path and tree: a few units per operand.
    meter.spend(HYPER_UNITS_PER_TRIAL_OPERAND * net.sets.length);
    const trial = engine.run({ alpha, temperature: Math.pow(10, logT) }, random, meter);
    if (trial === null) {
      g++;
      continue;
    }
    if (trial.flops < bestGreedy.flops) {
      bestGreedy = trial;
      bestParams = { logT, alpha };
    }
    offer(pathToTree(ctx, trial.path), 0);
    g++;
  }

  // Reconfigure the candidates, cheapest first, each within an equal share
  // of the work left; keep the cheapest result.
  const candidates = [...pools[0]!, ...pools[1]!].sort((a, b) => a.total - b.total);
  for (let k = 0; k < candidates.length && !meter.exhausted(); k++) {
    const share = new WorkMeter((meter.limit - meter.units) / (candidates.length - k));
    const t = reconfigure(ctx, candidates[k]!, options, share);
      meter.spend(share.units);
    if (best === null || t.total < best.total) best = t;
  }
  return { tree: best, greedy: bestGreedy };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** A tree built by recursive bisection of `pieces`; groups of at most 8 are contracted exactly. */
function bisectionTree(
  ctx: TreeContext, pieces: readonly TreeNode[], random: () => number, imbalance: number, options: PathOptions, meter: WorkMeter,
): TreeNode | null {
  if (pieces.length <= RECONFIGURE_PIECES) return bestTreeOver(ctx, pieces, options, meter);
  const [a, b] = bisect(ctx, pieces, random, imbalance, meter);
  const ta = bisectionTree(ctx, a, random, imbalance, options, meter);
  const tb = bisectionTree(ctx, b, random, imbalance, options, meter);
  if (ta === null || tb === null) return null;
  return joinNodes(ctx, ta, tb);
}

/**
 * Splits `pieces` in two: a region grown breadth-first from a random piece
 * to a random size within the imbalance, then Kernighan–Lin moves (the
 * best-gain move of an unlocked piece, each piece moved once per pass,
 * keeping the best cut seen) while a pass improves the cut.
 */
function bisect(ctx: TreeContext, pieces: readonly TreeNode[], random: () => number, imbalance: number, meter: WorkMeter): [TreeNode[], TreeNode[]] {
  const n = pieces.length;
  meter.spend(n);
  const byLabel = new Map<number, number[]>();
  pieces.forEach((p, k) => {
    for (const l of p.labels) {
      const list = byLabel.get(l);
      if (list === undefined) byLabel.set(l, [k]);
      else list.push(k);
    }
  });
  const shared = [...byLabel].filter(([, ks]) => ks.length > 1);
  const weight = new Map<number, number>();
  // Weights only matter relative to each other: the log of the extent is the
  // FLOP exponent a cut label costs.
  for (const [l] of shared) weight.set(l, Math.log2(ctx.net.extent[l]!) || 0.5);
  const labelsOf = pieces.map((p) => p.labels.filter((l) => (byLabel.get(l)?.length ?? 0) > 1));
  const lo = Math.max(1, Math.floor(n * (0.5 - imbalance / 2)));
  const hi = n - lo;
  const target = lo + Math.floor(random() * (hi - lo + 1));

  // Initial split: breadth-first from a random piece.
  const side = new Uint8Array(n).fill(1);
  const queue = [Math.floor(random() * n)];
  let grown = 0;
  for (let q = 0; grown < target; q++) {
    let k: number;
    if (q < queue.length) k = queue[q]!;
    else {
      const rest = [...side.keys()].filter((i) => side[i] === 1);
      k = rest[Math.floor(random() * rest.length)]!;
      queue.push(k);
    }
    if (side[k] === 0) continue;
    side[k] = 0;
    grown++;
    for (const l of labelsOf[k]!) for (const o of byLabel.get(l)!) if (side[o] === 1) queue.push(o);
  }

  const onSide = new Map<number, [number, number]>();
  for (const [l, ks] of shared) {
    const c: [number, number] = [0, 0];
    for (const k of ks) c[side[k]!]!++;
    onSide.set(l, c);
  }
  const gain = (k: number): number => {
    const s = side[k]!;
    let g = 0;
    for (const l of labelsOf[k]!) {
      const c = onSide.get(l)!;
      const w = weight.get(l)!;
      if (c[s] === 1 && c[1 - s]! > 0) g += w; // the label stops being cut
      else if (c[1 - s] === 0 && c[s]! > 1) g -= w; // the label becomes cut
    }
    return g;
  };
  const move = (k: number): void => {
    const s = side[k]!;
    for (const l of labelsOf[k]!) {
      const c = onSide.get(l)!;
      c[s]!--;
      c[1 - s]!++;
    }
    side[k] = 1 - s;
  };
  let sizeA = grown;
  for (let pass = 0; pass < 4; pass++) {
    const locked = new Uint8Array(n);
    const moves: number[] = [];
    let running = 0;
    let bestRunning = 0;
    let bestAt = 0;
    for (let step = 0; step < n; step++) {
      // Scoring the moves of a step: a few label lookups per piece.
      meter.spend(n / 8);
      let pick = -1;
      let pickGain = -Infinity;
      for (let k = 0; k < n; k++) {
        if (locked[k]) continue;
        const after = side[k] === 0 ? sizeA - 1 : sizeA + 1;
        if (after < lo || after > hi) continue;
        const g = gain(k);
        if (g > pickGain) {
          pickGain = g;
          pick = k;
        }
      }
      if (pick < 0) break;
      sizeA += side[pick] === 0 ? -1 : 1;
      move(pick);
      locked[pick] = 1;
      moves.push(pick);
      running += pickGain;
      if (running > bestRunning) {
        bestRunning = running;
        bestAt = moves.length;
      }
    }
    for (const k of moves.slice(bestAt).reverse()) {
      sizeA += side[k] === 0 ? -1 : 1;
      move(k);
    }
    if (bestRunning <= 0) break;
  }
  const a = pieces.filter((_, k) => side[k] === 0);
  const b = pieces.filter((_, k) => side[k] === 1);
  return [a, b];
}

/**
 * Subtree reconfiguration: every node's subtree, cut into at most
 * {@link RECONFIGURE_PIECES} pieces, recombined exactly when that is
 * cheaper; passes repeat while one improves the tree and `meter` has work
 * left (none: no limit).
 *
 * @example
 * ```ts
 * reconfigure(ctx, tree, {}).total <= tree.total; // true
 * ```
 */
export function reconfigure(ctx: TreeContext, root: TreeNode, options: PathOptions, meter?: WorkMeter): TreeNode {
  const limit = options.memoryLimit ?? Infinity;
  const visit = (node: TreeNode): TreeNode => {
    if (node.leaf >= 0 || meter?.exhausted()) return node;
    const left = visit(node.left!);
    const right = visit(node.right!);
    const here = left === node.left && right === node.right ? node : joinNodes(ctx, left, right);
    const frontier = [left, right];
    for (;;) {
      let pick = -1;
      for (let k = 0; k < frontier.length; k++) {
        const f = frontier[k]!;
        if (f.leaf < 0 && (pick < 0 || f.total > frontier[pick]!.total)) pick = k;
      }
      if (pick < 0 || frontier.length + 1 > RECONFIGURE_PIECES) break;
      const f = frontier[pick]!;
      frontier.splice(pick, 1, f.left!, f.right!);
    }
    if (frontier.length <= 2) return here;
    const alt = bestTreeOver(ctx, frontier, options, meter);
    if (alt !== null && alt.total < here.total && Math.max(alt.left!.largest, alt.right!.largest) <= limit) return alt;
    return here;
  };
  let tree = root;
  for (let pass = 0; pass < 8; pass++) {
    const next = visit(tree);
    if (next.total >= tree.total) break;
    tree = next;
  }
  return tree;
}

function hyperPath(net: InternedNetwork, options: PathOptions): ContractionPath {
  if (net.sets.length < 2) return [];
  const { tree, greedy } = hyperSearch(net, options);
  if (tree === null || greedy.flops < tree.total) return greedy.path;
  return treeToPath(net.sets.length, tree);
}

/**
 * The hyper finder.
 *
 * @example
 * ```ts
 * hyper.find(internNetwork(network), { seed: 3, pathTimeMs: 500 });
 * ```
 */
export const hyper: PathFinder = {
  name: "hyper",
  description: "randomized greedy and recursive bisection trials, then subtree reconfiguration (seeded, time-bounded)",
  find: hyperPath,
};
