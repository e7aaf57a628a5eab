/**
 * Program rules that fuse elementwise work, so that a def is either a
 * contraction with an elementwise epilogue (which the backends run as one
 * register-blocked kernel) or plain elementwise work, and no intermediate
 * is stored only to be read back once:
 *
 * - `fuse-elementwise-producer` inlines a def read by one other def, once,
 *   outside any reduction and one element per element, into that reader:
 *
 *       T[i, j] = exp(X[i, j] - M[i])
 *       Y[i, j] = T[i, j] * 2            →   Y[i, j] = exp(X[i, j] - M[i]) * 2
 *
 *   and so also a matrix product into the elementwise def that post-processes
 *   it, which then is one matrix product with an epilogue:
 *
 *       S[i, j] = sum(k) Q[i, k] * K[j, k] * 0.125
 *       Sm[i, j] = where(j <= i, S[i, j], -inf)
 *         →   Sm[i, j] = where(j <= i, sum(k) Q[i, k] * K[j, k] * 0.125, -inf)
 *
 * - `extract-invariant-reduction` moves a reduction that does not depend on
 *   every output index out of a contraction's epilogue into a def of its
 *   own, so the epilogue reads it instead of recomputing it:
 *
 *       O[i, e] = 1 / (sum(l) E[i, l]) * sum(j) E[i, j] * V[j, e]
 *         →   O_r[i] = 1 / (sum(l) E[i, l])
 *             O[i, e] = O_r[i] * sum(j) E[i, j] * V[j, e]
 *
 * Neither duplicates work: an inlined producer is evaluated once per
 * element, as it was, and an extracted reduction once per value of its
 * free indices, as the kernel lowering already hoists it.
 */
import { kernelForm } from "../../../backends/kernel/lower.js";
import type { Access, DefNode, Expr, Program, TensorNode } from "../../../ir/types.js";
import { access, affineVar, isPlainVar } from "../../../ir/types.js";
import { boundVars, children, exprDepth, exprKey, freeVars, mapExpr, renameVars, substituteVars } from "../../../ir/walk.js";
import { programRule } from "../rule.js";
import { freshName } from "./program-helpers.js";
import { hasReduction, productFactors } from "./products.js";

const tensorIndexes = new WeakMap<Program, Map<string, TensorNode>>();

function defNamed(program: Program, name: string): DefNode | undefined {
  let index = tensorIndexes.get(program);
  if (!index) {
    index = new Map(program.tensors.map((t) => [t.name, t]));
    tensorIndexes.set(program, index);
  }
  const t = index.get(name);
  // A recurrence is opaque to the rules (like an input): it reads itself, so it is never inlined or split.
  // So is a scatter-add: inlined into a reader it would be a masked sum over every element again.
  return t?.role === "def" && t.recurrence === undefined && t.scatter === undefined ? t : undefined;
}

/** One read of a tensor: the def that reads it (null for a call argument), the access, and whether a reduction encloses it. */
interface Read { readonly def: string | null; readonly access: Access | null; readonly inReduction: boolean }

/**
 * Every read of every tensor of a program, indexed once per program: the
 * conditions of a site ask about one tensor, and asking the whole program
 * each time made the pass cubic in the number of defs.
 */
const readIndexes = new WeakMap<Program, Map<string, Read[]>>();

function readIndex(program: Program): Map<string, Read[]> {
  const known = readIndexes.get(program);
  if (known) return known;
  const index = new Map<string, Read[]>();
  const add = (name: string, read: Read): void => {
    const list = index.get(name);
    if (list) list.push(read);
    else index.set(name, [read]);
  };
  for (const t of program.tensors) {
    if (t.role === "call") for (const a of t.args) add(a, { def: null, access: null, inReduction: false });
    if (t.role === "def") for (const read of readsIn(t)) add(read.access!.tensor, read);
  }
  readIndexes.set(program, index);
  return index;
}

