/**
 * Sliced einsum: when the contraction's largest intermediate is over a
 * byte limit, the labels chosen by `contractPath`'s slicing are fixed to one
 * value at a time, the einsum runs on each slice of the operands (the sliced
 * labels of extent 1, so every intermediate shrinks by their extents), and
 * each slice's result is added into its part of the output (summed over the
 * sliced labels that are summed away, placed by the sliced output labels).
 * One compiled program serves every slice, on any synchronous backend.
 */
import type { BackendName } from "../backends/index.js";
import { contractPath, networkOfSpec, type Slicing } from "../passes/contraction-path/index.js";
import { Tensor } from "../runtime/tensor.js";
import { einsumWith, type EinsumOptions } from "./index.js";

/**
 * Options of {@link einsumSliced}.
 *
 * @example
 * ```ts
 * const options: SlicedEinsumOptions = { backend: "wasm", maxIntermediateBytes: 64 << 20 };
 * ```
 */
export interface SlicedEinsumOptions extends EinsumOptions {
  readonly backend?: BackendName;
  /** Largest tensor a step may form, in bytes (at the operands' element size). */
  readonly maxIntermediateBytes: number;
}

/**
 * The einsum of `tensors` computed slice by slice so that every tensor a
 * slice forms fits `maxIntermediateBytes`; also returns the slicing. Labels
 * are single letters, explicit output (`->`) or implicit; no `...`.
 *
 * @example
 * ```ts
 * const { result, slicing } = einsumSliced("ab,bc,cd->ad", [x, y, z], { maxIntermediateBytes: 4096 });
 * slicing.slices; // how many times the einsum ran
 * ```
 */
export function einsumSliced(spec: string, tensors: readonly Tensor[], options: SlicedEinsumOptions): { result: Tensor; slicing: Slicing } {
  const shapes = tensors.map((t) => t.shape);
  const bytesPerElement = tensors[0]?.data.BYTES_PER_ELEMENT ?? 4;
  const planned = contractPath(spec, shapes, { maxIntermediateBytes: options.maxIntermediateBytes, bytesPerElement });
  const { slicing } = planned;
  const einsumOptions: EinsumOptions = { backend: options.backend, optimize: options.optimize, threads: options.threads };
  if (slicing.labels.length === 0) return { result: einsumWith(spec, tensors, einsumOptions), slicing };
  const network = networkOfSpec(spec, shapes);
  const outputSpec = spec.includes("->") ? spec : `${spec}->${network.output.join("")}`;
  const sliced = slicing.labels;
  const extents = sliced.map((l) => network.extents[l]!);
  const outShape = network.output.map((l) => network.extents[l]!);
  let out: Tensor | null = null;
  const value = sliced.map(() => 0);
  for (let s = 0; s < slicing.slices; s++) {
    const at = new Map(sliced.map((l, k) => [l, value[k]!]));
    const parts = tensors.map((t, k) => sliceTensor(t, network.inputs[k]!, at));
    const part = einsumWith(outputSpec, parts, einsumOptions);
    out ??= Tensor.zeros(outShape, part.dtype);
    addInto(out, part, network.output, at);
    for (let k = sliced.length - 1; k >= 0; k--) {
      if (++value[k]! < extents[k]!) break;
      value[k] = 0;
    }
  }
  return { result: out!, slicing };
}

/** `t` with each label in `at` fixed to its value (kept as an axis of extent 1); a repeated label is fixed on every axis. */
function sliceTensor(t: Tensor, labels: readonly string[], at: ReadonlyMap<string, number>): Tensor {
  if (!labels.some((l) => at.has(l))) return t;
  const shape = labels.map((l, j) => (at.has(l) ? 1 : t.shape[j]!));
  const result = Tensor.zeros(shape, t.dtype);
  const strides = stridesOf(t.shape);
  const offset = labels.reduce((a, l, j) => a + (at.get(l) ?? 0) * strides[j]!, 0);
  const index = shape.map(() => 0);
  for (let i = 0; i < result.data.length; i++) {
    let src = offset;
    for (let j = 0; j < shape.length; j++) src += index[j]! * strides[j]!;
    result.data[i] = t.data[src]!;
    for (let j = shape.length - 1; j >= 0; j--) {
      if (++index[j]! < shape[j]!) break;
      index[j] = 0;
    }
  }
  return result;
}

/** Adds `part` (the output with sliced output labels of extent 1) into its place in `out`. */
function addInto(out: Tensor, part: Tensor, output: readonly string[], at: ReadonlyMap<string, number>): void {
  const strides = stridesOf(out.shape);
  const offset = output.reduce((a, l, j) => a + (at.get(l) ?? 0) * strides[j]!, 0);
  const shape = part.shape;
  const index = shape.map(() => 0);
  for (let i = 0; i < part.data.length; i++) {
    let dst = offset;
    for (let j = 0; j < shape.length; j++) dst += index[j]! * strides[j]!;
    out.data[dst]! += part.data[i]!;
    for (let j = shape.length - 1; j >= 0; j--) {
      if (++index[j]! < shape[j]!) break;
      index[j] = 0;
    }
  }
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = shape.map(() => 1);
  for (let j = shape.length - 2; j >= 0; j--) strides[j] = strides[j + 1]! * shape[j + 1]!;
  return strides;
}
