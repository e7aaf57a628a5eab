/**
 * Slicing: when a tree's largest intermediate exceeds a limit, fix some
 * labels to one value at a time and run the contraction once per value
 * combination (a slice). Every tensor a sliced run forms lacks the sliced
 * labels, so it shrinks by their extents; the price is that work not
 * involving those labels is repeated in every slice. Results of slices are
 * summed when a sliced label is summed away, and written into their part of
 * the output when it is an output label.
 *
 * The labels are chosen greedily, as cotengra does: while the largest
 * tensor a step forms is over the limit, slice the label (of those held by
 * an over-limit tensor) that gives the least total FLOPs per element of
 * that largest tensor remaining, i.e. the best trade of repeated work for
 * memory.
 */
import { type ContractionPath, type InternedNetwork } from "./network.js";
import { joinNodes, leafNode, pathToTree, treeContext, type TreeNode } from "./tree.js";

/**
 * The slicing chosen for a path.
 *
 * @example
 * ```ts
 * const s: Slicing = { labels: ["k"], slices: 4, flops: 1024, extraFlops: 64, largestIntermediate: 256 };
 * ```
 */
export interface Slicing {
  /** The sliced labels (empty when the path fits as it is). */
  readonly labels: readonly string[];
  /** The number of slices: the product of the sliced labels' extents. */
  readonly slices: number;
  /** FLOPs of all slices together, the summing of slice results included. */
  readonly flops: number;
  /** `flops` minus the unsliced path's FLOPs. */
  readonly extraFlops: number;
  /** The largest tensor a step of one slice forms (the slice's result included). */
  readonly largestIntermediate: number;
}

interface Evaluated {
  readonly flops: number;
  readonly largest: number;
}

/** The tree of `path` with the labels in `sliced` fixed (extent 1), its FLOPs over all slices. */
function evaluate(net: InternedNetwork, path: ContractionPath, sliced: ReadonlySet<number>): Evaluated & { tree: TreeNode } {
  const extent = net.extent.map((n, l) => (sliced.has(l) ? 1 : n));
  const reduced: InternedNetwork = { ...net, extent };
  const tree = pathToTree(treeContext(reduced), path);
  if (tree === null) throw new RangeError("slicing needs a pairwise path");
  let count = 1;
  for (const l of sliced) count *= net.extent[l]!;
  const summed = [...sliced].some((l) => !net.inOutput[l]);
  // Adding each slice's result into the output, when a summed label is sliced.
  const accumulate = summed ? count * tree.size : 0;
  return { tree, flops: count * tree.total + accumulate, largest: Math.max(tree.largest, tree.size) };
}

/**
 * The labels to slice so that every tensor `path` forms holds at most
 * `limit` elements, chosen greedily for the least extra FLOPs. Throws a
 * RangeError when even slicing every label cannot meet the limit (a limit
 * under 1) or the path has a step over more than two operands.
 *
 * @example
 * ```ts
 * sliceForLimit(net, path, 1 << 20).labels; // e.g. ["k"]
 * ```
 */
export function sliceForLimit(net: InternedNetwork, path: ContractionPath, limit: number): Slicing {
  if (!(limit >= 1)) throw new RangeError(`the intermediate limit must be at least one element, got ${limit}`);
  const sliced = new Set<number>();
  const base = evaluate(net, path, sliced);
  let current = base;
  while (current.largest > limit) {
    const over = new Set<number>();
    const collect = (t: TreeNode): void => {
      if (t.size > limit) for (const l of t.labels) if (net.extent[l]! > 1 && !sliced.has(l)) over.add(l);
      if (t.left !== null) {
        collect(t.left);
        collect(t.right!);
      }
    };
    collect(current.tree);
    let best: (Evaluated & { tree: TreeNode; label: number }) | null = null;
    let bestScore = Infinity;
    for (const l of [...over].sort((a, b) => a - b)) {
      const trial = evaluate(net, path, new Set([...sliced, l]));
      const score = trial.flops * trial.largest;
      if (score < bestScore) {
        bestScore = score;
        best = { ...trial, label: l };
      }
    }
    if (best === null) throw new RangeError(`no slicing brings the intermediates of this path under ${limit} elements`);
    sliced.add(best.label);
    current = best;
  }
  let slices = 1;
  for (const l of sliced) slices *= net.extent[l]!;
  return {
    labels: [...sliced].sort((a, b) => a - b).map((l) => net.labels[l]!),
    slices,
    flops: current.flops,
    extraFlops: current.flops - base.flops,
    largestIntermediate: current.largest,
  };
}

