/**
 * SIMD128 for attention in one pass (a softmax-weighted sum with a blocked
 * plan, kernel/online-softmax.ts). Both products run on register tiles like
 * the matrix-product micro-kernel's (emit-contraction.ts: 4 rows × 8 columns
 * in eight f32x4 accumulators, one element of the left operand broadcast per
 * row, one row of 8 of the right loaded per step), the scores of a block of
 * rows against a block of keys go to a small scratch tile, never to a stored
 * n × n matrix, and each row keeps a running maximum `m` and sum `l`:
 *
 *     Kᵀ = K packed transposed, once, in panels of 8 keys: Kᵀ[j/8][k][j mod 8] = K[j, k]   (zeros past the last key)
 *     for i0 += 16:                                    (the last block may be shorter)
 *       m_r = -inf, l_r = 0, O[i0 .. i0+15, :] = 0
 *       for j0 += 64:                                  (the last block may be shorter)
 *         P[r, t..t+7] = log2e · score(Σ_k splat Q[i0+r, k] · Kᵀ[(j0+t)/8][k][0..7])    4 rows × 8 keys per tile;
 *                                                      b_r = max_t P[r, t] kept as the tiles are stored
 *         P[r, t] = -inf for keys past the last (their Kᵀ is zero; b_r again over the padded row)
 *         m' = max(m_r, b_r);  s = m' == -inf ? 0 : m'
 *         c_r = m' == m_r ? 1 : 2^(m_r - s);  P[r, t] = 2^(P[r, t] - s) (f32x4 lanes);  l_r = l_r·c_r + Σ_t P[r, t];  m_r = m'
 *         O[i0+r, e..e+7] = O[i0+r, e..e+7]·c_r + Σ_t splat P[r, t] · V[j0+t, e..e+7]    4 rows × 8 columns per tile
 *       O[i0+r, :] /= l_r
 *
 * Packing K transposed makes the scores come out as vectors along the keys
 * (no sums across lanes), so the maximum and the exponentials run on them
 * directly; a block of 16 rows reads each block of Kᵀ and V four times while
 * it is in cache. The packed Kᵀ is n × d floats of scratch, as much memory
 * as K itself: the kernel's memory stays O(n). The scores are kept in base
 * 2 (the product's scale times log2 e, or the epilogue's value times it), so
 * each weight is `2^x` (emit-exp.ts, `inlineExp2F32x4NonPositive`), whose
 * range reduction is exact; its constants sit in locals set once. Maxima
 * use `f32x4.pmax` (one x64 instruction; `f32x4.max`'s NaN and signed-zero
 * rules take several): a NaN score may be passed over by a maximum but not
 * by its own weight, so its row still ends NaN.
 *
 * Shifting by 0 while every score so far is -inf makes those weights
 * 2^-inf = 0 instead of 2^(-inf + inf) = NaN; a row whose scores are all
 * -inf ends 0 / 0 = NaN, as the def's formula gives. Sums are float32, a
 * score carries one more rounding (its factor log2 e), and weights below
 * 2^-126 of the row's largest are 0, so results differ from the reference
 * in the last bits.
 */
import type { BlockedAttention } from "../kernel/types.js";
import type { Ref } from "./binaryen.js";
import { EXP2_NON_POSITIVE_CONSTANTS, inlineExp2F32x4NonPositive, inlineExpF32 } from "./emit-exp.js";
import { localIndex, wasmExpr } from "./emit-expr.js";
import type { FunctionContext } from "./function-context.js";

/** Keys per block: a tile of scores is `ROW_BLOCK × KEY_BLOCK` floats. */
export const KEY_BLOCK = 64;
/** Rows per block: each block of Kᵀ and V is read once per this many rows. */
export const ROW_BLOCK = 16;
/** Rows and columns of a register tile. */
const MR = 4;
const NR = 8;

