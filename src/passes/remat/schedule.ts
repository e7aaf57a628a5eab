/**
 * The model rematerialization plans on: the program's defs as a graph in
 * program order, and a schedule saying at which stages each def is computed.
 *
 * Stage t is the place of def t in the program. A schedule computes a def at
 * one or more stages at or after its own; within a stage, defs run in
 * program order (so a def recomputed at stage t runs before def t, and its
 * own operands, recomputed at the same stage, before it). A computation
 * reads, of each operand, the latest version computed at or before its
 * stage. A version is live from the stage that computes it through the last
 * stage that reads it (an output's last version: through the end); memory at
 * a stage is the sum of the versions live there, plus the inputs and
 * weights, plus the largest scratch space of a kernel run in it. This counts
 * everything live at any moment of a stage as live for the whole stage, so
 * the memory planner, which frees a buffer right after its last reader,
 * never needs more at any kernel (the difference is placement in the arena,
 * which the pass checks after planning).
 *
 *     graph:    a → b → c → d, d reads a too         (stages 0..3)
 *     baseline: a@0 b@1 c@2 d@3: a live 0..3
 *     remat:    a@0 b@1 c@2 a@3 d@3: the first a live 0..1, the second at 3 only
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { DefNode, Program } from "../../ir/types.js";
import { numel } from "../../ir/types.js";
import { accessedTensors } from "../../ir/walk.js";
import { defFlops } from "../../backends/kernel/flops.js";
import { elementBytes } from "../cost.js";
import { lowerToKernels } from "../../backends/kernel/lower.js";
import { updatesInPlace } from "../../backends/kernel/memory-plan.js";

/** One def of the program, as the planner sees it. */
export interface RematNode {
  readonly name: string;
  /** Its stage: the place among the program's defs. */
  readonly pos: number;
  /** Bytes, rounded up to the arena's 16-byte alignment. */
  readonly bytes: number;
  /** FLOPs of computing it once (cost.ts). */
  readonly flops: number;
  /** What one more computation costs in the objective: its FLOPs, and at least its elements (a copy is not free). */
  readonly cost: number;
  /** Scratch bytes its kernel needs while it runs (0 for none). */
  readonly scratch: number;
  /** Positions of the defs it reads. */
  readonly preds: readonly number[];
  /** Positions of the defs that read it. */
  readonly succs: readonly number[];
  readonly output: boolean;
}

/**
 * A donated input ({@link Program.donated}): held from the start through
 * the last stage that reads it; at a stage where its last reader is one
 * that updates it in place (the memory planner's rule, `updatesInPlace`),
 * that reader's bytes take its place and it is not counted.
 */
export interface DonatedInput {
  readonly name: string;
  /** Bytes, rounded up to the arena's 16-byte alignment. */
  readonly bytes: number;
  /** Positions of the defs that read it. */
  readonly readers: readonly number[];
  /** Those of `readers` whose kernel may write over it in place. */
  readonly inPlace: readonly number[];
}

/** The defs of an inlined program and the bytes of its inputs and weights. */
export interface RematGraph {
  readonly nodes: readonly RematNode[];
  /** Inputs and weights that are held for the whole run (all but the donated inputs). */
  readonly persistentBytes: number;
  /** Donated inputs (none when the program donates nothing). */
  readonly donated: readonly DonatedInput[];
}

/** For each def (by position), the stages that compute it, ascending. */
export type Schedule = readonly (readonly number[])[];

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * The graph of a program without calls. `scratch(k)` is the scratch the
 * kernel of the k-th def needs on the backend at hand.
 *
 * @example
 * ```ts
 * rematGraph(program).nodes.map((n) => n.name); // the defs, in program order
 * ```
 */
export function rematGraph(program: Program, scratch: (def: number) => number = () => 0): RematGraph {
  const defs = program.tensors.filter((t): t is DefNode => t.role === "def");
  if (program.tensors.some((t) => t.role === "call")) throw new InternalCompilerError("rematerialization needs a program without calls");
  const posOf = new Map(defs.map((d, k) => [d.name, k]));
  const preds = defs.map((d) => [...accessedTensors(d.body)].flatMap((r) => (posOf.has(r) && r !== d.name ? [posOf.get(r)!] : [])).sort((a, b) => a - b));
  const succs: number[][] = defs.map(() => []);
  preds.forEach((ps, k) => ps.forEach((p) => succs[p]!.push(k)));
  const donatedNames = new Set(program.donated ?? []);
  const bytesOf = (t: { shape: readonly number[]; dtype: DefNode["dtype"] }): number => align16(Math.max(1, numel(t.shape) * elementBytes(t.dtype)));
  const persistentBytes = program.tensors
    .filter((t) => (t.role === "input" && !donatedNames.has(t.name)) || t.role === "weight")
    .reduce((a, t) => a + bytesOf(t), 0);
  let donated: DonatedInput[] = [];
  if (donatedNames.size > 0) {
    // The kernels are the defs in order (lowerToKernels): the planner's in-place rule, per reader.
    const kernels = lowerToKernels(program).kernels;
    donated = program.tensors.filter((t) => t.role === "input" && donatedNames.has(t.name)).map((t) => {
      const readers = defs.flatMap((d, k) => (accessedTensors(d.body).has(t.name) ? [k] : []));
      const inPlace = readers.filter((k) => kernels[k] !== undefined && kernels[k]!.target === defs[k]!.name && bytesOf(defs[k]!) <= bytesOf(t)
        && elementBytes(defs[k]!.dtype) === elementBytes(t.dtype) && updatesInPlace(kernels[k]!, t.name));
      return { name: t.name, bytes: bytesOf(t), readers, inPlace };
    });
  }
  const nodes = defs.map((d, k) => {
    const flops = defFlops(d);
    return {
      name: d.name, pos: k, bytes: align16(Math.max(1, numel(d.shape) * elementBytes(d.dtype))),
      flops, cost: Math.max(flops, numel(d.shape)), scratch: scratch(k), preds: preds[k]!, succs: succs[k]!, output: d.output,
    };
  });
  return { nodes, persistentBytes, donated };
}

