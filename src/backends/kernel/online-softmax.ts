/**
 * The softmax-weighted sum form of a def, which the kernel lowering runs in
 * one pass over the weighted variable with a running maximum and a running
 * sum (the online softmax), so the scores are never stored:
 *
 *     O[i, e] = Σ_j exp(s(i, j) − max_j' s(i, j')) · v(j, e) / Σ_j'' exp(s(i, j'') − max_j''' s(i, j'''))
 *
 * kernel, per row i:  m = −∞, l = 0, O[i, :] = 0
 *                     for j: x = s(i, j); m' = max(m, x); c = exp(m − m'); p = exp(x − m')
 *                            l = l·c + p;  O[i, e] = O[i, e]·c + p·v(j, e)  for every e;  m = m'
 *                     O[i, e] = O[i, e] / l
 *
 * The form is matched on the def as the IR states it (the reference
 * interpreter evaluates it as written, with the exact maximum): the
 * numerator and the denominator must exponentiate the same score, shifted
 * by the maximum of that score over the same range, and sum over that range.
 * A shift that is not that maximum, a denominator over another score or
 * range, or a sum with no denominator is not this form. The `online-softmax`
 * rewrite rule (passes/rewrite/rules/online-softmax.ts) builds it from
 * attention's separate S, M, E defs.
 */
import type { DefNode, Expr } from "../../ir/types.js";
import { boundVars, exprKey, freeVars, renameVars } from "../../ir/walk.js";
import { matchContraction, matchEpilogueContraction } from "./contraction.js";
import { coefOf, flattenIndex } from "./exprs.js";
import { buildProduct, productFactors, sumOutermost, type Factor } from "./reassociate.js";
import type { BlockedAttention, OnlineSoftmaxForm } from "./types.js";
import { someKExpr } from "./walk.js";


/** A key equal for expressions equal up to the names of their bound variables (whose extents it keeps). */
export function alphaKey(e: Expr, ranges: Readonly<Record<string, number>>): string {
  const bound = boundVars(e);
  const map: Record<string, string> = {};
  bound.forEach((v, k) => { map[v] = `%${k}x${ranges[v] ?? "?"}`; });
  return exprKey(renameVars(e, map));
}

/** `reduce op(v) body` over exactly one variable, or null. */
function singleReduce(e: Expr, op: "sum" | "max"): { v: string; body: Expr } | null {
  return e.kind === "reduce" && e.op === op && e.vars.length === 1 ? { v: e.vars[0]!, body: e.body } : null;
}

/** `exp(s − max_{j'} s[j := j'])` split into its score (in terms of its own max variable renamed to `j`) and shift. */
function shiftedExp(e: Expr): { arg: Expr; shift: Expr; maxVar: string; maxBody: Expr } | null {
  if (e.kind !== "unary" || e.op !== "exp") return null;
  const d = e.arg;
  if (d.kind !== "binary" || d.op !== "sub") return null;
  const m = singleReduce(d.rhs, "max");
  return m ? { arg: d.lhs, shift: d.rhs, maxVar: m.v, maxBody: m.body } : null;
}

/** Whether the shift of `exp(σ − μ)` is the maximum of `σ` over a variable of `j`'s extent. */
function shiftIsOwnMax(x: NonNullable<ReturnType<typeof shiftedExp>>, j: string, ranges: Readonly<Record<string, number>>): boolean {
  if (ranges[x.maxVar] !== ranges[j]) return false;
  return alphaKey(renameVars(x.maxBody, { [x.maxVar]: j }), ranges) === alphaKey(x.arg, ranges);
}

/**
 * The def's softmax-weighted sum form, or null when its body is not one
 * (see the module comment for what is required).
 *
 * @example
 * ```ts
 * // O[i, e] = sum(j) exp(S[i, j] - max(j_1) S[i, j_1]) * V[j, e] / sum(l) exp(S[i, l] - max(l_1) S[i, l_1])
 * matchOnlineSoftmax(def)?.rows; // ["i"]
 * ```
 */
