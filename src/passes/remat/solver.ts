/**
 * The one module that knows the MILP solver: HiGHS compiled to WebAssembly
 * (the npm package `highs`), loaded once per process on demand and then
 * called synchronously with a model (columns, and rows of `Σ a·x ≤ b`,
 * passed in HiGHS's compressed form; {@link milpText} writes the same model
 * as CPLEX LP text for reading) and a time limit.
 *
 *     await loadMilpSolver();
 *     solveMilp({ columns: [{ name: "x", cost: 1, lower: 0, upper: 5, integer: true }],
 *                 rows: [{ terms: [[0, -1]], upper: -1.5 }] }, { timeLimitMs: 1000 });
 *     // { status: "optimal", objective: 2, values: Float64Array [2], ms: 2.1 }
 */

/** A variable of a {@link MilpProblem}. */
export interface MilpColumn {
  readonly name: string;
  readonly cost: number;
  readonly lower: number;
  readonly upper: number;
  readonly integer: boolean;
}

/** A row `Σ coef·x[column] ≤ upper` of a {@link MilpProblem}: terms as [column, coefficient]. */
export interface MilpRow {
  readonly terms: readonly (readonly [number, number])[];
  readonly upper: number;
}

/** Minimize Σ cost·x subject to the rows and the columns' bounds, some columns integral. */
export interface MilpProblem {
  readonly columns: readonly MilpColumn[];
  readonly rows: readonly MilpRow[];
}

/**
 * The problem as CPLEX LP text, as HiGHS and other solvers read it.
 *
 * @example
 * ```ts
 * milpText({ columns: [{ name: "x", cost: 1, lower: 0, upper: 1, integer: true }], rows: [] });
 * // "Minimize\n obj: + 1 x\nSubject To\nBounds\n 0 <= x <= 1\nGeneral\n x\nEnd\n"
 * ```
 */
export function milpText(p: MilpProblem): string {
  const term = ([c, a]: readonly [number, number]): string => `${a < 0 ? "-" : "+"} ${Math.abs(a)} ${p.columns[c]!.name}`;
  const objective = p.columns.flatMap((c, k) => (c.cost !== 0 ? [term([k, c.cost])] : []));
  const bound = (c: MilpColumn): string => (c.upper === Infinity ? ` ${c.name} >= ${c.lower}` : ` ${c.lower} <= ${c.name} <= ${c.upper}`);
  return [
    "Minimize",
    ` obj: ${objective.length > 0 ? objective.join(" ") : "0 " + (p.columns[0]?.name ?? "x")}`,
    "Subject To",
    ...p.rows.map((r, k) => ` c${k}: ${r.terms.map(term).join(" ")} <= ${r.upper}`),
    "Bounds",
    ...p.columns.map(bound),
    "General",
    ...p.columns.filter((c) => c.integer).map((c) => ` ${c.name}`),
    "End",
    "",
  ].join("\n");
}

/** How a solve ended. */
export type MilpStatus = "optimal" | "infeasible" | "time-limit" | "error";

/** What {@link solveMilp} found. */
export interface MilpResult {
  readonly status: MilpStatus;
  /** The best objective found (NaN when no solution). */
  readonly objective: number;
  /** Column values of the best solution found, or null when there is none. */
  readonly values: Float64Array | null;
  /** Wall-clock time of the solve. */
  readonly ms: number;
  /** HiGHS's own word for the outcome. */
  readonly detail: string;
  /** The relative gap between the solution and the best bound (0 when proved optimal). */
  readonly gap?: number;
}

/** The parts of the `highs` package used here (its persistent model API). */
interface HighsModel {
  passModel(model: object): unknown;
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
  readonly infinity: number;
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
export function solveMilp(problem: MilpProblem, options: { timeLimitMs: number; start?: Float64Array }): MilpResult {
  const highs = solver;
  if (!highs) throw new Error("the MILP solver is not loaded: await loadMilpSolver() first");
  const begin = performance.now();
  const codes = highs.constants.modelStatus;
  try {
    return highs.withModel((model) => {
      model.passModel(modelData(problem, highs));
      model.options.set({ time_limit: Math.max(0.001, options.timeLimitMs / 1000), output_flag: false, mip_rel_gap: 1e-6 });
      if (options.start) {
        const indices = Int32Array.from(options.start.keys());
        model.setSolution({ indices, values: Float64Array.from(options.start) });
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
      const gap = Number(model.info.get("mip_gap"));
      return { status, objective: model.getObjectiveValue(), values: Float64Array.from(model.getSolution().colValue), ms, detail, gap };
    });
  } catch (e) {
    return { status: "error", objective: NaN, values: null, ms: performance.now() - begin, detail: (e as Error).message };
  }
}

/** The problem in HiGHS's structured form: rows compressed (CSR), infinite bounds as its infinity. */
function modelData(p: MilpProblem, highs: HighsLike): object {
  const inf = (x: number): number => (x === Infinity ? highs.infinity : x === -Infinity ? -highs.infinity : x);
  const starts = new Int32Array(p.rows.length + 1);
  let nz = 0;
  p.rows.forEach((r, k) => {
    nz += r.terms.length;
    starts[k + 1] = nz;
  });
  const indices = new Int32Array(nz);
  const values = new Float64Array(nz);
  let at = 0;
  for (const r of p.rows) {
    for (const [c, a] of r.terms) {
      indices[at] = c;
      values[at++] = a;
    }
  }
  return {
    numCols: p.columns.length,
    numRows: p.rows.length,
    colCost: Float64Array.from(p.columns, (c) => c.cost),
    colLower: Float64Array.from(p.columns, (c) => inf(c.lower)),
    colUpper: Float64Array.from(p.columns, (c) => inf(c.upper)),
    rowLower: new Float64Array(p.rows.length).fill(-highs.infinity),
    rowUpper: Float64Array.from(p.rows, (r) => inf(r.upper)),
    matrix: { format: "csr", numRows: p.rows.length, numCols: p.columns.length, starts, indices, values },
    integrality: Int32Array.from(p.columns, (c) => (c.integer ? 1 : 0)),
  };
}
