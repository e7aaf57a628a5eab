/**
 * WebAssembly for kernel expressions. Every scalar value is an f64, as in the
 * reference interpreter and the JavaScript backend: loads widen (f32 promote,
 * i32 convert), stores narrow. Arithmetic, comparisons, `min`/`max`, `abs`,
 * `sqrt` and `select` are native instructions with the same IEEE semantics as
 * JavaScript's (NaN propagates through `min`/`max`, `-0 < +0`); `log`
 * and `pow` call the host's `Math` functions through imports, and so do
 * `exp` and `tanh` except in kernels that store float32, where they are
 * inline and accurate to float32 (emit-exp.ts, emit-tanh.ts). In a float64 kernel:
 *
 *     before: sigmoid(A[i] * 2)          (A: f32 at offset 0)
 *     after:  (f64.div (f64.const 1)
 *               (f64.add (f64.const 1)
 *                 (call $exp (f64.neg (f64.mul (f64.promote_f32 (f32.load (i32.mul (local.get $i) (i32.const 4))))
 *                                              (f64.const 2))))))
 */
import { visitKExpr } from "../kernel/walk.js";
import type { BinaryOp, DType, GatherMode, ReduceOp, UnaryOp } from "../../ir/types.js";
import type { GatherSite } from "../../ir/gather.js";
import type { KExpr, KGather, Kernel, Stmt } from "../kernel/types.js";
import { someKExpr } from "../kernel/walk.js";
import { BYTES } from "./layout.js";
import type { FloatBinary, Ref } from "./binaryen.js";
import { ERF_BREAKS, ERF_PIECES } from "../../ir/erf.js";
import { inlineExpF32 } from "./emit-exp.js";
import { inlineTanhF32 } from "./emit-tanh.js";
import type { FunctionContext } from "./function-context.js";

/** Imported host functions, by name, with their arity. */
export const MATH_IMPORTS: Readonly<Record<string, number>> = {
  exp: 1, log: 1, tanh: 1, pow: 2, sin: 1, cos: 1, tan: 1, atan: 1, log1p: 1, expm1: 1, atan2: 2,
};

const COMPARE: Partial<Record<BinaryOp, FloatBinary>> = { lt: "lt", le: "le", gt: "gt", ge: "ge", eq: "eq", ne: "ne" };

/** The f64 value of the kernel local `name`. */
export function localIndex(ctx: FunctionContext, name: string): number {
  return ctx.locals.named(`t:${name}`, "f64");
}

function callMath(ctx: FunctionContext, name: string, args: Ref[]): Ref {
  ctx.imports.add(name);
  return ctx.m.call(name, args, "f64");
}

/** e^x: inline to float32 accuracy in kernels that store float32 (emit-exp.ts), else `Math.exp`. */
function exp(ctx: FunctionContext, x: Ref): Ref {
  return ctx.f32Exp ? inlineExpF32(ctx, x) : callMath(ctx, "exp", [x]);
}

function unaryOp(ctx: FunctionContext, op: UnaryOp, x: Ref): Ref {
  const m = ctx.m;
  switch (op) {
    case "neg": case "abs": case "sqrt": return m.floatUnary("f64", op, x);
    case "rsqrt": return m.float("f64", "div", m.f64Const(1), m.floatUnary("f64", "sqrt", x));
    case "relu": return m.float("f64", "max", m.f64Const(0), x);
    case "exp": return exp(ctx, x);
    case "tanh": return ctx.f32Exp ? inlineTanhF32(ctx, x) : callMath(ctx, op, [x]);
    case "log": return callMath(ctx, op, [x]);
    case "sigmoid": return m.float("f64", "div", m.f64Const(1), m.float("f64", "add", m.f64Const(1), exp(ctx, m.floatUnary("f64", "neg", x))));
    case "sin": case "cos": case "tan": case "atan": case "log1p": case "expm1": return callMath(ctx, op, [x]);
    case "floor": case "ceil": return m.floatUnary("f64", op, x);
    case "round": return m.floatUnary("f64", "nearest", x);
    case "sign": {
      const t = ctx.locals.fresh("f64");
      const v = (): Ref => m.get(t, "f64");
      return m.valueBlock([
        m.set(t, x),
        m.select(m.float("f64", "gt", v(), m.f64Const(0)), m.f64Const(1),
          m.select(m.float("f64", "lt", v(), m.f64Const(0)), m.f64Const(-1), v())),
      ], "f64");
    }
    case "erf": return inlineErf(ctx, x);
  }
}

/**
 * erf(x) inline, branch-free: the three pieces of src/ir/erf.ts evaluated in
 * f64 and selected by |x|, the sign restored with `copysign` (so erf(±0) is ±0
 * and NaN stays NaN through the last piece).
 */
