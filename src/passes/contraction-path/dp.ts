/**
 * The dynamic-programming path finder (opt_einsum's `dp`): the cheapest
 * contraction tree of every subset of operands, built from the cheapest
 * trees of its two halves. A subset's result labels do not depend on how it
 * was contracted (a label survives when an output or an operand outside the
 * subset has it), which is what makes the recursion exact.
 *
 * Two modes:
 * - up to {@link DP_ALL_SUBSETS_MAX} operands, every split of every subset
 *   (3^n work): the exact FLOP minimum over all pairwise paths, outer
 *   products included;
 * - above, only connected subsets split into connected halves (connected:
 *   sharing a summed label, as in opt_einsum's default), per connected
 *   component, cheapest first (see `connectedSubsets`); the components'
 *   results are then multiplied smallest first. Exact among paths without
 *   outer products, which is opt_einsum's dp's search space; tns's dp
 *   minimizes the FLOPs (`opt_cost`) where opt_einsum's minimizes the sum
 *   of the steps' index-union sizes, so its path never costs more by
 *   `opt_cost`.
 *
 * Subsets are bit masks and a subset's result labels a bitset over the
 * labels; the tables are typed arrays behind an open-addressing hash of the
 * masks, so a pair check is a few integer operations and an offer a few
 * more (no allocation).
 *
 * Intermediates over the memory limit are not formed; when that leaves no
 * complete pairwise tree, the result is greedy's path (which ends with one
 * step over the remaining operands).
 */
import type { PathFinder, PathOptions } from "./finder.js";
import { firstBest, greedySearch, type GreedyResult } from "./greedy.js";
import { randomGreedySearch } from "./random-greedy.js";
import type { ContractionStep, InternedNetwork } from "./network.js";
import { workBudget } from "./work.js";

/** Largest operand count for which `dp` tries every split of every subset. */
export const DP_ALL_SUBSETS_MAX = 12;
/** The most operands `dp` accepts (subsets are 31-bit masks). */
export const DP_MAX_OPERANDS = 30;

/**
 * Pairs of subsets the connected-subset search checks (disjoint, sharing a
 * label) per unit of work (`work.ts`): a check is two integer operations on
 * a packed array.
 */
export const DP_CHECKS_PER_UNIT = 256;
/** Pairs that pass the check and have their step's size bounded, per unit of work. */
export const DP_PAIRS_PER_UNIT = 48;
/** Pairs offered to the tables (a hash lookup and the step's labels), per unit of work. */
export const DP_OFFERS_PER_UNIT = 4;

/** Thrown inside the search when its budget (`pathTimeMs` as work units) runs out. */
export class PathSearchTimeout extends Error {
  constructor(finder: string, ms: number) {
    super(`${finder} ran past its time budget of ${ms} ms`);
  }
}

/**
 * The subset tables. Every subset kept has a slot: its mask, the cheapest
 * cost found, the split that gave it, the operands next to it (sharing a
 * summed label, outside it), and its result labels as a bitset of `words`
 * 32-bit words. Masks find slots through an open-addressing hash.
 */
class SubsetStore {
  readonly n: number;
  readonly words: number;
  /** The whole network (or component being searched) as a mask. */
  all: number;
  /** Trees costing more than this are not kept. */
  cap = Infinity;
  /** Largest intermediate allowed, in elements (the whole network is exempt). */
  readonly limit: number;
  checks = 0;
  pairs = 0;
  offers = 0;

  // Network data.
  private readonly labelOps: Int32Array; // operands holding each label, as a mask
  private readonly outputBits: Int32Array; // output labels, as a bitset
  readonly chunkSize: Float64Array[]; // the product of the extents of each 8-label chunk's subsets
  readonly neighbours: Int32Array; // per operand: operands sharing a summed label with it

