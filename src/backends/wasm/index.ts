/**
 * The WebAssembly backend: kernels as one validated wasm module (SIMD128 for
 * float32 matrix products), encoded by tns's own encoder (encoder.ts) and
 * run in the host's WebAssembly engine. Binaryen is loaded only where its
 * optimizer is asked for (`optimize`), never at import time.
 */
import type { Program } from "../../ir/types.js";
import type { KernelProgram } from "../kernel/types.js";
import type { Backend } from "../backend.js";
import { lowerToKernels } from "../kernel/lower.js";
import { type Binaryen, loadBinaryen } from "./binaryen.js";
import { moduleProducer, wasmEncoder } from "./encoder.js";
import type { DiskCache } from "./disk-cache.js";
import { ModuleCache, moduleCacheKey } from "./cache.js";
import { type EmitWasmOptions, emitWasm, wasmArenaPlan, type WasmArtifact } from "./emit.js";
import { loadWasm, START_AT_ONCE_FLOPS } from "./load.js";
import { splitFlops } from "./parallel.js";
import { hostRunsRelaxedSimd } from "./relaxed-simd.js";
import { defaultThreads, loadThreadHost, type ThreadHost } from "./threads.js";

export { binaryenLoaded, loadBinaryen, loadBinaryenBuilder, optimizeWithBinaryen } from "./binaryen.js";
export { EncoderModule, ENCODER_REVISION, moduleProducer, wasmEncoder } from "./encoder.js";
export { printWat } from "./wat.js";
export { emitWasm, type ParallelKernel, wasmArenaPlan, type WasmArtifact } from "./emit.js";
export { contractionFlops, PARALLEL_MIN_FLOPS, parallelKernels, splitFlops } from "./parallel.js";
export {
  defaultThreads, loadThreadHost, MAX_DEFAULT_THREADS, type ThreadHost, webThreadHost, type WebThreadHostOptions, type WebWorkerConstructor,
} from "./threads.js";
export { ModuleCache, moduleCacheKey } from "./cache.js";
export { DEFAULT_CACHE_BYTES, defaultCacheDirectory, DiskCache } from "./disk-cache.js";
export { layoutArena, type ArenaLayout } from "./layout.js";
export { loadWasm } from "./load.js";
export { hostRunsRelaxedSimd, RELAXED_SIMD_PROBE } from "./relaxed-simd.js";
export { emitWasmModule, type WasmModuleFiles, type WasmModuleManifest } from "./module.js";

/** Modules emitted in this process, by kernel program (see cache.ts). */
const emitted = new ModuleCache<WasmArtifact>();

/**
 * Entries in, and hits of, this process's cache of emitted modules.
 *
 * @example
 * ```ts
 * wasmModuleCacheStats(); // { entries: 2, hits: 5 }
 * ```
 */
export function wasmModuleCacheStats(): { entries: number; hits: number } {
  return { entries: emitted.size, hits: emitted.hits };
}

/** Options of the WebAssembly backend. */
export interface WasmBackendOptions {
  /**
   * Threads that run large matrix products (a positive integer; 1 turns
   * threads off). Default: the host's parallelism, at most
   * `MAX_DEFAULT_THREADS`, where there is a thread host (`worker_threads`
   * in Node, Web Workers in a cross-origin isolated page or a worker); 1
   * without one.
   */
  readonly threads?: number;
  /**
   * The workers to run threads on (default {@link loadThreadHost}'s: Node's
   * `worker_threads`, else Web Workers); null turns threads off.
   */
  readonly threadHost?: ThreadHost | null;
  /** The fewest operations of a matrix product split across threads (default `PARALLEL_MIN_FLOPS`; tests lower it). */
  readonly parallelMinFlops?: number;
  /**
   * The program will run once (as `tns run` runs it): build the module for
   * threads only when its split kernels do at least `START_AT_ONCE_FLOPS`
   * operations, from which a first run starts the workers. Below that a
   * first run keeps every kernel on the calling thread anyway, and the
   * threaded module (a copy of each product's panel functions per thread)
   * only costs compile time.
   */
  readonly runOnce?: boolean;
  /**
   * Run binaryen's optimizer over each module (level 3) after tns's encoder
   * built it. Default false: V8's optimizing tier does the same work on the
   * hot code, and loading binaryen costs a third of a second
   * (docs/benchmarks.md, "WebAssembly optimizer"). A backend made with it
   * needs binaryen loaded ({@link loadBinaryen}); {@link wasmBackend} loads it.
   */
  readonly optimize?: boolean;
}

/**
 * The WebAssembly backend (binaryen loaded first when `optimize` asks for
 * its optimizer). Its `code` is the module's text format before
 * optimization, printed when first read. Compiling a program that was
 * compiled before in the process (same text, same sizes, same threads)
 * reuses its module. The matrix-product micro-kernel uses relaxed SIMD when
 * this process's engine runs it (see relaxed-simd.ts); large matrix products
 * run on several threads (see threads.ts) unless `threads` is 1.
 *
 * @example
 * ```ts
 * const wasm = await wasmBackend({ threads: 2 });
 * const { executable } = wasm.compile(program);
 * executable.run({ A, B });
 * executable.dispose?.();   // stops the workers, if any started
 * ```
 */
