/**
 * Backpropagation through time: the adjoint of a recurrence
 * `R[t, J] = f(R[t - c, ...], other reads)` (invariant 8) is itself a
 * recurrence, running backward in t: the adjoint at step t is what the
 * loss reads of R there directly, plus what flows back from the steps
 * t + c that read it. It is written as an ordinary recurrence of the IR over
 * the reversed index `s = N - 1 - t` (reading itself at `s - c`, base case
 * at the last step), so the interpreter and every backend run it as they run
 * the forward one, and `hoist-recurrence-invariants` treats its steps alike.
 * The gradients of the tensors the step reads (weights, the initial state,
 * the inputs) are then ordinary sums over t of the adjoint times the step's
 * partial derivatives.
 *
 * The step's partial derivatives come from `partials` with its nested
 * reductions kept (they read R, so they cannot be hoisted into defs as
 * `normalize` does for other defs). Each coefficient is split into the
 * factors that do not depend on the read's enclosing reduction variables,
 * computed once for all steps into a def (`<R>_dstep`, over the forward
 * index), and the rest, which stays in the sum of each step; reductions in
 * the rest that are per step only (a maximum of the previous state) also
 * become defs. The RNN
 *
 *     Hs[t, j] = recur(t) tanh(sum(k) X[t, k] * W[k, j]
 *                  + where(t > 0, sum(k_1) Hs[t - 1, k_1] * U[k_1, j], sum(k_2) h0[k_2] * U[k_2, j]))
 *
 * over t < 4, with G the adjoint of what the loss reads of Hs, becomes
 *
 *     Hs_dstep_2[t, j] = where(t > 0, (1 - Hs[t, j]) * (1 + Hs[t, j]), 0)
 *     grad_Hs_rev[b0, b1] = recur(b0) G[-b0 + 3, b1]
 *                           + where(b0 >= 1, sum(j) grad_Hs_rev[b0 - 1, j] * (Hs_dstep_2?[-b0 + 4, j] * U[b1, j]), 0)
 *     grad_Hs_fwd[t, j] = grad_Hs_rev[-t + 3, j]
 *     grad_U_Hs[g0, g1] = sum(t) grad_Hs_fwd[t, g1] * (Hs_dstep_2[t, g1] * Hs_pad[t, g0])
 *
 * (`Hs_pad` is Hs shifted by one step, zero at the first; `?` marks a
 * guarded read, which is 0 where the `where` around it does not use it).
 */
import { CompileError } from "../../diagnostics/diagnostic.js";
import type { Access, Affine, DefNode, DType, Expr } from "../../ir/types.js";
import { access, affine, affineVar, binary, indexValue, num, reduce, select } from "../../ir/types.js";
import { recurrenceErrors } from "../../ir/recurrence.js";
import { affineBounds } from "../../ir/verify.js";
import { boundVars, exprKey, freeVars, mapExpr, renameVars, substituteVars } from "../../ir/walk.js";
import { mul, partials, type Partial } from "./partials.js";
import { scatterDef, type Padder } from "./scatter.js";

/** What {@link backpropRecurrence} needs from the backward program it adds to. */
export interface RecurrenceBackward {
  /** An unused tensor name starting with `base`. */
  readonly fresh: (base: string) => string;
  /** Appends a def to the backward program. */
  readonly emit: (def: DefNode) => void;
  readonly shapeOf: (tensor: string) => readonly number[];
  /** Whether the loss's gradient flows into `tensor`. */
  readonly active: (tensor: string) => boolean;
  /** Adds the contribution `term` of the read `part` summed over `vars` to the adjoint of the tensor it reads. */
  readonly contribute: (part: Partial, term: Expr, vars: readonly string[], ranges: Readonly<Record<string, number>>, pad: Padder) => void;
}

/**
 * Emits the backward recurrence of `r` given `adjoint`, the def holding the
 * derivative of the loss by what it reads of `r` directly, and adds a
 * contribution for every active tensor the step reads.
 *
 * @throws CompileError (TNS0901) for a step whose adjoint is not a recurrence of the IR
 *
 * @example
 * ```ts
 * backpropRecurrence(hs, "grad_Hs", backward); // emits Hs_dstep, grad_Hs_rev, grad_Hs_fwd, grad_U_Hs, ...
 * ```
 */
