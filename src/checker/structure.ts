/**
 * Structured layers: `input W[m, n] ~ lowrank(r)` declares W by its factors,
 * which become the program's inputs (or weights) `W.U`, `W.V`, ..., and W
 * itself a def of them:
 *
 *     ~ lowrank(r)                    W.U[m, r], W.V[r, n]:  W[i, j] = sum(r) W.U[i, r] * W.V[r, j]
 *     ~ kron([m1, m2], [n1, n2])      W.A[m1, n1], W.B[m2, n2] (m = m1·m2, n = n1·n2; more factors alike):
 *                                     W[(a, b), (c, d)] = W.A[a, c] * W.B[b, d]
 *     ~ tt(r1, ..., r_{d-1})          an order-d tensor as a tensor train: W.G1[n1, r1], W.G2[r1, n2, r2], ..., W.Gd[r_{d-1}, nd]
 *     ~ monarch(b)                    W.L[m/b, b, b], W.R[b, m/b, n/b] (b divides m and n):
 *                                     W[(f, e), (c, d)] = W.L[e, f, c] * W.R[c, e, d]
 *
 * Sum defs are inlined into their readers by `inline-factors`, product defs
 * by `inline-products`: W is never built. A weight's factors take their data
 * from the weights given under their own names; for `lowrank` and `kron`
 * the data of W itself may be given instead, and is factored (truncated SVD,
 * nearest Kronecker product).
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import type { DefNode, DType, Expr, TensorNode } from "../ir/types.js";
import { access, associativeChain, reduce } from "../ir/types.js";
import type { Tensor } from "../runtime/tensor.js";
import { matrix } from "../numerics/matrix.js";
import { truncatedSvd } from "../numerics/svd.js";
import { nearestKronecker } from "../numerics/kron.js";
import type { Graph } from "./scope.js";
import { evalPositiveSize } from "./sizes.js";

/** One factor: its name suffix, shape and index variables (W's dims are `i0`, `i1`, ...; ranks `r1`, ...). */
interface Factor {
  readonly suffix: string;
  readonly shape: number[];
  readonly indices: string[];
}

/** A structure's factors and the def of W over them. */
interface Plan {
  readonly factors: Factor[];
  readonly indices: string[];
  readonly groups: number[];
  readonly ranges: Record<string, number>;
  /** Variables summed over (empty for a product). */
  readonly summed: string[];
}

const STRUCTURES = ["lowrank", "kron", "tt", "monarch"] as const;

/** The names the factors of a structured declaration take (for data given by name). */
export function factorNames(d: ast.TensorDecl, sizes: ReadonlyMap<string, number>): string[] {
  if (!d.structure) return [];
  const s = d.structure;
  const n = d.name.name;
  switch (s.name.name) {
    case "lowrank": return [`${n}.U`, `${n}.V`];
    case "monarch": return [`${n}.L`, `${n}.R`];
    case "kron": {
      const first = s.args[0];
      const count = first && "kind" in first && first.kind === "list" ? first.items.length : 2;
      return Array.from({ length: count }, (_, k) => `${n}.${String.fromCharCode(65 + k)}`);
    }
    case "tt": return Array.from({ length: d.dims.length }, (_, k) => `${n}.G${k + 1}`);
    default:
      void sizes;
      return [];
  }
}

/**
 * Declares the structured tensor `d` of shape `shape`: its factor nodes and
 * the def of W; false after a diagnostic (TNS1006 unknown structure,
 * TNS1003 a rank above min(m, n), TNS1004 factor shapes that do not divide,
 * TNS1007 other arguments that do not fit the shape).
 */
export function declareStructured(
  d: ast.TensorDecl & { structure: ast.Structure }, shape: number[], graph: Graph, weights: Readonly<Record<string, Tensor>>, diags: DiagnosticBag,
): boolean {
  const s = d.structure;
  const kind = STRUCTURES.find((k) => k === s.name.name);
  if (kind === undefined) {
    diags.error("TNS1006", `unknown structure '${s.name.name}'`, s.name.span, { hint: `structures: ${STRUCTURES.map((k) => `${k}(...)`).join(", ")}` });
    return false;
  }
  const plan = planStructure(kind, d, shape, graph, diags);
  if (plan === null) return false;
  const name = d.name.name;
  const data = d.role === "weight" ? factorData(kind, d, shape, plan, weights, diags) : null;
  if (data === undefined) return false;
  plan.factors.forEach((f, k) => {
    const fname = `${name}.${f.suffix}`;
    graph.tensors.set(fname, { name: fname, shape: f.shape, dtype: d.dtype, span: d.name.span });
    graph.taken.add(fname);
    graph.reads.add(fname);
    const base = { name: fname, dtype: d.dtype, shape: f.shape, output: false };
    graph.nodes.push(d.role === "input" ? { ...base, role: "input" } : { ...base, role: "weight", data: data?.[k] ?? null });
  });
  const product = associativeChain("mul", plan.factors.map((f) => access(`${name}.${f.suffix}`, f.indices)));
  const body: Expr = plan.summed.length > 0 ? reduce("sum", plan.summed, product) : product;
  const def: DefNode = { name, role: "def", dtype: d.dtype as DType, shape, output: false, indices: plan.indices, groups: plan.groups, ranges: plan.ranges, body };
  graph.tensors.set(name, { name, shape, dtype: d.dtype, span: d.name.span });
  graph.nodes.push(def as TensorNode);
  return true;
}

