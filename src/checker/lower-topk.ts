/**
 * Lowers a two-result definition `V[i, r], I[i, r] = topk(r < k, j) body`:
 * the k largest values of `body` over `j` in descending order (`V`) and
 * their indices (`I`, i32), ties broken by the smaller index, NaN above
 * every number (docs/language.md, "argmax, argmin and top-k").
 *
 * It becomes ordinary IR, so every pass, backend and the gradient see it:
 * the body materialized once, then k selection steps over the rows, each
 * three reductions over `j` reading the step before (the next element in
 * the order value descending, index ascending), then `I` assembled from the
 * steps and `V` gathered from the body at `I`:
 *
 *     V[i, r], I[i, r] = topk(r < 2, j) X[i, j]
 *     ->  V_in[i, j]  = X[i, j]
 *         I_nan0[i]   = max(j) V_in[i, j] != V_in[i, j]                            (a NaN left?)
 *         I_max0[i]   = max(j) where(V_in[i, j] != V_in[i, j], -inf, V_in[i, j])  (largest number left)
 *         I_pick0[i]  = min(j) where(where(I_nan0[i], B != B, B == I_max0[i]), j, n)     (B = V_in[i, j])
 *         I_nan1, I_max1, I_pick1: the same over the elements after pick 0 in the order
 *         I[i, r]     = where(r == 0, I_pick0[i], 0) + where(r == 1, I_pick1[i], 0)
 *         V[i, r]     = V_in[i, {I[i, r]}]
 *
 * k steps of three passes over `j`: O(k·n) per row.
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import * as ir from "../ir/types.js";
import type { Graph } from "./scope.js";
import { evalPositiveSize } from "./sizes.js";

/** How lower-def.ts lowers a one-result definition (passed in to avoid an import cycle). */
export type DefLowerer = (def: ast.Def, graph: Graph, diags: DiagnosticBag, opts: { inFunction: boolean }) => boolean;

const misuse = (diags: DiagnosticBag, span: ast.Def["span"], message: string, hint: string, code: "TNS0233" | "TNS0234" = "TNS0233"): false => {
  diags.error(code, message, span, { hint });
  return false;
};

const SHAPE_HINT = "write V[i, r], I[i, r] = topk(r < 4, j) X[i, j]: r counts the results, j is the index searched";

/**
 * Lowers `def` (which has a second result) into `graph`; false when an error was reported.
 *
 * @example
 * ```ts
 * lowerTopK(parseDef("V[i, r], I[i, r] = topk(r < 2, j) X[i, j]"), graph, diags, { inFunction: false }, lowerDef);
 * ```
 */