/** Where each part of the scratch lies, in bytes from its start. */
interface ScratchLayout {
  /** Kᵀ, in panels of 8 keys (`depth × 8` floats each). */
  readonly kt: number;
  /** The tile of scores, `ROW_BLOCK × KEY_BLOCK` floats. */
  readonly tile: number;
  /** Each row's running maximum, running sum and last rescale factor, `ROW_BLOCK` floats each. */
  readonly max: number;
  readonly sum: number;
  readonly rescale: number;
  /** Each row's maximum over the key block so far, one f32x4 per row (a lane per key modulo 4). */
  readonly blockMax: number;
  /** The exponential's constants, one f32x4 each (read into locals once). */
  readonly constants: number;
  readonly bytes: number;
}

function scratchLayout(p: Pick<BlockedAttention, "keys" | "depth">): ScratchLayout {
  const kt = 0;
  const tile = kt + Math.ceil(p.keys / NR) * NR * p.depth * 4;
  const max = tile + ROW_BLOCK * KEY_BLOCK * 4;
  const sum = max + ROW_BLOCK * 4;
  const rescale = sum + ROW_BLOCK * 4;
  const blockMax = rescale + ROW_BLOCK * 4;
  const constants = blockMax + ROW_BLOCK * 16;
  return { kt, tile, max, sum, rescale, blockMax, constants, bytes: constants + EXP2_NON_POSITIVE_CONSTANTS.length * 16 };
}

/**
 * Scratch bytes the kernel needs: K packed transposed (rounded up to whole
 * blocks of keys), the tile of scores, three floats per row of a block and
 * the exponential's constants.
 *
 * @example
 * ```ts
 * attentionScratchBytes({ keys: 4096, depth: 64 }); // 1048576 + 4096 + 192 + 176
 * ```
 */
export function attentionScratchBytes(p: Pick<BlockedAttention, "keys" | "depth">): number {
  return scratchLayout(p).bytes;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, r) => r);

class AttentionEmitter {
  private readonly s: ScratchLayout;
  /** Row block, its size, key block, keys in it, keys rounded up to 8, first row of a tile, and a counter. */
  private readonly i0: number;
  private readonly rb: number;
  private readonly j0: number;
  private readonly jn: number;
  private readonly jw: number;
  private readonly r0: number;
  private readonly t: number;
  /** The exponential's constants, set once from the scratch. */
  private readonly constants: number[];

  constructor(private readonly ctx: FunctionContext, private readonly p: BlockedAttention, private readonly scratch: number) {
    this.s = scratchLayout(p);
    const l = ctx.locals;
    [this.i0, this.rb, this.j0, this.jn, this.jw, this.r0, this.t] = range(7).map(() => l.fresh("i32"));
    this.constants = EXP2_NON_POSITIVE_CONSTANTS.map(() => l.fresh("v128"));
  }

  private get m() { return this.ctx.m; }
  private i32(v: number): Ref { return this.m.get(v, "i32"); }
  private c(v: number): Ref { return this.m.i32Const(v); }
  private add(a: Ref, b: Ref): Ref { return this.m.i32("add", a, b); }
  private mul(a: Ref, k: number): Ref { return k === 1 ? a : this.m.i32("mul", a, this.c(k)); }
  private madd(a: Ref, b: Ref, acc: Ref): Ref {
    const m = this.m;
    return m.relaxedSimd ? m.f32x4Madd(a, b, acc) : m.f32x4("add", acc, m.f32x4("mul", a, b));
  }
  private v(local: number): Ref { return this.m.get(local, "v128"); }
  private f(local: number): Ref { return this.m.get(local, "f32"); }
  private bump(local: number, bytes: number): Ref { return this.m.set(local, this.add(this.i32(local), this.c(bytes))); }
  /** Byte offset of part `at` of the scratch, as an instruction's static offset. */
  private at(part: number): number { return this.scratch + part; }

  /** `while (v < end) { body; v += step }`, top-tested. */
  private whileLess(v: number, end: () => Ref, step: number, body: Ref[]): Ref {
    const m = this.m;
    const label = this.ctx.label();
    const exit = this.ctx.label();
    return m.blockNamed(exit, [m.loop(label, m.block([
      m.brIf(exit, m.i32("eq", m.i32("lt_s", this.i32(v), end()), this.c(0))),
      ...body,
      this.bump(v, step),
      m.br(label),
    ]))]);
  }