/** The reads of one def, kept while the def is unchanged (a rewrite leaves every other def as it was). */
const defReads = new WeakMap<DefNode, Read[]>();

function readsIn(t: DefNode): Read[] {
  const known = defReads.get(t);
  if (known) return known;
  const out: Read[] = [];
  const walk = (e: Expr, inReduction: boolean): void => {
    if (e.kind === "access") out.push({ def: t.name, access: e, inReduction });
    for (const c of children(e)) walk(c, inReduction || e.kind === "reduce");
  };
  walk(t.body, false);
  defReads.set(t, out);
  return out;
}

/**
 * The indexes of `next`, which is `before` with `producer` fused into
 * `consumer` (now `fused`), made from those of `before` when it has them:
 * they move to `next` with a few changes instead of a walk of every def,
 * which keeps a long run of fusions linear (`before` builds new ones if
 * asked again).
 */
function carryIndexes(before: Program, next: Program, producer: DefNode, consumer: DefNode, fused: DefNode): void {
  const tensors = tensorIndexes.get(before);
  if (tensors) {
    tensorIndexes.delete(before);
    tensors.delete(producer.name);
    tensors.set(consumer.name, fused);
    tensorIndexes.set(next, tensors);
  }
  const reads = readIndexes.get(before);
  if (reads) {
    readIndexes.delete(before);
    reads.delete(producer.name);
    // The consumer's other reads are unchanged (fusion edits only the producer's access, outside
    // reductions): only the tensors the producer read change readers, from it to the consumer.
    const gone = new Set([producer.name, consumer.name]);
    const touched = new Set(readsIn(producer).map((r) => r.access!.tensor));
    for (const name of touched) {
      const list = reads.get(name)!;
      // Reads of one tensor are few except for a tensor that every def reads; drop from the end, where the last changes are.
      for (let k = list.length - 1; k >= 0; k--) if (list[k]!.def !== null && gone.has(list[k]!.def!)) list.splice(k, 1);
    }
    for (const read of readsIn(fused)) {
      const name = read.access!.tensor;
      if (!touched.has(name)) continue;
      const list = reads.get(name);
      if (list) list.push(read);
      else reads.set(name, [read]);
    }
    readIndexes.set(next, reads);
  }
}

/** Accesses of `name` anywhere in the program (defs and call arguments), with whether a reduction encloses each. */
function readsOf(program: Program, name: string): readonly Read[] {
  return readIndex(program).get(name) ?? [];
}

/**
 * Fusion stops growing a body past this depth: a chain of a thousand
 * elementwise defs becomes defs of a few dozen levels each, not one
 * expression a thousand levels deep for every later stage to recurse on.
 */
export const MAX_FUSED_DEPTH = 64;

/** Where `fuse-elementwise-producer` applies: the producer and its one reader. */
export interface ProducerSite {
  readonly consumer: string;
  readonly producer: string;
}

/** The one read of the site's producer, when the consumer is the only reader and reads it once. */
function soleRead(s: ProducerSite, p: Program): { access: Access; inReduction: boolean } | null {
  const reads = readsOf(p, s.producer);
  const r = reads[0];
  return reads.length === 1 && r!.def === s.consumer && r!.access ? { access: r!.access, inReduction: r!.inReduction } : null;
}

/**
 * Whether the access reads every element of the producer exactly once over
 * the consumer's output points: its indices are the consumer's output
 * indices, each once, spanning the producer's extents.
 */
function readsEachElementOnce(a: Access, producer: DefNode, consumer: DefNode): boolean {
  if (a.index.length !== consumer.indices.length || a.index.length !== producer.indices.length) return false;
  const vars = new Set<string>();
  for (let k = 0; k < a.index.length; k++) {
    const ix = a.index[k]!;
    if (!isPlainVar(ix) || ix.terms[0].coef !== 1 || ix.constant !== 0) return false;
    const v = ix.terms[0].var;
    if (!consumer.indices.includes(v) || consumer.ranges[v] !== producer.shape[k]) return false;
    vars.add(v);
  }
  return vars.size === consumer.indices.length;
}

