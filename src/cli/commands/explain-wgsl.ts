/**
 * `tns explain --backend wgsl`: the launch shape of every WebGPU dispatch of
 * the optimized program, and the GPU memory a run of them takes.
 */
import { emitWgsl } from "../../backends/wgsl/emit.js";
import type { WgslKernelForm } from "../../backends/wgsl/types.js";
import type { Program } from "../../ir/types.js";
import { formatBytes } from "../format.js";
import { ARENA_ALIGNMENT } from "../../backends/kernel/memory-plan.js";

/** One WebGPU dispatch as `tns explain --backend wgsl` reports it. */
export interface ExplainedDispatch {
  readonly name: string;
  readonly target: string;
  readonly form: WgslKernelForm;
  readonly workgroupSize: readonly [number, number, number];
  readonly workgroups: readonly [number, number, number];
  readonly invocations: number;
  readonly bindings: number;
  readonly flops: number;
}

/** The WebGPU kernels of a program and the device memory a run of them uses. */
export interface ExplainedWgsl {
  readonly dispatches: readonly ExplainedDispatch[];
  /** Bytes of the GPU buffers (intermediates pooled), their number, and the bytes with one buffer per tensor. */
  readonly memory: { readonly bytes: number; readonly buffers: number; readonly unpooledBytes: number };
}

/**
 * The launch shapes of a program's WebGPU kernels, and its GPU memory.
 *
 * @example
 * ```ts
 * explainWgsl(optimized).dispatches[0]!.form; // "tiled-matmul" for a matrix product
 * ```
 */
export function explainWgsl(optimized: Program): ExplainedWgsl {
  const plan = emitWgsl(optimized);
  const memory = {
    bytes: plan.storage.reduce((n, s) => n + s.bytes, 0),
    buffers: plan.storage.length,
    // Aligned as the pool allocates them, so the two totals compare like with like.
    unpooledBytes: plan.buffers.reduce((n, b) => n + Math.ceil(Math.max(4, 4 * b.size) / ARENA_ALIGNMENT) * ARENA_ALIGNMENT, 0),
  };
  const dispatches = plan.dispatches.map((d) => {
    const groups = d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
    const size = d.workgroupSize[0] * d.workgroupSize[1] * d.workgroupSize[2];
    return {
      name: d.name, target: d.target, form: d.form, workgroupSize: d.workgroupSize, workgroups: d.workgroups,
      invocations: groups * size, bindings: d.bindings.length, flops: d.flops,
    };
  });
  return { dispatches, memory };
}

/** {@link explainWgsl} as text lines. */
export function printWgslDispatches(wgsl: ExplainedWgsl): string[] {
  const { dispatches, memory } = wgsl;
  const lines = ["", `wgsl kernels (${dispatches.length} dispatches, in order):`];
  for (const d of dispatches) {
    const grid = d.workgroups.join(" × ");
    lines.push(`  ${d.name.padEnd(18)} ${d.form.padEnd(17)} workgroup ${d.workgroupSize.join("×").padEnd(7)} grid ${grid.padEnd(16)} ${d.invocations.toLocaleString("en-US")} invocations, ${d.bindings} bindings, ${d.flops.toLocaleString("en-US")} FLOPs`);
  }
  lines.push(`  GPU memory: ${formatBytes(memory.bytes)} in ${memory.buffers} buffers, intermediates pooled (one buffer per tensor: ${formatBytes(memory.unpooledBytes)})`);
  return lines;
}
