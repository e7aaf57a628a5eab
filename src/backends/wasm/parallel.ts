/**
 * Which kernels of a program run on several threads, and how they split.
 * Two kinds qualify, each only above a size where waking the workers pays
 * off; everything else runs on the calling thread:
 *
 * - float32 matrix products that take the SIMD path: their work splits into
 *   column panels that write disjoint outputs (see emit-contraction.ts);
 * - loop kernels whose outermost loop writes a disjoint window of the output
 *   per iteration ({@link loopSplit}): ranges of that loop are the work units.
 *
 *     before: examples/attention.tns at n = 512: kernels S = Q·Kᵀ / 8 (512×512×64,
 *             33.5 M operations), M = max(j) S, E = exp(S - M), O_r, O
 *     after:  parallel [0, 1, 2, 3, 4]: S and O by column panels, M, E and O_r by ranges of rows
 *
 * A program without such a kernel gets the single-threaded module whatever
 * the thread count, so small programs pay nothing for threads.
 */
import type { Affine, DType } from "../../ir/types.js";
import type { Contraction, EpilogueContraction, KExpr, Kernel, KernelProgram, Loop, Stmt } from "../kernel/types.js";
import { localsReadBy, someKExpr, visitKExpr } from "../kernel/walk.js";
import { contractionUnits, simdContractionApplies } from "./emit-contraction.js";
import { type SkinnyPlan, skinnyPlan } from "../kernel/skinny.js";
import { skinnyUnits } from "./emit-skinny.js";
import { LANES, vectorizeLoop } from "./vectorize.js";

/**
 * The fewest floating-point operations (2·batch·m·n·k) for which a matrix
 * product is split across threads: a 101³ product. On an idle Xeon with
 * Node 20 (docs/wasm.md, "Thread measurements"), two threads lost at 1.0 M
 * operations (0.93x) and won from 1.8 M (1.18x): waking a worker costs tens
 * of microseconds. Loop kernels use the same threshold, their work counted
 * in the product's operations ({@link LOOP_OP_FLOPS}).
 */
export const PARALLEL_MIN_FLOPS = 2 ** 21;

/**
 * How many operations of the SIMD matrix product take as long as one
 * counted operation of a loop kernel (see {@link loopWork}). On the 2-core
 * AMD EPYC development machine (Node 20) a counted operation took 0.50 to
 * 0.66 ns on one thread (a row max and `exp(X[i, j] - M[i])` at 256 to 512
 * rows, the copies included), the product about 0.029 ns per operation
 * (35 GFLOP/s): about 17 times less. A loop kernel is then split from
 * `PARALLEL_MIN_FLOPS / 16` = 131072 counted operations (a 256×256 row
 * max, about 65 µs on one thread), where two threads broke even there.
 */
export const LOOP_OP_FLOPS = 16;

/** Work units per thread for a split loop: several, so a thread that starts late or is descheduled leaves its share to the others. */
export const LOOP_UNITS_PER_THREAD = 8;

/**
 * Floating-point operations of a contraction: a multiply and an add per term.
 *
 * @example
 * ```ts
 * contractionFlops({ ...c, batch: [], m: 4, n: 4, k: 4 }); // 128
 * ```
 */
export function contractionFlops(c: Contraction): number {
  return 2 * c.batch.reduce((p, b) => p * b.extent, 1) * c.m * c.n * c.k;
}

/** The matrix product the SIMD path computes for a kernel (plain, or under an elementwise epilogue), if it takes that path. */
export function simdProductOf(k: Kernel, dtypeOf: (buffer: string) => string): Contraction | undefined {
  const c = k.contraction ?? k.epilogueContraction?.contraction;
  return c !== undefined && simdContractionApplies(c, dtypeOf) ? c : undefined;
}

/**
 * The plain float32 matrix product of a kernel that runs on a skinny kernel
 * (emit-skinny.ts: few rows or few columns, the large operand streamed), and
 * how; undefined when it runs on the micro-kernel or is no such product.
 */
export function skinnyProductOf(
  k: Kernel, dtypeOf: (buffer: string) => string,
): { contraction: Contraction; plan: SkinnyPlan; epilogue?: EpilogueContraction } | undefined {
  // A product with an epilogue (a bias, an activation) takes the skinny kernel unbatched: the epilogue then runs over its small output.
  const epilogue = k.contraction === undefined && k.epilogueContraction?.contraction.batch.length === 0 ? k.epilogueContraction : undefined;
  const c = k.contraction ?? epilogue?.contraction;
  if (c === undefined || !simdContractionApplies(c, dtypeOf)) return undefined;
  const plan = skinnyPlan(c);
  return plan === null ? undefined : { contraction: c, plan, ...(epilogue ? { epilogue } : {}) };
}

