/**
 * The greedy engine of the randomized trials (`hyper`, `random-greedy`):
 * opt_einsum's `ssa_greedy_optimize` in typed arrays. Candidates are the
 * pairs of live operands that share a summed label, scored by
 * `size(result) - alpha * (size(a) + size(b))` and kept in a binary heap;
 * after a step only the new operand's pairs are scored (a pair's result
 * does not change when other operands are contracted), and stale entries
 * (an operand already consumed) are skipped when they come out. A trial
 * is O(E log E) in the number of candidate pairs E, where the list-based
 * `greedySearch` (NumPy's algorithm, kept for the `greedy` finder, which
 * must match NumPy step for step) rescans every candidate at every step.
 *
 * A randomized step takes the best `BRANCHES` live candidates out of the
 * heap, picks one with probability `exp(-(h - hbest) / (T * max(1, |hbest|)))`
 * (opt_einsum's `thermal_chooser`) and puts the others back. When no pair
 * shares a summed label (disconnected parts, batch labels only), the
 * remaining operands are multiplied pairwise, smallest first, as
 * opt_einsum does. Candidates over the memory limit are dropped; when that
 * leaves operands no pair can join, the trial fails (null).
 */
import { flopCount, type ContractionStep, type InternedNetwork } from "./network.js";
import type { WorkMeter } from "./work.js";

/** How many of the best candidates a randomized step samples from (opt_einsum's `nbranch`). */
export const BRANCHES = 8;

/** One greedy trial's parameters: the inputs' weight and the temperature (0: always the best). */
export interface HeapGreedyParams {
  readonly alpha: number;
  readonly temperature: number;
}

/** A trial's result: the path (pairwise steps) and its FLOPs. */
export interface HeapGreedyResult {
  readonly path: ContractionStep[];
  readonly flops: number;
}

/**
 * The network in the engine's form, shared by all trials: operands' sorted
 * labels, sizes, and each summed label's holders.
 *
 * @example
 * ```ts
 * const g = new HeapGreedy(internNetwork(network));
 * g.run({ alpha: 1, temperature: 0 }, Math.random)?.flops;
 * ```
 */
export class HeapGreedy {
  private readonly n: number;
  private readonly extent: Float64Array;
  private readonly inOutput: Uint8Array;
  private readonly initialCounts: Int32Array;

  // Per trial (reset by `run`): operands 0 .. 2n-2.
  private labels: Int32Array[] = [];
  private readonly size: Float64Array;
  private readonly alive: Uint8Array;
  private readonly counts: Int32Array;
  /** Live holders of each summed label: a list per label (swap-removed). */
  private readonly holders: Int32Array[];
  private readonly holderCount: Int32Array;
  private readonly mark: Int32Array;
  private markEpoch = 1;
  /** Live operands in the current trial. */
  private live = 0;
  private readonly limited: boolean;

  // The candidate heap: score, tie-break (a sequence number), operands.
  private hScore = new Float64Array(256);
  private hSeq = new Float64Array(256);
  private hA = new Int32Array(256);
  private hB = new Int32Array(256);
  private hLen = 0;
  private seq = 0;

  constructor(readonly net: InternedNetwork, readonly memoryLimit = Infinity) {
    const n = net.sets.length;
    this.n = n;
    const L = net.extent.length;
    this.extent = Float64Array.from(net.extent);
    this.inOutput = Uint8Array.from(net.inOutput, (b) => (b ? 1 : 0));
    this.initialCounts = new Int32Array(L);
    for (const s of net.sets) for (const l of s) this.initialCounts[l]!++;
    this.size = new Float64Array(2 * n);
    this.alive = new Uint8Array(2 * n);
    this.counts = new Int32Array(L);
    this.holders = Array.from({ length: L }, (_, l) => new Int32Array(Math.max(1, this.initialCounts[l]!)));
    this.holderCount = new Int32Array(L);
    this.mark = new Int32Array(2 * n);
    this.limited = memoryLimit < Infinity;
  }