  /** `do { body; ptr += step } while (ptr != end)`: at least once. */
  private doUntil(ptr: number, end: number, step: number, body: Ref[]): Ref {
    const m = this.m;
    const label = this.ctx.label();
    return m.loop(label, m.block([...body, this.bump(ptr, step), m.brIf(label, m.i32("ne", this.i32(ptr), this.i32(end)))]));
  }

  /** Byte address of row `row` of a row-major operand at arena offset `base` (elements). */
  private rowAddress(buffer: string, base: number, rowStride: number, row: Ref): Ref {
    const at = this.ctx.place(buffer).offset + base * 4;
    return this.add(this.mul(row, rowStride * 4), this.c(at));
  }

  private lanes(v: Ref, tmp: number, op: "add" | "max"): Ref[] {
    const m = this.m;
    const lane = (k: number): Ref => m.f32x4ExtractLane(this.v(tmp), k);
    return [m.set(tmp, v), m.float("f32", op, m.float("f32", op, lane(0), lane(1)), m.float("f32", op, lane(2), lane(3)))];
  }

  /** Kᵀ: zeros, then each key's row of K as a column of its panel. */
  private packKeys(): Ref[] {
    const { m, p, s } = this;
    const [src, dst, k] = [this.ctx.locals.fresh("i32"), this.ctx.locals.fresh("i32"), this.ctx.locals.fresh("i32")];
    const ktBytes = s.tile - s.kt;
    // Key j goes to panel ⌊j/8⌋, column j mod 8: byte (j - j mod 8)·d·4 + (j mod 8)·4.
    const column = (): Ref => this.add(
      this.mul(m.i32("and", this.i32(this.j0), this.c(-NR)), p.depth * 4),
      m.i32("shl", m.i32("and", this.i32(this.j0), this.c(NR - 1)), this.c(2)),
    );
    return [
      m.fillBytes(this.c(this.at(s.kt)), this.c(0), this.c(ktBytes)),
      m.set(this.j0, this.c(0)),
      this.whileLess(this.j0, () => this.c(p.keys), 1, [
        m.set(src, this.rowAddress(p.k.buffer, p.k.base, p.k.rowStride, this.i32(this.j0))),
        m.set(dst, column()),
        m.set(k, this.c(0)),
        this.whileLess(k, () => this.c(p.depth), 1, [
          m.store("f32", this.at(s.kt), this.i32(dst), m.load("f32", 0, this.i32(src))),
          this.bump(src, 4),
          this.bump(dst, NR * 4),
        ]),
      ]),
    ];
  }

