/**
 * An innermost loop that vectorize.ts accepted, as an f32x4 loop over the
 * first `extent - extent % 4` iterations: four lanes per step, 16-byte loads
 * and stores where the access has unit stride, one element splatted into
 * all lanes where it does not vary with the loop, kernel `let`s as v128
 * locals, and each reduction in a vector of four partial results that is
 * combined into the scalar accumulator after the loop. The iterations left
 * over run as scalar code (emit-kernel.ts):
 *
 *     before: for j < 6: t0 max= S[6*i + j]
 *     after:  r = splat(-inf)
 *             j = 0; loop { r = f32x4.max(r, v128.load S[6*i + j]); j += 4; br_if j < 4 }
 *             t0 = max(t0, max(max(r[0], r[1]), max(r[2], r[3])))
 *             j = 4; loop { t0 = max(t0, S[6*i + j]); j += 1; br_if j < 6 }   (scalar remainder)
 *
 * Lanes hold float32: kernel locals from outside the loop are rounded to
 * float32 and splatted once, before the loop, as are loads that do not vary
 * with it.
 *
 * A loop whose reductions are all `max` or `min` (and that stores nothing
 * and reads no index value) runs {@link MINMAX_CHAINS} steps per iteration,
 * each into partial results of its own, combined after the loop. One chain
 * of `f32x4.max` is bound by its latency: V8 lowers it to about eight x64
 * instructions, as wasm asks for NaN propagation and -0 < +0, so a row max
 * over 1024² floats took twice as long as a row sum (1.01 against 0.51 ms).
 * `max` and `min` give the same result in any grouping, so this changes no
 * bit of the result:
 *
 *     before: loop { r = f32x4.max(r, v128.load S[j]); j += 4 }
 *     after:  loop { r0 = f32x4.max(r0, v128.load S[j]); r1 = f32x4.max(r1, v128.load offset=16 S[j]);
 *                    r2 = ... offset=32; r3 = ... offset=48; j += 16 }
 *             loop { r0 = f32x4.max(r0, v128.load S[j]); j += 4 }        (the steps left, if any)
 *             r0 = max(max(r0, r1), max(r2, r3))
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { reduceIdentity } from "../../ir/types.js";
import type { BinaryOp, ReduceOp, UnaryOp } from "../../ir/types.js";
import { printAffine } from "../kernel/print.js";
import type { KExpr, Loop } from "../kernel/types.js";
import { someKExpr } from "../kernel/walk.js";
import type { F32x4Arith, F32x4Compare, Ref } from "./binaryen.js";
import { inlineExpF32x4 } from "./emit-exp.js";
import { combine, localIndex } from "./emit-expr.js";
import { inlineTanhF32x4 } from "./emit-tanh.js";
import type { FunctionContext } from "./function-context.js";
import { LANES, type VectorPlan, strideIn } from "./vectorize.js";

const COMPARE: Partial<Record<BinaryOp, F32x4Compare>> = { lt: "lt", le: "le", gt: "gt", ge: "ge", eq: "eq", ne: "ne" };
const REDUCE: Record<ReduceOp, F32x4Arith> = { sum: "add", prod: "mul", max: "max", min: "min" };

/** The iterations the vector loop covers: the largest multiple of 4 not above `extent`. */
export function vectorEnd(extent: number): number {
  return extent - (extent % LANES);
}

/**
 * The v128 local of a kernel `let` inside the vectorised loop (also the
 * lanes of a matrix-product epilogue's `acc`, emit-contraction.ts).
 *
 * @example
 * ```ts
 * m.set(vectorLocal(ctx, "t0"), lanes); // the four values of `let t0` in this step
 * ```
 */
export function vectorLocal(ctx: FunctionContext, name: string): number {
  return ctx.locals.named(`x4:${name}`, "v128");
}

/** The v128 local holding the partial results of a reduction into `name` (chain `chain` of an unrolled min/max loop). */
function partials(ctx: FunctionContext, name: string, chain = 0): number {
  return ctx.locals.named(chain === 0 ? `r4:${name}` : `r4:${name}#${chain}`, "v128");
}

const splatF32 = (ctx: FunctionContext, c: number): Ref => ctx.m.f32x4Splat(ctx.m.f32Const(c));

/** An f64 scalar rounded to float32 in all four lanes. */
const splatF64 = (ctx: FunctionContext, x: Ref): Ref => ctx.m.f32x4Splat(ctx.m.convert("f32.demote_f64", x));

/**
 * One vectorised loop being emitted: the loop, its plan, and the vectors
 * that do not change in it (kernel locals from outside, loads that do not
 * vary with the loop variable), each splatted once before the loop.
 * Code outside a loop of its own may build one too: the matrix-product
 * epilogue (emit-contraction.ts) evaluates each row of a tile as four lanes
 * of its column variable, with `hoisted` placed before the row's stores.
 */
