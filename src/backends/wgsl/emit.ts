/**
 * WGSL code generation: an inlined, optimized program to a plan of compute
 * dispatches ({@link WgslProgram}), one shader per kernel (two for a long
 * reduction). The program first gets its shared nested reductions as defs
 * of their own (passes/materialize-reductions.ts), then is lowered to the
 * kernel IR with the output indices outermost, so that each output element
 * is one invocation's (or one workgroup's) work:
 *
 *     S[i, j] = Q[i, k] * K[j, k] / 8        → tiled-matmul      (emit-matmul.ts)
 *     M[i]    = max(j) S[i, j]               → workgroup-reduce  (emit-loops.ts)
 *     E[i, j] = exp(S[i, j] - M[i])          → elementwise       (emit-loops.ts)
 *
 * Buffers are bound one per binding, read-only unless written; a kernel that
 * reads more buffers than a shader stage may bind reads the rest from one
 * packed buffer that the runtime fills by copies before the dispatch.
 * float64 has no WGSL type: a program with an f64 tensor is refused
 * (TNS0902), never narrowed.
 */
import { CompileError, type Diagnostic, InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { DefNode, DType, Program } from "../../ir/types.js";
import { defFlops } from "../kernel/flops.js";
import { materializeProgramReductions } from "../../passes/materialize-reductions.js";
import { lowerToKernels, withoutDonation } from "../kernel/lower.js";
import type { Kernel } from "../kernel/types.js";
import { type BufferAccess, GATHER_STATUS_BINDING } from "./emit-expr.js";
import type { GatherSite } from "../../ir/gather.js";
import { kernelGathers } from "../wasm/emit-expr.js";
import { emitLoopKernel, emitSequentialKernel, partialsBuffer } from "./emit-loops.js";
import { emitMatmulKernel } from "./emit-matmul.js";
import { poolBuffers } from "./pool.js";
import { wgslBuffer } from "./names.js";
import { type DeclaredBinding, fitsWorkgroup, wgslElement } from "./shader.js";
import { COMPATIBILITY_LIMITS, type WgslBuffer, type WgslDispatch, type WgslLimits, type WgslProgram } from "./types.js";

/** Options of {@link emitWgsl}. */
export interface EmitWgslOptions {
  /** The device limits to stay within (default: WebGPU's compatibility limits, which every device meets). */
  readonly limits?: WgslLimits;
}

/**
 * The tensors of a program that WGSL cannot hold (float64), as diagnostics.
 *
 * @example
 * ```ts
 * wgslTypeProblems(program).length; // 0 when every tensor is f32 or i32
 * ```
 */
export function wgslTypeProblems(program: Program): Diagnostic[] {
  return program.tensors.filter((t) => t.dtype === "f64").map((t) => ({
    code: "TNS0902" as const, severity: "error" as const, notes: [],
    message: `tensor '${t.name}' is f64, and WGSL has no 64-bit floating-point type`,
    hint: "declare it f32 to run on WebGPU (the wgsl backend never narrows silently), or use the js or wasm backend for float64",
  }));
}

/**
 * Emits the dispatch plan of a program.
 *
 * @throws CompileError (TNS0902) for an f64 tensor; (TNS0611) for a tensor or grid beyond the limits
 * @example
 * ```ts
 * const plan = emitWgsl(parseProgramText("input A: f32[4]\noutput B: f32[4] = [i:4] exp(A[i])"));
 * plan.dispatches[0].form; // "elementwise"
 * ```
 */
export function emitWgsl(program: Program, options: EmitWgslOptions = {}): WgslProgram {
  const limits = options.limits ?? COMPATIBILITY_LIMITS;
  const problems = wgslTypeProblems(program);
  if (problems.length > 0) throw new CompileError(problems);
  const materialized = materializeProgramReductions(program);
  const kp = lowerToKernels(withoutDonation(materialized), { outputsOuter: true });
  const defs = new Map(materialized.tensors.filter((t): t is DefNode => t.role === "def").map((t) => [t.name, t]));
  const dtypes = new Map<string, DType>(kp.buffers.map((b) => [b.name, b.dtype]));
  const buffers: WgslBuffer[] = kp.buffers.map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape, size: b.size, role: b.role }));
  checkBufferSizes(buffers, limits);
  const gathers = kp.kernels.some((k) => kernelGathers(k));
  const status = gathers ? uniqueName("gather_status", buffers) : null;
  if (status !== null) buffers.push({ name: status, dtype: "i32", shape: [2], size: 2, role: "status" });
  const sites: GatherSite[] = [];
  const dispatches: WgslDispatch[] = [];
  kp.kernels.forEach((kernel, position) => {
    const def = defs.get(kernel.target)!;
    const bound = bindKernel(kernel, dtypes, buffers, limits, kernelGathers(kernel) ? status : null);
    const { bindings, pack } = bound;
    const io = { ...bound.io, gatherSites: sites };
    const input = { kernel, position, io, bindings, limits, flops: defFlops(def) };
    const matmul = (kernel.contraction ?? kernel.epilogueContraction) !== undefined && dtypes.get(kernel.target) === "f32";
    const outputs = def.indices.map((v) => ({ var: v, extent: def.ranges[v]! }));
    const made = kernel.sequential !== undefined
      ? [emitSequentialKernel({ ...input, outputs })]
      : matmul ? [emitMatmulKernel(input)] : emitLoopKernel({ ...input, outputs });
    for (const d of made) {
      if (d.bindings.some((b) => b.buffer === partialsBuffer(kernel.target)) && !buffers.some((b) => b.name === partialsBuffer(kernel.target))) {
        const words = d.form === "reduce-partials" ? d.workgroups[0] * d.workgroups[1] * d.workgroups[2] : 0;
        buffers.push({ name: partialsBuffer(kernel.target), dtype: "f32", shape: [words], size: words, role: "scratch" });
      }
      if (!fitsWorkgroup(d.workgroupSize, limits)) throw new InternalCompilerError(`workgroup ${d.workgroupSize.join(" × ")} of ${d.name} beyond the limits`);
      dispatches.push(pack ? { ...d, pack } : d);
    }
  });
  const { storage, home } = poolBuffers(buffers, dispatches);
  return {
    format: "tns-wgsl", version: 1, buffers, dispatches, inputs: [...kp.inputs], outputs: [...kp.outputs], limits, storage, home,
    ...(status !== null ? { gather: { buffer: status, sites } } : {}),
  };
}

