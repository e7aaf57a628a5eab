/**
 * eliminate-common-subexpressions: computes each value once.
 *
 * 1. Inside a def, a reduction that occurs more than once (up to the names of
 *    its own variables) and depends only on the def's output indices is
 *    hoisted into a new def `<def>_r<k>`, read back by an access.
 * 2. Defs that compute the same values (same body up to renaming of index
 *    variables, same dtype, shape, grouping and extents) are merged: later
 *    accesses read the first one. An output is never dropped: a duplicate
 *    that is an output becomes a copy of the first def.
 *
 * Runs best after canonicalize, which makes equal computations look equal.
 *
 * Before:
 *
 *     input X[4, 3]
 *     A[i] = sum(j) X[i, j]
 *     B[k] = sum(l) X[k, l]
 *     output Y[i] = A[i] / (sum(j) X[i, j] + sum(m) X[i, m])
 *     output Z[i] = B[i] * 2
 *
 * After:
 *
 *     input X[4, 3]
 *     A[i] = sum(j) X[i, j]
 *     output Y[i] = A[i] / (A[i] + A[i])
 *     output Z[i] = A[i] * 2
 */
import type { Affine, DefNode, Expr, Program, Reduce, TensorNode } from "../ir/types.js";
import { access, affine, partDtype } from "../ir/types.js";
import { boundVars, exprKey, exprSize, freeVars, renameTensors, renameVars, visitExpr, mapGatherValues } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";
import { readsTensor } from "../ir/recurrence.js";

/**
 * The eliminate-common-subexpressions pass.
 *
 * @example
 * ```ts
 * eliminateCommonSubexpressions.run(program); // duplicate defs merged
 * ```
 */
export const eliminateCommonSubexpressions: Pass = {
  name: "eliminate-common-subexpressions",
  description: "merge defs that compute the same values and hoist repeated reductions",
  requires: [PROPERTIES.noCalls],
  guarantees: [PROPERTIES.cse],
  // Not `folded`: `where(c, T[i], U[i])` with U merged into T folds further.
  preserves: [PROPERTIES.noCalls],
  run: eliminateCommonSubexpressionsIn,
};

/**
 * Returns `program` with repeated reductions hoisted and duplicate defs merged.
 *
 * @example
 * ```ts
 * const p = parseProgramText(
 *   "input A: f32[2]\nT: f32[2] = [i:2] exp(A[i])\nU: f32[2] = [j:2] exp(A[j])\noutput Y: f32[2] = [i:2] T[i] + U[i]\n",
 * );
 * printProgram(eliminateCommonSubexpressionsIn(p)); // ...output Y: f32[2] = [i:2] T[i] + T[i]
 * ```
 */
export function eliminateCommonSubexpressionsIn(program: Program): Program {
  const taken = new Set(program.tensors.map((t) => t.name));
  const firstWithKey = new Map<string, DefNode>();
  const redirect = new Map<string, string>();
  const tensors: TensorNode[] = [];
  for (const t of program.tensors) {
    const node = renameTensors(t, redirect);
    if (node.role !== "def") {
      tensors.push(node);
      continue;
    }
    for (const hoistedOrNode of hoistRepeatedReductions(node, taken)) {
      // A hoisted def merged away just before must be renamed in its reader too.
      const def = renameTensors(hoistedOrNode, redirect) as DefNode;
      const key = defKey(def);
      const first = firstWithKey.get(key);
      if (first === undefined) {
        firstWithKey.set(key, def);
        tensors.push(def);
      } else if (def.output) {
        tensors.push(copyOf(def, first));
      } else {
        redirect.set(def.name, first.name);
      }
    }
  }
  return { ...program, tensors };
}

/**
 * A key equal for two defs exactly when they compute the same values the same
 * way: index variables renamed by position, bound ones by order of binding.
 */
function defKey(def: DefNode): string {
  const names = new Map<string, string>();
  def.indices.forEach((v, k) => names.set(v, `%o${k}`));
  boundVars(def.body).forEach((v, k) => names.set(v, `%r${k}`));
  const ranges = [...names].map(([v, n]) => `${n}=${def.ranges[v]}`).join(",");
  // A recurrence reads itself: its key names it, so it never equals another def.
  const recurrence = def.recurrence === undefined ? "" : `recur ${def.name}|`;
  return `${recurrence}${def.dtype}|${def.shape.join("x")}|${def.groups.join(",")}|${ranges}|${exprKey(renameVars(def.body, names))}`;
}

