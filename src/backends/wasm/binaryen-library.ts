/**
 * The one door to the binaryen package: loaded lazily (a 15 MB module, about a
 * third of a second) and cached, its optimizer run over modules that the
 * encoder (encoder.ts) has already written. binaryen.ts builds the facade
 * through its API for the encoder's tests.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { withoutTierUp } from "./v8-tiering.js";

// Only the type of the default export is imported statically; it is erased at compile time.
/** binaryen's API (the package's default export). */
export type BinaryenApi = typeof import("binaryen").default;
/** A module of binaryen's API. */
export type BModule = InstanceType<BinaryenApi["Module"]>;

/** The binaryen release tns depends on (package.json pins it): cache keys of optimized modules name it. */
export const BINARYEN_VERSION = "132.0.0";

let cached: BinaryenApi | null = null;
let loading: Promise<BinaryenApi> | null = null;

/**
 * Whether binaryen has been loaded in this process (tests use it to check that
 * the JavaScript backend, and `tns run` on the WebAssembly one, never load it).
 *
 * @example
 * ```ts
 * binaryenLoaded(); // false until the first loadBinaryen()
 * ```
 */
export function binaryenLoaded(): boolean {
  return cached !== null;
}

/** binaryen, loaded once (later calls return the same promise). */
export async function loadApi(): Promise<BinaryenApi> {
  loading ??= withoutTierUp(() => import("binaryen")).then((mod) => (cached = mod.default));
  return loading;
}

/** binaryen's feature flags for a module of tns: SIMD128 and the rest always, relaxed SIMD and atomics when asked. */
export function featuresOf(api: BinaryenApi, relaxedSimd: boolean, threads: boolean): number {
  const F = api.Features;
  const base = F.MVP | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals;
  return (relaxedSimd ? base | F.RelaxedSIMD : base) | (threads ? F.Atomics : 0);
}

/**
 * Runs binaryen's optimizer (level 3) over an encoded module. Binaryen must
 * have been loaded ({@link loadBinaryen}).
 *
 * @throws InternalCompilerError before binaryen has loaded, or when the optimized module does not validate
 * @example
 * ```ts
 * await loadBinaryen();
 * const smaller = optimizeWithBinaryen(binary, { relaxedSimd: false, threads: false });
 * ```
 */
export function optimizeWithBinaryen(binary: Uint8Array, features: { relaxedSimd: boolean; threads: boolean }): Uint8Array {
  const api = cached;
  if (api === null) throw new InternalCompilerError("binaryen's optimizer is used before loadBinaryen() resolved");
  // binaryen 132's readBinary takes the features as an optional second argument (its typings omit it).
  const read = api.readBinary as unknown as (data: Uint8Array, features: number) => BModule;
  const m = read(binary, featuresOf(api, features.relaxedSimd, features.threads));
  try {
    optimizeModule(api, m);
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** Runs binaryen's optimizer at level 3 over `m`, keeping every function its own. */
export function optimizeModule(api: BinaryenApi, m: BModule): void {
  api.setOptimizeLevel(3);
  api.setShrinkLevel(0);
  // Keep every kernel and panel its own function: V8 tiers code up per
  // function, between calls, so one inlined `run` would stay unoptimized
  // for the whole first run.
  api.setOneCallerInlineMaxSize(0);
  api.setAllowInliningFunctionsWithLoops(false);
  m.optimize();
  if (!m.validate()) throw new InternalCompilerError("the optimized WebAssembly module does not validate");
}
