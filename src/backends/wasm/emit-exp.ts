/**
 * `exp` inline, to float32 accuracy, for kernels that store float32. A call
 * to the imported `Math.exp` leaves WebAssembly for JavaScript on every
 * element (tens of nanoseconds); this is a dozen f64 instructions. The usual
 * reduction: x = n·ln2 + r with n = nearest(x / ln2), so |r| ≤ ln2/2; e^r by
 * its degree-7 Taylor polynomial (truncation error below r⁸/8!·e^r ≈ 8e-9
 * relative, well under half a float32 ulp, 6e-8); then the scale 2ⁿ, built
 * from float bits as 2^⌊n/2⌋ · 2^(n-⌊n/2⌋) so that each factor is a normal
 * float32 for every n the range check lets through (|n| ≤ 159):
 *
 *     before: (call $exp (local.get $t0))
 *     after:  (block (result f64)
 *               x = t0; nf = nearest(x * 1/ln2); r = x - nf*ln2; n = i32(nf)
 *               (select (f64.const inf) (select (f64.const 0)
 *                   poly(r) * f32bits((n>>1 + 127) << 23) * f32bits((n - n>>1 + 127) << 23)
 *                 (f64.lt x -110)) (f64.gt x 100)))
 *
 * The value is an f64 that narrows to the right float32: beyond e^100 every
 * float32 is +inf and below e^-110 every float32 is 0, so those are returned
 * outright; NaN fails both comparisons and propagates through the polynomial.
 * Measured against `Math.exp` over 10⁶ points of [-87, 88], the stored
 * float32 is within 0.58 ulp of the exact value and 1 ulp of
 * `Math.fround(Math.exp(x))` (test/backends/wasm-exp.test.ts).
 *
 * {@link inlineExpF32x4} is the same algorithm on four float32 lanes, for
 * vectorised loops: the same reduction (with ln2 split in two, Cody and
 * Waite's way, since float32 cannot hold n·ln2 exactly), the same polynomial
 * and the same two-factor scale, each step rounded to float32; see
 * docs/wasm.md for its measured error. {@link inlineExp2F32x4NonPositive}
 * is 2^x for the non-positive arguments of a softmax (attention's weights):
 * fewer operations, since it need not guard against overflow.
 */
import type { Ref } from "./binaryen.js";
import type { FunctionContext } from "./function-context.js";

/** Above this every float32 result is +inf (e^88.73 exceeds the largest float32). */
const OVERFLOW = 100;
/** Below this every float32 result is 0 (e^-103.98 is half the smallest subnormal). */
const UNDERFLOW = -110;
/** 1/k! for k = 7 down to 0: Horner's order. */
const TAYLOR = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];

/**
 * e^x for an f64 value `x`, accurate when narrowed to float32.
 *
 * @example
 * ```ts
 * const e = inlineExpF32(ctx, m.get(t, "f64")); // f64-valued, no import
 * ```
 */
export function inlineExpF32(ctx: FunctionContext, arg: Ref): Ref {
  const m = ctx.m;
  const l = ctx.locals;
  const x = l.fresh("f64");
  const nf = l.fresh("f64");
  const r = l.fresh("f64");
  const n = l.fresh("i32");
  const half = l.fresh("i32");
  const f = (v: number): Ref => m.get(v, "f64");
  const pow2 = (e: Ref): Ref =>
    m.convert("f64.promote_f32", m.convert("f32.reinterpret_i32", m.i32("shl", m.i32("add", e, m.i32Const(127)), m.i32Const(23))));
  let poly = m.f64Const(TAYLOR[0]!);
  for (const c of TAYLOR.slice(1)) poly = m.float("f64", "add", m.float("f64", "mul", poly, f(r)), m.f64Const(c));
  const scaled = m.float("f64", "mul",
    m.float("f64", "mul", poly, pow2(m.get(half, "i32"))),
    pow2(m.i32("sub", m.get(n, "i32"), m.get(half, "i32"))));
  const inRange = m.select(m.float("f64", "lt", f(x), m.f64Const(UNDERFLOW)), m.f64Const(0), scaled);
  return m.valueBlock([
    m.set(x, arg),
    m.set(nf, m.floatUnary("f64", "nearest", m.float("f64", "mul", f(x), m.f64Const(Math.LOG2E)))),
    m.set(r, m.float("f64", "sub", f(x), m.float("f64", "mul", f(nf), m.f64Const(Math.LN2)))),
    m.set(n, m.convert("i32.trunc_sat_f64_s", f(nf))),
    m.set(half, m.i32("shr_s", m.get(n, "i32"), m.i32Const(1))),
    m.select(m.float("f64", "gt", f(x), m.f64Const(OVERFLOW)), m.f64Const(Infinity), inRange),
  ], "f64");
}

