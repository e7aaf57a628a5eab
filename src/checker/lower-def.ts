/**
 * Lowers one definition to IR nodes: the left side's indices and groups, the
 * right side (lower-expr.ts), the Einstein rule, range inference and bounds
 * (ranges.ts), the shape and element type.
 *
 *     S[i, j] = Q[i, k] * K[j, k] / sqrt(d)          Q, K: [256, 64], d = 64
 *     ->  def S [256, 256] f32  ranges {i: 256, j: 256, k: 64}
 *         body  sum_{k} ((Q[i, k] * K[j, k]) / sqrt(64))
 *
 * A tensor-level definition `P = softmax(S)` becomes a call node instead.
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import * as ir from "../ir/types.js";
import { freeVars, lowerValue, type DefState } from "./lower-expr.js";
import { inferRanges, type AccessUse } from "./ranges.js";
import { checkElementCount } from "./sizes.js";
import { isGradCall, lowerGrad } from "./grad.js";
import type { Graph } from "./scope.js";
import { DiagnosticBag as Bag } from "../diagnostics/diagnostic.js";
import { checkNoMutualRecurrence, readsItself, sequentialIndex, withoutSelfReads, withoutSequentialDims } from "./recurrence.js";

/**
 * Lowers a definition into `graph` (temporaries first, then the node) and
 * registers its tensor. Returns false when an error was reported.
 *
 * @example
 * ```ts
 * lowerDef(defAst, graph, diags, { inFunction: false }); // graph.nodes gains "S"
 * ```
 */
export function lowerDef(def: ast.Def, graph: Graph, diags: DiagnosticBag, opts: { inFunction: boolean }): boolean {
  if (lowerDefInner(def, graph, diags, opts)) return true;
  graph.broken.add(def.name.name);
  return false;
}

function lowerDefInner(def: ast.Def, graph: Graph, diags: DiagnosticBag, opts: { inFunction: boolean }): boolean {
  const output = def.output && !opts.inFunction;
  if (def.indices === null && def.rhs.kind === "call" && graph.fns.has(def.rhs.callee.name)) {
    const lowered = graph.lowerCall(def.rhs, graph);
    if (lowered === null) return false;
    graph.nodes.push({ role: "call", name: def.name.name, dtype: lowered.dtype, shape: lowered.shape, output, fn: lowered.fn, args: lowered.args });
    graph.tensors.set(def.name.name, { name: def.name.name, shape: lowered.shape, dtype: lowered.dtype, span: def.name.span });
    return true;
  }
  if (def.indices === null && def.rhs.kind === "call" && isGradCall(def.rhs, graph)) {
    return lowerGrad(def.rhs, graph, diags, def.name.name, output) !== null;
  }
  const slots = def.indices ?? [];

  // Left side: distinct index names that do not shadow sizes or tensors.
  const lhs: string[] = [];
  const lhsSpans = new Map<string, Span>();
  const groups: number[] = [];
  let ok = true;
  for (const slot of slots) {
    const names = slot.kind === "var" ? [slot.name] : slot.vars;
    groups.push(names.length);
    for (const n of names) {
      const clash = graph.sizes.has(n.name) ? "size" : graph.tensors.has(n.name) || graph.pending.has(n.name) || n.name === def.name.name ? "tensor" : null;
      if (clash !== null || n.name === "inf") {
        diags.error("TNS0210", `index '${n.name}' has the name of a ${clash ?? "constant"}`, n.span, {
          hint: "pick another index name; on the right it would mean the " + (clash ?? "constant"),
        });
        ok = false;
      } else if (lhsSpans.has(n.name)) {
        diags.error("TNS0205", `index '${n.name}' appears twice on the left`, n.span, {
          notes: [{ message: "first use", span: lhsSpans.get(n.name)! }],
          hint: "a diagonal is written on the right: D[i] = A[i, i]",
        });
        ok = false;
      } else {
        lhsSpans.set(n.name, n.span);
        lhs.push(n.name);
      }
    }
  }

  if (!checkNoMutualRecurrence(def, graph.pending, graph.readsOf, diags)) return false;
  const self = def.name.name;
  if (!readsItself(def)) return pushDef(def, lowerRhs(def.name, def.rhs, lhs, lhsSpans, groups, ok, graph, diags, null), graph, output);
  if (groups.some((g) => g !== 1)) {
    diags.error("TNS0242", `recurrence '${self}' groups indices on its left side`, def.name.span, {
      hint: "write a recurrence with one index per dimension; view it grouped in a later definition",
    });
    return false;
  }
  // First its shape, from the right side without the self-reads; then the real lowering, the tensor visible to itself.
  const firstBag = new Bag();
  // The first lowering leaves nothing behind: temporaries it made (an indexed call's) are made again by the second.
  const mark = graph.nodes.length;
  const known = new Set(graph.tensors.keys());
  const shapeOnly = lowerRhs(def.name, withoutSelfReads(def.rhs, self), lhs, lhsSpans, groups, ok, graph, firstBag, null);
  graph.nodes.length = mark;
  for (const name of [...graph.tensors.keys()]) if (!known.has(name)) graph.tensors.delete(name);
  if (shapeOnly === null) {
    // Report the errors of the real right side (self-reads quiet), or, when it has none, those that stopped the first lowering.
    graph.broken.add(self);
    const bag = new Bag();
    lowerRhs(def.name, def.rhs, lhs, lhsSpans, groups, ok, graph, bag, null);
    graph.broken.delete(self);
    diags.absorb(bag.hasErrors ? bag : firstBag);
    return false;
  }
  graph.tensors.set(self, { name: self, shape: shapeOnly.shape, dtype: shapeOnly.dtype, span: def.name.span });
  let node: ir.DefNode | null;
  try {
    node = lowerRhs(def.name, def.rhs, lhs, lhsSpans, groups, ok, graph, diags, self);
  } finally {
    graph.tensors.delete(self);
  }
  return pushDef(def, node, graph, output);
}

