/**
 * SIMD128 for skinny and memory-bound float32 matrix products: one side of
 * the output has a few rows (a matrix-vector product `y = x·W`, `y = W·x`, a
 * small batch of rows times a large weight), so each element of the large
 * operand is used only a few times and the product runs at the speed the
 * large operand streams from memory, not at the speed of the multiply-adds.
 * The register-blocked micro-kernel (emit-contraction.ts) copies every
 * column panel of `B` before using it; for a 1×4096×4096 product that copy
 * is the whole job, read with a stride of a row per element. Here the large
 * operand is read once, in its own memory order, with nothing copied.
 *
 * The product is first seen as `small × large`: `S[r, k]` has the few rows
 * (`s ≤ SKINNY_MAX_ROWS`), `L[k, c]` the many columns, and `O[r, c]` the
 * output. For `C[i, j] = A[i, k]·B[k, j]` with few rows that is S = A, L = B;
 * with few columns (`W·x`) it is the transpose: S = Bᵀ, L = Aᵀ, O = Cᵀ.
 * Then, by the layout of `L`:
 *
 * - **axpy** (`L` and `O` contiguous in `c`, as `x·W` with `W[k, j]`): a
 *   chunk of output columns stays in L2 while rows of `L` stream through
 *   it, `KB` rows at a time, each row's coefficient of `S` splatted once per
 *   pass; the rows of a pass are `ks = ⌊k / KB⌋` apart (`KB` streams through
 *   contiguous blocks of `L`, see `rowsPerPass`); the `k − KB·ks` rows left
 *   over come last:
 *
 *       before: for j0 += 16: pack B[:, j0..j0+15]; for i: for k: ...
 *       after:  for c0 += CW:                      (O[:, c0..c0+CW) in L2)
 *                 O[:, c0..] = 0
 *                 for each pass (rows k_t, t < KB): for r < s:
 *                   a_t = splat S[r, k_t]
 *                   for c in c0.. step 4: O[r, c..c+3] += Σ_t a_t · L[k_t, c..c+3]
 *
 * - **dot** (`L` contiguous in `k`, as `W·x` with `W[i, k]`, or `x·Wᵀ`):
 *   four rows of `L` at a time, each dotted with a row of `S` in f32x4 lanes
 *   and summed across lanes at the end:
 *
 *       after:  for c0 += 4: for r < s:
 *                 acc_0..acc_3 = 0
 *                 for k += 4: x = S[r, k..k+3]; acc_t += x · L[c0+t, k..k+3]
 *                 O[r, c0+t] = hsum(acc_t) (+ the k left over, scalar)
 *
 * - **panels** (the axpy layout with one row of `S`, `L` a weight the module
 *   stores in column panels, panels.ts): per panel of 32 columns, 8 f32x4
 *   sums in registers over all of `k`, the panel read as one stream:
 *
 *       after:  for each panel P (k rows of 32 floats, one after the other):
 *                 acc_0..acc_7 = 0
 *                 for k: a = splat S[0, k]; acc_t += a · P[k, 4t..4t+3]
 *                 O[0, 32p..32p+31] = acc_0..acc_7
 *
 * In the dot form an `S` that is not contiguous in `k` (`W·X` with a few
 * columns of `X[k, j]`) is first copied into scratch, `s·k` floats. Anything
 * else (an `L` contiguous in neither `k` nor `c`, an epilogue) stays on the
 * micro-kernel. Accumulation is in float32,
 * as there; the order of the terms differs (groups of `KB` in the axpy form,
 * four interleaved partial sums in the dot form; the panel form adds them
 * one by one in `k` order), so results differ from the micro-kernel's in the
 * last bits. A constant scale multiplies each output
 * once, after accumulating.
 */
import type { Affine } from "../../ir/types.js";
import { type SkinnyPlan, skinnyScratchBytes } from "../kernel/skinny.js";
import type { Contraction } from "../kernel/types.js";
import type { Ref } from "./binaryen.js";
import { countedLoop } from "./emit-kernel.js";
import { PANEL_COLUMNS, panelBlocks } from "./panels.js";
import type { FunctionContext } from "./function-context.js";