function inlineErf(ctx: FunctionContext, arg: Ref): Ref {
  const m = ctx.m;
  const x = ctx.locals.fresh("f64");
  const a = ctx.locals.fresh("f64");
  const f = (l: number): Ref => m.get(l, "f64");
  const c = (v: number): Ref => m.f64Const(v);
  const add = (p: Ref, q: Ref): Ref => m.float("f64", "add", p, q);
  const mul = (p: Ref, q: Ref): Ref => m.float("f64", "mul", p, q);
  const horner = (coefs: readonly number[], u: Ref): Ref => {
    const ul = ctx.locals.fresh("f64");
    let acc = c(coefs[0]!);
    for (const k of coefs.slice(1)) acc = add(mul(acc, m.get(ul, "f64")), c(k));
    return m.valueBlock([m.set(ul, u), acc], "f64");
  };
  const p = ERF_PIECES;
  const near = mul(f(a), horner(p.near.coefs, add(mul(c(p.near.scale), mul(f(a), f(a))), c(p.near.shift))));
  const q = m.select(
    m.float("f64", "lt", f(a), c(ERF_BREAKS.mid)),
    horner(p.mid.coefs, add(mul(c(p.mid.scale), f(a)), c(p.mid.shift))),
    horner(p.far.coefs, add(m.float("f64", "div", c(p.far.scale), f(a)), c(p.far.shift))),
  );
  const tail = m.float("f64", "sub", c(1), mul(exp(ctx, m.floatUnary("f64", "neg", mul(f(a), f(a)))), q));
  const magnitude = m.select(
    m.float("f64", "lt", f(a), c(ERF_BREAKS.near)),
    near,
    m.select(m.float("f64", "ge", f(a), c(ERF_BREAKS.far)), c(1), tail),
  );
  return m.valueBlock([m.set(x, arg), m.set(a, m.floatUnary("f64", "abs", f(x))), m.float("f64", "copysign", magnitude, f(x))], "f64");
}

/** The value of an element of a given type, widened to f64. */
export function widen(ctx: FunctionContext, dtype: DType, v: Ref): Ref {
  switch (dtype) {
    case "f64": return v;
    case "f32": return ctx.m.convert("f64.promote_f32", v);
    case "i32": return ctx.m.convert("f64.convert_i32_s", v);
  }
}

/**
 * An f64 value narrowed for storing as `dtype`. f32 rounds to nearest like a
 * Float32Array store; i32 truncates toward zero and saturates (a JavaScript
 * Int32Array store wraps instead; the two differ only outside the i32 range).
 */
export function narrow(ctx: FunctionContext, dtype: DType, v: Ref): Ref {
  switch (dtype) {
    case "f64": return v;
    case "f32": return ctx.m.convert("f32.demote_f64", v);
    case "i32": return ctx.m.convert("i32.trunc_sat_f64_s", v);
  }
}

/** `op(acc, value)` for a reduction operator on f64 values. */
export function combine(ctx: FunctionContext, op: ReduceOp, acc: Ref, value: Ref): Ref {
  const m = ctx.m;
  switch (op) {
    case "sum": return m.float("f64", "add", acc, value);
    case "prod": return m.float("f64", "mul", acc, value);
    case "max": return m.float("f64", "max", acc, value);
    case "min": return m.float("f64", "min", acc, value);
  }
}

/** The name under which the arena place of the gather status is known (emit.ts). */
export const GATHER_STATUS = "$gather_status";

/**
 * Whether a kernel reads through a gather.
 *
 * @example
 * ```ts
 * kernelGathers(lowerToKernels(program).kernels[0]); // true for Xe[t, d] = Wte[ids[t], d]
 * ```
 */
export function kernelGathers(k: Kernel): boolean {
  const inExpr = (e: KExpr): boolean => someKExpr(e, (x) => x.kind === "gather");
  const inStmts = (body: readonly Stmt[]): boolean => body.some((s) => {
    switch (s.kind) {
      case "loop": return inStmts(s.body);
      case "let": case "update": case "store": return inExpr(s.value);
      default: return false;
    }
  });
  return inStmts(k.body) || (k.epilogueContraction !== undefined && inExpr(k.epilogueContraction.epilogue));
}

/**
 * A gather's element: each dynamic index truncated to i32 and, in mode
 * `check`, tested against its extent; an index out of range writes its site
 * and value to the gather status (once per run: the first wins) and reads
 * element 0 of the dimension, so the load stays inside the buffer. `clamp`
 * clamps instead.
 */
function wasmGather(ctx: FunctionContext, e: KGather): Ref {
  const m = ctx.m;
  const { dtype } = ctx.place(e.buffer);
  const at = ctx.address(e.buffer, e.offset);
  let ptr = at.ptr;
  for (const d of e.dims) {
    const index = gatherIndex(ctx, wasmExpr(ctx, d.value), d.extent, e.mode, d.site);
    const scaled = m.i32("mul", index, m.i32Const(d.stride * BYTES[dtype]));
    ptr = m.i32("add", ptr, scaled);
  }
  return widen(ctx, dtype, m.load(dtype, at.offset, ptr));
}

/**
 * A data-dependent index (an f64 value) as an in-range i32 under `mode`: in
 * mode `check` an index out of range writes its site and value to the
 * gather status (once per run: the first wins) and becomes 0, so the access
 * stays inside the buffer; `clamp` clamps.
 *
 * @example
 * ```ts
 * gatherIndex(ctx, wasmExpr(ctx, value), 64, "check", site); // i32 in 0 .. 63
 * ```
 */
