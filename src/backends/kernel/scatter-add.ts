/**
 * The kernel form of a scatter-add def (invariant 10, `ir/scatter.ts`): one
 * pass over its summed variables and its other output indices, each term
 * added to the element its data-dependent index selects.
 *
 *     dW: f32[7, 4] = scatter(g0) [g0:7, g1:4] sum(t:5) where(ids[t] == g0, dXe[t, g1], 0)
 *     ->  fill dW = 0
 *         for t < 5: for g1 < 4:
 *           dW[g1 + 4 * resolve(ids[t])] += dXe[4*t + g1]
 *
 * `Kernel.scatterAdd` carries it next to the kernel's `body`, which still
 * computes the masked sum over every element: a backend that cannot add to
 * data-dependent positions without races (WGSL, or wasm threads splitting
 * the loop) runs the body; js and single-threaded wasm run this form.
 */
import type { DefNode, Expr } from "../../ir/types.js";
import { affine, stridesOf } from "../../ir/types.js";
import { affineBounds } from "../../ir/verify.js";
import { affineToExpr } from "../../ir/walk.js";
import { scatterAddForm } from "../../ir/scatter.js";
import { binary } from "../../ir/types.js";
import { flattenIndex } from "./exprs.js";
import type { KExpr, ScatterAdd } from "./types.js";

/**
 * The scatter-add form of a def, or null when it is not a scatter-add (or
 * its index or term holds a reduction, which this form does not run).
 *
 * @example
 * ```ts
 * scatterAddOf(dW, shapes)?.loops.map((l) => l.var); // ["t", "g1"]
 * ```
 */
export function scatterAddOf(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): ScatterAdd | null {
  const form = scatterAddForm(def);
  if (form === null) return null;
  const value = plainKExpr(form.value, def, shapes);
  const term = plainKExpr(form.term, def, shapes);
  if (value === null || term === null) return null;
  const strides = stridesOf(def.indices.map((v) => def.ranges[v]!));
  const dim = def.indices.indexOf(form.index);
  const others = def.indices.filter((v) => v !== form.index);
  const offset = affine(others.map((v) => ({ var: v, coef: strides[def.indices.indexOf(v)]! })));
  // The summed variables outermost: each index value is then resolved once per row it adds.
  const loops = [...form.summed, ...others].map((v) => ({ var: v, extent: def.ranges[v]! }));
  const extent = def.ranges[form.index]!;
  return {
    loops, offset, mode: form.mode, term,
    index: { value, stride: strides[dim]!, extent, site: { tensor: def.name, dim, extent, reader: def.name } },
  };
}

/** A reduction-free IR expression as a kernel expression (null when it holds a reduction). */
function plainKExpr(e: Expr, def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): KExpr | null {
  const go = (x: Expr): KExpr | null => {
    switch (x.kind) {
      case "const": case "index": return x;
      case "access": {
        const shape = shapes.get(x.tensor)!;
        const offset = flattenIndex(x.index, shape);
        if (!x.guarded) return { kind: "load", buffer: x.tensor, offset };
        const guard = x.index.flatMap((a, k) => {
          const { min, max } = affineBounds(a, def.ranges);
          return min < 0 || max > shape[k]! - 1 ? [{ index: a, size: shape[k]! }] : [];
        });
        return guard.length === 0 ? { kind: "load", buffer: x.tensor, offset } : { kind: "load", buffer: x.tensor, offset, guard };
      }
      case "gather": {
        const shape = shapes.get(x.tensor)!;
        const strides = stridesOf(shape);
        const statics = x.index.map((d) => (d.value === null ? d.affine : affine([])));
        const dims = [];
        for (const [k, d] of x.index.entries()) {
          if (d.value === null) continue;
          const at = d.affine.terms.length === 0 && d.affine.constant === 0 ? d.value : binary("add", d.value, affineToExpr(d.affine));
          const value = go(at);
          if (value === null) return null;
          dims.push({ value, stride: strides[k]!, extent: shape[k]!, site: { tensor: x.tensor, dim: k, extent: shape[k]!, reader: def.name } });
        }
        return { kind: "gather", buffer: x.tensor, offset: flattenIndex(statics, shape), dims, mode: x.mode };
      }
      case "unary": {
        const arg = go(x.arg);
        return arg === null ? null : { kind: "unary", op: x.op, arg };
      }
      case "binary": {
        const lhs = go(x.lhs);
        const rhs = go(x.rhs);
        return lhs === null || rhs === null ? null : { kind: "binary", op: x.op, lhs, rhs };
      }
      case "select": {
        const cond = go(x.cond);
        const then = go(x.then);
        const otherwise = go(x.else);
        return cond === null || then === null || otherwise === null ? null : { kind: "select", cond, then, else: otherwise };
      }
      case "reduce": return null;
    }
  };
  return go(e);
}