/** `dup` (an output equal to `first`) as a copy of `first`, index for index. */
function copyOf(dup: DefNode, first: DefNode): DefNode {
  const index = groupedIndex(dup.indices, dup.groups, dup.ranges);
  // A copy is no longer a scatter-add (invariant 10), whatever `dup` was.
  const { scatter: _scatter, ...plain } = dup;
  return { ...plain, body: access(first.name, index), ranges: Object.fromEntries(dup.indices.map((v) => [v, dup.ranges[v]!])) };
}

/** One affine index per dimension: a group `(a, b)` is `a * |b| + b`, row-major. */
function groupedIndex(indices: readonly string[], groups: readonly number[], ranges: Readonly<Record<string, number>>): Affine[] {
  const out: Affine[] = [];
  let k = 0;
  for (const size of groups) {
    const vars = indices.slice(k, k + size);
    k += size;
    let stride = 1;
    const terms = vars.reverse().map((v) => {
      const term = { var: v, coef: stride };
      stride *= ranges[v]!;
      return term;
    });
    out.push(affine(terms));
  }
  return out;
}

/**
 * `def` preceded by one new def per reduction that occurs at least twice in
 * its body and uses only output indices; the occurrences become accesses.
 */
function hoistRepeatedReductions(def: DefNode, taken: Set<string>): DefNode[] {
  const hoisted: DefNode[] = [];
  let body = def.body;
  for (;;) {
    const repeated = largestRepeatedReduction(body, new Set(def.indices), def.ranges, def.name);
    if (repeated === undefined) break;
    const name = freshName(`${def.name}_r${hoisted.length}`, taken);
    const indices = def.indices.filter((v) => freeVars(repeated).has(v));
    const ranges: Record<string, number> = {};
    for (const v of [...indices, ...boundVars(repeated)]) ranges[v] = def.ranges[v]!;
    hoisted.push({
      role: "def", name, dtype: partDtype(def.dtype), output: false,
      shape: indices.map((v) => def.ranges[v]!), groups: indices.map(() => 1),
      indices, ranges, body: repeated,
    });
    const key = reductionKey(repeated, def.ranges);
    body = replaceReductions(body, key, def.ranges, access(name, indices));
  }
  if (hoisted.length === 0) return [def];
  const keep = new Set([...def.indices, ...boundVars(body)]);
  const ranges = Object.fromEntries(Object.entries(def.ranges).filter(([v]) => keep.has(v)));
  return [...hoisted, { ...def, body, ranges }];
}

/** The largest reduction of `body` occurring at least twice whose free variables are all in `outer` and that does not read `self`. */
function largestRepeatedReduction(body: Expr, outer: ReadonlySet<string>, ranges: Readonly<Record<string, number>>, self: string): Reduce | undefined {
  const seen = new Map<string, { expr: Reduce; count: number }>();
  visitExpr(body, (x) => {
    if (x.kind !== "reduce" || ![...freeVars(x)].every((v) => outer.has(v))) return;
    // A recurrence's self-read stays in the recurrence (invariant 8).
    if (readsTensor(x, self)) return;
    const key = reductionKey(x, ranges);
    const entry = seen.get(key);
    if (entry === undefined) seen.set(key, { expr: x, count: 1 });
    else entry.count++;
  });
  let best: Reduce | undefined;
  for (const { expr, count } of seen.values()) if (count >= 2 && (best === undefined || exprSize(expr) > exprSize(best))) best = expr;
  return best;
}

/** A key of a reduction up to the names of the variables it binds (extents included). */
function reductionKey(e: Reduce, ranges: Readonly<Record<string, number>>): string {
  const names = new Map(boundVars(e).map((v, k) => [v, `%b${k}`]));
  return `${boundVars(e).map((v) => ranges[v]).join(",")}|${exprKey(renameVars(e, names))}`;
}

/** `e` with every reduction of key `key` replaced by `by`. */
function replaceReductions(e: Expr, key: string, ranges: Readonly<Record<string, number>>, by: Expr): Expr {
  if (e.kind === "reduce" && reductionKey(e, ranges) === key) return by;
  switch (e.kind) {
    case "const": case "index": case "access": return e;
    case "gather": return mapGatherValues(e, (v) => replaceReductions(v, key, ranges, by));
    case "unary": return { ...e, arg: replaceReductions(e.arg, key, ranges, by) };
    case "binary": return { ...e, lhs: replaceReductions(e.lhs, key, ranges, by), rhs: replaceReductions(e.rhs, key, ranges, by) };
    case "select": return { ...e, cond: replaceReductions(e.cond, key, ranges, by), then: replaceReductions(e.then, key, ranges, by), else: replaceReductions(e.else, key, ranges, by) };
    case "reduce": return { ...e, body: replaceReductions(e.body, key, ranges, by) };
  }
}

function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}
