/**
 * Register-blocked JavaScript for a recognised matrix product. Each block of
 * 4 rows × 4 columns of the output lives in 16 local accumulators while the
 * `k` loop streams 4 elements of `A` and 4 packed elements of `B` per step,
 * so every load feeds four multiply-adds instead of one:
 *
 *     before: for i: for k: t0 = A[i, k]; for j: C[i, j] += t0 * B[k, j]
 *     after:  for j += 4: P = B[:, j..j+3] packed
 *               for i += 4:
 *                 s00..s33 = 0; for k: x0..x3 = A[i..i+3, k]; y0..y3 = P[k, 0..3]; s_rc += x_r * y_c
 *                 C[i..i+3, j..j+3] = s00..s33
 *             (columns and rows that do not fill a block use narrower blocks)
 *
 * A constant `scale` (attention's `/ sqrt(d)`) multiplies each sum once as it
 * is stored, `C[..] = s00 * 0.125`, rather than every term in the `k` loop.
 *
 * Generated locals are spelled like `i0`, `s00`, `u1`, which `jsName` never
 * produces for a tns name, so they cannot capture a batch variable or buffer.
 */
import type { Contraction, KExpr } from "../kernel/types.js";
import { jsAffine, jsExprWith, jsNumber } from "./emit-expr.js";
import { jsName } from "./names.js";

/** Rows and columns of the register block. */
const MR = 4;
const NR = 4;

/**
 * Elementwise work applied to each sum as it is stored: `value` in terms of
 * the local standing for the (scaled) sum and of the output's row, column
 * and batch variables.
 */
export interface StoreEpilogue {
  readonly row: string;
  readonly col: string;
  readonly value: KExpr;
  /** Helper functions the module must define (`relu`), added to as the epilogue is emitted. */
  readonly helpers: Set<string>;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, r) => r);
const plus = (base: string, off: number): string => (off === 0 ? base : `${base} + ${off}`);

/** The `k` loop and stores for a block of `rows × cols` outputs: rows at offsets `a{r}`/`c{r}`, columns from the packed panel. */
function block(c: Contraction, rows: number, cols: number, ind: string, epilogue?: StoreEpilogue): string[] {
  const A = jsName(c.a.buffer);
  const C = jsName(c.out.buffer);
  const acc = (r: number, q: number): string => `s${r}${q}`;
  const scale = c.scale ?? 1;
  const scaledSum = (r: number, q: number): string => (scale === 1 ? acc(r, q) : `${acc(r, q)} * ${jsNumber(scale)}`);
  const at = (base: string, off: number): string => (off === 0 ? base : `(${base} + ${off})`);
  const scaled = (r: number, q: number): string => {
    if (!epilogue) return scaledSum(r, q);
    const index = (v: string): string => (v === epilogue.row ? at("i0", r) : v === epilogue.col ? at("j0", q) : jsName(v));
    return jsExprWith(epilogue.value, { index, local: () => (scale === 1 ? acc(r, q) : `(${scaledSum(r, q)})`) }, epilogue.helpers);
  };
  const out: string[] = [];
  const rowAt = (r: number): string => `u0 + ${r === 0 ? "i0" : `(i0 + ${r})`} * ${c.out.rowStride} + j0`;
  out.push(`${ind}const ${range(rows).map((r) => `a${r} = u1 + ${r === 0 ? "i0" : `(i0 + ${r})`} * ${c.a.rowStride}`).join(", ")};`);
  // A resumed sum starts from its start's elements (laid out as the output), then adds the terms in k order.
  const start = c.start === undefined ? null : jsName(c.start);
  if (start !== null) for (const r of range(rows)) out.push(`${ind}const c${r} = ${rowAt(r)};`);
  out.push(`${ind}let ${range(rows).flatMap((r) => range(cols).map((q) => `${acc(r, q)} = ${start === null ? "0" : `${start}[${plus(`c${r}`, q)}]`}`)).join(", ")};`);
  out.push(`${ind}for (let k0 = 0, v1 = 0, p0 = 0; k0 < ${c.k}; k0++, v1 += ${c.a.kStride}, p0 += ${cols}) {`);
  out.push(`${ind}  const ${range(rows).map((r) => `x${r} = ${A}[a${r} + v1]`).join(", ")};`);
  out.push(`${ind}  const ${range(cols).map((q) => `y${q} = P[${plus("p0", q)}]`).join(", ")};`);
  for (const r of range(rows)) out.push(`${ind}  ${range(cols).map((q) => `${acc(r, q)} += x${r} * y${q};`).join(" ")}`);
  out.push(`${ind}}`);
  for (const r of range(rows)) {
    if (start === null) out.push(`${ind}const c${r} = ${rowAt(r)};`);
    out.push(`${ind}${range(cols).map((q) => `${C}[${plus(`c${r}`, q)}] = ${scaled(r, q)};`).join(" ")}`);
  }
  return out;
}