function uniqueName(base: string, buffers: readonly WgslBuffer[]): string {
  let name = base;
  for (let k = 1; buffers.some((b) => b.name === name); k++) name = `${base}_${k}`;
  return name;
}

/**
 * A kernel's bindings: its target read-write, the buffers it reads
 * read-only, and, past the limit of storage buffers per shader stage, the
 * remaining reads through one packed binding `pk`.
 */
function bindKernel(
  kernel: Kernel, dtypes: ReadonlyMap<string, DType>, buffers: readonly WgslBuffer[], limits: WgslLimits, status: string | null,
): { io: BufferAccess; bindings: DeclaredBinding[]; pack?: WgslDispatch["pack"] } {
  const reads = kernel.reads.filter((r) => r !== kernel.target);
  // Besides the reads: the target, and up to two more (a tiled product's vec4 views of its
  // operands, a long reduction's scratch buffer); with a pack, its binding too; with gathers, the status.
  const max = limits.maxStorageBuffersPerShaderStage - (status === null ? 0 : 1);
  const direct = reads.length <= max - 3 ? reads : reads.slice(0, Math.max(0, max - 4));
  const packedNames = reads.filter((r) => !direct.includes(r));
  const bindings: DeclaredBinding[] = [];
  for (const r of direct) {
    bindings.push({ binding: bindings.length, buffer: r, access: "read", wgslName: wgslBuffer(r), element: wgslElement(dtypes.get(r)!) });
  }
  let pack: WgslDispatch["pack"];
  const packed = new Map<string, number>();
  if (packedNames.length > 0) {
    let words = 0;
    const parts = packedNames.map((name) => {
      const offset = words;
      words += buffers.find((b) => b.name === name)!.size;
      packed.set(name, offset);
      return { buffer: name, offset };
    });
    pack = { words, parts };
    bindings.push({ binding: bindings.length, buffer: "#pack", access: "read", wgslName: "pk", element: "u32" });
  }
  if (status !== null) bindings.push({ binding: bindings.length, buffer: status, access: "read_write", wgslName: GATHER_STATUS_BINDING, element: "i32" });
  const t = kernel.target;
  bindings.push({ binding: bindings.length, buffer: t, access: "read_write", wgslName: wgslBuffer(t), element: wgslElement(dtypes.get(t)!) });
  const sizes = new Map(buffers.map((b) => [b.name, b.size]));
  return { io: { dtypes, sizes, ...(packed.size > 0 ? { packed } : {}) }, bindings, ...(pack ? { pack } : {}) };
}

function checkBufferSizes(buffers: readonly WgslBuffer[], limits: WgslLimits): void {
  const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const problems: Diagnostic[] = buffers.filter((b) => b.size * 4 > max).map((b) => ({
    code: "TNS0611" as const, severity: "error" as const, notes: [],
    message: `tensor '${b.name}' needs ${mib(b.size * 4)}, more than one WebGPU storage binding of this device holds (${mib(max)})`,
    hint: "use smaller sizes, a device with larger limits, or the js or wasm backend",
  }));
  if (problems.length > 0) throw new CompileError(problems);
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