/**
 * The producer's body read at the access: its reduction variables renamed
 * apart from the consumer's variables, its indices replaced by the access's.
 */
export function producerBodyAt(a: Access, producer: DefNode, consumer: DefNode): { body: Expr; ranges: Record<string, number> } {
  const taken = new Set([...Object.keys(consumer.ranges), ...consumer.indices, ...Object.keys(producer.ranges)]);
  const rename: Record<string, string> = {};
  const ranges: Record<string, number> = {};
  for (const v of Object.keys(producer.ranges)) {
    if (producer.indices.includes(v)) continue;
    const fresh = consumer.ranges[v] === undefined && !consumer.indices.includes(v) ? v : freshName(v, taken);
    taken.add(fresh);
    rename[v] = fresh;
    ranges[fresh] = producer.ranges[v]!;
  }
  const renamed = renameVars(producer.body, rename);
  const sub = Object.fromEntries(producer.indices.map((v, k) => [v, a.index[k]!]));
  return { body: substituteVars(renamed, sub), ranges };
}

/** The consumer of a site with its producer inlined (the site must pass `only-reader-reads-once-outside-reductions`). */
function fusedConsumer(s: ProducerSite, program: Program): DefNode {
  const c = defNamed(program, s.consumer)!;
  const w = defNamed(program, s.producer)!;
  const { access: a } = soleRead(s, program)!;
  const inlined = producerBodyAt(a, w, c);
  const body = mapExpr(c.body, (x) => (x.kind === "access" && x.tensor === w.name ? inlined.body : x));
  return { ...c, body, ranges: { ...c.ranges, ...inlined.ranges } };
}

/**
 * Whether the backends run the fused consumer as one matrix product, plain
 * or with an elementwise epilogue (`kernelForm` of the kernel lowering): a
 * matrix product folded into the elementwise def that post-processes it.
 */
function fusesIntoMatrixProduct(s: ProducerSite, program: Program): boolean {
  const shapes = new Map(program.tensors.map((t) => [t.name, t.shape] as const));
  return kernelForm(fusedConsumer(s, program), shapes).startsWith("matrix-product");
}

/**
 * `fuse-elementwise-producer`: a def read by exactly one other def, once,
 * outside any reduction and one element per output point, is inlined into
 * it and dropped. The producer must be elementwise (no reduction), the
 * reader a copy of it (`Y[i, j] = T[i, j]`), or the fused reader a matrix
 * product with an elementwise epilogue (`where(j <= i, S[i, j], -inf)` of
 * `S = Q·Kᵀ`), which both backends run as one blocked kernel that applies
 * the epilogue as it stores; so no reduction is nested deeper and no
 * matrix product leaves the blocked path.
 *
 * @example
 * ```ts
 * // T[i] = exp(X[i]); Y[i] = T[i] * 2  →  Y[i] = exp(X[i]) * 2
 * fuseElementwiseProducer.rewrite({ consumer: "Y", producer: "T" }, program);
 * ```
 */