export function matchOnlineSoftmax(def: DefNode): OnlineSoftmaxForm | null {
  if (def.dtype === "i32" || def.recurrence !== undefined) return null;
  let top = productFactors(def.body);
  // An Einstein sum around the whole quotient: its invariant factors (the denominator) move out.
  if (top.length === 1 && !top[0]!.inverse) {
    const s = singleReduce(top[0]!.expr, "sum");
    if (s) {
      const inner = productFactors(s.body);
      const outside = inner.filter((f) => !freeVars(f.expr).has(s.v));
      const inside = inner.filter((f) => freeVars(f.expr).has(s.v));
      if (outside.length > 0) top = [...outside, { expr: { kind: "reduce", op: "sum", vars: [s.v], body: buildProduct(inside) }, inverse: false }];
    }
  }
  const nums = top.filter((f) => !f.inverse && singleReduce(f.expr, "sum"));
  const dens = top.filter((f) => f.inverse && singleReduce(f.expr, "sum"));
  if (nums.length !== 1 || dens.length !== 1) return null;
  const rest = top.filter((f) => f !== nums[0] && f !== dens[0]);
  if (rest.some((f) => hasReduce(f.expr))) return null;
  const num = singleReduce(nums[0]!.expr, "sum")!;
  const den = singleReduce(dens[0]!.expr, "sum")!;
  const j = num.v;
  // The numerator: exactly one shifted exponential factor, the rest is the value.
  const factors = productFactors(num.body);
  const exps = factors.filter((f) => !f.inverse && shiftedExp(f.expr) !== null);
  if (exps.length !== 1) return null;
  const numExp = shiftedExp(exps[0]!.expr)!;
  const score = numExp.arg;
  if (!freeVars(score).has(j) || freeVars(numExp.shift).has(j) || !shiftIsOwnMax(numExp, j, def.ranges)) return null;
  const valueFactors: Factor[] = factors.filter((f) => f !== exps[0]);
  // The denominator: the same shifted exponential summed over a range of the same extent.
  const denExp = shiftedExp(den.body);
  if (denExp === null || def.ranges[den.v] !== def.ranges[j]) return null;
  const denScore = renameVars(denExp.arg, { [den.v]: j });
  if (alphaKey(denScore, def.ranges) !== alphaKey(score, def.ranges)) return null;
  if (alphaKey(denExp.shift, def.ranges) !== alphaKey(numExp.shift, def.ranges)) return null;
  if (rest.some((f) => freeVars(f.expr).has(j))) return null;
  const scoreVars = freeVars(score);
  return {
    j,
    extent: def.ranges[j]!,
    score,
    value: buildProduct(valueFactors),
    scale: buildProduct(rest),
    rows: def.indices.filter((v) => scoreVars.has(v)),
    cols: def.indices.filter((v) => !scoreVars.has(v)),
  };
}

function hasReduce(e: Expr): boolean {
  return boundVars(e).length > 0;
}


/**
 * The blocked attention plan of a kernel's softmax-weighted sum, or null when
 * it is not that shape (see {@link BlockedAttention}); `dtypeOf` gives each
 * buffer's element type.
 *
 * @example
 * ```ts
 * blockedAttentionOf(def, form, shapes, () => "f32")?.depth; // 64 for attention with d = 64
 * ```
 */
export function blockedAttentionOf(
  def: DefNode, form: OnlineSoftmaxForm, shapes: ReadonlyMap<string, readonly number[]>, dtypeOf: (buffer: string) => string,
): BlockedAttention | null {
  if (form.rows.length !== 1 || form.cols.length !== 1 || !(form.scale.kind === "const" && form.scale.value === 1)) return null;
  const [i, e, j] = [form.rows[0]!, form.cols[0]!, form.j];
  if (def.indices[0] !== i || def.indices[1] !== e || def.dtype !== "f32") return null;
  // The scores as a def of their own, to find their product and epilogue.
  const scores: DefNode = {
    role: "def", name: "%scores", dtype: "f32", output: false, shape: [def.ranges[i]!, form.extent],
    indices: [i, j], groups: [1, 1], ranges: def.ranges, body: form.score,
  };
  const plain = matchContraction({ ...scores, body: sumOutermost(form.score) }, shapes);
  const withEpilogue = plain ? null : matchEpilogueContraction(scores, shapes);
  const c = plain ?? withEpilogue?.contraction;
  if (!c || c.batch.length > 0 || c.a.kStride !== 1 || c.b.kStride !== 1) return null;
  if (withEpilogue && someKExpr(withEpilogue.epilogue, (x) => x.kind === "load")) return null;
  if (c.a.base.terms.length > 0 || c.b.base.terms.length > 0) return null;
  if (dtypeOf(c.a.buffer) !== "f32" || dtypeOf(c.b.buffer) !== "f32") return null;
  const value = form.value;
  if (value.kind !== "access" || dtypeOf(value.tensor) !== "f32") return null;
  const vShape = shapes.get(value.tensor);
  if (!vShape) return null;
  const vOffset = flattenIndex(value.index, vShape);
  if (vOffset.terms.length !== 2 || coefOf(vOffset, e) !== 1 || coefOf(vOffset, j) <= 0) return null;
  const depth = c.k;
  const cols = def.ranges[e]!;
  if (depth % 4 !== 0 || cols % 4 !== 0) return null;
  return {
    rows: def.ranges[i]!, keys: form.extent, depth, cols, rowVar: i, keyVar: j,
    q: { buffer: c.a.buffer, base: c.a.base.constant, rowStride: c.a.rowStride },
    k: { buffer: c.b.buffer, base: c.b.base.constant, rowStride: c.b.colStride },
    v: { buffer: value.tensor, base: vOffset.constant, rowStride: coefOf(vOffset, j) },
    out: { buffer: def.name, rowStride: cols },
    scale: c.scale ?? 1,
    epilogue: withEpilogue ? withEpilogue.epilogue : null,
  };
}
