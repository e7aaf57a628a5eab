/**
 * differentiate: expands every `grad(L, W)` node into a backward program of
 * ordinary defs (reverse-mode automatic differentiation), so that every
 * later pass and every backend treats it like the forward program.
 *
 * The gradients of one loss share one backward program. It walks the defs
 * that depend on a differentiated tensor and feed the loss, last first; the
 * adjoint of a def `T` (the derivative of L by each element of T) is the sum
 * of one contribution per read of T, and the contribution of a read
 * `X[f(v)]` in `T[idx] = reduce_{r} e` is a def over X's shape
 * (`autodiff/scatter.ts`) of `dT[idx] * de/dX[f(v)]` (`autodiff/partials.ts`)
 * times the reduction's own derivative:
 *
 * - `sum`: 1;
 * - `prod`: the product of the other terms (exact at zeros);
 * - `max`/`min`: `(e == T[idx]) / ties[idx]`, where `ties` counts the terms
 *   equal to the result: equal maxima (minima) share the derivative evenly.
 *
 * Defs are first put in normal form (`autodiff/normalize.ts`). A gradient
 * of a loss that does not depend on W is zero.
 *
 * Before:
 *
 *     input A[4, 5], B[5, 6]
 *     C[i, j] = sum(k) A[i, k] * B[k, j]
 *     L = sum(i, j) C[i, j] * C[i, j]
 *     output dA = grad(L, A)
 *
 * After (one contribution per read of C in L, then their sum):
 *
 *     grad_C_L[g0, g1] = C[g0, g1]
 *     grad_C_L_2[g0, g1] = C[g0, g1]
 *     grad_C[s0, s1] = grad_C_L[s0, s1] + grad_C_L_2[s0, s1]
 *     grad_A_C[g0, g1] = sum(j) grad_C[g0, j] * B[g1, j]
 *     output dA[s0, s1] = grad_A_C[s0, s1]
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import type { Access, Affine, DefNode, DType, Expr, Gather, GradNode, Program, TensorNode } from "../ir/types.js";
import { access, affine, binary, num, reduce, select } from "../ir/types.js";
import { scatterAddForm } from "../ir/scatter.js";
import { accessedTensors, affineToExpr, boundVars, exprKey, freshNamer, renameVars, substituteVars } from "../ir/walk.js";
import { isNormalDef, normalizeDef } from "./autodiff/normalize.js";
import { mul, partials, type Partial } from "./autodiff/partials.js";
import { backpropRecurrence } from "./autodiff/recurrence.js";
import { scatterDef, type Padder } from "./autodiff/scatter.js";
import { PROPERTIES, type Pass } from "./pass.js";

/**
 * The differentiate pass.
 *
 * @example
 * ```ts
 * const expanded = differentiate.run(inlineCalls.run(program)); // no grad node left
 * ```
 */
export const differentiate: Pass = {
  name: "differentiate",
  description: "expand grad(L, W) into a backward program of defs (reverse mode)",
  requires: [PROPERTIES.noCalls],
  guarantees: [PROPERTIES.noGrads],
  preserves: [PROPERTIES.noCalls],
  run: differentiateProgram,
};

/**
 * `program` with every grad node replaced by a def of the gradient; the
 * input itself when it has none. Losses are expanded in the order of their
 * first gradient, so a loss that reads an earlier gradient (a second
 * derivative) differentiates through that gradient's backward program.
 *
 * @example
 * ```ts
 * differentiateProgram(program).tensors.some((t) => t.role === "grad"); // false
 * ```
 */
export function differentiateProgram(program: Program): Program {
  let current = program;
  for (;;) {
    const first = current.tensors.find((t): t is GradNode => t.role === "grad");
    if (first === undefined) return current;
    current = expandLoss(current, first.loss);
  }
}

