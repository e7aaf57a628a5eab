/**
 * What the playground shows of an output tensor: its shape, min, max and
 * mean and its first values (heatmap.ts draws a matrix).
 */
import type { TensorData } from "./protocol.js";

/** The summary of one tensor. NaNs are counted, not folded into min/max/mean. */
export interface TensorSummary {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly nans: number;
  /** The first values in row-major order (at most {@link FIRST_VALUES}). */
  readonly first: readonly number[];
}

/** How many leading values a summary lists. */
export const FIRST_VALUES = 8;

/** Summarizes a tensor's data. */
export function summarize(t: TensorData): TensorSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nans = 0;
  const data = t.data;
  for (let k = 0; k < data.length; k++) {
    const v = Number(data[k]);
    if (Number.isNaN(v)) {
      nans++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const counted = data.length - nans;
  return {
    shape: t.shape, dtype: t.dtype, min: counted ? min : NaN, max: counted ? max : NaN, mean: counted ? sum / counted : NaN, nans,
    first: Array.from(data.subarray(0, FIRST_VALUES), Number),
  };
}

/** A number for people: 6 significant digits. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return Number(v.toPrecision(6)).toString();
}
