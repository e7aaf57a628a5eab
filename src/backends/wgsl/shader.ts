/**
 * What every emitted shader shares: the binding declarations, the helper
 * functions, and the dispatch grid. A kernel needs some number W of
 * workgroups; WebGPU caps each grid dimension (65,535 by default), so W is
 * spread over x, then y, then z, and the shader rebuilds the linear
 * workgroup number (uniform across the workgroup, so an early return on it
 * keeps later barriers in uniform control flow):
 *
 *     W = 100000, cap 65535  →  dispatch (50000, 2, 1)
 *     let wid = wg.x + wg.y * 50000u + wg.z * 100000u;  if (wid >= 100000u) { return; }
 */
import { CompileError } from "../../diagnostics/diagnostic.js";
import type { DType } from "../../ir/types.js";
import { SPECIAL_VALUES, WGSL_HELPERS } from "./emit-expr.js";
import type { WgslBinding, WgslLimits } from "./types.js";

/** A grid of workgroups covering `total` of them, and the WGSL that computes the linear workgroup number `wid`. */
export interface Grid {
  readonly workgroups: readonly [number, number, number];
  readonly total: number;
  /** Lines defining `wid: u32` and returning from workgroups past `total`. */
  readonly prologue: readonly string[];
}

/**
 * Spreads `total` workgroups over the three grid dimensions.
 *
 * @throws CompileError (TNS0611) when even three dimensions cannot hold them
 * @example
 * ```ts
 * dispatchGrid(100000, 65535).workgroups; // [50000, 2, 1]
 * ```
 */
export function dispatchGrid(total: number, cap: number, what = "a kernel"): Grid {
  const x = Math.min(total, cap);
  const y = Math.min(Math.ceil(total / x), cap);
  const z = Math.ceil(total / (x * y));
  if (z > cap) {
    throw new CompileError([{
      code: "TNS0611", severity: "error", notes: [],
      message: `${what} needs ${total} workgroups, more than a WebGPU dispatch can have (${cap} in each of 3 dimensions)`,
      hint: "use smaller sizes, or another backend",
    }]);
  }
  // Balance x against y so that the grid wastes at most one row of workgroups.
  const xb = z === 1 && y > 1 ? Math.ceil(total / y) : x;
  const prologue = [
    `  let wid = wg.x${y > 1 || z > 1 ? ` + wg.y * ${xb}u` : ""}${z > 1 ? ` + wg.z * ${xb * y}u` : ""};`,
    ...(xb * y * z > total ? [`  if (wid >= ${total}u) { return; }`] : []),
  ];
  return { workgroups: [xb, y, z], total, prologue };
}

/** The WGSL type of a buffer's elements. */
export function wgslElement(dtype: DType): string {
  return dtype === "i32" ? "i32" : "f32";
}

/** One declared binding: its WGSL name and element type besides the plan's binding. */
export interface DeclaredBinding extends WgslBinding {
  /** The name the shader uses (`b_A`, `pk`, `part`). */
  readonly wgslName: string;
  /** `f32`, `i32`, `u32` or `vec4<f32>`. */
  readonly element: string;
}

/** A shader module's text: a comment, the bindings, workgroup memory, helpers and the entry point. */
export function shaderText(options: {
  readonly comment: readonly string[];
  readonly bindings: readonly DeclaredBinding[];
  readonly workgroupVars?: readonly string[];
  readonly helpers: ReadonlySet<string>;
  readonly workgroupSize: readonly [number, number, number];
  readonly body: readonly string[];
}): string {
  const size = options.workgroupSize[1] === 1 && options.workgroupSize[2] === 1
    ? `${options.workgroupSize[0]}`
    : options.workgroupSize.join(", ");
  return [
    ...options.comment.map((c) => `// ${c}`),
    ...options.bindings.map((b) => `@group(0) @binding(${b.binding}) var<storage, ${b.access}> ${b.wgslName}: array<${b.element}>;`),
    ...(options.workgroupVars ?? []),
    SPECIAL_VALUES,
    ...[...options.helpers].sort().map((h) => WGSL_HELPERS[h]!),
    "",
    `@compute @workgroup_size(${size})`,
    "fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {",
    ...options.body,
    "}",
    "",
  ].join("\n");
}

/** Checks that a workgroup size fits the limits (an internal error otherwise: the emitters choose sizes within them). */
export function fitsWorkgroup(size: readonly [number, number, number], limits: WgslLimits): boolean {
  return size[0] * size[1] * size[2] <= limits.maxComputeInvocationsPerWorkgroup && size[0] <= limits.maxComputeWorkgroupSizeX;
}