/** The program with the gradients of `loss` expanded. */
function expandLoss(program: Program, loss: string): Program {
  const fresh = freshNamer(program.tensors.map((t) => t.name));
  const grads = program.tensors.filter((t): t is GradNode => t.role === "grad" && t.loss === loss);
  const wrts = new Set(grads.map((g) => g.wrt));

  // Normal form for the defs on a path from a differentiated tensor to the loss.
  const before = activeTensors(program.tensors, loss, wrts);
  // A recurrence keeps its nested reductions: they read the recurrence, so they cannot become defs of their own.
  const tensors = program.tensors.flatMap((t) => (t.role === "def" && before.has(t.name) && t.recurrence === undefined && !isNormalDef(t) ? normalizeDef(t, fresh) : [t]));
  const active = activeTensors(tensors, loss, wrts);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const node = (name: string): TensorNode => {
    const t = byName.get(name);
    if (t === undefined) throw new InternalCompilerError(`differentiate: unknown tensor '${name}'`);
    return t;
  };

  const backward: DefNode[] = [];
  const builder = new Backward(backward, fresh, node);
  const lossIndex = tensors.findIndex((t) => t.name === loss);
  if (lossIndex < 0) throw new InternalCompilerError(`differentiate: loss '${loss}' is not a tensor of the program`);
  for (let k = lossIndex; k >= 0; k--) {
    const t = tensors[k]!;
    if (!active.has(t.name)) continue;
    const adjoint = t.name === loss ? null : builder.adjointOf(t);
    if (adjoint === undefined) continue;
    if (t.role !== "def") continue;
    if (t.recurrence !== undefined && adjoint !== null) builder.propagateRecurrence(t, adjoint, (x) => active.has(x));
    else builder.propagate(t, adjoint, (x) => active.has(x));
  }

  const position = tensors.findIndex((t) => t.role === "grad" && t.loss === loss);
  // A scatter-add adjoint that only a grad node reads is written under the grad node's name (gradientCopy), not kept twice.
  const movedScatters = new Set(grads.map((g) => builder.scatterNamed(builder.adjoints.get(g.wrt))?.name).filter((n): n is string => n !== undefined));
  for (const t of backward) for (const x of accessedTensors(t.body)) movedScatters.delete(x);
  const out: TensorNode[] = [...tensors.slice(0, position), ...backward.filter((t) => !movedScatters.has(t.name))];
  for (const t of tensors.slice(position)) {
    out.push(t.role === "grad" && t.loss === loss ? gradientCopy(t, builder.adjoints.get(t.wrt) ?? null, builder.scatterNamed(builder.adjoints.get(t.wrt))) : t);
  }
  return { ...program, tensors: out };
}

/** Tensors that depend on one of `wrts` (or are one) and that `loss` depends on. */
function activeTensors(tensors: readonly TensorNode[], loss: string, wrts: ReadonlySet<string>): Set<string> {
  const relevant = new Set<string>();
  for (const t of tensors) {
    if (wrts.has(t.name)) relevant.add(t.name);
    else if (t.role === "def" && [...accessedTensors(t.body)].some((x) => relevant.has(x))) relevant.add(t.name);
  }
  const needed = new Set([loss]);
  for (let k = tensors.length - 1; k >= 0; k--) {
    const t = tensors[k]!;
    if (needed.has(t.name) && t.role === "def") for (const x of accessedTensors(t.body)) needed.add(x);
  }
  return new Set([...relevant].filter((x) => needed.has(x)));
}

/**
 * The def a grad node becomes: a copy of the adjoint, or zeros; a
 * scatter-add adjoint (the gradient of an embedding table) is written under
 * the grad node's name instead of copied, since a copy of it would be
 * inlined back as a masked sum.
 */
function gradientCopy(g: GradNode, adjoint: string | null, scatter?: DefNode): DefNode {
  if (scatter !== undefined) return { ...scatter, name: g.name, dtype: g.dtype, output: g.output };
  const indices = g.shape.map((_, d) => `s${d}`);
  return {
    role: "def", name: g.name, dtype: g.dtype, shape: g.shape, output: g.output, indices, groups: g.shape.map(() => 1),
    ranges: Object.fromEntries(indices.map((v, d) => [v, g.shape[d]!])),
    body: adjoint === null ? num(0) : access(adjoint, indices),
  };
}

/** Whether a term computes something from stored tensors: a constant or a bare read is as cheap to redo as to read back. */
function worthStoring(term: Expr): boolean {
  return term.kind !== "const" && term.kind !== "access" && accessedTensors(term).size > 0;
}

/** Whether `read` indexes one variable per dimension (coefficient 1, no constant) and uses each of `vars` exactly once. */
function readsEachVariableOnce(read: Access, vars: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const a of read.index) {
    if (a.constant !== 0 || a.terms.length !== 1 || a.terms[0]!.coef !== 1) return false;
    seen.add(a.terms[0]!.var);
  }
  return read.index.length === vars.length && seen.size === vars.length && vars.every((v) => seen.has(v));
}

