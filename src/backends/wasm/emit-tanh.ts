/**
 * `tanh` inline, to float32 accuracy, for kernels that store float32, in
 * place of a call to the host's `Math.tanh` (which leaves WebAssembly on
 * every element). Two formulas, as in Cephes' `tanhf`:
 *
 * - |x| ≤ 0.625: the odd polynomial x + x·z·P(z), z = x², with Cephes'
 *   degree-4 P (relative error below 2⁻²⁴ on that interval); zero of
 *   either sign is returned as it is (the sum would turn -0 into +0);
 * - |x| > 0.625: sign(x) · (1 − 2 / (e^{2|x|} + 1)), with the inline exp of
 *   emit-exp.ts; there the quotient is at most 0.45, so the subtraction loses
 *   under one bit, and for 2|x| past the exp overflow bound it is exactly 1.
 *
 *     before: (call $tanh (local.get $t0))
 *     after:  (block (result f64)
 *               x = t0; a = |x|
 *               (select x + x*z*P(z)
 *                       copysign(1 - 2/(exp(2a) + 1), x)
 *                       (f64.le a 0.625)))
 *
 * Both arms are computed and one is selected (no branch); NaN fails the
 * comparison and propagates through the exp arm. {@link inlineTanhF32}
 * computes in float64 like every scalar kernel value and
 * {@link inlineTanhF32x4} in float32 on four lanes; docs/wasm.md gives the
 * error of each against `Math.fround(Math.tanh(x))`, measured over 10⁶ points.
 */
import type { Ref } from "./binaryen.js";
import { inlineExpF32, inlineExpF32x4 } from "./emit-exp.js";
import type { FunctionContext } from "./function-context.js";

/** At or below this |x| the polynomial is used, above it the exp form (Cephes' split). */
const POLY_LIMIT = 0.625;
/** Cephes `tanhf`'s P, highest degree first (Horner's order). */
const P = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];

/**
 * tanh(x) for an f64 value `x`, accurate when narrowed to float32.
 *
 * @example
 * ```ts
 * const t = inlineTanhF32(ctx, m.get(local, "f64")); // f64-valued, no import
 * ```
 */
export function inlineTanhF32(ctx: FunctionContext, arg: Ref): Ref {
  const m = ctx.m;
  const x = ctx.locals.fresh("f64");
  const z = ctx.locals.fresh("f64");
  const a = ctx.locals.fresh("f64");
  const big = ctx.locals.fresh("f64");
  const f = (i: number): Ref => m.get(i, "f64");
  let p = m.f64Const(P[0]!);
  for (const c of P.slice(1)) p = m.float("f64", "add", m.float("f64", "mul", p, f(z)), m.f64Const(c));
  // x + x·z·P(z) turns -0 into +0; zero of either sign is returned as it is.
  const odd = m.float("f64", "add", f(x), m.float("f64", "mul", m.float("f64", "mul", f(x), f(z)), p));
  const small = m.select(m.float("f64", "eq", f(a), m.f64Const(0)), f(x), odd);
  const e = inlineExpF32(ctx, m.float("f64", "add", f(a), f(a)));
  const magnitude = m.float("f64", "sub", m.f64Const(1), m.float("f64", "div", m.f64Const(2), m.float("f64", "add", e, m.f64Const(1))));
  const large = m.select(m.float("f64", "lt", f(x), m.f64Const(0)), m.floatUnary("f64", "neg", f(big)), f(big));
  return m.valueBlock([
    m.set(x, arg),
    m.set(a, m.floatUnary("f64", "abs", f(x))),
    m.set(z, m.float("f64", "mul", f(x), f(x))),
    m.set(big, magnitude),
    m.select(m.float("f64", "le", f(a), m.f64Const(POLY_LIMIT)), small, large),
  ], "f64");
}

/**
 * tanh on four float32 lanes (a v128 of f32x4), computed in float32.
 *
 * @example
 * ```ts
 * const t = inlineTanhF32x4(ctx, m.v128Load(0, ptr)); // f32x4, no import
 * ```
 */
export function inlineTanhF32x4(ctx: FunctionContext, arg: Ref): Ref {
  const m = ctx.m;
  const x = ctx.locals.fresh("v128");
  const z = ctx.locals.fresh("v128");
  const a = ctx.locals.fresh("v128");
  const v = (i: number): Ref => m.get(i, "v128");
  const splat = (c: number): Ref => m.f32x4Splat(m.f32Const(c));
  let p = splat(P[0]!);
  for (const c of P.slice(1)) p = m.f32x4Arith("add", m.f32x4Arith("mul", p, v(z)), splat(c));
  const odd = m.f32x4Arith("add", v(x), m.f32x4Arith("mul", m.f32x4Arith("mul", v(x), v(z)), p));
  const small = m.v128Bitselect(v(x), odd, m.f32x4Compare("eq", v(a), splat(0)));
  const e = inlineExpF32x4(ctx, m.f32x4Arith("add", v(a), v(a)));
  const magnitude = m.f32x4Arith("sub", splat(1), m.f32x4Arith("div", splat(2), m.f32x4Arith("add", e, splat(1))));
  // copysign: the magnitude is non-negative, so or-ing in x's sign bit gives sign(x)·magnitude.
  const large = m.v128Bitwise("or", magnitude, m.v128Bitwise("and", v(x), splat(-0)));
  return m.valueBlock([
    m.set(x, arg),
    m.set(a, m.f32x4Unary("abs", v(x))),
    m.set(z, m.f32x4Arith("mul", v(x), v(x))),
    m.v128Bitselect(small, large, m.f32x4Compare("le", v(a), splat(POLY_LIMIT))),
  ], "v128");
}
