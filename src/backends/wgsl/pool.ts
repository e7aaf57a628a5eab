/**
 * Buffer pooling for the WebGPU backend: intermediates whose lifetimes over
 * the dispatch schedule do not overlap share one GPU buffer. Inputs, weights
 * and outputs keep buffers of their own (inputs are written before a run,
 * outputs read after it); an intermediate, or a two-pass reduction's scratch
 * space, lives from the first dispatch that writes it to the last one that
 * binds it. Intermediates are placed in order of their first dispatch, each
 * into the smallest free buffer that holds it, else into the largest free
 * one (grown to fit), else into a new one.
 *
 *     dispatches: A = exp(X) ; B = A * 2 ; C = B + 1 ; output D = C * 3
 *     lifetimes:  A [0, 1]  B [1, 2]  C [2, 3]
 *     pooled:     A → #pool0, B → #pool1, C → #pool0 (A is dead by then)
 *
 * A buffer is bound with its own tensor's size at offset 0, so a shared GPU
 * buffer never shows a kernel more than its tensor.
 */
import { ARENA_ALIGNMENT, type BufferLifetime, type MemoryPlan } from "../kernel/memory-plan.js";
import type { WgslBuffer, WgslDispatch, WgslProgram } from "./types.js";

/** Where each buffer of a plan lives: its own GPU buffer, or a pooled one shared with others. */
export interface BufferPool {
  /** The GPU buffers to create: a name and a size in bytes. */
  readonly storage: readonly { readonly name: string; readonly bytes: number }[];
  /** The GPU buffer of every plan buffer, by name. */
  readonly home: Readonly<Record<string, string>>;
  /** Bytes of all storage: the planned peak of the device memory a run uses. */
  readonly bytes: number;
  /** Bytes with one GPU buffer per tensor: the peak without pooling. */
  readonly unpooledBytes: number;
}

/** The dispatch positions at which each buffer is bound. */
function lifetimes(dispatches: readonly WgslDispatch[]): Map<string, { first: number; last: number }> {
  const spans = new Map<string, { first: number; last: number }>();
  dispatches.forEach((d, n) => {
    const names = [...d.bindings.map((b) => b.buffer), ...(d.pack?.parts.map((p) => p.buffer) ?? [])];
    for (const name of names) {
      const span = spans.get(name);
      if (span) span.last = n;
      else spans.set(name, { first: n, last: n });
    }
  });
  return spans;
}

/**
 * Assigns the buffers of a plan to GPU buffers.
 *
 * @example
 * ```ts
 * const pool = poolBuffers(plan.buffers, plan.dispatches);
 * pool.bytes <= pool.unpooledBytes; // true
 * ```
 */
