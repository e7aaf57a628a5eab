/**
 * Which products run on a skinny kernel, by shape: a float32 product with at
 * most {@link SKINNY_MAX_ROWS} rows or columns on one side uses each element
 * of its large operand at most that many times, so it is bound by how fast
 * that operand streams from memory, not by the multiply-adds. The WASM
 * backend (emit-skinny.ts) then reads the large operand once, in its own
 * memory order, instead of packing it into panels; the cost model
 * (src/passes/cost.ts) prices it by bytes. The decision is a pure function of
 * the contraction's shape and strides, so the backend and the cost model
 * agree:
 *
 *     before: C[i, j] = A[i, k] * B[k, j], m 1, n 4096, k 4096 (B[k, j] row-major)
 *     after:  { form: "axpy", s: 1, l: 4096, k: 4096, lK: 4096, lC: 1, ... }
 *
 *     before: y[i] = W[i, k] * x[k]  (W[4096, 4096])
 *     after:  { form: "dot", s: 1, l: 4096, k: 4096, lK: 1, lC: 4096, ... }
 */
import type { Contraction, EpilogueContraction, KernelBuffer } from "./types.js";
import { someKExpr } from "./walk.js";

/** The most rows (of the small side) a product may have to take a skinny kernel. */
export const SKINNY_MAX_ROWS = 16;

/**
 * Up to this many rows a product is bound by memory on this kind of machine
 * (about 2 operations per row per 4-byte element of the large operand,
 * against some 40 GFLOP/s and 16-20 GB/s on one core), and always takes a
 * skinny kernel.
 */
export const MEMORY_BOUND_ROWS = 4;

/**
 * Up to this many rows the axpy form also beats the micro-kernel when the
 * large operand is in cache: the micro-kernel copies every panel of it per
 * call, the axpy form reads it in place (8 × 1024 × 1024: about 0.52 against
 * 0.69 ms, 6 × 1000 × 1000: 0.35 against 0.51 ms, in one process).
 */
export const AXPY_ROWS = 8;

/**
 * From {@link AXPY_ROWS} + 1 to {@link SKINNY_MAX_ROWS} rows, the axpy form is taken only when
 * the large operand is at least this big (8 MiB, beyond the caches): then the
 * micro-kernel's packing reads it from memory a row per element, while the
 * axpy form streams it. Smaller ones stay in cache and the register-blocked
 * micro-kernel is faster (16×1024×1024: about 1.4-2× in one process).
 */
export const STREAMED_OPERAND_BYTES = 8 * 2 ** 20;

/** How a skinny product is computed (see the header). */
export interface SkinnyPlan {
  readonly form: "axpy" | "dot";
  /** Rows of the small side. */
  readonly s: number;
  /** Columns of the large side. */
  readonly l: number;
  readonly k: number;
  /** Strides (in elements) of `S[r, k]`, `L[k, c]` and `O[r, c]`. */
  readonly sR: number;
  readonly sK: number;
  readonly lK: number;
  readonly lC: number;
  readonly oR: number;
  readonly oC: number;
  /** Whether `S` is `A` (few rows) or `Bᵀ` (few columns). */
  readonly smallIsA: boolean;
  /**
   * The dot form with `S` not contiguous in `k` (as `W·X` with a few columns
   * of `X[k, j]`): `S` is first copied, row by row, into `s·k` floats of
   * scratch ({@link skinnyScratchBytes}), which is small beside `L`.
   */
  readonly packS: boolean;
  /**
   * The axpy form with one row of `S` and `L` a weight the backend stores in
   * column panels (wasm/panels.ts), read as one stream: set by the backend
   * that lays the weight out so, never by {@link skinnyPlan}.
   */
  readonly panels?: boolean;
}

/**
 * Scratch bytes a skinny product needs: the copy of `S` when the plan packs it.
 *
 * @example
 * ```ts
 * skinnyScratchBytes(skinnyPlan(wTimesFourColumns)!); // 4 * 4096 * 4
 * ```
 */
export function skinnyScratchBytes(p: SkinnyPlan): number {
  return p.packS ? p.s * p.k * 4 : 0;
}

/**
 * The skinny kernel for a contraction, or null when the micro-kernel runs
 * it, by arithmetic intensity and layout: in the axpy layout (the large
 * operand and the output contiguous in its columns), a product with at most
 * {@link AXPY_ROWS} rows on the small side, or up to
 * {@link SKINNY_MAX_ROWS} with a large operand of at least
 * {@link STREAMED_OPERAND_BYTES} (bound by the micro-kernel's strided
 * packing); in the dot layout (the large operand contiguous in `k`), at most
 * {@link MEMORY_BOUND_ROWS} (about 2 operations per row per element of the
 * large operand: bound by memory).
 *
 * @example
 * ```ts
 * skinnyPlan({ ...c, m: 1, n: 4096, k: 4096 })?.form; // "axpy" for x·W with W[k, j]
 * ```
 */