/**
 * Rows of `L` combined per pass over an output chunk in the axpy form: 6
 * with one row of `S` (8 coefficients of `S` kept in registers leave too few
 * for the loads, and V8 spills), 4 with a pair of rows (their 8 coefficients
 * in registers).
 *
 * The rows of a pass are `ks = ⌊k / KB⌋` apart, so each of its `KB` streams
 * runs through a contiguous block of `L`: rows side by side make streams one
 * row long (or one chunk's width), which the hardware prefetchers follow
 * worse. Read rates of a 4096 × 768 `L`, one row of `S`: 20.6 GB/s with 8
 * consecutive rows per pass against 32.5 spaced, with another 16 MiB read
 * between calls (as when two libraries take turns); 3 × 4096 × 1000:
 * 1.06–1.15 ms against 1.69–1.73. With chunks of {@link CHUNK_BYTES}, long
 * rows gain too, in one process with tfjs as the yardstick, spaced against
 * 8 (one row) or 4 consecutive rows: 1 × 4096 × 4096 1.25–1.29× against
 * 1.00–1.17×, 1 × 1024 × 16384 0.89–1.40× against 0.88–1.07×, 4 × 4096 ×
 * 4096 1.39–1.62× against 1.42–1.44×, 3 × 3072 × 4096 1.42–1.83× against
 * 1.34–1.66×.
 *
 * @example
 * ```ts
 * rowsPerPass(skinnyPlan(matmul1x4096x4096)!); // 6
 * ```
 */
export function rowsPerPass(p: SkinnyPlan): number {
  return p.s > 1 ? 4 : 6;
}

/** Bytes of output a chunk of the axpy form holds at most (its `s` rows): an eighth of a core's L2 here. */
export const CHUNK_BYTES = 128 * 1024;

/**
 * Output columns per chunk in the axpy form: a multiple of 4 such that the
 * chunk's `s` rows fill at most {@link CHUNK_BYTES}. Every pass reads and
 * writes the chunk, from L2, and reads `CW` columns of each of its rows of
 * `L`: wide chunks make those runs long, which matters with several rows of
 * `S` (chunks of 16 KiB, in L1, gave 4 rows runs of 1 KiB, one per row of
 * `L`, 16 KiB apart). Against 16 KiB chunks, in one process, with tfjs as
 * the yardstick: 3 × 4095 × 4095 0.77–0.87× to 1.12–1.13×, 8 × 4095 × 4095
 * 0.91–1.29× to 1.45–1.84×, 16 × 4096 × 4096 1.36–1.42× to 2.03–2.17×,
 * 8 × 768 × 3072 1.23–1.27× to 1.64–1.67×; in-cache shapes (1 × 1024 ×
 * 1024, 2 × 768 × 768) unchanged.
 */
function chunkColumns(p: SkinnyPlan): number {
  const fit = Math.max(64, Math.floor(CHUNK_BYTES / 4 / p.s / 4) * 4);
  return Math.min(fit, p.l - (p.l % 4));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, r) => r);

/** Emits skinny kernels into one function context; the part functions it adds take the output, S and L base addresses. */
class SkinnyEmitter {
  private readonly uO: number;
  private readonly uS: number;
  private readonly uL: number;

  constructor(private readonly ctx: FunctionContext, private readonly p: SkinnyPlan, private readonly scale: number) {
    const l = ctx.locals;
    this.uO = l.fresh("i32");
    this.uS = l.fresh("i32");
    this.uL = l.fresh("i32");
  }

  /** Two more i32 parameters (after the three base addresses): a range's first and end. */
  rangeParams(): readonly [number, number] {
    return [this.ctx.locals.fresh("i32"), this.ctx.locals.fresh("i32")];
  }

