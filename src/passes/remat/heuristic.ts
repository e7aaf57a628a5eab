/**
 * The fallback when the solver does not finish, and its starting point:
 * greedy recomputation just in time. Starting from a schedule (the program
 * as written), while some stage needs more than the budget, take the
 * fullest stage t and, among the defs held there but neither computed nor
 * read there, drop the one whose recomputation right before its next reader
 * removes the most excess memory (bytes over the budget, summed over the
 * stages) per FLOP; an operand of it that would otherwise have to be held
 * until then is recomputed there too, when that removes more. Stop when no
 * stage is over, or no choice helps: the budget is then out of this
 * heuristic's reach.
 *
 *     chain f0 → f1 → f2 → loss → b2 → b1 → b0, b_k reading f_k: every f held until its b
 *     budget of 4 tensors: f0 is dropped after f1 and recomputed before b0, ...
 */
import { donatedBytes, type RematGraph, type Schedule, scheduleMemory, startBytes } from "./schedule.js";

/** What the heuristic reached. */
export interface HeuristicResult {
  readonly schedule: Schedule;
  /** Whether every stage fits the budget. */
  readonly fits: boolean;
  /** The peak of the schedule (bytes, inputs and weights included). */
  readonly peak: number;
}

/** Stages at which each def is held, and memory per stage, kept up to date as the schedule changes. */
class State {
  readonly stages: number[][];
  readonly live: Uint8Array[];
  readonly mem: Float64Array;
  private readonly scratchAt: Float64Array;
  private readonly n: number;
  /** Bytes of donated inputs held at each stage. */
  private donated: Float64Array;

  constructor(private readonly graph: RematGraph, schedule: Schedule) {
    this.n = graph.nodes.length;
    this.stages = schedule.map((s) => [...s]);
    this.live = graph.nodes.map((v) => this.liveOf(v.pos, this.stages));
    this.mem = new Float64Array(this.n);
    this.scratchAt = new Float64Array(this.n);
    for (const v of graph.nodes) {
      for (let t = 0; t < this.n; t++) if (this.live[v.pos]![t]) this.mem[t]! += v.bytes;
      for (const t of this.stages[v.pos]!) this.scratchAt[t] = Math.max(this.scratchAt[t]!, v.scratch);
    }
    this.donated = donatedBytes(graph, this.stages);
  }

  /** Bytes at stage t: held defs, inputs and weights, scratch. */
  at(t: number): number { return this.mem[t]! + this.graph.persistentBytes + this.donated[t]! + this.scratchAt[t]!; }

  peak(): number {
    let p = startBytes(this.graph);
    for (let t = 0; t < this.n; t++) p = Math.max(p, this.at(t));
    return p;
  }

  /** The stages where a version of def v is held under `stages`. */
  liveOf(v: number, stages: readonly (readonly number[])[]): Uint8Array {
    const node = this.graph.nodes[v]!;
    const live = new Uint8Array(this.n);
    const own = stages[v]!;
    const versionAt = (t: number): number => { let best = -1; for (const s of own) if (s <= t) best = s; return best; };
    for (const s of own) live[s] = 1;
    for (const c of node.succs) {
      for (const t of stages[c]!) {
        const s = versionAt(t);
        for (let k = Math.max(0, s); k <= t; k++) live[k] = 1;
      }
    }
    if (node.output && own.length > 0) for (let k = own.at(-1)!; k < this.n; k++) live[k] = 1;
    return live;
  }

  /** Whether some computation at stage t reads def v. */
  readAt(v: number, t: number): boolean {
    return this.graph.nodes[v]!.succs.some((c) => this.stages[c]!.includes(t));
  }

  /** Sum over stages of the bytes over `budget`, after adding computations `add` (def, stage); and the new live sets. */
  excessWith(add: readonly { v: number; t: number }[], budget: number): { excess: number; changes: Map<number, Uint8Array> } {
    const stages = this.stages.map((s) => s);
    for (const { v, t } of add) stages[v] = [...stages[v]!, t].sort((a, b) => a - b);
    const affected = new Set<number>();
    for (const { v } of add) {
      affected.add(v);
      for (const p of this.graph.nodes[v]!.preds) affected.add(p);
    }
    const changes = new Map<number, Uint8Array>();
    const delta = new Float64Array(this.n);
    for (const v of affected) {
      const next = this.liveOf(v, stages);
      changes.set(v, next);
      const bytes = this.graph.nodes[v]!.bytes;
      const old = this.live[v]!;
      for (let t = 0; t < this.n; t++) if (next[t] !== old[t]) delta[t]! += (next[t]! - old[t]!) * bytes;
    }
    const donated = this.graph.donated.length > 0 ? donatedBytes(this.graph, stages) : this.donated;
    let excess = 0;
    for (let t = 0; t < this.n; t++) {
      let scratch = this.scratchAt[t]!;
      for (const a of add) if (a.t === t) scratch = Math.max(scratch, this.graph.nodes[a.v]!.scratch);
      excess += Math.max(0, this.mem[t]! + delta[t]! + this.graph.persistentBytes + donated[t]! + scratch - budget);
    }
    return { excess, changes };
  }