function sizeArg(arg: ast.Structure["args"][number] | undefined, graph: Graph, diags: DiagnosticBag, what: string, at: Span): number | null {
  if (arg === undefined) {
    diags.error("TNS1007", `${what} is missing`, at);
    return null;
  }
  if ("kind" in arg && arg.kind === "list") {
    diags.error("TNS1007", `${what} must be a size, not a list`, arg.span);
    return null;
  }
  return evalPositiveSize(arg as ast.Expr, graph.sizes, diags, what);
}

function planStructure(kind: (typeof STRUCTURES)[number], d: ast.TensorDecl & { structure: ast.Structure }, shape: number[], graph: Graph, diags: DiagnosticBag): Plan | null {
  const s = d.structure;
  const name = d.name.name;
  const at = s.span;
  const fail = (message: string, hint?: string): null => {
    diags.error("TNS1007", message, at, hint ? { hint } : {});
    return null;
  };
  const matrixOnly = (): boolean => {
    if (shape.length === 2) return true;
    fail(`${kind} structures a matrix, but '${name}' has shape [${shape.join(", ")}]`, kind === "lowrank" ? "an order-d tensor takes ~ tt(r1, ..., r_{d-1})" : undefined);
    return false;
  };
  switch (kind) {
    case "lowrank": {
      if (!matrixOnly()) return null;
      if (s.args.length !== 1) return fail(`lowrank takes one argument, the rank; got ${s.args.length}`);
      const r = sizeArg(s.args[0], graph, diags, "the rank of lowrank", at);
      if (r === null) return null;
      const [m, n] = shape as [number, number];
      if (r > Math.min(m, n)) {
        diags.error("TNS1003", `rank ${r} is above min(m, n) = ${Math.min(m, n)} for '${name}' [${m}, ${n}]`, at, { hint: `a rank from 1 to ${Math.min(m, n)}` });
        return null;
      }
      return { factors: [{ suffix: "U", shape: [m, r], indices: ["i0", "r1"] }, { suffix: "V", shape: [r, n], indices: ["r1", "i1"] }], indices: ["i0", "i1"], groups: [1, 1], ranges: { i0: m, i1: n, r1: r }, summed: ["r1"] };
    }
    case "kron": {
      if (!matrixOnly()) return null;
      const lists = s.args.map((a) => ("kind" in a && a.kind === "list" ? a.items : null));
      if (s.args.length !== 2 || lists.some((l) => l === null)) return fail("kron takes two lists: the row sizes and the column sizes of the factors, e.g. kron([32, 32], [32, 32])");
      const rows = lists[0]!.map((e) => evalPositiveSize(e, graph.sizes, diags, "a factor's row count"));
      const cols = lists[1]!.map((e) => evalPositiveSize(e, graph.sizes, diags, "a factor's column count"));
      if (rows.includes(null) || cols.includes(null)) return null;
      if (rows.length !== cols.length || rows.length < 2) return fail(`kron needs as many row sizes as column sizes, at least two; got ${rows.length} and ${cols.length}`);
      const [m, n] = shape as [number, number];
      const pm = (rows as number[]).reduce((a, b) => a * b, 1);
      const pn = (cols as number[]).reduce((a, b) => a * b, 1);
      if (pm !== m || pn !== n) {
        diags.error("TNS1004", `the factors give a ${pm}x${pn} matrix, but '${name}' is ${m}x${n}`, at, { hint: `the row sizes must multiply to ${m} and the column sizes to ${n}` });
        return null;
      }
      const k = rows.length;
      const a = rows.map((_, t) => `a${t}`);
      const c = cols.map((_, t) => `c${t}`);
      return {
        factors: rows.map((mr, t) => ({ suffix: String.fromCharCode(65 + t), shape: [mr!, cols[t]!], indices: [a[t]!, c[t]!] })),
        indices: [...a, ...c], groups: [k, k],
        ranges: Object.fromEntries([...a.map((v, t) => [v, rows[t]!]), ...c.map((v, t) => [v, cols[t]!])]), summed: [],
      };
    }
    case "tt": {
      if (shape.length < 2) return fail(`tt structures a tensor of order 2 or more, but '${name}' has shape [${shape.join(", ")}]`);
      if (s.args.length !== shape.length - 1) return fail(`tt of an order-${shape.length} tensor takes ${shape.length - 1} ranks; got ${s.args.length}`);
      const ranks: number[] = [];
      for (const [k, arg] of s.args.entries()) {
        const r = sizeArg(arg, graph, diags, `rank ${k + 1} of tt`, at);
        if (r === null) return null;
        ranks.push(r);
      }
      const dims = shape.map((_, k) => `i${k}`);
      const rv = ranks.map((_, k) => `r${k + 1}`);
      const factors = shape.map((nk, k) => ({
        suffix: `G${k + 1}`,
        shape: [...(k > 0 ? [ranks[k - 1]!] : []), nk, ...(k < ranks.length ? [ranks[k]!] : [])],
        indices: [...(k > 0 ? [rv[k - 1]!] : []), dims[k]!, ...(k < ranks.length ? [rv[k]!] : [])],
      }));
      return { factors, indices: dims, groups: dims.map(() => 1), ranges: Object.fromEntries([...dims.map((v, k) => [v, shape[k]!]), ...rv.map((v, k) => [v, ranks[k]!])]), summed: rv };
    }
    case "monarch": {
      if (!matrixOnly()) return null;
      if (s.args.length !== 1) return fail(`monarch takes one argument, the number of blocks; got ${s.args.length}`);
      const b = sizeArg(s.args[0], graph, diags, "the block count of monarch", at);
      if (b === null) return null;
      const [m, n] = shape as [number, number];
      if (m % b !== 0 || n % b !== 0) {
        diags.error("TNS1004", `monarch(${b}) needs ${b} to divide both dimensions of '${name}' [${m}, ${n}]`, at, { hint: "choose a block count that divides both" });
        return null;
      }
      return {
        factors: [{ suffix: "L", shape: [m / b, b, b], indices: ["e", "f", "c"] }, { suffix: "R", shape: [b, m / b, n / b], indices: ["c", "e", "d"] }],
        indices: ["f", "e", "c", "d"], groups: [2, 2], ranges: { f: b, e: m / b, c: b, d: n / b }, summed: [],
      };
    }
  }
}

