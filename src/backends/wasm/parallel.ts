/**
 * Which kernels of a program run on several threads. Only recognised float32
 * matrix products that take the SIMD path qualify (their work splits into
 * column panels that write disjoint outputs, see emit-contraction.ts), and
 * only above a size where waking the workers pays off; everything else runs
 * on the calling thread:
 *
 *     before: examples/attention.tns at n = 512: kernels S = Q·Kᵀ / 8 (512×512×64,
 *             33.5 M operations), M = max(j) S, E = exp(S - M), O_r, O
 *     after:  parallel [0]: S is split; M, E, O_r and O run on the calling thread
 *
 * A program without such a kernel gets the single-threaded module whatever
 * the thread count, so small programs pay nothing for threads.
 */
import type { Contraction, KernelProgram } from "../kernel/types.js";
import { contractionUnits, simdContractionApplies } from "./emit-contraction.js";

/**
 * The fewest floating-point operations (2·batch·m·n·k) for which a matrix
 * product is split across threads: a 101³ product. On an idle Xeon with
 * Node 20 (docs/wasm.md, "Thread measurements"), two threads lost at 1.0 M
 * operations (0.93x) and won from 1.8 M (1.18x): waking a worker costs tens
 * of microseconds.
 */
export const PARALLEL_MIN_FLOPS = 2 ** 21;

/**
 * Floating-point operations of a contraction: a multiply and an add per term.
 *
 * @example
 * ```ts
 * contractionFlops({ ...c, batch: [], m: 4, n: 4, k: 4 }); // 128
 * ```
 */
export function contractionFlops(c: Contraction): number {
  return 2 * c.batch.reduce((p, b) => p * b.extent, 1) * c.m * c.n * c.k;
}

/**
 * Positions of the kernels that run split across threads: SIMD contractions
 * of at least `minFlops` operations with at least two work units.
 *
 * @example
 * ```ts
 * parallelKernels(lowerToKernels(matmul1024), PARALLEL_MIN_FLOPS); // [0]
 * parallelKernels(lowerToKernels(matmul4), PARALLEL_MIN_FLOPS); // []
 * ```
 */
export function parallelKernels(kp: KernelProgram, minFlops: number = PARALLEL_MIN_FLOPS): number[] {
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  const positions: number[] = [];
  kp.kernels.forEach((k, n) => {
    const c = k.contraction;
    if (c === undefined || !simdContractionApplies(c, (b) => dtypes.get(b) ?? "")) return;
    if (contractionFlops(c) >= minFlops && contractionUnits(c) >= 2) positions.push(n);
  });
  return positions;
}
