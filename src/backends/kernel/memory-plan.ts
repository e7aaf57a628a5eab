/**
 * The memory planner: liveness over the kernel schedule, in-place updates
 * where they are legal, and one static arena in which every buffer gets a
 * byte offset at compile time (16-byte aligned, as the wasm SIMD kernels
 * need). It is backend-neutral: the js runtime allocates one ArrayBuffer of
 * the plan's size, the wasm backend sizes its memory by it, and any backend
 * can take {@link bufferLifetimes} alone to pool buffers its own way.
 *
 *     kernels:  S = X * 2 ; E = S + 1 ; O[i] = sum(j) E[i, j] ; P[i] = O[i] * 3
 *     liveness: X, input: whole run; S [0, 1]; E [1, 2]; O, output: [2, end]; P [3, end]
 *     in place: E over S (E reads S only at the element it writes, and S dies there)
 *     arena:    X @0 | S = E @64 | O @128 | P @144      (the peak: 160 bytes, not 208)
 *
 * Invariants of a plan (tested on random programs): two buffers that are
 * live at the same kernel never share a byte, except a kernel's target and
 * the operand it updates in place; inputs and weights occupy the bottom of
 * the arena, `[0, persistentBytes)`, for the whole run, since the caller
 * writes inputs before a run (and may keep them there, `inputBuffer`); an
 * output lives from its kernel to the end of the run; scratch space of a
 * kernel is live during that kernel only.
 *
 * Donated inputs (`KernelProgram.donated`, JAX's `donate_argnums`) are the
 * exception: the caller gives their storage up for the run, so each is a
 * buffer of the arena above `persistentBytes`, live from before the first
 * kernel to its last reader, and an elementwise update of it (an SGD step
 * `W_next[i, j] = W[i, j] - lr * G[i, j]`, also as the epilogue of a matrix
 * product) is written over it in place when nothing reads it afterwards:
 *
 *     kernels:  H = relu(X · W) ; G = f(H) ; W_next = W - 0.1 · Xᵀ G
 *     kept:     X, W @ bottom, whole run;  W_next its own 32 KiB
 *     donated:  W from the start to W_next, W_next over W (in place)
 */
import type { Affine, DType } from "../../ir/types.js";
import type { KernelProgram, Stmt, KExpr, Kernel } from "./types.js";
import { visitKExpr } from "./walk.js";
import { skinnyPlan } from "./skinny.js";

/** Bytes per element of each element type. */
const ELEMENT_BYTES = { f32: 4, f64: 8, i32: 4 } as const;

/** The alignment of every buffer in the arena: one SIMD128 vector. */
export const ARENA_ALIGNMENT = 16;