/** The affine index of each dimension of a def's storage at its own output indices (groups flattened row-major). */
function storageIndex(t: DefNode): Affine[] {
  const out: Affine[] = [];
  let k = 0;
  for (const g of t.groups) {
    const vars = t.indices.slice(k, k + g);
    k += g;
    let stride = 1;
    const terms = [];
    for (let m = vars.length - 1; m >= 0; m--) {
      terms.push({ var: vars[m]!, coef: stride });
      stride *= t.ranges[vars[m]!]!;
    }
    out.push(affine(terms));
  }
  return out;
}

/** Builds the backward defs of one loss, in an order where every def follows what it reads. */
class Backward {
  /** Adjoint def of each tensor processed so far. */
  readonly adjoints = new Map<string, string>();
  private readonly contributions = new Map<string, string[]>();
  private readonly pads = new Map<string, string>();

  constructor(
    private readonly out: DefNode[],
    private readonly fresh: (base: string) => string,
    private readonly node: (name: string) => TensorNode,
  ) {}

  /** The adjoint def of `t` (the sum of its contributions), or undefined when nothing flows back to it. */
  adjointOf(t: TensorNode): string | undefined {
    const parts = this.contributions.get(t.name);
    if (parts === undefined || parts.length === 0) return undefined;
    if (parts.length === 1) {
      this.adjoints.set(t.name, parts[0]!);
      return parts[0]!;
    }
    const indices = t.shape.map((_, d) => `s${d}`);
    const name = this.fresh(`grad_${t.name}`);
    this.emit({
      role: "def", name, dtype: floatType(t.dtype), shape: [...t.shape], output: false, indices, groups: t.shape.map(() => 1),
      ranges: Object.fromEntries(indices.map((v, d) => [v, t.shape[d]!])),
      body: parts.map((p) => access(p, indices) as Expr).reduce((a, b) => binary("add", a, b)),
    });
    this.adjoints.set(t.name, name);
    return name;
  }

  /** Adds the contribution of every read in `t`'s body of a tensor for which `active` holds. */
  propagate(t: DefNode, adjoint: string | null, active: (tensor: string) => boolean): void {
    const top = t.body.kind === "reduce" ? t.body : null;
    const e = top === null ? t.body : top.body;
    const vars = [...t.indices, ...(top?.vars ?? [])];
    const ranges: Record<string, number> = { ...t.ranges };
    const dT: Expr = adjoint === null ? num(1) : this.readAdjoint(adjoint, storageIndex(t));
    let seed: Expr = dT;
    if (top !== null && top.op === "prod") {
      // The product of the other terms: prod(r') where(r' == r, 1, e[r']), exact when a term is zero.
      const other = (v: string): string => (v in ranges ? other(`${v}_o`) : v);
      const renamed = Object.fromEntries(top.vars.map((v) => [v, other(`${v}_o`)]));
      for (const v of top.vars) ranges[renamed[v]!] = t.ranges[v]!;
      const same = top.vars.map((v) => binary("eq", { kind: "index", var: renamed[v]! }, { kind: "index", var: v }) as Expr).reduce((a, b) => binary("mul", a, b));
      seed = mul(dT, reduce("prod", Object.values(renamed), select(same, num(1), renameVars(e, renamed))));
    } else if (top !== null && (top.op === "max" || top.op === "min")) {
      const result = access(t.name, storageIndex(t));
      const ties = this.fresh(`${t.name}_ties`);
      this.emit({
        role: "def", name: ties, dtype: floatType(t.dtype), shape: t.indices.map((v) => t.ranges[v]!), output: false,
        indices: [...t.indices], groups: t.indices.map(() => 1), ranges: { ...t.ranges },
        body: reduce("sum", top.vars, binary("eq", e, result)),
      });
      seed = binary("div", mul(dT, binary("eq", e, result)), access(ties, t.indices));
    }
    // Reads with the same term share it: in relu(H_r[i, j] + b1[j]) both H_r and b1 get dH·(0 < H).
    // Once one read's contribution stores the term at every point of the def's variables (its index
    // is those variables, each once), the others read it there instead of recomputing it, so the
    // bias gradient is Σ_i grad_H_r[i, j] and not a second pass over dH and H.
    // The stored term is rounded to its def's type, so only a read of the same type takes it.
    const stored = new Map<string, Expr>();
    for (const part of partials(e, top === null ? access(t.name, storageIndex(t)) : undefined)) {
      const x = part.access?.tensor ?? part.gather!.tensor;
      if (!active(x)) continue;
      const term = mul(seed, part.coef);
      const key = `${floatType(this.dtypeOf(x))}|${exprKey(term)}`;
      const name = this.contribute(t.name, part, stored.get(key) ?? term, vars, ranges);
      if (!stored.has(key) && worthStoring(term) && part.access !== undefined && readsEachVariableOnce(part.access, vars)) stored.set(key, access(name, part.access.index));
    }
  }

