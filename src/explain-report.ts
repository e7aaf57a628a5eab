/**
 * The data of the explain report: what explain.ts builds, what `tns explain`
 * prints (cli/commands/explain.ts) and draws (explain-svg.ts), and what the
 * language server shows.
 */
import type { PathInfo } from "./passes/contraction-path/path-info.js";
import type { IntermediateSize, ProgramCost } from "./passes/cost.js";
import type { Derivation, ProgramSlicing } from "./passes/manager.js";
import type { MemoryReport } from "./passes/rematerialize.js";

/** How much IR the report shows per pass. */
export type IrMode = "full" | "diff" | "none";

/** One line of an IR diff. */
export interface DiffLine {
  readonly op: "-" | "+";
  readonly line: string;
}

/** The headline numbers of a {@link ProgramCost}. */
export interface CostSummary {
  readonly flops: number;
  readonly bytesMoved: number;
  readonly largestIntermediate: IntermediateSize | null;
  readonly peakMemoryBytes: number;
}

/** One pass, explained. */
export interface ExplainedPass {
  readonly pass: string;
  readonly changed: boolean;
  readonly ms: number;
  readonly before: CostSummary;
  readonly after: CostSummary;
  /** The rewrite rules the pass applied, in order (empty for passes that apply none or do not list them). */
  readonly derivations: readonly Derivation[];
  /** The IR lines the pass removed and added (empty when unchanged). */
  readonly diff: readonly DiffLine[];
  /** The whole IR after the pass. */
  readonly ir: string;
}

/** One def that a pass split along a contraction path. */
export interface ExplainedContraction {
  readonly pass: string;
  readonly tensor: string;
  readonly intermediates: readonly string[];
  readonly info: PathInfo;
  /** How the contraction was sliced under a limit on intermediates; null when it was not over one. */
  readonly slicing: ProgramSlicing | null;
}

/** The whole report of `tns explain`. */
export interface ExplainReport {
  readonly sizes: Readonly<Record<string, number>>;
  readonly optimize: boolean;
  readonly passes: readonly ExplainedPass[];
  readonly contractions: readonly ExplainedContraction[];
  readonly costBefore: ProgramCost;
  readonly costAfter: ProgramCost;
  /** FLOPs before / after (null when after is 0 and before is not). */
  readonly speedup: number | null;
  /** The memory plan (the js backend's arena: no scratch space) and what rematerialization did. */
  readonly memory: MemoryReport;
}
