/**
 * SIMD128 for a recognised float32 matrix product. The columns of `B` are
 * copied, 8 at a time, into a contiguous panel in scratch memory (so the `k`
 * loop reads consecutive bytes whatever `B`'s strides: rows of a plain `B`
 * copy as vectors, a transposed `B[j, k]` gathers each panel row from 8 rows
 * of `B`, still one pass over them); then each block of
 * 4 rows × 8 columns of the output lives in eight f32x4 accumulators while
 * the `k` loop broadcasts one element of `A` per row (`v128.load32_splat`)
 * and loads one panel row (two `v128.load`), so each load feeds several
 * multiply-adds:
 *
 *     before: for i: for k: t0 = A[i, k]; for j: C[i, j] += t0 * B[k, j]
 *     after:  for j0 += 8: call k0_C_p8(C, A, B, j0)
 *             k0_C_p8: P = B[:, j0..j0+7] packed
 *               for i0 += 4:
 *                 c00..c31 = 0 (f32x4)
 *                 for k: b0, b1 = P[k, 0..3], P[k, 4..7]; a_r = splat A[i0+r, k]; c_r0 += a_r*b0; c_r1 += a_r*b1
 *                 C[i0+r, j0..j0+7] = c_r0, c_r1
 *             edges: rows left over use 1-row blocks, 4 columns left over a 4-wide
 *             panel, fewer than 4 columns a scalar f32 loop.
 *
 * In a module built with relaxed SIMD (when the host engine runs it, see
 * relaxed-simd.ts) each `c += a*b` is one `f32x4.relaxed_madd`, fused on
 * hosts with FMA; otherwise an `f32x4.mul` and an `f32x4.add`.
 *
 * Accumulation is in float32, like other float32 matrix-product libraries;
 * the general (scalar) path accumulates in float64. A constant `scale`
 * (attention's `/ sqrt(d)`) is rounded to float32 and multiplies each
 * accumulator once before it is stored (`f32x4.mul` by a splat), not every
 * term.
 */
import type { Affine } from "../../ir/types.js";
import type { Contraction } from "../kernel/types.js";
import type { Ref, ValueType } from "./binaryen.js";
import { countedLoop } from "./emit-kernel.js";
import type { FunctionContext } from "./function-context.js";

/** Rows and columns of the register block. */
const MR = 4;
const NR = 8;

/**
 * Whether the SIMD path handles a contraction: float32 throughout (its scale
 * included), positive strides (so row and column offsets fit an
 * instruction's static offset).
 *
 * @example
 * ```ts
 * simdContractionApplies(c, (name) => "f32"); // true for C[i, j] = A[i, k] * B[k, j] in f32
 * ```
 */
export function simdContractionApplies(c: Contraction, dtypeOf: (buffer: string) => string): boolean {
  const f32 = [c.out.buffer, c.a.buffer, c.b.buffer].every((b) => dtypeOf(b) === "f32");
  // A scale that float32 cannot hold (overflowing, or flushing a non-zero to 0) stays on the float64 scalar path.
  const scale = Math.fround(c.scale ?? 1);
  const scaleFits = Number.isFinite(scale) && (scale !== 0 || c.scale === 0);
  return f32 && scaleFits && c.a.rowStride > 0 && c.a.kStride > 0 && c.b.kStride > 0 && c.b.colStride > 0 && c.out.rowStride > 0;
}

/**
 * Scratch bytes the SIMD path needs for a contraction: one packed panel.
 *
 * @example
 * ```ts
 * contractionScratchBytes({ ...c, k: 64, n: 100 }); // 64 * 8 * 4
 * ```
 */
export function contractionScratchBytes(c: Contraction): number {
  return c.n >= 4 ? c.k * Math.min(NR, c.n - (c.n % 4)) * 4 : 0;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, r) => r);

/** `from, from+step, ... < to` over an i32 local; requires `from < to`. */
function rangeLoop(ctx: FunctionContext, v: number, from: number, to: number, step: number, body: Ref[]): Ref[] {
  const m = ctx.m;
  const label = ctx.label();
  const next = m.set(v, m.i32("add", m.get(v, "i32"), m.i32Const(step)));
  const again = m.brIf(label, m.i32("lt_s", m.get(v, "i32"), m.i32Const(to)));
  return [m.set(v, m.i32Const(from)), m.loop(label, m.block([...body, next, again]))];
}

/** Parameters of every outlined part: output, A and B base addresses, first column. */
const PART_PARAMS: readonly ValueType[] = ["i32", "i32", "i32", "i32"];

/**
 * Builds one outlined part of a contraction (a panel or the scalar edge) in
 * its own function, whose four i32 parameters are the locals `uOut`, `uA`,
 * `uB` and `j0`.
 */
class ContractionEmitter {
  private readonly uOut: number;
  private readonly uA: number;
  private readonly uB: number;
  private readonly j0: number;
  private readonly i0: number;