  // Slots.
  count = 0;
  mask: Int32Array;
  cost: Float64Array;
  split: Int32Array;
  size: Float64Array;
  nb: Int32Array;
  legs: Int32Array;
  private out: Uint8Array;

  // The hash: mask -> slot + 1 (0: empty).
  private keys: Int32Array;
  private vals: Int32Array;

  // Scratch for one step's labels.
  private readonly scratch: Int32Array;

  constructor(readonly net: InternedNetwork, options: PathOptions) {
    const n = net.sets.length;
    const labelCount = net.extent.length;
    this.n = n;
    this.words = Math.max(1, Math.ceil(labelCount / 32));
    this.all = (1 << n) - 1;
    this.limit = options.memoryLimit ?? Infinity;
    this.labelOps = new Int32Array(labelCount);
    net.sets.forEach((s, k) => {
      for (const l of s) this.labelOps[l]! |= 1 << k;
    });
    this.outputBits = new Int32Array(this.words);
    net.inOutput.forEach((o, l) => {
      if (o) this.outputBits[l >>> 5]! |= 1 << (l & 31);
    });
    this.chunkSize = [];
    for (let c = 0; c < this.words * 4; c++) {
      const t = new Float64Array(256);
      for (let b = 0; b < 256; b++) {
        let p = 1;
        for (let i = 0; i < 8; i++) if (b & (1 << i)) p *= net.extent[c * 8 + i] ?? 1;
        t[b] = p;
      }
      this.chunkSize.push(t);
    }
    this.neighbours = new Int32Array(n);
    net.sets.forEach((s, k) => {
      let m = 0;
      for (const l of s) if (!net.inOutput[l]) m |= this.labelOps[l]!;
      this.neighbours[k] = m & ~(1 << k);
    });
    const cap = 1024;
    this.mask = new Int32Array(cap);
    this.cost = new Float64Array(cap);
    this.split = new Int32Array(cap);
    this.size = new Float64Array(cap);
    this.nb = new Int32Array(cap);
    this.legs = new Int32Array(cap * this.words);
    this.out = new Uint8Array(cap);
    this.keys = new Int32Array(2048);
    this.vals = new Int32Array(2048);
    this.scratch = new Int32Array(this.words);
    for (let k = 0; k < n; k++) {
      const slot = this.newSlot(1 << k);
      for (const l of net.sets[k]!) this.legs[slot * this.words + (l >>> 5)]! |= 1 << (l & 31);
      this.size[slot] = this.bitsetSize(this.legs, slot * this.words);
      this.nb[slot] = this.neighbours[k]!;
    }
  }

  /** Elements of a tensor over the labels in `bits[at .. at + words)`. */
  private bitsetSize(bits: Int32Array, at: number): number {
    let p = 1;
    for (let w = 0; w < this.words; w++) {
      const v = bits[at + w]!;
      if (v === 0) continue;
      const c = this.chunkSize;
      p *= c[4 * w]![v & 255]! * c[4 * w + 1]![(v >>> 8) & 255]! * c[4 * w + 2]![(v >>> 16) & 255]! * c[4 * w + 3]![v >>> 24]!;
    }
    return p;
  }

  /** The slot of `mask`, or -1. */
  find(mask: number): number {
    const keys = this.keys;
    const m = keys.length - 1;
    for (let h = hash(mask) & m; ; h = (h + 1) & m) {
      const k = keys[h]!;
      if (k === mask) return this.vals[h]! - 1;
      if (k === 0) return -1;
    }
  }

  private newSlot(mask: number): number {
    if (this.count === this.mask.length) this.growSlots();
    const slot = this.count++;
    this.mask[slot] = mask;
    this.cost[slot] = 0;
    this.split[slot] = 0;
    if (2 * this.count > this.keys.length) this.rehash();
    const keys = this.keys;
    const m = keys.length - 1;
    let h = hash(mask) & m;
    while (keys[h] !== 0) h = (h + 1) & m;
    keys[h] = mask;
    this.vals[h] = slot + 1;
    return slot;
  }