/**
 * Slicing for a compiled program (the `order-contractions` pass under
 * `maxIntermediateBytes`): labels cut into equal chunks (a chunk of `c`
 * values of a label of extent `n` makes `n / c` slices; `c` divides `n`;
 * `c = 1` fixes the label to one value per slice), chosen so that the
 * memory the contraction's own tensors take at once stays within the limit,
 * at the least extra FLOPs. FLOPs count what the program does: steps whose
 * inputs hold no sliced label run once, the others once per slice, and the
 * results of slices over a summed label are added up (one addition per
 * element of the result for every slice but the first of each part of the
 * output). `largestIntermediate` is that peak, in elements (how it
 * is counted: the comment of `evaluateChunked`).
 *
 * @example
 * ```ts
 * const s: ChunkedSlicing = { labels: ["k"], chunks: [4], slices: 4, flops: 1100, extraFlops: 76, largestIntermediate: 256 };
 * ```
 */
export interface ChunkedSlicing extends Slicing {
  /** Values of each sliced label in one slice, parallel to `labels`; each divides the label's extent. */
  readonly chunks: readonly number[];
}

interface ChunkedEvaluation {
  readonly flops: number;
  /** The most elements of the contraction's tensors (not its inputs) held at once. */
  readonly peak: number;
  readonly tree: TreeNode;
}

/**
 * FLOPs and peak of `path` run slice by slice with the labels in `chunk` cut
 * to that many values. The peak, in elements, of a run as the program does
 * it (see `sliced-chain.ts`), with inputs not counted:
 *
 * - the steps free of sliced labels run first, in path order; those a
 *   sliced step reads stay until the last slice;
 * - within a slice, path order: a step's result and every result not yet
 *   consumed are held at once;
 * - adding a slice's result to the running sum holds the previous sum, the
 *   slice's result and the new sum;
 * - the finished parts of the output (when output labels are sliced) stay
 *   until the end.
 */
function evaluateChunked(net: InternedNetwork, path: ContractionPath, chunk: ReadonlyMap<number, number>): ChunkedEvaluation {
  const extent = net.extent.map((n, l) => chunk.get(l) ?? n);
  const ctx = treeContext({ ...net, extent });
  let current: TreeNode[] = net.sets.map((_, k) => leafNode(ctx, k));
  let variant: boolean[] = net.sets.map((s) => s.some((l) => chunk.has(l)));
  let slices = 1;
  let summedSlices = 1;
  for (const [l, c] of chunk) {
    slices *= net.extent[l]! / c;
    if (!net.inOutput[l]) summedSlices *= net.extent[l]! / c;
  }
  let once = 0;
  let repeated = 0;
  // Held at once: by the shared steps, by those of one slice (their results not yet consumed).
  let sharedLive = 0;
  let sharedPeak = 0;
  let sliceLive = 0;
  let slicePeak = 0;
  // Shared results that a sliced step reads.
  let kept = 0;
  for (const step of path) {
    if (step.length !== 2) throw new RangeError("slicing needs a pairwise path");
    const [a, b] = [current[step[0]!]!, current[step[1]!]!];
    const joined = joinNodes(ctx, a, b);
    const isVariant = variant[step[0]!]! || variant[step[1]!]!;
    // A step that sums away only labels fixed to one value is a plain product in the program.
    const gone = [...a.labels, ...b.labels].filter((l) => !joined.labels.includes(l));
    const flops = gone.length > 0 && gone.every((l) => chunk.get(l) === 1) ? joined.flops / 2 : joined.flops;
    const inner = (t: TreeNode): number => (t.leaf >= 0 ? 0 : t.size);
    if (isVariant) {
      repeated += flops;
      for (const [t, v] of [[a, variant[step[0]!]!], [b, variant[step[1]!]!]] as const) if (!v) kept += inner(t);
      sliceLive += joined.size;
      slicePeak = Math.max(slicePeak, sliceLive);
      for (const [t, v] of [[a, variant[step[0]!]!], [b, variant[step[1]!]!]] as const) if (v) sliceLive -= inner(t);
    } else {
      once += flops;
      sharedLive += joined.size;
      sharedPeak = Math.max(sharedPeak, sharedLive);
      sharedLive -= inner(a) + inner(b);
    }
    current = [...current.filter((_, k) => k !== step[0] && k !== step[1]), joined];
    variant = [...variant.filter((_, k) => k !== step[0] && k !== step[1]), isVariant];
  }
  const tree = current[0]!;
  const partSize = tree.size;
  const parts = slices / summedSlices;
  // Each part of the output adds up its summed slices: (summedSlices - 1) additions per element.
  const accumulate = (summedSlices - 1) * partSize * parts;
  const sums = summedSlices > 1 ? 2 * partSize : 0;
  const loopPeak = kept + Math.max(slicePeak, slicePeak > 0 ? partSize + sums : 0) + (parts - 1) * partSize;
  const peak = Math.max(sharedPeak, loopPeak);
  return { flops: once + slices * repeated + accumulate, peak, tree };
}