export function backpropRecurrence(r: DefNode, adjoint: string, b: RecurrenceBackward): void {
  const v = r.recurrence!;
  const dim = r.indices.indexOf(v);
  const n = r.ranges[v]!;
  const dtype: DType = r.dtype === "f64" ? "f64" : "f32";
  const ranges: Record<string, number> = { ...r.ranges };
  const taken = new Set(Object.keys(r.ranges));
  const freshVar = (base: string, extent: number): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    ranges[name] = extent;
    return name;
  };
  const top = r.body.kind === "unary" ? access(r.name, r.indices) : undefined;

  // Per-step factors computed once for all steps, over the forward index (deduplicated).
  const hoisted = new Map<string, Access>();
  const hoist = (e: Expr, suffix: string): Access => {
    const guardedBody = guardSteps(e, r.name);
    const key = exprKey(guardedBody);
    const known = hoisted.get(key);
    if (known !== undefined) return known;
    const used = freeVars(guardedBody);
    const indices = [...r.indices.filter((x) => used.has(x)), ...[...used].filter((x) => !r.indices.includes(x))];
    const name = b.fresh(`${r.name}_${suffix}`);
    const defRanges: Record<string, number> = {};
    for (const x of [...indices, ...boundVars(guardedBody)]) defRanges[x] = ranges[x]!;
    b.emit({
      role: "def", name, dtype, shape: indices.map((x) => ranges[x]!), output: false,
      indices, groups: indices.map(() => 1), ranges: defRanges, body: uniqueBound(guardedBody, defRanges, new Set(indices)),
    });
    const read = access(name, indices);
    hoisted.set(key, read);
    return read;
  };
  const parts = partials(r.body, top, { fresh: (u) => freshVar(u, ranges[u]!), store: (e) => hoist(e, "dterm") });
  const split = parts.map((part) => {
    const within = new Set(part.within);
    const factors = flattenProduct(part.coef);
    const outer = factors.filter((f) => ![...freeVars(f)].some((x) => within.has(x)));
    const inner = factors.filter((f) => !outer.includes(f)).map((f) => hoistStepReductions(f, within, (e) => hoist(e, "dstep")));
    const outerProduct = outer.length === 0 ? num(1) : outer.reduce((x, y) => binary("mul", x, y));
    const outerRead = outerProduct.kind === "const" ? outerProduct : hoist(outerProduct, "dstep");
    return { part, outer: outerRead, inner, coef: [outerRead, ...inner].reduce((x, y) => mul(x, y)) };
  });

  // The backward recurrence over the reversed index b_v = N - 1 - t.
  const rev = b.fresh(`grad_${r.name}_rev`);
  const idx = r.indices.map((_, d) => freshVar(`b${d}`, r.shape[d]!));
  const vr = idx[dim]!;
  const others = r.indices.filter((x) => x !== v);
  const forwardAdjoint = (name: string): Access =>
    access(name, r.indices.map((x, d) => (d === dim ? affine([{ var: v, coef: -1 }], n - 1) : affineVar(x))));
  const revRanges: Record<string, number> = Object.fromEntries(idx.map((x, d) => [x, r.shape[d]!]));
  const terms: Expr[] = [access(adjoint, idx.map((x, d) => (d === dim ? affine([{ var: x, coef: -1 }], n - 1) : affineVar(x))))];
  let readsItself = false;
  // A step factor in the order of the backward steps, `c` steps behind: read in the step without a bounds test.
  const reversed = new Map<string, Access>();
  const stepOrder = (read: Access, c: number): Expr => {
    if (!read.index.some((a) => a.terms.some((t) => t.var === v))) return read;
    const key = `${read.tensor}|${c}`;
    let made = reversed.get(key);
    if (made === undefined) {
      const indices = read.index.map((a) => a.terms[0]!.var);
      const name = b.fresh(`${read.tensor}_rev`);
      const back = access(read.tensor, indices.map((x) => (x === v ? affine([{ var: v, coef: -1 }], n - 1 + c) : affineVar(x))), true);
      b.emit({
        role: "def", name, dtype, shape: indices.map((x) => ranges[x]!), output: false, indices, groups: indices.map(() => 1),
        ranges: Object.fromEntries(indices.map((x) => [x, ranges[x]!])), body: select(binary("ge", indexValue(v), num(c)), back, num(0)),
      });
      made = access(name, indices);
      reversed.set(key, made);
    }
    // Written at the forward step, so that the substitution below turns it into made[b_v, ...].
    return access(made.tensor, made.index.map((a) => (a.terms[0]!.var === v ? affine([{ var: v, coef: -1 }], n - 1 + c) : a)));
  };
  for (const { part, outer, inner } of split) {
    if (part.access?.tensor !== r.name) continue;
    const c = -part.access.index[dim]!.constant;
    // The step t = N - 1 - b_v + c reads R at b_v's step; its adjoint there is rev[b_v - c].
    const atStep = new Map([[v, affine([{ var: vr, coef: -1 }], n - 1 + c)]]);
    const factor = outer.kind === "access" ? stepOrder(outer, c) : outer;
    const stepTerm = [forwardAdjoint(rev) as Expr, factor, ...inner].reduce((x, y) => mul(x, y));
    const term = guardMentions(substituteVars(stepTerm, atStep), vr, (x) => (x === rev ? r.shape : b.shapeOf(x)), ranges);
    const read = access(r.name, part.access.index.map((a, d) => (d === dim ? affineVar(vr) : a)));
    const def = scatterDef(rev, dtype, {
      read, shape: r.shape, term, vars: [vr, ...others, ...part.within], ranges, shapeOf: b.shapeOf, keepGuarded: true,
    }, () => refuse(r, "a read of the step's partial derivatives leaves its tensor"));
    if (def.groups.some((g) => g !== 1)) refuse(r, "a state read through a grouped or strided index");
    const rename = new Map(def.indices.map((x, d) => [x, idx[d]!]));
    const body = unguard(renameVars(def.body, rename), rev);
    for (const [x, e] of Object.entries(def.ranges)) revRanges[rename.get(x) ?? x] = e;
    terms.push(select(binary("ge", indexValue(vr), num(c)), body, num(0)));
    readsItself = true;
  }
  const revBody = uniqueBound(terms.reduce((x, y) => binary("add", x, y)), revRanges, new Set(idx));
  const revDef: DefNode = {
    role: "def", name: rev, dtype, shape: [...r.shape], output: false, indices: idx, groups: idx.map(() => 1),
    ranges: revRanges, body: revBody, ...(readsItself ? { recurrence: vr } : {}),
  };
  const errors = recurrenceErrors(revDef);
  if (errors.length > 0) refuse(r, errors[0]!);
  b.emit(revDef);

  // The adjoint in forward order, then the contributions of every other read, summed over the steps.
  const fwd = b.fresh(`grad_${r.name}_fwd`);
  b.emit({
    role: "def", name: fwd, dtype, shape: [...r.shape], output: false, indices: [...r.indices], groups: r.indices.map(() => 1),
    ranges: Object.fromEntries(r.indices.map((x) => [x, ranges[x]!])), body: forwardAdjoint(rev),
  });
  const padded = new Map<string, string>();
  const pad: Padder = (tensor, lo, hi) => {
    const key = `${tensor}|${lo.join(",")}|${hi.join(",")}`;
    let name = padded.get(key);
    if (name === undefined) {
      name = b.fresh(`${tensor}_pad`);
      padded.set(key, name);
      b.emit(paddedCopy(name, tensor, b.shapeOf(tensor), lo, hi, dtype));
    }
    return name;
  };
  for (const { part, coef } of split) {
    const x = part.access?.tensor ?? part.gather!.tensor;
    if (x === r.name || !b.active(x)) continue;
    b.contribute(part, mul(access(fwd, r.indices), coef), [...r.indices, ...part.within], ranges, pad);
  }
}

