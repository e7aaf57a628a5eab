/**
 * The value of each IR operator on doubles: the one statement of their
 * semantics for compile-time evaluation (constant folding, kernel lowering,
 * the contraction matcher). The reference interpreter compiles the same
 * semantics into per-operator closures for speed; a test checks the two
 * agree on special values (±0, ±inf, NaN, denormals).
 */
import { erf } from "./erf.js";
import type { BinaryOp, UnaryOp } from "./types.js";

/**
 * `x` rounded to the nearest integer, ties to even (NumPy's `round`, WGSL's
 * `round`, WebAssembly's `nearest`); NaN, ±inf and ±0 unchanged.
 *
 * @example
 * ```ts
 * roundHalfEven(2.5); // 2
 * ```
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r === 0 ? x * 0 : r;
}

/** -1, 0 or 1 by the sign of `x` (±0 and NaN unchanged). */
export function signOf(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x;
}


/**
 * The value of a unary operator on a double, as the reference interpreter computes it.
 *
 * @example
 * ```ts
 * evalUnary("sqrt", 64); // 8
 * ```
 */
export function evalUnary(op: UnaryOp, x: number): number {
  switch (op) {
    case "neg": return -x;
    case "exp": return Math.exp(x);
    case "log": return Math.log(x);
    case "sqrt": return Math.sqrt(x);
    case "rsqrt": return 1 / Math.sqrt(x);
    case "tanh": return Math.tanh(x);
    case "sigmoid": return 1 / (1 + Math.exp(-x));
    case "relu": return Math.max(0, x);
    case "abs": return Math.abs(x);
    case "sin": return Math.sin(x);
    case "cos": return Math.cos(x);
    case "tan": return Math.tan(x);
    case "atan": return Math.atan(x);
    case "erf": return erf(x);
    case "log1p": return Math.log1p(x);
    case "expm1": return Math.expm1(x);
    case "sign": return signOf(x);
    case "floor": return Math.floor(x);
    case "ceil": return Math.ceil(x);
    case "round": return roundHalfEven(x);
  }
}

/**
 * The value of a binary operator on doubles, as the reference interpreter computes it.
 *
 * @example
 * ```ts
 * evalBinary("le", 1, 2); // 1
 * ```
 */
export function evalBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case "add": return a + b;
    case "sub": return a - b;
    case "mul": return a * b;
    case "div": return a / b;
    case "pow": return Math.pow(a, b);
    case "min": return Math.min(a, b);
    case "max": return Math.max(a, b);
    case "atan2": return Math.atan2(a, b);
    case "lt": return a < b ? 1 : 0;
    case "le": return a <= b ? 1 : 0;
    case "gt": return a > b ? 1 : 0;
    case "ge": return a >= b ? 1 : 0;
    case "eq": return a === b ? 1 : 0;
    case "ne": return a !== b ? 1 : 0;
  }
}
