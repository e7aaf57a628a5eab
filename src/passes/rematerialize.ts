/**
 * rematerialize: under a memory budget, chooses which intermediates to keep
 * and which to compute again, so that the planned peak (the arena of the
 * memory planner, kernel/memory-plan.ts) fits the budget at the least extra
 * compute. It solves a mixed-integer program (remat/milp.ts) with HiGHS
 * (remat/solver.ts) under a time limit, started from the best of a greedy
 * and of Chen et al.'s checkpointing (remat/heuristic.ts), which it falls
 * back to when the solver finds nothing in time. A recomputation is a copy
 * of the def under a fresh name, placed just before the readers it serves
 * (remat/realize.ts); the copy computes exactly what the def computes, from
 * the same values, so outputs are bitwise those of the program without a
 * budget on the same backend. Runs after every other pass (CSE would merge
 * the copies back).
 *
 * Before, with a budget of three tensors of h's size (x an input):
 *
 *     h = relu(x · W1)          # held until y reads it
 *     g = tanh(h · W2)
 *     z = g · W3
 *     output y = z + h
 *
 * After:
 *
 *     h = relu(x · W1)
 *     g = tanh(h · W2)          # h dies here
 *     z = g · W3
 *     h_r1 = relu(x · W1)       # computed again, right before its reader
 *     output y = z + h_r1
 *
 * A budget below the smallest peak it can find is a diagnostic (TNS0701)
 * that states that peak (the least-peak search, then a bisection between
 * the budget and it).
 *
 * Inputs the caller donates (`Program.donated`, the `donate` compile
 * option) are held only to their last reader, and not at a last reader
 * that updates them in place; the model and the heuristics count them so
 * (`donatedLiveness` in remat/schedule.ts), and a schedule may move that
 * last reader (recomputing a def that reads a donated input keeps it).
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DefNode, DType, Program } from "../ir/types.js";
import { lowerToKernels } from "../backends/kernel/lower.js";
import { type MemoryPlan, type PeakKernel, planMemory } from "../backends/kernel/memory-plan.js";
import { PROPERTIES, type Pass } from "./pass.js";
import { sliceBatch, type SlicedProgram } from "./slice-batch.js";
import { bestHeuristic, greedyMinPeak, type HeuristicResult } from "./remat/heuristic.js";
import { rematModel, rematWindows, withinWindows } from "./remat/milp.js";
import { realizeSchedule, type Recomputation } from "./remat/realize.js";
import { baselineSchedule, rematGraph, type RematGraph, type Schedule, scheduleMemory, startBytes } from "./remat/schedule.js";
import { MILP_SOLVER_NAME, milpSolverLoaded, solveMilp } from "./remat/solver.js";

export { loadMilpSolver, milpSolverLoaded } from "./remat/solver.js";
export type { Recomputation } from "./remat/realize.js";

/** Options of {@link rematerialize}. */
export interface RematerializeOptions {
  /** The most bytes the arena may take (inputs and weights included). */
  readonly budgetBytes: number;
  /** The memory plan of a program on the backend at hand (default: the kernel plan without scratch, as the js backend has it). */
  readonly plan?: (program: Program) => MemoryPlan;
  /**
   * Time for planning, in milliseconds (default {@link REMAT_TIME_LIMIT_MS}):
   * the heuristics take up to a third of it, the solver what is left. The
   * greedy from the program as written always runs to its end, so a budget
   * it can meet is never refused for lack of time. Refusing a budget takes
   * up to as long again (the search for the smallest peak).
   */
  readonly timeLimitMs?: number;
  /** Use the MILP solver (default true); false plans with the heuristics alone. */
  readonly useSolver?: boolean;
  /**
   * For slicing by rows of the batch when no schedule of whole tensors fits
   * (`slice-batch.ts`): the type in which the backend's kernel for each
   * reduction of a program keeps its running sum (`runningSumType`), or
   * null for each when the backend cannot resume its sums. Absent: no
   * slicing.
   */
  readonly runningSums?: (program: Program) => (def: DefNode) => DType | null;
}

/** The time for planning, by default. */
export const REMAT_TIME_LIMIT_MS = 1500;

/** The most slices a batch is cut into under a budget (each slice is a copy of the row-local defs). */
export const MAX_BATCH_SLICES = 64;