  private growSlots(): void {
    const cap = this.mask.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, len: number): T => {
      const b = new (a.constructor as new (n: number) => T)(len);
      b.set(a);
      return b;
    };
    this.mask = grow(this.mask, cap);
    this.cost = grow(this.cost, cap);
    this.split = grow(this.split, cap);
    this.size = grow(this.size, cap);
    this.nb = grow(this.nb, cap);
    this.legs = grow(this.legs, cap * this.words);
    const out = new Uint8Array(cap);
    out.set(this.out);
    this.out = out;
  }

  private rehash(): void {
    const len = this.keys.length * 2;
    const keys = new Int32Array(len);
    const vals = new Int32Array(len);
    const m = len - 1;
    for (let slot = 0; slot < this.count; slot++) {
      const mask = this.mask[slot]!;
      let h = hash(mask) & m;
      while (keys[h] !== 0) h = (h + 1) & m;
      keys[h] = mask;
      vals[h] = slot + 1;
    }
    this.keys = keys;
    this.vals = vals;
  }

  /** Whether slot `slot` has been taken out of the search's heap. */
  popped(slot: number): boolean {
    return this.out[slot] === 1;
  }

  markPopped(slot: number): void {
    this.out[slot] = 1;
  }

  /**
   * Records the tree of `x ∪ y` through slots `x` and `y` (disjoint subsets)
   * if it costs at most the cap and less than the best so far; returns the
   * union's slot when it did (else -1).
   *
   * A label of both results is summed away when no operand outside the
   * union holds it and the output does not; labels of only one result
   * survive (the other half holds none of them, so someone outside does).
   */
  offer(x: number, y: number): number {
    this.offers++;
    const W = this.words;
    const legs = this.legs;
    const c = this.chunkSize;
    // The union's size: both results' sizes over what they share.
    let shared = 1;
    for (let w = 0; w < W; w++) {
      const v = legs[x * W + w]! & legs[y * W + w]!;
      if (v !== 0) shared *= c[4 * w]![v & 255]! * c[4 * w + 1]![(v >>> 8) & 255]! * c[4 * w + 2]![(v >>> 16) & 255]! * c[4 * w + 3]![v >>> 24]!;
    }
    const union = (this.size[x]! * this.size[y]!) / shared;
    const base = this.cost[x]! + this.cost[y]!;
    // At least one multiplication per point of the union.
    if (base + union > this.cap) return -1;
    const s = this.mask[x]! | this.mask[y]!;
    let slot = this.find(s);
    if (slot >= 0 && this.cost[slot]! <= base + union) return -1;
    const outside = ~s;
    const cut = this.scratch;
    let inner = false;
    for (let w = 0; w < W; w++) {
      let common = legs[x * W + w]! & legs[y * W + w]! & ~this.outputBits[w]!;
      let gone = 0;
      while (common !== 0) {
        const bit = common & -common;
        common ^= bit;
        const l = (w << 5) + (31 - Math.clz32(bit));
        if ((this.labelOps[l]! & outside) === 0) gone |= bit;
      }
      cut[w] = gone;
      if (gone !== 0) inner = true;
    }
    const total = inner ? base + 2 * union : base + union;
    if (total > this.cap) return -1;
    if (slot >= 0 && this.cost[slot]! <= total) return -1;
    if (slot < 0) {
      const size = inner ? union / this.bitsetSize(cut, 0) : union;
      if (size > this.limit && s !== this.all) return -1;
      slot = this.newSlot(s);
      // The arrays may have grown: read them afresh.
      const L = this.legs;
      for (let w = 0; w < W; w++) L[slot * W + w] = (L[x * W + w]! | L[y * W + w]!) & ~cut[w]!;
      this.size[slot] = size;
      this.nb[slot] = (this.nb[x]! | this.nb[y]!) & ~s;
    }
    this.cost[slot] = total;
    this.split[slot] = this.mask[x]!;
    return slot;
  }
}