function refuse(r: DefNode, why: string): never {
  throw new CompileError([{
    code: "TNS0901", severity: "error", notes: [],
    message: `the gradient goes through the recurrence '${r.name}', whose backward steps cannot be formed: ${why}`,
    hint: "read the previous steps as whole rows (R[t - c, k] summed over k, or R[t - c, j] at the step's own j), or differentiate by tensors the recurrence does not depend on",
  }]);
}

/** The factors of a product (`a * b * c` -> [a, b, c]); anything else is one factor. */
function flattenProduct(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...flattenProduct(e.lhs), ...flattenProduct(e.rhs)] : [e];
}

/**
 * Replaces every largest subexpression of `e` that holds a reduction and
 * uses none of `within` (nor a variable bound inside `e`) by `hoist(it)`:
 * per-step values (the maximum over the previous state) computed once.
 */
function hoistStepReductions(e: Expr, within: ReadonlySet<string>, hoist: (e: Expr) => Expr): Expr {
  const go = (x: Expr, local: ReadonlySet<string>): Expr => {
    if (boundVars(x).length === 0) return x;
    if (![...freeVars(x)].some((u) => local.has(u))) return hoist(x);
    switch (x.kind) {
      case "unary": return { ...x, arg: go(x.arg, local) };
      case "binary": return { ...x, lhs: go(x.lhs, local), rhs: go(x.rhs, local) };
      case "select": return { ...x, cond: go(x.cond, local), then: go(x.then, local), else: go(x.else, local) };
      case "reduce": return { ...x, body: go(x.body, new Set([...local, ...x.vars])) };
      default: return x;
    }
  };
  return go(e, within);
}