export const fuseElementwiseProducer = programRule<ProducerSite>({
  name: "fuse-elementwise-producer",
  statement: "T[i] = f(i); Y[i] = g(T[i]) ⇒ Y[i] = g(f(i)) when Y is T's only reader and reads each element once, outside reductions",
  conditions: [
    { name: "producer-is-not-an-output", holds: (s, p) => !defNamed(p, s.producer)!.output },
    {
      // An integer def truncates what it stores; inlining would drop that.
      name: "not-an-integer-def",
      holds: (s, p) => defNamed(p, s.producer)!.dtype !== "i32" && defNamed(p, s.consumer)!.dtype !== "i32",
    },
    {
      name: "producer-is-ungrouped",
      holds: (s, p) => defNamed(p, s.producer)!.groups.every((g) => g === 1),
    },
    {
      name: "only-reader-reads-once-outside-reductions",
      holds: (s, p) => soleRead(s, p)?.inReduction === false,
    },
    {
      name: "reads-each-element-once",
      holds: (s, p) => readsEachElementOnce(soleRead(s, p)!.access, defNamed(p, s.producer)!, defNamed(p, s.consumer)!),
    },
    {
      // An upper bound of the fused body's depth (the producer's body replaces one access).
      name: "fused-body-within-depth-limit",
      holds: (s, p) => exprDepth(defNamed(p, s.consumer)!.body) + exprDepth(defNamed(p, s.producer)!.body) - 1 <= MAX_FUSED_DEPTH,
    },
    {
      name: "producer-elementwise-or-fused-a-matrix-product",
      holds: (s, p) =>
        !hasReduction(defNamed(p, s.producer)!.body) || defNamed(p, s.consumer)!.body.kind === "access" || fusesIntoMatrixProduct(s, p),
    },
  ],
  sites: (program, only) => {
    const out: ProducerSite[] = [];
    for (const c of only === undefined ? program.tensors : program.tensors.slice(only, only + 1)) {
      if (c.role !== "def" || c.recurrence !== undefined || c.scatter !== undefined) continue;
      const seen = new Set<string>();
      // A padding read (guarded access) keeps its producer: inlining would read the producer's operands outside them.
      for (const { access: a } of readsIn(c)) if (a!.guarded) seen.add(a!.tensor);
      for (const { access: a } of readsIn(c)) {
        if (a!.tensor === c.name || seen.has(a!.tensor) || defNamed(program, a!.tensor) === undefined) continue;
        seen.add(a!.tensor);
        out.push({ consumer: c.name, producer: a!.tensor });
      }
    }
    return out;
  },
  rewrite: (s, program) => {
    const fused = fusedConsumer(s, program);
    const next = {
      ...program,
      tensors: program.tensors.filter((t) => t.name !== s.producer).map((t) => (t.name === s.consumer ? fused : t)),
    };
    carryIndexes(program, next, defNamed(program, s.producer)!, defNamed(program, s.consumer)!, fused);
    return next;
  },
});

/** Where `extract-invariant-reduction` applies: the def and the subexpression to move out. */
export interface ExtractSite {
  readonly def: string;
  /** `exprKey` of the subexpression to extract. */
  readonly key: string;
}

/**
 * The largest subexpressions of a def's body, outside every reduction, that
 * contain a reduction and depend on fewer variables than the def's output
 * indices (so each value is shared by several output points).
 */
function invariantReductions(def: DefNode): Expr[] {
  const out: Expr[] = [];
  const all = new Set(def.indices);
  const walk = (e: Expr, root: boolean): void => {
    const free = freeVars(e);
    if (!root && hasReduction(e) && free.size < all.size) {
      out.push(e);
      return;
    }
    if (e.kind === "reduce") return;
    for (const c of children(e)) walk(c, false);
  };
  walk(def.body, true);
  return out;
}

const reductionKeys = new WeakMap<DefNode, readonly string[]>();

/** The distinct keys of {@link invariantReductions}, kept while the def is unchanged. */
function invariantReductionKeys(def: DefNode): readonly string[] {
  let keys = reductionKeys.get(def);
  if (!keys) {
    keys = hasReduction(def.body) ? [...new Set(invariantReductions(def).map(exprKey))] : [];
    reductionKeys.set(def, keys);
  }
  return keys;
}

/** Stands for the extracted subexpression while checking what remains (never part of a program). */
const HOLE: Expr = access("extracted", []);

/** Reductions of `e` not nested in other reductions. */
function topReductions(e: Expr): Expr[] {
  return e.kind === "reduce" ? [e] : children(e).flatMap(topReductions);
}

/** Whether `e` is a sum of a product of exactly two accesses and constants (a GEMM-shaped contraction). */
function isContractionSum(e: Expr): boolean {
  if (e.kind !== "reduce" || e.op !== "sum") return false;
  const factors = productFactors(e.body);
  return factors.filter((f) => f.kind === "access").length === 2 && factors.every((f) => f.kind === "access" || f.kind === "const");
}

