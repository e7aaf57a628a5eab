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
import { pathToTree, treeContext, type TreeNode } from "./tree.js";

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
