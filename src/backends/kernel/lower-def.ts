/**
 * Lowers one def to a loop nest, hoisting loop-invariant work.
 *
 * Every loop of the nest is a scope. A subexpression is placed in the
 * outermost scope where all its free variables are bound: a constant before
 * all loops, a per-row term in the row loop. A nested reduction becomes an
 * accumulator with its own loops, placed the same way.
 *
 *     before: O[i, e] = sum_j E[i, j] * V[j, e] / sum(j_1) E[i, j_1]
 *     after:  fill O = 0
 *             for i: t0 = 0; for j_1: t0 += E[4*i + j_1]
 *                    for j: t1 = E[4*i + j]
 *                           for e: O[8*i + e] += t1 * V[8*j + e] / t0
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { Affine, DefNode, Expr, ReduceOp } from "../../ir/types.js";
import { affine, binary, reduceIdentity, stridesOf } from "../../ir/types.js";
import { evalBinary, evalUnary } from "../../ir/ops.js";
import { affineToExpr, exprKey, freeVars, gatherValues } from "../../ir/walk.js";
import { affineBounds } from "../../ir/verify.js";
import { resumedSumForm } from "../../ir/resume.js";
import { flattenIndex } from "./exprs.js";
import { chooseLoopOrder } from "./loop-order.js";
import { factorOutOfSum, sortProductByDepth } from "./reassociate.js";
import type { OnlineSoftmaxForm } from "./types.js";
import type { KExpr, Kernel, Stmt } from "./types.js";

/** One level of the nest: the loop variable it binds (none at the root) and what runs before and after its inner loop. */
interface Scope {
  readonly var: string | null;
  readonly extent: number;
  readonly pre: Stmt[];
  readonly post: Stmt[];
  /** Hoisted subexpressions already computed here, by structural key, to share them. */
  readonly memo: Map<string, string>;
}

const newScope = (v: string | null, extent: number): Scope => ({ var: v, extent, pre: [], post: [], memo: new Map() });

/** Splits a top-level reduction off a def's body, merging directly nested reductions with the same operator. */
function splitTopReduce(body: Expr): { op: ReduceOp | null; vars: string[]; inner: Expr } {
  if (body.kind !== "reduce") return { op: null, vars: [], inner: body };
  const vars = [...body.vars];
  let inner = body.body;
  while (inner.kind === "reduce" && inner.op === body.op) {
    vars.push(...inner.vars);
    inner = inner.body;
  }
  return { op: body.op, vars, inner };
}

/** Wraps the scopes from `from` on into nested loops. */
function assemble(scopes: readonly Scope[], from: number): Stmt[] {
  const s = scopes[from]!;
  const inner: Stmt[] = [];
  if (from + 1 < scopes.length) {
    const next = scopes[from + 1]!;
    inner.push({ kind: "loop", var: next.var!, extent: next.extent, body: assemble(scopes, from + 1) });
  }
  return [...s.pre, ...inner, ...s.post];
}

/** Lowers one def; `shapes` gives the shape of every tensor it may read. */
class DefLowering {
  private counter = 0;

  constructor(
    private readonly def: DefNode,
    private readonly shapes: ReadonlyMap<string, readonly number[]>,
    private readonly options: LowerDefOptions,
  ) {
    this.counter = options.firstLocal ?? 0;
  }

  private extentOf(v: string): number {
    const n = this.def.ranges[v];
    if (n === undefined) throw new InternalCompilerError(`def ${this.def.name}: no range for index ${v}`);
    return n;
  }

  /** Index of the innermost scope binding any of `vars` (0 when none). */
  private depthOf(vars: ReadonlySet<string>, scopes: readonly Scope[]): number {
    let d = 0;
    scopes.forEach((s, k) => { if (s.var !== null && vars.has(s.var)) d = k; });
    for (const v of vars) {
      if (!scopes.some((s) => s.var === v)) throw new InternalCompilerError(`def ${this.def.name}: index ${v} is not bound`);
    }
    return d;
  }

  /** A local holding `e`, computed in scope `d` (shared with an identical earlier one). */
  private hoist(e: Expr, d: number, scopes: readonly Scope[], build: () => KExpr): KExpr {
    const key = exprKey(e);
    const s = scopes[d]!;
    const known = s.memo.get(key);
    if (known !== undefined) return { kind: "local", name: known };
    const value = build();
    if (value.kind === "const" || value.kind === "local") return value;
    const name = `t${this.counter++}`;
    s.pre.push({ kind: "let", name, value });
    s.memo.set(key, name);
    return { kind: "local", name };
  }

