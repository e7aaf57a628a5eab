/**
 * Contraction trees: the binary-tree form of a pairwise path, which the
 * hyper-optimizer builds, compares and rewrites. A node knows its result
 * labels, how often each of them occurs among the inputs below it (a label
 * is summed away once every operand holding it is inside), its own step's
 * FLOPs and the whole subtree's. Converting to and from opt_einsum's path
 * form is exact: `treeFlops(pathToTree(p)) === pathFlops(p)`.
 */
import { dpPath } from "./dp.js";
import type { PathOptions } from "./finder.js";
import type { WorkMeter } from "./work.js";
import { flopCount, type ContractionPath, type ContractionStep, type InternedNetwork, type LabelSet } from "./network.js";

/** A node of a contraction tree (a leaf is an input operand). */
export interface TreeNode {
  readonly left: TreeNode | null;
  readonly right: TreeNode | null;
  /** The input operand of a leaf; -1 for a contraction. */
  readonly leaf: number;
  /** The result's labels, sorted. */
  readonly labels: LabelSet;
  /** Occurrences of each of `labels` among the inputs below (parallel to `labels`). */
  readonly counts: readonly number[];
  /** Elements of the result. */
  readonly size: number;
  /** FLOPs of this node's own step (0 at a leaf). */
  readonly flops: number;
  /** FLOPs of the whole subtree. */
  readonly total: number;
  /** Largest intermediate formed below, this node's result included (0 at a leaf). */
  readonly largest: number;
  readonly leaves: number;
}

/** What joining trees needs to know about the network. */
export interface TreeContext {
  readonly net: InternedNetwork;
  /** Occurrences of each label among all inputs. */
  readonly occurrences: readonly number[];
}

/**
 * The context of `net`.
 *
 * @example
 * ```ts
 * treeContext(internNetwork(network)).occurrences;
 * ```
 */
export function treeContext(net: InternedNetwork): TreeContext {
  const occurrences = net.extent.map(() => 0);
  for (const s of net.sets) for (const l of s) occurrences[l]!++;
  return { net, occurrences };
}

/**
 * The leaf of input operand `k`.
 *
 * @example
 * ```ts
 * leafNode(ctx, 0).labels; // the labels of operand 0
 * ```
 */
export function leafNode(ctx: TreeContext, k: number): TreeNode {
  const labels = ctx.net.sets[k]!;
  let size = 1;
  for (const l of labels) size *= ctx.net.extent[l]!;
  return { left: null, right: null, leaf: k, labels, counts: labels.map(() => 1), size, flops: 0, total: 0, largest: 0, leaves: 1 };
}

/**
 * The contraction of `a` and `b` (disjoint subtrees).
 *
 * @example
 * ```ts
 * joinNodes(ctx, leafNode(ctx, 0), leafNode(ctx, 1)).flops;
 * ```
 */
export function joinNodes(ctx: TreeContext, a: TreeNode, b: TreeNode): TreeNode {
  const { extent, inOutput } = ctx.net;
  const labels: number[] = [];
  const counts: number[] = [];
  let all = 1;
  let size = 1;
  let inner = false;
  let i = 0;
  let j = 0;
  while (i < a.labels.length || j < b.labels.length) {
    const la = i < a.labels.length ? a.labels[i]! : Infinity;
    const lb = j < b.labels.length ? b.labels[j]! : Infinity;
    const l = Math.min(la, lb);
    let c = 0;
    if (la === l) c += a.counts[i++]!;
    if (lb === l) c += b.counts[j++]!;
    all *= extent[l]!;
    if (inOutput[l] || c < ctx.occurrences[l]!) {
      labels.push(l);
      counts.push(c);
      size *= extent[l]!;
    } else inner = true;
  }
  const flops = flopCount(all, inner, 2);
  return {
    left: a, right: b, leaf: -1, labels, counts, size, flops,
    total: a.total + b.total + flops,
    largest: Math.max(a.largest, b.largest, size),
    leaves: a.leaves + b.leaves,
  };
}

/**
 * The tree of a pairwise path (null when some step joins more than two operands).
 *
 * @example
 * ```ts
 * pathToTree(ctx, [[1, 2], [0, 1]])!.total; // the path's FLOPs
 * ```
 */
export function pathToTree(ctx: TreeContext, path: ContractionPath): TreeNode | null {
  let current: TreeNode[] = ctx.net.sets.map((_, k) => leafNode(ctx, k));
  for (const step of path) {
    if (step.length !== 2) return null;
    const joined = joinNodes(ctx, current[step[0]!]!, current[step[1]!]!);
    current = [...current.filter((_, k) => k !== step[0] && k !== step[1]), joined];
  }
  return current.length === 1 ? current[0]! : null;
}

/**
 * The opt_einsum path of a tree over all of the network's inputs: children
 * before parents, the left subtree first.
 *
 * @example
 * ```ts
 * treeToPath(ctx.net.sets.length, pathToTree(ctx, path)!); // path, up to the order of independent steps
 * ```
 */
export function treeToPath(count: number, root: TreeNode): ContractionStep[] {
  const current = Array.from({ length: count }, (_, k) => k);
  let next = count;
  const path: ContractionStep[] = [];
  const build = (node: TreeNode): number => {
    if (node.leaf >= 0) return node.leaf;
    const x = build(node.left!);
    const y = build(node.right!);
    const px = current.indexOf(x);
    const py = current.indexOf(y);
    path.push([Math.min(px, py), Math.max(px, py)]);
    current.splice(Math.max(px, py), 1);
    current.splice(Math.min(px, py), 1);
    current.push(next);
    return next++;
  };
  build(root);
  return path;
}

/**
 * The cheapest tree over `pieces` (at most 12; every split of every subset,
 * so outer products are included), as joins of the pieces; null when the
 * memory limit leaves no pairwise tree. Spends its work on `meter`.
 *
 * @example
 * ```ts
 * bestTreeOver(ctx, [leafNode(ctx, 0), leafNode(ctx, 1), leafNode(ctx, 2)], {})!.total;
 * ```
 */
export function bestTreeOver(ctx: TreeContext, pieces: readonly TreeNode[], options: PathOptions, meter?: WorkMeter): TreeNode | null {
  if (pieces.length === 1) return pieces[0]!;
  // Every split of every subset: about 3^k / 2 offers, each a few typed-
  // array operations (about a tenth of a greedy candidate's scoring), and
  // the setup.
  meter?.spend(Math.pow(3, pieces.length) / 10 + pieces.length * pieces.length);
  let whole = pieces[0]!;
  for (const p of pieces.slice(1)) whole = joinNodes(ctx, whole, p);
  const used = [...new Set(pieces.flatMap((p) => p.labels))];
  const extent = ctx.net.extent;
  const sub: InternedNetwork = {
    source: { inputs: [], output: [], extents: {} },
    labels: used.map(String),
    extent: used.map((l) => extent[l]!),
    sets: pieces.map((p) => p.labels.map((l) => used.indexOf(l)).sort((x, y) => x - y)),
    inOutput: used.map((l) => whole.labels.includes(l)),
  };
  const path = dpPath(sub, { memoryLimit: options.memoryLimit });
  let current = [...pieces];
  for (const step of path) {
    if (step.length !== 2) return null;
    const joined = joinNodes(ctx, current[step[0]!]!, current[step[1]!]!);
    current = [...current.filter((_, k) => k !== step[0] && k !== step[1]), joined];
  }
  return current[0]!;
}
