/**
 * Keeps binaryen's own WebAssembly at V8's baseline tier, and validates its
 * functions lazily.
 *
 * Binaryen is a 10 MB WebAssembly module. V8 compiles every module first with
 * its baseline compiler (Liftoff) and re-compiles a function with the
 * optimizing one (TurboFan) once it has executed a budget of bytecode
 * (`--wasm-tiering-budget`). Emitting and optimizing one of our modules makes
 * hundreds of binaryen's largest functions hot at once, so V8 spends more time
 * optimizing them (on both cores) than a compile job lasts. Measured on
 * 1024³ matmul, AMD EPYC 2 cores: the first emission took 857–1291 ms and each
 * later one 82–196 ms with tier-up; 180–300 ms and 16–46 ms without it, and
 * the background compile threads stopped taking the second core away from the
 * first run of the emitted module.
 *
 * V8 gives each instance its tiering budget when the instance is created, so
 * the budget is raised only while binaryen instantiates and put back at once:
 * binaryen keeps the baseline code, every module instantiated later (ours, the
 * user's) tiers up as usual.
 *
 * V8 compiles functions lazily (on their first call) but validates a whole
 * module up front. Binaryen's module is trusted, and most of its thousands
 * of functions never run in a tns process, so for that compile validation is
 * lazy too (`--wasm-lazy-validation`, each function validated when first
 * compiled): loading binaryen took 548 ms instead of 645 (median of 15
 * fresh processes each, in turns, AMD EPYC 2 cores). The flag is put back
 * with the budget, so every later module is validated whole as before.
 *
 *     const api = await withoutTierUp(() => import("binaryen"));
 *
 * The budget is a 32-bit count, and one binaryen function (114 KB of code,
 * in its optimizer) still used it up while emitting attention: V8 then spent
 * 261 ms optimizing it on a background thread, and since a process waits
 * for its compile jobs before it exits, `tns run` ended about 250 ms after
 * its last line. So every emission also runs under {@link pauseTierUp}: V8's
 * `--wasm-tier-up-filter` names a function index no module has, which drops
 * every tier-up request made meanwhile, and is put back after. V8 does not
 * ask again for a function whose request was dropped, so binaryen's stay at
 * the baseline tier, and code that first gets hot after the emission (the
 * modules tns emits) tiers up as usual. No code of ours runs during an
 * emission, except on workers while an asynchronous run is in flight (its
 * caller may go on, and emit); then the pause is skipped
 * ({@link otherThreadsRun}), so that no kernel of ours loses its tier-up.
 * The flag is process-wide: WebAssembly of the embedding application that
 * runs on other threads and asks for tier-up during an emission loses that
 * request too. Such an application can keep all of this off by starting
 * Node with a tiering flag of its own (`--wasm-tiering-budget=1800000`, the
 * default value, will do).
 *
 * Nothing changes where `node:v8` does not exist (browsers, other engines) or
 * where the process was started with its own tiering flags.
 */

/** V8's default `--wasm-tiering-budget` (unchanged since V8 10). */
export const V8_DEFAULT_WASM_TIERING_BUDGET = 1_800_000;

/** A budget no compile job reaches. */
const NEVER = 2_000_000_000;

/** Flags that mean the process chose its own WebAssembly tiering or lazy compilation: then nothing is changed. */
const USER_TIERING_FLAG = /^--(no-)?(liftoff|wasm-tier|wasm-dynamic-tiering|wasm-tiering|wasm-lazy)/;

/** A function index beyond any module (V8 allows 1,000,000 functions). */
const NO_FUNCTION = 1_000_000_000;

interface V8Flags { setFlagsFromString(flags: string): void }

/** `node:v8`, once {@link withoutTierUp} has loaded it (null until then, and where tiering is not ours to change). */
let v8Flags: V8Flags | null = null;

/**
 * Whether this process lets {@link withoutTierUp} change V8's tiering budget:
 * it runs on V8 under Node and was not started with tiering flags of its own.
 *
 * @example
 * ```ts
 * tieringControlApplies(); // true under plain `node`, false under `node --liftoff-only`
 * ```
 */
export function tieringControlApplies(): boolean {
  const proc = (globalThis as { process?: { versions?: { v8?: string }; execArgv?: string[]; env?: Record<string, string | undefined> } }).process;
  if (!proc?.versions?.v8) return false;
  const given = [...(proc.execArgv ?? []), ...(proc.env?.["NODE_OPTIONS"] ?? "").split(/\s+/)];
  return !given.some((flag) => USER_TIERING_FLAG.test(flag.replaceAll("_", "-")));
}

/**
 * Runs `instantiate` (which compiles a trusted WebAssembly module and
 * creates an instance) so that the instance never tiers up and the module's
 * functions are validated only when first compiled; restores V8's budget
 * and eager validation afterwards, also when `instantiate` fails.
 *
 * @example
 * ```ts
 * const binaryen = await withoutTierUp(() => import("binaryen"));
 * ```
 */
export async function withoutTierUp<T>(instantiate: () => Promise<T>): Promise<T> {
  const v8 = tieringControlApplies() ? await import("node:v8").then((m) => m.default as V8Flags, () => null) : null;
  if (!v8) return instantiate();
  v8Flags = v8;
  v8.setFlagsFromString(`--wasm-tiering-budget=${NEVER}`);
  v8.setFlagsFromString("--wasm-lazy-validation");
  try {
    return await instantiate();
  } finally {
    v8.setFlagsFromString(`--wasm-tiering-budget=${V8_DEFAULT_WASM_TIERING_BUDGET}`);
    v8.setFlagsFromString("--no-wasm-lazy-validation");
  }
}

/**
 * Runs `work` (synchronous calls into binaryen) with V8's WebAssembly
 * tier-up requests dropped, and puts them back afterwards, also when `work`
 * throws. Does nothing special before {@link withoutTierUp} has run, or
 * where tiering is not ours to change.
 *
 * @example
 * ```ts
 * const art = pauseTierUp(() => emitModule(binaryen, kp, options));
 * ```
 */
export function pauseTierUp<T>(work: () => T): T {
  const v8 = v8Flags;
  if (!v8 || runsElsewhere > 0) return work();
  v8.setFlagsFromString(`--wasm-tier-up-filter=${NO_FUNCTION}`);
  try {
    return work();
  } finally {
    v8.setFlagsFromString("--wasm-tier-up-filter=-1");
  }
}

/** Asynchronous runs in flight (their workers may be running our kernels). */
let runsElsewhere = 0;

/**
 * Marks that code of ours may run on other threads (an asynchronous run's
 * workers) until the returned function is called; meanwhile
 * {@link pauseTierUp} leaves tier-up alone, so those threads' requests are
 * not dropped.
 *
 * @example
 * ```ts
 * const done = otherThreadsRun();
 * try { await pool.runAsync(job, unit); } finally { done(); }
 * ```
 */
export function otherThreadsRun(): () => void {
  runsElsewhere++;
  let open = true;
  return () => {
    if (open) runsElsewhere--;
    open = false;
  };
}