  /** Scores of rows `r0 .. r0+rows-1` of the block against keys `t .. t+7` of the key block, into the tile. */
  private scoreTile(rows: number): Ref[] {
    const { m, p, s } = this;
    const l = this.ctx.locals;
    const acc = range(rows).map(() => range(2).map(() => l.fresh("v128")));
    const kv = range(2).map(() => l.fresh("v128"));
    const qv = l.fresh("v128");
    const [pq, pk, end] = [l.fresh("i32"), l.fresh("i32"), l.fresh("i32")];
    const step: Ref[] = kv.map((k, w) => m.set(k, m.v128Load(this.at(s.kt) + 16 * w, this.i32(pk))));
    for (const r of range(rows)) {
      step.push(m.set(qv, m.load32Splat(r * p.q.rowStride * 4, this.i32(pq))));
      for (const w of range(2)) step.push(m.set(acc[r]![w]!, this.madd(this.v(qv), this.v(kv[w]!), this.v(acc[r]![w]!))));
    }
    step.push(this.bump(pq, 4));
    // The panel of keys j0 + t .. j0 + t + 7 starts at byte (j0 + t)·d·4 of Kᵀ.
    const first = (): Ref => this.mul(this.add(this.i32(this.j0), this.i32(this.t)), p.depth * 4);
    const out: Ref[] = [
      ...acc.flat().map((a) => m.set(a, m.v128Zero())),
      m.set(pq, this.rowAddress(p.q.buffer, p.q.base, p.q.rowStride, this.add(this.i32(this.i0), this.i32(this.r0)))),
      m.set(pk, first()),
      m.set(end, this.add(first(), this.c(p.depth * NR * 4))),
      this.doUntil(pk, end, NR * 4, step),
    ];
    // Tile row r0 + r, keys t ..: byte (r0 + r)·64·4 + t·4 of the tile.
    const tileAt = (): Ref => this.add(this.tileRow(this.i32(this.r0)), m.i32("shl", this.i32(this.t), this.c(2)));
    // Scores in base 2 (times log2 e), so the weights are powers of 2; with an epilogue, after it.
    const scale = p.epilogue ? p.scale : p.scale * Math.LOG2E;
    const scaled = (a: number): Ref => scale === 1 ? this.v(a) : m.f32x4("mul", this.v(a), m.f32x4Splat(m.f32Const(scale)));
    // Each row's block maximum takes the tile row's 8 scores as they are stored.
    const rowMax = (): Ref => m.i32("shl", this.i32(this.r0), this.c(4));
    const updateMax = (r: number, a: Ref, b: Ref): Ref => m.v128Store(this.at(s.blockMax) + 16 * r, rowMax(),
      m.f32x4Arith("pmax", m.v128Load(this.at(s.blockMax) + 16 * r, rowMax()), m.f32x4Arith("pmax", a, b)));
    if (!p.epilogue) {
      for (const r of range(rows)) {
        for (const w of range(2)) {
          if (scale !== 1) out.push(m.set(acc[r]![w]!, scaled(acc[r]![w]!)));
          out.push(m.v128Store(this.at(s.tile) + (r * KEY_BLOCK + 4 * w) * 4, tileAt(), this.v(acc[r]![w]!)));
        }
        out.push(updateMax(r, this.v(acc[r]![0]!), this.v(acc[r]![1]!)));
      }
      return out;
    }
    // An epilogue (a mask): each lane through its scalar code, with the row and key variables set.
    const lanes = l.fresh("v128");
    for (const r of range(rows)) {
      for (const w of range(2)) {
        out.push(m.set(lanes, scaled(acc[r]![w]!)));
        for (const lane of range(4)) {
          out.push(
            m.set(localIndex(this.ctx, "acc"), m.convert("f64.promote_f32", m.f32x4ExtractLane(this.v(lanes), lane))),
            m.set(this.ctx.loopVar(p.rowVar), this.add(this.add(this.i32(this.i0), this.i32(this.r0)), this.c(r))),
            m.set(this.ctx.loopVar(p.keyVar), this.add(this.add(this.i32(this.j0), this.i32(this.t)), this.c(4 * w + lane))),
            m.store("f32", this.at(s.tile) + (r * KEY_BLOCK + 4 * w + lane) * 4, tileAt(), m.convert("f32.demote_f64", m.float("f64", "mul", wasmExpr(this.ctx, p.epilogue), m.f64Const(Math.LOG2E)))),
          );
        }
      }
      const stored = (w: number): Ref => m.v128Load(this.at(s.tile) + (r * KEY_BLOCK + 4 * w) * 4, tileAt());
      out.push(updateMax(r, stored(0), stored(1)));
    }
    return out;
  }

  /** `r0 < rb - rows + 1`: a tile of `rows` rows from `r0` fits in the row block. */
  private fits(rows: number): Ref {
    return this.add(this.m.i32("sub", this.i32(this.rb), this.c(rows)), this.c(1));
  }

  /** Byte offset of row `r` of the tile of scores. */
  private tileRow(r: Ref): Ref {
    return this.m.i32("shl", r, this.c(Math.log2(KEY_BLOCK * 4)));
  }

  /** Score tiles of `rows` rows from `r0` while they fit in the row block, each over every 8 keys. */
  private scoreTiles(rows: number): Ref {
    const m = this.m;
    return this.whileLess(this.r0, () => this.fits(rows), rows, [
      m.set(this.t, this.c(0)),
      this.whileLess(this.t, () => this.i32(this.jw), NR, this.scoreTile(rows)),
    ]);
  }