  /**
   * Backpropagation through the recurrence `t` (`autodiff/recurrence.ts`):
   * its adjoint is a recurrence running backward, and each tensor it reads
   * gets a contribution summed over the steps.
   */
  propagateRecurrence(t: DefNode, adjoint: string, active: (tensor: string) => boolean): void {
    backpropRecurrence(t, adjoint, {
      fresh: this.fresh,
      emit: (def) => this.emit(def),
      shapeOf: (n) => this.shapeOf(n),
      active,
      contribute: (part, term, vars, ranges, pad) => this.contribute(t.name, part, term, vars, ranges, pad),
    });
  }

  /**
   * Adds the contribution `term` of one read (`part`) in the def `from`,
   * summed over `vars` (the def's variables) except those the read's index
   * solves for, to the adjoint of the tensor it reads.
   */
  private contribute(from: string, part: Partial, term: Expr, vars: readonly string[], ranges: Readonly<Record<string, number>>, pad?: Padder): string {
    const x = part.access?.tensor ?? part.gather!.tensor;
    const target = this.node(x);
    const name = this.fresh(`grad_${x}_${from}`);
    const site = part.gather === undefined
      ? { read: part.access, term, vars, ranges }
      : gatherAsMaskedRead(part.gather, term, vars, ranges, target.shape);
    const masked = scatterDef(name, floatType(target.dtype), {
      ...site, shape: target.shape, shapeOf: (n) => this.shapeOf(n),
    }, pad ?? ((tensor, lo, hi) => this.pad(tensor, lo, hi)));
    const def = part.gather === undefined ? masked : asScatterAdd(masked, part.gather);
    if (def.shape.every((n, d) => n === target.shape[d])) this.emit(def);
    else this.emitCropped(def, target.shape);
    const list = this.contributions.get(x) ?? [];
    list.push(name);
    this.contributions.set(x, list);
    return name;
  }

  /**
   * A contribution computed over a larger box (a strided read's dimension
   * rounded up to a multiple of the stride), stored under another name and
   * cropped to `shape` under its own.
   */
  private emitCropped(def: DefNode, shape: readonly number[]): void {
    const full = this.fresh(`${def.name}_full`);
    this.emit({ ...def, name: full });
    const indices = shape.map((_, d) => `s${d}`);
    this.emit({
      role: "def", name: def.name, dtype: def.dtype, shape: [...shape], output: false, indices, groups: shape.map(() => 1),
      ranges: Object.fromEntries(indices.map((v, d) => [v, shape[d]!])), body: access(full, indices),
    });
  }

  /**
   * A read of the adjoint def `name` at `index`; an adjoint that is a bare
   * product of reads (an outer product, such as the adjoint of a Kronecker
   * factor's product, or a scaled copy) is read through its body instead,
   * so that its readers' sums see the factors and contraction ordering can
   * split them, rather than a materialized product.
   */
  private readAdjoint(name: string, index: readonly Affine[]): Expr {
    const def = this.created.get(name);
    if (def === undefined || def.groups.some((g) => g !== 1) || !isMonomial(def.body)) return access(name, index);
    return substituteVars(def.body, new Map(def.indices.map((v, d) => [v, index[d]!])));
  }

  /** `tensor` zero-padded by lo/hi per dimension, one dimension at a time (each a sum over a one-hot index). */
  private pad(tensor: string, lo: readonly number[], hi: readonly number[]): string {
    const key = `${tensor}|${lo.join(",")}|${hi.join(",")}`;
    const cached = this.pads.get(key);
    if (cached !== undefined) return cached;
    let current = tensor;
    let shape = [...this.shapeOf(tensor)];
    const dtype = floatType(this.dtypeOf(tensor));
    for (let d = 0; d < shape.length; d++) {
      if (lo[d] === 0 && hi[d] === 0) continue;
      const next = [...shape];
      next[d] = shape[d]! + lo[d]! + hi[d]!;
      const indices = next.map((_, k) => `p${k}`);
      const name = this.fresh(`${tensor}_pad`);
      const read = access(current, indices.map((v, k) => (k === d ? "t" : v)));
      const ranges: Record<string, number> = Object.fromEntries(indices.map((v, k) => [v, next[k]!]));
      ranges.t = shape[d]!;
      this.emit({
        role: "def", name, dtype, shape: next, output: false, indices, groups: next.map(() => 1), ranges,
        body: reduce("sum", ["t"], select(binary("eq", { kind: "index", var: indices[d]! }, binary("add", { kind: "index", var: "t" }, num(lo[d]!))), read, num(0))),
      });
      current = name;
      shape = next;
    }
    this.pads.set(key, current);
    return current;
  }