  /**
   * One trial; `random` drives the sampling (unused at temperature 0).
   * Each candidate scored spends one unit of `meter`.
   */
  run(params: HeapGreedyParams, random: () => number, meter?: WorkMeter): HeapGreedyResult | null {
    const n = this.n;
    const net = this.net;
    this.labels = net.sets.map((s) => Int32Array.from(s));
    this.counts.set(this.initialCounts);
    this.alive.fill(0);
    this.hLen = 0;
    this.seq = 0;
    this.holderCount.fill(0);
    this.live = n;
    for (let k = 0; k < n; k++) {
      this.alive[k] = 1;
      this.size[k] = this.sizeOf(this.labels[k]!);
      for (const l of this.labels[k]!) if (!this.inOutput[l]) this.addHolder(l, k);
    }
    // Initial candidates: every pair sharing a summed label, once.
    let scored = 0;
    for (let a = 0; a < n; a++) scored += this.pushPartners(a, params, true);
    meter?.spend(scored);
    const path: ContractionStep[] = [];
    const ids = Array.from({ length: n }, (_, k) => k); // current list: operand ids by position
    let flops = 0;
    let next = n;
    const contract = (a: number, b: number, result: Int32Array, inner: boolean, unionSize: number): void => {
      const pa = ids.indexOf(a);
      const pb = ids.indexOf(b);
      path.push(pa < pb ? [pa, pb] : [pb, pa]);
      ids.splice(Math.max(pa, pb), 1);
      ids.splice(Math.min(pa, pb), 1);
      ids.push(next);
      flops += flopCount(unionSize, inner, 2);
      this.alive[a] = 0;
      this.alive[b] = 0;
      for (const l of this.labels[a]!) {
        this.counts[l]!--;
        if (!this.inOutput[l]) this.removeHolder(l, a);
      }
      for (const l of this.labels[b]!) {
        this.counts[l]!--;
        if (!this.inOutput[l]) this.removeHolder(l, b);
      }
      for (const l of result) {
        this.counts[l]!++;
        if (!this.inOutput[l]) this.addHolder(l, next);
      }
      this.labels[next] = result;
      this.size[next] = this.sizeOf(result);
      this.alive[next] = 1;
      this.live--;
      next++;
    };
    const choices: number[] = [];
    while (ids.length > 1) {
      // Take the best live candidates (one at temperature 0).
      const want = params.temperature > 0 ? BRANCHES : 1;
      choices.length = 0;
      while (choices.length < 4 * want && this.hLen > 0) {
        const a = this.hA[0]!;
        const b = this.hB[0]!;
        const score = this.hScore[0]!;
        const sq = this.hSeq[0]!;
        this.heapPop();
        if (!this.alive[a] || !this.alive[b]) continue;
        if (this.live > 2 && this.limited && this.sizeOf(this.join(a, b).result) > this.memoryLimit) continue;
        choices.push(score, sq, a, b);
      }
      if (choices.length === 0) break;
      let pick = 0;
      const k = choices.length / 4;
      if (k > 1) {
        const h0 = choices[0]!;
        const scale = params.temperature * Math.max(1, Math.abs(h0));
        let total = 0;
        const w: number[] = [];
        for (let i = 0; i < k; i++) {
          const e = Math.exp(-(choices[4 * i]! - h0) / scale);
          w.push(e);
          total += e;
        }
        let r = random() * total;
        for (pick = 0; pick < k - 1; pick++) {
          r -= w[pick]!;
          if (r < 0) break;
        }
        for (let i = 0; i < k; i++) if (i !== pick) this.heapPush(choices[4 * i]!, choices[4 * i + 1]!, choices[4 * i + 2]!, choices[4 * i + 3]!);
      }
      const a = choices[4 * pick + 2]!;
      const b = choices[4 * pick + 3]!;
      const { result, inner, union } = this.join(a, b);
      contract(a, b, result, inner, union);
      const scoredNow = this.pushPartners(next - 1, params, false);
      meter?.spend(scoredNow);
    }
    if (ids.length > 1) {
      // No pair shares a summed label: multiply what is left, smallest first.
      for (;;) {
        if (ids.length === 1) break;
        const order = [...ids].sort((x, y) => this.size[x]! - this.size[y]! || x - y);
        const a = order[0]!;
        const b = order[1]!;
        const { result, inner, union } = this.join(a, b);
        const size = this.sizeOf(result);
        if (ids.length > 2 && size > this.memoryLimit) return null;
        contract(a, b, result, inner, union);
      }
    }
    return { path, flops };
  }

