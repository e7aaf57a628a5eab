/**
 * FLOPs of a def as the backends run it, by the cost model's convention
 * (passes/cost.ts): one per arithmetic operation, comparison or bounds
 * check evaluated, an accumulation counting as an add; a nested reduction
 * that reads only some of the variables bound around it is hoisted out of
 * the loops it does not use, and counted once per value; a scatter-add once
 * per term; a softmax-weighted sum as the one-pass kernel runs it. Here,
 * beside the kernel forms it counts, so that the cost model and the
 * backends (the WGSL dispatch sizes) read one count.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { DefNode, Expr } from "../../ir/types.js";
import { binary, reduce } from "../../ir/types.js";
import { scatterAddForm } from "../../ir/scatter.js";
import { boundVars, freeVars, gatherValues } from "../../ir/walk.js";
import { matchOnlineSoftmax } from "./online-softmax.js";
import type { OnlineSoftmaxForm } from "./types.js";

/**
 * FLOPs of one def by the convention in the module comment (and passes/cost.ts).
 *
 * @example
 * ```ts
 * // C[i, j] = sum(k) A[i, k] * B[k, j], all extents 8: one multiply and one add per (i, j, k)
 * defFlops(matmul); // 1024 = 2 * 8 ** 3
 * // Y[i, j] = E[i, j] / sum(k) E[i, k], extents 4: the sum is hoisted, computed once per i
 * defFlops(softmaxTail); // 32 = 16 divides + 4 * 4 adds
 * ```
 */
export function defFlops(def: DefNode): number {
  const online = matchOnlineSoftmax(def);
  if (online) return onlineSoftmaxFlops(def, online);
  // A scatter-add (invariant 10) runs once per term, not once per element and term: its index, its term and one add.
  const scatter = scatterAddForm(def);
  if (scatter !== null) {
    const { scatter: _mark, ...plain } = def;
    const others = def.indices.filter((v) => v !== scatter.index);
    return defFlops({ ...plain, indices: others, shape: others.map((v) => def.ranges[v]!), groups: others.map(() => 1), body: reduce("sum", scatter.summed, binary("add", scatter.value, scatter.term)) });
  }
  const extent = (v: string): number => {
    const n = def.ranges[v];
    if (n === undefined) throw new InternalCompilerError(`def ${def.name}: no range for index ${v}`);
    return n;
  };
  const count = (vars: Iterable<string>): number => {
    let n = 1;
    for (const v of vars) n *= extent(v);
    return n;
  };
  // `evaluations`: how many times `e` is evaluated in all.
  const flops = (e: Expr, evaluations: number, top: boolean): number => {
    if (isConstant(e)) return 0;
    switch (e.kind) {
      case "const":
      case "index":
      case "access":
        return 0;
      case "gather":
        // One bounds check per evaluation, plus the index expressions.
        return evaluations + gatherValues(e).reduce((a, v) => a + flops(v, evaluations, false), 0);
      case "unary":
        return evaluations + flops(e.arg, evaluations, false);
      case "binary":
        return evaluations + flops(e.lhs, evaluations, false) + flops(e.rhs, evaluations, false);
      case "select":
        return evaluations + flops(e.cond, evaluations, false) + flops(e.then, evaluations, false) + flops(e.else, evaluations, false);
      case "reduce": {
        const { vars, body } = mergeNested(e);
        // The def's own reduction accumulates into the output; any other is hoisted out of the loops it does not use.
        const runs = top ? evaluations : count(freeVars(e));
        const iterations = runs * count(vars);
        return iterations + flops(body, iterations, false);
      }
    }
  };
  return flops(def.body, count(def.indices), true);
}

/**
 * FLOPs of a def in the softmax-weighted sum form as the one-pass kernel
 * runs it: per row and `j`, the score and 4 operations (a max, a
 * subtraction, an exponential, an add to the running sum); per row and
 * block of {@link ONLINE_SOFTMAX_BLOCK} keys, 3 (the rescale factor
 * exp(m − m') and the running sum's rescale); per row, `j` and column, the
 * value and 2 (the weighted add); per row, column and block, one rescale of
 * the accumulator; per output element, the scale and one multiply. The
 * unfused softmax counts the same 4 per score (a max, a subtraction, an
 * exponential, an add), so the fusion changes the FLOPs by the rescales only.
 */
/** Keys per rescale of the accumulators in the online-softmax kernel's FLOP count (its block of scores, wasm/emit-attention.ts). */
const ONLINE_SOFTMAX_BLOCK = 64;

function onlineSoftmaxFlops(def: DefNode, form: OnlineSoftmaxForm): number {
  const rows = form.rows.reduce((a, v) => a * def.ranges[v]!, 1);
  const cols = form.cols.reduce((a, v) => a * def.ranges[v]!, 1);
  const ranges = { ...def.ranges };
  const indices = [...form.rows, form.j];
  const at = (body: Expr, over: readonly string[]): number => {
    const used = new Set([...over, ...boundVars(body)]);
    return defFlops({ ...def, indices: [...over], groups: over.map(() => 1), shape: over.map((v) => ranges[v]!), body, ranges: Object.fromEntries(Object.entries(ranges).filter(([v]) => used.has(v))) });
  };
  const score = at(form.score, indices);
  const value = at(form.value, [...indices, ...form.cols]);
  const scale = at(form.scale, def.indices);
  const blocks = Math.ceil(form.extent / ONLINE_SOFTMAX_BLOCK);
  return score + rows * form.extent * 4 + rows * blocks * 3 + value + rows * form.extent * cols * 2 + rows * cols * blocks + scale + rows * cols;
}

/** Whether `e` is built from constants and elementwise operators only. */
function isConstant(e: Expr): boolean {
  switch (e.kind) {
    case "const": return true;
    case "unary": return isConstant(e.arg);
    case "binary": return isConstant(e.lhs) && isConstant(e.rhs);
    case "select": return isConstant(e.cond) && isConstant(e.then) && isConstant(e.else);
    default: return false;
  }
}

/** `sum_j sum_k x` as one reduction over `j, k`: the backends run directly nested reductions of one operator as one loop nest. */
function mergeNested(e: Expr & { kind: "reduce" }): { vars: string[]; body: Expr } {
  const vars = [...e.vars];
  let body = e.body;
  while (body.kind === "reduce" && body.op === e.op) {
    vars.push(...body.vars);
    body = body.body;
  }
  return { vars, body };
}