  /** Lowers `e`, evaluated in scope `cur`, hoisting invariant parts outwards. */
  lower(e: Expr, scopes: readonly Scope[], cur: number): KExpr {
    if (e.kind === "const") return e;
    if (e.kind === "index") return e;
    const d = this.depthOf(freeVars(e), scopes);
    if (e.kind === "reduce") return this.lowerReduce(e.op, e.vars, e.body, d, scopes, cur);
    if (e.kind === "binary" && (e.op === "mul" || e.op === "div")) {
      const sorted = sortProductByDepth(e, (f) => this.depthOf(freeVars(f), scopes));
      if (sorted) return this.lower(sorted, scopes, cur);
    }
    if (d < cur) return this.hoist(e, d, scopes, () => this.lowerHere(e, scopes, d));
    return this.lowerHere(e, scopes, cur);
  }

  private lowerHere(e: Expr, scopes: readonly Scope[], cur: number): KExpr {
    switch (e.kind) {
      case "access": {
        const shape = this.shapes.get(e.tensor);
        if (!shape) throw new InternalCompilerError(`def ${this.def.name} reads unknown tensor ${e.tensor}`);
        const offset = flattenIndex(e.index, shape);
        if (!e.guarded) return { kind: "load", buffer: e.tensor, offset };
        // A padding read checks the indices that can leave their dimension.
        const guard = e.index.flatMap((a, k) => {
          const { min, max } = affineBounds(a, this.def.ranges);
          return min < 0 || max > shape[k]! - 1 ? [{ index: a, size: shape[k]! }] : [];
        });
        return guard.length === 0 ? { kind: "load", buffer: e.tensor, offset } : { kind: "load", buffer: e.tensor, offset, guard };
      }
      case "gather": {
        const shape = this.shapes.get(e.tensor);
        if (!shape) throw new InternalCompilerError(`def ${this.def.name} gathers from unknown tensor ${e.tensor}`);
        const strides = stridesOf(shape);
        const statics = e.index.map((d) => (d.value === null ? d.affine : affine([])));
        const dims = e.index.flatMap((d, k) => {
          if (d.value === null) return [];
          const at = d.affine.terms.length === 0 && d.affine.constant === 0 ? d.value : binary("add", d.value, affineToExpr(d.affine));
          return [{ value: this.lower(at, scopes, cur), stride: strides[k]!, extent: shape[k]!, site: { tensor: e.tensor, dim: k, extent: shape[k]!, reader: this.def.name } }];
        });
        return { kind: "gather", buffer: e.tensor, offset: flattenIndex(statics, shape), dims, mode: e.mode };
      }
      case "unary": {
        const arg = this.lower(e.arg, scopes, cur);
        return arg.kind === "const" ? { kind: "const", value: evalUnary(e.op, arg.value) } : { kind: "unary", op: e.op, arg };
      }
      case "binary": {
        const lhs = this.lower(e.lhs, scopes, cur);
        const rhs = this.lower(e.rhs, scopes, cur);
        if (lhs.kind === "const" && rhs.kind === "const") return { kind: "const", value: evalBinary(e.op, lhs.value, rhs.value) };
        return { kind: "binary", op: e.op, lhs, rhs };
      }
      case "select": {
        const cond = this.lower(e.cond, scopes, cur);
        const then = this.lower(e.then, scopes, cur);
        const otherwise = this.lower(e.else, scopes, cur);
        if (cond.kind === "const") return cond.value !== 0 ? then : otherwise;
        return { kind: "select", cond, then, else: otherwise };
      }
      default:
        return this.lower(e, scopes, cur);
    }
  }

