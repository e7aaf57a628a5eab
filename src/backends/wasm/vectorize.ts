/**
 * Whether an innermost loop of a float32 kernel can run four iterations at a
 * time in f32x4 lanes (emit-vector-loop.ts), decided from the kernel IR
 * alone. A loop qualifies when its body is straight-line code (no nested
 * loop, fill or declare) that reads and writes float32 buffers only, with
 * every access that varies with the loop variable at unit stride, so that
 * lanes `v, v+1, v+2, v+3` touch four consecutive elements:
 *
 *     vectorised: for j < 256: E[256*i + j] = exp(S[256*i + j] - t0)   (S, E unit stride; t0 splat)
 *                 for j < 256: t0 max= S[256*i + j]                     (reduction along j)
 *     refused:    for k < 64: t0 += W[64*k + j] * X[k]                  (W has stride 64 in k)
 *
 * Accesses that do not vary with the loop are loaded once into all lanes
 * (splat), as are kernel locals defined outside the loop. An `update` of an
 * accumulator declared outside the loop is a reduction along the loop: it
 * gets a vector of four partial results, combined at the end. Every refusal
 * names its reason, so the scalar fallback is explainable.
 *
 * Semantics: the vector lanes compute in float32 (the scalar statements
 * compute in float64 and round once when storing), and a vectorised sum adds
 * in another order; both stay within float32 rounding of the reference.
 */
import type { Affine, BinaryOp, DType, ReduceOp, UnaryOp } from "../../ir/types.js";
import type { KExpr, Loop } from "../kernel/types.js";
import { visitKExpr } from "../kernel/walk.js";

/** Lanes per vector (f32x4). */
export const LANES = 4;

/** Loop variables whose values a vector lane may hold exactly as a float32 (below 2^24). */
const EXACT_F32_INTEGERS = 2 ** 24;

/** Why a loop stays scalar, or the plan for running it in vectors. */
export type VectorDecision = { readonly ok: true; readonly plan: VectorPlan } | { readonly ok: false; readonly reason: string };

/** What emitting a vectorised loop needs to know beyond the loop itself. */
export interface VectorPlan {
  /** Kernel locals defined by `let` inside the loop: one vector per iteration. */
  readonly vectorLocals: ReadonlySet<string>;
  /** Accumulators declared outside the loop and updated in it, with their operator. */
  readonly reductions: ReadonlyMap<string, ReduceOp>;
}

/** What the legality check asks of its surroundings. */
export interface VectorContext {
  /** The element type of a buffer. */
  dtypeOf(buffer: string): DType;
  /** Whether `exp`, `tanh` and `sigmoid` may be computed inline (else the loop needs host calls). */
  readonly inlineMath: boolean;
  /** Extents of the enclosing loops, by variable (for index values). */
  readonly extents: ReadonlyMap<string, number>;
}

const VECTOR_UNARY: ReadonlySet<UnaryOp> = new Set<UnaryOp>(["neg", "abs", "sqrt", "rsqrt", "relu", "exp", "tanh", "sigmoid"]);
const INLINE_MATH: ReadonlySet<UnaryOp> = new Set<UnaryOp>(["exp", "tanh", "sigmoid"]);
const VECTOR_BINARY: ReadonlySet<BinaryOp> = new Set<BinaryOp>(["add", "sub", "mul", "div", "min", "max", "lt", "le", "gt", "ge", "eq", "ne"]);

/** The coefficient of `v` in an affine offset (0 when absent). */
export function strideIn(offset: Affine, v: string): number {
  return offset.terms.find((t) => t.var === v)?.coef ?? 0;
}

