/**
 * Seeded random tensor networks (like opt_einsum's `rand_equation`) for
 * tests and benchmarks: a connected graph where each label joins two
 * operands (a spanning tree first, then extra edges), plus a few output
 * labels on single operands. Labels are single letters, so at most 52, and
 * the network can be written as a NumPy einsum specification.
 */
import type { TensorNetwork } from "./network.js";
import { seededUniform } from "./random-greedy.js";

const SYMBOLS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Knobs of {@link randomNetwork}. */
export interface RandomNetworkOptions {
  /** Number of operands (at least 2, at most 50). */
  readonly operands: number;
  /** Average number of labels shared per operand (default 3); capped by the 52 letters. */
  readonly regularity?: number;
  /** Output labels (default 2). */
  readonly outputs?: number;
  /** Extents are drawn uniformly from `minExtent..maxExtent` (default 2..8). */
  readonly minExtent?: number;
  readonly maxExtent?: number;
  readonly seed?: number;
}

/**
 * A random connected network.
 *
 * @example
 * ```ts
 * const net = randomNetwork({ operands: 10, seed: 3 });
 * networkToEinsum(net); // e.g. "ab,bcd,...->xy"
 * ```
 */
export function randomNetwork(options: RandomNetworkOptions): TensorNetwork {
  const n = options.operands;
  if (n < 2 || n > 50) throw new RangeError(`randomNetwork takes 2 to 50 operands, got ${n}`);
  const random = seededUniform(options.seed ?? 0);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const outputs = Math.min(options.outputs ?? 2, SYMBOLS.length - (n - 1));
  const edges = Math.max(n - 1, Math.min(Math.round((n * (options.regularity ?? 3)) / 2), SYMBOLS.length - outputs));
  const inputs: string[][] = Array.from({ length: n }, () => []);
  const extents: Record<string, number> = {};
  let next = 0;
  const label = (): string => {
    const l = SYMBOLS[next++]!;
    extents[l] = int(options.minExtent ?? 2, options.maxExtent ?? 8);
    return l;
  };
  for (let e = 0; e < edges; e++) {
    // The first n - 1 edges join operand e + 1 to an earlier one: connected.
    const a = e < n - 1 ? e + 1 : int(0, n - 1);
    let b = e < n - 1 ? int(0, e) : int(0, n - 2);
    if (e >= n - 1 && b >= a) b++;
    const l = label();
    inputs[a]!.push(l);
    inputs[b]!.push(l);
  }
  const output: string[] = [];
  for (let k = 0; k < outputs; k++) {
    const l = label();
    inputs[int(0, n - 1)]!.push(l);
    output.push(l);
  }
  return { inputs, output, extents };
}

/**
 * The network as an einsum specification (labels must be single letters).
 *
 * @example
 * ```ts
 * networkToEinsum({ inputs: [["i", "j"], ["j", "k"]], output: ["i", "k"], extents: { i: 2, j: 2, k: 2 } }); // "ij,jk->ik"
 * ```
 */
export function networkToEinsum(network: TensorNetwork): string {
  return `${network.inputs.map((ls) => ls.join("")).join(",")}->${network.output.join("")}`;
}

/**
 * The shape of each operand of `network`.
 *
 * @example
 * ```ts
 * networkShapes({ inputs: [["i", "j"]], output: ["i"], extents: { i: 2, j: 3 } }); // [[2, 3]]
 * ```
 */
export function networkShapes(network: TensorNetwork): number[][] {
  return network.inputs.map((ls) => ls.map((l) => network.extents[l]!));
}