export interface VectorLoop {
  readonly loop: Loop;
  readonly plan: VectorPlan;
  readonly hoisted: Ref[];
  readonly invariants: Map<string, number>;
  /** Steps of 4 iterations ahead of the loop variable that this copy of the body computes (0 but in an unrolled min/max loop). */
  readonly step?: number;
}

/** Independent chains of partial results in a loop whose reductions are all `max` or `min` (see the header). */
export const MINMAX_CHAINS = 4;

/** The v128 local holding an invariant vector, set before the loop on first use. */
function invariant(ctx: FunctionContext, vl: VectorLoop, key: string, value: () => Ref): Ref {
  let local = vl.invariants.get(key);
  if (local === undefined) {
    local = ctx.locals.fresh("v128");
    vl.invariants.set(key, local);
    vl.hoisted.push(ctx.m.set(local, value()));
  }
  return ctx.m.get(local, "v128");
}

/** A comparison as a lane mask, or null when `e` is not one. */
function mask(ctx: FunctionContext, e: KExpr, vl: VectorLoop): Ref | null {
  if (e.kind !== "binary") return null;
  const cmp = COMPARE[e.op];
  return cmp ? ctx.m.f32x4Compare(cmp, vectorExpr(ctx, e.lhs, vl), vectorExpr(ctx, e.rhs, vl)) : null;
}

function unary(ctx: FunctionContext, op: UnaryOp, x: Ref): Ref {
  const m = ctx.m;
  switch (op) {
    case "neg": case "abs": case "sqrt": return m.f32x4Unary(op, x);
    case "rsqrt": return m.f32x4Arith("div", splatF32(ctx, 1), m.f32x4Unary("sqrt", x));
    case "relu": return m.f32x4Arith("max", splatF32(ctx, 0), x);
    case "exp": return inlineExpF32x4(ctx, x);
    case "tanh": return inlineTanhF32x4(ctx, x);
    case "sigmoid":
      return m.f32x4Arith("div", splatF32(ctx, 1), m.f32x4Arith("add", splatF32(ctx, 1), inlineExpF32x4(ctx, m.f32x4Unary("neg", x))));
    default: throw new InternalCompilerError(`vectorize.ts accepted ${op}, which has no vector form`);
  }
}

/**
 * A kernel expression as an f32x4 value: lane `l` holds its value at loop
 * iteration `v + l`, where `v` is the current value of the loop variable's
 * local. The expression must be one that vectorize.ts accepted for the loop;
 * invariant vectors are set in `vl.hoisted` on first use.
 *
 * @example
 * ```ts
 * const vl: VectorLoop = { loop, plan, hoisted: [], invariants: new Map() };
 * const lanes = vectorExpr(ctx, store.value, vl); // then emit vl.hoisted before the code using `lanes`
 * ```
 */
export function vectorExpr(ctx: FunctionContext, e: KExpr, vl: VectorLoop): Ref {
  const m = ctx.m;
  switch (e.kind) {
    case "const": return splatF32(ctx, e.value);
    case "index": {
      const v = (): Ref => m.get(ctx.loopVar(e.var), "i32");
      if (e.var !== vl.loop.var) return invariant(ctx, vl, `index:${e.var}`, () => splatF64(ctx, m.convert("f64.convert_i32_s", v())));
      return m.f32x4ConvertI32x4(m.i32x4("add", m.i32x4Splat(v()), m.i32x4Const([0, 1, 2, 3])));
    }
    case "gather":
      throw new InternalCompilerError("vectorize.ts accepted a gather, which has no vector form");
    case "local":
      if (vl.plan.vectorLocals.has(e.name)) return m.get(vectorLocal(ctx, e.name), "v128");
      return invariant(ctx, vl, `local:${e.name}`, () => splatF64(ctx, m.get(localIndex(ctx, e.name), "f64")));
    case "load": {
      const load = (): Ref => {
        const at = ctx.address(e.buffer, e.offset);
        return strideIn(e.offset, vl.loop.var) === 0 ? m.load32Splat(at.offset, at.ptr) : m.v128Load(at.offset + 16 * (vl.step ?? 0), at.ptr);
      };
      // vectorize.ts lets no load of a buffer the loop writes be invariant, so loading before the loop is safe.
      if (strideIn(e.offset, vl.loop.var) !== 0) return load();
      return invariant(ctx, vl, `load:${e.buffer}:${printAffine(e.offset)}`, load);
    }
    case "unary": return unary(ctx, e.op, vectorExpr(ctx, e.arg, vl));
    case "binary": {
      const cmp = mask(ctx, e, vl);
      if (cmp) return m.v128Bitwise("and", cmp, splatF32(ctx, 1));
      return m.f32x4Arith(e.op as F32x4Arith, vectorExpr(ctx, e.lhs, vl), vectorExpr(ctx, e.rhs, vl));
    }
    case "select": {
      const cond = mask(ctx, e.cond, vl) ?? m.f32x4Compare("ne", vectorExpr(ctx, e.cond, vl), splatF32(ctx, 0));
      return m.v128Bitselect(vectorExpr(ctx, e.then, vl), vectorExpr(ctx, e.else, vl), cond);
    }
  }
}