/** Reads of the recurrence `self` at earlier steps marked guarded: outside the steps they read 0. */
function guardSteps(e: Expr, self: string): Expr {
  return mapExpr(e, (x) => (x.kind === "access" && x.tensor === self && x.index.some((a) => a.constant < 0) ? { ...x, guarded: true } : x));
}

/** Every access whose index mentions `v` and can leave its tensor over `ranges` marked guarded. */
function guardMentions(e: Expr, v: string, shapeOf: (tensor: string) => readonly number[], ranges: Readonly<Record<string, number>>): Expr {
  const leaves = (x: Access): boolean => {
    const shape = shapeOf(x.tensor);
    return x.index.some((a, d) => {
      if (!a.terms.some((t) => t.var === v)) return false;
      const { min, max } = affineBounds(a, ranges);
      return min < 0 || max > shape[d]! - 1;
    });
  };
  return mapExpr(e, (x) => (x.kind === "access" && leaves(x) ? { ...x, guarded: true } : x));
}

/** The reads of `tensor` made plain again. */
function unguard(e: Expr, tensor: string): Expr {
  return mapExpr(e, (x) => (x.kind === "access" && x.tensor === tensor && x.guarded ? access(x.tensor, x.index) : x));
}

/**
 * `e` with the variables of its reductions renamed so that each reduction
 * binds its own (invariant 2), none of them in `free`; `ranges` gains the
 * new names.
 */
function uniqueBound(e: Expr, ranges: Record<string, number>, free: ReadonlySet<string>): Expr {
  const seen = new Set<string>(free);
  const go = (x: Expr): Expr => {
    switch (x.kind) {
      case "reduce": {
        const renamed = new Map<string, string>();
        for (const u of x.vars) {
          if (!seen.has(u)) {
            seen.add(u);
            continue;
          }
          let name = `${u}_1`;
          for (let k = 2; seen.has(name) || name in ranges; k++) name = `${u}_${k}`;
          seen.add(name);
          ranges[name] = ranges[u]!;
          renamed.set(u, name);
        }
        const body = go(renamed.size === 0 ? x.body : renameFree(x.body, renamed));
        return reduce(x.op, x.vars.map((u) => renamed.get(u) ?? u), body);
      }
      case "unary": return { ...x, arg: go(x.arg) };
      case "binary": return { ...x, lhs: go(x.lhs), rhs: go(x.rhs) };
      case "select": return { ...x, cond: go(x.cond), then: go(x.then), else: go(x.else) };
      case "gather": return { ...x, index: x.index.map((d) => (d.value === null ? d : { ...d, value: go(d.value) })) };
      default: return x;
    }
  };
  return go(e);
}

/** Renames the free occurrences of variables (inner reductions that rebind one shadow it). */
function renameFree(e: Expr, map: ReadonlyMap<string, string>): Expr {
  return substituteVars(e, new Map([...map].map(([k, x]) => [k, affineVar(x)] as [string, Affine])));
}

/** `name`, the tensor zero-padded by lo[d] before and hi[d] after each dimension d: a guarded copy. */
function paddedCopy(name: string, tensor: string, shape: readonly number[], lo: readonly number[], hi: readonly number[], dtype: DType): DefNode {
  const next = shape.map((x, d) => x + lo[d]! + hi[d]!);
  const indices = next.map((_, d) => `p${d}`);
  const inside: Expr[] = [];
  shape.forEach((x, d) => {
    if (lo[d]! > 0) inside.push(binary("ge", indexValue(indices[d]!), num(lo[d]!)));
    if (hi[d]! > 0) inside.push(binary("le", indexValue(indices[d]!), num(lo[d]! + x - 1)));
  });
  const read = access(tensor, indices.map((p, d) => affine([{ var: p, coef: 1 }], -lo[d]!)), true);
  return {
    role: "def", name, dtype, shape: next, output: false, indices, groups: next.map(() => 1),
    ranges: Object.fromEntries(indices.map((p, d) => [p, next[d]!])),
    body: inside.length === 0 ? read : select(inside.reduce((x, y) => binary("mul", x, y)), read, num(0)),
  };
}
