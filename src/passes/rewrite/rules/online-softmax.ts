/**
 * `online-softmax`: a softmax-normalised sum whose scores, row maximum and
 * exponentials are defs of their own becomes one def in the
 * softmax-weighted sum form, which the kernel lowering runs in one pass over
 * the summed variable with a running maximum and sum
 * (backends/kernel/online-softmax.ts), so the scores are never stored:
 *
 *     S[i, j] = 0.125 * sum(k) Q[i, k] * K[j, k]
 *     M[i] = max(j) S[i, j]
 *     E[i, j] = exp(S[i, j] - M[i])
 *     O[i, e] = 1 / (sum(l) E[i, l]) * sum(j) E[i, j] * V[j, e]
 *       →  O[i, e] = 1 / (sum(l) exp(σ(i, l) − max(j_1) σ(i, j_1))) * sum(j) exp(σ(i, j) − max(j_2) σ(i, j_2)) * V[j, e]
 *          with σ(i, j) = 0.125 * sum(k) Q[i, k] * K[j, k]
 *
 * The rule only inlines (each def's body read at the access, bound
 * variables renamed apart), so it keeps every value the reference
 * interpreter computes; it applies where the inlined def has the form the
 * kernel lowering recognises, which requires the shift to be the maximum of
 * the very score exponentiated and the denominator to sum the same
 * exponentials over the same range. What it inlines: a sum's factor read
 * from a def that is an exponential (E), and, inside an exponential's
 * argument, a def read at a summed or maximised variable (the scores S, a
 * mask over them) or a def that is a maximum (M). Operands read without
 * such a variable (Q, K, V, a projection) stay stored.
 */
import { matchOnlineSoftmax } from "../../../backends/kernel/online-softmax.js";
import { productFactors } from "../../../backends/kernel/reassociate.js";
import type { Access, DefNode, Expr, Program, TensorNode } from "../../../ir/types.js";
import { children } from "../../../ir/walk.js";
import { programRule } from "../rule.js";
import { producerBodyAt } from "./fusion.js";

/** Where `online-softmax` applies: the def that becomes one softmax-weighted sum. */
export interface OnlineSoftmaxSite {
  readonly def: string;
}

/** How deep inlined bodies are searched for further defs to inline (S inside M inside E). */
const MAX_INLINE_DEPTH = 6;

/** A def that may be inlined: ungrouped, not a recurrence, and not an integer def (which would round what it stores). */
function inlinable(t: TensorNode | undefined): t is DefNode {
  return t?.role === "def" && t.groups.every((g) => g === 1) && t.dtype !== "i32" && t.recurrence === undefined;
}

/** The def being built: its body so far and its ranges, grown by each inlined body's bound variables. */
interface Building {
  def: DefNode;
}

/** `a` replaced by its producer's body, the def's ranges extended. */
function inlineAccess(a: Access, producer: DefNode, into: Building): Expr {
  const { body, ranges } = producerBodyAt(a, producer, into.def);
  into.def = { ...into.def, ranges: { ...into.def.ranges, ...ranges } };
  return body;
}

/** Rebuilds `e` with `f` applied to each child in turn (left to right, so fresh names stay distinct). */
function rebuild(e: Expr, f: (c: Expr) => Expr): Expr {
  switch (e.kind) {
    case "unary": return { ...e, arg: f(e.arg) };
    case "binary": { const lhs = f(e.lhs); return { ...e, lhs, rhs: f(e.rhs) }; }
    case "select": { const cond = f(e.cond); const then = f(e.then); return { ...e, cond, then, else: f(e.else) }; }
    case "reduce": return { ...e, body: f(e.body) };
    default: return e;
  }
}

/** Inside an exponential's argument: defs read at a summed or maximised variable, and maxima, inlined (recursively). */
function inlineScores(e: Expr, reduced: ReadonlySet<string>, program: ReadonlyMap<string, TensorNode>, into: Building, depth: number): Expr {
  if (e.kind === "access") {
    const t = program.get(e.tensor);
    const atReduced = e.index.some((a) => a.terms.some((term) => reduced.has(term.var)));
    const isMax = inlinable(t) && t.body.kind === "reduce" && t.body.op === "max";
    if (depth < MAX_INLINE_DEPTH && inlinable(t) && (atReduced || isMax)) {
      return inlineScores(inlineAccess(e, t, into), reduced, program, into, depth + 1);
    }
    return e;
  }
  const inner = e.kind === "reduce" ? new Set([...reduced, ...e.vars]) : reduced;
  return rebuild(e, (c) => inlineScores(c, inner, program, into, depth));
}

/** Whether a def is an exponential, or a product or quotient with an exponential factor (a normalised softmax `E / Σ E`). */
function isExponential(t: DefNode, program: ReadonlyMap<string, TensorNode>, depth = 0): boolean {
  if (t.body.kind === "unary" && t.body.op === "exp") return true;
  if (depth > 0) return false;
  return productFactors(t.body).some((f) => {
    if (f.inverse) return false;
    if (f.expr.kind === "unary" && f.expr.op === "exp") return true;
    const u = f.expr.kind === "access" ? program.get(f.expr.tensor) : undefined;
    return inlinable(u) && isExponential(u, program, depth + 1);
  });
}

