/**
 * Seeded random tensors that are identical on every platform: a splitmix32
 * generator (32-bit integer arithmetic only, via `Math.imul`) drives uniform
 * values in [-1, 1) with 24 random bits, exactly representable in float32.
 */
import type { DType } from "../ir/types.js";
import { numel } from "../ir/types.js";
import { Tensor, arrayTypeOf } from "./tensor.js";

/**
 * A splitmix32 generator: each call returns the next unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * const next = splitmix32(42);
 * next() === splitmix32(42)(); // true
 * ```
 */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A tensor of seeded random values: uniform in [-1, 1) for f32/f64 (multiples
 * of 2^-23), integers in [-8, 8) for i32, or in [0, indexExtent) when that is
 * given (an i32 tensor that indexes a gather, see `gatherIndexExtents`).
 *
 * @example
 * ```ts
 * const t = randomTensor([2, 3], "f32", 7);
 * t.data.every((x) => x >= -1 && x < 1); // true
 * randomTensor([2, 3], "f32", 7).data[0] === t.data[0]; // true
 * ```
 */
export function randomTensor(shape: readonly number[], dtype: DType = "f32", seed = 0, indexExtent?: number): Tensor {
  const next = splitmix32(seed);
  const data = new (arrayTypeOf(dtype))(numel(shape));
  for (let k = 0; k < data.length; k++) {
    const bits = next();
    if (dtype === "i32" && indexExtent !== undefined) data[k] = Math.floor((bits / 2 ** 32) * indexExtent);
    else data[k] = dtype === "i32" ? (bits >>> 28) - 8 : (bits >>> 8) / 8388608 - 1;
  }
  return new Tensor(dtype, shape, data);
}
