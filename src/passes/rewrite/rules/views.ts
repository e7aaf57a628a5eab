/**
 * `ungroup-access`: a read of a flattened dimension, x[c·n_d + d], becomes a
 * read of a view that splits the dimension, x_v[c, d], with the view a
 * def `x_v[c, d] = x[c·n_d + d]` (an O(size) copy in the IR; the storage is
 * the same row-major array). A sum of products whose indices were flattened
 * pairs then has plain indices only, which `order-contractions` can split
 * into pairwise contractions: for y = (A ⊗ B)·x this is vec(B·X·Aᵀ).
 */
import type { Access, Affine, DefNode, TensorNode } from "../../../ir/types.js";
import { access, affine, affineVar, numel } from "../../../ir/types.js";
import { affineEquals, affineKey, exprKey, mapExpr } from "../../../ir/walk.js";
import { programRule } from "../rule.js";
import { productFactors } from "./products.js";
import { accessSites, flattenedDigits, freshName, replaceTensor, rowMajorStrides } from "./program-helpers.js";

interface UngroupSite {
  readonly consumer: string;
  readonly tensor: string;
  readonly dim: number;
  /** The flattened affine form read at `dim`. */
  readonly flat: Affine;
  /** Its digit variables, most significant first, and their extents. */
  readonly digits: readonly string[];
  readonly extents: readonly number[];
}

/** The accesses inside the one `sum` of a sum-of-products def, or null when the body is not one. */
function sumOfProductsAccesses(def: DefNode): Access[] | null {
  const sums = productFactors(def.body).filter((f) => f.kind === "reduce");
  const sum = sums[0];
  if (sums.length !== 1 || sum === undefined || sum.kind !== "reduce" || sum.op !== "sum") return null;
  const inner = productFactors(sum.body);
  if (!inner.every((f) => f.kind === "access" || f.kind === "const")) return null;
  return inner.filter((f): f is Access => f.kind === "access");
}

/** The view def splitting dimension `dim` of `x` into `extents`. */
function viewOf(x: TensorNode, dim: number, extents: readonly number[], name: string): DefNode {
  const indices: string[] = [];
  const shape: number[] = [];
  const ranges: Record<string, number> = {};
  const index: Affine[] = [];
  x.shape.forEach((n, j) => {
    if (j !== dim) {
      indices.push(`v${j}`);
      shape.push(n);
      ranges[`v${j}`] = n;
      index.push(affineVar(`v${j}`));
      return;
    }
    const digits = extents.map((_, t) => `v${j}_${t}`);
    const strides = rowMajorStrides(extents);
    digits.forEach((v, t) => {
      indices.push(v);
      shape.push(extents[t]!);
      ranges[v] = extents[t]!;
    });
    index.push(affine(digits.map((v, t) => ({ var: v, coef: strides[t]! }))));
  });
  return { role: "def", name, dtype: x.dtype, shape, output: false, indices, groups: indices.map(() => 1), ranges, body: access(x.name, index) };
}

function sameView(a: DefNode, b: DefNode): boolean {
  return exprKey(a.body) === exprKey(b.body) && a.shape.join() === b.shape.join() && a.indices.join() === b.indices.join();
}

/**
 * The `ungroup-access` rule (see the module comment).
 *
 * @example
 * ```ts
 * // y[(a, b)] = sum(c, d) A[a, c] * B[b, d] * x[5*c + d]
 * //   →  x_v[v0_0:3, v0_1:5] = x[5*v0_0 + v0_1];  y[(a, b)] = sum(c, d) A[a, c] * B[b, d] * x_v[c, d]
 * ungroupAccess.rewrite(ungroupAccess.sites(program)[0]!, program);
 * ```
 */
export const ungroupAccess = programRule<UngroupSite>({
  name: "ungroup-access",
  statement: "x[c·n_d + d] = x_v[c, d] where x_v[c, d] = x[c·n_d + d] views x's storage as a (n_c, n_d) matrix",
  conditions: [
    {
      // Elsewhere a view only adds a copy; in a sum of products it makes every index plain.
      name: "read-by-a-sum-of-products",
      holds: (s, p) => {
        const c = p.tensors.find((t) => t.name === s.consumer);
        const accesses = c?.role === "def" && c.recurrence === undefined ? sumOfProductsAccesses(c) : null;
        return accesses !== null && accesses.some((a) => a.tensor === s.tensor && affineEquals(a.index[s.dim]!, s.flat));
      },
    },
  ],
  sites: (program) => {
    const out: UngroupSite[] = [];
    const seen = new Set<string>();
    const shapes = new Map(program.tensors.map((t) => [t.name, t.shape]));
    for (const c of program.tensors) {
      if (c.role !== "def" || c.recurrence !== undefined) continue;
      for (const { access: a } of accessSites(c.body)) {
        if (a.guarded) continue;
        a.index.forEach((flat, dim) => {
          if (flat.terms.length < 2) return;
          const byWeight = [...flat.terms].sort((x, y) => y.coef - x.coef);
          const extents = byWeight.map((t) => c.ranges[t.var]!);
          const digits = flattenedDigits(flat, extents, c.ranges);
          if (digits === null || numel(extents) !== shapes.get(a.tensor)?.[dim]) return;
          const key = `${c.name}/${a.tensor}/${dim}/${affineKey(flat)}`;
          if (seen.has(key)) return;
          seen.add(key);
          out.push({ consumer: c.name, tensor: a.tensor, dim, flat, digits, extents });
        });
      }
    }
    return out;
  },
  rewrite: (s, program) => {
    const x = program.tensors.find((t) => t.name === s.tensor)!;
    const at = program.tensors.findIndex((t) => t.name === s.consumer);
    const candidate = viewOf(x, s.dim, s.extents, freshName(`${s.tensor}_v`, new Set(program.tensors.map((t) => t.name))));
    // A view made for an earlier consumer is shared; it sits right before that consumer.
    const existing = program.tensors.slice(0, at).find((t): t is DefNode => t.role === "def" && sameView(t, candidate));
    const view = existing ?? candidate;
    const c = program.tensors[at] as DefNode;
    const body = mapExpr(c.body, (e) => (e.kind === "access" && e.tensor === s.tensor && affineEquals(e.index[s.dim]!, s.flat)
      ? access(view.name, [...e.index.slice(0, s.dim), ...s.digits.map(affineVar), ...e.index.slice(s.dim + 1)])
      : e));
    const next = replaceTensor(program, c.name, { ...c, body });
    if (existing !== undefined) return next;
    return { ...next, tensors: [...next.tensors.slice(0, at), view, ...next.tensors.slice(at)] };
  },
});
