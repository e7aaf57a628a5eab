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
import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import * as ir from "../ir/types.js";
import { aliasVar, argExtreme, collectSplits, freeVars, lowerValue, type DefState, type IndexSplit } from "./lower-expr.js";
import { mapGatherValues } from "../ir/walk.js";
import { inferRanges, type AccessUse, type VarUse } from "./ranges.js";
import { checkElementCount, evalPositiveSize } from "./sizes.js";
import { isGradCall, lowerGrad } from "./grad.js";
import type { Graph } from "./scope.js";
import { lowerTopK } from "./lower-topk.js";
import { checkNoMutualRecurrence, children, readsItself, sequentialIndex, withoutSelfReads, withoutSequentialDims } from "./recurrence.js";

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
  if (def.second !== undefined ? lowerTopK(def, graph, diags, opts, lowerDef) : lowerDefInner(def, graph, diags, opts)) return true;
  graph.broken.add(def.name.name);
  if (def.second !== undefined) graph.broken.add(def.second.name.name);
  return false;
}

function lowerDefInner(def: ast.Def, graph: Graph, diags: DiagnosticBag, opts: { inFunction: boolean }): boolean {
  if (def.rhs.kind === "reduce" && def.rhs.op === "topk") {
    diags.error("TNS0234", "topk gives two results, its values and their indices: name both", def.name.span, {
      hint: `write ${def.name.name}[i, r], I[i, r] = topk(r < 4, j) X[i, j]`,
    });
    return false;
  }
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
  const lhsStated = new Map<string, { extent: number; span: Span }>();
  const groups: number[] = [];
  let ok = true;
  for (const slot of slots) {
    const names = slot.kind === "var" ? [slot.name] : slot.vars;
    const extents = slot.kind === "var" ? [slot.extent] : slot.extents;
    groups.push(names.length);
    names.forEach((n, m) => {
      const e = extents[m] ?? null;
      if (e === null) return;
      const extent = statedLhsExtent(e, n.name, slots, diags, graph);
      if (extent === null) ok = false;
      else lhsStated.set(n.name, { extent, span: e.span });
    });
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
  if (!readsItself(def)) return pushDef(def, lowerRhs(def.name, def.rhs, lhs, lhsSpans, lhsStated, groups, ok, graph, diags, null), graph, output);
  if (groups.some((g) => g !== 1)) {
    diags.error("TNS0242", `recurrence '${self}' groups indices on its left side`, def.name.span, {
      hint: "write a recurrence with one index per dimension; view it grouped in a later definition",
    });
    return false;
  }
  // First its shape, from the right side without the self-reads; then the real lowering, the tensor visible to itself.
  const firstBag = new DiagnosticBag();
  // The first lowering leaves nothing behind: temporaries it made (an indexed call's) are made again by the second.
  const mark = graph.nodes.length;
  const known = new Set(graph.tensors.keys());
  const shapeOnly = lowerRhs(def.name, withoutSelfReads(def.rhs, self), lhs, lhsSpans, lhsStated, groups, ok, graph, firstBag, null);
  graph.nodes.length = mark;
  for (const name of [...graph.tensors.keys()]) if (!known.has(name)) graph.tensors.delete(name);
  if (shapeOnly === null) {
    // Report the errors of the real right side (self-reads quiet), or, when it has none, those that stopped the first lowering.
    graph.broken.add(self);
    const bag = new DiagnosticBag();
    lowerRhs(def.name, def.rhs, lhs, lhsSpans, lhsStated, groups, ok, graph, bag, null);
    graph.broken.delete(self);
    diags.absorb(bag.hasErrors ? bag : firstBag);
    return false;
  }
  graph.tensors.set(self, { name: self, shape: shapeOnly.shape, dtype: shapeOnly.dtype, span: def.name.span });
  let node: ir.DefNode | null;
  try {
    node = lowerRhs(def.name, def.rhs, lhs, lhsSpans, lhsStated, groups, ok, graph, diags, self);
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
  name: ast.Name, rhs: ast.Expr, lhs: readonly string[], lhsSpans: ReadonlyMap<string, Span>,
  lhsStated: ReadonlyMap<string, { extent: number; span: Span }>, groups: readonly number[], okSoFar: boolean,
  graph: Graph, diags: DiagnosticBag, self: string | null,
): ir.DefNode | null {
  let ok = okSoFar;
  const free = freeVars(rhs, new Set(), graph);
  const implicitSource = [...free.keys()].filter((v) => !lhsSpans.has(v));
  const used = new Set([...lhs, ...free.keys()]);
  const splits = collectSplits(rhs, new Set([...lhs, ...implicitSource]), graph, diags, used);
  if (splits === null) return null;
  const splitMap = splits ?? new Map<string, IndexSplit & { span: Span }>();
  const state: DefState = {
    graph, diags, lhs: new Set(lhs), used, vars: [], occurs: new Set(),
    uses: [], pending: new Map(), dtypes: [], shadowedLhs: new Set(), quietLhs: new Set(),
    splits: splitMap, compared: [], guards: [],
    gathers: new Map(), argReductions: new Map(), aliases: new Map(),
  };
  // An index split by `/` and `%` is the group (q, r) of its quotient and remainder.
  const expand = (v: string): string[] => {
    const sp = splitMap.get(v);
    return sp === undefined ? [v] : [sp.q, sp.r];
  };
  const pushVar = (v: string, span: Span, extra: Partial<VarUse>): void => {
    const sp = splitMap.get(v);
    const stated = lhsStated.get(v);
    if (sp === undefined) {
      state.vars.push({ name: v, display: v, span, ...(stated !== undefined ? { stated } : {}), ...extra });
      return;
    }
    if (stated !== undefined && stated.extent % sp.k !== 0) {
      diags.error("TNS0216", `index '${v}' is divided by ${sp.k}, so its extent must be a multiple of ${sp.k}, but it is stated as ${stated.extent}`, stated.span, {
        hint: `state an extent that ${sp.k} divides, e.g. ${v} < ${Math.max(sp.k, stated.extent - (stated.extent % sp.k))}`,
      });
      ok = false;
    }
    const q = stated !== undefined ? { stated: { extent: Math.max(1, Math.floor(stated.extent / sp.k)), span: stated.span } } : {};
    state.vars.push({ name: sp.q, display: `${v} / ${sp.k}`, span, bounded: true, ...q, ...extra });
    state.vars.push({ name: sp.r, display: `${v} % ${sp.k}`, span, stated: { extent: sp.k, span: sp.span }, ...extra });
  };
  for (const v of lhs) pushVar(v, lhsSpans.get(v)!, {});
  const implicit = implicitSource.flatMap(expand);
  const summed = { op: "sum", vars: implicit, explicit: false };
  for (const v of implicitSource) pushVar(v, free.get(v)!, { reduction: summed });
  const env = new Map<string, string>([...lhs, ...implicitSource].map((v) => [v, v]));

  const lowered = lowerValue(rhs, env, state);
  for (const v of lhs) {
    // A left index with a stated extent needs no use: the right side is repeated along it (`Up[c, (h, r < 2)] = X[c, h]`).
    if (free.has(v) || state.quietLhs.has(v) || lhsStated.has(v)) continue;
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
    // A step reads earlier steps at affine positions only: a data-dependent one could read a step not yet computed.
    const selfGather = [...state.gathers!.values()].find((g) => g.use.tensor === self);
    if (selfGather !== undefined) {
      diags.error("TNS0231", `recurrence '${self}' reads itself at a data-dependent position`, selfGather.use.span, {
        hint: `read the earlier step at an affine index (${self}[t - 1, ...]) and gather from that in a definition of its own`,
      });
      return null;
    }
    recurrence = sequentialIndex(self, lhs, lowered, state.pending, diags);
    if (recurrence === null) return null;
    uses = withoutSequentialDims(uses, self, lhs.indexOf(recurrence));
  }
  warnMissingSummedIndex(rhs, implicit, graph, diags);
  warnComparedSum(rhs, diags);

  // A bounded index needs no use: `sum(t < 4) X[i]` is 4 * X[i].
  const irLhs = lhs.flatMap(expand);
  for (const v of state.vars) {
    if (!state.occurs.has(v.name) && !irLhs.includes(v.name) && v.stated === undefined) {
      diags.error("TNS0204", `index '${v.display}' is reduced over but never used`, v.span, { hint: `remove it from the reduction` });
      ok = false;
    }
  }
  if (!ok) return null;
  const padded = new Set<AccessUse>();
  const ranges = inferRanges(state.vars, uses, diags, state.compared, padded);
  if (ranges === null) return null;

  const body = fillAccesses(lowered, state, ranges, padded);
  for (const [alias, of] of state.aliases!) ranges.set(alias, ranges.get(of)!);
  const shape: number[] = [];
  const irGroups: number[] = [];
  let k = 0;
  for (const g of groups) {
    let extent = 1;
    let members = 0;
    for (let m = 0; m < g; m++) {
      for (const v of expand(lhs[k++]!)) {
        extent *= ranges.get(v)!;
        members++;
      }
    }
    shape.push(extent);
    irGroups.push(members);
  }
  if (!checkElementCount(shape, name.name, name.span, diags)) return null;
  // An argmax / argmin is an index: the def holding just one is i32.
  const dtype: ir.DType = rhs.kind === "reduce" && (rhs.op === "argmax" || rhs.op === "argmin") ? "i32" : state.dtypes.includes("f64") ? "f64" : "f32";
  return {
    role: "def", name: name.name, dtype, shape, output: false, indices: irLhs, groups: irGroups,
    ranges: Object.fromEntries([...state.vars.map((v) => v.name), ...state.aliases!.keys()].map((v) => [v, ranges.get(v)!])),
    body: implicit.length > 0 ? ir.reduce("sum", implicit, body) : body,
    ...(recurrence === null ? {} : { recurrence }),
  };
}

/**
 * Replaces placeholder accesses and gathers with real ones now that group
 * extents are known, and placeholder argmax / argmin reductions with their
 * IR form (`argExtreme`).
 */
function fillAccesses(e: ir.Expr, state: DefState, ranges: ReadonlyMap<string, number>, padded: ReadonlySet<AccessUse>): ir.Expr {
  const fill = (x: ir.Expr): ir.Expr => fillAccesses(x, state, ranges, padded);
  const dimIndex = (d: AccessUse["dims"][number]): ir.Affine => {
    if (d.kind === "affine") return d.affine;
    let stride = 1;
    const terms: ir.AffineTerm[] = [];
    for (let m = d.vars.length - 1; m >= 0; m--) {
      terms.push({ var: d.vars[m]!, coef: stride });
      stride *= ranges.get(d.vars[m]!)!;
    }
    return ir.affine(terms, 0);
  };
  switch (e.kind) {
    case "const":
    case "index":
      return e;
    case "access": {
      const use = state.pending.get(e);
      if (use === undefined) return e;
      return ir.access(use.tensor, use.dims.map(dimIndex), padded.has(use));
    }
    case "gather": {
      const g = state.gathers?.get(e);
      if (g === undefined) return mapGatherValues(e, fill);
      const index: ir.GatherIndex[] = [];
      g.statics.forEach((position, k) => { index[position] = { affine: dimIndex(g.use.dims[k]!), value: null }; });
      for (const d of g.dynamic) index[d.position] = { affine: ir.affine([]), value: fill(d.value) };
      return ir.gather(e.tensor, index, e.mode);
    }
    case "unary":
      return ir.unary(e.op, fill(e.arg));
    case "binary":
      return ir.binary(e.op, fill(e.lhs), fill(e.rhs));
    case "select":
      return ir.select(fill(e.cond), fill(e.then), fill(e.else));
    case "reduce": {
      const arg = state.argReductions?.get(e);
      const body = fill(e.body);
      return arg === undefined ? ir.reduce(e.op, e.vars, body) : argExtreme(arg.op, e.vars[0]!, ranges.get(e.vars[0]!)!, (v) => aliasVar(state, v), body);
    }
  }
}

/**
 * The extent stated for a left-side index (`y < H`): a positive size
 * expression that names no index of the left side.
 */
function statedLhsExtent(e: ast.Expr, name: string, slots: readonly ast.IndexSlot[], diags: DiagnosticBag, graph: Graph): number | null {
  const lhsNames = new Set(slots.flatMap((s) => (s.kind === "var" ? [s.name.name] : s.vars.map((v) => v.name))));
  const index = firstName(e, (n) => lhsNames.has(n) && !graph.sizes.has(n));
  if (index !== null) {
    diags.error("TNS0302", `the extent of '${name}' must be a size expression, but it uses the index '${index.name}'`, index.span, {
      hint: "ranges are fixed boxes: state the extent with sizes and integers, e.g. y < H",
    });
    return null;
  }
  return evalPositiveSize(e, graph.sizes, diags, `the extent of '${name}'`);
}

function firstName(e: ast.Expr, pick: (n: string) => boolean): ast.Ident | null {
  switch (e.kind) {
    case "ident": return pick(e.name) ? e : null;
    case "unary": return firstName(e.arg, pick);
    case "binary": return firstName(e.lhs, pick) ?? firstName(e.rhs, pick);
    default: return null;
  }
}

/** The top-level additive terms of an expression (`a + b - c` -> a, b, c). */
function additiveTerms(e: ast.Expr): ast.Expr[] {
  if (e.kind === "binary" && (e.op === "+" || e.op === "-")) return [...additiveTerms(e.lhs), ...additiveTerms(e.rhs)];
  return [e];
}

const COMPARISON_TOKENS: ReadonlySet<string> = new Set(["<", "<=", ">", ">=", "==", "!="]);

/**
 * TNS0220: `H[b] = sum(i) bins[i] == b` compares the sum with `b` (a
 * reduction binds like `*`, tighter than a comparison), where counting,
 * `sum(i) (bins[i] == b)`, was almost always meant. Parentheses around
 * the sum say the comparison is intended and silence it. `max` and `min`
 * are left alone: `max(j) x[j] == x[i]` reads as it is meant.
 */
function warnComparedSum(e: ast.Expr, diags: DiagnosticBag): void {
  if (e.kind === "binary" && COMPARISON_TOKENS.has(e.op)) {
    const r = e.lhs;
    if (r.kind === "reduce" && (r.op === "sum" || r.op === "prod") && r.parenthesized !== true) {
      const vars = r.vars.map((v) => v.name).join(", ");
      diags.warning("TNS0220", `'${r.op}(${vars})' binds tighter than '${e.op}': this compares the ${r.op === "sum" ? "sum" : "product"} with the right side`, e.span, {
        hint: `to ${r.op === "sum" ? "count where the comparison holds" : "multiply the comparisons"}, write ${r.op}(${vars}) (... ${e.op} ...); to compare the ${r.op === "sum" ? "sum" : "product"}, put it in parentheses`,
      });
    }
  }
  for (const c of children(e)) warnComparedSum(c, diags);
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

