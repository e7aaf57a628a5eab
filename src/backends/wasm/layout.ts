/**
 * The static memory arena of a WebAssembly module: every buffer gets a byte
 * offset at compile time, 16-byte aligned. Inputs, weights and outputs (and
 * anything the program returns) own their space; a temporary lives from the
 * kernel that writes it to the last kernel that reads it, and temporaries
 * whose lifetimes do not overlap share space:
 *
 *     before: kernels S (reads X), E (reads S), T (reads E), O (reads T)
 *     after:  X @0, O @64 (own space); S @128 [0..1], E @256 [1..2], T @128 [2..3]
 *             (T reuses S's bytes: S's last reader, kernel E, ran before T is written)
 *
 * Kernels may also ask for scratch space (a packed panel of a matrix product),
 * alive during that kernel only.
 */
import type { DType } from "../../ir/types.js";
import type { KernelProgram } from "../kernel/types.js";

/** Bytes per element of each element type. */
export const BYTES: Readonly<Record<DType, number>> = { f32: 4, f64: 8, i32: 4 };

/** The placement of every buffer and each kernel's scratch space. */
export interface ArenaLayout {
  /** Byte offset of every buffer, by name. */
  readonly offsets: ReadonlyMap<string, number>;
  /** Byte offset of each kernel's scratch space (by kernel position); absent when it needs none. */
  readonly scratch: ReadonlyMap<number, number>;
  /** Total bytes, a multiple of 16. */
  readonly bytes: number;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

interface Interval { readonly start: number; readonly end: number; readonly bytes: number; readonly key: string }

/** First-fit placement of intervals: the lowest offset not overlapping any live interval already placed. */
function placeIntervals(items: readonly Interval[], base: number): { offsets: Map<string, number>; end: number } {
  const placed: { lo: number; hi: number; start: number; end: number }[] = [];
  const offsets = new Map<string, number>();
  let end = base;
  for (const it of items) {
    const live = placed.filter((p) => p.start <= it.end && it.start <= p.end).sort((a, b) => a.lo - b.lo);
    let lo = base;
    for (const p of live) {
      if (lo + align16(it.bytes) <= p.lo) break;
      lo = Math.max(lo, p.hi);
    }
    placed.push({ lo, hi: lo + align16(it.bytes), start: it.start, end: it.end });
    offsets.set(it.key, lo);
    end = Math.max(end, lo + align16(it.bytes));
  }
  return { offsets, end };
}

/**
 * Lays out the arena. `scratchBytes(k)` is the scratch a kernel at position
 * `k` needs (0 for none).
 *
 * @example
 * ```ts
 * const layout = layoutArena(kp, () => 0);
 * layout.offsets.get("A"); // 0
 * layout.bytes % 16; // 0
 * ```
 */
export function layoutArena(kp: KernelProgram, scratchBytes: (kernel: number) => number = () => 0): ArenaLayout {
  const returned = new Set(kp.outputs);
  const offsets = new Map<string, number>();
  let top = 0;
  for (const b of kp.buffers) {
    if (b.role === "temp" && !returned.has(b.name)) continue;
    offsets.set(b.name, top);
    top += align16(b.size * BYTES[b.dtype]);
  }
  const writer = new Map<string, number>();
  const lastRead = new Map<string, number>();
  kp.kernels.forEach((k, n) => {
    writer.set(k.target, n);
    for (const r of k.reads) lastRead.set(r, n);
  });
  const items: Interval[] = [];
  for (const b of kp.buffers) {
    if (offsets.has(b.name)) continue;
    const start = writer.get(b.name) ?? 0;
    items.push({ key: `buffer:${b.name}`, start, end: Math.max(start, lastRead.get(b.name) ?? start), bytes: Math.max(1, b.size * BYTES[b.dtype]) });
  }
  kp.kernels.forEach((_, n) => {
    const bytes = scratchBytes(n);
    if (bytes > 0) items.push({ key: `scratch:${n}`, start: n, end: n, bytes });
  });
  items.sort((a, b) => a.start - b.start || b.bytes - a.bytes);
  const shared = placeIntervals(items, top);
  const scratch = new Map<number, number>();
  for (const [key, off] of shared.offsets) {
    if (key.startsWith("buffer:")) offsets.set(key.slice("buffer:".length), off);
    else scratch.set(Number(key.slice("scratch:".length)), off);
  }
  return { offsets, scratch, bytes: align16(Math.max(shared.end, 16)) };
}
