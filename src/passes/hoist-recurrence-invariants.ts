/**
 * hoist-recurrence-invariants: moves the work of a recurrence that does not
 * read the recurrence out of its sequential steps, into ordinary defs
 * computed once for all steps. A reduction there (an RNN's input projection
 * `X·W`) becomes a plain matrix product that the later passes and the
 * backends' fast kernels handle like any other; what stays in the steps is
 * the part that must wait for the previous step (`Hs[t - 1]·U`, one
 * matrix-vector product per step).
 *
 * A subexpression is hoisted when it contains a reduction, does not read the
 * recurrence, uses only the recurrence's output indices freely, and reads
 * every tensor in bounds over the whole iteration space (a read that is in
 * bounds only under a `where` stays where its guard is). The new def is
 * indexed by the output indices it uses, in the recurrence's order, and
 * named `<def>_h<k>`. Then, in each sum that reads the recurrence, a
 * matrix read along its first index (`U[k, j]` summed over k) is replaced
 * by a transposed copy made once (`U_T[j, k]`), so every step's
 * matrix-vector product reads memory in order and vectorizes.
 *
 * Before:
 *
 *     output Hs[t, j] = recur(t) tanh(sum(k) X[t, k] * W[k, j]
 *                         + where(t > 0, sum(k_1) Hs[t - 1, k_1] * U[k_1, j], sum(k_2) h0[k_2] * U[k_2, j]))
 *
 * After:
 *
 *     Hs_h0[j] = sum(k_2) h0[k_2] * U[k_2, j]
 *     Hs_h1[t, j] = sum(k) X[t, k] * W[k, j]
 *     U_T[a1, a0] = U[a0, a1]
 *     output Hs[t, j] = recur(t) tanh(where(t > 0, sum(k_1) Hs[t - 1, k_1] * U_T[j, k_1], Hs_h0[j]) + Hs_h1[t, j])
 */
import type { DefNode, DType, Expr, Program, TensorNode } from "../ir/types.js";
import { access, affineVar, isPlainVar } from "../ir/types.js";
import { readsTensor } from "../ir/recurrence.js";
import { affineBounds } from "../ir/verify.js";
import { boundVars, children, exprKey, freeVars } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";
import { freshName } from "./rewrite/rules/program-helpers.js";

/**
 * The hoist-recurrence-invariants pass.
 *
 * @example
 * ```ts
 * hoistRecurrenceInvariants.run(rnn); // the input projection becomes a def of its own
 * ```
 */
export const hoistRecurrenceInvariants: Pass = {
  name: "hoist-recurrence-invariants",
  description: "move a recurrence's reductions that do not read it out of its sequential steps",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noGrads, PROPERTIES.noDeadCode],
  run: hoistRecurrenceInvariantsIn,
};

/**
 * Returns `program` with the step-invariant reductions of its recurrences as
 * defs of their own (itself when there are none).
 *
 * @example
 * ```ts
 * printProgram(hoistRecurrenceInvariantsIn(rnn)); // Hs_h0[t, j] = sum(k) X[t, k] * W[k, j] ...
 * ```
 */
export function hoistRecurrenceInvariantsIn(program: Program): Program {
  if (!program.tensors.some((t) => t.role === "def" && t.recurrence !== undefined)) return program;
  const taken = new Set(program.tensors.map((t) => t.name));
  const shapes = new Map(program.tensors.map((t) => [t.name, t.shape]));
  const types = new Map(program.tensors.map((t) => [t.name, t.dtype]));
  const tensors: TensorNode[] = [];
  let changed = false;
  for (const t of program.tensors) {
    if (t.role !== "def" || t.recurrence === undefined) {
      tensors.push(t);
      continue;
    }
    const added = hoistFrom(t, shapes, types, taken);
    if (added.length > 1) changed = true;
    tensors.push(...added);
  }
  return changed ? { ...program, tensors } : program;
}

/** Whether every access of `e` is in bounds over the whole box of `ranges`. */
function inBounds(e: Expr, ranges: Readonly<Record<string, number>>, shapes: ReadonlyMap<string, readonly number[]>): boolean {
  if (e.kind === "access") {
    const shape = shapes.get(e.tensor);
    if (shape === undefined) return false;
    return e.index.every((a, k) => {
      const { min, max } = affineBounds(a, ranges);
      return min >= 0 && max <= shape[k]! - 1;
    });
  }
  return children(e).every((c) => inBounds(c, ranges, shapes));
}

/**
 * In each sum that reads the recurrence (the work of one step), a read of
 * another tensor with plain indices whose summed index is not its last is
 * made contiguous: `U[k, j]` summed over k becomes `U_T[j, k]`, a transposed
 * copy made once, so each step's matrix-vector product walks memory in
 * order (and a SIMD backend vectorizes it).
 */