/**
 * Models with more integer variables than this go to the heuristics
 * without trying the solver: HiGHS reads such a model (before its time
 * limit starts) for seconds, and rarely improves on its start in time.
 */
export const REMAT_MAX_INTEGERS = 20_000;

/** Below this many milliseconds left, the solver is not started. */
const SOLVER_MIN_MS = 100;

/** The share of the time left that the solver is given as its limit. */
const SOLVER_SHARE = 0.6;

/** How the plan was found. */
export interface SolverReport {
  /** `highs`, `heuristic` (the fallback) or `none` (nothing to solve). */
  readonly name: string;
  /**
   * `optimal`, `time-limit` (the best solution found in time), `not-needed`,
   * or why the heuristic was used; `least-peak` (heuristic) or
   * `least-peak-optimal`/`least-peak-time-limit` (solver) when no schedule
   * for the budget fit once placed, and the least-peak schedule did;
   * `solver-schedule-over-after-placement` (heuristic) when the solver's
   * schedule did not fit once placed and the heuristics' did.
   */
  readonly status: string;
  /** Time spent planning, in milliseconds. */
  readonly ms: number;
  /** The solver's relative gap to its bound, when it stopped at the time limit. */
  readonly gap?: number;
  /** Whether the solver's schedule recomputes less than the heuristics' schedule it started from (absent when it had none). */
  readonly improvedOnStart?: boolean;
}

/** What {@link rematerialize} did: the memory section of `tns explain`. */
export interface MemoryReport {
  /** The planned peak of the result (the arena's bytes). */
  readonly peakBytes: number;
  readonly budgetBytes: number | null;
  /** The peak with every buffer in its own space (nothing planned). */
  readonly unplannedPeakBytes: number;
  /** The planned peak of the program before rematerialization. */
  readonly plannedPeakBeforeBytes: number;
  readonly recomputedFlops: number;
  readonly solver: SolverReport;
  readonly recomputed: readonly Recomputation[];
  /** The inputs whose storage the plan reuses ({@link Program.donated}); absent when none. */
  readonly donated?: readonly string[];
  /**
   * How the program was sliced by rows of its batch (the solver is then
   * `batch-slicing`): the input and dimension the axis starts from, the
   * slices and their rows, the reductions resumed slice by slice and the
   * tensors concatenated whole. Absent when it was not.
   */
  readonly slicedBatch?: { readonly input: string; readonly dim: number; readonly slices: number; readonly rows: number; readonly resumed: readonly string[]; readonly whole: readonly string[] };
}

/** The result of {@link rematerialize}: the program and its report, or a diagnostic when the budget cannot be met. */
export type RematResult =
  | { readonly ok: true; readonly program: Program; readonly report: MemoryReport }
  | { readonly ok: false; readonly diagnostic: Diagnostic; readonly smallestBytes: number };

/**
 * Fits a program without calls into a memory budget.
 *
 * @example
 * ```ts
 * await loadMilpSolver();
 * const r = rematerialize(program, { budgetBytes: 64 * 1024 });
 * if (r.ok) r.report.peakBytes <= 64 * 1024; // true
 * ```
 */