/** ln2 in two parts: the high part has 9 significant bits, so `n·LN2_HI` is exact in float32 for |n| ≤ 2^15. */
const LN2_HI = 0.693359375;
const LN2_LO = Math.LN2 - LN2_HI;

/**
 * e^x on four float32 lanes (a v128 of f32x4), the vector form of
 * {@link inlineExpF32} computed in float32.
 *
 * @example
 * ```ts
 * const e = inlineExpF32x4(ctx, m.v128Load(0, ptr)); // f32x4, no import
 * ```
 */
export function inlineExpF32x4(ctx: FunctionContext, arg: Ref): Ref {
  const m = ctx.m;
  const l = ctx.locals;
  const x = l.fresh("v128");
  const nf = l.fresh("v128");
  const r = l.fresh("v128");
  const n = l.fresh("v128");
  const half = l.fresh("v128");
  const v = (i: number): Ref => m.get(i, "v128");
  const splat = (c: number): Ref => m.f32x4Splat(m.f32Const(c));
  const pow2 = (e: Ref): Ref => m.i32x4Shl(m.i32x4("add", e, m.i32x4Splat(m.i32Const(127))), m.i32Const(23));
  let poly = splat(TAYLOR[0]!);
  for (const c of TAYLOR.slice(1)) poly = m.f32x4Arith("add", m.f32x4Arith("mul", poly, v(r)), splat(c));
  const scaled = m.f32x4Arith("mul", m.f32x4Arith("mul", poly, pow2(v(half))), pow2(m.i32x4("sub", v(n), v(half))));
  const inRange = m.v128Bitselect(splat(0), scaled, m.f32x4Compare("lt", v(x), splat(UNDERFLOW)));
  return m.valueBlock([
    m.set(x, arg),
    m.set(nf, m.f32x4Unary("nearest", m.f32x4Arith("mul", v(x), splat(Math.LOG2E)))),
    m.set(r, m.f32x4Arith("sub",
      m.f32x4Arith("sub", v(x), m.f32x4Arith("mul", v(nf), splat(LN2_HI))),
      m.f32x4Arith("mul", v(nf), splat(LN2_LO)))),
    m.set(n, m.i32x4TruncSatF32x4(v(nf))),
    m.set(half, m.i32x4ShrS(v(n), m.i32Const(1))),
    m.v128Bitselect(splat(Infinity), inRange, m.f32x4Compare("gt", v(x), splat(OVERFLOW))),
  ], "v128");
}

/**
 * 1.5·2²³ + 127: added to an x in [-126, 0] it rounds it to the nearest
 * integer n, and the low bits of the sum are then n + 127, the biased
 * exponent of 2ⁿ (the sum lies in [2²³, 2²⁴), where float32 steps by 1).
 */
const ROUNDING_BIAS = 1.5 * 2 ** 23 + 127;

/**
 * A degree-6 polynomial for 2^r on [-1/2, 1/2], fitted for relative error
 * (iteratively reweighted least squares in NumPy): 2.8e-9 relative in exact
 * arithmetic, under float32 rounding. Coefficients of r⁶ down to r⁰.
 */