  apply(add: readonly { v: number; t: number }[], changes: Map<number, Uint8Array>): void {
    for (const { v, t } of add) {
      this.stages[v] = [...this.stages[v]!, t].sort((a, b) => a - b);
      this.scratchAt[t] = Math.max(this.scratchAt[t]!, this.graph.nodes[v]!.scratch);
    }
    for (const [v, next] of changes) {
      const bytes = this.graph.nodes[v]!.bytes;
      const old = this.live[v]!;
      for (let t = 0; t < this.n; t++) if (next[t] !== old[t]) this.mem[t]! += (next[t]! - old[t]!) * bytes;
      this.live[v] = next;
    }
    if (this.graph.donated.length > 0) this.donated = donatedBytes(this.graph, this.stages);
  }

  excess(budget: number): number {
    let e = 0;
    for (let t = 0; t < this.n; t++) e += Math.max(0, this.at(t) - budget);
    return e;
  }
}

/** Candidates examined per step (the largest defs held at the fullest stage). */
const CANDIDATES = 24;

/**
 * Greedy just-in-time recomputation toward `budgetBytes`, from `start`.
 *
 * @example
 * ```ts
 * const { fits, schedule } = greedyRemat(graph, baselineSchedule(graph), 64 * 1024);
 * ```
 */
export function greedyRemat(graph: RematGraph, start: Schedule, budgetBytes: number, deadline = Infinity): HeuristicResult {
  const st = new State(graph, start);
  const n = graph.nodes.length;
  let excess = st.excess(budgetBytes);
  while (excess > 0 && performance.now() < deadline) {
    let worst = 0;
    for (let t = 1; t < n; t++) if (st.at(t) > st.at(worst)) worst = t;
    const held = graph.nodes
      .filter((v) => !v.output && st.live[v.pos]![worst] && !st.stages[v.pos]!.includes(worst) && !st.readAt(v.pos, worst))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, CANDIDATES);
    let best: { add: { v: number; t: number }[]; excess: number; changes: Map<number, Uint8Array>; score: number } | null = null;
    for (const v of held) {
      let next = Infinity;
      for (const c of v.succs) for (const t of st.stages[c]!) if (t > worst && t < next) next = t;
      if (!Number.isFinite(next)) continue;
      const options = [[{ v: v.pos, t: next }], withOperands(graph, st, v.pos, next)];
      for (const add of options) {
        const cost = add.reduce((a, x) => a + graph.nodes[x.v]!.cost, 0);
        const tried = st.excessWith(add, budgetBytes);
        const gain = excess - tried.excess;
        if (gain <= 0) continue;
        const score = gain / cost;
        if (best === null || score > best.score) best = { add, excess: tried.excess, changes: tried.changes, score };
      }
    }
    if (best === null) break;
    st.apply(best.add, best.changes);
    excess = best.excess;
  }
  return { schedule: st.stages, fits: excess <= 0, peak: st.peak() };
}

/** Recomputing v at stage t, and with it every operand not held at t (recursively). */
function withOperands(graph: RematGraph, st: State, v: number, t: number): { v: number; t: number }[] {
  const add = [{ v, t }];
  const seen = new Set([v]);
  for (let k = 0; k < add.length; k++) {
    for (const p of graph.nodes[add[k]!.v]!.preds) {
      if (seen.has(p) || st.live[p]![t] || graph.nodes[p]!.output) continue;
      seen.add(p);
      add.push({ v: p, t });
    }
  }
  return add;
}

/**
 * The smallest peak the greedy reaches from `start`: it lowers its target
 * below the peak it has reached until no step helps.
 *
 * @example
 * ```ts
 * greedyMinPeak(graph, baselineSchedule(graph)).peak; // at most the program's own peak
 * ```
 */
export function greedyMinPeak(graph: RematGraph, start: Schedule, deadline = Infinity): HeuristicResult {
  const plain = greedyRemat(graph, start, Infinity, deadline);
  const late = greedyRemat(graph, deferOutputs(graph, start), Infinity, deadline);
  let best = late.peak < plain.peak ? late : plain;
  while (performance.now() < deadline) {
    const next = greedyRemat(graph, best.schedule, best.peak - 16, deadline);
    if (!next.fits || next.peak >= best.peak) break;
    best = next;
  }
  return { ...best, fits: true };
}

/**
 * Outputs stored late: each output that no def reads, in turn, computed
 * at the last stage instead of its own when that lowers the peak or keeps
 * it and lowers the bytes summed over stages (an output is held from its
 * computation to the end, its operands until then). Recomputes nothing.
 *
 * @example
 * ```ts
 * deferOutputs(graph, baselineSchedule(graph)); // W_next = W - 0.1 * dW computed last, dW's operands dead by then
 * ```
 */
