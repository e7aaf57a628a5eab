/**
 * What a gather does at run time, shared by the reference interpreter and
 * every backend's host code: resolving a dynamic index under a
 * {@link GatherMode}, and the error an out-of-range index raises in mode
 * `check` (TNS0620), which names the tensor, the dimension, the index and
 * the tensor that read it.
 *
 *     Xe[t, d] = Wte[ids[t], d]      Wte: [64, 8], ids[3] = 70
 *     ->  TNS0620: index 70 is out of range 0..63 in dimension 0 of 'Wte' (gathered by 'Xe')
 */
import { CompileError } from "../diagnostics/diagnostic.js";
import type { GatherMode, Program } from "./types.js";
import { visitExpr } from "./walk.js";

/** One gather of a program, as the backends number them: where an out-of-range index is reported. */
export interface GatherSite {
  /** The gathered tensor. */
  readonly tensor: string;
  /** The dimension whose index was out of range. */
  readonly dim: number;
  /** That dimension's extent. */
  readonly extent: number;
  /** The def whose body holds the gather. */
  readonly reader: string;
}

/**
 * The in-range index for `index` under `mode`, or -1 when it is out of range
 * in mode `check`.
 *
 * @example
 * ```ts
 * resolveGatherIndex(5, 4, "clamp"); // 3
 * resolveGatherIndex(4, 4, "check"); // -1
 * ```
 */
export function resolveGatherIndex(index: number, extent: number, mode: GatherMode): number {
  const k = Math.trunc(index);
  if (k >= 0 && k < extent) return k;
  switch (mode) {
    case "check": return -1;
    case "clamp": return Number.isNaN(k) || k < 0 ? 0 : extent - 1;
  }
}

/**
 * The run-time error of an out-of-range gather index (TNS0620).
 *
 * @example
 * ```ts
 * throw gatherRangeError({ tensor: "Wte", dim: 0, extent: 64, reader: "Xe" }, 70);
 * ```
 */
export function gatherRangeError(site: GatherSite, index: number): CompileError {
  return new CompileError([{
    code: "TNS0620", severity: "error", notes: [],
    message: `index ${index} is out of range 0..${site.extent - 1} in dimension ${site.dim} of '${site.tensor}' (gathered by '${site.reader}')`,
    hint: `check the index data; to read the nearest element instead write ${site.tensor}[clamp(...), ...]`,
  }]);
}

/**
 * For each tensor whose elements are used directly as a checked gather
 * index (`Wte[ids[t], d]`), the smallest extent it indexes: random data for
 * it (`--random-inputs`, `--verify`) is drawn in `0 .. extent-1` so that it
 * is a valid index.
 *
 * @example
 * ```ts
 * gatherIndexExtents(program).get("ids"); // 64 for Wte[64, 8]
 * ```
 */
export function gatherIndexExtents(program: Program): Map<string, number> {
  const shapes = new Map(program.tensors.map((t) => [t.name, t.shape]));
  const out = new Map<string, number>();
  const bodies = [...program.tensors, ...Object.values(program.functions).flatMap((f) => f.tensors)];
  for (const t of bodies) {
    if (t.role !== "def") continue;
    visitExpr(t.body, (e) => {
      if (e.kind !== "gather") return;
      e.index.forEach((d, k) => {
        const extent = shapes.get(e.tensor)?.[k];
        if ((d.value?.kind !== "access" && d.value?.kind !== "gather") || extent === undefined || d.affine.terms.length > 0) return;
        const n = extent - Math.max(0, d.affine.constant);
        if (n > 0) out.set(d.value.tensor, Math.min(out.get(d.value.tensor) ?? n, n));
      });
    });
  }
  return out;
}