  /**
   * Copies `S` (at `uS`) into `uL`'s place as `s` contiguous rows of `k`
   * floats (this function's parameters are the output, S and destination).
   */
  packS(): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const r = l.fresh("i32");
    const kk = l.fresh("i32");
    const from = l.fresh("i32");
    const to = l.fresh("i32");
    const label = this.ctx.label();
    const copyRow = [
      m.set(from, this.add(this.i32(this.uS), this.times(r, p.sR * 4))),
      m.set(to, this.add(this.i32(this.uL), this.times(r, p.k * 4))),
      m.set(kk, m.i32Const(p.k)),
      m.loop(label, m.block([
        m.store("f32", 0, this.i32(to), m.load("f32", 0, this.i32(from))),
        this.bump(from, p.sK * 4),
        this.bump(to, 4),
        m.set(kk, m.i32("sub", this.i32(kk), m.i32Const(1))),
        m.brIf(label, this.i32(kk)),
      ])),
    ];
    return countedLoop(this.ctx, r, p.s, () => copyRow);
  }

  private get m() { return this.ctx.m; }
  private i32(v: number): Ref { return this.m.get(v, "i32"); }
  private add(a: Ref, b: Ref): Ref { return this.m.i32("add", a, b); }
  private addConst(a: Ref, bytes: number): Ref { return bytes === 0 ? a : this.add(a, this.m.i32Const(bytes)); }
  private times(local: number, k: number): Ref { return k === 1 ? this.i32(local) : this.m.i32("mul", this.i32(local), this.m.i32Const(k)); }
  private bump(local: number, bytes: number): Ref { return this.m.set(local, this.addConst(this.i32(local), bytes)); }
  private madd(a: Ref, b: Ref, c: Ref): Ref {
    const m = this.m;
    return m.relaxedSimd ? m.f32x4Madd(a, b, c) : m.f32x4("add", c, m.f32x4("mul", a, b));
  }

  /** `for v = from; v < to; v += step` over an i32 local (bottom-tested; `from < to`). */
  private rangeLoop(v: number, from: Ref, to: Ref, step: number, body: Ref[]): Ref[] {
    // Entered only when from < to: a unit's range is never empty.
    const m = this.m;
    const label = this.ctx.label();
    return [m.set(v, from), m.loop(label, m.block([...body, this.bump(v, step), m.brIf(label, m.i32("lt_s", this.i32(v), to))]))];
  }

  /**
   * The axpy form over the output columns whose byte offsets in a row lie
   * in [`from`, `to`) (parameters; `from` a multiple of the chunk, `to` a
   * chunk's end or the end of the vector columns), chunk by chunk.
   */
  axpy(from: number, to: number): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const cw = chunkColumns(p);
    const c0 = l.fresh("i32");
    const width = l.fresh("i32");
    const r = l.fresh("i32");
    const kb = rowsPerPass(p);
    // Pass k0 takes rows k0, k0 + ks, k0 + 2·ks, ... of L (kb streams, each through a contiguous block of ks rows).
    const ks = Math.floor(p.k / kb);
    const kFull = ks * kb;
    const k0 = l.fresh("i32");
    const chunk: Ref[] = [
      m.set(width, m.select(m.i32("lt_s", this.addConst(this.i32(c0), cw * 4), this.i32(to)), m.i32Const(cw * 4), m.i32("sub", this.i32(to), this.i32(c0)))),
      // Zero the chunk's rows.
      ...this.rowLoop(r, () => [m.fillBytes(this.outRow(r, c0), m.i32Const(0), this.i32(width))]),
    ];
    const passes = (spacing: number): Ref[] => this.rowPairs(r, (rows) => this.axpyPass(r, rows, k0, 0, kb, spacing, c0, width));
    if (ks > 0) chunk.push(...this.rangeLoop(k0, m.i32Const(0), m.i32Const(ks), 1, passes(ks)));
    if (kFull < p.k) chunk.push(...this.rowPairs(r, (rows) => this.axpyPass(r, rows, null, kFull, p.k - kFull, 1, c0, width)));
    if (this.scale !== 1) chunk.push(...this.rowLoop(r, () => this.scaleRow(r, c0, width)));
    // c0 counts bytes of a row of O (and of L, both contiguous in c).
    return this.rangeLoop(c0, this.i32(from), this.i32(to), cw * 4, chunk);
  }

  /**
   * The panel form over the full panels [`from`, `to`) (parameters): `L` a
   * weight stored in column panels (panels.ts), one row of `S`. Each
   * panel's {@link PANEL_COLUMNS} sums stay in registers over all of `k`
   * while the panel streams by, so the weight is read once, in memory
   * order, and each output written once.
   */
  panels(from: number, to: number): Ref[] {
    const p = this.p;
    const panel = this.ctx.locals.fresh("i32");
    const start = (bytes: number): Ref => this.add(this.i32(this.uL), this.times(panel, bytes));
    const out = this.add(this.i32(this.uO), this.times(panel, PANEL_COLUMNS * 4));
    return this.rangeLoop(panel, this.i32(from), this.i32(to), 1, this.panelBlock(start(PANEL_COLUMNS * p.k * 4), out, PANEL_COLUMNS / 4, 0));
  }

  /** The panel form's last columns: the panel of fewer than 32 columns (a multiple of 4), then the one of fewer than 4. */
  panelsRest(): Ref[] {
    const p = this.p;
    const { full, vector, scalar, rest, tail } = panelBlocks(p.k, p.l);
    const at = (elements: number): Ref => this.addConst(this.i32(this.uL), elements * 4);
    const outAt = (column: number): Ref => this.addConst(this.i32(this.uO), column * 4);
    const first = full * PANEL_COLUMNS;
    return [
      ...(vector > 0 ? this.panelBlock(at(rest), outAt(first), vector / 4, 0) : []),
      ...(scalar > 0 ? this.panelBlock(at(tail), outAt(first + vector), 0, scalar) : []),
    ];
  }

  /**
   * One block of a weight in panels, `k` rows of `vectors` f32x4 columns or
   * `scalars` single ones (one of them 0) from address `from`, times the
   * row of `S`, into the output from address `to`: a sum per column in a
   * local over all of `k`, in `k` order.
   */
  private panelBlock(from: Ref, to: Ref, vectors: number, scalars: number): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const type = vectors > 0 ? "v128" : "f32";
    const acc = range(vectors + scalars).map(() => l.fresh(type));
    const x = l.fresh(type);
    const pl = l.fresh("i32");
    const ps = l.fresh("i32");
    const end = l.fresh("i32");
    const po = l.fresh("i32");
    const label = this.ctx.label();
    const step: Ref[] = vectors > 0
      ? [
        m.set(x, m.load32Splat(0, this.i32(ps))),
        ...acc.map((a, j) => m.set(a, this.madd(m.get(x, "v128"), m.v128Load(16 * j, this.i32(pl)), m.get(a, "v128")))),
      ]
      : [
        m.set(x, m.load("f32", 0, this.i32(ps))),
        ...acc.map((a, j) => m.set(a, m.float("f32", "add", m.get(a, "f32"), m.float("f32", "mul", m.get(x, "f32"), m.load("f32", 4 * j, this.i32(pl)))))),
      ];
    step.push(this.bump(ps, p.sK * 4), this.bump(pl, (vectors * 4 + scalars) * 4), m.brIf(label, m.i32("ne", this.i32(ps), this.i32(end))));
    const scaled = (a: number): Ref => {
      if (this.scale === 1) return m.get(a, type);
      return vectors > 0 ? m.f32x4("mul", m.get(a, "v128"), m.f32x4Splat(m.f32Const(this.scale))) : m.float("f32", "mul", m.get(a, "f32"), m.f32Const(this.scale));
    };
    return [
      m.set(pl, from),
      m.set(po, to),
      m.set(ps, this.i32(this.uS)),
      m.set(end, this.addConst(this.i32(ps), p.k * p.sK * 4)),
      ...acc.map((a) => m.set(a, vectors > 0 ? m.v128Zero() : m.f32Const(0))),
      m.loop(label, m.block(step)),
      ...acc.map((a, j) => (vectors > 0 ? m.v128Store(16 * j, this.i32(po), scaled(a)) : m.store("f32", 4 * j, this.i32(po), scaled(a)))),
    ];
  }

  /** The columns past the vector ones (fewer than 4), scalar. */
  axpyTail(): Ref[] {
    return this.scalarColumns(this.p.l - (this.p.l % 4));
  }

  /** `for r < s { body }`. */
  private rowLoop(r: number, body: () => Ref[]): Ref[] {
    return countedLoop(this.ctx, r, this.p.s, body);
  }

  /** The address of `O[r, 0]` plus the byte offset `c0`. */
  private outRow(r: number, c0: number): Ref {
    return this.add(this.add(this.i32(this.uO), this.times(r, this.p.oR * 4)), this.i32(c0));
  }

  /**
   * Adds rows `k0 + from + t·spacing` (`t < count`) of `L`, times row `r`
   * of `S`, into the `width` bytes of output row `r` from byte `c0` (`k0` a
   * local, or null for 0).
   */
  private axpyPass(r: number, rows: number, k0: number | null, from: number, count: number, spacing: number, c0: number, width: number): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const a = range(rows).map(() => range(count).map(() => l.fresh("v128")));
    const po = l.fresh("i32");
    const pl = l.fresh("i32");
    const end = l.fresh("i32");
    const acc = range(rows).map(() => l.fresh("v128"));
    // With two rows, each vector of L is loaded once into a local and used by both.
    const w = rows > 1 ? range(count).map(() => l.fresh("v128")) : [];
    const kBytes = (stride: number): Ref => (k0 === null ? m.i32Const(from * stride * 4) : this.addConst(this.times(k0, stride * 4), from * stride * 4));
    const sRow = this.add(this.add(this.i32(this.uS), this.times(r, p.sR * 4)), kBytes(p.sK));
    const ps = l.fresh("i32");
    const label = this.ctx.label();
    const lAt = (t: number): number => t * spacing * p.lK * 4;
    const lVec = (t: number): Ref => (rows > 1 ? m.get(w[t]!, "v128") : m.v128Load(lAt(t), this.i32(pl)));
    /** Row q's new partial sums: the same terms in the same order for any pairing of rows, so the bits do not depend on it. */
    const rowSum = (q: number): Ref => {
      const terms = a[q]!.map((av, t) => [m.get(av, "v128"), lVec(t)] as const);
      const old = m.v128Load(q * p.oR * 4, this.i32(po));
      if (m.relaxedSimd) return terms.reduce((sum, [x, y]) => this.madd(x, y, sum), old);
      // A tree of products, then one add to the output: shorter dependency chains than a running sum.
      let level = terms.map(([x, y]) => m.f32x4("mul", x, y));
      while (level.length > 1) {
        const next: Ref[] = [];
        for (let q2 = 0; q2 < level.length; q2 += 2) next.push(q2 + 1 < level.length ? m.f32x4("add", level[q2]!, level[q2 + 1]!) : level[q2]!);
        level = next;
      }
      return m.f32x4("add", old, level[0]!);
    };
    const step: Ref[] = [
      ...w.map((wv, t) => m.set(wv, m.v128Load(lAt(t), this.i32(pl)))),
      ...acc.map((av, q) => m.set(av, rowSum(q))),
      ...acc.map((av, q) => m.v128Store(q * p.oR * 4, this.i32(po), m.get(av, "v128"))),
      this.bump(po, 16),
      this.bump(pl, 16),
      m.brIf(label, m.i32("ne", this.i32(po), this.i32(end))),
    ];
    return [
      m.set(ps, sRow),
      ...a.flatMap((row, q) => row.map((av, t) => m.set(av, m.load32Splat(q * p.sR * 4 + t * spacing * p.sK * 4, this.i32(ps))))),
      m.set(po, this.outRow(r, c0)),
      m.set(end, this.add(this.i32(po), this.i32(width))),
      m.set(pl, this.add(this.add(this.i32(this.uL), kBytes(p.lK)), this.i32(c0))),
      m.loop(label, m.block(step)),
    ];
  }

  /** `body(rows)` for row pairs `r, r+1` (rows 2), then the last row of an odd count (rows 1). */
  private rowPairs(r: number, body: (rows: number) => Ref[]): Ref[] {
    const { p, m } = this;
    const even = p.s - (p.s % 2);
    const out = even > 0 ? this.rangeLoop(r, m.i32Const(0), m.i32Const(even), 2, body(2)) : [];
    if (even < p.s) out.push(m.set(r, m.i32Const(even)), ...body(1));
    return out;
  }


  /** Multiplies `width` bytes of output row `r` from byte `c0` by the scale. */
  private scaleRow(r: number, c0: number, width: number): Ref[] {
    const m = this.m;
    const l = this.ctx.locals;
    const po = l.fresh("i32");
    const end = l.fresh("i32");
    const label = this.ctx.label();
    return [
      m.set(po, this.outRow(r, c0)),
      m.set(end, this.add(this.i32(po), this.i32(width))),
      m.loop(label, m.block([
        m.v128Store(0, this.i32(po), m.f32x4("mul", m.v128Load(0, this.i32(po)), m.f32x4Splat(m.f32Const(this.scale)))),
        this.bump(po, 16),
        m.brIf(label, m.i32("ne", this.i32(po), this.i32(end))),
      ])),
    ];
  }

  /** Columns `from .. l-1` of the output, each a scalar float32 dot product per row. */
  private scalarColumns(from: number): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const c = l.fresh("i32");
    const r = l.fresh("i32");
    const kk = l.fresh("i32");
    const ps = l.fresh("i32");
    const pl = l.fresh("i32");
    const s = l.fresh("f32");
    const label = this.ctx.label();
    const dot = m.loop(label, m.block([
      m.set(s, m.float("f32", "add", m.get(s, "f32"), m.float("f32", "mul", m.load("f32", 0, this.i32(ps)), m.load("f32", 0, this.i32(pl))))),
      this.bump(ps, p.sK * 4),
      this.bump(pl, p.lK * 4),
      m.set(kk, m.i32("sub", this.i32(kk), m.i32Const(1))),
      m.brIf(label, this.i32(kk)),
    ]));
    const scaled = this.scale === 1 ? m.get(s, "f32") : m.float("f32", "mul", m.get(s, "f32"), m.f32Const(this.scale));
    const perOutput = [
      m.set(s, m.f32Const(0)),
      m.set(kk, m.i32Const(p.k)),
      m.set(ps, this.add(this.i32(this.uS), this.times(r, p.sR * 4))),
      m.set(pl, this.add(this.i32(this.uL), this.times(c, p.lC * 4))),
      dot,
      m.store("f32", 0, this.add(this.add(this.i32(this.uO), this.times(r, p.oR * 4)), this.times(c, p.oC * 4)), scaled),
    ];
    return countedLoop(this.ctx, c, p.l, () => countedLoop(this.ctx, r, p.s, () => perOutput), from);
  }

  /** The dot form over the groups of 4 output columns [`g0`, `g1`) (parameters; `S` contiguous in `k`). */
  dot(g0: number, g1: number): Ref[] {
    const g = this.ctx.locals.fresh("i32");
    return this.rangeLoop(g, this.i32(g0), this.i32(g1), 1, this.dotGroup(g, 4, 0));
  }

  /** The last columns, fewer than 4. */
  dotRest(): Ref[] {
    const { p, m } = this;
    const g = this.ctx.locals.fresh("i32");
    const groups = Math.floor(p.l / 4);
    return [m.set(g, m.i32Const(0)), ...this.dotGroup(g, p.l - groups * 4, groups * 4)];
  }

  /** Columns `4·g + from .. + width - 1` (`g` a local) of every output row, `width` ≤ 4 rows of `L` dotted with each row of `S`. */
  private dotGroup(g: number, width: number, from: number): Ref[] {
    const { p, m } = this;
    const l = this.ctx.locals;
    const r = l.fresh("i32");
    const acc = range(width).map(() => l.fresh("v128"));
    const x = l.fresh("v128");
    const ps = l.fresh("i32");
    const pl = l.fresh("i32");
    const end = l.fresh("i32");
    const kv = p.k - (p.k % 4);
    const label = this.ctx.label();
    const lRow = (t: number): number => t * p.lC * 4;
    const step: Ref[] = [m.set(x, m.v128Load(0, this.i32(ps)))];
    acc.forEach((a, t) => step.push(m.set(a, this.madd(m.get(x, "v128"), m.v128Load(lRow(t), this.i32(pl)), m.get(a, "v128")))));
    step.push(this.bump(ps, 16), this.bump(pl, 16), m.brIf(label, m.i32("ne", this.i32(ps), this.i32(end))));
    const sums = acc.map((a, t) => {
      // A fresh local.get per lane: binaryen's expressions are a tree, never shared.
      const lane = (q: number): Ref => m.f32x4ExtractLane(m.get(a, "v128"), q);
      let sum = m.float("f32", "add", m.float("f32", "add", lane(0), lane(1)), m.float("f32", "add", lane(2), lane(3)));
      // The k left over (fewer than 4), in order; ps and pl point at them after the loop.
      for (let q = 0; q < p.k - kv; q++) {
        sum = m.float("f32", "add", sum, m.float("f32", "mul", m.load("f32", 4 * q, this.i32(ps)), m.load("f32", lRow(t) + 4 * q, this.i32(pl))));
      }
      return this.scale === 1 ? sum : m.float("f32", "mul", sum, m.f32Const(this.scale));
    });
    const colBytes = (t: number): Ref => this.addConst(this.times(g, 4 * p.oC * 4), (from + t) * p.oC * 4);
    const perRow: Ref[] = [
      ...acc.map((a) => m.set(a, m.v128Zero())),
      m.set(ps, this.add(this.i32(this.uS), this.times(r, p.sR * 4))),
      m.set(end, this.addConst(this.i32(ps), kv * 4)),
      m.set(pl, this.addConst(this.add(this.i32(this.uL), this.times(g, 4 * p.lC * 4)), from * p.lC * 4)),
      m.loop(label, m.block(step)),
      ...sums.map((sum, t) => m.store("f32", 0, this.add(this.add(this.i32(this.uO), this.times(r, p.oR * 4)), colBytes(t)), sum)),
    ];
    return countedLoop(this.ctx, r, p.s, () => perRow);
  }
}


