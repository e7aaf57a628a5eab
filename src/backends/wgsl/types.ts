/**
 * What the WGSL backend produces: a plan of compute dispatches over storage
 * buffers, JSON-serialisable, so that the same object drives the in-process
 * runtime and is the manifest of `tns compile --target wgsl`.
 *
 * Invariants: every dispatch's shader declares exactly its `bindings` (group
 * 0, binding numbers as listed) and one entry point `main` with the given
 * workgroup size; `workgroups` is within the limits the plan was made for;
 * a dispatch writes only buffers it binds `read_write` and reads only
 * buffers written by earlier dispatches, inputs and weights; dispatches run
 * in order, each seeing every earlier one's writes.
 */
import type { GatherSite } from "../../ir/gather.js";
import type { DType } from "../../ir/types.js";

/** The device limits a plan is made for. */
export interface WgslLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
}

/**
 * The default limits of WebGPU's compatibility feature level, which every
 * WebGPU device meets: kernels planned for them run on any adapter, in
 * browsers and in Node.
 */
export const COMPATIBILITY_LIMITS: WgslLimits = {
  maxComputeInvocationsPerWorkgroup: 128,
  maxComputeWorkgroupSizeX: 128,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
};

/** A buffer of the plan: a tensor of the program, or scratch space of a two-pass reduction. */
export interface WgslBuffer {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Number of 4-byte elements. */
  readonly size: number;
  readonly role: "input" | "weight" | "temp" | "output" | "scratch" | "status";
}

/** One binding of a dispatch. */
export interface WgslBinding {
  readonly binding: number;
  /** A buffer of the plan, or `#pack` for the dispatch's packed reads. */
  readonly buffer: string;
  readonly access: "read" | "read_write";
}

/** How the kernels of a program were shaped, for reports (`tns explain`) and tests. */
export type WgslKernelForm =
  | "elementwise"            // one invocation per output element, reductions (if any) sequential in it
  | "workgroup-reduce"       // one workgroup per output element; reductions split across its invocations, tree-combined
  | "reduce-partials"        // first pass of a long reduction: one workgroup per output element and chunk
  | "reduce-final"           // second pass: the chunks' partial results combined, then the rest of the def
  | "tiled-matmul"           // register-tiled matrix product with workgroup tiles (and an elementwise epilogue)
  | "sequential-steps";      // a recurrence: one workgroup runs its steps in order, sharing each step's elements

/** One compute dispatch. */
export interface WgslDispatch {
  /** Entry name, e.g. `k0_S` (kernel position and target). */
  readonly name: string;
  /** The tensor it computes. */
  readonly target: string;
  readonly form: WgslKernelForm;
  readonly code: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly workgroups: readonly [number, number, number];
  readonly bindings: readonly WgslBinding[];
  /**
   * Buffers read through one packed binding (when a kernel reads more
   * buffers than a shader stage may bind): each is copied at a word offset
   * into a buffer of `words` 4-byte words before the dispatch.
   */
  readonly pack?: { readonly words: number; readonly parts: readonly { readonly buffer: string; readonly offset: number }[] };
  /** Multiply-adds or other operations, estimated: the FLOPs of the kernel. */
  readonly flops: number;
}

/** A whole program as buffers and dispatches; also the manifest of `tns compile --target wgsl`. */
export interface WgslProgram {
  readonly format: "tns-wgsl";
  readonly version: 1;
  readonly buffers: readonly WgslBuffer[];
  readonly dispatches: readonly WgslDispatch[];
  /** Run-time inputs, in program order. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** The limits the plan stays within. */
  readonly limits: WgslLimits;
  /**
   * The GPU buffers a run uses (see pool.ts): one per input, weight and
   * output, and pooled ones shared by intermediates that are never live at
   * the same dispatch.
   */
  readonly storage: readonly { readonly name: string; readonly bytes: number }[];
  /** The GPU buffer (a name in `storage`) of every buffer of the plan. */
  readonly home: Readonly<Record<string, string>>;
  /**
   * Where checked gathers record an out-of-range index (absent when the
   * program has none): the plan's `status` buffer, two i32, the site's
   * number plus one and the index; the runner zeroes it before a run and
   * reads it after.
   */
  readonly gather?: { readonly buffer: string; readonly sites: readonly GatherSite[] };
}
