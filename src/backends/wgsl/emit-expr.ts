/**
 * WGSL text for kernel expressions, offsets and statements. Values are f32
 * (an i32 buffer is converted on load and on store); loop and index
 * variables are i32, so offsets with negative coefficients need no care.
 *
 *     before: relu(b[j] + t0)              (kernel expression)
 *     after:  max(b_b[v_j] + t0, 0f)
 *
 *     before: where(j <= i, S[4*i + j], -inf)
 *     after:  select(bitcast<f32>(0xff800000u), b_S[4 * v_i + v_j], f32(v_j) <= f32(v_i))
 *
 * WGSL leaves a few results to the implementation where JavaScript defines
 * them (NaN through min/max, overflow of exp): the emitted code computes what
 * the GPU computes there. `pow` follows JavaScript's sign rules for negative
 * bases through a helper, and constant exponents 1, 2, 0.5 and -1 are spelled
 * without it.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { Affine, BinaryOp, DType, ReduceOp, UnaryOp } from "../../ir/types.js";
import { reduceIdentity } from "../../ir/types.js";
import type { KExpr, Stmt } from "../kernel/types.js";
import { wgslBuffer, wgslVar } from "./names.js";

/** How a kernel reads and writes buffers: their element types, and where a buffer lives when it is read from a packed binding. */
export interface BufferAccess {
  readonly dtypes: ReadonlyMap<string, DType>;
  /** Buffers read from the kernel's packed binding `pk` (u32 words), at a word offset. */
  readonly packed?: ReadonlyMap<string, number>;
}

/** Helper functions an expression needs, by name, with their WGSL text. */
export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  tns_pow: `fn tns_pow(a: f32, b: f32) -> f32 {
  if (b == 0f) { return 1f; }
  if (a >= 0f) { return pow(a, b); }
  if (floor(b) != b) { return bitcast<f32>(tns_special.z); }
  let r = pow(-a, b);
  return select(r, -r, floor(b * 0.5f) != b * 0.5f);
}`,
};

/**
 * The bits of the non-finite values, as private variables that every shader
 * declares ({@link SPECIAL_VALUES}): WGSL refuses an infinite or NaN
 * constant expression, so these values are made at run time.
 */
export const SPECIAL_VALUES = "var<private> tns_special: vec3<u32> = vec3<u32>(0x7f800000u, 0xff800000u, 0x7fc00000u);";

/** A WGSL f32 literal: the value rounded to float32; non-finite ones from their bits at run time. */
export function wgslF32(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return "bitcast<f32>(tns_special.z)";
  if (f === Infinity) return "bitcast<f32>(tns_special.x)";
  if (f === -Infinity) return "bitcast<f32>(tns_special.y)";
  if (Object.is(f, -0)) return "(-0f)";
  const text = String(f);
  return f < 0 ? `(${text}f)` : `${text}f`;
}

/** An i32 literal (parenthesised when negative). */
function wgslI32(x: number): string {
  if (!Number.isSafeInteger(x) || Math.abs(x) > 2 ** 31 - 1) throw new InternalCompilerError(`offset term ${x} does not fit an i32`);
  return x < 0 ? `(${x})` : `${x}`;
}

/** An affine form over loop variables as an i32 expression, e.g. `8 * v_i + v_k - 1`. */
export function wgslAffine(a: Affine): string {
  const parts: string[] = [];
  for (const t of a.terms) {
    const mag = Math.abs(t.coef) === 1 ? wgslVar(t.var) : `${wgslI32(Math.abs(t.coef))} * ${wgslVar(t.var)}`;
    parts.push(parts.length === 0 ? (t.coef < 0 ? `-${mag}` : mag) : `${t.coef < 0 ? "-" : "+"} ${mag}`);
  }
  if (a.constant !== 0 || parts.length === 0) {
    parts.push(parts.length === 0 ? wgslI32(a.constant) : `${a.constant < 0 ? "-" : "+"} ${wgslI32(Math.abs(a.constant))}`);
  }
  return parts.join(" ");
}

/** The WGSL expression reading element `offset` (an i32 expression) of a buffer, as f32. */
export function wgslLoad(buffer: string, offset: string, io: BufferAccess): string {
  const dtype = io.dtypes.get(buffer);
  const base = io.packed?.get(buffer);
  if (base !== undefined) {
    const word = `pk[${base} + ${offset}]`;
    return dtype === "i32" ? `f32(bitcast<i32>(${word}))` : `bitcast<f32>(${word})`;
  }
  return dtype === "i32" ? `f32(${wgslBuffer(buffer)}[${offset}])` : `${wgslBuffer(buffer)}[${offset}]`;
}

/** The value to store into a buffer of element type `dtype`, from an f32 expression. */
export function wgslStoreValue(value: string, dtype: DType | undefined): string {
  return dtype === "i32" ? `i32(${value})` : value;
}

const COMPARE: Partial<Record<BinaryOp, string>> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=" };

/** A boolean WGSL expression for a kernel expression used as a condition (`!= 0`, or the comparison itself). */
function wgslCondition(e: KExpr, io: BufferAccess, helpers: Set<string>): string {
  if (e.kind === "binary" && COMPARE[e.op]) {
    return `${wgslExpr(e.lhs, io, helpers)} ${COMPARE[e.op]} ${wgslExpr(e.rhs, io, helpers)}`;
  }
  return `${wgslExpr(e, io, helpers)} != 0f`;
}