/** Groups of 4 columns per work unit of the dot form. */
const DOT_UNIT_GROUPS = 8;

/** The parts of a skinny product that work units are made of. */
interface SkinnyParts {
  /** Units per batch element: the axpy form's chunks of columns, the dot form's runs of groups or the panel form's runs of panels, then the rest, if any. */
  readonly perBatch: number;
  /** Units before the rest. */
  readonly main: number;
  /** Whether there is a rest: fewer than 4 columns (axpy, dot), or fewer than 32 (panels). */
  readonly rest: boolean;
  /** The end of the main function's range (bytes of a row for axpy, groups of 4 columns for dot, panels), and a unit's share of it. */
  readonly end: number;
  readonly step: number;
}

/**
 * Output columns per work unit of the axpy form: at most a chunk, and small
 * enough for 8 units (at least 256 columns each). Chunks only partition the
 * columns (each output element sums its terms in the same order whatever
 * the chunk), so the units compute the whole kernel's bits.
 */
function axpyUnitColumns(p: SkinnyPlan): number {
  const lv = p.l - (p.l % 4);
  return Math.min(chunkColumns(p), Math.max(256, Math.ceil(lv / 8 / 4) * 4));
}

function partsOf(p: SkinnyPlan): SkinnyParts {
  if (p.panels) {
    // Runs of panels: 8 units, of at least 8 panels (256 columns) each.
    const { full, vector, scalar } = panelBlocks(p.k, p.l);
    const step = Math.max(8, Math.ceil(full / 8));
    const main = Math.ceil(full / step);
    const rest = vector + scalar > 0;
    return { perBatch: main + (rest ? 1 : 0), main, rest, end: full, step };
  }
  const lv = p.l - (p.l % 4);
  const [end, step] = p.form === "axpy" ? [lv * 4, axpyUnitColumns(p) * 4] : [lv / 4, DOT_UNIT_GROUPS];
  const main = Math.ceil(end / step);
  const rest = lv < p.l;
  return { perBatch: main + (rest ? 1 : 0), main, rest, end, step };
}

