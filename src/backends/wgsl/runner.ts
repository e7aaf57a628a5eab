/**
 * Running a WGSL plan on a `GPUDevice`: the one implementation, used by the
 * in-process executable and, as source text, by the standalone loader that
 * `tns compile --target wgsl` writes. It is therefore a single
 * self-contained function: no imports, no globals beyond the WebGPU
 * objects it is given (usage and map-mode flags are spelled as numbers).
 *
 * Creation (once per plan): one storage buffer per buffer of the plan,
 * weights uploaded, every shader module and pipeline created inside a
 * validation error scope (a failure quotes the offending WGSL line), bind
 * groups made, staging buffers for the outputs. A run: inputs written with
 * `queue.writeBuffer`, every dispatch recorded into one command encoder (a
 * compute pass, split only where a packed binding needs buffer copies),
 * outputs copied to the staging buffers, one submit, then mapped and read.
 * With the `timestamp-query` feature the passes are timed on the GPU.
 */
import type { WgslProgram } from "./types.js";

/** Element data of a run's inputs and outputs (row-major). */
export type WgslData = Float32Array | Int32Array;

/** What {@link createWgslRunner} returns. */
export interface WgslRunner {
  /** Runs the plan once; inputs by name, each of the input's element type and size. */
  run(inputs: Readonly<Record<string, WgslData>>): Promise<{
    outputs: Record<string, WgslData>;
    gpuNanoseconds: number | null;
    /** The first out-of-range gather index the run met (its site number in `plan.gather.sites`, and the index), or null. */
    gatherError: { site: number; index: number } | null;
  }>;
  /** Destroys every buffer the runner created (not the device). */
  destroy(): void;
  /**
   * Bytes of the storage buffers the runner created on the device (the
   * plan's buffers and packed bindings), as the device reports their sizes:
   * the device memory every run holds. Staging buffers for reading outputs
   * back (mappable, as large as the outputs) and timestamp buffers are not
   * counted.
   */
  readonly storageBytes: number;
  /** Warnings the shader compiler reported (none expected). */
  readonly warnings: readonly string[];
}

/**
 * Creates the buffers and pipelines of a plan on a device.
 *
 * @param weights data of the plan's weight buffers, by name (converted to their element type)
 * @throws Error naming the dispatch and quoting the WGSL line when a shader or pipeline fails to compile
 * @example
 * ```ts
 * const runner = await createWgslRunner(device, plan, {});
 * const { outputs } = await runner.run({ A: new Float32Array(16) });
 * ```
 */