export function rematerialize(program: Program, options: RematerializeOptions): RematResult {
  const begin = performance.now();
  const plan = options.plan ?? ((p: Program) => planMemory(lowerToKernels(p)));
  const budget = options.budgetBytes;
  const before = plan(program);
  const report = (after: MemoryPlan, solver: SolverReport, recomputed: readonly Recomputation[], flops: number): MemoryReport => ({
    peakBytes: after.bytes, budgetBytes: budget, unplannedPeakBytes: before.unplannedBytes, plannedPeakBeforeBytes: before.bytes,
    recomputedFlops: flops, solver, recomputed, ...donatedField(program),
  });
  if (before.bytes <= budget) {
    return { ok: true, program, report: report(before, { name: "none", status: "not-needed", ms: performance.now() - begin }, [], 0) };
  }
  const graph = rematGraph(program, (k) => before.scratchBytes.get(k) ?? 0);
  const timeLimitMs = options.timeLimitMs ?? REMAT_TIME_LIMIT_MS;
  const deadline = begin + timeLimitMs;
  // The model counts whole stages; the arena may need more (placement): tighten and solve again.
  let target = budget;
  for (let attempt = 0; attempt < 4; attempt++) {
    const found = planSchedule(graph, target, deadline, options.useSolver ?? true);
    if (found === null) break;
    // The solver's schedule first (it recomputes least); when the arena does not fit it, the heuristics' schedule it
    // started from may fit (the model counts bytes per stage, the arena places them).
    const candidates = [{ schedule: found.schedule, solver: found.solver }];
    if (found.start !== null && found.start !== found.schedule) {
      candidates.push({ schedule: found.start, solver: { name: "heuristic", status: "solver-schedule-over-after-placement", ms: 0 } });
    }
    let over = Infinity;
    for (const c of candidates) {
      const realized = realizeSchedule(program, graph, c.schedule);
      const after = plan(realized.program);
      if (after.bytes <= budget) {
        const solver = { ...c.solver, ms: performance.now() - begin };
        return { ok: true, program: realized.program, report: report(after, solver, realized.recomputed, scheduleMemory(graph, c.schedule).recomputedFlops) };
      }
      over = Math.min(over, after.bytes - budget);
    }
    target -= Math.max(16, over);
  }
  // No schedule of whole tensors fits: computed by rows of its batch, the program may (one slice's activations at a time).
  const sliced = options.runningSums === undefined ? null : sliceWithin(program, budget, plan, options.runningSums(program));
  if (sliced?.fits === true) {
    const solver = { name: "batch-slicing", status: `sliced-${sliced.slicing.slices}`, ms: performance.now() - begin };
    const { input, dim, slices, rows, resumed, whole } = sliced.slicing;
    return { ok: true, program: sliced.slicing.program, report: { ...report(sliced.plan, solver, [], 0), slicedBatch: { input, dim, slices, rows, resumed, whole } } };
  }
  const least = smallestPeak(program, graph, plan, performance.now() + timeLimitMs, options.useSolver ?? true);
  // The search for the least peak may find a schedule that the placement of the arena (or the pool) fits in the budget after all.
  if (least.bytes <= budget) {
    const solver = { ...least.solver, ms: performance.now() - begin };
    return { ok: true, program: least.program, report: report(plan(least.program), solver, least.recomputed, least.recomputedFlops) };
  }
  // The least-peak objective may stop far from its optimum; schedules for budgets between the refused one and the least
  // peak found often reach lower: bisect, so that the error states the smallest budget known to work.
  const bisected = bisectPeak(program, graph, plan, budget, least.bytes, performance.now() + timeLimitMs, options.useSolver ?? true);
  if (bisected !== null && bisected.bytes <= budget) {
    const solver = { ...bisected.solver, ms: performance.now() - begin };
    return { ok: true, program: bisected.program, report: report(plan(bisected.program), solver, bisected.recomputed, bisected.recomputedFlops) };
  }
  const smallest = Math.min(before.bytes, least.bytes, bisected?.bytes ?? Infinity, sliced?.plan.bytes ?? Infinity);
  const held = heldAtEndBytes(program);
  const notes = [{ message: `the program needs ${showBytes(before.bytes)} as written` }];
  // A floor no schedule goes below (element sizes as the IR has them; a backend that stores fewer bytes gets no such note).
  if (held.inputs + held.outputs <= smallest) {
    notes.push({
      message: `${graph.donated.length > 0 ? "inputs and weights not donated" : "inputs and weights"} (${showBytes(held.inputs)}) and outputs (${showBytes(held.outputs)}) are all held at the last kernel: ` +
        `no schedule needs less than ${showBytes(held.inputs + held.outputs)}`,
    });
  }
  // Where the smallest schedule found peaks, and what it holds there: what a smaller budget would have to give up.
  const smallestProgram = smallest === before.bytes ? program : smallest === least.bytes ? least.program
    : smallest === bisected?.bytes ? bisected.program : sliced!.slicing.program;
  const peak = plan(smallestProgram).peak;
  if (peak !== undefined) notes.push({ message: peakNote(peak) });
  return {
    ok: false, smallestBytes: smallest,
    diagnostic: {
      code: "TNS0701", severity: "error", notes,
      message: `memory budget ${showBytes(budget)} is below the smallest peak found for this program, ${showBytes(smallest)} (${smallest} bytes)`,
      hint: `give --memory-budget ${smallest} or more`,
    },
  };
}

