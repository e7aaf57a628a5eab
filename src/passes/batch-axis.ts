/**
 * The batch axis of a program: a dimension of an input (the rows of a
 * training step's `X`) followed through every def that indexes it by one of
 * its own output indices (row-local: row `i` of its output reads only row
 * `i` of what carries the axis) or sums over it (a reduction over the
 * batch: a weight's gradient). It is what slicing a training step by rows
 * of its batch needs to know (docs/optimizer.md, "Half the peak of a
 * training step"): the row-local defs can be computed slice by slice, and
 * the reductions resumed slice by slice (IR invariant 12).
 *
 *     input X[n, d], T[n, c], W[d, h]
 *     H[i, j] = relu(sum(k) X[i, k] * W[k, j])      row-local (i)
 *     dW[k, j] = sum(i) X[i, k] * H[i, j]           reduction over i
 *     L = sum(c, i) T[i, c] * ...                   reduction over i (and c)
 *     W_next[k, j] = W[k, j] - 0.1 * dW[k, j]       untouched
 *
 * Every read of a tensor that carries the axis must index its axis
 * dimension by the def's variable exactly (no offset, stride or gather),
 * and the variable may appear nowhere else; a row-local def must not
 * depend on a reduction over the axis (a batch normalization reads the
 * whole batch's mean in every row: two passes over the batch). Anything
 * else refuses the axis, with the reason.
 */
import type { Affine, DefNode, Expr, Program } from "../ir/types.js";
import { accessedTensors, visitExpr } from "../ir/walk.js";

/** What a def is with respect to the batch axis. */
export type BatchRole =
  /** Its output carries the axis at `dim` (output index `var`); it reads only that row of what carries it. */
  | { readonly kind: "row-local"; readonly var: string; readonly dim: number }
  /**
   * It sums over the axis (index `var`); `alone` when that sum is over the
   * axis only (`sum(i) term`, possibly under an elementwise epilogue), the
   * form a resumed sum can continue slice by slice.
   */
  | { readonly kind: "reduction"; readonly var: string; readonly alone: boolean }
  /** It reads nothing that carries the axis. */
  | { readonly kind: "untouched" };

/** A program's batch axis, or why it has none. */
export type BatchAxis =
  | {
    readonly ok: true;
    readonly extent: number;
    /** The dimension that carries the axis, for every tensor that does (inputs and row-local defs). */
    readonly dims: ReadonlyMap<string, number>;
    /** The role of every def. */
    readonly roles: ReadonlyMap<string, BatchRole>;
  }
  | { readonly ok: false; readonly reason: string };

/**
 * The batch axis that starts at dimension `dim` of input `input`.
 *
 * @example
 * ```ts
 * const axis = findBatchAxis(program, "X", 0);
 * axis.ok && axis.roles.get("H"); // { kind: "row-local", var: "i", dim: 0 }
 * ```
 */
export function findBatchAxis(program: Program, input: string, dim: number): BatchAxis {
  const seed = program.tensors.find((t) => t.name === input);
  if (seed === undefined || seed.role !== "input") return { ok: false, reason: `'${input}' is not an input` };
  const extent = seed.shape[dim];
  if (extent === undefined) return { ok: false, reason: `'${input}' has no dimension ${dim}` };
  return scan(program, axisDims(program, input, dim), extent);
}

/**
 * Every tensor dimension on the axis: dimensions read by the same variable
 * of a def (exactly, as `X[i, k]` reads its first by `i`) are one, and a
 * def's output dimension is one with what its variable reads. The axis is
 * the class of `input`'s dimension `dim`.
 */
function axisDims(program: Program, input: string, dim: number): Map<string, number> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string): void => { parent.set(find(a), find(b)); };
  const key = (tensor: string, d: number): string => `${tensor}\u0000${d}`;
  for (const t of program.tensors) {
    if (t.role !== "def") continue;
    const own = (v: string): string => {
      const out = t.indices.indexOf(v);
      return out >= 0 && t.groups.every((g) => g === 1) ? key(t.name, out) : `${t.name}\u0001${v}`;
    };
    visitExpr(t.body, (e) => {
      if (e.kind !== "access") return;
      e.index.forEach((a, d) => {
        const v = exactVar(a);
        if (v !== null) union(key(e.tensor, d), own(v));
      });
    });
  }
  const axis = find(key(input, dim));
  const dims = new Map<string, number>();
  for (const t of program.tensors) t.shape.forEach((_, d) => { if (!dims.has(t.name) && find(key(t.name, d)) === axis) dims.set(t.name, d); });
  return dims;
}