  /** The result labels of joining `a` and `b`, whether a label is summed away, and the union's size. */
  private join(a: number, b: number): { result: Int32Array; inner: boolean; union: number } {
    const la = this.labels[a]!;
    const lb = this.labels[b]!;
    const out: number[] = [];
    let union = 1;
    let inner = false;
    let i = 0;
    let j = 0;
    while (i < la.length || j < lb.length) {
      const x = i < la.length ? la[i]! : 0x7fffffff;
      const y = j < lb.length ? lb[j]! : 0x7fffffff;
      const l = x < y ? x : y;
      let held = 0;
      if (x === l) {
        i++;
        held++;
      }
      if (y === l) {
        j++;
        held++;
      }
      union *= this.extent[l]!;
      if (this.inOutput[l] || this.counts[l]! > held) out.push(l);
      else inner = true;
    }
    return { result: Int32Array.from(out), inner, union };
  }

  private sizeOf(labels: Int32Array): number {
    let p = 1;
    for (const l of labels) p *= this.extent[l]!;
    return p;
  }

  /** Scores the pairs of `a` with the live operands sharing a summed label with it; returns how many. */
  private pushPartners(a: number, params: HeapGreedyParams, onlyHigher: boolean): number {
    const epoch = ++this.markEpoch;
    let scored = 0;
    for (const l of this.labels[a]!) {
      if (this.inOutput[l]) continue;
      const hs = this.holders[l]!;
      const c = this.holderCount[l]!;
      for (let q = 0; q < c; q++) {
        const b = hs[q]!;
        if (b === a || this.mark[b] === epoch || (onlyHigher && b < a)) continue;
        this.mark[b] = epoch;
        scored++;
        const { result } = this.join(a, b);
        const size = this.sizeOf(result);
        const score = size - params.alpha * (this.size[a]! + this.size[b]!);
          // Over the memory limit: kept out unless it could be the last step.
        if (size > this.memoryLimit && this.live > 2) continue;
        this.heapPush(score, this.seq++, a < b ? a : b, a < b ? b : a);
      }
    }
    return scored;
  }

  private addHolder(l: number, k: number): void {
    let hs = this.holders[l]!;
    const c = this.holderCount[l]!;
    if (c === hs.length) {
      const g = new Int32Array(hs.length * 2);
      g.set(hs);
      hs = this.holders[l] = g;
    }
    hs[c] = k;
    this.holderCount[l] = c + 1;
  }

  private removeHolder(l: number, k: number): void {
    const hs = this.holders[l]!;
    const c = this.holderCount[l]!;
    for (let at = 0; at < c; at++) {
      if (hs[at] !== k) continue;
      hs[at] = hs[c - 1]!;
      this.holderCount[l] = c - 1;
      return;
    }
  }

  private less(i: number, j: number): boolean {
    const si = this.hScore[i]!;
    const sj = this.hScore[j]!;
    return si < sj || (si === sj && this.hSeq[i]! < this.hSeq[j]!);
  }

  private heapPush(score: number, sq: number, a: number, b: number): void {
    if (this.hLen === this.hScore.length) {
      const grow = <T extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2);
        y.set(x);
        return y;
      };
      this.hScore = grow(this.hScore);
      this.hSeq = grow(this.hSeq);
      this.hA = grow(this.hA);
      this.hB = grow(this.hB);
    }
    let i = this.hLen++;
    this.hScore[i] = score;
    this.hSeq[i] = sq;
    this.hA[i] = a;
    this.hB[i] = b;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private heapPop(): void {
    const n = --this.hLen;
    if (n === 0) return;
    this.hScore[0] = this.hScore[n]!;
    this.hSeq[0] = this.hSeq[n]!;
    this.hA[0] = this.hA[n]!;
    this.hB[0] = this.hB[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let c = l;
      if (l + 1 < n && this.less(l + 1, l)) c = l + 1;
      if (!this.less(c, i)) break;
      this.swap(i, c);
      i = c;
    }
  }

  private swap(i: number, j: number): void {
    const s = this.hScore[i]!;
    this.hScore[i] = this.hScore[j]!;
    this.hScore[j] = s;
    const q = this.hSeq[i]!;
    this.hSeq[i] = this.hSeq[j]!;
    this.hSeq[j] = q;
    const a = this.hA[i]!;
    this.hA[i] = this.hA[j]!;
    this.hA[j] = a;
    const b = this.hB[i]!;
    this.hB[i] = this.hB[j]!;
    this.hB[j] = b;
  }
}