  constructor(private readonly ctx: FunctionContext, private readonly c: Contraction, private readonly scratch: number) {
    const l = ctx.locals;
    this.uOut = l.fresh("i32");
    this.uA = l.fresh("i32");
    this.uB = l.fresh("i32");
    this.j0 = l.fresh("i32");
    this.i0 = l.fresh("i32");
  }

  private get m() { return this.ctx.m; }
  private i32(v: number): Ref { return this.m.get(v, "i32"); }
  private add(a: Ref, b: Ref): Ref { return this.m.i32("add", a, b); }
  private times(local: number, k: number): Ref { return k === 1 ? this.i32(local) : this.m.i32("mul", this.i32(local), this.m.i32Const(k)); }
  private bump(local: number, bytes: number): Ref { return this.m.set(local, this.add(this.i32(local), this.m.i32Const(bytes))); }
  private get scale(): number { return this.c.scale ?? 1; }
  /** `sum` (an f32, or an f32x4 when `vector`) times the contraction's scale; `sum` itself when the scale is 1. */
  private scaled(sum: Ref, vector: boolean): Ref {
    const { m, scale } = this;
    if (scale === 1) return sum;
    return vector ? m.f32x4("mul", sum, m.f32x4Splat(m.f32Const(scale))) : m.float("f32", "mul", sum, m.f32Const(scale));
  }

  /** Packs `width` columns from `j0` into the panel, then runs every row block over it. */
  panel(width: number): Ref[] {
    const { c, m } = this;
    const l = this.ctx.locals;
    const pb = l.fresh("i32");
    const pp = l.fresh("i32");
    const end = this.scratch + c.k * width * 4;
    const label = this.ctx.label();
    const col = c.b.colStride;
    // Contiguous columns copy four at a time; strided ones one element each (k × width copies, small beside the m × k × width multiply-adds).
    const copies = col === 1
      ? range(width / 4).map((v) => m.v128Store(16 * v, this.i32(pp), m.v128Load(16 * v, this.i32(pb))))
      : range(width).map((q) => m.store("f32", 4 * q, this.i32(pp), m.load("f32", q * col * 4, this.i32(pb))));
    const pack = [
      m.set(pb, this.add(this.i32(this.uB), this.times(this.j0, col * 4))),
      m.set(pp, m.i32Const(this.scratch)),
      m.loop(label, m.block([...copies, this.bump(pb, c.b.kStride * 4), this.bump(pp, width * 4), m.brIf(label, m.i32("ne", this.i32(pp), m.i32Const(end)))])),
    ];
    const m4 = c.m - (c.m % MR);
    const rows: Ref[] = [];
    if (m4 > 0) rows.push(...rangeLoop(this.ctx, this.i0, 0, m4, MR, this.tile(MR, width)));
    if (m4 < c.m) rows.push(...rangeLoop(this.ctx, this.i0, m4, c.m, 1, this.tile(1, width)));
    return [...pack, ...rows];
  }

  /** One block of `rows × width` outputs at (`i0`, `j0`). */
  private tile(rows: number, width: number): Ref[] {
    const { c, m } = this;
    const l = this.ctx.locals;
    const vecs = width / 4;
    const acc = range(rows).map(() => range(vecs).map(() => l.fresh("v128")));
    const bv = range(vecs).map(() => l.fresh("v128"));
    const av = l.fresh("v128");
    const pa = l.fresh("i32");
    const pp = l.fresh("i32");
    const label = this.ctx.label();
    const step: Ref[] = bv.map((b, v) => m.set(b, m.v128Load(16 * v, this.i32(pp))));
    for (const r of range(rows)) {
      step.push(m.set(av, m.load32Splat(r * c.a.rowStride * 4, this.i32(pa))));
      for (const v of range(vecs)) {
        const a = m.get(av, "v128");
        const b = m.get(bv[v]!, "v128");
        const c = m.get(acc[r]![v]!, "v128");
        step.push(m.set(acc[r]![v]!, m.relaxedSimd ? m.f32x4Madd(a, b, c) : m.f32x4("add", c, m.f32x4("mul", a, b))));
      }
    }
    step.push(this.bump(pa, c.a.kStride * 4), this.bump(pp, width * 4));
    step.push(m.brIf(label, m.i32("ne", this.i32(pp), m.i32Const(this.scratch + c.k * width * 4))));
    const po = l.fresh("i32");
    const stores = acc.flatMap((row, r) => row.map((a, v) => m.v128Store(r * c.out.rowStride * 4 + 16 * v, this.i32(po), this.scaled(m.get(a, "v128"), true))));
    return [
      ...acc.flat().map((a) => m.set(a, m.v128Zero())),
      m.set(pa, this.add(this.i32(this.uA), this.times(this.i0, c.a.rowStride * 4))),
      m.set(pp, m.i32Const(this.scratch)),
      m.loop(label, m.block(step)),
      m.set(po, this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4)))),
      ...stores,
    ];
  }

  /** Columns `from .. n-1` (fewer than 4) with a scalar float32 dot product per output. */
  scalarColumns(from: number): Ref[] {
    const { c, m } = this;
    const l = this.ctx.locals;
    const s = l.fresh("f32");
    const pa = l.fresh("i32");
    const pb = l.fresh("i32");
    const kk = l.fresh("i32");
    const label = this.ctx.label();
    const dot = m.loop(label, m.block([
      m.set(s, m.float("f32", "add", m.get(s, "f32"), m.float("f32", "mul", m.load("f32", 0, this.i32(pa)), m.load("f32", 0, this.i32(pb))))),
      this.bump(pa, c.a.kStride * 4),
      this.bump(pb, c.b.kStride * 4),
      m.set(kk, m.i32("sub", this.i32(kk), m.i32Const(1))),
      m.brIf(label, this.i32(kk)),
    ]));
    const perOutput = [
      m.set(s, m.f32Const(0)),
      m.set(kk, m.i32Const(c.k)),
      m.set(pa, this.add(this.i32(this.uA), this.times(this.i0, c.a.rowStride * 4))),
      m.set(pb, this.add(this.i32(this.uB), this.times(this.j0, c.b.colStride * 4))),
      dot,
      m.store("f32", 0, this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4))), this.scaled(m.get(s, "f32"), false)),
    ];
    const columns = rangeLoop(this.ctx, this.j0, from, c.n, 1, perOutput);
    return rangeLoop(this.ctx, this.i0, 0, c.m, 1, columns);
  }
}

