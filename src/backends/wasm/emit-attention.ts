/**
 * SIMD128 for attention in one pass (a softmax-weighted sum with a blocked
 * plan, kernel/online-softmax.ts): the scores of 4 rows against a block of
 * keys go to a small scratch tile, never to a stored n × n matrix, and
 * each row keeps a running maximum `m` and sum `l`:
 *
 *     for i0 += 4:                                     (then single rows)
 *       m_r = -inf, l_r = 0, O[i0 .. i0+3, :] = 0
 *       for j0 += 64:                                  (the last block may be shorter)
 *         P[r, t] = score(Q[i0+r, :] · K[j0+t, :])     (4 rows × 2 keys of f32x4 accumulators over k)
 *         b_r = max_t P[r, t];  m' = max(m_r, b_r);  s = m' == -inf ? 0 : m'
 *         c_r = exp(m_r - s);  P[r, t] = exp(P[r, t] - s) (f32x4 lanes);  l_r = l_r·c_r + Σ_t P[r, t]
 *         O[i0+r, e..e+7] = O[i0+r, e..e+7]·c_r + Σ_t P[r, t] · V[j0+t, e..e+7]   (4 rows × 2 vectors)
 *         m_r = m'
 *       O[i0+r, :] /= l_r
 *
 * Shifting by 0 while every score so far is -inf makes those weights
 * exp(-inf) = 0 instead of exp(-inf + inf) = NaN; a row whose scores are
 * all -inf ends 0 / 0 = NaN, as the def's formula gives. Sums are float32,
 * the exponentials the f32x4 `exp` of emit-exp.ts, so results differ from
 * the reference in the last bits.
 */
import type { BlockedAttention } from "../kernel/types.js";
import type { Ref } from "./binaryen.js";
import { inlineExpF32, inlineExpF32x4 } from "./emit-exp.js";
import { localIndex, wasmExpr } from "./emit-expr.js";
import type { FunctionContext } from "./function-context.js";

/** Keys per block: the tile of scores is `ROWS × KEY_BLOCK` floats. */
export const KEY_BLOCK = 64;
/** Rows per tile. */
const ROWS = 4;

/**
 * Scratch bytes the kernel needs (its tile of scores).
 *
 * @example
 * ```ts
 * attentionScratchBytes(); // 1024
 * ```
 */
export function attentionScratchBytes(): number {
  return ROWS * KEY_BLOCK * 4;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, r) => r);

class AttentionEmitter {
  private readonly i0: number;
  private readonly j0: number;
  private readonly jn: number;
  private readonly jj: number;
  private readonly kk: number;
  private readonly e0: number;
  private readonly vp: number;