/**
 * Work units of a skinny product's threaded entry point: per batch element,
 * one per range of output columns (axpy: at most a chunk, see
 * `axpyUnitColumns`), per run of {@link DOT_UNIT_GROUPS} groups of 4
 * columns (dot) or per run of at least 8 panels (panels), and one for the
 * last columns when there are fewer than 4 (fewer than 32 for panels).
 *
 * @example
 * ```ts
 * skinnyUnits(skinnyPlan(matmul1x4096x4096)!, 1); // 8: ranges of 512 columns
 * ```
 */
export function skinnyUnits(plan: SkinnyPlan, batch: number): number {
  return batch * partsOf(plan).perBatch;
}

/** The base address of an operand for the current batch variables of `ctx`. */
function batchBase(ctx: FunctionContext, buffer: string, base: Affine): Ref {
  const m = ctx.m;
  const start = ctx.place(buffer).offset + base.constant * 4;
  return base.terms.length === 0 ? m.i32Const(start) : m.i32("add", ctx.terms(base.terms, 4), m.i32Const(start));
}

/** The outlined functions of a skinny product (see {@link emitSkinnyContraction}). */
interface SkinnyFunctions {
  /** `(out, S, L, from, to)`: the axpy form's columns [from, to) in bytes, or the dot form's groups [from, to). */
  readonly main: string;
  /** `(out, S, L)`: the last columns, fewer than 4. */
  readonly rest: string | null;
  /** `(_, S, dest)`: the copy of `S` the dot form reads, when the plan packs it. */
  readonly pack: string | null;
}