function pushDef(def: ast.Def, node: ir.DefNode | null, graph: Graph, output: boolean): boolean {
  if (node === null) return false;
  graph.nodes.push({ ...node, output });
  graph.tensors.set(def.name.name, { name: def.name.name, shape: node.shape, dtype: node.dtype, span: def.name.span });
  return true;
}

/**
 * Lowers a right side for the left side `lhs`: the Einstein rule, range
 * inference, the shape. `self` names the def when it is a recurrence (its
 * self-reads are checked and its sequential index recorded).
 */
function lowerRhs(
  name: ast.Name, rhs: ast.Expr, lhs: readonly string[], lhsSpans: ReadonlyMap<string, Span>, groups: readonly number[], okSoFar: boolean,
  graph: Graph, diags: DiagnosticBag, self: string | null,
): ir.DefNode | null {
  let ok = okSoFar;
  const free = freeVars(rhs, new Set(), graph);
  const state: DefState = {
    graph, diags, lhs: new Set(lhs), used: new Set([...lhs, ...free.keys()]), vars: [], occurs: new Set(),
    uses: [], pending: new Map(), dtypes: [], shadowedLhs: new Set(), quietLhs: new Set(),
  };
  for (const v of lhs) state.vars.push({ name: v, display: v, span: lhsSpans.get(v)! });
  const implicit = [...free.keys()].filter((v) => !lhsSpans.has(v));
  const summed = { op: "sum", vars: implicit, explicit: false };
  for (const v of implicit) state.vars.push({ name: v, display: v, span: free.get(v)!, reduction: summed });
  const env = new Map<string, string>([...lhs, ...implicit].map((v) => [v, v]));

  const lowered = lowerValue(rhs, env, state);
  for (const v of lhs) {
    if (free.has(v) || state.quietLhs.has(v)) continue;
    diags.error("TNS0203", `index '${v}' is on the left but not used on the right`, lhsSpans.get(v)!, {
      hint: state.shadowedLhs.has(v)
        ? `the '${v}' inside the reduction is its own variable, not this one; use '${v}' outside it, or rename one of them`
        : `broadcasting needs the index on the right: use '${v}' to index some tensor there`,
    });
    ok = false;
  }
  if (!ok || lowered === null) return null;
  let recurrence: string | null = null;
  let uses = state.uses;
  if (self !== null) {
    recurrence = sequentialIndex(self, lhs, lowered, state.pending, diags);
    if (recurrence === null) return null;
    uses = withoutSequentialDims(uses, self, lhs.indexOf(recurrence));
  }
  warnMissingSummedIndex(rhs, implicit, graph, diags);

  // A bounded index needs no use: `sum(t < 4) X[i]` is 4 * X[i].
  for (const v of state.vars) {
    if (!state.occurs.has(v.name) && !lhsSpans.has(v.name) && v.stated === undefined) {
      diags.error("TNS0204", `index '${v.display}' is reduced over but never used`, v.span, { hint: `remove it from the reduction` });
      ok = false;
    }
  }
  if (!ok) return null;
  const ranges = inferRanges(state.vars, uses, diags);
  if (ranges === null) return null;

  const body = fillAccesses(lowered, state.pending, ranges);
  const shape: number[] = [];
  let k = 0;
  for (const g of groups) {
    let extent = 1;
    for (let m = 0; m < g; m++) extent *= ranges.get(lhs[k++]!)!;
    shape.push(extent);
  }
  if (!checkElementCount(shape, name.name, name.span, diags)) return null;
  const dtype: ir.DType = state.dtypes.includes("f64") ? "f64" : "f32";
  return {
    role: "def", name: name.name, dtype, shape, output: false, indices: [...lhs], groups: [...groups],
    ranges: Object.fromEntries(state.vars.map((v) => [v.name, ranges.get(v.name)!])),
    body: implicit.length > 0 ? ir.reduce("sum", implicit, body) : body,
    ...(recurrence === null ? {} : { recurrence }),
  };
}