export function deferOutputs(graph: RematGraph, start: Schedule): Schedule {
  const last = graph.nodes.length - 1;
  let schedule = start.map((s) => [...s]);
  const measure = (s: Schedule): { peak: number; total: number } => {
    const m = scheduleMemory(graph, s);
    return { peak: m.peak, total: m.stages.reduce((a, x) => a + x, 0) };
  };
  let now = measure(schedule);
  for (const v of graph.nodes) {
    if (!v.output || v.succs.length > 0 || schedule[v.pos]!.length !== 1 || schedule[v.pos]![0] === last) continue;
    const next = schedule.map((s, k) => (k === v.pos ? [last] : s));
    const m = measure(next);
    if (m.peak < now.peak || (m.peak === now.peak && m.total < now.total)) {
      schedule = next;
      now = m;
    }
  }
  return schedule;
}

/**
 * Checkpointing in the manner of Chen et al. ("Training Deep Nets with
 * Sublinear Memory Cost", 2016), for any graph: the defs in `keep`, and
 * outputs, are held as long as they are read; any other def is held only
 * until `segmentEnd(v)` (the stage of the next kept def) and is computed
 * again at the first stage past that which reads it, together with
 * whichever of its operands are not held there, and that version is held
 * from then on. On a chain with every k-th layer kept, this recomputes each
 * segment once, when the backward pass enters it.
 *
 * @example
 * ```ts
 * checkpointSchedule(graph, new Set([0, 8, 16])); // keep three layers of a 24-layer chain
 * ```
 */
export function checkpointSchedule(graph: RematGraph, keep: ReadonlySet<number>): Schedule {
  const n = graph.nodes.length;
  const stages = graph.nodes.map((v) => [v.pos]);
  const kept = [...keep].sort((a, b) => a - b);
  const homeUntil = graph.nodes.map((v) => {
    if (v.output || keep.has(v.pos)) return Infinity;
    return kept.find((k) => k > v.pos) ?? n;
  });
  const again = new Array<number>(n).fill(-1);
  const ensure = (v: number, t: number): void => {
    if (t <= homeUntil[v]! || (again[v]! >= 0 && again[v]! <= t)) return;
    again[v] = t;
    stages[v]!.push(t);
    for (const p of graph.nodes[v]!.preds) ensure(p, t);
  };
  for (const c of graph.nodes) for (const p of c.preds) ensure(p, c.pos);
  return stages.map((s) => [...s].sort((a, b) => a - b));
}

/**
 * The best of the heuristics for a budget: the greedy from the program as
 * written and from it with outputs stored late ({@link deferOutputs}), and
 * {@link checkpointSchedule} keeping every k-th def for each k (the sweep
 * contains Chen et al.'s k = √n), each as it is and each followed by the
 * greedy (while time lasts);
 * the schedule that fits with the least recomputation, or, when none fits,
 * the one with the smallest peak.
 *
 * @example
 * ```ts
 * bestHeuristic(graph, 64 * 1024).fits;
 * ```
 */
export function bestHeuristic(graph: RematGraph, budgetBytes: number, deadline = Infinity): HeuristicResult {
  const n = graph.nodes.length;
  // The greedy from the program as written runs to its end whatever the deadline: a budget it meets is never lost to time.
  const asWritten = graph.nodes.map((v) => [v.pos]);
  const tried: HeuristicResult[] = [greedyRemat(graph, asWritten, budgetBytes)];
  // The greedy from the program with outputs stored late, when that changes anything (within the time).
  const late = deferOutputs(graph, asWritten);
  if (late.some((s, k) => s[0] !== k)) tried.push(greedyRemat(graph, late, budgetBytes, deadline));
  // k = 2 .. 2√n, and a few coarser: the sweep stays O(√n) greedy runs.
  const ks = new Set<number>();
  for (let k = 2; k <= Math.min(n, 2 * Math.ceil(Math.sqrt(n))); k++) ks.add(k);
  for (let k = 2 * Math.ceil(Math.sqrt(n)); k <= n; k *= 2) ks.add(k);
  // Nearest √n first: when time runs short, the likeliest good ones have been tried.
  const root = Math.sqrt(n);
  const sweep = [...ks].sort((a, b) => Math.abs(a - root) - Math.abs(b - root) || a - b);
  const checkpoints = sweep.map((k) => checkpointSchedule(graph, new Set(graph.nodes.filter((v) => v.pos % k === k - 1).map((v) => v.pos))));
  // Each checkpointing schedule as it is first (cheap, whatever the load), so Chen's rule is always among the candidates;
  // then each followed by the greedy, while time lasts.
  for (const schedule of checkpoints) {
    const peak = scheduleMemory(graph, schedule).peak;
    tried.push({ schedule, fits: peak <= budgetBytes, peak });
  }
  for (const schedule of checkpoints) {
    if (performance.now() >= deadline) break;
    tried.push(greedyRemat(graph, schedule, budgetBytes, deadline));
  }
  const extra = (h: HeuristicResult): number => scheduleMemory(graph, h.schedule).extraCost;
  const fitting = tried.filter((h) => h.fits).sort((a, b) => extra(a) - extra(b) || a.peak - b.peak);
  return fitting[0] ?? [...tried].sort((a, b) => a.peak - b.peak)[0]!;
}
