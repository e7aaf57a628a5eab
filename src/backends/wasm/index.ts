/**
 * The WebAssembly backend: kernels as one validated, optimized wasm module
 * (SIMD128 for float32 matrix products), run in the host's WebAssembly engine.
 * Binaryen is loaded by {@link wasmBackend}, never at import time.
 */
import type { Program } from "../../ir/types.js";
import type { Backend } from "../backend.js";
import { lowerToKernels } from "../kernel/lower.js";
import { loadBinaryen } from "./binaryen.js";
import { emitWasm } from "./emit.js";
import { loadWasm } from "./load.js";

export { binaryenLoaded, loadBinaryen } from "./binaryen.js";
export { emitWasm, type WasmArtifact } from "./emit.js";
export { layoutArena, type ArenaLayout } from "./layout.js";
export { loadWasm } from "./load.js";

/**
 * The WebAssembly backend, once binaryen has loaded. Its `code` is the
 * module's text format before optimization.
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
      const art = emitWasm(binaryen, kernels);
      return { code: art.text, executable: loadWasm(art, kernels) };
    },
  };
}
