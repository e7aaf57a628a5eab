/**
 * The WebAssembly backend: kernels as one validated, optimized wasm module
 * (SIMD128 for float32 matrix products), run in the host's WebAssembly engine.
 * Binaryen is loaded by {@link wasmBackend}, never at import time.
 */
import type { Program } from "../../ir/types.js";
import type { Backend } from "../backend.js";
import { lowerToKernels } from "../kernel/lower.js";
import { loadBinaryen } from "./binaryen.js";
import { ModuleCache, moduleCacheKey } from "./cache.js";
import { emitWasm, type WasmArtifact } from "./emit.js";
import { loadWasm } from "./load.js";
import { hostRunsRelaxedSimd } from "./relaxed-simd.js";

export { binaryenLoaded, loadBinaryen } from "./binaryen.js";
export { emitWasm, type WasmArtifact } from "./emit.js";
export { ModuleCache, moduleCacheKey } from "./cache.js";
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

/**
 * The WebAssembly backend, once binaryen has loaded. Its `code` is the
 * module's text format before optimization. Compiling a program that was
 * compiled before in the process (same text, same sizes) reuses its module.
 * The matrix-product micro-kernel uses relaxed SIMD when this process's
 * engine runs it (see relaxed-simd.ts).
 *
 * @example
 * ```ts
 * const wasm = await wasmBackend();
 * const { executable } = wasm.compile(program);
 * executable.run({ A, B });
 * ```
 */
export async function wasmBackend(): Promise<Backend> {
  const binaryen = await loadBinaryen();
  return {
    name: "wasm",
    compile(program: Program) {
      const kernels = lowerToKernels(program);
      const options = { optimize: true, relaxedSimd: hostRunsRelaxedSimd() };
      const art = emitted.getOrCreate(moduleCacheKey(kernels, options), () => emitWasm(binaryen, kernels, options));
      return { code: art.text, executable: loadWasm(art, kernels) };
    },
  };
}
