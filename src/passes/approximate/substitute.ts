/**
 * Replacing a weight by its factors in the IR.
 *
 * Low rank, W ≈ U·V (U m×r, V r×n): the weights `W.U`, `W.V` and the def
 * `W[i, j] = sum(r) W.U[i, r] * W.V[r, j]`; the `inline-factors` pass then
 * moves the sum into every sum that reads W, so that the contraction-path
 * search can reassociate (x·(U·V) = (x·U)·V).
 *
 * Kronecker, W ≈ A ⊗ B: W becomes the product def
 * `W[(a, b), (c, d)] = W.A[a, c] * W.B[b, d]`, which `inline-products`
 * inlines into the sums that read it, so W is never built.
 *
 * {@link isolateContractions} first moves a sum that reads W out of an
 * epilogue into a def of its own, where both passes can reach it.
 */
import type { DefNode, Expr, Program, TensorNode, WeightNode } from "../../ir/types.js";
import { access, associativeChain, binary, reduce } from "../../ir/types.js";
import { boundVars as boundVarsOf, freeVars } from "../../ir/walk.js";
import type { Matrix } from "../../numerics/matrix.js";

/** The factors of a mul chain, left to right. */
export function factorsOf(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...factorsOf(e.lhs), ...factorsOf(e.rhs)] : [e];
}

function weightNode(of: WeightNode, name: string, m: Matrix): WeightNode {
  return { name, role: "weight", dtype: of.dtype, shape: [m.rows, m.cols], output: false, data: Float64Array.from(m.data) };
}

/**
 * Each sum that multiplies a read of `name` inside a larger expression (an
 * epilogue: `relu(sum(i) x[n, i] * W[i, j] + b[j])`) moved into a def of
 * its own (`h1_c`), so the contraction-path search and the rewrite rules,
 * which work on defs that are one sum of products, can reassociate it; the
 * epilogue reads the new def (and `fuse-elementwise` may fuse it back).
 * Sums inside other reductions stay where they are.
 *
 * @example
 * ```ts
 * // h1[n, j] = relu(sum(i) x[n, i] * W[i, j])  →  h1_c[n, j] = sum(i) x[n, i] * W[i, j]; h1[n, j] = relu(h1_c[n, j])
 * isolateContractions(program, "W");
 * ```
 */
export function isolateContractions(program: Program, name: string): Program {
  const names = new Set(program.tensors.map((t) => t.name));
  const out: TensorNode[] = [];
  for (const t of program.tensors) {
    if (t.role !== "def" || (t.body.kind === "reduce" && t.body.op === "sum")) {
      out.push(t);
      continue;
    }
    const hoisted: DefNode[] = [];
    const rewrite = (e: Expr): Expr => {
      if (e.kind === "reduce") {
        if (e.op !== "sum" || !factorsOf(e.body).some((f) => f.kind === "access" && f.tensor === name)) return e;
        const free = freeVars(e);
        const indices = t.indices.filter((v) => free.has(v));
        const used = new Set([...indices, ...e.vars, ...freeVars(e.body)]);
        let fresh = `${t.name}_c`;
        for (let k = 1; names.has(fresh); k++) fresh = `${t.name}_c${k}`;
        names.add(fresh);
        hoisted.push({
          name: fresh, role: "def", dtype: t.dtype === "i32" ? "i32" : "f32", shape: indices.map((v) => t.ranges[v]!), output: false,
          indices, groups: indices.map(() => 1), ranges: Object.fromEntries([...used].filter((v) => v in t.ranges).map((v) => [v, t.ranges[v]!])), body: e,
        });
        return access(fresh, indices);
      }
      switch (e.kind) {
        case "unary": return { ...e, arg: rewrite(e.arg) };
        case "binary": return { ...e, lhs: rewrite(e.lhs), rhs: rewrite(e.rhs) };
        case "select": return { ...e, cond: rewrite(e.cond), then: rewrite(e.then), else: rewrite(e.else) };
        default: return e;
      }
    };
    const body = rewrite(t.body);
    if (hoisted.length === 0) {
      out.push(t);
      continue;
    }
    const kept = new Set([...t.indices, ...freeVars(body), ...boundVarsOf(body)]);
    out.push(...hoisted, { ...t, body, ranges: Object.fromEntries(Object.entries(t.ranges).filter(([v]) => kept.has(v))) });
  }
  return { ...program, tensors: out };
}