function contiguousSteps(e: Expr, self: string, transpose: (a: Extract<Expr, { kind: "access" }>, order: readonly number[]) => Expr): Expr {
  const visit = (x: Expr, summed: ReadonlySet<string>): Expr => {
    switch (x.kind) {
      case "access": {
        if (x.tensor === self || summed.size === 0 || x.index.length < 2 || !x.index.every(isPlainVar)) return x;
        const vars = x.index.map((a) => a.terms[0]!.var);
        if (summed.has(vars[vars.length - 1]!) || !vars.some((v) => summed.has(v)) || new Set(vars).size !== vars.length) return x;
        const order = [...vars.keys()].sort((a, b) => Number(summed.has(vars[a]!)) - Number(summed.has(vars[b]!)) || a - b);
        return transpose(x, order);
      }
      case "reduce": {
        const inner = x.op === "sum" && readsTensor(x, self) ? new Set([...summed, ...x.vars]) : summed;
        const body = visit(x.body, inner);
        return body === x.body ? x : { ...x, body };
      }
      case "unary": {
        const arg = visit(x.arg, summed);
        return arg === x.arg ? x : { ...x, arg };
      }
      case "binary": {
        const lhs = visit(x.lhs, summed);
        const rhs = visit(x.rhs, summed);
        return lhs === x.lhs && rhs === x.rhs ? x : { ...x, lhs, rhs };
      }
      case "select": {
        const cond = visit(x.cond, summed);
        const then = visit(x.then, summed);
        const otherwise = visit(x.else, summed);
        return cond === x.cond && then === x.then && otherwise === x.else ? x : { ...x, cond, then, else: otherwise };
      }
      default:
        return x;
    }
  };
  return visit(e, new Set());
}

const hasReduce = (e: Expr): boolean => e.kind === "reduce" || children(e).some(hasReduce);

/** The recurrence preceded by its hoisted defs. */
function hoistFrom(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>, tensorType: ReadonlyMap<string, DType>, taken: Set<string>): TensorNode[] {
  const outputs = new Set(def.indices);
  const made = new Map<string, Expr>();
  const before: DefNode[] = [];
  const dtype: DType = def.dtype === "f64" ? "f64" : "f32";
  const hoistable = (e: Expr): boolean =>
    hasReduce(e) && !readsTensor(e, def.name) && [...freeVars(e)].every((v) => outputs.has(v)) && inBounds(e, def.ranges, shapes);
  const rewrite = (e: Expr): Expr => {
    if (hoistable(e)) {
      const key = exprKey(e);
      const known = made.get(key);
      if (known !== undefined) return known;
      const used = freeVars(e);
      const indices = def.indices.filter((v) => used.has(v));
      const name = freshName(`${def.name}_h${before.length}`, taken);
      taken.add(name);
      const ranges: Record<string, number> = {};
      for (const v of [...indices, ...boundVars(e)]) ranges[v] = def.ranges[v]!;
      before.push({
        role: "def", name, dtype, output: false, shape: indices.map((v) => def.ranges[v]!),
        indices, groups: indices.map(() => 1), ranges, body: e,
      });
      const ref = access(name, indices.map(affineVar));
      made.set(key, ref);
      return ref;
    }
    switch (e.kind) {
      case "unary": {
        const arg = rewrite(e.arg);
        return arg === e.arg ? e : { ...e, arg };
      }
      case "binary": {
        const lhs = rewrite(e.lhs);
        const rhs = rewrite(e.rhs);
        return lhs === e.lhs && rhs === e.rhs ? e : { ...e, lhs, rhs };
      }
      case "select": {
        const cond = rewrite(e.cond);
        const then = rewrite(e.then);
        const otherwise = rewrite(e.else);
        return cond === e.cond && then === e.then && otherwise === e.else ? e : { ...e, cond, then, else: otherwise };
      }
      default:
        // A reduction that reads the recurrence stays whole: its body runs per step.
        return e;
    }
  };
  const transposed = new Map<string, string>();
  const transpose = (a: Extract<Expr, { kind: "access" }>, order: readonly number[]): Expr => {
    const key = `${a.tensor}|${order.join(",")}`;
    let name = transposed.get(key);
    if (name === undefined) {
      const shape = shapes.get(a.tensor)!;
      name = freshName(`${a.tensor}_T`, taken);
      taken.add(name);
      transposed.set(key, name);
      const vars = shape.map((_, k) => `a${k}`);
      const indices = order.map((k) => vars[k]!);
      before.push({
        role: "def", name, dtype: tensorType.get(a.tensor) ?? "f32", output: false, shape: order.map((k) => shape[k]!),
        indices, groups: indices.map(() => 1), ranges: Object.fromEntries(vars.map((v, k) => [v, shape[k]!])), body: access(a.tensor, vars),
      });
    }
    return access(name, order.map((k) => a.index[k]!));
  };
  const body = contiguousSteps(rewrite(def.body), def.name, transpose);
  if (body === def.body) return [def];
  const keep = new Set([...def.indices, ...boundVars(body)]);
  const ranges = Object.fromEntries(Object.entries(def.ranges).filter(([v]) => keep.has(v)));
  return [...before, { ...def, body, ranges }];
}