/**
 * Work units of a SIMD product's threaded entry point: the skinny kernel's
 * ranges of columns when it takes one (`plan`, emit-skinny.ts), else the
 * micro-kernel's column panels (emit-contraction.ts).
 */
export function productUnits(c: Contraction, plan: SkinnyPlan | null): number {
  return plan ? skinnyUnits(plan, c.batch.reduce((p, b) => p * b.extent, 1)) : contractionUnits(c);
}

/** Nodes of an expression (a rough count of its operations). */
function exprSize(e: KExpr): number {
  let nodes = 0;
  visitKExpr(e, () => nodes++);
  return nodes;
}

/**
 * The work of kernel statements, counted as the operations they execute:
 * each `let`, `update` and `store` costs the nodes of its expression (plus
 * one), times the iterations of the loops around it; a `fill` one per
 * element is left out (a `memory.fill`).
 *
 * @example
 * ```ts
 * loopWork(kernel("E[i, j] = exp(S[i, j] - M[i])").body); // 256 * (1 + 256 * 5) for 256×256
 * ```
 */
export function loopWork(stmts: readonly Stmt[]): number {
  let work = 0;
  for (const s of stmts) {
    switch (s.kind) {
      case "loop": work += s.extent * loopWork(s.body); break;
      case "let": case "update": case "store": work += 1 + exprSize(s.value); break;
      default: break;
    }
  }
  return work;
}

import type { LoopSplitPlan } from "./emit-kernel.js";
export type { LoopSplitPlan };


/** A split plan, or why the kernel stays whole. */
export type LoopSplitDecision = { readonly ok: true; readonly plan: LoopSplitPlan } | { readonly ok: false; readonly reason: string };

/** What {@link loopSplit} needs to know about the module being built. */
export interface LoopSplitContext {
  readonly dtypeOf: (buffer: string) => DType;
  /** Whether the kernel computes `exp` and `tanh` inline (as emit.ts builds it); decides which loops run in vectors. */
  readonly inlineMath: boolean;
  /** Threads the module is built for. */
  readonly threads: number;
}

class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** The smallest and largest value of an affine form without its `v` term, over the loops inside (`extents`). */
function restRange(offset: Affine, v: string, extents: ReadonlyMap<string, number>): [number, number] {
  let lo = offset.constant;
  let hi = offset.constant;
  for (const t of offset.terms) {
    if (t.var === v) continue;
    const span = t.coef * (extents.get(t.var)! - 1);
    if (span > 0) hi += span;
    else lo += span;
  }
  return [lo, hi];
}

/** Every access to `target` in the statements, with the extents of the loops around it (inside the split loop). */
function targetAccesses(stmts: readonly Stmt[], target: string, extents: Map<string, number>, into: { offset: Affine; extents: Map<string, number>; write: boolean }[]): void {
  const loads = (e: KExpr): void => visitKExpr(e, (x) => {
    if (x.kind === "load" && x.buffer === target) into.push({ offset: x.offset, extents, write: false });
  });
  for (const s of stmts) {
    switch (s.kind) {
      case "loop": targetAccesses(s.body, target, new Map(extents).set(s.var, s.extent), into); break;
      case "let": case "update": loads(s.value); break;
      case "store":
        loads(s.value);
        into.push({ offset: s.offset, extents, write: true });
        break;
      case "fill": refuse(`${s.buffer} is filled inside the loop (every iteration would write all of it)`);
    }
  }
}

/** Whether an expression reads the value of loop variable `v`. */
function readsIndex(e: KExpr, v: string): boolean {
  return someKExpr(e, (x) => x.kind === "index" && x.var === v);
}

/** The first kernel local the statements read before defining it (one that would flow between iterations), or null. */
function localFromOutside(stmts: readonly Stmt[]): string | null {
  const defined = new Set<string>();
  const walk = (list: readonly Stmt[]): string | null => {
    for (const s of list) {
      const reads = new Set<string>();
      switch (s.kind) {
        case "loop": { const r = walk(s.body); if (r !== null) return r; continue; }
        case "let": localsReadBy(s.value, reads); break;
        case "declare": break;
        case "update": localsReadBy(s.value, reads); reads.add(s.name); break;
        case "store": localsReadBy(s.value, reads); break;
        case "fill": break;
      }
      for (const r of reads) if (!defined.has(r)) return r;
      if (s.kind === "let" || s.kind === "declare") defined.add(s.name);
    }
    return null;
  };
  return walk(stmts);
}