  constructor(private readonly ctx: FunctionContext, private readonly p: BlockedAttention, private readonly scratch: number) {
    const l = ctx.locals;
    [this.i0, this.j0, this.jn, this.jj, this.kk, this.e0, this.vp] = range(7).map(() => l.fresh("i32"));
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

  /** `while (v < end) { body; v += step }`, top-tested. */
  private whileLess(v: number, end: Ref, step: number, body: Ref[]): Ref {
    const m = this.m;
    const label = this.ctx.label();
    const exit = this.ctx.label();
    return m.blockNamed(exit, [m.loop(label, m.block([
      m.brIf(exit, m.i32("eq", m.i32("lt_s", this.i32(v), end), this.c(0))),
      ...body,
      m.set(v, this.add(this.i32(v), this.c(step))),
      m.br(label),
    ]))]);
  }

  /** Byte address of element `row, col` of a row-major operand at arena offset `base` (elements). */
  private rowAddress(buffer: string, base: number, rowStride: number, row: Ref): Ref {
    const at = this.ctx.place(buffer).offset + base * 4;
    return this.add(this.mul(row, rowStride * 4), this.c(at));
  }

  private hsum(v: Ref, tmp: number): Ref[] {
    const m = this.m;
    const lane = (k: number): Ref => m.f32x4ExtractLane(this.v(tmp), k);
    return [m.set(tmp, v), m.float("f32", "add", m.float("f32", "add", lane(0), lane(1)), m.float("f32", "add", lane(2), lane(3)))];
  }

  /** Scores of `rows` rows against keys `jj .. jj+keys-1` of the block, into the tile. */
  private scoreTile(rows: number, keys: number): Ref[] {
    const { m, p } = this;
    const l = this.ctx.locals;
    const acc = range(rows).map(() => range(keys).map(() => l.fresh("v128")));
    const qp = range(rows).map(() => l.fresh("i32"));
    const kp = range(keys).map(() => l.fresh("i32"));
    const kv = range(keys).map(() => l.fresh("v128"));
    const qv = l.fresh("v128");
    const out: Ref[] = [];
    for (const r of range(rows)) out.push(m.set(qp[r]!, this.rowAddress(p.q.buffer, p.q.base, p.q.rowStride, this.add(this.i32(this.i0), this.c(r)))));
    for (const t of range(keys)) {
      const key = this.add(this.add(this.i32(this.j0), this.i32(this.jj)), this.c(t));
      out.push(m.set(kp[t]!, this.rowAddress(p.k.buffer, p.k.base, p.k.rowStride, key)));
    }
    for (const row of acc) for (const a of row) out.push(m.set(a, m.v128Zero()));
    const inner: Ref[] = [];
    for (const t of range(keys)) inner.push(m.set(kv[t]!, m.v128Load(0, this.add(this.i32(kp[t]!), this.i32(this.kk)))));
    for (const r of range(rows)) {
      inner.push(m.set(qv, m.v128Load(0, this.add(this.i32(qp[r]!), this.i32(this.kk)))));
      for (const t of range(keys)) inner.push(m.set(acc[r]![t]!, this.madd(this.v(qv), this.v(kv[t]!), this.v(acc[r]![t]!))));
    }
    out.push(m.set(this.kk, this.c(0)), this.whileLess(this.kk, this.c(p.depth * 4), 16, inner));
    const tmp = l.fresh("v128");
    for (const r of range(rows)) {
      for (const t of range(keys)) {
        const [set, sum] = this.hsum(this.v(acc[r]![t]!), tmp);
        out.push(set!);
        const scaled = p.scale === 1 ? sum! : m.float("f32", "mul", sum!, m.f32Const(p.scale));
        let score = scaled;
        if (p.epilogue) {
          out.push(
            m.set(localIndex(this.ctx, "acc"), m.convert("f64.promote_f32", scaled)),
            m.set(this.ctx.loopVar(p.rowVar), this.add(this.i32(this.i0), this.c(r))),
            m.set(this.ctx.loopVar(p.keyVar), this.add(this.add(this.i32(this.j0), this.i32(this.jj)), this.c(t))),
          );
          score = m.convert("f32.demote_f64", wasmExpr(this.ctx, p.epilogue));
        }
        out.push(m.store("f32", this.scratch + (r * KEY_BLOCK + t) * 4, m.i32("shl", this.i32(this.jj), this.c(2)), score));
      }
    }
    return out;
  }

  /** One tile of `rows` rows: scores, the online softmax update, the weighted values. */
  private rowTile(rows: number, mr: number[], lr: number[], cr: number[]): Ref[] {
    const { m, p } = this;
    const l = this.ctx.locals;
    const out: Ref[] = [];
    // Scores: pairs of keys, then the odd one, then -inf up to a multiple of 4 (exp makes it 0).
    out.push(m.set(this.jj, this.c(0)));
    out.push(this.whileLess(this.jj, m.i32("sub", this.i32(this.jn), this.c(1)), 2, this.scoreTile(rows, 2)));
    out.push(m.ifElse(m.i32("lt_s", this.i32(this.jj), this.i32(this.jn)), m.block([...this.scoreTile(rows, 1), m.set(this.jj, this.add(this.i32(this.jj), this.c(1)))])));
    const pad = range(rows).map((r) => m.store("f32", this.scratch + r * KEY_BLOCK * 4, m.i32("shl", this.i32(this.jj), this.c(2)), m.f32Const(-Infinity)));
    out.push(this.whileLess(this.jj, m.i32("and", this.add(this.i32(this.jn), this.c(3)), this.c(-4)), 1, pad));
    // The online softmax update, row by row.
    // A binaryen expression may appear only once in a tree: built afresh at each use.
    const padded = (): Ref => m.i32("and", this.add(this.i32(this.jn), this.c(3)), this.c(-4));
    const [bm, sum, pv, tmp] = [l.fresh("v128"), l.fresh("v128"), l.fresh("v128"), l.fresh("v128")];
    const [mn, shift, t] = [l.fresh("f32"), l.fresh("f32"), l.fresh("i32")];
    for (const r of range(rows)) {
      const tile = (ptr: Ref): Ref => m.v128Load(this.scratch + r * KEY_BLOCK * 4, ptr);
      const at = m.i32("shl", this.i32(t), this.c(2));
      const lane = (k: number): Ref => m.f32x4ExtractLane(this.v(bm), k);
      out.push(
        m.set(bm, m.f32x4Splat(m.f32Const(-Infinity))),
        m.set(t, this.c(0)),
        this.whileLess(t, padded(), 4, [m.set(bm, m.f32x4Arith("max", this.v(bm), tile(at)))]),
        m.set(mn, m.float("f32", "max", this.f(mr[r]!), m.float("f32", "max", m.float("f32", "max", lane(0), lane(1)), m.float("f32", "max", lane(2), lane(3))))),
        m.set(shift, m.select(m.float("f32", "eq", this.f(mn), m.f32Const(-Infinity)), m.f32Const(0), this.f(mn))),
        m.set(cr[r]!, m.convert("f32.demote_f64", inlineExpF32(this.ctx, m.convert("f64.promote_f32", m.float("f32", "sub", this.f(mr[r]!), this.f(shift)))))),
        m.set(sum, m.v128Zero()),
        m.set(t, this.c(0)),
        this.whileLess(t, padded(), 4, [
          m.set(pv, inlineExpF32x4(this.ctx, m.f32x4Arith("sub", tile(m.i32("shl", this.i32(t), this.c(2))), m.f32x4Splat(this.f(shift))))),
          m.v128Store(this.scratch + r * KEY_BLOCK * 4, m.i32("shl", this.i32(t), this.c(2)), this.v(pv)),
          m.set(sum, m.f32x4Arith("add", this.v(sum), this.v(pv))),
        ]),
      );
      const [setSum, total] = this.hsum(this.v(sum), tmp);
      out.push(setSum!, m.set(lr[r]!, m.float("f32", "add", m.float("f32", "mul", this.f(lr[r]!), this.f(cr[r]!)), total!)), m.set(mr[r]!, this.f(mn)));
    }
    // The weighted values: 8 columns (two vectors) at a time, then 4.
    const wide = p.cols - (p.cols % 8);
    out.push(m.set(this.e0, this.c(0)));
    if (wide > 0) out.push(this.whileLess(this.e0, this.c(wide * 4), 32, this.valueTile(rows, 2, cr)));
    if (p.cols % 8 !== 0) out.push(...this.valueTile(rows, 1, cr));
    return out;
  }

  /** Output columns `e0 .. e0 + 4·vectors - 1` (bytes in `e0`) of `rows` rows: rescaled, plus the block's weighted values. */
  private valueTile(rows: number, vectors: number, cr: number[]): Ref[] {
    const { m, p } = this;
    const l = this.ctx.locals;
    const o = range(rows).map(() => range(vectors).map(() => l.fresh("v128")));
    const vv = range(vectors).map(() => l.fresh("v128"));
    const op = range(rows).map(() => l.fresh("i32"));
    const out: Ref[] = [];
    for (const r of range(rows)) {
      out.push(m.set(op[r]!, this.add(this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.add(this.i32(this.i0), this.c(r))), this.i32(this.e0))));
      for (const w of range(vectors)) out.push(m.set(o[r]![w]!, m.f32x4("mul", m.v128Load(16 * w, this.i32(op[r]!)), m.f32x4Splat(this.f(cr[r]!)))));
    }
    const inner: Ref[] = [m.set(this.vp, this.add(this.rowAddress(p.v.buffer, p.v.base, p.v.rowStride, this.add(this.i32(this.j0), this.i32(this.jj))), this.i32(this.e0)))];
    for (const w of range(vectors)) inner.push(m.set(vv[w]!, m.v128Load(16 * w, this.i32(this.vp))));
    const weight = l.fresh("v128");
    for (const r of range(rows)) {
      inner.push(m.set(weight, m.load32Splat(this.scratch + r * KEY_BLOCK * 4, m.i32("shl", this.i32(this.jj), this.c(2)))));
      for (const w of range(vectors)) inner.push(m.set(o[r]![w]!, this.madd(this.v(weight), this.v(vv[w]!), this.v(o[r]![w]!))));
    }
    out.push(m.set(this.jj, this.c(0)), this.whileLess(this.jj, this.i32(this.jn), 1, inner));
    for (const r of range(rows)) for (const w of range(vectors)) out.push(m.v128Store(16 * w, this.i32(op[r]!), this.v(o[r]![w]!)));
    return out;
  }