  /** A nested reduction: an accumulator and loops placed in scope `d`. */
  private lowerReduce(op: ReduceOp, vars: readonly string[], body: Expr, d: number, scopes: readonly Scope[], cur: number): KExpr {
    const e: Expr = { kind: "reduce", op, vars, body };
    const key = exprKey(e);
    const known = scopes[d]!.memo.get(key);
    if (known !== undefined) return { kind: "local", name: known };
    const factored = op === "sum" ? factorOutOfSum(vars, body) : null;
    if (factored) return this.lower(factored, scopes, cur);
    const name = `t${this.counter++}`;
    // Its loops walk contiguous memory innermost where an access allows (the order of `vars` is the IR's, alphabetical after canonicalize).
    const order = chooseLoopOrder([], vars, body);
    const inner = [...scopes.slice(0, d + 1), ...order.map((v) => newScope(v, this.extentOf(v)))];
    const value = this.lower(body, inner, inner.length - 1);
    inner[inner.length - 1]!.post.push({ kind: "update", name, op, value });
    const first = inner[d + 1]!;
    const loop: Stmt = { kind: "loop", var: first.var!, extent: first.extent, body: assemble(inner, d + 1) };
    scopes[d]!.pre.push({ kind: "declare", name, op }, loop);
    scopes[d]!.memo.set(key, name);
    return { kind: "local", name };
  }

  /** The whole kernel. */
  run(): Kernel {
    const def = this.def;
    // A resumed sum (IR invariant 12) starts from its start's element, then adds its terms one by one.
    const resumed = resumedSumForm(def);
    let { op, vars: redVars, inner } = splitTopReduce(resumed === null ? def.body : resumed.sum);
    let order = this.options.outputsOuter === true
      ? [...def.indices, ...chooseLoopOrder([], redVars, inner)]
      : chooseLoopOrder(def.indices, redVars, inner);
    if (this.options.longInnerLoop !== undefined) order = withLongInnerLoop(order, this.options.longInnerLoop, (v) => this.extentOf(v));
    // With the reduction innermost, the sum is a scalar accumulator: factors
    // that do not depend on it can be applied once, after the loop.
    const factored = resumed === null && op === "sum" && order.slice(-redVars.length).every((v) => redVars.includes(v)) ? factorOutOfSum(redVars, inner) : null;
    if (factored) {
      [op, redVars, inner, order] = [null, [], factored, [...def.indices]];
    }
    // A recurrence runs its sequential index outermost: each step completes before the next reads it.
    const seq = def.recurrence;
    if (seq !== undefined) order = [seq, ...order.filter((v) => v !== seq)];
    const scopes = [newScope(null, 1), ...order.map((v) => newScope(v, this.extentOf(v)))];
    const n = scopes.length - 1;
    const outShape = def.indices.map((v) => this.extentOf(v));
    const offset = this.options.outputOffset ?? flattenIndex(def.indices.map((v) => affine([{ var: v, coef: 1 }])), outShape);
    const value = this.lower(inner, scopes, n);
    const prefix: Stmt[] = [];
    // Where the first reduction loop sits decides how the result is combined.
    const firstRed = order.findIndex((v) => redVars.includes(v));
    const outputInside = firstRed >= 0 && order.slice(firstRed).some((v) => !redVars.includes(v));
    if (op === null) {
      scopes[n]!.post.push({ kind: "store", buffer: def.name, offset, value });
    } else if (outputInside) {
      prefix.push(resumed === null ? { kind: "fill", buffer: def.name, value: reduceIdentity(op) } : { kind: "fill", buffer: def.name, value: 0, from: resumed.from });
      scopes[n]!.post.push({ kind: "store", buffer: def.name, offset, value, op });
    } else {
      const acc = `t${this.counter++}`;
      const init: KExpr | undefined = resumed === null ? undefined : { kind: "load", buffer: resumed.from, offset };
      scopes[firstRed]!.pre.push(init === undefined ? { kind: "declare", name: acc, op } : { kind: "declare", name: acc, op, init });
      scopes[n]!.post.push({ kind: "update", name: acc, op, value });
      scopes[firstRed]!.post.push({ kind: "store", buffer: def.name, offset, value: { kind: "local", name: acc } });
    }
    const reads = [...new Set(collectReads(def.body))].sort();
    const body = [...prefix, ...assemble(scopes, 0)];
    return seq === undefined ? { target: def.name, reads, loopOrder: order, body } : { target: def.name, reads, loopOrder: order, body, sequential: seq };
  }

