/**
 * Deterministic search budgets. The time-bounded finders (`dp` under a
 * budget, `hyper`, `auto`) do not read the clock: they count their work in
 * units of about one greedy candidate evaluation and stop at a budget of
 * units derived from `pathTimeMs` ({@link workBudget}), so that for a given
 * network, options and seed the path is the same on every machine and under
 * any load. The rate, {@link WORK_UNITS_PER_MS}, was measured on a loaded
 * 2-core machine; on a faster or idle machine a search takes less than
 * `pathTimeMs`, on a slower one more, and returns the same path.
 */

/** Units of search work per millisecond of `pathTimeMs` (about one greedy candidate evaluation each). */
export const WORK_UNITS_PER_MS = 1000;

/**
 * A counter of search work against a budget.
 *
 * @example
 * ```ts
 * const meter = new WorkMeter(workBudget(100));
 * meter.spend(10);
 * meter.exhausted(); // false
 * ```
 */
export class WorkMeter {
  units = 0;
  constructor(readonly limit: number) {}

  spend(units: number): void {
    this.units += units;
  }

  /** Whether the units spent reached `fraction` of the budget. */
  exhausted(fraction = 1): boolean {
    return this.units >= fraction * this.limit;
  }
}

/**
 * The units of work a budget of `ms` milliseconds allows (Infinity for an
 * infinite budget).
 *
 * @example
 * ```ts
 * workBudget(1000); // 1000000
 * ```
 */
export function workBudget(ms: number): number {
  return ms * WORK_UNITS_PER_MS;
}