export function gatherIndex(ctx: FunctionContext, value: Ref, extent: number, mode: GatherMode, gatherSite: GatherSite): Ref {
  const m = ctx.m;
  const k = ctx.locals.fresh("i32");
  const raw = m.convert("i32.trunc_sat_f64_s", value);
  if (mode === "clamp") {
    const low = m.select(m.i32("lt_s", m.get(k, "i32"), m.i32Const(0)), m.i32Const(0), m.get(k, "i32"));
    return m.valueBlock([m.set(k, raw), m.select(m.i32("lt_s", m.get(k, "i32"), m.i32Const(extent)), low, m.i32Const(extent - 1))], "i32");
  }
  let site = ctx.gatherSites.indexOf(gatherSite);
  if (site < 0) site = ctx.gatherSites.push(gatherSite) - 1;
  const status = ctx.place(GATHER_STATUS).offset;
  const first = m.i32("eq", m.load("i32", status, m.i32Const(0)), m.i32Const(0));
  const record = m.block([
    m.ifElse(first, m.block([m.store("i32", status, m.i32Const(0), m.i32Const(site + 1)), m.store("i32", status + 4, m.i32Const(0), m.get(k, "i32"))])),
    m.set(k, m.i32Const(0)),
  ]);
  const inRange = m.i32("lt_u", m.get(k, "i32"), m.i32Const(extent));
  return m.valueBlock([m.set(k, raw), m.ifElse(m.i32("eq", inRange, m.i32Const(0)), record), m.get(k, "i32")], "i32");
}

/** A comparison as an i32 0/1, or null when `e` is not one. */
function condition(ctx: FunctionContext, e: KExpr): Ref | null {
  if (e.kind !== "binary") return null;
  const cmp = COMPARE[e.op];
  return cmp ? ctx.m.float("f64", cmp, wasmExpr(ctx, e.lhs), wasmExpr(ctx, e.rhs)) : null;
}

/** Whether a kernel expression loads from `buffer`. */
function loadsBuffer(e: KExpr, buffer: string): boolean {
  let found = false;
  visitKExpr(e, (x) => { if (x.kind === "load" && x.buffer === buffer) found = true; });
  return found;
}

/**
 * A kernel expression as an f64-valued WebAssembly expression.
 *
 * @example
 * ```ts
 * wasmExpr(ctx, { kind: "binary", op: "mul", lhs: { kind: "local", name: "t0" }, rhs: { kind: "const", value: 2 } });
 * // (f64.mul (local.get $t0) (f64.const 2))
 * ```
 */
export function wasmExpr(ctx: FunctionContext, e: KExpr): Ref {
  const m = ctx.m;
  switch (e.kind) {
    case "const": return m.f64Const(e.value);
    case "index": return m.convert("f64.convert_i32_s", m.get(ctx.loopVar(e.var), "i32"));
    case "local": return m.get(localIndex(ctx, e.name), "f64");
    case "load": {
      const { dtype } = ctx.place(e.buffer);
      const at = ctx.address(e.buffer, e.offset);
      const read = widen(ctx, dtype, m.load(dtype, at.offset, at.ptr));
      if (!e.guard) return read;
      // A padding read: an `if`, so that no memory is touched outside the tensor (`select` would load anyway).
      let inside: Ref | null = null;
      for (const g of e.guard) {
        // 0 <= index < size as one unsigned comparison.
        const index = m.i32("add", ctx.terms(g.index.terms, 1), m.i32Const(g.index.constant));
        const ok = m.i32("lt_u", index, m.i32Const(g.size));
        inside = inside === null ? ok : m.i32("and", inside, ok);
      }
      return m.ifElse(inside!, read, m.f64Const(0));
    }
    case "gather": return wasmGather(ctx, e);
    case "unary": return unaryOp(ctx, e.op, wasmExpr(ctx, e.arg));
    case "binary": {
      const cmp = condition(ctx, e);
      if (cmp) return m.convert("f64.convert_i32_u", cmp);
      if (e.op === "pow" || e.op === "atan2") return callMath(ctx, e.op, [wasmExpr(ctx, e.lhs), wasmExpr(ctx, e.rhs)]);
      return m.float("f64", e.op as FloatBinary, wasmExpr(ctx, e.lhs), wasmExpr(ctx, e.rhs));
    }
    case "select": {
      // `select` evaluates both arms; they are pure and in bounds, so that is safe,
      // except for a recurrence's read of itself, in bounds only under its guard.
      const cond = condition(ctx, e.cond) ?? m.float("f64", "ne", wasmExpr(ctx, e.cond), m.f64Const(0));
      const guarded = ctx.guardedBuffer;
      if (guarded !== null && (loadsBuffer(e.then, guarded) || loadsBuffer(e.else, guarded))) {
        return m.ifElse(cond, wasmExpr(ctx, e.then), wasmExpr(ctx, e.else));
      }
      return m.select(cond, wasmExpr(ctx, e.then), wasmExpr(ctx, e.else));
    }
  }
}