  /**
   * The kernel of a def in the softmax-weighted sum form (`online-softmax.ts`):
   * per row, a running maximum `m` and sum `l`, the output row as the
   * accumulator, one pass over `j`:
   *
   *     for rows: declare m (max), l (sum); for cols: O = 0
   *       for j: x = score; m0 = m; m = max(m, x)
   *              c = m == -inf ? 1 : exp(m0 - m); p = m == -inf ? 0 : exp(x - m)
   *              l = l * c; l = l + p
   *              for cols: O *= c; O += p * value
   *       r = scale / l; for cols: O *= r
   *
   * While every score so far is -inf, nothing is accumulated (exp(-inf + inf)
   * would be NaN); a row of only -inf scores ends 0 / 0, NaN, as the
   * def's own formula gives.
   */
  runOnlineSoftmax(form: OnlineSoftmaxForm): Kernel {
    const def = this.def;
    const outShape = def.indices.map((v) => this.extentOf(v));
    const offset = flattenIndex(def.indices.map((v) => affine([{ var: v, coef: 1 }])), outShape);
    const rowScopes = [newScope(null, 1), ...form.rows.map((v) => newScope(v, this.extentOf(v)))];
    const rowLevel = rowScopes[rowScopes.length - 1]!;
    const local = (name: string): KExpr => ({ kind: "local", name });
    const fresh = (): string => `t${this.counter++}`;
    const colLoops = (scopes: Scope[], from: number): Stmt[] => {
      if (from >= scopes.length) return [];
      const first = scopes[from]!;
      return [{ kind: "loop", var: first.var!, extent: first.extent, body: assemble(scopes, from) }];
    };
    const [m, l] = [fresh(), fresh()];
    const body: Stmt[] = [{ kind: "declare", name: m, op: "max" }, { kind: "declare", name: l, op: "sum" }];
    // The output row starts at zero.
    const init = [...rowScopes, ...form.cols.map((v) => newScope(v, this.extentOf(v)))];
    init[init.length - 1]!.post.push({ kind: "store", buffer: def.name, offset, value: { kind: "const", value: 0 } });
    body.push(...colLoops(init, rowScopes.length));
    // The pass over j.
    const jScope = newScope(form.j, form.extent);
    const pass = [...rowScopes, jScope, ...form.cols.map((v) => newScope(v, this.extentOf(v)))];
    const jAt = rowScopes.length;
    const scoreValue = this.lower(form.score, pass.slice(0, jAt + 1), jAt);
    const x = fresh();
    const [m0, c, p] = [fresh(), fresh(), fresh()];
    const noneYet: KExpr = { kind: "binary", op: "eq", lhs: local(m), rhs: { kind: "const", value: -Infinity } };
    const exp = (lhs: KExpr, rhs: KExpr): KExpr => ({ kind: "unary", op: "exp", arg: { kind: "binary", op: "sub", lhs, rhs } });
    jScope.pre.push(
      { kind: "let", name: x, value: scoreValue },
      { kind: "let", name: m0, value: local(m) },
      { kind: "update", name: m, op: "max", value: local(x) },
      { kind: "let", name: c, value: { kind: "select", cond: noneYet, then: { kind: "const", value: 1 }, else: exp(local(m0), local(m)) } },
      { kind: "let", name: p, value: { kind: "select", cond: noneYet, then: { kind: "const", value: 0 }, else: exp(local(x), local(m)) } },
      { kind: "update", name: l, op: "prod", value: local(c) },
      { kind: "update", name: l, op: "sum", value: local(p) },
    );
    const value = this.lower(form.value, pass, pass.length - 1);
    const weighted: KExpr = value.kind === "const" && value.value === 1 ? local(p) : { kind: "binary", op: "mul", lhs: local(p), rhs: value };
    pass[pass.length - 1]!.post.push(
      { kind: "store", buffer: def.name, offset, value: local(c), op: "prod" },
      { kind: "store", buffer: def.name, offset, value: weighted, op: "sum" },
    );
    body.push({ kind: "loop", var: form.j, extent: form.extent, body: assemble(pass, jAt) });
    // Normalise: the row's scale over its sum.
    const done = [...rowScopes, ...form.cols.map((v) => newScope(v, this.extentOf(v)))];
    const scale = this.lower(form.scale, done, done.length - 1);
    const r = fresh();
    const inverse: KExpr = { kind: "binary", op: "div", lhs: { kind: "const", value: 1 }, rhs: local(l) };
    const factor: KExpr = scale.kind === "const" && scale.value === 1 ? local(r) : { kind: "binary", op: "mul", lhs: scale, rhs: local(r) };
    body.push({ kind: "let", name: r, value: inverse });
    done[done.length - 1]!.post.push({ kind: "store", buffer: def.name, offset, value: factor, op: "prod" });
    body.push(...colLoops(done, rowScopes.length));
    rowLevel.post.push(...body);
    const reads = [...new Set(collectReads(def.body))].sort();
    return { target: def.name, reads, loopOrder: [...form.rows, form.j, ...form.cols], body: assemble(rowScopes, 0) };
  }
}