  /** Rows `i0 .. i0+rows-1` from start to end. */
  private rows(rows: number): Ref[] {
    const { m, p } = this;
    const l = this.ctx.locals;
    const mr = range(rows).map(() => l.fresh("f32"));
    const lr = range(rows).map(() => l.fresh("f32"));
    const cr = range(rows).map(() => l.fresh("f32"));
    const out: Ref[] = [];
    for (const r of range(rows)) out.push(m.set(mr[r]!, m.f32Const(-Infinity)), m.set(lr[r]!, m.f32Const(0)));
    out.push(m.fillBytes(this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.i32(this.i0)), this.c(0), this.c(rows * p.cols * 4)));
    const left = (): Ref => m.i32("sub", this.c(p.keys), this.i32(this.j0));
    out.push(m.set(this.j0, this.c(0)), this.whileLess(this.j0, this.c(p.keys), KEY_BLOCK, [
      m.set(this.jn, m.select(m.i32("lt_s", left(), this.c(KEY_BLOCK)), left(), this.c(KEY_BLOCK))),
      ...this.rowTile(rows, mr, lr, cr),
    ]));
    // Normalise each row by its sum.
    const inv = l.fresh("v128");
    for (const r of range(rows)) {
      out.push(m.set(inv, m.f32x4Splat(m.float("f32", "div", m.f32Const(1), this.f(lr[r]!)))));
      const row = this.rowAddress(p.out.buffer, 0, p.out.rowStride, this.add(this.i32(this.i0), this.c(r)));
      const ptr = l.fresh("i32");
      out.push(m.set(ptr, row), m.set(this.e0, this.c(0)), this.whileLess(this.e0, this.c(p.cols), 4, [
        m.v128Store(0, this.i32(ptr), m.f32x4("mul", m.v128Load(0, this.i32(ptr)), this.v(inv))),
        m.set(ptr, this.add(this.i32(ptr), this.c(16))),
      ]));
    }
    return out;
  }

  body(): Ref[] {
    const { m, p } = this;
    const full = p.rows - (p.rows % ROWS);
    const out: Ref[] = [m.set(this.i0, this.c(0))];
    if (full > 0) out.push(this.whileLess(this.i0, this.c(full), ROWS, this.rows(ROWS)));
    if (full < p.rows) out.push(this.whileLess(this.i0, this.c(p.rows), 1, this.rows(1)));
    return out;
  }
}

/**
 * The body of a kernel computing `p` with its tile at byte `scratch` of the arena.
 *
 * @example
 * ```ts
 * const body = emitAttention(ctx, plan, layout.scratch.get(n)!);
 * ```
 */
export function emitAttention(ctx: FunctionContext, p: BlockedAttention, scratch: number): Ref[] {
  return new AttentionEmitter(ctx, p, scratch).body();
}