export async function createWgslRunner(
  device: GPUDevice, plan: WgslProgram, weights: Readonly<Record<string, ArrayLike<number>>>,
): Promise<WgslRunner> {
  const STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1, QUERY_RESOLVE = 0x200, COMPUTE = 0x4, MAP_MODE_READ = 0x1;
  const arrayOf = (dtype: string): Float32ArrayConstructor | Int32ArrayConstructor => (dtype === "i32" ? Int32Array : Float32Array);
  const created: GPUBuffer[] = [];
  let storageBytes = 0;
  const make = (bytes: number, usage: number, label: string): GPUBuffer => {
    const b = device.createBuffer({ size: Math.max(4, bytes), usage, label });
    created.push(b);
    if ((usage & STORAGE) !== 0) storageBytes += b.size;
    return b;
  };
  // Intermediates share pooled GPU buffers (plan.storage); each is bound with its own size at offset 0.
  const storage = new Map<string, GPUBuffer>();
  for (const s of plan.storage) storage.set(s.name, make(s.bytes, STORAGE | COPY_SRC | COPY_DST, s.name));
  const buffers = new Map<string, GPUBuffer>();
  const sizes = new Map<string, number>();
  const dtypes = new Map(plan.buffers.map((b) => [b.name, b.dtype]));
  for (const b of plan.buffers) {
    buffers.set(b.name, storage.get(plan.home[b.name]!)!);
    sizes.set(b.name, Math.max(4, b.size * 4));
  }
  for (const b of plan.buffers) {
    if (b.role !== "weight") continue;
    const data = weights[b.name];
    if (!data || data.length !== b.size) throw new Error(`weight '${b.name}' needs ${b.size} values`);
    const typed = arrayOf(b.dtype).from(data as ArrayLike<number>);
    device.queue.writeBuffer(buffers.get(b.name)!, 0, typed.buffer, typed.byteOffset, typed.byteLength);
  }

  const warnings: string[] = [];
  const quote = (code: string, line: number): string => {
    const lines = code.split("\n");
    return lines.slice(Math.max(0, line - 2), line + 1).map((l, k) => `${String(Math.max(1, line - 1) + k).padStart(5)} | ${l}`).join("\n");
  };
  const steps: { dispatch: WgslProgram["dispatches"][number]; pipeline: GPUComputePipeline; group: GPUBindGroup; pack: GPUBuffer | null }[] = [];
  for (const d of plan.dispatches) {
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: d.code, label: d.name });
    const info = await module.getCompilationInfo();
    const layout = device.createBindGroupLayout({
      label: d.name,
      entries: d.bindings.map((b) => ({
        binding: b.binding, visibility: COMPUTE, buffer: { type: b.access === "read" ? "read-only-storage" as const : "storage" as const },
      })),
    });
    const pipeline = device.createComputePipeline({
      label: d.name, layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: "main" },
    });
    // In whole 16-byte units, as the memory plan counts it (wgslMemoryPlan).
    const pack = d.pack ? make(Math.ceil(d.pack.words / 4) * 16, STORAGE | COPY_DST, `${d.name} pack`) : null;
    const group = device.createBindGroup({
      label: d.name, layout,
      entries: d.bindings.map((b) => ({
        binding: b.binding,
        resource: b.buffer === "#pack" ? { buffer: pack! } : { buffer: buffers.get(b.buffer)!, offset: 0, size: sizes.get(b.buffer)! },
      })),
    });
    const error = await device.popErrorScope();
    const messages = info.messages.map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}\n${quote(d.code, m.lineNum)}`);
    warnings.push(...info.messages.filter((m) => m.type !== "error").map((m) => `${d.name}: ${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`));
    if (error || info.messages.some((m) => m.type === "error")) {
      throw new Error(`the WGSL of ${d.name} does not compile: ${error?.message ?? ""}\n${messages.join("\n")}`);
    }
    steps.push({ dispatch: d, pipeline, group, pack });
  }

  const staging = new Map<string, GPUBuffer>();
  const statusName = plan.gather?.buffer ?? null;
  for (const name of statusName === null ? plan.outputs : [...plan.outputs, statusName]) {
    const b = plan.buffers.find((x) => x.name === name)!;
    staging.set(name, make(b.size * 4, MAP_READ | COPY_DST, `${name} readback`));
  }
  const passes = 1 + plan.dispatches.filter((d, k) => k > 0 && d.pack).length;
  const timed = device.features.has("timestamp-query");
  const querySet = timed ? device.createQuerySet({ type: "timestamp", count: 2 * passes }) : null;
  const resolved = timed ? make(16 * passes, QUERY_RESOLVE | COPY_SRC, "timestamps") : null;
  const times = timed ? make(16 * passes, MAP_READ | COPY_DST, "timestamps readback") : null;
  let busy = false;

  return {
    warnings,
    async run(inputs) {
      if (busy) throw new Error("a run of this program is in progress: await it before the next");
      busy = true;
      try {
        for (const name of plan.inputs) {
          const size = sizes.get(name)! / 4;
          const data = inputs[name];
          if (!data || data.length !== size) throw new Error(`input '${name}' needs ${size} values`);
          const type = arrayOf(dtypes.get(name)!);
          const typed = data instanceof type ? data : type.from(data);
          device.queue.writeBuffer(buffers.get(name)!, 0, typed.buffer, typed.byteOffset, typed.byteLength);
        }
        if (statusName !== null) device.queue.writeBuffer(buffers.get(statusName)!, 0, new Int32Array(2));
        const encoder = device.createCommandEncoder();
        let pass: GPUComputePassEncoder | null = null;
        let passIndex = 0;
        const begin = (): GPUComputePassEncoder => encoder.beginComputePass(querySet
          ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * passIndex, endOfPassWriteIndex: 2 * passIndex + 1 } }
          : {});
        for (const s of steps) {
          if (s.pack && s.dispatch.pack) {
            if (pass) {
              pass.end();
              pass = null;
              passIndex++;
            }
            for (const part of s.dispatch.pack.parts) {
              encoder.copyBufferToBuffer(buffers.get(part.buffer)!, 0, s.pack, part.offset * 4, sizes.get(part.buffer)!);
            }
          }
          pass ??= begin();
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.group);
          pass.dispatchWorkgroups(s.dispatch.workgroups[0], s.dispatch.workgroups[1], s.dispatch.workgroups[2]);
        }
        if (pass === null && querySet) pass = begin();
        pass?.end();
        for (const [name, target] of staging) encoder.copyBufferToBuffer(buffers.get(name)!, 0, target, 0, sizes.get(name)!);
        if (querySet && resolved && times) {
          encoder.resolveQuerySet(querySet, 0, 2 * passes, resolved, 0);
          encoder.copyBufferToBuffer(resolved, 0, times, 0, 16 * passes);
        }
        device.queue.submit([encoder.finish()]);
        const reads = [...staging.values(), ...(times ? [times] : [])];
        await Promise.all(reads.map((b) => b.mapAsync(MAP_MODE_READ)));
        const outputs: Record<string, WgslData> = {};
        let gatherError: { site: number; index: number } | null = null;
        for (const [name, target] of staging) {
          const values = new (arrayOf(dtypes.get(name)!))(target.getMappedRange().slice(0, sizes.get(name)!));
          target.unmap();
          if (name !== statusName) outputs[name] = values;
          else if (values[0] !== 0) gatherError = { site: values[0]! - 1, index: values[1]! };
        }
        let gpuNanoseconds: number | null = null;
        if (times) {
          const stamps = new BigUint64Array(times.getMappedRange().slice(0));
          times.unmap();
          // A driver may reset its timer between passes: a pass that ends before it begins gives no time at all.
          let total = 0;
          for (let p = 0; p <= passIndex && total >= 0; p++) total = stamps[2 * p + 1]! >= stamps[2 * p]! ? total + Number(stamps[2 * p + 1]! - stamps[2 * p]!) : -1;
          gpuNanoseconds = total >= 0 ? total : null;
        }
        return { outputs, gpuNanoseconds, gatherError };
      } finally {
        busy = false;
      }
    },
    storageBytes,
    destroy() {
      for (const b of created) b.destroy();
      querySet?.destroy();
      created.length = 0;
    },
  };
}