/**
 * The factors' data of a structured weight: given by the factors' names, or
 * computed from W's own data (lowrank, two-factor kron); null when none is
 * given; undefined after a diagnostic.
 */
function factorData(
  kind: (typeof STRUCTURES)[number], d: ast.TensorDecl, shape: number[], plan: Plan, weights: Readonly<Record<string, Tensor>>, diags: DiagnosticBag,
): (Float64Array | null)[] | null | undefined {
  const name = d.name.name;
  const byName = plan.factors.map((f) => weights[`${name}.${f.suffix}`]);
  for (const [k, t] of byName.entries()) {
    const f = plan.factors[k]!;
    if (t && (t.shape.length !== f.shape.length || t.shape.some((x, j) => x !== f.shape[j]))) {
      diags.error("TNS0602", `factor '${name}.${f.suffix}' of '${name}' is [${f.shape.join(", ")}] but its data has shape [${t.shape.join(", ")}]`, d.name.span);
      return undefined;
    }
  }
  const dense = weights[name];
  if (dense === undefined) return byName.some((t) => t) ? byName.map((t) => (t ? Float64Array.from(t.data) : null)) : null;
  if (dense.shape.length !== shape.length || dense.shape.some((x, j) => x !== shape[j])) {
    diags.error("TNS0602", `weight '${name}' is declared [${shape.join(", ")}] but its data has shape [${dense.shape.join(", ")}]`, d.name.span);
    return undefined;
  }
  const w = matrix(shape[0]!, shape[1] ?? 1, Float64Array.from(dense.data));
  if (kind === "lowrank") {
    const r = plan.factors[0]!.shape[1]!;
    const t = truncatedSvd(w, { rank: r });
    if (!t.ok) return undefined;
    const u = new Float64Array(w.rows * r);
    const v = new Float64Array(r * w.cols);
    for (let k = 0; k < t.rank; k++) {
      const sc = Math.sqrt(t.svd.s[k]!);
      for (let i = 0; i < w.rows; i++) u[i * r + k] = t.svd.u.data[i * t.rank + k]! * sc;
      for (let j = 0; j < w.cols; j++) v[k * w.cols + j] = t.svd.v.data[j * t.rank + k]! * sc;
    }
    return [u, v];
  }
  if (kind === "kron" && plan.factors.length === 2) {
    const [a, b] = plan.factors as [Factor, Factor];
    const f = nearestKronecker(w, { m1: a.shape[0]!, n1: a.shape[1]!, m2: b.shape[0]!, n2: b.shape[1]! });
    if (!f.ok) return undefined;
    return [Float64Array.from(f.terms[0]!.a.data), Float64Array.from(f.terms[0]!.b.data)];
  }
  diags.error("TNS1008", `the data of '${name}' cannot be turned into ${kind} factors here`, d.name.span, {
    hint: `give the factors' data by their names: ${plan.factors.map((f) => `${name}.${f.suffix}`).join(", ")}`,
  });
  return undefined;
}