/** An innermost loop shorter than this is not worth its setup: {@link LowerDefOptions.longInnerLoop}. */
export const SHORT_LOOP = 8;

/** `order` with the longest of `movable` innermost when the innermost loop is shorter than {@link SHORT_LOOP}. */
function withLongInnerLoop(order: readonly string[], movable: readonly string[], extentOf: (v: string) => number): string[] {
  const inner = order[order.length - 1];
  if (inner === undefined || extentOf(inner) >= SHORT_LOOP) return [...order];
  const longest = movable.filter((v) => order.includes(v)).reduce<string | null>((best, v) => (extentOf(v) > (best === null ? 0 : extentOf(best)) ? v : best), null);
  if (longest === null || extentOf(longest) <= extentOf(inner)) return [...order];
  return [...order.filter((v) => v !== longest), longest];
}

function collectReads(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case "access": out.push(e.tensor); break;
    case "gather": out.push(e.tensor); for (const v of gatherValues(e)) collectReads(v, out); break;
    case "unary": collectReads(e.arg, out); break;
    case "binary": collectReads(e.lhs, out); collectReads(e.rhs, out); break;
    case "select": collectReads(e.cond, out); collectReads(e.then, out); collectReads(e.else, out); break;
    case "reduce": collectReads(e.body, out); break;
    default: break;
  }
  return out;
}

/** Options of {@link lowerDef}. */
export interface LowerDefOptions {
  /**
   * Keep the output indices as the outermost loops, in storage order, with
   * the reduction's loops inside them (default false: the loop order that
   * walks memory contiguously, which may put a reduction loop outside an
   * output loop). With it, no statement combines into the target buffer:
   * each output element is stored once, at the end of its iteration of the
   * output loops, so those loops can run in parallel (one GPU thread each).
   */
  readonly outputsOuter?: boolean;
  /**
   * Where the element at the def's output indices is stored (default: the
   * row-major offset over the def's own ranges). A piece of a split def
   * (`ir/split.ts`) is stored at its place in the whole output.
   */
  readonly outputOffset?: Affine;
  /** The number of the first local (`t0` by default), so that nests lowered apart can share one kernel. */
  readonly firstLocal?: number;
  /**
   * Output indices that may move innermost: when the chosen innermost loop
   * is shorter than {@link SHORT_LOOP} iterations (a one-column piece of a
   * split def), the longest of them that is longer goes innermost, so the
   * work runs in one long loop rather than many loops of one iteration.
   * Only an output index moves: the order of the summed variables, and so
   * every element's order of summation, stays.
   */
  readonly longInnerLoop?: readonly string[];
}

/**
 * Lowers one def to a kernel (without the contraction description).
 *
 * @example
 * ```ts
 * const k = lowerDef(def, new Map([["A", [4, 8]], ["B", [8, 3]]]));
 * k.loopOrder; // ["i", "k", "j"] for C[i, j] = A[i, k] * B[k, j]
 * lowerDef(def, shapes, { outputsOuter: true }).loopOrder; // ["i", "j", "k"]
 * ```
 */
export function lowerDef(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>, options: LowerDefOptions = {}): Kernel {
  return new DefLowering(def, shapes, options).run();
}

/**
 * Lowers a def in the softmax-weighted sum form to its one-pass kernel
 * (running maximum and sum per row; see `online-softmax.ts`).
 *
 * @example
 * ```ts
 * const form = matchOnlineSoftmax(def);
 * if (form) lowerOnlineSoftmax(def, form, shapes).loopOrder; // ["i", "j", "e"]
 * ```
 */
export function lowerOnlineSoftmax(def: DefNode, form: OnlineSoftmaxForm, shapes: ReadonlyMap<string, readonly number[]>): Kernel {
  return new DefLowering(def, shapes, { outputsOuter: true }).runOnlineSoftmax(form);
}