export function skinnyPlan(c: Contraction): SkinnyPlan | null {
  // A resumed sum adds each element's terms in k order from its start: the micro-kernel's order, not the skinny forms'.
  if (c.start !== undefined) return null;
  const byRows = c.m <= SKINNY_MAX_ROWS ? planOf(c, true) : null;
  const byCols = c.n <= SKINNY_MAX_ROWS ? planOf(c, false) : null;
  // Prefer the side with fewer rows: less reuse left on the table.
  if (byRows && byCols) return byRows.s <= byCols.s ? byRows : byCols;
  return byRows ?? byCols;
}

function planOf(c: Contraction, smallIsA: boolean): SkinnyPlan | null {
  const p: SkinnyPlan = smallIsA
    ? {
      form: "axpy", s: c.m, l: c.n, k: c.k, sR: c.a.rowStride, sK: c.a.kStride, lK: c.b.kStride, lC: c.b.colStride,
      oR: c.out.rowStride, oC: 1, smallIsA, packS: false,
    }
    : {
      form: "axpy", s: c.n, l: c.m, k: c.k, sR: c.b.colStride, sK: c.b.kStride, lK: c.a.kStride, lC: c.a.rowStride,
      oR: 1, oC: c.out.rowStride, smallIsA, packS: false,
    };
  if (p.l < 4) return null;
  const streamed = p.l * p.k * 4 >= STREAMED_OPERAND_BYTES;
  if (p.lC === 1 && p.oC === 1 && (p.s <= AXPY_ROWS || streamed)) return p;
  if (p.lK === 1 && p.k >= 4 && p.s <= MEMORY_BOUND_ROWS) return { ...p, form: "dot", packS: p.sK !== 1 };
  return null;
}

/** A weight a backend stores in column panels (wasm/panels.ts): its name and its `k` rows of `l` columns. */
export interface PanelWeight {
  readonly name: string;
  readonly k: number;
  readonly l: number;
}

/** A kernel (or def) as {@link panelWeights} sees it: the buffers it reads, and its skinny product, if it runs on one. */
export interface PanelReader {
  readonly reads: readonly string[];
  /** The float32 product the skinny kernel computes (its epilogue, if any, runs over its output), and the plan. */
  readonly product: { readonly contraction: Contraction; readonly plan: SkinnyPlan; readonly epilogue?: EpilogueContraction } | null;
}

/**
 * The weights a backend may store in column panels: float32 weights
 * (`allowed` by name) read only by one-row skinny products in the axpy
 * layout (`x·W` with `W[k, j]` row-major, unbatched) that read the whole
 * weight as their large operand and nothing else of it. The wasm backend
 * decides with it (emit.ts), and the cost model names those products'
 * kernel `skinny-panels` (src/passes/cost.ts).
 *
 *     before: weight W[1024, 4096]; y[i, j] = sum(k) x[i, k] * W[k, j] (x: 1 × 1024)
 *     after:  [{ name: "W", k: 1024, l: 4096 }]
 *
 * @example
 * ```ts
 * panelWeights(kp.buffers, kp.kernels.map((k, n) => ({ reads: k.reads, product: skinnyOf(n) })), () => true);
 * ```
 */
export function panelWeights(
  buffers: readonly Pick<KernelBuffer, "name" | "role" | "dtype" | "size">[], readers: readonly PanelReader[], allowed: (name: string) => boolean,
): PanelWeight[] {
  const out: PanelWeight[] = [];
  for (const b of buffers) {
    if (b.role !== "weight" || b.dtype !== "f32" || !allowed(b.name)) continue;
    const shapes = readers.filter((r) => r.reads.includes(b.name)).map((r) => panelRead(r, b.name, b.size));
    const first = shapes[0];
    if (first && shapes.every((s) => s !== null && s.k === first.k && s.l === first.l)) out.push({ name: b.name, ...first });
  }
  return out;
}

/** The shape in which a reader reads weight `name` (of `size` elements) as a one-row product's whole large operand in the axpy layout, or null when it reads it otherwise. */
function panelRead(reader: PanelReader, name: string, size: number): { k: number; l: number } | null {
  const thin = reader.product;
  if (thin === null) return null;
  const { contraction: c, plan: p } = thin;
  const large = p.smallIsA ? c.b : c.a;
  const small = p.smallIsA ? c.a : c.b;
  const whole = large.buffer === name && large.base.terms.length === 0 && large.base.constant === 0 && p.k * p.l === size;
  if (p.form !== "axpy" || p.s !== 1 || c.batch.length > 0 || !whole || p.lC !== 1 || p.lK !== p.l) return null;
  if (small.buffer === name || c.out.buffer === name || c.start !== undefined) return null;
  // The epilogue runs over the output, reading its own operands row-major.
  if (thin.epilogue && someKExpr(thin.epilogue.epilogue, (e) => (e.kind === "load" || e.kind === "gather") && e.buffer === name)) return null;
  return { k: p.k, l: p.l };
}