/**
 * One column panel of width `cols` starting at `j0`: pack it, then run every
 * row block over it. The copy reads `B` through both of its strides, so a
 * transposed `B` (`B[j, k]`) packs in the same single pass, from `cols` rows at once.
 */
function panel(c: Contraction, j0: string, cols: number, ind: string, epilogue?: StoreEpilogue): string[] {
  const B = jsName(c.b.buffer);
  const out: string[] = [];
  const col = c.b.colStride;
  const copies = range(cols).map((q) => `P[${plus("p0", q)}] = ${B}[${plus("v2", q * col)}];`).join(" ");
  const first = col === 1 ? j0 : `${j0} * ${col}`;
  out.push(`${ind}for (let k0 = 0, v2 = u2 + ${first}, p0 = 0; k0 < ${c.k}; k0++, v2 += ${c.b.kStride}, p0 += ${cols}) {`);
  out.push(`${ind}  ${copies}`, `${ind}}`);
  const full = c.m - (c.m % MR);
  if (full > 0) out.push(`${ind}for (let i0 = 0; i0 < ${full}; i0 += ${MR}) {`, ...block(c, MR, cols, ind + "  ", epilogue), `${ind}}`);
  if (full < c.m) out.push(`${ind}for (let i0 = ${full}; i0 < ${c.m}; i0++) {`, ...block(c, 1, cols, ind + "  ", epilogue), `${ind}}`);
  return out;
}

/**
 * The body of a kernel function computing a contraction with register
 * blocking. Columns of `B` are first copied into a contiguous float64 panel
 * (`P`, `k` rows of at most 4 columns) so the `k` loop reads consecutive
 * memory whatever the strides of `B` (a power-of-two stride would
 * otherwise thrash the cache, and a transposed `B` has no contiguous rows).
 * With an `epilogue`, each sum goes through it as it is stored
 * (`C[..] = relu(b[j0 + 1] + s01)`), so the elementwise work costs no pass
 * of its own.
 *
 * @example
 * ```ts
 * emitContraction(kernel.contraction!, "  ").join("\n"); // "  const P = new Float64Array(1024); ..."
 * ```
 */
export function emitContraction(c: Contraction, indent: string, epilogue?: StoreEpilogue): string[] {
  const out: string[] = [`${indent}const P = new Float64Array(${c.k * Math.min(NR, c.n)});`];
  let ind = indent;
  for (const b of c.batch) {
    const v = jsName(b.var);
    out.push(`${ind}for (let ${v} = 0; ${v} < ${b.extent}; ${v}++) {`);
    ind += "  ";
  }
  out.push(`${ind}const u0 = ${jsAffine(c.out.base)}, u1 = ${jsAffine(c.a.base)}, u2 = ${jsAffine(c.b.base)};`);
  const full = c.n - (c.n % NR);
  if (full > 0) out.push(`${ind}for (let j0 = 0; j0 < ${full}; j0 += ${NR}) {`, ...panel(c, "j0", NR, ind + "  ", epilogue), `${ind}}`);
  if (full < c.n) out.push(`${ind}{`, `${ind}  const j0 = ${full};`, ...panel(c, "j0", c.n - full, ind + "  ", epilogue), `${ind}}`);
  for (let d = c.batch.length; d > 0; d--) {
    ind = ind.slice(2);
    out.push(`${ind}}`);
  }
  return out;
}