/** A slicing {@link sliceWithin} found: along which input dimension, its plan, and whether that fits the budget. */
interface SlicingFound {
  readonly fits: boolean;
  readonly slicing: SlicedProgram & { readonly input: string; readonly dim: number };
  readonly plan: MemoryPlan;
}

/**
 * The program sliced by rows of its batch into the fewest slices (2, 4, 8,
 * ...) whose plan fits `budget`, along the first axis (an input's
 * dimension) that has one (`fits`); when none fits, the slicing with the
 * smallest plan found, for the error to state; null when the program has no
 * axis to slice.
 */
function sliceWithin(
  program: Program, budget: number, plan: (p: Program) => MemoryPlan, runningSum: (def: DefNode) => DType | null,
): SlicingFound | null {
  let best: SlicingFound | null = null;
  for (const input of program.tensors) {
    if (input.role !== "input") continue;
    for (let dim = 0; dim < input.shape.length; dim++) {
      const extent = input.shape[dim]!;
      for (let slices = 2; slices <= Math.min(extent, MAX_BATCH_SLICES); slices *= 2) {
        const s = sliceBatch(program, { input: input.name, dim, slices, accumulator: runningSum });
        if (!s.ok) break;
        const p = plan(s.program);
        const found = { fits: p.bytes <= budget, slicing: { ...s, input: input.name, dim }, plan: p };
        if (found.fits) return found;
        if (best === null || p.bytes < best.plan.bytes) best = found;
        if (s.rows === 1) break;
      }
    }
  }
  return best;
}

/** A schedule within `budget` by the model's count: the solver's, started from the heuristics', or the heuristics' alone. */
function planSchedule(
  graph: RematGraph, budget: number, deadline: number, useSolver: boolean,
): { schedule: Schedule; solver: SolverReport; start: Schedule | null } | null {
  const now = performance.now();
  // Before the first kernel every input is held, donated ones too: no schedule goes below that.
  if (startBytes(graph) > budget) return null;
  const { computeUntil } = rematWindows(graph);
  const integers = graph.nodes.reduce((a, v) => a + computeUntil[v.pos]! - v.pos + 1, 0);
  const skip = !useSolver ? "solver-off" : !milpSolverLoaded() ? "solver-not-loaded" : integers > REMAT_MAX_INTEGERS ? "model-too-large" : null;
  // The heuristics get a third of the time when the solver runs after them, all of it when not.
  const start = bestHeuristic(graph, budget, now + Math.max(0, deadline - now) / (skip === null ? 3 : 1));
  const startSchedule = start.fits ? start.schedule : null;
  const fallback = (status: string): { schedule: Schedule; solver: SolverReport; start: Schedule | null } | null =>
    start.fits ? { schedule: start.schedule, solver: { name: "heuristic", status, ms: 0 }, start: startSchedule } : null;
  if (skip !== null) return fallback(skip);
  const model = rematModel(graph, { budgetBytes: budget });
  const left = deadline - performance.now();
  if (left < SOLVER_MIN_MS) return fallback("no-time-left");
  // HiGHS checks its limit now and then and overruns it by up to about half: ask for less.
  const result = solveMilp(model.problem, { timeLimitMs: left * SOLVER_SHARE, start: start.fits ? model.startFrom(start.schedule) ?? undefined : undefined });
  if (result.status === "infeasible") return null;
  if (result.values === null) return fallback(`solver-${result.status}`);
  const schedule = model.readSchedule(result.values);
  if (!withinWindows(graph, schedule) || !valid(graph, schedule, budget)) return fallback("solver-solution-rejected");
  // A solve stopped by the time limit may return its start unchanged, or worse: keep the better.
  const startCost = start.fits ? scheduleMemory(graph, start.schedule).extraCost : Infinity;
  const cost = scheduleMemory(graph, schedule).extraCost;
  if (startCost < cost) {
    return { schedule: start.schedule, solver: { name: "heuristic", status: `better-than-solver-${result.status}`, ms: 0 }, start: startSchedule };
  }
  const gap = result.status === "time-limit" && result.gap !== undefined && Number.isFinite(result.gap) ? { gap: result.gap } : {};
  const improved = start.fits ? { improvedOnStart: cost < startCost } : {};
  return { schedule, solver: { name: MILP_SOLVER_NAME, status: result.status, ms: result.ms, ...gap, ...improved }, start: startSchedule };
}