/**
 * Where each donated input is held under a schedule: from stage 0 through
 * the last stage that computes one of its readers, less that stage when
 * every computation of a reader there may update it in place (then the
 * reader's bytes stand for it).
 *
 * @example
 * ```ts
 * donatedLiveness(graph, baselineSchedule(graph))[0]; // [true, true, false, ...]: held until its last reader
 * ```
 */
export function donatedLiveness(graph: RematGraph, schedule: Schedule): boolean[][] {
  const n = graph.nodes.length;
  return graph.donated.map((d) => {
    let last = -1;
    for (const c of d.readers) for (const t of schedule[c]!) last = Math.max(last, t);
    const inPlaceAtLast = last >= 0 && d.readers.every((c) => !schedule[c]!.includes(last) || d.inPlace.includes(c))
      && d.readers.filter((c) => schedule[c]!.includes(last)).length === 1;
    const through = inPlaceAtLast ? last - 1 : last;
    return Array.from({ length: n }, (_, t) => t <= through);
  });
}

/** Bytes of donated inputs held at each stage (see {@link donatedLiveness}). */
export function donatedBytes(graph: RematGraph, schedule: Schedule): Float64Array {
  const bytes = new Float64Array(graph.nodes.length);
  donatedLiveness(graph, schedule).forEach((live, k) => live.forEach((l, t) => { if (l) bytes[t]! += graph.donated[k]!.bytes; }));
  return bytes;
}

/** What every schedule holds before its first kernel: the inputs and weights, donated ones included. */
export function startBytes(graph: RematGraph): number {
  return graph.persistentBytes + graph.donated.reduce((a, d) => a + d.bytes, 0);
}

/** Every def computed once, at its own stage: the program as written. */
export function baselineSchedule(graph: RematGraph): Schedule {
  return graph.nodes.map((n) => [n.pos]);
}

/** What a schedule needs, stage by stage. */
export interface ScheduleMemory {
  /** Bytes at each stage (inputs and weights included). */
  readonly stages: readonly number[];
  readonly peak: number;
  /** For each def, at each stage, whether a version of it is live. */
  readonly live: readonly (readonly boolean[])[];
  /** FLOPs of the computations beyond the first of each def. */
  readonly recomputedFlops: number;
  /** The objective: the cost of every computation beyond one per def. */
  readonly extraCost: number;
}

/**
 * The memory a schedule needs at each stage, or an internal error when a
 * computation has no version of an operand to read.
 *
 * @example
 * ```ts
 * scheduleMemory(graph, baselineSchedule(graph)).peak; // what the program needs as written
 * ```
 */
export function scheduleMemory(graph: RematGraph, schedule: Schedule): ScheduleMemory {
  const n = graph.nodes.length;
  const live = graph.nodes.map(() => new Array<boolean>(n).fill(false));
  const scratchAt = new Array<number>(n).fill(0);
  const mark = (v: number, from: number, to: number): void => {
    for (let t = from; t <= to; t++) live[v]![t] = true;
  };
  const versionAt = (v: number, t: number): number => {
    const stages = schedule[v]!;
    let best = -1;
    for (const s of stages) if (s <= t) best = s;
    return best;
  };
  let recomputedFlops = 0;
  let extraCost = 0;
  for (const node of graph.nodes) {
    const stages = schedule[node.pos]!;
    if (stages.length === 0) throw new InternalCompilerError(`schedule never computes ${node.name}`);
    recomputedFlops += node.flops * (stages.length - 1);
    extraCost += node.cost * (stages.length - 1);
    for (const t of stages) {
      if (t < node.pos || t >= n) throw new InternalCompilerError(`schedule computes ${node.name} at stage ${t}, before its own or past the end`);
      mark(node.pos, t, t);
      scratchAt[t] = Math.max(scratchAt[t]!, node.scratch);
      for (const p of node.preds) {
        const s = versionAt(p, t);
        if (s < 0) throw new InternalCompilerError(`schedule computes ${node.name} at stage ${t} before any version of ${graph.nodes[p]!.name}`);
        mark(p, s, t);
      }
    }
    if (node.output) mark(node.pos, stages.at(-1)!, n - 1);
  }
  const donated = donatedBytes(graph, schedule);
  const stages = Array.from({ length: n }, (_, t) =>
    graph.persistentBytes + donated[t]! + scratchAt[t]! + graph.nodes.reduce((a, v) => a + (live[v.pos]![t] ? v.bytes : 0), 0));
  return { stages, peak: Math.max(startBytes(graph), ...stages), live, recomputedFlops, extraCost };
}
