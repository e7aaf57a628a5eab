/**
 * `einsum(spec, ...tensors)` with NumPy's semantics, compiled through the
 * same passes and backends as `.tns` programs and cached per specification,
 * operand shapes and element types.
 */
import { CompileError, DiagnosticBag } from "../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../diagnostics/render.js";
import { compileProgram, type CompiledProgram, type CompileOptions } from "../compiler.js";
import { BACKEND_NAMES, type BackendName } from "../backends/index.js";
import { describeValue, expectCompileOptions, expectTensor } from "../api-arguments.js";
import { Tensor } from "../runtime/tensor.js";
import { parseEinsumSpec, lowerEinsum } from "./spec.js";

export { parseEinsumSpec, lowerEinsum } from "./spec.js";
export type { EinsumSpec, EinsumTerm, EinsumOperand, EinsumLowering } from "./spec.js";

/** Options of {@link einsumWith}. */
export interface EinsumOptions {
  /** Code generator (default `"js"`). */
  backend?: BackendName;
  /** Run the optimizing passes (default true). */
  optimize?: boolean;
  /** Threads of the wasm backend (see {@link CompileOptions.threads}; default: as many as it uses by default). */
  threads?: number;
}

const cache = new Map<string, { program: CompiledProgram | null; shape: readonly number[]; dtype: Tensor["dtype"] }>();
const CACHE_LIMIT = 256;

/**
 * Evaluates a NumPy-style einsum specification.
 *
 * @example
 * ```ts
 * import { einsum, Tensor } from "tns";
 * const a = Tensor.fromArray([[1, 2], [3, 4]]);
 * einsum("ii", a).toArray();        // 5 (the trace)
 * einsum("ij->ji", a).toArray();    // [[1, 3], [2, 4]]
 * ```
 */
export function einsum(spec: string, ...tensors: Tensor[]): Tensor {
  return einsumWith(spec, tensors, {});
}

/** {@link einsum} with options (backend, optimization). Throws {@link CompileError} on a bad specification. */
export function einsumWith(spec: string, tensors: readonly Tensor[], options: EinsumOptions): Tensor {
  if (typeof spec !== "string") throw new TypeError(`einsum: the specification must be a string like "ij,jk->ik", got ${describeValue(spec)}`);
  if (!Array.isArray(tensors)) throw new TypeError(`einsum: the operands must be an array of tensors, got ${describeValue(tensors)}`);
  tensors.forEach((t, k) => expectTensor(t, `einsum: operand ${k + 1}`));
  expectCompileOptions(options ?? {}, "einsum", BACKEND_NAMES);
  const { entry, inputs } = compiledEinsum(spec, tensors, options);
  return entry.program ? entry.program.run(inputs)["out"]! : Tensor.zeros(entry.shape, entry.dtype);
}

/**
 * {@link einsumWith} for any backend, the asynchronous `wgsl` (WebGPU) one
 * included (load it first: `await loadBackend("wgsl")`).
 *
 * @example
 * ```ts
 * await loadBackend("wgsl");
 * (await einsumAsync("ij,jk->ik", [a, b], { backend: "wgsl" })).shape; // [a.shape[0], b.shape[1]]
 * ```
 */
export async function einsumAsync(spec: string, tensors: readonly Tensor[], options: EinsumOptions = {}): Promise<Tensor> {
  if (typeof spec !== "string") throw new TypeError(`einsum: the specification must be a string like "ij,jk->ik", got ${describeValue(spec)}`);
  if (!Array.isArray(tensors)) throw new TypeError(`einsum: the operands must be an array of tensors, got ${describeValue(tensors)}`);
  tensors.forEach((t, k) => expectTensor(t, `einsum: operand ${k + 1}`));
  expectCompileOptions(options ?? {}, "einsum", BACKEND_NAMES);
  const { entry, inputs } = compiledEinsum(spec, tensors, options);
  return entry.program ? (await entry.program.runAsync(inputs))["out"]! : Tensor.zeros(entry.shape, entry.dtype);
}

function compiledEinsum(spec: string, tensors: readonly Tensor[], options: EinsumOptions) {
  const key = [spec, options.backend ?? "js", options.optimize ?? true, options.threads ?? "default", ...tensors.map((t) => `${t.dtype}[${t.shape.join(",")}]`)].join("|");
  let entry = cache.get(key);
  if (!entry) {
    const diags = new DiagnosticBag();
    const parsed = parseEinsumSpec(spec, diags);
    const lowered = parsed && lowerEinsum(parsed, tensors.map((t) => ({ shape: t.shape, dtype: t.dtype })), diags);
    if (!lowered || diags.hasErrors) {
      throw new CompileError(diags.items, renderDiagnostics(diags.items, () => undefined));
    }
    const program = lowered.program && compileProgram(lowered.program, { backend: options.backend, optimize: options.optimize, threads: options.threads });
    entry = { program, shape: lowered.outputShape, dtype: lowered.outputDtype };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }
  const inputs: Record<string, Tensor> = {};
  tensors.forEach((t, k) => (inputs[`x${k}`] = t));
  return { entry, inputs };
}