export async function wasmBackend(options: WasmBackendOptions = {}): Promise<Backend> {
  if (options.optimize) await loadBinaryen();
  return (await wasmBackendFactory())(options);
}

/**
 * Loads the thread host once and returns a synchronous maker of WebAssembly
 * backends with given options (one with `optimize` needs binaryen loaded).
 *
 * @throws RangeError from the maker when `threads` is not a positive integer
 * @example
 * ```ts
 * const make = await wasmBackendFactory();
 * make({ threads: 1 }).compile(program);
 * ```
 */
export async function wasmBackendFactory(): Promise<(options?: WasmBackendOptions) => Backend> {
  const host = await loadThreadHost();
  return (options = {}) => makeWasmBackend(wasmEncoder(), options.threadHost === undefined ? host : options.threadHost, options);
}

/** A program lowered for the WebAssembly backend, with the key of its module and whether building it needs binaryen. */
export interface PlannedWasm {
  readonly kernels: KernelProgram;
  readonly key: string;
  /** True when the module must be built with binaryen's optimizer (`optimize`) and neither this process nor the disk cache holds it. */
  readonly needsBinaryen: boolean;
}

/** A WebAssembly backend that can say, before compiling, whether it needs binaryen (see {@link wasmBackendOnDisk}). */
export interface PlanningWasmBackend extends Backend {
  plan(program: Program): PlannedWasm;
}

/**
 * A WebAssembly backend that reads and writes compiled modules in `disk`
 * (disk-cache.ts) besides this process's cache. With `optimize`, binaryen is
 * needed only for a module neither holds: `plan(program)` says whether
 * `compile` will need it, and `compile` then expects `loadBinaryen()` to
 * have resolved. Without it (the default) nothing is loaded.
 *
 * @example
 * ```ts
 * const wasm = await wasmBackendOnDisk(DiskCache.open(), { threads: 1 });
 * if (wasm.plan(program).needsBinaryen) await loadBinaryen();
 * wasm.compile(program).executable.run(inputs);
 * ```
 */
export async function wasmBackendOnDisk(disk: DiskCache | null, options: WasmBackendOptions = {}): Promise<PlanningWasmBackend> {
  const host = options.threadHost === undefined ? await loadThreadHost() : options.threadHost;
  return makeWasmBackend(wasmEncoder(), host, options, disk);
}

function makeWasmBackend(encoder: Binaryen, host: ThreadHost | null, options: WasmBackendOptions, disk: DiskCache | null = null): PlanningWasmBackend {
  const asked = options.threads ?? defaultThreads(host);
  if (!Number.isSafeInteger(asked) || asked < 1) throw new RangeError(`threads must be a positive integer, got ${asked}`);
  const threads = host === null ? 1 : asked;
  const plan = (program: Program): PlannedWasm & { emitOptions: EmitWasmOptions } => {
    const kernels = lowerToKernels(program);
    const emitOptions = emitOptionsFor(kernels);
    // The key names the producer of the bytes: modules built by another encoder revision or optimizer are other entries.
    const key = moduleCacheKey(kernels, { ...emitOptions, producer: moduleProducer(emitOptions.optimize === true) });
    let held = emitted.has(key);
    if (!held && disk !== null) {
      // The text is not stored on disk: the encoder prints the same text again, if it is read.
      const found = disk.get(key, () => emitWasm(encoder, kernels, { ...emitOptions, optimize: false }).text);
      if (found !== null) {
        emitted.getOrCreate(key, () => found);
        held = true;
      }
    }
    return { kernels, key, needsBinaryen: !held && emitOptions.optimize === true, emitOptions };
  };
  return {
    name: "wasm",
    plan: (program) => {
      const { kernels, key, needsBinaryen } = plan(program);
      return { kernels, key, needsBinaryen };
    },
    compile(program: Program) {
      const { kernels, key, emitOptions } = plan(program);
      const art = emitted.getOrCreate(key, () => {
        const built = emitWasm(encoder, kernels, emitOptions);
        return disk === null ? built : disk.put(key, built);
      });
      // Built earlier in this process without the disk (or its entry removed since): store it now.
      if (disk !== null && !disk.has(key)) disk.put(key, art);
      const executable = loadWasm(art, kernels, host);
      // The text is printed only when it is read (the playground, `tns compile`): a run needs the binary.
      return { get code() { return art.text; }, executable };
    },
    memoryPlan(program: Program) {
      const kernels = lowerToKernels(program);
      return wasmArenaPlan(kernels, emitOptionsFor(kernels));
    },
  };

  function emitOptionsFor(kernels: KernelProgram): EmitWasmOptions {
    const minFlops = options.parallelMinFlops;
    // Programs with nothing to split get the single-threaded module (and share its cache entry),
    // as do programs run once whose first run would not start the workers. (Every split kernel does some work.)
    const splitWork = threads > 1 ? splitFlops(kernels, { threads, minFlops }) : 0;
    const split = splitWork > 0 && (!options.runOnce || splitWork >= START_AT_ONCE_FLOPS);
    return { optimize: options.optimize ?? false, relaxedSimd: hostRunsRelaxedSimd(), ...(split ? { threads, parallelMinFlops: minFlops } : {}) };
  }
}
