/**
 * What an approximation costs in the outputs: the exact and the approximated
 * program run on the same inputs (seeded random ones, or a user's
 * calibration data) and each output's relative Frobenius error
 * ‖y − ỹ‖_F / ‖y‖_F.
 */
import type { Program } from "../../ir/types.js";
import { backendNamed } from "../../backends/index.js";
import { randomTensor } from "../../runtime/random.js";
import type { Tensor } from "../../runtime/tensor.js";
import { frobeniusDistance, frobeniusNorm } from "../../numerics/matrix.js";
import { defaultPipeline, runPasses } from "../index.js";

/**
 * Seeded random data for every input of `program` (and every weight
 * without data), uniform in [-1, 1); `given` tensors are kept.
 *
 * @example
 * ```ts
 * Object.keys(calibrationInputs(program, {}, 1)); // ["x"]
 * ```
 */
export function calibrationInputs(program: Program, given: Readonly<Record<string, Tensor>>, seed = 1): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  program.tensors.forEach((t, k) => {
    if (t.role !== "input" && !(t.role === "weight" && t.data === null)) return;
    out[t.name] = given[t.name] ?? randomTensor(t.shape, t.dtype, seed + k);
  });
  return out;
}

/** Runs a checked program, optimized, on the js backend. */
function runOptimized(program: Program, inputs: Record<string, Tensor>): Record<string, Tensor> {
  const optimized = runPasses(program, defaultPipeline()).program;
  const executable = backendNamed("js").compile(optimized).executable;
  return executable.run(inputs);
}

/**
 * Each output's relative Frobenius error between `exact` and `approx` run
 * on `inputs` (0 for an output that is zero in both).
 *
 * @example
 * ```ts
 * outputErrors(exact, approximated, calibrationInputs(exact, {})); // { y: 3.1e-6 }
 * ```
 */
export function outputErrors(exact: Program, approx: Program, inputs: Record<string, Tensor>): Record<string, number> {
  const want = runOptimized(exact, inputs);
  const got = runOptimized(approx, inputs);
  const out: Record<string, number> = {};
  for (const [name, y] of Object.entries(want)) {
    const a = Float64Array.from(y.data);
    const b = Float64Array.from(got[name]!.data);
    const norm = frobeniusNorm(a);
    const diff = frobeniusDistance(a, b);
    out[name] = norm > 0 ? diff / norm : diff;
  }
  return out;
}