/** The loop body's statements, four iterations at a time. */
function vectorBody(ctx: FunctionContext, vl: VectorLoop): Ref[] {
  const m = ctx.m;
  return vl.loop.body.map((s) => {
    switch (s.kind) {
      case "let": return m.set(vectorLocal(ctx, s.name), vectorExpr(ctx, s.value, vl));
      case "update": {
        const acc = partials(ctx, s.name, vl.step ?? 0);
        return m.set(acc, m.f32x4Arith(REDUCE[s.op], m.get(acc, "v128"), vectorExpr(ctx, s.value, vl)));
      }
      case "store": {
        let value = vectorExpr(ctx, s.value, vl);
        if (s.op) {
          const from = ctx.address(s.buffer, s.offset);
          value = m.f32x4Arith(REDUCE[s.op], m.v128Load(from.offset, from.ptr), value);
        }
        const at = ctx.address(s.buffer, s.offset);
        return m.v128Store(at.offset, at.ptr, value);
      }
      default: throw new InternalCompilerError(`vectorize.ts accepted a ${s.kind} statement`);
    }
  });
}

/** `acc = op(acc, lanes combined pairwise)`, in float64 like every scalar accumulator. */
function reduceLanes(ctx: FunctionContext, name: string, op: ReduceOp): Ref {
  const m = ctx.m;
  const lane = (l: number): Ref => m.convert("f64.promote_f32", m.f32x4ExtractLane(m.get(partials(ctx, name), "v128"), l));
  const all = combine(ctx, op, combine(ctx, op, lane(0), lane(1)), combine(ctx, op, lane(2), lane(3)));
  const acc = localIndex(ctx, name);
  return m.set(acc, combine(ctx, op, m.get(acc, "f64"), all));
}

/**
 * The vector part of an accepted loop: iterations `0 .. vectorEnd(extent)-1`
 * in steps of 4, then every reduction's partial results folded into its
 * accumulator. The caller runs the remaining iterations as scalar code.
 *
 * @example
 * ```ts
 * const d = vectorizeLoop(loop, vc);
 * if (d.ok) out.push(...emitVectorLoop(ctx, loop, d.plan)); // then the scalar remainder from vectorEnd(loop.extent)
 * ```
 */
export function emitVectorLoop(ctx: FunctionContext, loop: Loop, plan: VectorPlan): Ref[] {
  const m = ctx.m;
  const v = ctx.loopVar(loop.var);
  const chains = minMaxOnly(loop, plan) && loop.extent >= MINMAX_CHAINS * LANES ? MINMAX_CHAINS : 1;
  const init = [...plan.reductions].flatMap(([name, op]) =>
    Array.from({ length: chains }, (_, c) => m.set(partials(ctx, name, c), splatF32(ctx, reduceIdentity(op)))));
  const shared = { loop, plan, hoisted: [] as Ref[], invariants: new Map<string, number>() };
  /** A loop from the loop variable's current value up to `end`, `copies` steps of 4 per iteration. */
  const stepLoop = (copies: number, end: number): Ref => {
    const scope = { var: loop.var, prelude: [] as Ref[], memo: new Map<string, number>() };
    ctx.scopes.push(scope);
    const body = Array.from({ length: copies }, (_, step) => vectorBody(ctx, { ...shared, step })).flat();
    ctx.scopes.pop();
    const label = ctx.label();
    const next = m.set(v, m.i32("add", m.get(v, "i32"), m.i32Const(LANES * copies)));
    const again = m.brIf(label, m.i32("lt_s", m.get(v, "i32"), m.i32Const(end)));
    return m.loop(label, m.block([...scope.prelude, ...body, next, again]));
  };
  const unrolledEnd = loop.extent - (loop.extent % (LANES * chains));
  const loops = [stepLoop(chains, unrolledEnd)];
  if (vectorEnd(loop.extent) > unrolledEnd) loops.push(stepLoop(1, vectorEnd(loop.extent)));
  const merges = chains === 1 ? [] : [...plan.reductions].map(([name, op]) => {
    const chain = (c: number): Ref => m.get(partials(ctx, name, c), "v128");
    const pair = (a: Ref, b: Ref): Ref => m.f32x4Arith(REDUCE[op], a, b);
    return m.set(partials(ctx, name), pair(pair(chain(0), chain(1)), pair(chain(2), chain(3))));
  });
  const folds = [...plan.reductions].map(([name, op]) => reduceLanes(ctx, name, op));
  return [...init, ...shared.hoisted, m.set(v, m.i32Const(0)), ...loops, ...merges, ...folds];
}

/** Whether a loop only reduces with `max`/`min` (no store, no index value), so its steps may run in independent chains. */
function minMaxOnly(loop: Loop, plan: VectorPlan): boolean {
  if (plan.reductions.size === 0 || [...plan.reductions.values()].some((op) => op !== "max" && op !== "min")) return false;
  return loop.body.every((s) => (s.kind === "let" || s.kind === "update") && !someKExpr(s.value, (e) => e.kind === "index"));
}
