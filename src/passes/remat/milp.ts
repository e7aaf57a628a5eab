/**
 * Rematerialization as a mixed-integer program, in the spirit of Checkmate
 * (Jain et al., MLSys 2020) with Moccasin's retention intervals (Bartan et
 * al., ICML 2023): the stages are the program's defs in order, and for each
 * def v and stage t inside v's window
 *
 *     r[v,t] ∈ {0, 1}   v is computed at stage t
 *     l[v,t] ∈ [0, 1]   a version of v is held at stage t
 *
 * subject to
 *
 *     l[v,pos(v)] ≤ r[v,pos(v)]                 nothing is held before it is computed
 *     l[v,t] ≤ l[v,t-1] + r[v,t]                a version is held from its computation on
 *     r[v,t] ≤ l[v,t]                           what is computed is held
 *     r[c,t] ≤ l[v,t]      for each reader c    an operand is held where it is read
 *     Σ_t r[v,t] ≥ 1                            every def is computed
 *     r[v,t] ≤ Σ_c r[c,t]  for t > pos(v)       recomputed just in time (not outputs: one may be stored late)
 *     l[o,last] = 1        for each output o    outputs are held at the end
 *     Σ_v bytes(v)·l[v,t] + scratch(u)·r[u,t] ≤ budget − inputs − weights     at every stage t, for every u
 *
 * minimizing Σ cost(v)·r[v,t]. The holding intervals of a def are its
 * retention intervals: each starts with an r and runs while l stays 1, so a
 * def may be held, dropped and computed again as often as pays. Only r is
 * integral: for fixed r the least l that satisfies the rows is 0/1, and
 * smaller l only frees memory, so the relaxation of l loses nothing.
 *
 * Windows keep the model small: v can be computed from its own stage up to
 * the last stage any reader can run at (an output: up to its first reader,
 * as computing it later gains nothing); it is held up to the same stage (an
 * output: to the end). The variables are O(n·w) for windows of w stages;
 * on a forward and backward chain w grows with n, the O(n²) of Checkmate,
 * while on programs whose values are used close to where they are made it
 * stays O(n), as in Moccasin.
 *
 * A donated input d (the caller gave its storage up) adds h[d,t] ∈ [0, 1],
 * held at stage t: h[d,t] ≤ h[d,t-1] (once dropped, gone), r[c,t] ≤ h[d,t]
 * for each reader c, or r[c,t] ≤ h[d,t-1] for a reader that may update it
 * in place (its bytes then stand for d's), and bytes(d)·h[d,t] in each
 * stage's memory.
 *
 * `minPeak` asks instead for the least memory any schedule needs (the
 * budget becomes a variable to minimize), to tell a user how far a budget
 * is out of reach.
 */
import { donatedLiveness, type RematGraph, type Schedule, scheduleMemory } from "./schedule.js";
import { type MilpColumn, type MilpProblem, type MilpRow, milpText } from "./solver.js";

/** The windows of each def: stages it may be computed at, and held at. */
export interface Windows {
  /** Last stage it may be computed at. */
  readonly computeUntil: readonly number[];
  /** Last stage it may be held at. */
  readonly holdUntil: readonly number[];
}

/**
 * The windows of a graph's defs (see the module comment).
 *
 * @example
 * ```ts
 * rematWindows(graph).holdUntil[0]; // the last stage the first def can be needed at
 * ```
 */
export function rematWindows(graph: RematGraph): Windows {
  const n = graph.nodes.length;
  const computeUntil = new Array<number>(n).fill(0);
  const holdUntil = new Array<number>(n).fill(0);
  for (let v = n - 1; v >= 0; v--) {
    const node = graph.nodes[v]!;
    const readersUntil = node.succs.reduce((a, c) => Math.max(a, computeUntil[c]!), node.pos);
    if (node.output) {
      computeUntil[v] = node.succs.length > 0 ? Math.min(...node.succs) : n - 1;
      holdUntil[v] = n - 1;
    } else {
      computeUntil[v] = readersUntil;
      holdUntil[v] = readersUntil;
    }
  }
  return { computeUntil, holdUntil };
}

