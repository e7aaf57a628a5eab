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
import type { GatherSite } from "../../ir/gather.js";
import { wgslBuffer, wgslVar } from "./names.js";
import { erfFunctionText } from "../../ir/erf.js";

/** How a kernel reads and writes buffers: their element types, and where a buffer lives when it is read from a packed binding. */
export interface BufferAccess {
  readonly dtypes: ReadonlyMap<string, DType>;
  /** Buffers read from the kernel's packed binding `pk` (u32 words), at a word offset. */
  readonly packed?: ReadonlyMap<string, number>;
  /** The plan's gather sites, numbered as emitted (shared by every kernel of the plan). */
  readonly gatherSites?: GatherSite[];
  /** Element counts of the buffers, where known: a padding read's address is clamped into its buffer. */
  readonly sizes?: ReadonlyMap<string, number>;
}

/** The WGSL name of the gather status binding (see WgslProgram.gather). */
export const GATHER_STATUS_BINDING = "tns_status";

/** Helper functions an expression needs, by name, with their WGSL text. */
export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  // An out-of-range index records its site and value (the first one wins) and reads element 0 instead.
  tns_gather: `fn tns_gather(v: f32, n: i32, site: i32) -> i32 {
  let k = i32(v);
  if (k >= 0 && k < n) { return k; }
  if (${"tns_status"}[0] == 0) { ${"tns_status"}[0] = site + 1; ${"tns_status"}[1] = k; }
  return 0;
}`,
  tns_gather_clamp: `fn tns_gather_clamp(v: f32, n: i32) -> i32 {
  return clamp(i32(v), 0, n - 1);
}`,
  tns_pow: `fn tns_pow(a: f32, b: f32) -> f32 {
  if (b == 0f) { return 1f; }
  if (a >= 0f) { return pow(a, b); }
  if (floor(b) != b) { return bitcast<f32>(tns_special.z); }
  let r = pow(-a, b);
  return select(r, -r, floor(b * 0.5f) != b * 0.5f);
}`,
  // log(1 + x): its Taylor series near 0, where log(1 + x) would cancel (and GPU logs are only accurate to about 2^-21 absolutely).
  tns_log1p: `fn tns_log1p(x: f32) -> f32 {
  if (abs(x) < 0.1f) {
    return x * (1f - x * (0.5f - x * (0.33333334f - x * (0.25f - x * (0.2f - x * (0.16666667f - x * (0.14285715f - x * 0.125f)))))));
  }
  return log(1f + x);
}`,
  // e^x - 1: its Taylor series near 0, where e^x - 1 would cancel.
  tns_expm1: `fn tns_expm1(x: f32) -> f32 {
  if (abs(x) < 0.1f) {
    return x * (1f + x * (0.5f + x * (0.16666667f + x * (0.041666668f + x * (0.008333334f + x * (0.0013888889f + x * 0.00019841270f))))));
  }
  return exp(x) - 1f;
}`,
  tns_erf: erfFunctionText({
    header: "fn tns_erf(x: f32) -> f32", lit: wgslF32, decl: "var", abs: "abs", exp: "exp",
    nanCheck: (a) => `${a} != ${a}`, signOf: (a) => `select(1f, -1f, ${a} < 0f)`,
  }),
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

function wgslUnary(op: UnaryOp, x: string, helpers: Set<string>): string {
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
    case "sin": return `sin(${x})`;
    case "cos": return `cos(${x})`;
    case "tan": return `tan(${x})`;
    case "atan": return `atan(${x})`;
    case "sign": return `sign(${x})`;
    case "floor": return `floor(${x})`;
    case "ceil": return `ceil(${x})`;
    // WGSL's round rounds half to even, as the IR does.
    case "round": return `round(${x})`;
    case "erf": helpers.add("tns_erf"); return `tns_erf(${x})`;
    case "log1p": helpers.add("tns_log1p"); return `tns_log1p(${x})`;
    case "expm1": helpers.add("tns_expm1"); return `tns_expm1(${x})`;
  }
}

