/**
 * split-index-sets: cuts the output indices of a def with padding reads so
 * that the middle piece, where every padding read is in bounds, runs
 * without guards (index-set splitting; invariant 11, `ir/split.ts`).
 *
 * For every guarded read `X?[.., a, ..]` whose index `a` can leave its
 * dimension and mentions exactly one output index `v` (with coefficient
 * `c`; the other variables are summed over their whole ranges), the values
 * of `v` that keep `a` inside `0 .. size-1` for every value of the others
 * form an interval. Their intersection over all such reads is `v`'s
 * interior `lo .. hi`; `v` is cut at `lo` and `hi + 1` (those inside
 * `1 .. extent-1`), and a border of at most {@link MAX_BORDER_WIDTH} rows
 * at every row (a 5×5 same convolution's two border rows each), so that in
 * every border piece the guards bound summed variables alone and the kernel
 * layer sums only the taps inside (`ir/split.ts`), unless that makes more
 * than {@link MAX_PIECES} pieces. An index whose interior is empty (padding
 * wider than the image, a tiny image) is not cut: every point is border
 * there. An index read with another output index (`X?[y + x]`) is not cut
 * for that read. At most {@link MAX_SPLIT_INDICES} indices are cut.
 *
 * The pass only annotates: the body is unchanged, and the kernel layer
 * lowers each piece of the grid (`splitPieces`) as a loop nest of its own.
 * It runs last, after fusion, so the defs it annotates are the ones the
 * backends run; the wgsl backend, which runs one thread per output element,
 * leaves it out.
 *
 * Before:
 *
 *     output Y: f32[4, 8, 8] = [f:4, y:8, x:8] sum(ci:4, dx:3, dy:3)
 *       where((1 <= dx + x) * (1 <= dy + y) * (dx + x < 9) * (dy + y < 9), X?[ci, dy + y - 1, dx + x - 1] * K[f, ci, dy, dx], 0)
 *
 * After:
 *
 *     output Y: f32[4, 8, 8] = split(y: 1, 7; x: 1, 7) [f:4, y:8, x:8] sum(ci:4, dx:3, dy:3)
 *       where(..., X?[ci, dy + y - 1, dx + x - 1] * K[f, ci, dy, dx], 0)
 */
import type { DefNode, IndexSplit, Program, TensorNode } from "../ir/types.js";
import { affineBounds } from "../ir/verify.js";
import { visitExpr } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";

/** The most output indices of one def that are cut. */
export const MAX_SPLIT_INDICES = 3;

/** A border this wide or narrower is cut into pieces one row wide. */
export const MAX_BORDER_WIDTH = 3;

/** The most pieces of one def with borders cut row by row; beyond it each border is one piece. */
export const MAX_PIECES = 64;

/**
 * The split-index-sets pass.
 *
 * @example
 * ```ts
 * splitIndexSets.run(paddedConv); // Y gets split(y: 1, 55; x: 1, 55)
 * ```
 */
export const splitIndexSets: Pass = {
  name: "split-index-sets",
  description: "cut the output of a def with padding reads into an interior without guards and a border",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noGrads, PROPERTIES.canonical, PROPERTIES.folded, PROPERTIES.cse, PROPERTIES.noDeadCode],
  run: splitIndexSetsIn,
};

/**
 * Returns `program` with `split` set on every def whose padding reads have
 * an interior (itself when there is none).
 *
 * @example
 * ```ts
 * splitIndexSetsIn(program).tensors.find((t) => t.name === "Y"); // { ..., split: [{ var: "y", cuts: [1, 7] }] }
 * ```
 */
export function splitIndexSetsIn(program: Program): Program {
  const shapes = new Map<string, readonly number[]>(program.tensors.map((t) => [t.name, t.shape]));
  let changed = false;
  const tensors = program.tensors.map((t): TensorNode => {
    if (t.role !== "def") return t;
    const split = indexSplitOf(t, shapes);
    const same = JSON.stringify(split) === JSON.stringify(t.split ?? null);
    if (same) return t;
    changed = true;
    const { split: _old, ...rest } = t;
    return split === null ? rest : { ...rest, split };
  });
  return changed ? { ...program, tensors } : program;
}

/**
 * Where to cut a def's output indices so that one piece has no padding
 * read out of bounds, or null when no index has an interior to cut out
 * (no padding read, a recurrence, or every point border).
 *
 * @example
 * ```ts
 * indexSplitOf(conv2dSame, shapes); // [{ var: "y", cuts: [1, 55] }, { var: "x", cuts: [1, 55] }]
 * ```
 */
export function indexSplitOf(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): IndexSplit[] | null {
  if (def.recurrence !== undefined || def.scatter !== undefined) return null;
  const outputs = new Set(def.indices);
  const interior = new Map<string, { lo: number; hi: number }>();
  visitExpr(def.body, (e) => {
    if (e.kind !== "access" || !e.guarded) return;
    const shape = shapes.get(e.tensor);
    if (shape === undefined) return;
    e.index.forEach((a, k) => {
      const size = shape[k]!;
      const { min, max } = affineBounds(a, def.ranges);
      if (min >= 0 && max <= size - 1) return;
      const own = a.terms.filter((t) => outputs.has(t.var));
      if (own.length !== 1) return;
      const { var: v, coef: c } = own[0]!;
      // a = c*v + rest; rest spans rmin .. rmax over the other variables.
      const rest = affineBounds({ terms: a.terms.filter((t) => t.var !== v), constant: a.constant }, def.ranges);
      // In bounds for every rest iff c*v lies in L .. U.
      const [L, U] = [-rest.min, size - 1 - rest.max];
      const [lo, hi] = c > 0 ? [Math.ceil(L / c), Math.floor(U / c)] : [Math.ceil(U / c), Math.floor(L / c)];
      const known = interior.get(v) ?? { lo: 0, hi: def.ranges[v]! - 1 };
      interior.set(v, { lo: Math.max(known.lo, lo), hi: Math.min(known.hi, hi) });
    });
  });
  const coarse: IndexSplit[] = [];
  const fine: IndexSplit[] = [];
  for (const v of def.indices) {
    const box = interior.get(v);
    if (box === undefined || box.lo > box.hi || coarse.length === MAX_SPLIT_INDICES) continue;
    const extent = def.ranges[v]!;
    const inside = (c: number): boolean => c > 0 && c < extent;
    const cuts = [box.lo, box.hi + 1].filter(inside);
    if (cuts.length === 0) continue;
    coarse.push({ var: v, cuts });
    // A border at most MAX_BORDER_WIDTH wide is cut into single rows: in each, the
    // guards bound the summed variables alone, so the sums are trimmed to the taps inside.
    const low = box.lo <= MAX_BORDER_WIDTH ? Array.from({ length: box.lo }, (_, k) => k + 1) : [box.lo];
    const high = extent - 1 - box.hi <= MAX_BORDER_WIDTH ? Array.from({ length: extent - 1 - box.hi }, (_, k) => box.hi + 1 + k) : [box.hi + 1];
    fine.push({ var: v, cuts: [...new Set([...low, ...high])].filter(inside).sort((a, b) => a - b) });
  }
  const pieces = (split: readonly IndexSplit[]): number => split.reduce((n, s) => n * (s.cuts.length + 1), 1);
  if (coarse.length === 0) return null;
  return pieces(fine) <= MAX_PIECES ? fine : coarse;
}