/** Adds a function `name(uOut, uA, uB, j0)` whose body `build` makes; returns a call to it. */
function outline(ctx: FunctionContext, c: Contraction, scratch: number, name: string, build: (e: ContractionEmitter) => Ref[]): (args: Ref[]) => Ref {
  const part = ctx.sibling();
  const body = build(new ContractionEmitter(part, c, scratch));
  const types = part.locals.types;
  ctx.m.addFunction(name, PART_PARAMS, "none", types.slice(PART_PARAMS.length), ctx.m.block([...part.scopes[0]!.prelude, ...body]));
  return (args) => ctx.m.call(name, args, "none");
}

/**
 * The body of a kernel function computing a float32 contraction with SIMD128;
 * `scratch` is the arena offset of its panel ({@link contractionScratchBytes}
 * bytes). Each column panel is its own function (`NAME_p8`, `NAME_p4`, and
 * `NAME_edge` for the last columns), called once per panel: V8 first runs new
 * code unoptimized and can only switch a function to optimized code between
 * calls, so a long loop nest kept in one function would run unoptimized for
 * the whole first run.
 *
 * @example
 * ```ts
 * const body = emitSimdContraction(ctx, kernel.contraction!, layout.scratch.get(0)!, "k0_C");
 * ```
 */
export function emitSimdContraction(ctx: FunctionContext, c: Contraction, scratch: number, name: string): Ref[] {
  const m = ctx.m;
  const bases = [ctx.locals.fresh("i32"), ctx.locals.fresh("i32"), ctx.locals.fresh("i32")] as const;
  const j0 = ctx.locals.fresh("i32");
  const args = (j: Ref): Ref[] => [...bases.map((b) => m.get(b, "i32")), j];
  const batchBase = (buffer: string, base: Affine): Ref => {
    const start = ctx.place(buffer).offset + base.constant * 4;
    return base.terms.length === 0 ? m.i32Const(start) : m.i32("add", ctx.terms(base.terms, 4), m.i32Const(start));
  };
  const calls: Ref[] = [];
  const n8 = c.n - (c.n % NR);
  if (n8 > 0) {
    const call = outline(ctx, c, scratch, `${name}_p${NR}`, (e) => e.panel(NR));
    calls.push(...rangeLoop(ctx, j0, 0, n8, NR, [call(args(m.get(j0, "i32")))]));
  }
  let j = n8;
  if (c.n - j >= 4) {
    calls.push(outline(ctx, c, scratch, `${name}_p4`, (e) => e.panel(4))(args(m.i32Const(j))));
    j += 4;
  }
  if (j < c.n) calls.push(outline(ctx, c, scratch, `${name}_edge`, (e) => e.scalarColumns(j))(args(m.i32Const(j))));
  const body = (): Ref[] => [
    m.set(bases[0], batchBase(c.out.buffer, c.out.base)),
    m.set(bases[1], batchBase(c.a.buffer, c.a.base)),
    m.set(bases[2], batchBase(c.b.buffer, c.b.base)),
    ...calls,
  ];
  const nest = (depth: number): Ref[] => {
    if (depth === c.batch.length) return body();
    const b = c.batch[depth]!;
    return countedLoop(ctx, ctx.loopVar(b.var), b.extent, () => nest(depth + 1));
  };
  return nest(0);
}