function addFunctions(ctx: FunctionContext, plan: SkinnyPlan, scale: number, name: string): SkinnyFunctions {
  const m = ctx.m;
  const add = (fn: string, build: (e: SkinnyEmitter) => Ref[], ranged: boolean): string => {
    const part = ctx.sibling();
    const e = new SkinnyEmitter(part, plan.packS ? { ...plan, sR: plan.k, sK: 1, packS: false } : plan, scale);
    const params = ranged ? 5 : 3;
    const body = ranged ? (() => { const [from, to] = e.rangeParams(); return plan.panels ? e.panels(from, to) : plan.form === "axpy" ? e.axpy(from, to) : e.dot(from, to); })() : build(e);
    m.addFunction(fn, Array(params).fill("i32"), "none", part.locals.types.slice(params), m.block([...part.scopes[0]!.prelude, ...body]));
    return fn;
  };
  const parts = partsOf(plan);
  const form = plan.panels ? "panels" : plan.form;
  const main = add(`${name}_${form}`, () => [], true);
  const rest = parts.rest ? add(`${name}_${form}_rest`, (e) => (plan.panels ? e.panelsRest() : plan.form === "axpy" ? e.axpyTail() : e.dotRest()), false) : null;
  let pack: string | null = null;
  if (plan.packS) {
    pack = `${name}_pack`;
    const part = ctx.sibling();
    const body = new SkinnyEmitter(part, plan, scale).packS();
    m.addFunction(pack, ["i32", "i32", "i32"], "none", part.locals.types.slice(3), m.block([...part.scopes[0]!.prelude, ...body]));
  }
  return { main, rest, pack };
}

