/**
 * The explain report of a program: every pass of the pipeline with the cost
 * before and after it, the IR it left and the diff, the contraction paths
 * chosen, and the memory plan (with rematerialization under a budget).
 * `tns explain` prints it (cli/commands/explain.ts), the language server
 * shows parts of it (lsp/analysis.ts), and the API exports it.
 */
import { slicingRefused } from "./compiler.js";
import { CompileError, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { Program } from "./ir/types.js";
import { printProgram } from "./ir/print.js";
import { defaultPipeline, loweringPipeline, runPasses } from "./passes/index.js";
import { programCost, type ProgramCost } from "./passes/cost.js";
import { lowerToKernels } from "./backends/kernel/lower.js";
import { planMemory } from "./backends/kernel/memory-plan.js";
import { runningSums } from "./backends/kernel/running-sum.js";
import type { Pass } from "./passes/pass.js";
import { donatedField, donateInputsPass, type MemoryReport, rematerializePass } from "./passes/rematerialize.js";
import type { CostSummary, DiffLine, ExplainedContraction, ExplainedPass, ExplainReport } from "./explain-report.js";

/** Options of {@link explainProgram}: the optimizing passes (default on), a memory budget, a limit on intermediates, the backend whose pipeline runs. */
export interface ExplainOptions {
  readonly optimize?: boolean;
  readonly memoryBudget?: number;
  readonly maxIntermediateBytes?: number;
  readonly backend?: string;
  /** Inputs donated by the caller (the `donate` compile option): the memory plan may reuse their storage. */
  readonly donate?: readonly string[] | "all";
}

/**
 * Runs the pipeline over a lowered program and collects the report.
 *
 * @example
 * ```ts
 * const report = explainProgram(check("size n = 64\ninput A[n, n], B[n, n], C[n, n]\noutput D[i, l] = A[i, j] * B[j, k] * C[k, l]").program!);
 * report.contractions[0]!.info.equation; // "ij,jk,kl->il"
 * report.speedup;                        // 48
 * ```
 */
export function explainProgram(program: Program, options: ExplainOptions = {}): ExplainReport {
  const result = explainWithin(program, options);
  if (!result.ok) throw new CompileError([result.diagnostic]);
  return result.report;
}

/**
 * {@link explainProgram}, or the diagnostic (TNS0701) when `memoryBudget`
 * is below the smallest peak found, or TNS0720 when a contraction cannot be
 * sliced under `maxIntermediateBytes`. `program` is the program the passes
 * (and rematerialization, under a budget) produced.
 */
export function explainWithin(
  program: Program, options: ExplainOptions = {},
): { ok: true; report: ExplainReport; program: Program } | { ok: false; diagnostic: Diagnostic } {
  const optimize = options.optimize ?? true;
  const pipeline = {
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.maxIntermediateBytes === undefined ? {} : { maxIntermediateBytes: options.maxIntermediateBytes }),
    ...(options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget }),
  };
  const passes: Pass[] = optimize ? defaultPipeline(pipeline) : loweringPipeline();
  if (options.donate !== undefined) passes.push(donateInputsPass(options.donate));
  let remat: ReturnType<typeof rematerializePass> | null = null;
  if (options.memoryBudget !== undefined) {
    // The plan is the kernel plan (js's); so are the running sums a sliced batch resumes.
    const backend = options.backend ?? "js";
    remat = rematerializePass({ budgetBytes: options.memoryBudget, runningSums: (p) => runningSums(p, backend) });
    passes.push(remat);
  }
  const { log, program: optimized } = runPasses(program, passes, { keepIr: true, cost: true });
  const refused = slicingRefused(log);
  if (refused) return { ok: false, diagnostic: refused };
  const last = remat?.lastResult() ?? null;
  if (last && !last.ok) return { ok: false, diagnostic: last.diagnostic };
  const plan = planMemory(lowerToKernels(optimized));
  const memory: MemoryReport = last?.ok ? last.report : {
    peakBytes: plan.bytes, budgetBytes: null, unplannedPeakBytes: plan.unplannedBytes, plannedPeakBeforeBytes: plan.bytes,
    recomputedFlops: 0, solver: { name: "none", status: "no-budget", ms: 0 }, recomputed: [], ...donatedField(optimized),
  };
  const costBefore = programCost(program);
  let before = costBefore;
  let irBefore = printProgram(program);
  const explained: ExplainedPass[] = [];
  const contractions: ExplainedContraction[] = [];
  for (const entry of log) {
    const after = entry.cost!;
    const ir = entry.ir!;
    explained.push({
      pass: entry.pass, changed: entry.changed, ms: entry.ms,
      before: summarizeCost(before), after: summarizeCost(after), derivations: entry.derivations ?? [],
      diff: entry.changed ? diffLines(irBefore, ir) : [], ir,
    });
    for (const note of entry.notes ?? []) {
      contractions.push({ pass: entry.pass, tensor: note.tensor, intermediates: note.intermediates, info: note.info, slicing: note.slicing ?? null });
    }
    before = after;
    irBefore = ir;
  }
  const costAfter = before;
  const speedup = costAfter.flops > 0 ? costBefore.flops / costAfter.flops : costBefore.flops === 0 ? 1 : null;
  const report = { sizes: program.sizes, optimize, passes: explained, contractions, costBefore, costAfter, speedup, memory };
  return { ok: true, report, program: optimized };
}

/** The headline numbers of a program's cost. */
export function summarizeCost(c: ProgramCost): CostSummary {
  return { flops: c.flops, bytesMoved: c.bytesMoved, largestIntermediate: c.largestIntermediate, peakMemoryBytes: c.peakMemory.bytes };
}

/**
 * The lines removed from `before` and added in `after`, in order, along a
 * longest common subsequence of lines.
 *
 * @example
 * ```ts
 * diffLines("a\nb\nc\n", "a\nB\nc\n"); // [{ op: "-", line: "b" }, { op: "+", line: "B" }]
 * ```
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split("\n").filter((l) => l !== "");
  const b = after.split("\n").filter((l) => l !== "");
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ op: "-", line: a[i++]! });
    } else {
      out.push({ op: "+", line: b[j++]! });
    }
  }
  return out;
}