function wgslUnary(op: UnaryOp, x: string): string {
  switch (op) {
    case "neg": return `(-${x})`;
    case "exp": return `exp(${x})`;
    case "log": return `log(${x})`;
    case "sqrt": return `sqrt(${x})`;
    case "rsqrt": return `inverseSqrt(${x})`;
    // tanh is ±1 in f32 beyond ±9.02; clamping keeps implementations that compute it through exp from overflowing.
    case "tanh": return `tanh(clamp(${x}, -15f, 15f))`;
    case "sigmoid": return `(1f / (1f + exp(-${x})))`;
    case "relu": return `max(${x}, 0f)`;
    case "abs": return `abs(${x})`;
  }
}

function wgslPow(base: KExpr, exponent: KExpr, io: BufferAccess, helpers: Set<string>): string {
  const x = wgslExpr(base, io, helpers);
  if (exponent.kind === "const") {
    switch (exponent.value) {
      case 1: return x;
      case 2: return `(${x} * ${x})`;
      case 0.5: return `sqrt(${x})`;
      case -1: return `(1f / ${x})`;
    }
  }
  helpers.add("tns_pow");
  return `tns_pow(${x}, ${wgslExpr(exponent, io, helpers)})`;
}

/**
 * A kernel expression as a WGSL f32 expression. Helpers it needs are added
 * to `helpers` (see {@link WGSL_HELPERS}).
 *
 * @example
 * ```ts
 * wgslExpr({ kind: "unary", op: "exp", arg: { kind: "local", name: "t0" } }, io, new Set()); // "exp(t0)"
 * ```
 */
export function wgslExpr(e: KExpr, io: BufferAccess, helpers: Set<string>): string {
  switch (e.kind) {
    case "const": return wgslF32(e.value);
    case "index": return `f32(${wgslVar(e.var)})`;
    case "local": return e.name;
    case "load": return wgslLoad(e.buffer, wgslAffine(e.offset), io);
    case "unary": return wgslUnary(e.op, wgslExpr(e.arg, io, helpers));
    case "binary": {
      if (e.op === "pow") return wgslPow(e.lhs, e.rhs, io, helpers);
      const a = wgslExpr(e.lhs, io, helpers);
      const b = wgslExpr(e.rhs, io, helpers);
      switch (e.op) {
        case "add": return `(${a} + ${b})`;
        case "sub": return `(${a} - ${b})`;
        case "mul": return `(${a} * ${b})`;
        case "div": return `(${a} / ${b})`;
        case "min": return `min(${a}, ${b})`;
        case "max": return `max(${a}, ${b})`;
        default: return `select(0f, 1f, ${a} ${COMPARE[e.op]!} ${b})`;
      }
    }
    case "select":
      return `select(${wgslExpr(e.else, io, helpers)}, ${wgslExpr(e.then, io, helpers)}, ${wgslCondition(e.cond, io, helpers)})`;
  }
}

/** `acc` combined with `value` by a reduction operator. */
export function wgslCombine(op: ReduceOp, acc: string, value: string): string {
  switch (op) {
    case "sum": return `${acc} + ${value}`;
    case "prod": return `${acc} * ${value}`;
    case "max": return `max(${acc}, ${value})`;
    case "min": return `min(${acc}, ${value})`;
  }
}

/** The identity of a reduction as an f32 literal. */
export function wgslIdentity(op: ReduceOp): string {
  return wgslF32(reduceIdentity(op));
}

/** What a statement emitter needs besides the buffers. */
export interface StmtContext {
  readonly io: BufferAccess;
  readonly helpers: Set<string>;
  /**
   * Rewrites a store before it is emitted (a cooperative reduction guards
   * its stores so that one invocation writes); default: none.
   */
  readonly guardStore?: (line: string) => string;
}

/**
 * Statements of a kernel body as WGSL lines: loops become `for` loops over
 * an i32 variable, `let`/`declare`/`update` locals, stores writes. `fill`
 * belongs to loop orders that accumulate into the target, which the WGSL
 * backend never asks for.
 *
 * @throws InternalCompilerError on a `fill`
 */
export function wgslStmts(stmts: readonly Stmt[], cx: StmtContext, indent: string, out: string[]): void {
  for (const s of stmts) {
    switch (s.kind) {
      case "loop": {
        const v = wgslVar(s.var);
        out.push(`${indent}for (var ${v} = 0; ${v} < ${s.extent}; ${v}++) {`);
        wgslStmts(s.body, cx, indent + "  ", out);
        out.push(`${indent}}`);
        break;
      }
      case "let": out.push(`${indent}let ${s.name} = ${wgslExpr(s.value, cx.io, cx.helpers)};`); break;
      case "declare": out.push(`${indent}var ${s.name} = ${wgslIdentity(s.op)};`); break;
      case "update": out.push(`${indent}${s.name} = ${wgslCombine(s.op, s.name, wgslExpr(s.value, cx.io, cx.helpers))};`); break;
      case "store": {
        const target = `${wgslBuffer(s.buffer)}[${wgslAffine(s.offset)}]`;
        const dtype = cx.io.dtypes.get(s.buffer);
        let value = wgslExpr(s.value, cx.io, cx.helpers);
        if (s.op) value = wgslCombine(s.op, dtype === "i32" ? `f32(${target})` : target, value);
        const line = `${target} = ${wgslStoreValue(value, dtype)};`;
        out.push(indent + (cx.guardStore ? cx.guardStore(line) : line));
        break;
      }
      case "fill":
        throw new InternalCompilerError(`a WGSL kernel cannot fill ${s.buffer}: lower with outputsOuter`);
    }
  }
}