/** Options of {@link emitSkinnyContraction}. */
export interface SkinnyOptions {
  /** Threads the module is built for (default 1); above 1 the kernel also gets the entry `NAME_unit(u, t)`. */
  readonly threads?: number;
}

/**
 * The body of a kernel function computing a skinny float32 contraction
 * (`plan` from `skinnyPlan`); `scratch` is the arena offset of its copy of
 * `S` when the plan packs it (one per thread in a module built for threads).
 * Each batch element's product is calls of outlined functions, so V8 can
 * switch them to optimized code between calls: `NAME_axpy(out, S, L, from,
 * to)` over a range of columns or `NAME_dot(out, S, L, g0, g1)` over a range
 * of groups of 4 columns, `NAME_axpy_rest` / `NAME_dot_rest` for the last
 * columns (fewer than 4) and `NAME_pack` for the copy of `S`; with `L` a
 * weight in column panels (`plan.panels`), `NAME_panels(out, S, L, p0, p1)`
 * over a range of full panels and `NAME_panels_rest` for the last columns
 * (fewer than 32). With threads,
 * `NAME_unit(u, t)` runs one range ({@link skinnyUnits}); the ranges are
 * those the whole kernel runs, so every output element gets the same
 * instructions, and the same bits, on any thread.
 *
 * @example
 * ```ts
 * const body = emitSkinnyContraction(ctx, kernel.contraction!, skinnyPlan(kernel.contraction!)!, "k0_C", layout.scratch.get(0) ?? 0);
 * ```
 */
