/**
 * The static memory arena of a WebAssembly module: the memory planner's plan
 * (kernel/memory-plan.ts) with each kernel's scratch space (a packed panel
 * of a matrix product, one per thread of a split product). Every buffer gets
 * a 16-byte aligned offset at compile time; inputs and weights sit at the
 * bottom for the whole run; a temporary lives from the kernel that writes it
 * to the last kernel that reads it, an output from its kernel to the end,
 * and buffers whose lifetimes do not overlap share space:
 *
 *     before: kernels S (reads X), E (reads S), T (reads E), O (reads T)
 *     after:  X @0; S @64 [0..1], E @64 (in place over S), T @64 (in place over E), O @128 [3..end]
 *
 * The module's memory is sized by the plan, not by the sum of all tensors.
 */
import type { DType } from "../../ir/types.js";
import { type MemoryPlan, planMemory } from "../kernel/memory-plan.js";
import type { KernelProgram } from "../kernel/types.js";

/** Bytes per element of each element type. */
export const BYTES: Readonly<Record<DType, number>> = { f32: 4, f64: 8, i32: 4 };

/** The placement of every buffer and each kernel's scratch space (the memory plan). */
export type ArenaLayout = MemoryPlan;

/**
 * Lays out the arena. `scratchBytes(k)` is the scratch a kernel at position
 * `k` needs (0 for none).
 *
 * @example
 * ```ts
 * const layout = layoutArena(kp, () => 0);
 * layout.offsets.get("A"); // 0
 * layout.bytes % 16; // 0
 * ```
 */
export function layoutArena(kp: KernelProgram, scratchBytes: (kernel: number) => number = () => 0): ArenaLayout {
  return planMemory(kp, { scratchBytes });
}