/**
 * The chunked slicing of `path` under `limit` elements (see
 * {@link ChunkedSlicing}); no labels when the path's tensors fit already.
 * Greedy, as cotengra's slicer: while the peak is over the limit, cut one
 * label's chunk to its next smaller divisor, the label (of those held by a
 * tensor the path forms) giving the least FLOPs × peak; then grow each
 * chunk back as far as the limit allows, so the program runs as few slices
 * as it can. Throws a RangeError when even one value of every label does
 * not fit, or the path has a step over more than two operands.
 *
 * @example
 * ```ts
 * sliceInChunks(net, path, 4096); // e.g. { labels: ["c"], chunks: [1], slices: 16, ... }
 * ```
 */
export function sliceInChunks(net: InternedNetwork, path: ContractionPath, limit: number): ChunkedSlicing {
  const base = evaluateChunked(net, path, new Map());
  if (base.peak <= limit) {
    return { labels: [], chunks: [], slices: 1, flops: base.flops, extraFlops: 0, largestIntermediate: base.peak };
  }
  const chunk = new Map<number, number>();
  let current = base;
  const smaller = (l: number): number => {
    const now = chunk.get(l) ?? net.extent[l]!;
    for (let c = now - 1; c >= 1; c--) if (net.extent[l]! % c === 0) return c;
    return now;
  };
  while (current.peak > limit) {
    const held = new Set<number>();
    const collect = (t: TreeNode): void => {
      if (t.left === null) return;
      for (const l of t.labels) if ((chunk.get(l) ?? net.extent[l]!) > 1) held.add(l);
      collect(t.left);
      collect(t.right!);
    };
    collect(current.tree);
    let best: { l: number; c: number; e: ChunkedEvaluation } | null = null;
    for (const l of [...held].sort((a, b) => a - b)) {
      const c = smaller(l);
      const e = evaluateChunked(net, path, new Map(chunk).set(l, c));
      if (best === null || e.flops * e.peak < best.e.flops * best.e.peak) best = { l, c, e };
    }
    if (best === null) {
      throw new RangeError(`no slicing brings the tensors of this path under ${limit} elements`);
    }
    chunk.set(best.l, best.c);
    current = best.e;
  }
  // Grow each chunk to the largest divisor of its extent that still fits.
  for (const l of [...chunk.keys()]) {
    const n = net.extent[l]!;
    for (let c = n; c > chunk.get(l)!; c--) {
      if (n % c !== 0) continue;
      const trial = new Map(chunk).set(l, c);
      if (c === n) trial.delete(l);
      const e = evaluateChunked(net, path, trial);
      if (e.peak <= limit) {
        if (c === n) chunk.delete(l);
        else chunk.set(l, c);
        current = e;
        break;
      }
    }
  }
  const labels = [...chunk.keys()].sort((a, b) => a - b);
  let slices = 1;
  for (const l of labels) slices *= net.extent[l]! / chunk.get(l)!;
  return {
    labels: labels.map((l) => net.labels[l]!),
    chunks: labels.map((l) => chunk.get(l)!),
    slices,
    flops: current.flops,
    extraFlops: current.flops - base.flops,
    largestIntermediate: current.peak,
  };
}