/**
 * Nesting depth beyond which a subexpression is given a `let` of its own.
 * WGSL compilers bound their parser's recursion (Tint stops at 128 levels,
 * and one level of an expression costs it several), while fused elementwise
 * chains can nest hundreds deep.
 */
export const MAX_EXPRESSION_NESTING = 12;

/** A WGSL expression's text and how deeply it nests. */
interface Written { readonly text: string; readonly depth: number }

/**
 * Writes kernel expressions as WGSL f32 expressions for one shader: helper
 * functions it needs are added to `helpers` (see {@link WGSL_HELPERS}), and
 * a subexpression nested deeper than {@link MAX_EXPRESSION_NESTING} becomes
 * a `let x<N>` line, appended to the `pre` lines of the statement that uses
 * it (which the caller emits just before that statement).
 *
 *     before: 1 + (x + 2 * (x + 2 * (... 300 levels ...)))
 *     after:  let x0 = (b_x[v_i] + (2f * ( ... 12 levels ...)));
 *             let x1 = (b_x[v_i] + (2f * (... x0 ...)));  ...
 */
export class WgslExprWriter {
  private spilled = 0;

  constructor(readonly io: BufferAccess, readonly helpers: Set<string>) {}

  /**
   * `e` as a WGSL f32 expression.
   *
   * @example
   * ```ts
   * new WgslExprWriter(io, new Set()).expr({ kind: "unary", op: "exp", arg: { kind: "local", name: "t0" } }, []); // "exp(t0)"
   * ```
   */
  expr(e: KExpr, pre: string[]): string {
    return this.node(e, pre).text;
  }

  private node(e: KExpr, pre: string[]): Written {
    const w = this.build(e, pre);
    if (w.depth <= MAX_EXPRESSION_NESTING) return w;
    const name = `x${this.spilled++}`;
    pre.push(`let ${name} = ${w.text};`);
    return { text: name, depth: 0 };
  }

  private build(e: KExpr, pre: string[]): Written {
    const leaf = (text: string): Written => ({ text, depth: 0 });
    const over = (text: string, ...parts: Written[]): Written => ({ text, depth: 1 + Math.max(0, ...parts.map((p) => p.depth)) });
    switch (e.kind) {
      case "const": return leaf(wgslF32(e.value));
      case "index": return leaf(`f32(${wgslVar(e.var)})`);
      case "local": return leaf(e.name);
      case "load": {
        if (!e.guard) return leaf(wgslLoad(e.buffer, wgslAffine(e.offset), this.io));
        // A padding read: the address clamped into the tensor, the value 0 outside it.
        const inside = e.guard.map((g) => { const a = wgslAffine(g.index); return `(${a}) >= 0 && (${a}) < ${wgslI32(g.size)}`; }).join(" && ");
        const extent = this.io.sizes?.get(e.buffer);
        const at = extent === undefined ? `max(${wgslAffine(e.offset)}, 0)` : `clamp(${wgslAffine(e.offset)}, 0, ${wgslI32(extent - 1)})`;
        return { text: `select(0f, ${wgslLoad(e.buffer, at, this.io)}, ${inside})`, depth: 1 };
      }
      case "gather": {
        const parts: string[] = [wgslAffine(e.offset)];
        const values = e.dims.map((d) => this.node(d.value, pre));
        e.dims.forEach((d, k) => {
          let index: string;
          if (e.mode === "clamp") {
            this.helpers.add("tns_gather_clamp");
            index = `tns_gather_clamp(${values[k]!.text}, ${d.extent})`;
          } else {
            const sites = this.io.gatherSites;
            if (sites === undefined) throw new InternalCompilerError("a gather in a kernel without gather sites");
            let site = sites.indexOf(d.site);
            if (site < 0) site = sites.push(d.site) - 1;
            this.helpers.add("tns_gather");
            index = `tns_gather(${values[k]!.text}, ${d.extent}, ${site})`;
          }
          parts.push(d.stride === 1 ? index : `${d.stride} * ${index}`);
        });
        return over(wgslLoad(e.buffer, parts.join(" + "), this.io), ...values);
      }
      case "unary": {
        const a = this.node(e.arg, pre);
        return over(wgslUnary(e.op, a.text, this.helpers), a);
      }
      case "binary": {
        if (e.op === "pow") return this.pow(e.lhs, e.rhs, pre);
        const a = this.node(e.lhs, pre);
        const b = this.node(e.rhs, pre);
        switch (e.op) {
          case "add": return over(`(${a.text} + ${b.text})`, a, b);
          case "sub": return over(`(${a.text} - ${b.text})`, a, b);
          case "mul": return over(`(${a.text} * ${b.text})`, a, b);
          case "div": return over(`(${a.text} / ${b.text})`, a, b);
          case "min": return over(`min(${a.text}, ${b.text})`, a, b);
          case "max": return over(`max(${a.text}, ${b.text})`, a, b);
          case "atan2": return over(`atan2(${a.text}, ${b.text})`, a, b);
          default: return over(`select(0f, 1f, ${a.text} ${COMPARE[e.op]!} ${b.text})`, a, b);
        }
      }
      case "select": {
        const otherwise = this.node(e.else, pre);
        const then = this.node(e.then, pre);
        const cond = this.conditionOf(e.cond, pre);
        return over(`select(${otherwise.text}, ${then.text}, ${cond.text})`, otherwise, then, cond);
      }
    }
  }

