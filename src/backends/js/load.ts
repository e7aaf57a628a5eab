/**
 * Turns emitted JavaScript into an {@link Executable}: the source is a
 * function body returning `run(b)`, so `new Function` evaluates it once and
 * the runtime calls `run` with the buffers on every run.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { Executable } from "../../runtime/executable.js";
import { createExecutable } from "./executable.js";
import type { TensorData } from "../../runtime/tensor.js";
import type { KernelProgram } from "../kernel/types.js";

/**
 * Loads source produced by `emitJs(kernels)`.
 *
 * @throws InternalCompilerError when the source does not evaluate to a function
 * @example
 * ```ts
 * const kp = lowerToKernels(program);
 * const exe = loadJs(emitJs(kp), kp);
 * exe.run({ A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) });
 * ```
 */
export function loadJs(source: string, kernels: KernelProgram): Executable {
  let run: unknown;
  try {
    run = new Function(source)();
  } catch (e) {
    throw new InternalCompilerError(`emitted JavaScript does not load: ${(e as Error).message}`);
  }
  if (typeof run !== "function") throw new InternalCompilerError("emitted JavaScript did not return a run function");
  return createExecutable(kernels, run as (buffers: Record<string, TensorData>) => void);
}
