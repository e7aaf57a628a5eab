/**
 * The one module that knows the MILP solver: HiGHS compiled to WebAssembly
 * (the npm package `highs`), loaded once per process on demand and then
 * called synchronously with a model in CPLEX LP text and a time limit.
 *
 *     await loadMilpSolver();
 *     solveMilp("Minimize\n obj: x\nSubject To\n c: x >= 1\nGeneral\n x\nEnd\n", { timeLimitMs: 1000 });
 *     // { status: "optimal", objective: 1, values: Map { "x" => 1 }, ms: 2.1 }
 */

/** How a solve ended. */
export type MilpStatus = "optimal" | "infeasible" | "time-limit" | "error";

/** What {@link solveMilp} found. */
export interface MilpResult {
  readonly status: MilpStatus;
  /** The best objective found (NaN when no solution). */
  readonly objective: number;
  /** Column values of the best solution found, or null when there is none. */
  readonly values: ReadonlyMap<string, number> | null;
  /** Wall-clock time of the solve. */
  readonly ms: number;
  /** HiGHS's own word for the outcome. */
  readonly detail: string;
  /** The relative gap between the solution and the best bound (0 when proved optimal). */
  readonly gap?: number;
}

/** The parts of the `highs` package used here (its persistent model API). */
interface HighsModel {
  readModel(source: { format: "lp"; data: string }): unknown;
  readonly options: { set(values: Record<string, unknown>): unknown };
  readonly info: { get(name: string): number | bigint };
  setSolution(solution: { indices: Int32Array; values: Float64Array }): unknown;
  run(): unknown;
  getModelStatus(): number;
  getSolution(): { colValue: Float64Array };
  getDimensions(): { numCols: number };
  getColName(index: number): string;
  getObjectiveValue(): number;
}
interface HighsLike {
  withModel<R>(operation: (model: HighsModel) => R): R;
  readonly constants: { readonly modelStatus: Readonly<Record<string, number>> };
}

let solver: HighsLike | null = null;
let loading: Promise<HighsLike> | null = null;

/** The solver's name in reports. */
export const MILP_SOLVER_NAME = "highs";

/**
 * Loads HiGHS (about 50 ms the first time; later calls return at once).
 *
 * @example
 * ```ts
 * await loadMilpSolver();
 * milpSolverLoaded(); // true
 * ```
 */
export async function loadMilpSolver(): Promise<void> {
  if (solver) return;
  loading ??= import("highs").then(async (m) => (m as unknown as { default: () => Promise<HighsLike> }).default());
  solver = await loading;
}

/** Whether {@link loadMilpSolver} has finished, so that {@link solveMilp} can run. */
export function milpSolverLoaded(): boolean {
  return solver !== null;
}

/**
 * Solves a MILP given as CPLEX LP text, within a time limit. A solve that
 * hits the limit with a solution returns it (`time-limit`); without one,
 * `values` is null.
 *
 * @throws Error when the solver has not been loaded
 * @example
 * ```ts
 * solveMilp(lpText, { timeLimitMs: 2000 }).status; // "optimal"
 * ```
 */
export function solveMilp(lp: string, options: { timeLimitMs: number; start?: ReadonlyMap<string, number> }): MilpResult {
  const highs = solver;
  if (!highs) throw new Error("the MILP solver is not loaded: await loadMilpSolver() first");
  const begin = performance.now();
  const codes = highs.constants.modelStatus;
  try {
    return highs.withModel((model) => {
      model.readModel({ format: "lp", data: lp });
      model.options.set({ time_limit: options.timeLimitMs / 1000, output_flag: false, mip_rel_gap: 1e-6 });
      const columns = model.getDimensions().numCols;
      const names = Array.from({ length: columns }, (_, k) => model.getColName(k));
      if (options.start) {
        const indices: number[] = [];
        const values: number[] = [];
        names.forEach((name, k) => {
          const v = options.start!.get(name);
          if (v !== undefined) { indices.push(k); values.push(v); }
        });
        model.setSolution({ indices: Int32Array.from(indices), values: Float64Array.from(values) });
      }
      model.run();
      const code = model.getModelStatus();
      const ms = performance.now() - begin;
      const status: MilpStatus = code === codes["optimal"] ? "optimal"
        : code === codes["infeasible"] ? "infeasible"
        : code === codes["timeLimit"] || code === codes["interrupted"] ? "time-limit"
        : "error";
      const detail = Object.keys(codes).find((k) => codes[k] === code) ?? String(code);
      const feasible = Number(model.info.get("primal_solution_status")) === 2;
      if (!feasible || (status !== "optimal" && status !== "time-limit")) return { status, objective: NaN, values: null, ms, detail };
      const x = model.getSolution().colValue;
      const gap = Number(model.info.get("mip_gap"));
      return { status, objective: model.getObjectiveValue(), values: new Map(names.map((name, k) => [name, x[k]!])), ms, detail, gap };
    });
  } catch (e) {
    return { status: "error", objective: NaN, values: null, ms: performance.now() - begin, detail: (e as Error).message };
  }
}