/** A model and how to read a schedule back from its solution. */
export interface RematModel {
  readonly problem: MilpProblem;
  /** Integer variables. */
  readonly integers: number;
  readonly rows: number;
  /** The bytes one unit of memory in the model stands for. */
  readonly unit: number;
  /** The model as CPLEX LP text (for reading; the solver gets `problem`). */
  lpText(): string;
  readSchedule(values: ArrayLike<number>): Schedule;
  /** A schedule as values of the model's columns, to start the solver from (null when it lies outside the windows). */
  startFrom(schedule: Schedule): Float64Array | null;
}

/**
 * The model for a graph: least recomputation within `budgetBytes`, or with
 * `minPeak`, the least peak.
 *
 * @example
 * ```ts
 * const model = rematModel(graph, { budgetBytes: 64 * 1024 });
 * solveMilp(model.problem, { timeLimitMs: 2000 });
 * ```
 */
export function rematModel(graph: RematGraph, options: { budgetBytes?: number; minPeak?: boolean }): RematModel {
  const n = graph.nodes.length;
  const { computeUntil, holdUntil } = rematWindows(graph);
  // Bytes are multiples of 16; coefficients in units of 16 bytes, or coarser for very large tensors (HiGHS prefers |a| ≤ 1e6).
  const largest = Math.max(16, ...graph.nodes.map((v) => Math.max(v.bytes, v.scratch)));
  const unit = Math.max(16, Math.ceil(largest / 1e6 / 16) * 16);
  const units = (bytes: number): number => Math.ceil(bytes / unit);
  const columns: MilpColumn[] = [];
  const rows: MilpRow[] = [];
  const rIndex = graph.nodes.map(() => new Map<number, number>());
  const lIndex = graph.nodes.map(() => new Map<number, number>());
  const column = (c: MilpColumn): number => columns.push(c) - 1;
  for (const v of graph.nodes) {
    for (let t = v.pos; t <= holdUntil[v.pos]!; t++) {
      if (t <= computeUntil[v.pos]!) rIndex[v.pos]!.set(t, column({ name: `r${v.pos}_${t}`, cost: options.minPeak ? 0 : v.cost, lower: 0, upper: 1, integer: true }));
      const fixed = v.output && t === n - 1 ? 1 : 0;
      lIndex[v.pos]!.set(t, column({ name: `l${v.pos}_${t}`, cost: 0, lower: fixed, upper: 1, integer: false }));
    }
  }
  const peak = options.minPeak ? column({ name: "peak", cost: 1, lower: 0, upper: Infinity, integer: false }) : -1;
  const r = (v: number, t: number): number => rIndex[v]!.get(t)!;
  const l = (v: number, t: number): number => lIndex[v]!.get(t)!;
  const memory: [number, number][][] = Array.from({ length: n }, () => []);
  const scratchRuns: { t: number; term: [number, number] }[] = [];
  for (const v of graph.nodes) {
    for (let t = v.pos; t <= holdUntil[v.pos]!; t++) {
      const computable = t <= computeUntil[v.pos]!;
      if (computable) {
        rows.push({ terms: [[r(v.pos, t), 1], [l(v.pos, t), -1]], upper: 0 });
        if (v.scratch > 0) scratchRuns.push({ t, term: [r(v.pos, t), units(v.scratch)] });
      }
      const terms: [number, number][] = [[l(v.pos, t), 1]];
      if (t > v.pos) terms.push([l(v.pos, t - 1), -1]);
      if (computable) terms.push([r(v.pos, t), -1]);
      rows.push({ terms, upper: 0 });
      memory[t]!.push([l(v.pos, t), units(v.bytes)]);
    }
    for (const c of v.succs) {
      for (let t = c; t <= computeUntil[c]!; t++) rows.push({ terms: [[r(c, t), 1], [l(v.pos, t), -1]], upper: 0 });
    }
    // Every def is computed at least once (the program is free of dead defs). The other rows imply this for 0/1 values
    // only; without it the relaxation may compute a def a fraction of a time, and its bound falls below the program's own cost.
    rows.push({ terms: [...rIndex[v.pos]!.values()].map((c): [number, number] => [c, -1]), upper: -1 });
    // Recomputation just in time: past its own stage, a def is computed only at a stage where a reader is. Not for an
    // output: computing one later than its place (up to its first reader, or the end) is how it is stored late, which
    // shortens the time it is held; an output nothing reads would otherwise be pinned to its own stage.
    for (let t = v.pos + 1; !v.output && t <= computeUntil[v.pos]!; t++) {
      const readers = v.succs.filter((c) => c <= t && t <= computeUntil[c]!).map((c): [number, number] => [r(c, t), -1]);
      rows.push({ terms: [[r(v.pos, t), 1], ...readers], upper: 0 });
    }
  }
  // Donated inputs: h[d,t] ∈ [0, 1] is held at stage t, never again once dropped, and held where a reader runs (an
  // in-place reader: at the stage before). Continuous as l is: for fixed r the least h is 0/1.
  const hIndex = graph.donated.map((d, k) => Array.from({ length: n }, (_, t) => column({ name: `h${k}_${t}`, cost: 0, lower: 0, upper: 1, integer: false })));
  graph.donated.forEach((d, k) => {
    const h = hIndex[k]!;
    for (let t = 1; t < n; t++) rows.push({ terms: [[h[t]!, 1], [h[t - 1]!, -1]], upper: 0 });
    for (const c of d.readers) {
      const inPlace = d.inPlace.includes(c);
      for (let t = c; t <= computeUntil[c]!; t++) {
        if (!inPlace) rows.push({ terms: [[r(c, t), 1], [h[t]!, -1]], upper: 0 });
        else if (t > 0) rows.push({ terms: [[r(c, t), 1], [h[t - 1]!, -1]], upper: 0 });
      }
    }
    // Two computations at one stage may not both be the in-place one: hold d there when more than one reader runs.
    for (let t = 0; t < n; t++) {
      const at = d.readers.filter((c) => c <= t && t <= computeUntil[c]!);
      if (at.length > 1) rows.push({ terms: [...at.map((c): [number, number] => [r(c, t), 1]), [h[t]!, -1]], upper: 1 });
    }
    for (let t = 0; t < n; t++) memory[t]!.push([h[t]!, units(d.bytes)]);
  });
  const floor = graph.donated.reduce((a, d) => a + units(d.bytes), 0);
  if (peak >= 0) columns[peak] = { ...columns[peak]!, lower: floor };
  const free = options.minPeak ? 0 : Math.floor((options.budgetBytes! - graph.persistentBytes) / unit);
  const limit = (terms: [number, number][]): MilpRow => (options.minPeak ? { terms: [...terms, [peak, -1]], upper: 0 } : { terms, upper: free });
  for (let t = 0; t < n; t++) {
    if (memory[t]!.length === 0) continue;
    rows.push(limit(memory[t]!));
    for (const s of scratchRuns) if (s.t === t) rows.push(limit([...memory[t]!, s.term]));
  }
  const problem: MilpProblem = { columns, rows };
  return {
    problem, integers: columns.filter((c) => c.integer).length, rows: rows.length, unit,
    lpText: () => milpText(problem),
    startFrom: (schedule) => {
      if (!withinWindows(graph, schedule)) return null;
      const m = scheduleMemory(graph, schedule);
      const values = new Float64Array(columns.length);
      for (const v of graph.nodes) {
        for (let t = v.pos; t <= holdUntil[v.pos]!; t++) {
          if (t <= computeUntil[v.pos]!) values[r(v.pos, t)] = schedule[v.pos]!.includes(t) ? 1 : 0;
          values[l(v.pos, t)] = m.live[v.pos]![t] ? 1 : 0;
        }
      }
      const held = donatedLiveness(graph, schedule);
      hIndex.forEach((h, k) => h.forEach((col, t) => { values[col] = held[k]![t] ? 1 : 0; }));
      if (peak >= 0) values[peak] = Math.ceil((m.peak - graph.persistentBytes) / unit) + 1;
      return values;
    },
    readSchedule: (values) => graph.nodes.map((v) => {
      const stages: number[] = [];
      for (let t = v.pos; t <= computeUntil[v.pos]!; t++) if ((values[r(v.pos, t)] ?? 0) > 0.5) stages.push(t);
      return stages;
    }),
  };
}

/**
 * Whether a schedule is one the model allows (every computation inside its
 * window), so a solution read back can be trusted only after this check and
 * {@link scheduleMemory}'s.
 */
export function withinWindows(graph: RematGraph, schedule: Schedule): boolean {
  const { computeUntil } = rematWindows(graph);
  return graph.nodes.every((v) => schedule[v.pos]!.length > 0 && schedule[v.pos]!.every((t) => t >= v.pos && t <= computeUntil[v.pos]!));
}