const align = (n: number): number => Math.ceil(n / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;

/** When a buffer holds a value: from kernel `first` through kernel `last` (-1: before the first kernel; `kernels.length`: after the last). */
export interface BufferLifetime {
  readonly name: string;
  /** Bytes rounded up to {@link ARENA_ALIGNMENT}. */
  readonly bytes: number;
  readonly first: number;
  readonly last: number;
  /** Inputs and weights: live for the whole run, at the bottom of the arena (not donated inputs). */
  readonly persistent: boolean;
  /** Set on a donated input: live from before the first kernel (`first` -1) to its last reader. */
  readonly donated?: true;
}

/** A kernel that writes its target over an operand that dies in it. */
export interface InPlaceUpdate {
  readonly kernel: number;
  readonly target: string;
  readonly over: string;
}

/** Where every buffer and every kernel's scratch space lives. */
export interface MemoryPlan {
  /** Byte offset of every buffer, by name. */
  readonly offsets: ReadonlyMap<string, number>;
  /** Byte offset of each kernel's scratch space (by kernel position); absent when it needs none. */
  readonly scratch: ReadonlyMap<number, number>;
  /** Bytes of each kernel's scratch space (aligned), by kernel position; absent when it needs none. */
  readonly scratchBytes: ReadonlyMap<number, number>;
  /** The arena's size: the planned peak, a multiple of 16 (at least 16). */
  readonly bytes: number;
  /** Bytes of inputs and weights, at `[0, persistentBytes)`. */
  readonly persistentBytes: number;
  /** The most bytes live at one kernel (a lower bound of `bytes`; the difference is fragmentation). */
  readonly liveBytes: number;
  /** What the buffers and scratch spaces take when none shares space: the peak before planning. */
  readonly unplannedBytes: number;
  readonly inPlace: readonly InPlaceUpdate[];
  readonly lifetimes: readonly BufferLifetime[];
  /** Where {@link liveBytes} is reached and what is held there (absent from plans that do not say, as WGSL's pool). */
  readonly peak?: PeakKernel;
}

/** The kernel at which a plan's live bytes peak, and the buffers held there, largest first. */
export interface PeakKernel {
  /** The kernel's position: -1 before the first kernel (donated inputs), the kernel count after the last. */
  readonly kernel: number;
  /** The buffer the kernel writes (null before the first kernel or after the last). */
  readonly target: string | null;
  /** Buffers live there: inputs and weights, then temporaries and outputs (several names share one place when written over each other), and scratch. */
  readonly held: readonly { readonly names: readonly string[]; readonly bytes: number }[];
}

/** Options of {@link planMemory}. */
export interface MemoryPlanOptions {
  /** Scratch bytes the kernel at a position needs while it runs (default none). */
  readonly scratchBytes?: (kernel: number) => number;
  /** Let a kernel write its target over an operand that dies there, where legal (default true). */
  readonly inPlace?: boolean;
}

/**
 * The lifetime of every buffer over the kernel schedule, in buffer order.
 *
 * @example
 * ```ts
 * bufferLifetimes(kp).find((b) => b.name === "S"); // { name: "S", bytes: 64, first: 0, last: 1, persistent: false }
 * ```
 */
export function bufferLifetimes(kp: KernelProgram): BufferLifetime[] {
  const end = kp.kernels.length;
  const returned = new Set(kp.outputs);
  const donated = new Set(kp.donated ?? []);
  const writer = new Map<string, number>();
  const lastRead = new Map<string, number>();
  kp.kernels.forEach((k, n) => {
    if (!writer.has(k.target)) writer.set(k.target, n);
    for (const r of k.reads) lastRead.set(r, n);
  });
  return kp.buffers.map((b) => {
    const bytes = align(Math.max(1, b.size * ELEMENT_BYTES[b.dtype]));
    if (b.role === "input" && donated.has(b.name)) {
      return { name: b.name, bytes, first: -1, last: lastRead.get(b.name) ?? -1, persistent: false, donated: true };
    }
    if (b.role === "input" || b.role === "weight") return { name: b.name, bytes, first: -1, last: end, persistent: true };
    const first = writer.get(b.name) ?? 0;
    const last = returned.has(b.name) ? end : Math.max(first, lastRead.get(b.name) ?? first);
    return { name: b.name, bytes, first, last, persistent: false };
  });
}

/**
 * Plans the arena of a kernel program.
 *
 * @example
 * ```ts
 * const plan = planMemory(lowerToKernels(program));
 * plan.bytes <= plan.unplannedBytes; // true
 * plan.offsets.get("X"); // 0: inputs first
 * ```
 */
export function planMemory(kp: KernelProgram, options: MemoryPlanOptions = {}): MemoryPlan {
  const lifetimes = bufferLifetimes(kp);
  const byName = new Map(lifetimes.map((l) => [l.name, l]));
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  const offsets = new Map<string, number>();
  let persistentBytes = 0;
  for (const l of lifetimes) {
    if (!l.persistent) continue;
    offsets.set(l.name, persistentBytes);
    persistentBytes += l.bytes;
  }
  // A recurrence's reads of earlier steps sit under a guard that kernels may
  // evaluate early (a hoisted reduction, wasm's two-armed select): its slot
  // starts with that many bytes of slack, so such a read stays in the arena.
  const lead = recurrenceLeads(kp, dtypes);
  // Slots: a buffer, or a chain of buffers each updated in place over the previous one.
  const slotOf = new Map<string, Slot>();
  const slots: Slot[] = [];
  const inPlace: InPlaceUpdate[] = [];
  for (const l of lifetimes) {
    if (l.persistent) continue;
    const n = l.first;
    const kernel = l.donated ? undefined : kp.kernels[n];
    const over = options.inPlace === false || kernel === undefined || kernel.target !== l.name || lead.has(l.name)
      ? undefined
      : kernel.reads.find((r) => {
        const s = slotOf.get(r);
        const o = byName.get(r);
        return s !== undefined && o !== undefined && !lead.has(r) && s.last === n && o.last === n && s.bytes >= l.bytes
          && ELEMENT_BYTES[dtypes.get(r)!] === ELEMENT_BYTES[dtypes.get(l.name)!] && updatesInPlace(kernel, r);
      });
    if (over !== undefined) {
      const slot = slotOf.get(over)!;
      slot.last = l.last;
      slot.members.push(l.name);
      slotOf.set(l.name, slot);
      inPlace.push({ kernel: n, target: l.name, over });
      continue;
    }
    const slot: Slot = { key: l.name, first: l.first, last: l.last, bytes: l.bytes + (lead.get(l.name) ?? 0), members: [l.name] };
    slots.push(slot);
    slotOf.set(l.name, slot);
  }
  const scratchItems: Slot[] = [];
  kp.kernels.forEach((_, n) => {
    const bytes = options.scratchBytes?.(n) ?? 0;
    if (bytes > 0) scratchItems.push({ key: `#scratch${n}`, first: n, last: n, bytes: align(bytes), members: [] });
  });
  const items = [...slots, ...scratchItems];
  const placed = bestPlacement(items, persistentBytes);
  const scratch = new Map<number, number>();
  const scratchBytes = new Map(scratchItems.map((it) => [Number(it.key.slice("#scratch".length)), it.bytes]));
  for (const it of items) {
    const off = placed.offsets.get(it.key)!;
    if (it.members.length === 0) scratch.set(Number(it.key.slice("#scratch".length)), off);
    for (const m of it.members) offsets.set(m, off + (lead.get(m) ?? 0));
  }
  const unplannedBytes = lifetimes.reduce((a, l) => a + l.bytes, 0) + scratchItems.reduce((a, s) => a + s.bytes, 0);
  const peak = peakKernel(items, kp, lifetimes);
  return {
    offsets, scratch, scratchBytes, bytes: align(Math.max(placed.end, ARENA_ALIGNMENT)), persistentBytes,
    liveBytes: persistentBytes + peak.liveBytes, unplannedBytes, inPlace, lifetimes, peak: peak.kernel,
  };
}

/**
 * The slack each recurrence's slot needs before its buffer: the bytes by
 * which its reads of itself may fall below its start (at the first steps,
 * where the base-case guard discards what they read).
 */
function recurrenceLeads(kp: KernelProgram, dtypes: ReadonlyMap<string, DType>): Map<string, number> {
  const lead = new Map<string, number>();
  for (const k of kp.kernels) {
    if (k.sequential === undefined) continue;
    const extents = new Map<string, number>();
    let lowest = 0;
    const load = (e: KExpr): void => visitKExpr(e, (x) => {
      if (x.kind !== "load" || x.buffer !== k.target) return;
      let min = x.offset.constant;
      for (const t of x.offset.terms) min += Math.min(0, t.coef * ((extents.get(t.var) ?? 1) - 1));
      lowest = Math.min(lowest, min);
    });
    const walk = (stmts: readonly Stmt[]): void => {
      for (const s of stmts) {
        if (s.kind === "loop") { extents.set(s.var, s.extent); walk(s.body); }
        else if (s.kind === "let" || s.kind === "update" || s.kind === "store") load(s.value);
      }
    };
    walk(k.body);
    if (lowest < 0) lead.set(k.target, align(-lowest * ELEMENT_BYTES[dtypes.get(k.target) ?? "f64"]));
  }
  return lead;
}

interface Slot { readonly key: string; readonly first: number; last: number; bytes: number; readonly members: string[] }

/**
 * The most bytes of `items` live at one kernel, and the first kernel where
 * they are, with what is held there (the persistent buffers included).
 */
function peakKernel(items: readonly Slot[], kp: KernelProgram, lifetimes: readonly BufferLifetime[]): { liveBytes: number; kernel: PeakKernel } {
  const live = (it: Slot, n: number): boolean => it.first <= n && n <= it.last;
  let at = -1;
  let most = -1;
  // The planner runs inside the rematerialization search: no array per kernel here.
  for (let n = -1; n <= kp.kernels.length; n++) {
    const bytes = items.reduce((a, it) => a + (live(it, n) ? it.bytes : 0), 0);
    if (bytes > most) [at, most] = [n, bytes];
  }
  const held = [
    ...lifetimes.filter((l) => l.persistent).map((l) => ({ names: [l.name], bytes: l.bytes })),
    ...items.filter((it) => live(it, at)).map((it) => ({ names: it.members.length > 0 ? [...it.members] : ["scratch"], bytes: it.bytes })),
  ].sort((a, b) => b.bytes - a.bytes);
  return { liveBytes: most, kernel: { kernel: at, target: kp.kernels[at]?.target ?? null, held } };
}

/**
 * Places intervals above `base`, each at the lowest offset that overlaps no
 * interval placed before it and live at the same time, in two orders (by
 * start, and largest first, as TFLite's greedy-by-size arena does) and keeps
 * the smaller arena.
 */
function bestPlacement(items: readonly Slot[], base: number): { offsets: Map<string, number>; end: number } {
  const byStart = [...items].sort((a, b) => a.first - b.first || b.bytes - a.bytes);
  const bySize = [...items].sort((a, b) => b.bytes - a.bytes || a.first - b.first);
  const a = placeInOrder(byStart, base);
  const b = placeInOrder(bySize, base);
  return b.end < a.end ? b : a;
}

function placeInOrder(items: readonly Slot[], base: number): { offsets: Map<string, number>; end: number } {
  const placed: { lo: number; hi: number; first: number; last: number }[] = [];
  const offsets = new Map<string, number>();
  let end = base;
  for (const it of items) {
    const live = placed.filter((p) => p.first <= it.last && it.first <= p.last).sort((x, y) => x.lo - y.lo);
    let lo = base;
    for (const p of live) {
      if (lo + it.bytes <= p.lo) break;
      lo = Math.max(lo, p.hi);
    }
    placed.push({ lo, hi: lo + it.bytes, first: it.first, last: it.last });
    offsets.set(it.key, lo);
    end = Math.max(end, lo + it.bytes);
  }
  return { offsets, end };
}

/**
 * Whether `kernel` may write its target over `operand`'s storage: it stores
 * each target element exactly once (one plain store, no fill, no
 * accumulation, a store offset that is one-to-one over the loops around it),
 * and reads `operand` only at the element it is about to store, in the
 * same innermost body before the store. Then every element of the operand
 * is read before the store that overwrites it, and never after, whatever
 * order the elements are visited in (vector lanes, threads). Matrix
 * products read their operands many times and never qualify, but an
 * operand of a product's epilogue can (`W_next = W - 0.1 · Xᵀ G` over `W`).
 *
 * @example
 * ```ts
 * updatesInPlace(kernelOf("E[i, j] = S[i, j] + 1"), "S"); // true
 * updatesInPlace(kernelOf("E[i, j] = S[j, i] + 1"), "S"); // false: reads another element
 * ```
 */
export function updatesInPlace(kernel: Kernel, operand: string): boolean {
  if (operand === kernel.target) return false;
  // A resumed product reads its start at each element before the sum that it then stores there, and nothing else of it.
  if (kernel.contraction) return kernel.contraction.start === operand && kernel.contraction.a.buffer !== operand && kernel.contraction.b.buffer !== operand;
  // A product's epilogue may update an operand that the product itself does not read: every form of
  // the kernel (the loop nest below, the register-blocked js and wasm products, their threads) reads
  // the epilogue's operands at the element it stores, in the statement that stores it.
  // Not a product that a backend may run as a skinny kernel: the wasm one stores the sums first and runs the
  // epilogue over the output afterwards (wasm/emit.ts), reading the operand where the sums already are.
  const product = kernel.epilogueContraction?.contraction;
  if (product && (product.a.buffer === operand || product.b.buffer === operand || skinnyPlan(product) !== null)) return false;
  // A resumed sum's start copied into the output before the sum accumulates there (IR invariant 12): written over
  // the start, the copy leaves every element where it is.
  const first = kernel.body[0];
  if (first?.kind === "fill" && first.from === operand) return !kernel.body.slice(1).some((s) => stmtReads(s, operand));
  const found = findStore(kernel.body, kernel.target, []);
  if (found === null) return false;
  const { store, body, loops } = found;
  if (store.op !== undefined || !injective(store.offset, loops)) return false;
  // Reads of the operand: only in `let`s of the store's own body before it, and in the stored value, all at the store's offset.
  let ok = true;
  const readsHere = (e: KExpr): void => visitKExpr(e, (x) => {
    if (x.kind === "load" && x.buffer === operand && !affineSame(x.offset, store.offset)) ok = false;
    if (x.kind === "gather" && x.buffer === operand) ok = false;
  });
  const at = body.indexOf(store);
  for (let k = 0; k < body.length; k++) {
    const s = body[k]!;
    if (s === store) readsHere(s.value);
    else if (s.kind === "let" && k < at) readsHere(s.value);
    // A resumed sum's start, read at the store's offset before its loop (P_s written over P_{s-1}).
    else if (s.kind === "declare" && s.init !== undefined && k < at) readsHere(s.init);
    else if (stmtReads(s, operand)) return false;
  }
  // Nothing outside the store's body reads the operand.
  return ok && !readsOutside(kernel.body, body, operand);
}

interface FoundStore { readonly store: Extract<Stmt, { kind: "store" }>; readonly body: readonly Stmt[]; readonly loops: readonly { var: string; extent: number }[] }

/** The one statement writing `target` (store or fill), or null when there are several, a fill, or none. */
function findStore(stmts: readonly Stmt[], target: string, loops: readonly { var: string; extent: number }[]): FoundStore | null {
  let found: FoundStore | null = null;
  let count = 0;
  const walk = (ss: readonly Stmt[], around: readonly { var: string; extent: number }[]): void => {
    for (const s of ss) {
      if (s.kind === "loop") walk(s.body, [...around, { var: s.var, extent: s.extent }]);
      else if ((s.kind === "store" || s.kind === "fill") && s.buffer === target) {
        count++;
        if (s.kind === "store") found = { store: s, body: ss, loops: around };
        else count += 1;
      }
    }
  };
  walk(stmts, loops);
  return count === 1 ? found : null;
}

/** Whether the offset takes a different value at every iteration of `loops` (a mixed-radix numbering of them). */
function injective(offset: Affine, loops: readonly { var: string; extent: number }[]): boolean {
  const coefs = loops.filter((l) => l.extent > 1).map((l) => ({ l, c: offset.terms.find((t) => t.var === l.var)?.coef ?? 0 }));
  if (coefs.some(({ c }) => c <= 0)) return false;
  coefs.sort((a, b) => a.c - b.c);
  let span = 0;
  for (const { l, c } of coefs) {
    if (c <= span) return false;
    span += c * (l.extent - 1);
  }
  return true;
}

function affineSame(a: Affine, b: Affine): boolean {
  return a.constant === b.constant && a.terms.length === b.terms.length
    && a.terms.every((t, k) => t.var === b.terms[k]!.var && t.coef === b.terms[k]!.coef);
}

function stmtReads(s: Stmt, buffer: string): boolean {
  let found = false;
  const check = (e: KExpr): void => visitKExpr(e, (x) => { if ((x.kind === "load" || x.kind === "gather") && x.buffer === buffer) found = true; });
  switch (s.kind) {
    case "loop": return s.body.some((b) => stmtReads(b, buffer));
    case "let": check(s.value); break;
    case "update": check(s.value); break;
    case "store": check(s.value); break;
    case "declare": if (s.init !== undefined) check(s.init); break;
    case "fill": found = s.from === buffer; break;
    default: break;
  }
  return found;
}

/** Whether a statement outside `inner` (the store's body) reads `buffer`. */
function readsOutside(stmts: readonly Stmt[], inner: readonly Stmt[], buffer: string): boolean {
  if (stmts === inner) return false;
  return stmts.some((s) => (s.kind === "loop" ? readsOutside(s.body, inner, buffer) : stmtReads(s, buffer)));
}
