/**
 * The backend interface: a code generator that turns an optimized, inlined
 * program into source text and something that runs it.
 */
import type { Program } from "../ir/types.js";
import type { Executable } from "../runtime/executable.js";
import { emitJs } from "./js/emit.js";
import { loadJs } from "./js/load.js";
import { lowerToKernels } from "./kernel/lower.js";
import { type MemoryPlan, planMemory } from "./kernel/memory-plan.js";

/**
 * A code generator.
 *
 * @example
 * ```ts
 * const { code, executable } = jsBackend.compile(program);
 * executable.run({ A });
 * ```
 */
export interface Backend {
  readonly name: "js" | string;
  /** Compiles a program without call nodes; the code is deterministic for a given program. */
  compile(program: Program): { code: string; executable: Executable };
  /**
   * The memory plan `compile` would use for a program: every buffer's place
   * in the arena and the planned peak (see kernel/memory-plan.ts). Absent on
   * backends without an arena (the reference interpreter).
   */
  memoryPlan?(program: Program): MemoryPlan;
}

/**
 * The JavaScript backend: kernels as plain loops over typed arrays, loaded with `new Function`.
 *
 * @example
 * ```ts
 * jsBackend.compile(program).code.startsWith('"use strict";'); // true
 * ```
 */
export const jsBackend: Backend = {
  name: "js",
  compile(program: Program) {
    const kernels = lowerToKernels(program);
    const code = emitJs(kernels);
    return { code, executable: loadJs(code, kernels) };
  },
  memoryPlan: (program: Program) => planMemory(lowerToKernels(program)),
};