/** The body with every occurrence of the subexpression keyed `key`, outside reductions, replaced by `by`. */
function replaceOutsideReductions(e: Expr, key: string, by: Expr): Expr {
  if (exprKey(e) === key) return by;
  if (e.kind === "reduce") return e;
  switch (e.kind) {
    case "unary": return { ...e, arg: replaceOutsideReductions(e.arg, key, by) };
    case "binary": return { ...e, lhs: replaceOutsideReductions(e.lhs, key, by), rhs: replaceOutsideReductions(e.rhs, key, by) };
    case "select": return {
      ...e,
      cond: replaceOutsideReductions(e.cond, key, by),
      then: replaceOutsideReductions(e.then, key, by),
      else: replaceOutsideReductions(e.else, key, by),
    };
    default: return e;
  }
}

/**
 * `extract-invariant-reduction`: in a def that is a contraction plus
 * elementwise work, a subexpression with a reduction that depends on only
 * some output indices (attention's `1 / sum(l) E[i, l]`) becomes a def of
 * its own, inserted before, and the def reads it, leaving one sum that the
 * backends run as a matrix product with an epilogue.
 *
 * @example
 * ```ts
 * // O[i, e] = 1 / (sum(l) E[i, l]) * sum(j) E[i, j] * V[j, e]
 * //   →  O_r[i] = 1 / (sum(l) E[i, l]); O[i, e] = O_r[i] * sum(j) E[i, j] * V[j, e]
 * extractInvariantReduction.rewrite(extractInvariantReduction.sites(program)[0]!, program);
 * ```
 */
export const extractInvariantReduction = programRule<ExtractSite>({
  name: "extract-invariant-reduction",
  statement: "Y[i, j] = f(g(i), Σ_k A·B) ⇒ R[i] = g(i); Y[i, j] = f(R[i], Σ_k A·B) when g reduces and does not depend on j",
  conditions: [
    {
      name: "leaves-one-contraction",
      holds: (s, p) => {
        const d = defNamed(p, s.def)!;
        const rest = replaceOutsideReductions(d.body, s.key, HOLE);
        const tops = topReductions(rest);
        return tops.length === 1 && isContractionSum(tops[0]!);
      },
    },
  ],
  sites: (program, only) => {
    const out: ExtractSite[] = [];
    for (const t of only === undefined ? program.tensors : program.tensors.slice(only, only + 1)) {
      if (t.role !== "def" || t.dtype === "i32" || t.recurrence !== undefined || t.scatter !== undefined) continue;
      for (const key of invariantReductionKeys(t)) out.push({ def: t.name, key });
    }
    return out;
  },
  rewrite: (s, program) => {
    const d = defNamed(program, s.def)!;
    const sub = invariantReductions(d).find((e) => exprKey(e) === s.key)!;
    const free = freeVars(sub);
    const indices = d.indices.filter((v) => free.has(v));
    const name = freshName(`${d.name}_r`, new Set(program.tensors.map((t) => t.name)));
    const used = new Set([...indices, ...boundVars(sub)]);
    const ranges = Object.fromEntries(Object.entries(d.ranges).filter(([v]) => used.has(v)));
    const extracted: DefNode = {
      role: "def", name, dtype: d.dtype, output: false,
      shape: indices.map((v) => d.ranges[v]!), indices, groups: indices.map(() => 1), ranges, body: sub,
    };
    const read = access(name, indices.map((v) => affineVar(v)));
    const body = replaceOutsideReductions(d.body, s.key, read);
    const still = new Set([...d.indices, ...boundVars(body)]);
    const rest: DefNode = { ...d, body, ranges: Object.fromEntries(Object.entries(d.ranges).filter(([v]) => still.has(v))) };
    const tensors = program.tensors.flatMap((t) => (t.name === d.name ? [extracted, rest] : [t]));
    return { ...program, tensors };
  },
});