/** The role of every def, given the dimension on the axis of every tensor (`axisDims`). */
function scan(program: Program, dims: ReadonlyMap<string, number>, extent: number): BatchAxis {
  const roles = new Map<string, BatchRole>();
  for (const t of program.tensors) {
    const d = dims.get(t.name);
    if (d !== undefined && t.shape[d] !== extent) return { ok: false, reason: `'${t.name}' reads the batch axis over ${t.shape[d]} rows, not all ${extent}` };
  }
  /** Defs that depend on a reduction over the axis, directly or not. */
  const afterReduction = new Set<string>();
  for (const t of program.tensors) {
    if (t.role === "input" || t.role === "weight") continue;
    if (t.role !== "def") return { ok: false, reason: `'${t.name}' is a ${t.role} node` };
    const reads = accessedTensors(t.body);
    const carried = exactAxisVars(t, dims);
    if (carried === null) return { ok: false, reason: `'${t.name}' reads the batch axis other than by a variable of its own` };
    if ([...reads].some((r) => afterReduction.has(r) || roles.get(r)?.kind === "reduction")) afterReduction.add(t.name);
    if (carried.size === 0) {
      roles.set(t.name, { kind: "untouched" });
      continue;
    }
    if (carried.size > 1) return { ok: false, reason: `'${t.name}' reads the batch axis by two variables (${[...carried].join(", ")})` };
    const v = [...carried][0]!;
    if (t.ranges[v] !== extent) return { ok: false, reason: `'${t.name}' reads ${t.ranges[v]} rows of the batch axis, not all ${extent}` };
    if (!onlyAtAxis(t, v, dims)) return { ok: false, reason: `'${t.name}' uses the batch index '${v}' other than to read the batch axis` };
    const out = t.indices.indexOf(v);
    if (out >= 0) {
      if (t.groups.some((g) => g !== 1)) return { ok: false, reason: `'${t.name}' carries the batch axis in a grouped dimension` };
      if (t.recurrence !== undefined || t.scatter !== undefined) return { ok: false, reason: `'${t.name}' is a recurrence or a scatter-add` };
      if (afterReduction.has(t.name)) return { ok: false, reason: `'${t.name}' is computed per row from a sum over the whole batch` };
      if (dims.get(t.name) !== out) return { ok: false, reason: `'${t.name}' carries the batch axis in more than one dimension` };
      roles.set(t.name, { kind: "row-local", var: v, dim: out });
    } else {
      roles.set(t.name, { kind: "reduction", var: v, alone: sumsAlone(t.body, v) });
    }
  }
  return { ok: true, extent, dims, roles };
}

/** An affine form that is exactly one variable (coefficient 1, no constant), or null. */
function exactVar(a: Affine): string | null {
  return a.constant === 0 && a.terms.length === 1 && a.terms[0]!.coef === 1 ? a.terms[0]!.var : null;
}

/** The variables by which `t` indexes the axis dimension of the tensors that carry it; null when one read is not exact. */
function exactAxisVars(t: DefNode, dims: ReadonlyMap<string, number>): Set<string> | null {
  const vars = new Set<string>();
  let exact = true;
  visitExpr(t.body, (e) => {
    if (e.kind === "gather" && dims.has(e.tensor)) exact = false;
    if (e.kind !== "access" || !dims.has(e.tensor)) return;
    const v = exactVar(e.index[dims.get(e.tensor)!]!);
    if (v === null || e.guarded === true) exact = false;
    else vars.add(v);
  });
  return exact ? vars : null;
}

/** Whether `v` appears in `t`'s body only as the exact index of an axis dimension. */
function onlyAtAxis(t: DefNode, v: string, dims: ReadonlyMap<string, number>): boolean {
  let ok = true;
  visitExpr(t.body, (e) => {
    if (e.kind === "index" && e.var === v) ok = false;
    if (e.kind === "gather" && e.index.some((g) => g.affine.terms.some((x) => x.var === v))) ok = false;
    if (e.kind !== "access") return;
    e.index.forEach((a, k) => {
      const atAxis = dims.get(e.tensor) === k && exactVar(a) === v;
      if (!atAxis && a.terms.some((x) => x.var === v)) ok = false;
    });
  });
  return ok;
}

/** Whether the body sums over `v` in a `sum` of `v` alone, and nowhere else reads the axis (an epilogue around it may not). */
function sumsAlone(body: Expr, v: string): boolean {
  let found = 0;
  let alone = false;
  visitExpr(body, (e) => {
    if (e.kind !== "reduce" || !e.vars.includes(v)) return;
    found++;
    alone = e.op === "sum" && e.vars.length === 1;
  });
  return found === 1 && alone;
}
