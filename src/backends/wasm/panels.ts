/**
 * Weights stored in column panels. A float32 weight of `k` rows and `l`
 * columns whose only readers are one-row skinny products `y = x·W`
 * (decoding one token, scoring one sample; which weights: `panelWeights` in
 * kernel/skinny.ts) is laid out in the module's memory panel by panel: the
 * first {@link PANEL_COLUMNS} columns of every row, then the next 32, and so
 * on, each panel `k` rows of 32 floats, one after the other. The skinny
 * kernel (emit-skinny.ts) then reads the whole weight as one stream, in
 * memory order, with a panel's 32 sums in registers over all of `k`, and
 * writes each output once:
 *
 *     before: W[r, j] at byte 4·(l·r + j)                (row-major)
 *     after:  W[r, j] at byte 4·(32·k·p + 32·r + q)      for j = 32·p + q in the full panels;
 *             the last (l mod 32) columns: a panel of their multiple of 4, then one of the rest (< 4)
 *
 * The data is rearranged once, when the weights are copied into memory
 * (load.ts, and the standalone loader's embedded data), as TensorFlow.js's
 * XNNPACK backend packs a matrix product's second operand once per tensor.
 * The weight keeps its size, so the memory plan does not change. Only
 * weights qualify: an input is new at every run, and rearranging it would
 * read and write it once more than the product reads it.
 *
 * The panels cover the columns in order and every element is stored once,
 * so `packPanels` is a permutation; the kernel IR still describes the
 * row-major weight (its loop nests are the reference), and only the wasm
 * module's memory holds the panels.
 */
/**
 * Columns of a full panel: 8 float32x4 sums kept in registers. Against the
 * spaced row passes of the axpy form, one row of `x` (in one process, tfjs
 * as the yardstick, plain 256 MiB read at 3 GB/s, a busy machine): 1 × 1024
 * × 4096 1.30–1.51× against 1.11–1.25×, 1 × 4096 × 4096 1.37–1.44× against
 * 0.95–1.21×, 1 × 1000 × 3072 1.55× against 1.18–1.27×. Panels of 8 and
 * 16 columns were slower than 32 (1.04–1.42×), 64 columns (16 sums, which
 * V8 spills) too (0.92–1.21×).
 */
export const PANEL_COLUMNS = 32;

/**
 * The blocks of a `k × l` weight in panels, in memory order: `full` panels
 * of {@link PANEL_COLUMNS} columns, then one of `vector` columns (a
 * multiple of 4, fewer than 32), then one of the `scalar` last columns
 * (fewer than 4). Each block is `k` rows of its width; the element offsets
 * at which the last two start are `rest` and `tail`.
 *
 * @example
 * ```ts
 * panelBlocks(2, 75); // { full: 2, vector: 8, scalar: 3, rest: 128, tail: 144 }
 * ```
 */
export function panelBlocks(k: number, l: number): { full: number; vector: number; scalar: number; rest: number; tail: number } {
  const full = Math.floor(l / PANEL_COLUMNS);
  const left = l - full * PANEL_COLUMNS;
  const vector = left - (left % 4);
  const rest = full * PANEL_COLUMNS * k;
  return { full, vector, scalar: left - vector, rest, tail: rest + vector * k };
}

/**
 * Rows of the source {@link packPanels} copies into every panel before it
 * moves on: a block of 16 rows stays in cache while it is spread over the
 * panels (4096 × 4096 from float64: 30–90 ms, against 98–165 ms one panel
 * at a time, reading the source a row apart for every 32 elements).
 */
const PACK_ROWS = 16;

/**
 * Writes the row-major `k × l` matrix `src` into `dst` in column panels
 * (see the header); `dst` has `k·l` elements.
 *
 * @example
 * ```ts
 * const dst = new Float32Array(4 * 40);
 * packPanels(Float32Array.from({ length: 160 }, (_, q) => q), 4, 40, dst);
 * dst[32]; // 40: row 1, column 0 (the first panel's second row)
 * ```
 */
export function packPanels(src: ArrayLike<number>, k: number, l: number, dst: { [q: number]: number; readonly length: number }): void {
  const { full, vector, scalar, rest, tail } = panelBlocks(k, l);
  // Each block: its first column, its width and where it starts in dst.
  const blocks: (readonly [number, number, number])[] = Array.from({ length: full }, (_, p) => [p * PANEL_COLUMNS, PANEL_COLUMNS, p * PANEL_COLUMNS * k] as const);
  if (vector > 0) blocks.push([full * PANEL_COLUMNS, vector, rest]);
  if (scalar > 0) blocks.push([full * PANEL_COLUMNS + vector, scalar, tail]);
  for (let r0 = 0; r0 < k; r0 += PACK_ROWS) {
    const r1 = Math.min(k, r0 + PACK_ROWS);
    for (const [c0, width, start] of blocks) {
      let at = start + r0 * width;
      for (let r = r0; r < r1; r++) {
        const from = r * l + c0;
        for (let q = 0; q < width; q++) dst[at++] = src[from + q]!;
      }
    }
  }
}