function hash(mask: number): number {
  const h = Math.imul(mask, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/**
 * The dp path of `net`. `knownFlops`, the cost of a path found another
 * way, caps the search above 12 operands (no subtree dearer than it can be
 * in a better path); the dp's tree is then the cheapest of those under it,
 * or greedy's path when none is. `pathTimeMs` is a budget of work units
 * (`work.ts`), not of time: past it, a `PathSearchTimeout`.
 *
 * @example
 * ```ts
 * dpPath(internNetwork(network), {}); // e.g. [[1, 2], [0, 1]]
 * ```
 */
export function dpPath(net: InternedNetwork, options: PathOptions, knownFlops = Infinity): ContractionStep[] {
  const n = net.sets.length;
  if (n > DP_MAX_OPERANDS) throw new RangeError(`dp handles at most ${DP_MAX_OPERANDS} operands, got ${n}; use greedy or random-greedy`);
  if (n < 2) return [];
  const t = new SubsetStore(net, options);
  if (n <= DP_ALL_SUBSETS_MAX) {
    allSubsets(t);
    const root = t.find(t.all);
    if (root < 0) return greedySearch(net, options, firstBest).path;
    return treeToPath(n, t);
  }
  // The fallback and first bound: greedy's path, and without a known path
  // the best of a few randomized greedy trials.
  const greedyPath = greedySearch(net, options, firstBest);
  const bound: GreedyResult = knownFlops < Infinity ? greedyPath : [greedyPath, randomGreedySearch(net, { ...options, trials: 16 })]
    .reduce((a, b) => (b.flops < a.flops ? b : a));
  // Costs only add up, so a subtree dearer than a whole known path is useless.
  const ceiling = Math.min(bound.flops, knownFlops);
  const timeMs = options.pathTimeMs ?? Infinity;
  connectedSubsets(t, ceiling, workBudget(timeMs), timeMs);
  if (t.find(t.all) < 0) return bound.path;
  return treeToPath(n, t);
}

function allSubsets(t: SubsetStore): void {
  // Subsets in increasing order: both halves of a split come before it.
  for (let s = 1; s <= t.all; s++) {
    if ((s & (s - 1)) === 0) continue;
    const low = s & -s;
    // Each unordered split once: the half holding the lowest operand is `a`.
    for (let a = (s - 1) & s; a > 0; a = (a - 1) & s) {
      if ((a & low) === 0) continue;
      const x = t.find(a);
      if (x < 0) continue;
      const y = t.find(s ^ a);
      if (y >= 0) t.offer(x, y);
    }
  }
}

/** A binary min-heap of slots by cost (ties: the smaller mask first). */
class SlotHeap {
  private costs = new Float64Array(1024);
  private slots = new Int32Array(1024);
  private masks = new Int32Array(1024);
  length = 0;

  push(cost: number, slot: number, mask: number): void {
    if (this.length === this.costs.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.costs = grow(this.costs);
      this.slots = grow(this.slots);
      this.masks = grow(this.masks);
    }
    let i = this.length++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pc = this.costs[p]!;
      if (pc < cost || (pc === cost && this.masks[p]! <= mask)) break;
      this.costs[i] = pc;
      this.slots[i] = this.slots[p]!;
      this.masks[i] = this.masks[p]!;
      i = p;
    }
    this.costs[i] = cost;
    this.slots[i] = slot;
    this.masks[i] = mask;
  }

  /** The cost at the top. */
  topCost(): number {
    return this.costs[0]!;
  }

  /** Removes the top and returns its slot. */
  pop(): number {
    const top = this.slots[0]!;
    const n = --this.length;
    const cost = this.costs[n]!;
    const slot = this.slots[n]!;
    const mask = this.masks[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (this.costs[c + 1]! < this.costs[c]! || (this.costs[c + 1] === this.costs[c] && this.masks[c + 1]! < this.masks[c]!))) c++;
      const cc = this.costs[c]!;
      if (cost < cc || (cost === cc && mask <= this.masks[c]!)) break;
      this.costs[i] = cc;
      this.slots[i] = this.slots[c]!;
      this.masks[i] = this.masks[c]!;
      i = c;
    }
    this.costs[i] = cost;
    this.slots[i] = slot;
    this.masks[i] = mask;
    return top;
  }
}