  /** The scores of the row block against the key block, padding keys -inf. */
  private scores(): Ref[] {
    const { m, s } = this;
    const pad = this.ctx.locals.fresh("i32");
    return [
      m.set(this.r0, this.c(0)),
      this.scoreTiles(MR),
      this.scoreTiles(1),
      // Keys past the last (zeros in Kᵀ): -inf, so exp makes their weights 0.
      m.ifElse(m.i32("ne", this.i32(this.jn), this.i32(this.jw)), m.block([
        m.set(this.r0, this.c(0)),
        this.whileLess(this.r0, () => this.i32(this.rb), 1, [
          m.set(pad, this.i32(this.jn)),
          this.whileLess(pad, () => this.i32(this.jw), 1, [
            m.store("f32", this.at(s.tile), this.add(this.tileRow(this.i32(this.r0)), m.i32("shl", this.i32(pad), this.c(2))), m.f32Const(-Infinity)),
          ]),
          // The tiles' block maximum took the padding keys' scores: the row's maximum again, over the padded row.
          ...this.rowMaxOfTile(),
        ]),
      ])),
    ];
  }

  /** Row `r0`'s block maximum from its row of the tile (`jw` keys). */
  private rowMaxOfTile(): Ref[] {
    const { m, s } = this;
    const l = this.ctx.locals;
    const [bm, ptr, end] = [l.fresh("v128"), l.fresh("i32"), l.fresh("i32")];
    const tileVector = (w: number): Ref => m.v128Load(this.at(s.tile) + 16 * w, this.i32(ptr));
    return [
      m.set(ptr, this.tileRow(this.i32(this.r0))),
      m.set(end, this.add(this.i32(ptr), m.i32("shl", this.i32(this.jw), this.c(2)))),
      m.set(bm, m.f32x4Splat(m.f32Const(-Infinity))),
      this.doUntil(ptr, end, 32, [m.set(bm, m.f32x4Arith("pmax", this.v(bm), m.f32x4Arith("pmax", tileVector(0), tileVector(1))))]),
      m.v128Store(this.at(s.blockMax), m.i32("shl", this.i32(this.r0), this.c(4)), this.v(bm)),
    ];
  }

  /**
   * The online softmax update of each row of the block: new maximum,
   * rescale factor (1 without computing an exponential when the maximum
   * stays), exponentials, sum. The block maximum is what the score tiles
   * kept; the key block is a multiple of 8 keys wide, so the exponentials
   * take two vectors per step.
   */
  private softmax(): Ref[] {
    const { m, s } = this;
    const l = this.ctx.locals;
    const [bm, sum, tmp, shifts] = [l.fresh("v128"), l.fresh("v128"), l.fresh("v128"), l.fresh("v128")];
    const pv = [l.fresh("v128"), l.fresh("v128")];
    const [old, mn, shift, c] = [l.fresh("f32"), l.fresh("f32"), l.fresh("f32"), l.fresh("f32")];
    const [row, ptr, end] = [l.fresh("i32"), l.fresh("i32"), l.fresh("i32")];
    const state = (part: number): Ref => m.load("f32", this.at(part), this.i32(row));
    const setState = (part: number, value: Ref): Ref => m.store("f32", this.at(part), this.i32(row), value);
    const tileVector = (w: number): Ref => m.v128Load(this.at(s.tile) + 16 * w, this.i32(ptr));
    const [setMax, blockMax] = this.lanes(this.v(bm), tmp, "max");
    const [setSum, total] = this.lanes(this.v(sum), tmp, "add");
    const exp = (w: number): Ref => inlineExp2F32x4NonPositive(this.ctx, m.f32x4Arith("sub", tileVector(w), this.v(shifts)), (k) => this.v(this.constants[k]!));
    const body: Ref[] = [
      m.set(row, m.i32("shl", this.i32(this.r0), this.c(2))),
      m.set(ptr, this.tileRow(this.i32(this.r0))),
      m.set(end, this.add(this.i32(ptr), m.i32("shl", this.i32(this.jw), this.c(2)))),
      // The block maximum the score tiles kept, reset for the next block.
      m.set(bm, m.v128Load(this.at(s.blockMax), m.i32("shl", this.i32(this.r0), this.c(4)))),
      m.v128Store(this.at(s.blockMax), m.i32("shl", this.i32(this.r0), this.c(4)), m.f32x4Splat(m.f32Const(-Infinity))),
      setMax!,
      m.set(old, state(s.max)),
      m.set(mn, m.float("f32", "max", this.f(old), blockMax!)),
      m.set(shift, m.select(m.float("f32", "eq", this.f(mn), m.f32Const(-Infinity)), m.f32Const(0), this.f(mn))),
      m.ifElse(m.float("f32", "eq", this.f(old), this.f(mn)),
        m.set(c, m.f32Const(1)),
        m.set(c, m.convert("f32.demote_f64", inlineExpF32(this.ctx, m.float("f64", "mul", m.convert("f64.promote_f32", m.float("f32", "sub", this.f(old), this.f(shift))), m.f64Const(Math.LN2)))))),
      m.set(sum, m.v128Zero()),
      m.set(shifts, m.f32x4Splat(this.f(shift))),
      m.set(ptr, this.tileRow(this.i32(this.r0))),
      this.doUntil(ptr, end, 32, [
        ...pv.map((p, w) => m.set(p, exp(w))),
        ...pv.map((p, w) => m.v128Store(this.at(s.tile) + 16 * w, this.i32(ptr), this.v(p))),
        m.set(sum, m.f32x4Arith("add", this.v(sum), m.f32x4Arith("add", this.v(pv[0]!), this.v(pv[1]!)))),
      ]),
      setSum!,
      setState(s.sum, m.float("f32", "add", m.float("f32", "mul", state(s.sum), this.f(c)), total!)),
      setState(s.rescale, this.f(c)),
      setState(s.max, this.f(mn)),
    ];
    return [m.set(this.r0, this.c(0)), this.whileLess(this.r0, () => this.i32(this.rb), 1, body)];
  }

