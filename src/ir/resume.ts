/**
 * Resumed sums (invariant 12 in types.ts): a def with `resumed: true` and
 * the body `P[i, j] + sum(S) term` is computed from P's element by adding
 * the terms one at a time, so that a sum cut into slices, each resuming from
 * the one before, adds every element's terms in the whole sum's order:
 *
 *     whole:   S[k, j] = sum(i:10) A[i, k] * B[i, j]
 *     slices:  P0[k, j] = sum(i:3) A[i, k] * B[i, j]
 *              P1[k, j] = resume P0[k, j] + sum(i:7) A[i + 3, k] * B[i + 3, j]
 *
 * P1 is S's bits wherever the running sum is kept in P0's type.
 */
import type { DefNode, Expr } from "./types.js";

/** The parts of a resumed sum: the tensor it starts from, and its sum. */
export interface ResumedSumForm {
  readonly from: string;
  readonly sum: Extract<Expr, { kind: "reduce" }>;
}

/**
 * The start and the sum of a resumed sum, or null when the def is not one
 * or its body does not have the form of invariant 12.
 *
 * @example
 * ```ts
 * resumedSumForm(parseDef("P1: f64[4, 5] = resume [k:4, j:5] P0[k, j] + sum(i:7) A[i + 3, k] * B[i + 3, j]"))?.from; // "P0"
 * ```
 */
export function resumedSumForm(def: DefNode): ResumedSumForm | null {
  if (def.resumed !== true) return null;
  const b = def.body;
  if (b.kind !== "binary" || b.op !== "add" || b.lhs.kind !== "access" || b.rhs.kind !== "reduce" || b.rhs.op !== "sum") return null;
  const read = b.lhs;
  const own = read.guarded !== true && read.index.length === def.indices.length && read.index.every((a, k) =>
    a.constant === 0 && a.terms.length === 1 && a.terms[0]!.coef === 1 && a.terms[0]!.var === def.indices[k]);
  return own ? { from: read.tensor, sum: b.rhs } : null;
}
