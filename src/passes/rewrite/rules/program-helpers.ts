/**
 * Helpers of the program rules: finding accesses with the sums around
 * them, recognising product producers and flattened (row-major) affine
 * indices, fresh names, and replacing one def of a program.
 */
import type { Access, Affine, DefNode, Expr, Program, TensorNode } from "../../../ir/types.js";
import { children } from "../../../ir/walk.js";
import { productFactors } from "./products.js";

/** An access of a def's body and whether a `sum` encloses it. */
export interface AccessSite {
  readonly access: Access;
  readonly inSum: boolean;
}

/**
 * Every access of `e`, with whether some `sum` reduction encloses it.
 *
 * @example
 * ```ts
 * accessSites(parseExprText("sum(j:3) W[i, j] * x[j]").expr).every((s) => s.inSum); // true
 * ```
 */
export function accessSites(e: Expr, inSum = false): readonly AccessSite[] {
  // Rules ask again for the same bodies at every site and every step: kept per node (IR nodes are immutable).
  const memo = inSum ? sitesInSum : sitesOutsideSums;
  const known = memo.get(e);
  if (known) return known;
  const inner = inSum || (e.kind === "reduce" && e.op === "sum");
  const sites = e.kind === "access" ? [{ access: e, inSum }] : children(e).flatMap((c) => accessSites(c, inner));
  memo.set(e, sites);
  return sites;
}

const sitesInSum = new WeakMap<Expr, readonly AccessSite[]>();
const sitesOutsideSums = new WeakMap<Expr, readonly AccessSite[]>();

/**
 * Whether `t` is a def whose body is a product of accesses and constants
 * with no reduction (a Kronecker or outer product, a broadcast scaling).
 *
 * @example
 * ```ts
 * isProductDef(kronDef); // true for W[(a, b), (c, d)] = A[a, c] * B[b, d]
 * ```
 */
export function isProductDef(t: TensorNode | undefined): boolean {
  if (t === undefined || t.role !== "def" || t.recurrence !== undefined) return false;
  const factors = productFactors(t.body);
  return factors.some((f) => f.kind === "access") && factors.every((f) => f.kind === "access" || f.kind === "const");
}

/**
 * The row-major strides of `extents` (last one 1).
 *
 * @example
 * ```ts
 * rowMajorStrides([2, 3, 4]); // [12, 4, 1]
 * ```
 */
export function rowMajorStrides(extents: readonly number[]): number[] {
  const out = new Array<number>(extents.length);
  let acc = 1;
  for (let k = extents.length - 1; k >= 0; k--) {
    out[k] = acc;
    acc *= extents[k]!;
  }
  return out;
}

/**
 * The variables of `a` read as the row-major flattening of digits with
 * extents `extents` (`a = Σ stride_t · u_t`, constant 0, each u_t's range
 * at most its extent, so that the digits are recovered one-to-one), or null.
 *
 * @example
 * ```ts
 * flattenedDigits(affine([{ var: "c", coef: 5 }, { var: "d", coef: 1 }]), [3, 5], { c: 3, d: 5 }); // ["c", "d"]
 * ```
 */
export function flattenedDigits(a: Affine, extents: readonly number[], ranges: Readonly<Record<string, number>>): string[] | null {
  if (a.constant !== 0 || a.terms.length !== extents.length) return null;
  const strides = rowMajorStrides(extents);
  const out: string[] = [];
  for (let t = 0; t < extents.length; t++) {
    const term = a.terms.find((x) => x.coef === strides[t]);
    if (term === undefined || out.includes(term.var)) return null;
    const r = ranges[term.var];
    if (r === undefined || r > extents[t]!) return null;
    out.push(term.var);
  }
  return out;
}

/**
 * The extents of the index variables of each grouped dimension of a def.
 *
 * @example
 * ```ts
 * groupExtents(kronDef); // [[2, 4], [3, 5]]
 * ```
 */
export function groupExtents(def: DefNode): number[][] {
  const out: number[][] = [];
  let k = 0;
  for (const g of def.groups) {
    out.push(def.indices.slice(k, k + g).map((v) => def.ranges[v]!));
    k += g;
  }
  return out;
}

/**
 * The index variables of each grouped dimension of a def.
 *
 * @example
 * ```ts
 * groupIndices(kronDef); // [["a", "b"], ["c", "d"]]
 * ```
 */
export function groupIndices(def: DefNode): string[][] {
  const out: string[][] = [];
  let k = 0;
  for (const g of def.groups) {
    out.push(def.indices.slice(k, k + g));
    k += g;
  }
  return out;
}

/**
 * `base`, or `base_1`, `base_2`, ... : the first name not in `taken`.
 *
 * @example
 * ```ts
 * freshName("x_v", new Set(["x_v"])); // "x_v_1"
 * ```
 */
export function freshName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
  return name;
}

/**
 * `program` with the top-level tensor named `name` replaced by `node`.
 *
 * @example
 * ```ts
 * replaceTensor(program, "y", { ...y, body });
 * ```
 */
export function replaceTensor(program: Program, name: string, node: TensorNode): Program {
  return { ...program, tensors: program.tensors.map((t) => (t.name === name ? node : t)) };
}

/**
 * Whether any top-level def or call other than `except` reads `name`.
 *
 * @example
 * ```ts
 * isReadElsewhere(program, "W", "y"); // false once y no longer reads W
 * ```
 */
export function isReadElsewhere(program: Program, name: string, except: string): boolean {
  return program.tensors.some((t) => t.name !== except && (
    (t.role === "def" && accessSites(t.body).some((s) => s.access.tensor === name)) ||
    (t.role === "call" && t.args.includes(name))));
}