/** Replaces placeholder accesses with real ones now that group extents are known. */
function fillAccesses(e: ir.Expr, pending: ReadonlyMap<ir.Access, AccessUse>, ranges: ReadonlyMap<string, number>): ir.Expr {
  switch (e.kind) {
    case "const":
    case "index":
      return e;
    case "access": {
      const use = pending.get(e);
      if (use === undefined) return e;
      return ir.access(use.tensor, use.dims.map((d) => {
        if (d.kind === "affine") return d.affine;
        let stride = 1;
        const terms: ir.AffineTerm[] = [];
        for (let m = d.vars.length - 1; m >= 0; m--) {
          terms.push({ var: d.vars[m]!, coef: stride });
          stride *= ranges.get(d.vars[m]!)!;
        }
        return ir.affine(terms, 0);
      }));
    }
    case "unary":
      return ir.unary(e.op, fillAccesses(e.arg, pending, ranges));
    case "binary":
      return ir.binary(e.op, fillAccesses(e.lhs, pending, ranges), fillAccesses(e.rhs, pending, ranges));
    case "select":
      return ir.select(fillAccesses(e.cond, pending, ranges), fillAccesses(e.then, pending, ranges), fillAccesses(e.else, pending, ranges));
    case "reduce":
      return ir.reduce(e.op, e.vars, fillAccesses(e.body, pending, ranges));
  }
}

/** The top-level additive terms of an expression (`a + b - c` -> a, b, c). */
function additiveTerms(e: ast.Expr): ast.Expr[] {
  if (e.kind === "binary" && (e.op === "+" || e.op === "-")) return [...additiveTerms(e.lhs), ...additiveTerms(e.rhs)];
  return [e];
}

/**
 * TNS0211: `A[i] = B[i, j] + C[i]` sums over j the whole right side, so
 * C[i] is added once per j — almost never what was meant.
 */
function warnMissingSummedIndex(rhs: ast.Expr, implicit: readonly string[], graph: Graph, diags: DiagnosticBag): void {
  if (implicit.length === 0) return;
  const terms = additiveTerms(rhs);
  if (terms.length < 2) return;
  for (const term of terms) {
    const inTerm = freeVars(term, new Set(), graph);
    const missing = implicit.filter((v) => !inTerm.has(v));
    if (missing.length === 0) continue;
    const v = missing[0]!;
    diags.warning("TNS0211", `index '${v}' is summed over the whole right side, but this term does not use it: it is added once per value of '${v}'`, term.span, {
      hint: `if only some terms should be summed, write the sum explicitly: sum(${v}) ... + ...`,
    });
    return;
  }
}