export function lowerTopK(def: ast.Def, graph: Graph, diags: DiagnosticBag, opts: { inFunction: boolean }, lowerOne: DefLowerer): boolean {
  const second = def.second!;
  const rhs = def.rhs;
  if (rhs.kind !== "reduce" || rhs.op !== "topk") {
    return misuse(diags, second.span, "only topk gives two results", SHAPE_HINT, "TNS0234");
  }
  if (rhs.vars.length !== 2 || rhs.extents[0] === null || rhs.extents[1] !== null) {
    return misuse(diags, rhs.span, "topk lists the result index with its count, then the one index it searches: topk(r < k, j)", SHAPE_HINT);
  }
  const [r, j] = [rhs.vars[0]!, rhs.vars[1]!];
  const names = (slots: readonly ast.IndexSlot[] | null): string[] | null =>
    slots === null || slots.some((s) => s.kind !== "var") ? null : slots.map((s) => (s.kind === "var" ? s.name.name : ""));
  const first = names(def.indices);
  const other = names(second.indices);
  if (first === null || other === null || first.length !== other.length || first.some((n, k) => n !== other[k])) {
    return misuse(diags, second.span, "the two results of topk need the same plain indices", SHAPE_HINT, "TNS0234");
  }
  if (!first.includes(r.name)) return misuse(diags, r.span, `the result index '${r.name}' must be on the left of both results`, SHAPE_HINT);
  if (first.includes(j.name)) return misuse(diags, j.span, `'${j.name}' is searched by topk and cannot be on the left`, SHAPE_HINT);
  const k = evalPositiveSize(rhs.extents[0]!, graph.sizes, diags, `the count of '${r.name}'`);
  if (k === null) return false;

  // The body, materialized over the rows and j.
  const rows = first.filter((n) => n !== r.name);
  // Internal tensors named after the results, so that the IR and `tns explain` read: V_in, I_nan0, I_max0, I_pick0, ...
  const fresh = (base: string): string => {
    let name = base;
    for (let n = 2; graph.taken.has(name) || graph.tensors.has(name); n++) name = `${base}_${n}`;
    graph.taken.add(name);
    return name;
  };
  const bodyName = fresh(`${def.name.name}_in`);
  const slots = (def.indices ?? []).filter((s) => s.kind === "var" && s.name.name !== r.name);
  const bodyDef: ast.Def = {
    kind: "def", output: false, name: { name: bodyName, span: def.name.span },
    indices: [...slots, { kind: "var", name: j, extent: null, span: j.span }], rhs: rhs.body, span: def.span,
  };
  if (!lowerOne(bodyDef, graph, diags, opts)) return false;
  const body = graph.nodes.find((t) => t.name === bodyName);
  if (body === undefined || body.role !== "def") return false;
  const n = body.shape[body.shape.length - 1]!;
  if (k > n) {
    diags.error("TNS0232", `topk asks for the ${k} largest of ${n} elements`, rhs.extents[0]!.span, {
      hint: `the count is at most the extent of '${j.name}' (${n})`,
    });
    return false;
  }

  const rowRanges: Record<string, number> = Object.fromEntries(rows.map((v, d) => [v, body.shape[d]!]));
  const rowShape = rows.map((v) => rowRanges[v]!);
  const jv = rows.includes("j") ? freshVar("j", rows) : "j";
  const ranges = { ...rowRanges, [jv]: n };
  const b = ir.access(bodyName, [...rows, jv]);
  const isNan = (x: ir.Expr): ir.Expr => ir.binary("ne", x, x);
  const at = (t: string): ir.Expr => ir.access(t, rows);
  const jIndex = ir.indexValue(jv);
  const push = (name: string, dtype: ir.DType, e: ir.Expr): void => {
    graph.nodes.push({ role: "def", name, dtype, shape: rowShape, output: false, indices: [...rows], groups: rows.map(() => 1), ranges, body: e });
    graph.tensors.set(name, { name, shape: rowShape, dtype, span: def.name.span });
  };
  const steps: string[] = [];
  let prev: { an: string; m: string; j: string } | null = null;
  for (let s = 0; s < k; s++) {
    // The elements after the previous pick in the order (NaN first, then value descending, index ascending).
    let cand: ir.Expr = ir.num(1);
    if (prev !== null) {
      const after = ir.binary("gt", jIndex, at(prev.j));
      const below = ir.binary("add", ir.binary("lt", b, at(prev.m)), ir.binary("mul", ir.binary("eq", b, at(prev.m)), after));
      cand = ir.select(at(prev.an), ir.select(isNan(b), after, ir.num(1)), ir.select(isNan(b), ir.num(0), below));
    }
    const only = (x: ir.Expr, otherwise: number): ir.Expr => (prev === null ? x : ir.select(cand, x, ir.num(otherwise)));
    const an = fresh(`${second.name.name}_nan${s}`);
    push(an, "f32", ir.reduce("max", [jv], only(isNan(b), 0)));
    const m = fresh(`${second.name.name}_max${s}`);
    push(m, body.dtype, ir.reduce("max", [jv], only(ir.select(isNan(b), ir.num(-Infinity), b), -Infinity)));
    const pick = fresh(`${second.name.name}_pick${s}`);
    const wins = ir.select(at(an), isNan(b), ir.binary("eq", b, at(m)));
    // `n` (past the last index) for the others: an integer, so the def and its parts (autodiff/normalize.ts) store it as i32.
    push(pick, "i32", ir.reduce("min", [jv], ir.select(prev === null ? wins : ir.binary("mul", cand, wins), jIndex, ir.num(n))));
    steps.push(pick);
    prev = { an, m, j: pick };
  }

  const output = def.output && !opts.inFunction;
  const shape = first.map((v) => (v === r.name ? k : rowRanges[v]!));
  const allRanges = { ...rowRanges, [r.name]: k };
  const rank = ir.indexValue(r.name);
  const indicesBody = ir.associativeChain("add", steps.map((t, s) => (k === 1 ? at(t) : ir.select(ir.binary("eq", rank, ir.num(s)), at(t), ir.num(0)))));
  const groups = first.map(() => 1);
  const iName = second.name.name;
  graph.nodes.push({ role: "def", name: iName, dtype: "i32", shape, output, indices: [...first], groups, ranges: allRanges, body: indicesBody });
  graph.tensors.set(iName, { name: iName, shape, dtype: "i32", span: second.name.span });
  const vName = def.name.name;
  const values = ir.gather(bodyName, [...rows, { affine: ir.affine([]), value: ir.access(iName, first) }]);
  graph.nodes.push({ role: "def", name: vName, dtype: body.dtype, shape, output, indices: [...first], groups, ranges: allRanges, body: values });
  graph.tensors.set(vName, { name: vName, shape, dtype: body.dtype, span: def.name.span });
  return true;
}

function freshVar(base: string, taken: readonly string[]): string {
  let v = base;
  for (let k = 1; taken.includes(v); k++) v = `${base}_${k}`;
  return v;
}
