/**
 * Buffer pooling for the WebGPU backend: intermediates and outputs whose
 * lifetimes over the dispatch schedule do not overlap share one GPU buffer.
 * Inputs and weights keep buffers of their own (they are written before a
 * run); an intermediate, or a two-pass reduction's scratch space, lives
 * from the first dispatch that writes it to the last one that binds it, an
 * output from its first dispatch to the end of the run (it is read back
 * after the last dispatch). Intermediates are pooled two ways, and the one with fewer bytes
 * kept: in order of their first dispatch, each into the smallest free
 * buffer that holds it, else into the largest free one (grown to fit), else
 * into a new one; and largest first, each into the smallest pool whose
 * buffers are all dead while it lives, else into a new one.
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
  const own: { name: string; bytes: number }[] = [];
  const home: Record<string, string> = {};
  const shared = (b: WgslBuffer): boolean => b.role === "temp" || b.role === "scratch" || b.role === "output";
  for (const b of buffers) {
    if (!shared(b)) {
      own.push({ name: b.name, bytes: bytesOf(b) });
      home[b.name] = b.name;
    }
  }
  // An output is read back after the last dispatch: it holds its pool from its first dispatch to the end.
  const end = dispatches.length;
  const pooled = buffers.filter(shared).map((b) => {
    const span = spans.get(b.name) ?? { first: -1, last: -1 };
    return { name: b.name, bytes: bytesOf(b), span: b.role === "output" ? { first: span.first, last: end } : span };
  });
  const inOrder = poolInOrder(pooled);
  const bySize = poolBySize(pooled);
  const best = bySize.bytes < inOrder.bytes ? bySize : inOrder;
  const storage = [...own, ...best.pools.map((bytes, k) => ({ name: `#pool${k}`, bytes }))];
  best.home.forEach((k, name) => { home[name] = `#pool${k}`; });
  const bytes = storage.reduce((n, s) => n + s.bytes, 0);
  const unpooledBytes = buffers.reduce((n, b) => n + bytesOf(b), 0);
  return { storage, home, bytes, unpooledBytes };
}

interface Pooled { readonly name: string; readonly bytes: number; readonly span: { readonly first: number; readonly last: number } }
interface Pooling { readonly pools: number[]; readonly home: Map<string, number>; readonly bytes: number }

/**
 * In order of first dispatch: each buffer into the smallest free pool that
 * holds it, else the largest free one (grown to fit), else a new one.
 */
function poolInOrder(pooled: readonly Pooled[]): Pooling {
  const order = [...pooled].sort((x, y) => x.span.first - y.span.first || y.bytes - x.bytes);
  const pools: number[] = [];
  const busyUntil: number[] = [];
  const home = new Map<string, number>();
  for (const b of order) {
    const free = pools.map((_, k) => k).filter((k) => busyUntil[k]! < b.span.first);
    const fits = free.filter((k) => pools[k]! >= b.bytes).sort((x, y) => pools[x]! - pools[y]!);
    const grown = free.sort((x, y) => pools[y]! - pools[x]!);
    let k = fits[0] ?? grown[0];
    if (k === undefined) {
      k = pools.length;
      pools.push(b.bytes);
      busyUntil.push(-1);
    }
    pools[k] = Math.max(pools[k]!, b.bytes);
    busyUntil[k] = Math.max(b.span.last, b.span.first);
    home.set(b.name, k);
  }
  return { pools, home, bytes: pools.reduce((a, x) => a + x, 0) };
}

/**
 * Largest first (as TFLite's greedy-by-size shared objects): each buffer
 * into the smallest pool, made for a larger buffer, none of whose buffers
 * is live at the same time as it, else a new pool of its own size; pools
 * never grow.
 */
function poolBySize(pooled: readonly Pooled[]): Pooling {
  const order = [...pooled].sort((x, y) => y.bytes - x.bytes || x.span.first - y.span.first);
  const pools: number[] = [];
  const members: { first: number; last: number }[][] = [];
  const home = new Map<string, number>();
  for (const b of order) {
    const last = Math.max(b.span.last, b.span.first);
    let best = -1;
    for (let k = 0; k < pools.length; k++) {
      if (members[k]!.some((m) => m.first <= last && b.span.first <= m.last)) continue;
      if (best < 0 || pools[k]! < pools[best]!) best = k;
    }
    if (best < 0) {
      best = pools.length;
      pools.push(b.bytes);
      members.push([]);
    }
    members[best]!.push({ first: b.span.first, last });
    home.set(b.name, best);
  }
  return { pools, home, bytes: pools.reduce((a, x) => a + x, 0) };
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