export function poolBuffers(buffers: readonly WgslBuffer[], dispatches: readonly WgslDispatch[]): BufferPool {
  // GPU buffers are allocated in multiples of 16 bytes (the arena's alignment), so the plan is what a run allocates.
  const bytesOf = (b: WgslBuffer): number => Math.ceil(Math.max(4, b.size * 4) / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;
  const spans = lifetimes(dispatches);
  const storage: { name: string; bytes: number }[] = [];
  const home: Record<string, string> = {};
  for (const b of buffers) {
    if (b.role !== "temp" && b.role !== "scratch") {
      storage.push({ name: b.name, bytes: bytesOf(b) });
      home[b.name] = b.name;
    }
  }
  const pooled = buffers
    .filter((b) => b.role === "temp" || b.role === "scratch")
    .map((b) => ({ buffer: b, span: spans.get(b.name) ?? { first: -1, last: -1 } }))
    .sort((x, y) => x.span.first - y.span.first || bytesOf(y.buffer) - bytesOf(x.buffer));
  /** Pooled GPU buffers: their index in `storage` and the last dispatch that uses them so far. */
  const pools: { index: number; busyUntil: number }[] = [];
  for (const { buffer, span } of pooled) {
    const need = bytesOf(buffer);
    const free = pools.filter((p) => p.busyUntil < span.first);
    const fits = free.filter((p) => storage[p.index]!.bytes >= need).sort((a, b) => storage[a.index]!.bytes - storage[b.index]!.bytes);
    const grown = free.sort((a, b) => storage[b.index]!.bytes - storage[a.index]!.bytes);
    let pool = fits[0] ?? grown[0];
    if (!pool) {
      pool = { index: storage.length, busyUntil: -1 };
      storage.push({ name: `#pool${pools.length}`, bytes: need });
      pools.push(pool);
    }
    const s = storage[pool.index]!;
    storage[pool.index] = { name: s.name, bytes: Math.max(s.bytes, need) };
    pool.busyUntil = Math.max(span.last, span.first);
    home[buffer.name] = s.name;
  }
  const bytes = storage.reduce((n, s) => n + s.bytes, 0);
  const unpooledBytes = buffers.reduce((n, b) => n + bytesOf(b), 0);
  return { storage, home, bytes, unpooledBytes };
}

/**
 * The device memory of a plan as a {@link MemoryPlan}, so that the memory
 * report and rematerialization under `--memory-budget` see what a WebGPU run
 * allocates: the GPU buffers laid out one after another (inputs and weights
 * first, each at a multiple of 16 bytes), every buffer at the offset of the
 * GPU buffer it lives in, lifetimes over the dispatches, and the buffers
 * of packed bindings (one per dispatch that has one, kept for the whole
 * run) on top. Pooling has no in-place updates and no other scratch space.
 *
 * @example
 * ```ts
 * wgslMemoryPlan(plan).bytes; // the bytes of plan.storage, each rounded up to 16
 * ```
 */
export function wgslMemoryPlan(plan: WgslProgram): MemoryPlan {
  const align = (n: number): number => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;
  const persistent = new Set(plan.buffers.filter((b) => b.role === "input" || b.role === "weight").map((b) => b.name));
  const order = [...plan.storage].sort((a, b) => Number(persistent.has(b.name)) - Number(persistent.has(a.name)));
  const at = new Map<string, number>();
  let bytes = 0;
  let persistentBytes = 0;
  for (const s of order) {
    at.set(s.name, bytes);
    bytes += align(s.bytes);
    if (persistent.has(s.name)) persistentBytes = bytes;
  }
  const spans = lifetimes(plan.dispatches);
  const end = plan.dispatches.length;
  const returned = new Set(plan.outputs);
  const lifetimesOf: BufferLifetime[] = plan.buffers.map((b) => {
    const span = spans.get(b.name) ?? { first: 0, last: 0 };
    const size = align(Math.max(4, 4 * b.size));
    if (persistent.has(b.name)) return { name: b.name, bytes: size, first: -1, last: end, persistent: true };
    return { name: b.name, bytes: size, first: span.first, last: returned.has(b.name) ? end : span.last, persistent: false };
  });
  // A dispatch's packed binding (several small reads in one buffer) has a GPU buffer of its own, made once and kept: counted for the whole run.
  const packBytes = plan.dispatches.reduce((n, d) => n + (d.pack ? align(4 * d.pack.words) : 0), 0);
  bytes += packBytes;
  let liveBytes = persistentBytes + packBytes;
  for (let n = 0; n < end; n++) {
    const live = lifetimesOf.filter((l) => !l.persistent && l.first <= n && n <= l.last).reduce((s, l) => s + l.bytes, 0);
    liveBytes = Math.max(liveBytes, persistentBytes + packBytes + live);
  }
  return {
    offsets: new Map(plan.buffers.map((b) => [b.name, at.get(plan.home[b.name]!)!])),
    scratch: new Map(), scratchBytes: new Map(),
    bytes: Math.max(ARENA_ALIGNMENT, bytes), persistentBytes, liveBytes,
    unplannedBytes: plan.buffers.reduce((n, b) => n + align(Math.max(4, 4 * b.size)), 0) + packBytes,
    inPlace: [], lifetimes: lifetimesOf,
  };
}