/**
 * `program` with weight `name` replaced by `u`·`v`: the weights `W.U`,
 * `W.V` and the def `W[i, j] = sum(r) W.U[i, r] * W.V[r, j]`, which the
 * `inline-factors` pass then inlines into the sums that read W.
 *
 * @example
 * ```ts
 * substituteLowRank(program, "W", u, v).tensors.map((t) => t.name); // ["W.U", "W.V", "W", "x", "y"]
 * ```
 */
export function substituteLowRank(program: Program, name: string, u: Matrix, v: Matrix): Program {
  const w = program.tensors.find((t): t is WeightNode => t.name === name && t.role === "weight")!;
  const uName = `${name}.U`;
  const vName = `${name}.V`;
  const def: DefNode = {
    name, role: "def", dtype: w.dtype, shape: w.shape, output: w.output, indices: ["i", "j"], groups: [1, 1],
    ranges: { i: w.shape[0]!, j: w.shape[1]!, r: u.cols },
    body: reduce("sum", ["r"], binary("mul", access(uName, ["i", "r"]), access(vName, ["r", "j"]))),
  };
  const nodes: TensorNode[] = [weightNode(w, uName, u), weightNode(w, vName, v), def];
  return { ...program, tensors: program.tensors.flatMap((t) => (t === w ? nodes : [t])) };
}

/**
 * `program` with weight `name` replaced by the product def of `a` ⊗ `b`
 * (see the module comment).
 *
 * @example
 * ```ts
 * substituteKronecker(program, "W", a, b).tensors.map((t) => t.name); // ["W.A", "W.B", "W", "x", "y"]
 * ```
 */
export function substituteKronecker(program: Program, name: string, a: Matrix, b: Matrix): Program {
  const w = program.tensors.find((t): t is WeightNode => t.name === name && t.role === "weight")!;
  const aName = `${name}.A`;
  const bName = `${name}.B`;
  const def: DefNode = {
    name, role: "def", dtype: w.dtype, shape: w.shape, output: w.output, indices: ["a", "b", "c", "d"], groups: [2, 2],
    ranges: { a: a.rows, b: b.rows, c: a.cols, d: b.cols },
    body: binary("mul", access(aName, ["a", "c"]), access(bName, ["b", "d"])),
  };
  const nodes: TensorNode[] = [weightNode(w, aName, a), weightNode(w, bName, b), def];
  return { ...program, tensors: program.tensors.flatMap((t) => (t === w ? nodes : [t])) };
}

/** One factor of {@link substituteFactored}: a weight `W.<suffix>` read at `indices`. */
export interface FactorSpec {
  readonly suffix: string;
  readonly shape: readonly number[];
  readonly data: Float64Array;
  readonly indices: readonly string[];
}

/**
 * `program` with weight `name` replaced by factor weights and the factored
 * def `W[i0, ...] = sum(summed) W.F1[...] * W.F2[...] * ...` over them (a
 * Tucker or tensor-train decomposition), which `inline-factors` inlines
 * into the sums that read W. W's own indices are `i0`, `i1`, ...
 *
 * @example
 * ```ts
 * substituteFactored(program, "T", [{ suffix: "G1", shape: [4, 2], data, indices: ["i0", "t1"] }, ...], { t1: 2, ... });
 * ```
 */
export function substituteFactored(program: Program, name: string, factors: readonly FactorSpec[], summed: Readonly<Record<string, number>>): Program {
  const w = program.tensors.find((t): t is WeightNode => t.name === name && t.role === "weight")!;
  const indices = w.shape.map((_, k) => `i${k}`);
  const nodes: TensorNode[] = factors.map((f) => ({ name: `${name}.${f.suffix}`, role: "weight", dtype: w.dtype, shape: [...f.shape], output: false, data: f.data }));
  const product = associativeChain("mul", factors.map((f) => access(`${name}.${f.suffix}`, [...f.indices])));
  const def: DefNode = {
    name, role: "def", dtype: w.dtype, shape: w.shape, output: w.output, indices, groups: indices.map(() => 1),
    ranges: { ...Object.fromEntries(indices.map((v, k) => [v, w.shape[k]!])), ...summed },
    body: Object.keys(summed).length > 0 ? reduce("sum", Object.keys(summed), product) : product,
  };
  return { ...program, tensors: program.tensors.flatMap((t) => (t === w ? [...nodes, def] : [t])) };
}