function valid(graph: RematGraph, schedule: Schedule, budget: number): boolean {
  try {
    return scheduleMemory(graph, schedule).peak <= budget;
  } catch {
    return false;
  }
}

/** The least planned peak found, and the program that has it: the solver's least-peak schedule, or the greedy's. */
function smallestPeak(
  program: Program, graph: RematGraph, plan: (p: Program) => MemoryPlan, deadline: number, useSolver: boolean,
): { bytes: number; program: Program; recomputed: Recomputation[]; recomputedFlops: number; solver: SolverReport } {
  const candidates: { schedule: Schedule; solver: SolverReport }[] = [];
  const greedy: HeuristicResult = greedyMinPeak(graph, baselineSchedule(graph), performance.now() + Math.max(0, deadline - performance.now()) / 3);
  candidates.push({ schedule: greedy.schedule, solver: { name: "heuristic", status: "least-peak", ms: 0 } });
  if (useSolver && milpSolverLoaded()) {
    const model = rematModel(graph, { minPeak: true });
    const left = deadline - performance.now();
    if (model.integers <= REMAT_MAX_INTEGERS && left >= SOLVER_MIN_MS) {
      // HiGHS checks its limit now and then and overruns it by up to about half: ask for less.
      const result = solveMilp(model.problem, { timeLimitMs: left * SOLVER_SHARE, start: model.startFrom(greedy.schedule) ?? undefined });
      if (result.values !== null) {
        const schedule = model.readSchedule(result.values);
        if (withinWindows(graph, schedule) && valid(graph, schedule, Infinity)) {
          candidates.push({ schedule, solver: { name: MILP_SOLVER_NAME, status: `least-peak-${result.status}`, ms: result.ms } });
        }
      }
    }
  }
  const realized = candidates.map((c) => {
    const r = realizeSchedule(program, graph, c.schedule);
    return { bytes: plan(r.program).bytes, program: r.program, recomputed: r.recomputed, recomputedFlops: scheduleMemory(graph, c.schedule).recomputedFlops, solver: c.solver };
  });
  return realized.sort((a, b) => a.bytes - b.bytes || a.recomputedFlops - b.recomputedFlops)[0]!;
}

/** Up to this many budgets are tried between a refused budget and the least peak found. */
const BISECT_STEPS = 4;

/**
 * The smallest planned peak among schedules for budgets between `low`
 * (refused) and `high` (a peak already found), halving the interval up to
 * {@link BISECT_STEPS} times before `deadline`; null when none is found.
 */
function bisectPeak(
  program: Program, graph: RematGraph, plan: (p: Program) => MemoryPlan, low: number, high: number, deadline: number, useSolver: boolean,
): { bytes: number; program: Program; recomputed: Recomputation[]; recomputedFlops: number; solver: SolverReport } | null {
  let best: ReturnType<typeof bisectPeak> = null;
  for (let step = 0; step < BISECT_STEPS && high - low > 16; step++) {
    const now = performance.now();
    if (now >= deadline) break;
    const mid = Math.floor((low + high) / 32) * 16;
    const found = planSchedule(graph, mid, now + (deadline - now) / (BISECT_STEPS - step), useSolver);
    const realized = found === null ? null : realizeSchedule(program, graph, found.schedule);
    const bytes = realized === null ? Infinity : plan(realized.program).bytes;
    if (found === null || realized === null || bytes >= high) {
      low = mid;
      continue;
    }
    high = bytes;
    best = { bytes, program: realized.program, recomputed: realized.recomputed, recomputedFlops: scheduleMemory(graph, found.schedule).recomputedFlops, solver: found.solver };
  }
  return best;
}

/**
 * What every schedule of a program holds at its last kernel: its inputs and
 * weights (held for the whole run, as the caller passes them; not the
 * donated inputs, which are held only to their last reader) and its
 * outputs (held from where they are computed to the end, when the run
 * returns them), in bytes rounded up to the arena's 16-byte alignment. The
 * sum is a floor under any planned peak.
 *
 * @example
 * ```ts
 * const { inputs, outputs } = heldAtEndBytes(program);
 * rematerialize(program, { budgetBytes: inputs + outputs - 16 }).ok; // false
 * ```
 */