  /** Output columns `t .. t + 4·vectors - 1` (bytes in `t`) of rows `r0 .. r0+rows-1`: rescaled, plus the block's weighted values. */
  private valueTile(rows: number, vectors: number): Ref[] {
    const { m, p, s } = this;
    const l = this.ctx.locals;
    const o = range(rows).map(() => range(vectors).map(() => l.fresh("v128")));
    const vv = range(vectors).map(() => l.fresh("v128"));
    const [op, vp, pp, end] = [l.fresh("i32"), l.fresh("i32"), l.fresh("i32"), l.fresh("i32")];
    const weight = l.fresh("v128");
    const out: Ref[] = [m.set(op, this.add(this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.add(this.i32(this.i0), this.i32(this.r0))), this.i32(this.t)))];
    for (const r of range(rows)) {
      const c = (): Ref => m.load32Splat(this.at(s.rescale) + r * 4, m.i32("shl", this.i32(this.r0), this.c(2)));
      for (const w of range(vectors)) out.push(m.set(o[r]![w]!, m.f32x4("mul", m.v128Load(r * p.out.rowStride * 4 + 16 * w, this.i32(op)), c())));
    }
    const step: Ref[] = vv.map((v, w) => m.set(v, m.v128Load(16 * w, this.i32(vp))));
    for (const r of range(rows)) {
      step.push(m.set(weight, m.load32Splat(this.at(s.tile) + r * KEY_BLOCK * 4, this.i32(pp))));
      for (const w of range(vectors)) step.push(m.set(o[r]![w]!, this.madd(this.v(weight), this.v(vv[w]!), this.v(o[r]![w]!))));
    }
    step.push(this.bump(vp, p.v.rowStride * 4));
    out.push(
      m.set(vp, this.add(this.rowAddress(p.v.buffer, p.v.base, p.v.rowStride, this.i32(this.j0)), this.i32(this.t))),
      m.set(pp, this.tileRow(this.i32(this.r0))),
      m.set(end, this.add(this.i32(pp), m.i32("shl", this.i32(this.jn), this.c(2)))),
      this.doUntil(pp, end, 4, step),
    );
    for (const r of range(rows)) for (const w of range(vectors)) out.push(m.v128Store(r * p.out.rowStride * 4 + 16 * w, this.i32(op), this.v(o[r]![w]!)));
    return out;
  }

  /** The weighted values of the key block added to the row block's outputs, 8 columns at a time, then 4. */
  private values(): Ref[] {
    const { m, p } = this;
    const wide = p.cols - (p.cols % NR);
    const out: Ref[] = [];
    for (const rows of [MR, 1]) {
      const body: Ref[] = [m.set(this.t, this.c(0))];
      if (wide > 0) body.push(this.whileLess(this.t, () => this.c(wide * 4), NR * 4, this.valueTile(rows, 2)));
      if (p.cols % NR !== 0) body.push(...this.valueTile(rows, 1));
      out.push(this.whileLess(this.r0, () => this.fits(rows), rows, body));
    }
    return [m.set(this.r0, this.c(0)), ...out];
  }

  /** One block of rows from `i0`: state, every key block, normalisation. */
  private rowBlock(): Ref[] {
    const { m, p, s } = this;
    const l = this.ctx.locals;
    const left = (): Ref => m.i32("sub", this.c(p.rows), this.i32(this.i0));
    const keysLeft = (): Ref => m.i32("sub", this.c(p.keys), this.i32(this.j0));
    const [row, ptr, end] = [l.fresh("i32"), l.fresh("i32"), l.fresh("i32")];
    const inv = l.fresh("v128");
    const outRow = (): Ref => this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.add(this.i32(this.i0), this.i32(row)));
    return [
      m.set(this.rb, m.select(m.i32("lt_s", left(), this.c(ROW_BLOCK)), left(), this.c(ROW_BLOCK))),
      m.set(row, this.c(0)),
      this.whileLess(row, () => this.i32(this.rb), 1, [
        m.store("f32", this.at(s.max), m.i32("shl", this.i32(row), this.c(2)), m.f32Const(-Infinity)),
        m.store("f32", this.at(s.sum), m.i32("shl", this.i32(row), this.c(2)), m.f32Const(0)),
        m.v128Store(this.at(s.blockMax), m.i32("shl", this.i32(row), this.c(4)), m.f32x4Splat(m.f32Const(-Infinity))),
      ]),
      m.fillBytes(this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.i32(this.i0)), this.c(0), this.mul(this.i32(this.rb), p.cols * 4)),
      m.set(this.j0, this.c(0)),
      this.whileLess(this.j0, () => this.c(p.keys), KEY_BLOCK, [
        m.set(this.jn, m.select(m.i32("lt_s", keysLeft(), this.c(KEY_BLOCK)), keysLeft(), this.c(KEY_BLOCK))),
        m.set(this.jw, m.i32("and", this.add(this.i32(this.jn), this.c(NR - 1)), this.c(-NR))),
        ...this.scores(),
        ...this.softmax(),
        ...this.values(),
      ]),
      // Normalise each row by its sum.
      m.set(row, this.c(0)),
      this.whileLess(row, () => this.i32(this.rb), 1, [
        m.set(inv, m.f32x4Splat(m.float("f32", "div", m.f32Const(1), m.load("f32", this.at(s.sum), m.i32("shl", this.i32(row), this.c(2)))))),
        m.set(ptr, outRow()),
        m.set(end, this.add(outRow(), this.c(p.cols * 4))),
        this.doUntil(ptr, end, 16, [m.v128Store(0, this.i32(ptr), m.f32x4("mul", m.v128Load(0, this.i32(ptr)), this.v(inv)))]),
      ]),
    ];
  }

  /** The exponential's constants into the scratch, and from there into their locals. */
  private loadConstants(): Ref[] {
    const { m, s } = this;
    return EXP2_NON_POSITIVE_CONSTANTS.flatMap((value, k) => [
      m.v128Store(this.at(s.constants) + 16 * k, this.c(0), m.f32x4Const([value, value, value, value])),
      m.set(this.constants[k]!, m.v128Load(this.at(s.constants) + 16 * k, this.c(0))),
    ]);
  }

  body(): Ref[] {
    const { m, p } = this;
    return [
      ...this.loadConstants(),
      ...this.packKeys(),
      m.set(this.i0, this.c(0)),
      this.whileLess(this.i0, () => this.c(p.rows), ROW_BLOCK, this.rowBlock()),
    ];
  }
}

/**
 * The body of a kernel computing `p` with its scratch (see
 * {@link attentionScratchBytes}) at byte `scratch` of the arena.
 *
 * @example
 * ```ts
 * const body = emitAttention(ctx, plan, layout.scratch.get(n)!);
 * ```
 */
export function emitAttention(ctx: FunctionContext, p: BlockedAttention, scratch: number): Ref[] {
  return new AttentionEmitter(ctx, p, scratch).body();
}
