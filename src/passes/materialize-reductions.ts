/**
 * materialize-reductions: gives a nested reduction its own def when its value
 * is shared by many points of the enclosing iteration space, that is, when
 * it reads only some of the variables bound where it sits. A backend that
 * computes one output element per thread (WGSL) then reduces once per value
 * instead of once per element that uses it: a row softmax's row sum stops
 * being recomputed by every element of the row.
 *
 * Before:
 *
 *     output O[i, e] = sum(j) E[i, j] * V[j, e] / sum(j_1) E[i, j_1]
 *
 * After:
 *
 *     O_r0[i] = sum(j_1) E[i, j_1]
 *     output O[i, e] = sum(j) E[i, j] * V[j, e] / O_r0[i]
 *
 * The def's top-level reduction (directly nested reductions of the same
 * operator included) stays: it is the def. A reduction that reads every
 * variable bound around it is computed where it is. The new defs are indexed
 * by the reduction's free variables in the order the enclosing def binds
 * them, hold float32 values (float64 in a float64 def) and sit right before
 * the def; they are materialized recursively, so a reduction nested in a
 * materialized one gets the same treatment. The CPU backends do not need it:
 * their loop nests hoist such a reduction into the loop that binds its
 * variables (kernel/lower-def.ts).
 */
import type { DefNode, DType, Expr, Program, TensorNode } from "../ir/types.js";
import { access, affineVar, reduce } from "../ir/types.js";
import { children, exprKey, freeVars } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";
import { readsTensor } from "../ir/recurrence.js";
import { freshName } from "./rewrite/rules/program-helpers.js";

/**
 * The materialize-reductions pass.
 *
 * @example
 * ```ts
 * materializeReductions.run(program); // row sums of a softmax become defs of their own
 * ```
 */
export const materializeReductions: Pass = {
  name: "materialize-reductions",
  description: "give nested reductions that read only some of the enclosing variables a def of their own",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noDeadCode],
  run: materializeProgramReductions,
};

/** Returns `program` with its shared nested reductions as defs (itself when there are none). */
export function materializeProgramReductions(program: Program): Program {
  const taken = new Set(program.tensors.map((t) => t.name));
  const tensors: TensorNode[] = [];
  let changed = false;
  for (const t of program.tensors) {
    if (t.role !== "def") {
      tensors.push(t);
      continue;
    }
    const added = materializeDef(t, taken);
    if (added.length > 1) changed = true;
    tensors.push(...added);
  }
  return changed ? { ...program, tensors } : program;
}

/**
 * The def's top-level reduction chain (directly nested reductions of the
 * same operator included): the variables it binds (empty when the body is
 * not a reduction) and what it reduces.
 *
 * @example
 * ```ts
 * topReductionVars(parseExprText("sum(j:3) sum(q:2) V[j, q] * W[q]").expr); // { vars: ["j", "q"], inner: V[j, q] * W[q] }
 * ```
 */
export function topReductionVars(body: Expr): { vars: string[]; inner: Expr } {
  if (body.kind !== "reduce") return { vars: [], inner: body };
  const vars = [...body.vars];
  let inner = body.body;
  while (inner.kind === "reduce" && inner.op === body.op) {
    vars.push(...inner.vars);
    inner = inner.body;
  }
  return { vars, inner };
}

/** `def` preceded by the defs of its shared reductions (and theirs), in dependency order. */
function materializeDef(def: DefNode, taken: Set<string>): TensorNode[] {
  const before: TensorNode[] = [];
  const made = new Map<string, Expr>();
  const order = [...def.indices, ...topReductionVars(def.body).vars];
  const position = (v: string): number => {
    const k = order.indexOf(v);
    return k < 0 ? order.length : k;
  };
  const dtype: DType = def.dtype === "f64" ? "f64" : "f32";

  /** Rewrites `e`, evaluated where `bound` holds, bottom-up; `top` marks the def's own reduction chain. */
  const rewrite = (e: Expr, bound: ReadonlySet<string>, top: boolean): Expr => {
    if (e.kind === "reduce") {
      const inner = new Set([...bound, ...e.vars]);
      const stillTop = top && e.body.kind === "reduce" && e.body.op === e.op;
      const body = rewrite(e.body, inner, stillTop);
      const rebuilt = body === e.body ? e : reduce(e.op, e.vars, body);
      // A reduction reading the recurrence itself stays in it (invariant 8).
      if (top || readsTensor(rebuilt, def.name)) return rebuilt;
      const free = [...freeVars(rebuilt)];
      if (free.length >= bound.size) return rebuilt;
      return sharedReduction(rebuilt, free.sort((a, b) => position(a) - position(b) || (a < b ? -1 : 1)));
    }
    const kids = children(e);
    if (kids.length === 0) return e;
    switch (e.kind) {
      case "unary": {
        const arg = rewrite(e.arg, bound, false);
        return arg === e.arg ? e : { ...e, arg };
      }
      case "binary": {
        const lhs = rewrite(e.lhs, bound, false);
        const rhs = rewrite(e.rhs, bound, false);
        return lhs === e.lhs && rhs === e.rhs ? e : { ...e, lhs, rhs };
      }
      case "select": {
        const cond = rewrite(e.cond, bound, false);
        const then = rewrite(e.then, bound, false);
        const otherwise = rewrite(e.else, bound, false);
        return cond === e.cond && then === e.then && otherwise === e.else ? e : { ...e, cond, then, else: otherwise };
      }
      default:
        return e;
    }
  };

  /** An access of the def that holds `r` (made once per distinct reduction). */
  const sharedReduction = (r: Expr, indices: string[]): Expr => {
    const key = exprKey(r);
    const known = made.get(key);
    if (known) return known;
    const name = freshName(`${def.name}_r${made.size}`, taken);
    taken.add(name);
    const ranges: Record<string, number> = {};
    for (const v of [...indices, ...boundInside(r)]) ranges[v] = def.ranges[v]!;
    const node: DefNode = {
      role: "def", name, dtype, output: false,
      shape: indices.map((v) => def.ranges[v]!), indices, groups: indices.map(() => 1), ranges, body: r,
    };
    before.push(...materializeDef(node, taken));
    const ref = access(name, indices.map(affineVar));
    made.set(key, ref);
    return ref;
  };

  const body = rewrite(def.body, new Set(def.indices), def.body.kind === "reduce");
  if (body === def.body) return [def];
  const ranges: Record<string, number> = {};
  for (const v of [...def.indices, ...boundInside(body)]) ranges[v] = def.ranges[v]!;
  return [...before, { ...def, body, ranges }];
}

/** Every variable a reduction binds, nested ones included. */
function boundInside(e: Expr, out: string[] = []): string[] {
  if (e.kind === "reduce") out.push(...e.vars);
  for (const c of children(e)) boundInside(c, out);
  return out;
}
