/**
 * Lowers a def with index-set splitting (invariant 11) to one kernel: every
 * piece (`ir/split.ts`: the body specialised to a sub-box of the output) is
 * lowered as a def of its own, stored at its place in the whole output, and
 * the loops the pieces share at the top (the same output index, not split,
 * same extent) are merged, so the pieces run inside them:
 *
 *     before: Y[f, y, x] = sum(ci, dy, dx) where(pad, X?[..] * K[..], 0)     split(y: 1, 55; x: 1, 55)
 *     after:  fill Y = 0
 *             for f < 64:
 *               for y < 1:  ... guarded loads ...          (border pieces)
 *               ...
 *               for y < 54: for ci: for dx: for dy: t = K[..]
 *                             for x < 54: Y[3136*f + 56*y + x + 57] += t * X[..]   (interior: no guard)
 *               ...
 *
 * Each element is written by exactly one piece, and the pieces read no
 * element another writes (a split def is never a recurrence), so running
 * them one after another or interleaved under shared loops gives the same
 * values. A single outermost loop keeps the kernel eligible for threads.
 */
import type { DefNode } from "../../ir/types.js";
import { affine } from "../../ir/types.js";
import { splitPieces } from "../../ir/split.js";
import { flattenIndex } from "./exprs.js";
import { lowerDef, type LowerDefOptions } from "./lower-def.js";
import type { Kernel, Loop, Stmt } from "./types.js";

/**
 * The kernel of a def with `split`: its pieces' loop nests under their
 * shared outer loops, one `fill` of the target first when a piece
 * accumulates in place.
 *
 * @example
 * ```ts
 * lowerSplitDef(paddedConv, shapes).body; // [fill Y = 0, for f: [border nests..., interior nest, ...]]
 * ```
 */
export function lowerSplitDef(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>, options: LowerDefOptions = {}): Kernel {
  const extents = def.indices.map((v) => def.ranges[v]!);
  const splitVars = new Set((def.split ?? []).map((s) => s.var));
  let firstLocal = 0;
  const kernels = splitPieces(def, shapes).map((piece) => {
    const outputOffset = flattenIndex(def.indices.map((v) => affine([{ var: v, coef: 1 }], piece.origin[v] ?? 0)), extents);
    const kernel = lowerDef(piece.def, shapes, { ...options, outputOffset, firstLocal, longInnerLoop: [...splitVars] });
    firstLocal = nextLocal(kernel.body, firstLocal);
    return kernel;
  });
  const fills = kernels.flatMap((k) => k.body.filter((s) => s.kind === "fill"));
  const nests = kernels.map((k) => k.body.filter((s) => s.kind !== "fill"));
  const outputs = new Set(def.indices);
  const body = [...fills.slice(0, 1), ...mergeShared(nests, (v) => outputs.has(v) && !splitVars.has(v))];
  // The largest piece (the interior, when there is one) names the loop order.
  const size = (k: Kernel): number => k.loopOrder.reduce((n, v) => n * (pieceExtent(k, v) ?? 1), 1);
  const largest = kernels.reduce((a, b) => (size(b) > size(a) ? b : a));
  const reads = [...new Set(kernels.flatMap((k) => k.reads))].sort();
  return { target: def.name, reads, loopOrder: largest.loopOrder, body };
}

/** The extent of loop `v` in a kernel's body (the first loop binding it), or undefined. */
function pieceExtent(k: Kernel, v: string): number | undefined {
  const find = (stmts: readonly Stmt[]): number | undefined => {
    for (const s of stmts) {
      if (s.kind !== "loop") continue;
      if (s.var === v) return s.extent;
      const inner = find(s.body);
      if (inner !== undefined) return inner;
    }
    return undefined;
  };
  return find(k.body);
}

/** One more than the largest `tN` local a body defines (at least `from`). */
function nextLocal(stmts: readonly Stmt[], from: number): number {
  let next = from;
  const walk = (ss: readonly Stmt[]): void => {
    for (const s of ss) {
      if (s.kind === "let" || s.kind === "declare") {
        const n = /^t(\d+)$/.exec(s.name);
        if (n) next = Math.max(next, Number(n[1]) + 1);
      } else if (s.kind === "loop") walk(s.body);
    }
  };
  walk(stmts);
  return next;
}

/**
 * The nests run one after another, with the loop they all end in merged
 * while it binds the same mergeable variable with the same extent: their
 * statements before it (locals of their own) come first, then one loop
 * over the merged bodies.
 */
function mergeShared(nests: readonly (readonly Stmt[])[], mergeable: (v: string) => boolean): Stmt[] {
  const last = nests.map((n) => n[n.length - 1]);
  const first = last[0];
  const shared = nests.length > 1 && first?.kind === "loop" && mergeable(first.var)
    && last.every((s) => s?.kind === "loop" && s.var === first.var && s.extent === first.extent)
    && nests.every((n) => n.slice(0, -1).every((s) => s.kind === "let" || s.kind === "declare"));
  if (!shared) return nests.flat();
  const loops = last as Loop[];
  return [
    ...nests.flatMap((n) => n.slice(0, -1)),
    { kind: "loop", var: first.var, extent: first.extent, body: mergeShared(loops.map((l) => l.body), mergeable) },
  ];
}