/**
 * The connected-subset search, best first (a cheapest-first form of
 * opt_einsum's cost capping): subsets are taken out of a heap in order of
 * their tree's cost plus their result's size (a lower bound on what using
 * the subset still costs: the step that consumes it multiplies at least
 * once per element; 0 for the whole component), and each is paired with
 * every subset taken out before it that it is disjoint from and shares a
 * summed label with. That order is consistent (a parent's key is at least
 * each child's: the step joining them costs at least the child's result
 * size), so when a subset comes out its cost is final (its every split was
 * offered when the later half came out) and the first time the whole
 * component comes out its tree is the cheapest. Only subsets whose key is
 * below the optimum are ever paired: the work of a cost cap set at the
 * optimum, without rounds of raising it. `ceiling` (a known path's cost),
 * lowered to the best tree of the whole component offered so far, keeps
 * dearer subsets out of the heap, and partners whose key leaves no room
 * under it are not scanned (the list taken out is sorted by key).
 */
function connectedSubsets(t: SubsetStore, ceiling: number, budget: number, timeMs: number): void {
  // Operands are neighbours when they share a summed label, as in
  // opt_einsum's dp: a label every operand and the output hold (a batch
  // index) would otherwise connect everything, and pairs sharing only
  // output labels are outer products, which this search leaves out.
  const whole = t.all;
  const components: number[] = [];
  let left = whole;
  while (left !== 0) {
    let comp = left & -left;
    for (;;) {
      let grown = comp;
      for (let k = 0; k < t.n; k++) if (comp & (1 << k)) grown |= t.neighbours[k]!;
      if (grown === comp) break;
      comp = grown;
    }
    components.push(comp);
    left &= ~comp;
  }
  const spent = (): number => t.checks / DP_CHECKS_PER_UNIT + t.pairs / DP_PAIRS_PER_UNIT + t.offers / DP_OFFERS_PER_UNIT;
  const W = t.words;
  const extent = Float64Array.from(t.net.extent);
  for (const comp of components) {
    t.cap = ceiling;
    if ((comp & (comp - 1)) === 0) continue;
    t.all = comp;
    const heap = new SlotHeap();
    for (let k = 0; k < t.n; k++) if (comp & (1 << k)) heap.push(t.size[t.find(1 << k)]!, t.find(1 << k), 1 << k);
    // The subsets taken out so far, packed for scanning.
    let masks = new Int32Array(256);
    let slots = new Int32Array(256);
    let popCost = new Float64Array(256);
    let popF = new Float64Array(256);
    let popSize = new Float64Array(256);
    let popLegs = new Int32Array(256 * W);
    let done = 0;
    let found = false;
    while (heap.length > 0 && !found) {
      const cost = heap.topCost();
      const x = heap.pop();
      // A stale entry: the subset was offered again, cheaper, or is out already.
      if (t.cost[x]! + (t.mask[x] === comp ? 0 : t.size[x]!) !== cost || t.popped(x)) continue;
      t.markPopped(x);
      const mx = t.mask[x]!;
      if (mx === comp) {
        found = true;
        break;
      }
      const nbx = t.nb[x]!;
      const cx = t.cost[x]!;
      const sx = t.size[x]!;
      const lx = x * W;
      const legs = t.legs;
      // Taken out in order of cost: partners dearer than what is left
      // under the cap (less this subset's size, the least a step with it
      // costs) form nothing useful.
      const lim = t.cap - cx;
      let end = done;
      if (end > 0 && popF[end - 1]! > lim) {
        let lo = 0;
        while (lo < end) {
          const mid = (lo + end) >>> 1;
          if (popF[mid]! > lim) end = mid;
          else lo = mid + 1;
        }
      }
      for (let j = 0; j < end; j++) {
        const my = masks[j]!;
        if ((mx & my) !== 0 || (nbx & my) === 0) continue;
        t.pairs++;
        // The cheapest the step can be (one multiplication per point of
        // the union) against the cap, from the packed copies, before the
        // full offer.
        let shared = 1;
        for (let w = 0, jw = j * W; w < W; w++) {
          // Few labels are shared: one multiplication each.
          let v = legs[lx + w]! & popLegs[jw + w]!;
          while (v !== 0) {
            const bit = v & -v;
            v ^= bit;
            shared *= extent[(w << 5) + 31 - Math.clz32(bit)]!;
          }
        }
        if (cx + popCost[j]! + (sx * popSize[j]!) / shared > t.cap) continue;
        const s = t.offer(x, slots[j]!);
        if (s >= 0) {
          heap.push((mx | my) === comp ? t.cost[s]! : t.cost[s]! + t.size[s]!, s, mx | my);
          // A tree of the whole component: nothing dearer can beat it.
          if ((mx | my) === comp) t.cap = Math.min(t.cap, t.cost[s]!);
        }
      }
      t.checks += end + 1;
      if (spent() > budget) throw new PathSearchTimeout("dp", timeMs);
      if (done === masks.length) {
        const grow = <T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(a: T): T => {
          const b = new (a.constructor as new (n: number) => T)(a.length * 2);
          b.set(a);
          return b;
        };
        masks = grow(masks);
        slots = grow(slots);
        popCost = grow(popCost);
        popF = grow(popF);
        popSize = grow(popSize);
        popLegs = grow(popLegs);
      }
      masks[done] = mx;
      slots[done] = x;
      popCost[done] = cx;
      popF[done] = cost;
      popSize[done] = sx;
      for (let w = 0; w < W; w++) popLegs[done * W + w] = t.legs[lx + w]!;
      done++;
    }
  }
  t.all = whole;
  t.cap = Infinity;
  // Multiply the components' results together, smallest first.
  const slots = components.map((c) => t.find(c));
  if (slots.some((s) => s < 0)) return;
  const order = slots.map((s, k) => ({ s, k })).sort((x, y) => t.size[x.s]! - t.size[y.s]! || x.k - y.k).map((o) => o.s);
  let acc = order[0]!;
  for (const c of order.slice(1)) {
    t.offer(acc, c);
    acc = t.find(t.mask[acc]! | t.mask[c]!);
    if (acc < 0) return;
  }
}

/** The chosen tree as an opt_einsum path: each merge's two positions in the current list. */
function treeToPath(n: number, t: SubsetStore): ContractionStep[] {
  const current = Array.from({ length: n }, (_, k) => k);
  let next = n;
  const path: ContractionStep[] = [];
  const build = (mask: number): number => {
    if ((mask & (mask - 1)) === 0) return 31 - Math.clz32(mask);
    const a = t.split[t.find(mask)]!;
    const x = build(a);
    const y = build(mask ^ a);
    const px = current.indexOf(x);
    const py = current.indexOf(y);
    path.push([Math.min(px, py), Math.max(px, py)]);
    current.splice(Math.max(px, py), 1);
    current.splice(Math.min(px, py), 1);
    current.push(next);
    return next++;
  };
  build(t.all);
  return path;
}

/**
 * The dp finder.
 *
 * @example
 * ```ts
 * dp.find(internNetwork(network), {});
 * ```
 */
export const dp: PathFinder = {
  name: "dp",
  description: "dynamic programming over subsets: exact up to 12 operands, connected subsets beyond",
  find: dpPath,
};