  private readonly created = new Map<string, DefNode>();

  /** The adjoint def `name` when it is a scatter-add (invariant 10). */
  scatterNamed(name: string | undefined): DefNode | undefined {
    const def = name === undefined ? undefined : this.created.get(name);
    return def?.scatter === undefined ? undefined : def;
  }

  private emit(def: DefNode): void {
    this.created.set(def.name, def);
    this.out.push(def);
  }

  private shapeOf(name: string): readonly number[] {
    return (this.created.get(name) ?? this.node(name)).shape;
  }

  private dtypeOf(name: string): DType {
    return (this.created.get(name) ?? this.node(name)).dtype;
  }
}

/**
 * A gather `X[{v} + a, b]` read as `X[u, b]` under the mask `v + a == u`,
 * with a fresh variable `u` per data-dependent dimension, summed: the
 * scatter-add of the gather's adjoint, as a def over X's shape that
 * `scatterDef` solves for `u`:
 *
 *     Xe[t, d] = Wte[{ids[t]}, d]
 *     ->  grad_Wte[g0, g1] = sum(t) where(ids[t] == g0, dXe[t, g1], 0)
 *
 * It reads every index once per element of X: O(|X| · |ids|) work. In mode
 * `clamp` the mask compares the clamped index, so clamped reads get their
 * gradient at the edge element they read.
 */
function gatherAsMaskedRead(
  g: Gather, term: Expr, vars: readonly string[], ranges: Readonly<Record<string, number>>, shape: readonly number[],
): { read: Access; term: Expr; vars: string[]; ranges: Record<string, number> } {
  const outRanges: Record<string, number> = { ...ranges };
  const outVars = [...vars];
  const taken = new Set([...Object.keys(ranges), ...vars, ...boundVars(term)]);
  let mask: Expr | null = null;
  const index = g.index.map((d, k): Affine => {
    if (d.value === null) return d.affine;
    let u = `u${k}`;
    for (let n = 1; taken.has(u); n++) u = `u${k}_${n}`;
    taken.add(u);
    outRanges[u] = shape[k]!;
    outVars.push(u);
    let at: Expr = d.affine.terms.length === 0 && d.affine.constant === 0 ? d.value : binary("add", d.value, affineToExpr(d.affine));
    if (g.mode === "clamp") at = binary("min", binary("max", at, num(0)), num(shape[k]! - 1));
    const eq = binary("eq", at, { kind: "index", var: u });
    mask = mask === null ? eq : binary("mul", mask, eq);
    return affine([{ var: u, coef: 1 }]);
  });
  return { read: access(g.tensor, index), term: select(mask!, term, num(0)), vars: outVars, ranges: outRanges };
}

/**
 * The adjoint of a gather with one data-dependent dimension marked as a
 * scatter-add (invariant 10) along the output index of that dimension, so
 * that the interpreter and the js and wasm backends add each term to the
 * row its index selects instead of testing every row against every index;
 * the def itself when its body does not have that form.
 */
function asScatterAdd(def: DefNode, g: Gather): DefNode {
  const dynamic = g.index.flatMap((d, k) => (d.value === null ? [] : [k]));
  if (dynamic.length !== 1 || def.groups.some((n) => n !== 1) || def.indices.length !== g.index.length) return def;
  const marked: DefNode = { ...def, scatter: { index: def.indices[dynamic[0]!]!, mode: g.mode } };
  return scatterAddForm(marked) === null ? def : marked;
}

/** A product of reads and constants, with no reduction. */
function isMonomial(e: Expr): boolean {
  if (e.kind === "access" || e.kind === "const") return true;
  return e.kind === "binary" && e.op === "mul" && isMonomial(e.lhs) && isMonomial(e.rhs);
}

function floatType(d: DType): DType {
  return d === "f64" ? "f64" : "f32";
}
