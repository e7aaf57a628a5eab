/**
 * The run-time tensor: a shape, an element type and a row-major typed array.
 */
import type { DType } from "../ir/types.js";
import { numel } from "../ir/types.js";

/** The typed array that stores each element type. */
export type TensorData = Float32Array | Float64Array | Int32Array;

/**
 * A dense row-major tensor.
 *
 * @example
 * ```ts
 * const t = Tensor.fromArray([[1, 2], [3, 4]]);
 * t.shape; // [2, 2]
 * t.get(1, 0); // 3
 * ```
 */
export class Tensor {
  /**
   * @param dtype element type
   * @param shape extents, outermost first (`[]` is a scalar)
   * @param data row-major elements; its length must be the product of `shape`
   */
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly data: TensorData,
  ) {
    if (data.length !== numel(shape)) {
      throw new RangeError(`tensor of shape [${shape.join(", ")}] needs ${numel(shape)} elements, got ${data.length}`);
    }
    const want = arrayTypeOf(dtype);
    if (!(data instanceof want)) throw new TypeError(`a ${dtype} tensor needs a ${want.name}`);
  }

  /** A zero-filled tensor. */
  static zeros(shape: readonly number[], dtype: DType = "f32"): Tensor {
    return new Tensor(dtype, shape, new (arrayTypeOf(dtype))(numel(shape)));
  }

  /** A tensor from a nested JavaScript array (rectangular) or a number (a scalar). */
  static fromArray(values: NestedNumbers, dtype: DType = "f32"): Tensor {
    const shape: number[] = [];
    let probe: NestedNumbers = values;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0] as NestedNumbers;
    }
    const flat: number[] = [];
    const walk = (v: NestedNumbers, depth: number): void => {
      if (depth === shape.length) {
        if (typeof v !== "number") throw new TypeError("ragged nested array");
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) throw new TypeError("ragged nested array");
      for (const x of v) walk(x, depth + 1);
    };
    walk(values, 0);
    return new Tensor(dtype, shape, arrayTypeOf(dtype).from(flat));
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }

  /** The element at a multi-index. */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) throw new RangeError(`expected ${this.shape.length} indices, got ${index.length}`);
    let off = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k]!;
      const n = this.shape[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`index ${i} out of range [0, ${n})`);
      off = off * n + i;
    }
    return this.data[off]!;
  }

  /** The elements as a nested JavaScript array (a number for a scalar). */
  toArray(): NestedNumbers {
    const build = (depth: number, off: number): NestedNumbers => {
      if (depth === this.shape.length) return this.data[off]!;
      const n = this.shape[depth]!;
      const inner = numel(this.shape.slice(depth + 1));
      const out: NestedNumbers[] = [];
      for (let i = 0; i < n; i++) out.push(build(depth + 1, off + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** A copy converted to another element type. */
  astype(dtype: DType): Tensor {
    return new Tensor(dtype, this.shape, arrayTypeOf(dtype).from(this.data));
  }
}

/** A number or an arbitrarily nested array of numbers. */
export type NestedNumbers = number | NestedNumbers[];

/** The typed-array constructor used for a dtype. */
export function arrayTypeOf(dtype: DType): Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor {
  switch (dtype) {
    case "f32": return Float32Array;
    case "f64": return Float64Array;
    case "i32": return Int32Array;
  }
}
