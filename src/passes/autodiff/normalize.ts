/**
 * Puts the defs a gradient flows through into the form the adjoint rules
 * take: a body is either reduction-free, or one reduction at the top whose
 * body is reduction-free; the body of a `max`/`min` reduction is a single
 * access. Nested reductions and non-trivial max/min bodies move into defs of
 * their own, indexed by the variables they use (an exact rewrite).
 *
 *     Y[i, j] = E[i, j] / sum(j_1) E[i, j_1]
 *     ->  Y_r[i] = sum(j_1) E[i, j_1]
 *         Y[i, j] = E[i, j] / Y_r[i]
 *
 * Storing a max/min body makes the tie test of its adjoint (`e == M`) compare
 * two stored values, so it holds on a float32 backend exactly as in float64.
 */
import type { DefNode, Expr, TensorNode } from "../../ir/types.js";
import { access, partDtype, reduce } from "../../ir/types.js";
import { boundVars, freeVars, mapGatherValues } from "../../ir/walk.js";

/**
 * `def` and the defs hoisted out of it, in topological order (the def last,
 * under its own name). `fresh` returns unused tensor names.
 *
 * @example
 * ```ts
 * normalizeDef(def, (base) => base + "_2"); // [Y_r, Y]
 * ```
 */
export function normalizeDef(def: DefNode, fresh: (base: string) => string): DefNode[] {
  const hoisted: DefNode[] = [];
  const hoist = (e: Expr, suffix: string): Expr => {
    const vars = orderedFree(e, def);
    const name = fresh(`${def.name}_${suffix}`);
    const node = sub(def, name, vars, e);
    hoisted.push(...normalizeDef(node, fresh));
    return access(name, vars);
  };
  const body = def.body;
  let next: Expr;
  if (body.kind === "reduce") {
    let inner = hoistReductions(body.body, (r) => hoist(r, "r"));
    if ((body.op === "max" || body.op === "min") && inner.kind !== "access") inner = hoist(inner, "e");
    next = inner === body.body ? body : reduce(body.op, body.vars, inner);
  } else {
    next = hoistReductions(body, (r) => hoist(r, "r"));
  }
  if (next === body) return [def];
  const used = new Set([...def.indices, ...boundVars(next)]);
  return [...hoisted, { ...def, body: next, ranges: Object.fromEntries(Object.entries(def.ranges).filter(([v]) => used.has(v))) }];
}

/** Replaces every outermost reduction of `e` by `replace(reduction)` (top-down, so inner ones go with their parent). */
function hoistReductions(e: Expr, replace: (r: Expr) => Expr): Expr {
  return containsReduce(e) ? rebuild(e, replace) : e;
}

function rebuild(e: Expr, replace: (r: Expr) => Expr): Expr {
  switch (e.kind) {
    case "reduce":
      return replace(e);
    case "const":
    case "index":
    case "access":
      return e;
    case "gather":
      return mapGatherValues(e, (v) => rebuild(v, replace));
    case "unary":
      return { ...e, arg: rebuild(e.arg, replace) };
    case "binary":
      return { ...e, lhs: rebuild(e.lhs, replace), rhs: rebuild(e.rhs, replace) };
    case "select":
      return { ...e, cond: rebuild(e.cond, replace), then: rebuild(e.then, replace), else: rebuild(e.else, replace) };
  }
}

function containsReduce(e: Expr): boolean {
  return boundVars(e).length > 0;
}

/** The free variables of `e`, the def's output indices first (in their order), then the others by first use. */
function orderedFree(e: Expr, def: DefNode): string[] {
  const free = freeVars(e);
  return [...def.indices.filter((v) => free.has(v)), ...[...free].filter((v) => !def.indices.includes(v))];
}

/** A def `name[vars] = body` over the ranges of `parent`. */
function sub(parent: DefNode, name: string, vars: readonly string[], body: Expr): DefNode {
  const used = new Set([...vars, ...boundVars(body)]);
  return {
    role: "def", name, dtype: partDtype(parent.dtype), shape: vars.map((v) => parent.ranges[v]!), output: false,
    indices: [...vars], groups: vars.map(() => 1),
    ranges: Object.fromEntries(Object.entries(parent.ranges).filter(([v]) => used.has(v))),
    body,
  };
}

/** Whether a node is a def already in normal form (nothing to hoist). */
export function isNormalDef(t: TensorNode): boolean {
  if (t.role !== "def") return true;
  const b = t.body;
  if (b.kind !== "reduce") return !containsReduce(b);
  if ((b.op === "max" || b.op === "min") && b.body.kind !== "access") return false;
  return !containsReduce(b.body);
}
