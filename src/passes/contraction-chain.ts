/**
 * Pieces shared by the builders of pairwise contraction chains
 * (`order-contractions.ts`, and `sliced-chain.ts` for sliced ones): a def
 * recognised as a sum of products, and how intermediates are named, laid
 * out and given ranges.
 */
import type { Access, DefNode, Expr } from "../ir/types.js";

/** A def body recognised as `factors * sum_{summed} (operand * operand * ...)`. */
export interface SumOfProducts {
  /** Factors applied to the final result: constants and expressions free of the summed variables. */
  readonly factors: readonly Expr[];
  readonly summed: readonly string[];
  readonly operands: readonly Access[];
}

/** The variables of a plain-indexed access, one per dimension. */
export function labelsOf(a: Access): string[] {
  return a.index.map((x) => x.terms[0]!.var);
}

/** The def's ranges of `vars`, sorted by name, with `override` taking precedence. */
export function rangesFor(def: DefNode, vars: readonly string[], override: ReadonlyMap<string, number> = new Map()): Record<string, number> {
  return Object.fromEntries([...vars].sort().map((v) => [v, override.get(v) ?? def.ranges[v]!]));
}

/**
 * The storage order of an intermediate's indices: the def's output indices
 * first, in their order, then the others in order of first use, so that
 * intermediates are laid out like the result.
 */
export function layoutOrder(def: DefNode, m: SumOfProducts, result: readonly string[]): string[] {
  const keep = new Set(result);
  return [...new Set([...def.indices, ...m.operands.flatMap(labelsOf)])].filter((v) => keep.has(v));
}

/** `base`, or `base_1`, `base_2`, ... when taken; the name is then taken. */
export function freshName(base: string, names: Set<string>): string {
  let name = base;
  for (let k = 1; names.has(name); k++) name = `${base}_${k}`;
  names.add(name);
  return name;
}