export function emitSkinnyContraction(ctx: FunctionContext, c: Contraction, plan: SkinnyPlan, name: string, scratch: number, options: SkinnyOptions = {}): Ref[] {
  const m = ctx.m;
  const fns = addFunctions(ctx, plan, Math.fround(c.scale ?? 1), name);
  const parts = partsOf(plan);
  const [s, l] = plan.smallIsA ? [c.a, c.b] : [c.b, c.a];
  const { end: mainEnd, step } = parts;
  const bases = (fn: FunctionContext, sAt?: Ref): Ref[] => [batchBase(fn, c.out.buffer, c.out.base), sAt ?? batchBase(fn, s.buffer, s.base), batchBase(fn, l.buffer, l.base)];
  /** The calls computing the columns of the current batch element, `S` copied to `packAt` first when packed. */
  const calls = (fn: FunctionContext, packAt: () => Ref, unit: boolean): Ref[] => {
    const out: Ref[] = [];
    const sAt = fns.pack ? packAt : undefined;
    if (fns.pack) out.push(fn.m.call(fns.pack, [fn.m.i32Const(0), batchBase(fn, s.buffer, s.base), packAt()], "none"));
    const main = (from: Ref, to: Ref): Ref => fn.m.call(fns.main, [...bases(fn, sAt?.()), from, to], "none");
    const rest = (): Ref => fn.m.call(fns.rest!, bases(fn, sAt?.()), "none");
    if (!unit) {
      if (mainEnd > 0) out.push(main(fn.m.i32Const(0), fn.m.i32Const(mainEnd)));
      if (fns.rest) out.push(rest());
      return out;
    }
    const from = (): Ref => fn.m.i32("mul", fn.m.get(partLocal!, "i32"), fn.m.i32Const(step));
    const to = fn.m.select(fn.m.i32("lt_s", fn.m.i32("add", from(), fn.m.i32Const(step)), fn.m.i32Const(mainEnd)), fn.m.i32("add", from(), fn.m.i32Const(step)), fn.m.i32Const(mainEnd));
    const chosen = fns.rest && parts.main > 0
      ? fn.m.ifElse(fn.m.i32("lt_u", fn.m.get(partLocal!, "i32"), fn.m.i32Const(parts.main)), main(from(), to), rest())
      : fns.rest ? rest() : main(from(), to);
    out.push(chosen);
    return out;
  };
  let partLocal: number | null = null;
  const nest = (depth: number): Ref[] => {
    if (depth === c.batch.length) return calls(ctx, () => m.i32Const(scratch), false);
    const b = c.batch[depth]!;
    return countedLoop(ctx, ctx.loopVar(b.var), b.extent, () => nest(depth + 1));
  };
  const body = nest(0);
  if ((options.threads ?? 1) > 1) {
    const fn = ctx.sibling();
    const u = fn.locals.fresh("i32");
    const t = fn.locals.fresh("i32");
    const batch = fn.locals.fresh("i32");
    partLocal = fn.locals.fresh("i32");
    const get = (v: number): Ref => fn.m.get(v, "i32");
    const entry: Ref[] = [
      fn.m.set(batch, fn.m.i32("div_u", get(u), fn.m.i32Const(parts.perBatch))),
      fn.m.set(partLocal, fn.m.i32("rem_u", get(u), fn.m.i32Const(parts.perBatch))),
    ];
    let inner = 1;
    for (let d = c.batch.length - 1; d >= 0; d--) {
      const { var: v, extent } = c.batch[d]!;
      const quotient = inner === 1 ? get(batch) : fn.m.i32("div_u", get(batch), fn.m.i32Const(inner));
      entry.push(fn.m.set(fn.loopVar(v), d === 0 ? quotient : fn.m.i32("rem_u", quotient, fn.m.i32Const(extent))));
      inner *= extent;
    }
    const bytes = skinnyScratchBytes(plan);
    entry.push(...calls(fn, () => fn.m.i32("add", fn.m.i32Const(scratch), fn.m.i32("mul", get(t), fn.m.i32Const(bytes))), true));
    m.addFunction(`${name}_unit`, ["i32", "i32"], "none", fn.locals.types.slice(2), m.block([...fn.scopes[0]!.prelude, ...entry]));
    m.exportFunction(`${name}_unit`);
  }
  return body;
}
