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
 * Nothing changes where `node:v8` does not exist (browsers, other engines) or
 * where the process was started with its own tiering flags.
 */

/** V8's default `--wasm-tiering-budget` (unchanged since V8 10). */
export const V8_DEFAULT_WASM_TIERING_BUDGET = 1_800_000;

/** A budget no compile job reaches. */
const NEVER = 2_000_000_000;

/** Flags that mean the process chose its own WebAssembly tiering or lazy compilation: then nothing is changed. */
const USER_TIERING_FLAG = /^--(no-)?(liftoff|wasm-tier|wasm-dynamic-tiering|wasm-tiering|wasm-lazy)/;

interface V8Flags { setFlagsFromString(flags: string): void }

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
  v8.setFlagsFromString(`--wasm-tiering-budget=${NEVER}`);
  v8.setFlagsFromString("--wasm-lazy-validation");
  try {
    return await instantiate();
  } finally {
    v8.setFlagsFromString(`--wasm-tiering-budget=${V8_DEFAULT_WASM_TIERING_BUDGET}`);
    v8.setFlagsFromString("--no-wasm-lazy-validation");
  }
}
