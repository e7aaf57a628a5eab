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
 * 8-wide panels go in pairs (`k0_C_pair_p8`, 16 columns, two panels packed
 * side by side): each block of rows runs over the first panel, then the
 * second, while its rows of `A` (4 × k floats) are still in cache (L1 or L2), so
 * `A` streams from memory once per 16 columns rather than once per 8. An odd
 * 8-wide panel left over runs alone (`k0_C_p8`). The order of the terms of
 * every output element is unchanged.
 *
 * In a module built with relaxed SIMD (when the host engine runs it, see
 * relaxed-simd.ts) each `c += a*b` is one `f32x4.relaxed_madd`, fused on
 * hosts with FMA; otherwise an `f32x4.mul` and an `f32x4.add`.
 *
 * In a module built for threads (see threads.ts) each thread packs into a
 * panel of its own, and the kernel gets a second entry point `NAME_unit(u,
 * t)` that computes work unit `u` on thread `t`: one column group (a pair of
 * 8-wide panels, the lone 8-wide, the 4-wide or the scalar edge) of one
 * batch element, all its rows, so the threads write disjoint columns of the
 * output and every output element is computed by exactly the instructions of
 * the single-threaded kernel:
 *
 *     units of C[b, i, j] (batch 2, n = 28): u = 0 1 2 | 3 4 5
 *                                            b = 0     | 1
 *                                            j = 0..15, 16..23, 24..27 (pair_p8, p8, p4)
 *
 * The first {@link FIXED_PANEL_THREADS} threads each get their own copy of
 * the panel functions, with their panel's address as a constant
 * (`NAME_pair_p8` for thread 0, which the whole kernel also calls,
 * `NAME_t1_pair_p8` for thread 1, ...); any further threads share one copy
 * that takes the address as a parameter (`NAME_tn_pair_p8`). A constant
 * address is what the single-threaded module has, and it matters: in V8 (Node
 * 20, AMD EPYC) a 1024³ product ran 11-13% slower with the address a
 * parameter, with the same machine code in the `k` loop but for its registers.
 *
 * Accumulation is in float32, like other float32 matrix-product libraries;
 * the general (scalar) path accumulates in float64. A constant `scale`
 * (attention's `/ sqrt(d)`) is rounded to float32 and multiplies each
 * accumulator once before it is stored (`f32x4.mul` by a splat), not every
 * term.
 *
 * A contraction with an elementwise epilogue (`EpilogueContraction`: a dense
 * layer's `relu(acc + b[j])`, attention's `R[i] * acc`) applies it as each
 * row of a tile is stored, so it costs no pass of its own. When vectorize.ts
 * accepts the epilogue as the body of a loop over the column variable, the
 * four lanes of each accumulator go through it as f32x4 (emit-vector-loop.ts):
 * a load that varies with the column is a `v128.load`, one that depends only
 * on the row or the batch (a per-row scale) a splat set once per tile row,
 * index values are lane vectors, and `exp`/`tanh` are inline:
 *
 *     before: C[i0+r, j0..j0+7] = c_r0, c_r1
 *     after:  i = i0 + r; t = splat R[i]
 *             j = j0;     C[i, j..j+3] = relu(c_r0 + v128.load b[j])
 *             j = j0 + 4; C[i, j..j+3] = relu(c_r1 + v128.load b[j])
 *
 * Otherwise (a `log` or `pow`, a load that is not float32 or is strided in
 * the column) each lane runs the scalar float64 code of emit-expr.ts and
 * stores its own element; the scalar edge columns always do. An epilogue that
 * reads batch variables gets their values as extra parameters of every panel
 * function.
 */
import type { Affine } from "../../ir/types.js";
import { EPILOGUE_ACC, type Contraction, type EpilogueContraction, type KExpr, type Loop } from "../kernel/types.js";
import { visitKExpr } from "../kernel/walk.js";
import type { Ref, ValueType } from "./binaryen.js";
import { localIndex, narrow, wasmExpr } from "./emit-expr.js";
import { countedLoop } from "./emit-kernel.js";
import { type VectorLoop, vectorExpr, vectorLocal } from "./emit-vector-loop.js";
import type { FunctionContext, WasmScope } from "./function-context.js";
import { type VectorPlan, vectorizeLoop } from "./vectorize.js";

/** Rows and columns of the register block. */
const MR = 4;
const NR = 8;
/** 8-wide panels packed and run together while their rows of `A` stay in cache. */
const PAIR = 2;

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
 * contractionScratchBytes({ ...c, k: 64, n: 100 }); // 64 * 16 * 4: a pair of 8-wide panels
 * ```
 */
export function contractionScratchBytes(c: Contraction): number {
  return c.n >= 4 ? c.k * Math.min(PAIR * NR, c.n - (c.n % 4)) * 4 : 0;
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

/**
 * Parameters of every outlined part: output, A and B base addresses, first
 * column, (in the copy for threads past {@link FIXED_PANEL_THREADS}) the
 * scratch address, and the values of the batch variables an epilogue reads.
 */
const partParams = (scratchParam: boolean, batchVars: number): readonly ValueType[] =>
  Array<ValueType>(4 + (scratchParam ? 1 : 0) + batchVars).fill("i32");

/**
 * The elementwise work of an `EpilogueContraction`: the value stored at each
 * output, in terms of the local `acc` (the scaled sum) and of the batch, row
 * and column variables.
 */
export type StoreEpilogue = Pick<EpilogueContraction, "row" | "col" | "epilogue">;

/** An epilogue and how the panel functions compute it. */
interface EpiloguePlan extends StoreEpilogue {
  /** Batch variables the epilogue reads, outermost first: extra i32 parameters of every panel function. */
  readonly batchVars: readonly string[];
  /** The loop over the column variable that the lanes of a tile row stand for. */
  readonly loop: Loop;
  /** Its f32x4 plan, or null when the epilogue has no vector form (each lane then runs scalar code). */
  readonly vector: VectorPlan | null;
}

/** Loop variables an expression reads (index values and load offsets). */
function varsOf(e: KExpr, into: Set<string>): void {
  visitKExpr(e, (x) => {
    if (x.kind === "index") into.add(x.var);
    if (x.kind === "load") for (const t of x.offset.terms) into.add(t.var);
  });
}

/**
 * Plans an epilogue: it runs in f32x4 lanes when vectorize.ts accepts the
 * loop `for col < n { let acc = ...; out[.., row, col] = epilogue }`, the
 * same legality rules as any vectorised loop (float32 loads at stride 0 or 1
 * in the column, operations with a vector form, inline `exp`/`tanh` only
 * where the kernel computes them inline).
 */
function planEpilogue(ctx: FunctionContext, c: Contraction, e: StoreEpilogue): EpiloguePlan {
  const used = new Set<string>();
  varsOf(e.epilogue, used);
  const batchVars = c.batch.map((b) => b.var).filter((v) => used.has(v));
  const out: Affine = { constant: c.out.base.constant, terms: [...c.out.base.terms, { var: e.row, coef: c.out.rowStride }, { var: e.col, coef: 1 }] };
  const loop: Loop = {
    kind: "loop", var: e.col, extent: c.n, body: [
      { kind: "let", name: EPILOGUE_ACC, value: { kind: "const", value: 0 } },
      { kind: "store", buffer: c.out.buffer, offset: out, value: e.epilogue },
    ],
  };
  const extents = new Map<string, number>([...c.batch.map((b) => [b.var, b.extent] as const), [e.row, c.m]]);
  const decision = vectorizeLoop(loop, { dtypeOf: (b) => ctx.place(b).dtype, inlineMath: ctx.f32Exp, extents });
  return { row: e.row, col: e.col, epilogue: e.epilogue, batchVars, loop, vector: decision.ok ? decision.plan : null };
}

/** A new loop scope for `v`, whose prelude collects the address arithmetic hoisted to it. */
const scopeOf = (v: string): WasmScope => ({ var: v, prelude: [], memo: new Map() });

/**
 * Where a contraction packs its panels: a fixed arena offset (one per
 * specialised thread), or the `scratch` parameter of each part (the copy
 * shared by threads past {@link FIXED_PANEL_THREADS}).
 */
type ScratchPlace = { readonly fixed: number } | { readonly parameter: true };

/**
 * Builds one outlined part of a contraction (a panel or the scalar edge) in
 * its own function, whose i32 parameters are the locals `uOut`, `uA`, `uB`,
 * `j0`, with a scratch parameter `scratchParam`, and with an epilogue the
 * loop variables of the batch variables it reads (each bound by a scope of
 * the function, so address arithmetic in them is computed once, on entry).
 */
class ContractionEmitter {
  private readonly uOut: number;
  private readonly uA: number;
  private readonly uB: number;
  private readonly j0: number;
  private readonly scratchParam: number;
  private readonly i0: number;

  constructor(
    private readonly ctx: FunctionContext, private readonly c: Contraction, private readonly scratch: ScratchPlace,
    private readonly epilogue: EpiloguePlan | null = null,
  ) {
    const l = ctx.locals;
    this.uOut = l.fresh("i32");
    this.uA = l.fresh("i32");
    this.uB = l.fresh("i32");
    this.j0 = l.fresh("i32");
    this.scratchParam = "fixed" in scratch ? -1 : l.fresh("i32");
    for (const v of epilogue?.batchVars ?? []) {
      ctx.loopVar(v);
      ctx.scopes.push(scopeOf(v));
    }
    this.i0 = l.fresh("i32");
  }

  /** What the function computes on entry: the address arithmetic of the batch variables' scopes. */
  prelude(): Ref[] {
    return this.ctx.scopes.flatMap((s) => s.prelude);
  }

  /** The address `bytes` past the start of the panel (a constant unless the scratch is a parameter). */
  private panelAt(bytes: number): Ref {
    const { m, scratch } = this;
    return "fixed" in scratch ? m.i32Const(scratch.fixed + bytes) : this.add(this.i32(this.scratchParam), m.i32Const(bytes));
  }

  private get m() { return this.ctx.m; }

  /**
   * A resumed sum's start (laid out as the output) as a byte distance from
   * the output in the arena, or null for a sum that starts from 0.
   */
  private startDelta(): number | null {
    const { c, ctx } = this;
    return c.start === undefined ? null : ctx.place(c.start).offset - ctx.place(c.out.buffer).offset;
  }
  private i32(v: number): Ref { return this.m.get(v, "i32"); }
  private add(a: Ref, b: Ref): Ref { return this.m.i32("add", a, b); }
  private addConst(a: Ref, bytes: number): Ref { return bytes === 0 ? a : this.add(a, this.m.i32Const(bytes)); }
  private times(local: number, k: number): Ref { return k === 1 ? this.i32(local) : this.m.i32("mul", this.i32(local), this.m.i32Const(k)); }
  private bump(local: number, bytes: number): Ref { return this.m.set(local, this.add(this.i32(local), this.m.i32Const(bytes))); }
  private get scale(): number { return this.c.scale ?? 1; }
  /** `sum` (an f32, or an f32x4 when `vector`) times the contraction's scale; `sum` itself when the scale is 1. */
  private scaled(sum: Ref, vector: boolean): Ref {
    const { m, scale } = this;
    if (scale === 1) return sum;
    return vector ? m.f32x4("mul", sum, m.f32x4Splat(m.f32Const(scale))) : m.float("f32", "mul", sum, m.f32Const(scale));
  }

  /**
   * Packs `count` panels of `width` columns from `j0` (panel q, columns
   * `j0 + q·width ..`, at byte `q·k·width·4` of the scratch), then runs every
   * row block over each panel in turn, so the rows of `A` a block reads are
   * still in cache for the panels after the first.
   */
  panel(width: number, count = 1): Ref[] {
    const pack = range(count).flatMap((q) => this.pack(width, q));
    const m4 = this.c.m - (this.c.m % MR);
    const rows: Ref[] = [];
    if (m4 > 0) rows.push(...rangeLoop(this.ctx, this.i0, 0, m4, MR, range(count).flatMap((q) => this.tile(MR, width, q))));
    if (m4 < this.c.m) rows.push(...rangeLoop(this.ctx, this.i0, m4, this.c.m, 1, range(count).flatMap((q) => this.tile(1, width, q))));
    return [...pack, ...rows];
  }

  /** Bytes of one packed panel of `width` columns. */
  private panelBytes(width: number): number {
    return this.c.k * width * 4;
  }

  /** Copies panel `q` (columns `j0 + q·width ..`) of `B` into the scratch. */
  private pack(width: number, q: number): Ref[] {
    const { c, m } = this;
    const l = this.ctx.locals;
    const pb = l.fresh("i32");
    const pp = l.fresh("i32");
    const end = this.panelEnd((q + 1) * this.panelBytes(width));
    const label = this.ctx.label();
    const col = c.b.colStride;
    // Contiguous columns copy four at a time; strided ones one element each (k × width copies, small beside the m × k × width multiply-adds).
    const copies = col === 1
      ? range(width / 4).map((v) => m.v128Store(16 * v, this.i32(pp), m.v128Load(16 * v, this.i32(pb))))
      : range(width).map((e) => m.store("f32", 4 * e, this.i32(pp), m.load("f32", e * col * 4, this.i32(pb))));
    const first = this.times(this.j0, col * 4);
    return [
      m.set(pb, this.add(this.i32(this.uB), q === 0 ? first : this.add(first, m.i32Const(q * width * col * 4)))),
      m.set(pp, this.panelAt(q * this.panelBytes(width))),
      ...end.init,
      m.loop(label, m.block([...copies, this.bump(pb, c.b.kStride * 4), this.bump(pp, width * 4), m.brIf(label, m.i32("ne", this.i32(pp), end.get()))])),
    ];
  }

  /**
   * The address `bytes` past the start of the scratch, which loops test
   * against: a constant for a fixed panel; with a scratch parameter, a local
   * that `init` sets once before the loop.
   */
  private panelEnd(bytes: number): { readonly init: Ref[]; readonly get: () => Ref } {
    if ("fixed" in this.scratch) return { init: [], get: () => this.panelAt(bytes) };
    const local = this.ctx.locals.fresh("i32");
    return { init: [this.m.set(local, this.panelAt(bytes))], get: () => this.i32(local) };
  }

  /** One block of `rows × width` outputs at (`i0`, `j0 + q·width`), from packed panel `q`. */
  private tile(rows: number, width: number, q: number): Ref[] {
    const { c, m } = this;
    const l = this.ctx.locals;
    const vecs = width / 4;
    const acc = range(rows).map(() => range(vecs).map(() => l.fresh("v128")));
    const bv = range(vecs).map(() => l.fresh("v128"));
    const av = l.fresh("v128");
    const pa = l.fresh("i32");
    const pp = l.fresh("i32");
    const end = this.panelEnd((q + 1) * this.panelBytes(width));
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
    step.push(m.brIf(label, m.i32("ne", this.i32(pp), end.get())));
    const po = l.fresh("i32");
    const stores = acc.flatMap((row, r) => {
      const at = (v: number): number => r * c.out.rowStride * 4 + q * width * 4 + 16 * v;
      const sums = row.map((a) => this.scaled(m.get(a, "v128"), true));
      if (this.epilogue) return this.epilogueRow(this.epilogue, r, q * width, sums, at, po);
      return sums.map((sum, v) => m.v128Store(at(v), this.i32(po), sum));
    });
    // A resumed sum's accumulators start from its start's elements, at the tile's place in the start.
    const delta = this.startDelta();
    const ps = delta === null ? -1 : l.fresh("i32");
    const start = delta === null
      ? acc.flat().map((a) => m.set(a, m.v128Zero()))
      : [
        m.set(ps, this.addConst(this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4))), delta)),
        ...acc.flatMap((row, r) => row.map((a, v) => m.set(a, m.v128Load(r * c.out.rowStride * 4 + q * width * 4 + 16 * v, this.i32(ps))))),
      ];
    return [
      ...start,
      m.set(pa, this.add(this.i32(this.uA), this.times(this.i0, c.a.rowStride * 4))),
      m.set(pp, this.panelAt(q * this.panelBytes(width))),
      ...end.init,
      m.loop(label, m.block(step)),
      m.set(po, this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4)))),
      ...stores,
    ];
  }

  /**
   * Row `i0 + r` of a tile through the epilogue: `sums[v]` holds the scaled
   * sums of columns `j0 + col0 + 4v ..`, stored at byte `at(v)` past `po`.
   */
  private epilogueRow(ep: EpiloguePlan, r: number, col0: number, sums: Ref[], at: (v: number) => number, po: number): Ref[] {
    const { ctx, m } = this;
    const row = scopeOf(ep.row);
    ctx.scopes.push(row);
    const body = ep.vector ? this.vectorEpilogue(ep, ep.vector, col0, sums, at, po) : this.laneEpilogue(ep, col0, sums, at, po);
    ctx.scopes.pop();
    return [m.set(ctx.loopVar(ep.row), this.add(this.i32(this.i0), m.i32Const(r))), ...row.prelude, ...body];
  }

  /** Sets the epilogue's column variable to `j0 + col`. */
  private setCol(ep: EpiloguePlan, col: number): Ref {
    return this.m.set(this.ctx.loopVar(ep.col), this.add(this.i32(this.j0), this.m.i32Const(col)));
  }

  /**
   * The row's vectors through the epilogue in f32x4 lanes: the loads and
   * index values that do not vary with the column (`hoisted`) once, then per
   * vector the column, `acc` and the store.
   */
  private vectorEpilogue(ep: EpiloguePlan, plan: VectorPlan, col0: number, sums: Ref[], at: (v: number) => number, po: number): Ref[] {
    const { ctx, m } = this;
    // The column's scope is innermost: address arithmetic is hoisted only to scopes of other variables, so its prelude stays empty.
    ctx.scopes.push(scopeOf(ep.col));
    const vl: VectorLoop = { loop: ep.loop, plan, hoisted: [], invariants: new Map() };
    const stores = sums.flatMap((sum, v) => [
      this.setCol(ep, col0 + 4 * v),
      m.set(vectorLocal(ctx, EPILOGUE_ACC), sum),
      m.v128Store(at(v), this.i32(po), vectorExpr(ctx, ep.epilogue, vl)),
    ]);
    ctx.scopes.pop();
    return [...vl.hoisted, ...stores];
  }

  /** The row's vectors through the epilogue one lane at a time, in float64 scalar code, each lane storing its element. */
  private laneEpilogue(ep: EpiloguePlan, col0: number, sums: Ref[], at: (v: number) => number, po: number): Ref[] {
    const { ctx, m } = this;
    const lanes = ctx.locals.fresh("v128");
    return sums.flatMap((sum, v) => [
      m.set(lanes, sum),
      ...range(4).flatMap((l) => [
        this.setCol(ep, col0 + 4 * v + l),
        m.set(localIndex(ctx, EPILOGUE_ACC), m.convert("f64.promote_f32", m.f32x4ExtractLane(m.get(lanes, "v128"), l))),
        m.store("f32", at(v) + 4 * l, this.i32(po), this.scalarEpilogue(ep)),
      ]),
    ]);
  }

  /** The epilogue at the current row and column (its variables' locals set, the row's scope open), narrowed to float32. */
  private scalarEpilogue(ep: EpiloguePlan): Ref {
    const { ctx } = this;
    ctx.scopes.push(scopeOf(ep.col)); // innermost: its prelude stays empty (see vectorEpilogue)
    const value = narrow(ctx, "f32", wasmExpr(ctx, ep.epilogue));
    ctx.scopes.pop();
    return value;
  }

  /** Stores the f32 `sum` of output (`i0`, `j0`) at `ptr`, through the epilogue when there is one. */
  private storeOne(ptr: Ref, sum: Ref): Ref[] {
    const { ctx, m, epilogue: ep } = this;
    if (!ep) return [m.store("f32", 0, ptr, sum)];
    const row = scopeOf(ep.row);
    ctx.scopes.push(row);
    const value = this.scalarEpilogue(ep);
    ctx.scopes.pop();
    return [
      m.set(ctx.loopVar(ep.row), this.i32(this.i0)),
      m.set(ctx.loopVar(ep.col), this.i32(this.j0)),
      m.set(localIndex(ctx, EPILOGUE_ACC), m.convert("f64.promote_f32", sum)),
      ...row.prelude,
      m.store("f32", 0, ptr, value),
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
    const delta = this.startDelta();
    const outAt = (): Ref => this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4)));
    const perOutput = [
      m.set(s, delta === null ? m.f32Const(0) : m.load("f32", 0, this.addConst(outAt(), delta))),
      m.set(kk, m.i32Const(c.k)),
      m.set(pa, this.add(this.i32(this.uA), this.times(this.i0, c.a.rowStride * 4))),
      m.set(pb, this.add(this.i32(this.uB), this.times(this.j0, c.b.colStride * 4))),
      dot,
      ...this.storeOne(this.add(this.i32(this.uOut), this.add(this.times(this.i0, c.out.rowStride * 4), this.times(this.j0, 4))), this.scaled(m.get(s, "f32"), false)),
    ];
    const columns = rangeLoop(this.ctx, this.j0, from, c.n, 1, perOutput);
    return rangeLoop(this.ctx, this.i0, 0, c.m, 1, columns);
  }
}

/** Adds a function `name(uOut, uA, uB, j0[, scratch][, batch vars])` whose body `build` makes; returns a call to it. */
function outline(
  ctx: FunctionContext, c: Contraction, scratch: ScratchPlace, epilogue: EpiloguePlan | null, name: string, build: (e: ContractionEmitter) => Ref[],
): (args: Ref[]) => Ref {
  const part = ctx.sibling();
  const emitter = new ContractionEmitter(part, c, scratch, epilogue);
  const body = build(emitter);
  const types = part.locals.types;
  const params = partParams(!("fixed" in scratch), epilogue?.batchVars.length ?? 0);
  ctx.m.addFunction(name, params, "none", types.slice(params.length), ctx.m.block([...emitter.prelude(), ...body]));
  return (args) => ctx.m.call(name, args, "none");
}

/**
 * The column groups of a contraction: pairs of 8-wide panels, then at most
 * one 8-wide panel, one 4-wide, and one scalar edge of fewer than 4 columns.
 */
interface Panels {
  /** Columns covered by pairs of 8-wide panels. */
  readonly n16: number;
  /** First column of the lone 8-wide panel, or -1 for none. */
  readonly p8: number;
  /** First column of the 4-wide panel, or -1 for none. */
  readonly p4: number;
  /** First column of the scalar edge, or -1 for none. */
  readonly edge: number;
  /** Number of groups (work units per batch element). */
  readonly count: number;
}

function panelsOf(c: Contraction): Panels {
  const n16 = c.n - (c.n % (PAIR * NR));
  const n8 = c.n - (c.n % NR);
  const p8 = n8 > n16 ? n16 : -1;
  const p4 = c.n - n8 >= 4 ? n8 : -1;
  const afterP4 = p4 >= 0 ? n8 + 4 : n8;
  const edge = afterP4 < c.n ? afterP4 : -1;
  return { n16, p8, p4, edge, count: n16 / (PAIR * NR) + [p8, p4, edge].filter((j) => j >= 0).length };
}

/**
 * Work units of a contraction's threaded entry point: one per column panel
 * and batch element (see the header).
 *
 * @example
 * ```ts
 * contractionUnits({ ...c, batch: [], n: 20 }); // 3: two 8-wide panels and a 4-wide one
 * ```
 */
export function contractionUnits(c: Contraction): number {
  return c.batch.reduce((p, b) => p * b.extent, 1) * panelsOf(c).count;
}

/** The base address of an operand for the current batch variables of `ctx`. */
function batchBase(ctx: FunctionContext, buffer: string, base: Affine): Ref {
  const m = ctx.m;
  const start = ctx.place(buffer).offset + base.constant * 4;
  return base.terms.length === 0 ? m.i32Const(start) : m.i32("add", ctx.terms(base.terms, 4), m.i32Const(start));
}

/**
 * Threads whose panel functions are specialised to their own panel's
 * address (see the header); a thread beyond them passes the address as a
 * parameter. The panel functions are most of a product's code, so each copy
 * costs about as much as the single-threaded kernel: a 1000³ product (all
 * four column groups) is 1.7 KB and emitted in 48 ms on one thread, 3.3 KB
 * and 78 ms on two, 6.5 KB and 152 ms on four, 8.1 KB and 174 ms on six.
 * Four bound that growth.
 */
export const FIXED_PANEL_THREADS = 4;

/** Options of {@link emitSimdContraction}. */
export interface SimdContractionOptions {
  /**
   * Threads the module is built for (default 1). Above 1, also emit the
   * threaded entry point `NAME_unit(u, t)`; thread `t` packs at `scratch +
   * t · contractionScratchBytes(c)`, thread 0 (and the kernel function
   * itself) at `scratch`.
   */
  readonly threads?: number;
  /** Elementwise work applied to each output as it is stored (an `EpilogueContraction`'s). */
  readonly epilogue?: StoreEpilogue;
}

/** The outlined functions of one copy of a contraction's column groups (null where the contraction has no such group). */
interface PanelSet {
  readonly pair: PanelCall;
  readonly p8: PanelCall;
  readonly p4: PanelCall;
  readonly edge: PanelCall;
  /** Whether its functions take the scratch address as a parameter. */
  readonly scratchParam: boolean;
}

type PanelCall = ((args: Ref[]) => Ref) | null;

/** Adds one copy of the column-group functions, named `NAME_SUFFIX_pair_p8` etc. (`NAME_pair_p8` for an empty suffix). */
function addPanelSet(ctx: FunctionContext, c: Contraction, place: ScratchPlace, epilogue: EpiloguePlan | null, name: string, suffix: string, panels: Panels): PanelSet {
  const prefix = suffix === "" ? name : `${name}_${suffix}`;
  const part = (group: string, build: (e: ContractionEmitter) => Ref[]): ((args: Ref[]) => Ref) => outline(ctx, c, place, epilogue, `${prefix}_${group}`, build);
  return {
    pair: panels.n16 > 0 ? part(`pair_p${NR}`, (e) => e.panel(NR, PAIR)) : null,
    p8: panels.p8 >= 0 ? part(`p${NR}`, (e) => e.panel(NR)) : null,
    p4: panels.p4 >= 0 ? part("p4", (e) => e.panel(4)) : null,
    edge: panels.edge >= 0 ? part("edge", (e) => e.scalarColumns(panels.edge)) : null,
    scratchParam: !("fixed" in place),
  };
}

/**
 * The body of a kernel function computing a float32 contraction with SIMD128;
 * `scratch` is the arena offset of its panel ({@link contractionScratchBytes}
 * bytes; one per thread in a module built for threads). Each column group is
 * its own function (`NAME_pair_p8`, `NAME_p8`, `NAME_p4`, and `NAME_edge` for
 * the last columns), called once per panel: V8 first runs new code
 * unoptimized and can only switch a function to optimized code between
 * calls, so a long loop nest kept in one function would run unoptimized for
 * the whole first run.
 *
 * @example
 * ```ts
 * const body = emitSimdContraction(ctx, kernel.contraction!, layout.scratch.get(0)!, "k0_C");
 * ```
 */
export function emitSimdContraction(ctx: FunctionContext, c: Contraction, scratch: number, name: string, options: SimdContractionOptions = {}): Ref[] {
  const m = ctx.m;
  const threads = options.threads ?? 1;
  const epilogue = options.epilogue ? planEpilogue(ctx, c, options.epilogue) : null;
  const batchArgs = epilogue?.batchVars ?? [];
  const bases = [ctx.locals.fresh("i32"), ctx.locals.fresh("i32"), ctx.locals.fresh("i32")] as const;
  const j0 = ctx.locals.fresh("i32");
  const args = (j: Ref): Ref[] => [...bases.map((b) => m.get(b, "i32")), j, ...batchArgs.map((v) => m.get(ctx.loopVar(v), "i32"))];
  const panels = panelsOf(c);
  const bytes = contractionScratchBytes(c);
  const sets = range(Math.min(threads, FIXED_PANEL_THREADS)).map((t) =>
    addPanelSet(ctx, c, { fixed: scratch + t * bytes }, epilogue, name, t === 0 ? "" : `t${t}`, panels));
  if (threads > FIXED_PANEL_THREADS) sets.push(addPanelSet(ctx, c, { parameter: true }, epilogue, name, "tn", panels));
  const { pair, p8, p4, edge } = sets[0]!;
  const calls: Ref[] = [];
  if (pair) calls.push(...rangeLoop(ctx, j0, 0, panels.n16, PAIR * NR, [pair(args(m.get(j0, "i32")))]));
  if (p8) calls.push(p8(args(m.i32Const(panels.p8))));
  if (p4) calls.push(p4(args(m.i32Const(panels.p4))));
  if (edge) calls.push(edge(args(m.i32Const(panels.edge))));
  if (threads > 1) emitUnitEntry(ctx, c, `${name}_unit`, panels, sets, { scratch, bytes }, batchArgs);
  const body = (): Ref[] => [
    m.set(bases[0], batchBase(ctx, c.out.buffer, c.out.base)),
    m.set(bases[1], batchBase(ctx, c.a.buffer, c.a.base)),
    m.set(bases[2], batchBase(ctx, c.b.buffer, c.b.base)),
    ...calls,
  ];
  const nest = (depth: number): Ref[] => {
    if (depth === c.batch.length) return body();
    const b = c.batch[depth]!;
    return countedLoop(ctx, ctx.loopVar(b.var), b.extent, () => nest(depth + 1));
  };
  return nest(0);
}

/**
 * Adds `name(u, t)`: work unit `u` of a contraction (batch element `u /
 * panels`, panel `u % panels`) on thread `t`, with thread t's copy of the
 * panel functions (`sets[t]`; the last, parameterised copy for any `t` past
 * the specialised ones, packing at `scratch + t · bytes`). The batch
 * variables are recovered from the flat batch index, outermost first; those
 * in `batchArgs` (an epilogue's) are passed on to the panel.
 */
function emitUnitEntry(
  ctx: FunctionContext, c: Contraction, name: string, panels: Panels, sets: readonly PanelSet[],
  panel0: { readonly scratch: number; readonly bytes: number }, batchArgs: readonly string[],
): void {
  const fn = ctx.sibling();
  const m = fn.m;
  const u = fn.locals.fresh("i32");
  const thread = fn.locals.fresh("i32");
  const batch = fn.locals.fresh("i32");
  const panel = fn.locals.fresh("i32");
  const bases = [fn.locals.fresh("i32"), fn.locals.fresh("i32"), fn.locals.fresh("i32")] as const;
  const get = (v: number): Ref => m.get(v, "i32");
  const body: Ref[] = [
    m.set(batch, m.i32("div_u", get(u), m.i32Const(panels.count))),
    m.set(panel, m.i32("rem_u", get(u), m.i32Const(panels.count))),
  ];
  let inner = 1;
  for (let d = c.batch.length - 1; d >= 0; d--) {
    const { var: v, extent } = c.batch[d]!;
    const quotient = inner === 1 ? get(batch) : m.i32("div_u", get(batch), m.i32Const(inner));
    body.push(m.set(fn.loopVar(v), d === 0 ? quotient : m.i32("rem_u", quotient, m.i32Const(extent))));
    inner *= extent;
  }
  body.push(
    m.set(bases[0], batchBase(fn, c.out.buffer, c.out.base)),
    m.set(bases[1], batchBase(fn, c.a.buffer, c.a.base)),
    m.set(bases[2], batchBase(fn, c.b.buffer, c.b.base)),
  );
  const scratchOf = (): Ref => m.i32("add", m.i32Const(panel0.scratch), m.i32("mul", get(thread), m.i32Const(panel0.bytes)));
  // One thread's copy: groups in order, pairs (group < n16 / 16), then the lone 8-wide panel, the 4-wide one and the edge;
  // built from the last, each test choosing between one group and those after it.
  const groupsOf = (set: PanelSet): Ref => {
    const args = (j: Ref): Ref[] => [...bases.map(get), j, ...(set.scratchParam ? [scratchOf()] : []), ...batchArgs.map((v) => get(fn.loopVar(v)))];
    const pairs = panels.n16 / (PAIR * NR);
    const singles = [[panels.p8, set.p8], [panels.p4, set.p4], [panels.edge, set.edge]] as const;
    const present = singles.filter(([j, call]) => j >= 0 && call !== null);
    let chain: Ref | undefined;
    for (let k = present.length - 1; k >= 0; k--) {
      const [j, call] = present[k]!;
      const one = call!(args(m.i32Const(j)));
      chain = chain === undefined ? one : m.ifElse(m.i32("eq", get(panel), m.i32Const(pairs + k)), one, chain);
    }
    if (set.pair) {
      const pair = set.pair(args(m.i32("mul", get(panel), m.i32Const(PAIR * NR))));
      chain = chain === undefined ? pair : m.ifElse(m.i32("lt_u", get(panel), m.i32Const(pairs)), pair, chain);
    }
    return chain!;
  };
  // Thread t < sets - 1 takes copy t; the last copy takes every thread from there on.
  let dispatch = groupsOf(sets[sets.length - 1]!);
  for (let t = sets.length - 2; t >= 0; t--) dispatch = m.ifElse(m.i32("eq", get(thread), m.i32Const(t)), groupsOf(sets[t]!), dispatch);
  body.push(dispatch);
  m.addFunction(name, ["i32", "i32"], "none", fn.locals.types.slice(2), m.block([...fn.scopes[0]!.prelude, ...body]));
  m.exportFunction(name);
}
