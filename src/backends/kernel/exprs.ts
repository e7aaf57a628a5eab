/**
 * Affine helpers used by kernel lowering: flattening a multi-dimensional
 * access into one row-major offset and picking terms out of an offset.
 */
import type { Affine } from "../../ir/types.js";
import { affine, stridesOf } from "../../ir/types.js";

/**
 * The row-major offset of an access into a tensor of the given shape.
 *
 * @example
 * ```ts
 * flattenIndex([affineVar("i"), affineVar("k")], [4, 8]); // 8*i + k
 * ```
 */
export function flattenIndex(index: readonly Affine[], shape: readonly number[]): Affine {
  const strides = stridesOf(shape);
  const terms: { var: string; coef: number }[] = [];
  let constant = 0;
  index.forEach((a, k) => {
    const s = strides[k]!;
    for (const t of a.terms) terms.push({ var: t.var, coef: t.coef * s });
    constant += a.constant * s;
  });
  return affine(terms, constant);
}

/** The coefficient of `v` in an affine form (0 when absent). */
export function coefOf(a: Affine, v: string): number {
  return a.terms.find((t) => t.var === v)?.coef ?? 0;
}

/** An affine form without the terms of the given variables. */
export function dropVars(a: Affine, vars: readonly string[]): Affine {
  return affine(a.terms.filter((t) => !vars.includes(t.var)), a.constant);
}