const FITTED2_6 = [
  0.0001534017716376488, 0.0013397717426166852, 0.009618490610232414, 0.055503346793853485,
  0.24022647090799176, 0.6931472027701322, 1.0000000004896326,
];

/**
 * The constants {@link inlineExp2F32x4NonPositive} reads, as four equal
 * float32 lanes each: a kernel may keep them in locals set once (a
 * `v128.const` inside a loop is rebuilt on every use by V8 on x64).
 */
export const EXP2_NON_POSITIVE_CONSTANTS: readonly number[] = [ROUNDING_BIAS, -126, ...FITTED2_6];

/**
 * 2^x on four float32 lanes whose values are at most 0 (or NaN): a value
 * minus an upper bound of it, as in a softmax whose scores are scaled by
 * log2(e) (which costs nothing when the scores come out of a product with a
 * scale). With no overflow to guard against and every weight below 2^-126
 * flushed to 0, 2ⁿ is one normal float32 whose exponent bits come out of
 * the rounding itself (no conversion to integers, which costs V8 about
 * eight x64 instructions), the reduction is exact (`r = x - nearest(x)`),
 * and the polynomial {@link FITTED2_6} runs in Estrin's form, a chain of 7
 * dependent operations where Horner's has 12:
 *
 *     t = x + (1.5·2²³ + 127)        (rounds: the low bits of t are n + 127, n = nearest(x))
 *     r = x - (t - (1.5·2²³ + 127))
 *     2^x = x < -126 ? 0 : (c0 + c1·r + r²·(c2 + c3·r + r²·(c4 + c5·r + r²·c6))) · f32bits(bits(t) << 23)
 *
 * `constant(k)` gives entry k of {@link EXP2_NON_POSITIVE_CONSTANTS} (a
 * local the caller set, or the constant itself). -inf gives 0 and NaN gives
 * NaN. Over 10⁶ points of [-126, 0] the result is within 1.45 units in the
 * last place of 2^x (test/backends/wasm-exp.test.ts); below -126 it is 0,
 * at most 2^-126 from 2^x.
 *
 * @example
 * ```ts
 * const p = inlineExp2F32x4NonPositive(ctx, m.f32x4Arith("sub", scores, maxima), (k) => m.get(constantLocals[k]!, "v128"));
 * ```
 */
export function inlineExp2F32x4NonPositive(ctx: FunctionContext, arg: Ref, constant: (k: number) => Ref): Ref {
  const m = ctx.m;
  const l = ctx.locals;
  const [x, t, r, rr] = [l.fresh("v128"), l.fresh("v128"), l.fresh("v128"), l.fresh("v128")];
  const v = (i: number): Ref => m.get(i, "v128");
  const c = (k: number): Ref => constant(2 + FITTED2_6.length - 1 - k);
  const pair = (k: number): Ref => m.f32x4Arith("add", c(k), m.f32x4Arith("mul", c(k + 1), v(r)));
  const r2 = (): Ref => v(rr);
  const poly = m.f32x4Arith("add", pair(0), m.f32x4Arith("mul", r2(),
    m.f32x4Arith("add", pair(2), m.f32x4Arith("mul", r2(), m.f32x4Arith("add", pair(4), m.f32x4Arith("mul", r2(), c(6)))))));
  return m.valueBlock([
    m.set(x, arg),
    m.set(t, m.f32x4Arith("add", v(x), constant(0))),
    m.set(r, m.f32x4Arith("sub", v(x), m.f32x4Arith("sub", v(t), constant(0)))),
    m.set(rr, m.f32x4Arith("mul", v(r), v(r))),
    m.v128Bitwise("andnot", m.f32x4Arith("mul", poly, m.i32x4Shl(v(t), m.i32Const(23))), m.f32x4Compare("lt", v(x), constant(1))),
  ], "v128");
}