class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** Checks an expression of the loop body; `accumulators` are the locals the loop reduces into. */
function checkExpr(e: KExpr, loop: Loop, vc: VectorContext, accumulators: ReadonlyMap<string, ReduceOp>): void {
  switch (e.kind) {
    case "const":
      if (Number.isFinite(e.value) && !Number.isFinite(Math.fround(e.value))) refuse(`the constant ${e.value} overflows float32`);
      return;
    case "index": {
      const extent = e.var === loop.var ? loop.extent : vc.extents.get(e.var);
      if (extent === undefined || extent > EXACT_F32_INTEGERS) refuse(`the index ${e.var} may exceed the integers float32 holds exactly`);
      return;
    }
    case "local":
      if (accumulators.has(e.name)) refuse(`the accumulator ${e.name} is read inside the loop that reduces into it`);
      return;
    case "gather":
      refuse(`${e.buffer} is read at data-dependent positions`);
      return;
    case "load": {
      if (e.guard) refuse(`${e.buffer} is read with padding`);
      if (vc.dtypeOf(e.buffer) !== "f32") refuse(`${e.buffer} is not float32`);
      const stride = strideIn(e.offset, loop.var);
      if (stride !== 0 && stride !== 1) refuse(`${e.buffer} is read with stride ${stride} in ${loop.var}`);
      return;
    }
    case "unary":
      if (!VECTOR_UNARY.has(e.op)) refuse(`${e.op} has no vector form`);
      if (INLINE_MATH.has(e.op) && !vc.inlineMath) refuse(`${e.op} calls the host (inline math is off)`);
      checkExpr(e.arg, loop, vc, accumulators);
      return;
    case "binary":
      if (!VECTOR_BINARY.has(e.op)) refuse(`${e.op} has no vector form`);
      checkExpr(e.lhs, loop, vc, accumulators);
      checkExpr(e.rhs, loop, vc, accumulators);
      return;
    case "select":
      checkExpr(e.cond, loop, vc, accumulators);
      checkExpr(e.then, loop, vc, accumulators);
      checkExpr(e.else, loop, vc, accumulators);
      return;
  }
}

/** Buffers and offsets an expression loads. */
function loadsOf(e: KExpr, into: { buffer: string; offset: Affine }[]): void {
  visitKExpr(e, (x) => { if (x.kind === "load") into.push(x); });
}

const sameAffine = (a: Affine, b: Affine): boolean =>
  a.constant === b.constant && a.terms.length === b.terms.length
  && a.terms.every((t) => b.terms.some((u) => u.var === t.var && u.coef === t.coef));

/** The plan for a body, or a thrown {@link Refusal}. */
function planBody(loop: Loop, vc: VectorContext): VectorPlan {
  if (loop.extent < LANES) refuse(`${loop.extent} iterations fill no vector`);
  const accumulators = new Map<string, ReduceOp>();
  for (const s of loop.body) if (s.kind === "update") {
    if (accumulators.has(s.name)) refuse(`${s.name} is updated twice per iteration`);
    accumulators.set(s.name, s.op);
  }
  const locals = new Set<string>();
  const stored = new Map<string, Affine>();
  const loads: { buffer: string; offset: Affine }[] = [];
  for (const s of loop.body) {
    switch (s.kind) {
      case "loop": refuse("the loop is not innermost");
      case "fill": refuse(`it fills ${s.buffer}`);
      case "declare": refuse(`it declares ${s.name} per iteration`);
      case "let":
        checkExpr(s.value, loop, vc, accumulators);
        if (accumulators.has(s.name)) refuse(`${s.name} is both a let and an accumulator`);
        locals.add(s.name);
        loadsOf(s.value, loads);
        break;
      case "update":
        if (locals.has(s.name)) refuse(`${s.name} is defined inside the loop`);
        checkExpr(s.value, loop, vc, accumulators);
        loadsOf(s.value, loads);
        break;
      case "store": {
        if (vc.dtypeOf(s.buffer) !== "f32") refuse(`${s.buffer} is not float32`);
        const stride = strideIn(s.offset, loop.var);
        if (stride !== 1) refuse(`${s.buffer} is written with stride ${stride} in ${loop.var}`);
        if (stored.has(s.buffer)) refuse(`${s.buffer} is written twice per iteration`);
        stored.set(s.buffer, s.offset);
        checkExpr(s.value, loop, vc, accumulators);
        loadsOf(s.value, loads);
        break;
      }
    }
  }
  // A lane may read only its own element of a buffer the loop writes: then no
  // lane sees another lane's store out of the scalar order.
  for (const l of loads) {
    const at = stored.get(l.buffer);
    if (at && !sameAffine(at, l.offset)) refuse(`${l.buffer} is read at another element than the one written`);
  }
  return { vectorLocals: locals, reductions: accumulators };
}

/**
 * Decides whether `loop` runs in f32x4 lanes, with the reason when not.
 *
 * @example
 * ```ts
 * const d = vectorizeLoop(loop, { dtypeOf: () => "f32", inlineMath: true, extents: new Map() });
 * if (!d.ok) console.log(`scalar: ${d.reason}`); // e.g. "scalar: W is read with stride 64 in k"
 * ```
 */
export function vectorizeLoop(loop: Loop, vc: VectorContext): VectorDecision {
  try {
    return { ok: true, plan: planBody(loop, vc) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    throw e;
  }
}