/** Whether an expression reads the value of loop variable `v` anywhere in the statements. */
function stmtsReadIndex(stmts: readonly Stmt[], v: string): boolean {
  return stmts.some((s) => {
    switch (s.kind) {
      case "loop": return stmtsReadIndex(s.body, v);
      case "let": case "update": case "store": return readsIndex(s.value, v);
      default: return false;
    }
  });
}

/**
 * Checks the legality rules of {@link loopSplit} and returns the split loop's position.
 * Throws a {@link Refusal} with the reason otherwise.
 */
function checkSplittable(k: Kernel): number {
  const at = k.body.findIndex((s) => s.kind !== "fill");
  const loop = k.body[at];
  if (loop === undefined || loop.kind !== "loop") refuse("the kernel does not start with a loop (after its fills)");
  if (at !== k.body.length - 1) refuse("statements follow the outermost loop");
  if (loop.extent < 2) refuse("the outermost loop has a single iteration");
  const carried = localFromOutside(loop.body);
  if (carried !== null) refuse(`the local ${carried} flows between iterations of ${loop.var}`);
  const accesses: { offset: Affine; extents: Map<string, number>; write: boolean }[] = [];
  targetAccesses(loop.body, k.target, new Map(), accesses);
  const writes = accesses.filter((a) => a.write);
  const stride = writes[0]?.offset.terms.find((t) => t.var === loop.var)?.coef ?? 0;
  if (stride <= 0) refuse(`${k.target} is not written at a positive stride in ${loop.var}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const w of writes) {
    if ((w.offset.terms.find((t) => t.var === loop.var)?.coef ?? 0) !== stride) refuse(`${k.target} is written at different strides in ${loop.var}`);
    const [a, b] = restRange(w.offset, loop.var, w.extents);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  // Iteration v writes within [stride·v + lo, stride·v + hi]: disjoint windows when they are narrower than the stride.
  if (hi - lo >= stride) refuse(`the elements of ${k.target} written by one iteration of ${loop.var} overlap the next iteration's`);
  for (const r of accesses.filter((a) => !a.write)) {
    const [a, b] = restRange(r.offset, loop.var, r.extents);
    const coef = r.offset.terms.find((t) => t.var === loop.var)?.coef ?? 0;
    if (coef !== stride || a < lo || b > hi) refuse(`${k.target} is read outside the elements its iteration of ${loop.var} writes`);
  }
  return at;
}

/**
 * Whether a loop kernel (one not computed by the SIMD matrix product) may
 * run split across threads, by ranges of its outermost loop, and how. The
 * rules, each so that the ranges can run in any order, on any thread, and
 * give the bits of the whole kernel:
 *
 * 1. the body is fills (run whole, before the ranges) and then one loop,
 *    with at least two iterations: the fills must precede every iteration,
 *    and a statement after the loop would need all of them;
 * 2. no kernel local flows between iterations (each one is defined inside
 *    the loop before it is read): an accumulator declared outside the loop
 *    would make the iterations a sequence;
 * 3. every store into the target has the same positive coefficient `c` of
 *    the loop variable `v`, and what the rest of its offset spans over the
 *    inner loops (`lo`..`hi`) is narrower than `c`: iteration `v` then
 *    writes only `c·v + lo .. c·v + hi`, a window no other iteration
 *    touches (a kernel writes only its target, invariant of the kernel IR);
 * 4. every load of the target lies in the window of its own iteration (same
 *    coefficient, rest within `lo`..`hi`): no iteration reads what another
 *    writes;
 * 5. no fill inside the loop (it would write every window);
 * 6. when the loop itself runs in f32x4 lanes (a one-dimensional kernel),
 *    its body does not read the loop variable's value: the ranges start at
 *    multiples of 4 so each element keeps its vector or scalar path, and
 *    the range's variable is rebased.
 *
 * Every iteration then runs exactly the instructions of the whole kernel.
 *
 * @example
 * ```ts
 * loopSplit(kernelOf("E[i, j] = exp(S[i, j] - M[i])"), { dtypeOf: () => "f32", inlineMath: true, threads: 2 });
 * // { ok: true, plan: { loop: 0, chunk: 16, units: 16, vector: false, work: ... } } for 256 rows
 * loopSplit(kernelOf("T = sum(i, j) X[i, j]"), ctx); // { ok: false, reason: "the kernel does not start with a loop ..." }
 * ```
 */
export function loopSplit(k: Kernel, ctx: LoopSplitContext): LoopSplitDecision {
  try {
    const at = checkSplittable(k);
    const loop = k.body[at] as Loop;
    const vector = vectorizeLoop(loop, { dtypeOf: ctx.dtypeOf, inlineMath: ctx.inlineMath, extents: new Map() }).ok;
    if (vector && stmtsReadIndex(loop.body, loop.var)) refuse(`the vectorised loop reads the value of ${loop.var}`);
    const wanted = Math.max(1, ctx.threads * LOOP_UNITS_PER_THREAD);
    let chunk = Math.ceil(loop.extent / wanted);
    if (vector) chunk = Math.ceil(chunk / LANES) * LANES;
    const units = Math.ceil(loop.extent / chunk);
    if (units < 2) refuse(`${loop.extent} iterations make a single work unit`);
    return { ok: true, plan: { loop: at, chunk, units, vector, work: loopWork(k.body) } };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    throw e;
  }
}

/**
 * The kernels of a program that run split across threads, by position:
 * SIMD contractions of at least `minFlops` operations with at least two
 * work units (`"panels"`), and loop kernels that {@link loopSplit} accepts
 * whose {@link loopWork} times {@link LOOP_OP_FLOPS} is at least `minFlops`
 * (their plan).
 *
 * @example
 * ```ts
 * splitKernels(lowerToKernels(matmul1024), { threads: 2 }); // Map { 0 => "panels" }
 * splitKernels(lowerToKernels(softmax1024), { threads: 2 }); // Map { 0 => plan, 1 => plan, 2 => plan }
 * ```
 */
export function splitKernels(
  kp: KernelProgram, options: { readonly threads: number; readonly minFlops?: number; readonly inlineExp?: boolean },
): Map<number, "panels" | LoopSplitPlan> {
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  const dtypeOf = (b: string): DType => dtypes.get(b) ?? "f64";
  const minFlops = options.minFlops ?? PARALLEL_MIN_FLOPS;
  const split = new Map<number, "panels" | LoopSplitPlan>();
  kp.kernels.forEach((k, n) => {
    // A recurrence's steps run in order; splitting its outer loop across threads would break that.
    if (k.sequential !== undefined) return;
    const c = simdProductOf(k, dtypeOf);
    if (c !== undefined) {
      if (contractionFlops(c) >= minFlops && productUnits(c, skinnyProductOf(k, dtypeOf)?.plan ?? null) >= 2) split.set(n, "panels");
      return;
    }
    const inlineMath = (options.inlineExp ?? true) && dtypeOf(k.target) === "f32";
    const d = loopSplit(k, { dtypeOf, inlineMath, threads: options.threads });
    if (d.ok && d.plan.work * LOOP_OP_FLOPS >= minFlops) split.set(n, d.plan);
  });
  return split;
}

/**
 * Floating-point operations per run of the kernels that {@link splitKernels}
 * splits (a split loop counted as its work times {@link LOOP_OP_FLOPS}).
 *
 * @example
 * ```ts
 * splitFlops(lowerToKernels(matmul1024), { threads: 2 }); // 2 * 1024 ** 3
 * ```
 */
export function splitFlops(kp: KernelProgram, options: { readonly threads: number; readonly minFlops?: number; readonly inlineExp?: boolean }): number {
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  let flops = 0;
  for (const [n, plan] of splitKernels(kp, options)) {
    flops += plan === "panels" ? contractionFlops(simdProductOf(kp.kernels[n]!, (b) => dtypes.get(b) ?? "f64")!) : plan.work * LOOP_OP_FLOPS;
  }
  return flops;
}

/**
 * Positions of the kernels that run split across threads (both kinds, see
 * {@link splitKernels}), for a module built for two threads.
 *
 * @example
 * ```ts
 * parallelKernels(lowerToKernels(matmul1024), PARALLEL_MIN_FLOPS); // [0]
 * parallelKernels(lowerToKernels(matmul4), PARALLEL_MIN_FLOPS); // []
 * ```
 */
export function parallelKernels(kp: KernelProgram, minFlops: number = PARALLEL_MIN_FLOPS): number[] {
  return [...splitKernels(kp, { threads: 2, minFlops }).keys()];
}