/** A sum's factors read from exponential defs inlined (until none is left), then every exponential's argument through {@link inlineScores}. */
function inlineSoftmax(e: Expr, reduced: ReadonlySet<string>, program: ReadonlyMap<string, TensorNode>, into: Building): Expr {
  if (e.kind === "reduce" && e.op === "sum" && e.vars.length === 1) {
    const inner = new Set([...reduced, ...e.vars]);
    let body = e.body;
    for (let round = 0; round < MAX_INLINE_DEPTH; round++) {
      const factors = new Set(productFactors(body).map((f) => f.expr));
      const next = mapFactors(body, factors, (f) => {
        const t = f.kind === "access" ? program.get(f.tensor) : undefined;
        return inlinable(t) && isExponential(t, program) ? inlineAccess(f as Access, t, into) : f;
      });
      if (next === body) break;
      body = next;
    }
    return { ...e, body: inlineSoftmax(body, inner, program, into) };
  }
  if (e.kind === "unary" && e.op === "exp") return { ...e, arg: inlineScores(e.arg, reduced, program, into, 0) };
  const inner = e.kind === "reduce" ? new Set([...reduced, ...e.vars]) : reduced;
  return rebuild(e, (c) => inlineSoftmax(c, inner, program, into));
}

/** `e` with each node of `factors` (the factors of a product) replaced by `f` of it. */
function mapFactors(e: Expr, factors: ReadonlySet<Expr>, f: (x: Expr) => Expr): Expr {
  if (factors.has(e)) return f(e);
  if (e.kind === "binary" && (e.op === "mul" || e.op === "div")) return rebuild(e, (c) => mapFactors(c, factors, f));
  return e;
}

const byNameCache = new WeakMap<Program, ReadonlyMap<string, TensorNode>>();

function tensorsByName(program: Program): ReadonlyMap<string, TensorNode> {
  let known = byNameCache.get(program);
  if (!known) {
    known = new Map(program.tensors.map((t) => [t.name, t]));
    byNameCache.set(program, known);
  }
  return known;
}

/** The def with its softmax chain inlined, when that gives the softmax-weighted sum form and changed something. */
function fusedDef(def: DefNode, program: Program): DefNode | null {
  const byName = tensorsByName(program);
  if (def.dtype === "i32" || !containsExp(def.body, byName)) return null;
  const into: Building = { def };
  const body = inlineSoftmax(def.body, new Set(), byName, into);
  if (body === def.body) return null;
  const fused: DefNode = { ...into.def, body };
  return matchOnlineSoftmax(fused) ? fused : null;
}

/** Whether `e` reads an exponential def or holds an exponential (a cheap filter before inlining). */
function containsExp(e: Expr, program: ReadonlyMap<string, TensorNode>): boolean {
  if (e.kind === "unary" && e.op === "exp") return true;
  if (e.kind === "access") {
    const t = program.get(e.tensor);
    return inlinable(t) && isExponential(t, program);
  }
  return children(e).some((c) => containsExp(c, program));
}

/** `after` without the defs that `before` read and `after` no longer reads (not outputs), until none is left. */
function withoutNewlyUnread(before: Program, after: Program): Program {
  const readBefore = readSet(before.tensors);
  let tensors = after.tensors;
  for (;;) {
    const read = readSet(tensors);
    const kept = tensors.filter((t) => t.role !== "def" || t.output || read.has(t.name) || !readBefore.has(t.name));
    if (kept.length === tensors.length) return { ...after, tensors };
    tensors = kept;
  }
}

function readSet(tensors: readonly TensorNode[]): Set<string> {
  const read = new Set<string>();
  for (const t of tensors) {
    if (t.role === "def") collectAccesses(t.body, read);
    if (t.role === "call") t.args.forEach((a) => read.add(a));
    if (t.role === "grad") { read.add(t.loss); read.add(t.wrt); }
  }
  return read;
}

function collectAccesses(e: Expr, into: Set<string>): void {
  if (e.kind === "access") into.add(e.tensor);
  for (const c of children(e)) collectAccesses(c, into);
}

/**
 * `online-softmax` (see the module comment): the def with its softmax
 * chain inlined, and the defs only it read dropped.
 *
 * @example
 * ```ts
 * const [site] = onlineSoftmax.sites(attention); // { def: "O" }
 * onlineSoftmax.rewrite(site!, attention).tensors.map((t) => t.name); // ["Q", "K", "V", "O"]
 * ```
 */
export const onlineSoftmax = programRule<OnlineSoftmaxSite>({
  name: "online-softmax",
  statement: "Σ_j exp(s_j − max s)·v_j / Σ_j exp(s_j − max s) with s, max s, exp(s − max s) stored ⇒ one def of that form (one pass, running max and sum)",
  sites: (program, only) => {
    const out: OnlineSoftmaxSite[] = [];
    for (const t of only === undefined ? program.tensors : program.tensors.slice(only, only + 1)) {
      if (t.role === "def" && fusedDef(t, program)) out.push({ def: t.name });
    }
    return out;
  },
  rewrite: (site, program) => {
    const def = program.tensors.find((t) => t.name === site.def) as DefNode;
    const fused = fusedDef(def, program)!;
    return withoutNewlyUnread(program, { ...program, tensors: program.tensors.map((t) => (t === def ? fused : t)) });
  },
});