  /** A condition: a comparison itself, anything else compared with 0. */
  private conditionOf(e: KExpr, pre: string[]): Written {
    if (e.kind === "binary" && COMPARE[e.op]) {
      const a = this.node(e.lhs, pre);
      const b = this.node(e.rhs, pre);
      return { text: `${a.text} ${COMPARE[e.op]} ${b.text}`, depth: 1 + Math.max(a.depth, b.depth) };
    }
    const c = this.node(e, pre);
    return { text: `${c.text} != 0f`, depth: c.depth + 1 };
  }

  private pow(base: KExpr, exponent: KExpr, pre: string[]): Written {
    const x = this.node(base, pre);
    if (exponent.kind === "const") {
      switch (exponent.value) {
        case 1: return x;
        case 2: return { text: `(${x.text} * ${x.text})`, depth: x.depth + 1 };
        case 0.5: return { text: `sqrt(${x.text})`, depth: x.depth + 1 };
        case -1: return { text: `(1f / ${x.text})`, depth: x.depth + 1 };
      }
    }
    this.helpers.add("tns_pow");
    const y = this.node(exponent, pre);
    return { text: `tns_pow(${x.text}, ${y.text})`, depth: 1 + Math.max(x.depth, y.depth) };
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

/** What a statement emitter needs: the shader's expression writer, and how stores are guarded. */
export interface StmtContext {
  readonly w: WgslExprWriter;
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
  const io = cx.w.io;
  for (const s of stmts) {
    const pre: string[] = [];
    let line: string;
    switch (s.kind) {
      case "loop": {
        const v = wgslVar(s.var);
        out.push(`${indent}for (var ${v} = 0; ${v} < ${s.extent}; ${v}++) {`);
        wgslStmts(s.body, cx, indent + "  ", out);
        out.push(`${indent}}`);
        continue;
      }
      case "let": line = `let ${s.name} = ${cx.w.expr(s.value, pre)};`; break;
      case "declare": line = `var ${s.name} = ${s.init === undefined ? wgslIdentity(s.op) : cx.w.expr(s.init, pre)};`; break;
      case "update": line = `${s.name} = ${wgslCombine(s.op, s.name, cx.w.expr(s.value, pre))};`; break;
      case "store": {
        const target = `${wgslBuffer(s.buffer)}[${wgslAffine(s.offset)}]`;
        const dtype = io.dtypes.get(s.buffer);
        let value = cx.w.expr(s.value, pre);
        if (s.op) value = wgslCombine(s.op, dtype === "i32" ? `f32(${target})` : target, value);
        const store = `${target} = ${wgslStoreValue(value, dtype)};`;
        line = cx.guardStore ? cx.guardStore(store) : store;
        break;
      }
      case "fill":
        throw new InternalCompilerError(`a WGSL kernel cannot fill ${s.buffer}: lower with outputsOuter`);
    }
    out.push(...pre.map((p) => indent + p), indent + line);
  }
}