export function heldAtEndBytes(program: Program): { inputs: number; outputs: number } {
  const graph = rematGraph(program);
  return { inputs: graph.persistentBytes, outputs: graph.nodes.reduce((a, v) => a + (v.output ? v.bytes : 0), 0) };
}

/**
 * `at its peak (the kernel that writes W1_next) the smallest schedule found
 * holds W1 / W1_next 32.0 KiB, grad_H_r_H 16.0 KiB, X 8.0 KiB, ... and 9
 * more (2.1 KiB)`: the six largest, names written over each other joined.
 */
function peakNote(peak: PeakKernel): string {
  const where = peak.target !== null ? `the kernel that writes ${peak.target}` : peak.kernel < 0 ? "before the first kernel" : "after the last kernel";
  // A chain of buffers written one over the other (the partial sums of a sliced batch) by its first and last.
  const names = (n: readonly string[]): string => (n.length <= 3 ? n.join(" / ") : `${n[0]} / … / ${n[n.length - 1]} (${n.length} in place)`);
  const shown = peak.held.slice(0, 6).map((h) => `${names(h.names)} ${showBytes(h.bytes)}`);
  const rest = peak.held.slice(6);
  const more = rest.length === 0 ? "" : ` and ${rest.length} more (${showBytes(rest.reduce((a, h) => a + h.bytes, 0))})`;
  return `at its peak (${where}) the smallest schedule found holds ${shown.join(", ")}${more}`;
}

function showBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/**
 * The pass form of {@link rematerialize}, for a pass list: it applies the
 * result, or leaves the program unchanged when the budget cannot be met;
 * `lastResult()` tells which.
 *
 * @example
 * ```ts
 * const pass = rematerializePass({ budgetBytes: 1 << 20 });
 * runPasses(program, [...defaultPipeline(), pass]);
 * pass.lastResult()?.ok;
 * ```
 */
export function rematerializePass(options: RematerializeOptions): Pass & {
  /** What the last run of the pass did (null before one). */
  lastResult(): RematResult | null;
} {
  let last: RematResult | null = null;
  return {
    name: "rematerialize",
    description: "recompute intermediates instead of holding them, so the planned peak fits a memory budget",
    requires: [PROPERTIES.noCalls],
    guarantees: [],
    preserves: [PROPERTIES.noCalls, PROPERTIES.canonical, PROPERTIES.folded, PROPERTIES.noDeadCode],
    run(program) {
      last = rematerialize(program, options);
      return last.ok ? last.program : program;
    },
    lastResult: () => last,
  };
}

/**
 * A pass that marks inputs as donated ({@link Program.donated}), for a pass
 * list that ends in {@link rematerializePass} (`tns explain --donate`): the
 * memory plan and the rematerialization after it may then reuse their
 * storage. Names that are not run-time inputs are left out.
 *
 * @example
 * ```ts
 * runPasses(program, [...defaultPipeline(), donateInputsPass("all"), rematerializePass({ budgetBytes })]);
 * ```
 */
export function donateInputsPass(donate: readonly string[] | "all"): Pass {
  return {
    name: "donate-inputs",
    description: "let the memory plan reuse the storage of inputs the caller donates",
    requires: [],
    guarantees: [],
    preserves: [PROPERTIES.noCalls, PROPERTIES.canonical, PROPERTIES.folded, PROPERTIES.noDeadCode],
    run(program) {
      const inputs = program.tensors.filter((t) => t.role === "input").map((t) => t.name);
      const names = inputs.filter((i) => donate === "all" || donate.includes(i));
      return names.length === 0 ? program : { ...program, donated: names };
    },
  };
}

/**
 * The `donated` field of a {@link MemoryReport} for a program: its donated
 * inputs, or nothing when it donates none.
 *
 * @example
 * ```ts
 * const report = { peakBytes, ...donatedField(program) };
 * ```
 */
export function donatedField(program: Program): { donated?: readonly string[] } {
  return program.donated !== undefined && program.donated.length > 0 ? { donated: program.donated } : {};
}
