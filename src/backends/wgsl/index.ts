/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend: every kernel a WGSL compute shader (emit.ts), run on a
 * `GPUDevice` by the runner (runner.ts). GPU work is asynchronous, so its
 * executables run through `runAsync`; `run` throws an error that says so.
 *
 *     const wgsl = await wgslBackend();                // Dawn in Node, navigator.gpu in a page
 *     const { executable } = wgsl.compile(program);
 *     const { C } = await executable.runAsync!({ A, B });
 */
import { gatherRangeError } from "../../ir/gather.js";
import { CompileError, type Diagnostic, InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { Program } from "../../ir/types.js";
import { checkInputs, type Executable, type InputSpec, keptInputBuffers, type RunOptions } from "../../runtime/executable.js";
import { Tensor } from "../../runtime/tensor.js";
import type { Backend } from "../backend.js";
import { deviceLimits, requestWgslDevice, type WgslDevice } from "./device.js";
import { emitWgsl } from "./emit.js";
import { wgslMemoryPlan } from "./pool.js";
import { createWgslRunner, type WgslData, type WgslRunner } from "./runner.js";
import type { WgslProgram } from "./types.js";

export { emitWgsl, wgslTypeProblems, type EmitWgslOptions } from "./emit.js";
export { createWgslRunner, type WgslData, type WgslRunner } from "./runner.js";
export { deviceLimits, requestWgslDevice, type WgslDevice } from "./device.js";
export { poolBuffers, wgslMemoryPlan, type BufferPool } from "./pool.js";
export { COMPATIBILITY_LIMITS, type WgslBinding, type WgslBuffer, type WgslDispatch, type WgslKernelForm, type WgslLimits, type WgslProgram } from "./types.js";

/** Options of {@link wgslBackend}. */
export interface WgslBackendOptions {
  /** The device to run on (default: this host's, see {@link requestWgslDevice}; shared by every backend made without one). */
  readonly device?: GPUDevice;
}

/** An executable of the wgsl backend: {@link Executable} with the GPU time of its last run. */
export interface WgslExecutable extends Executable {
  /** Nanoseconds the last run's dispatches took on the GPU (timestamp queries), or null where the adapter cannot time them. */
  lastGpuNanoseconds(): number | null;
  /** The plan it runs. */
  readonly plan: WgslProgram;
}

let sharedDevice: Promise<WgslDevice> | null = null;

/**
 * This host's device, requested once per process and shared.
 *
 * @throws CompileError (TNS0610) when there is no WebGPU adapter
 */
export function defaultWgslDevice(): Promise<WgslDevice> {
  sharedDevice ??= requestWgslDevice().catch((e: unknown) => {
    sharedDevice = null;
    throw e;
  });
  return sharedDevice;
}

/**
 * The WebGPU backend on a device (this host's by default). Its `code` is
 * every dispatch's WGSL, in order; its plans use the device's limits.
 *
 * @throws CompileError (TNS0610) when no device is given and the host has no WebGPU adapter
 * @example
 * ```ts
 * const wgsl = await wgslBackend();
 * const exe = wgsl.compile(program).executable;
 * const out = await exe.runAsync!({ A, B });
 * ```
 */
export async function wgslBackend(options: WgslBackendOptions = {}): Promise<Backend> {
  return wgslBackendOn(options.device ?? (await defaultWgslDevice()).device);
}

/**
 * The WebGPU backend on a given device, made synchronously.
 *
 * @example
 * ```ts
 * wgslBackendOn(device).compile(program).code.includes("@compute"); // true
 * ```
 */
export function wgslBackendOn(device: GPUDevice): Backend {
  const limits = deviceLimits(device);
  // The compiler asks for a program's memory plan and then compiles it: emit its shaders once.
  const plans = new WeakMap<Program, WgslProgram>();
  const planOf = (program: Program): WgslProgram => {
    let plan = plans.get(program);
    if (plan === undefined) {
      plan = emitWgsl(program, { limits });
      plans.set(program, plan);
    }
    return plan;
  };
  return {
    name: "wgsl",
    compile(program: Program) {
      const plan = planOf(program);
      const code = plan.dispatches.map((d) => d.code).join("\n");
      return { code, executable: wgslExecutable(plan, program, device) };
    },
    // The device memory a run allocates, intermediates pooled: what --memory-budget holds on this backend.
    memoryPlan: (program: Program) => wgslMemoryPlan(planOf(program)),
  };
}

const diag = (code: Diagnostic["code"], message: string, hint?: string): Diagnostic =>
  ({ code, severity: "error", message, notes: [], ...(hint ? { hint } : {}) });

function wgslExecutable(plan: WgslProgram, program: Program, device: GPUDevice): WgslExecutable {
  const specs: InputSpec[] = plan.buffers.filter((b) => b.role === "input").map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape }));
  const weights: Record<string, Float64Array> = {};
  const missing: string[] = [];
  for (const t of program.tensors) {
    if (t.role !== "weight") continue;
    if (t.data) weights[t.name] = t.data;
    else missing.push(t.name);
  }
  let runner: Promise<WgslRunner> | null = null;
  let inFlight = false;
  let gpuTime: number | null = null;
  let measured: number | null = null;
  let disposeAfterRun = false;
  const release = (): void => {
    const r = runner;
    runner = null;
    disposeAfterRun = false;
    void r?.then((x) => x.destroy(), () => undefined);
  };
  const start = (): Promise<WgslRunner> => createWgslRunner(device, plan, weights).catch((e: unknown) => {
    runner = null;
    throw new InternalCompilerError(e instanceof Error ? e.message : String(e));
  });
  return {
    plan,
    run(): Record<string, Tensor> {
      throw new Error("the wgsl backend runs on the GPU, asynchronously: use runAsync() (CompiledProgram.runAsync or Executable.runAsync)");
    },
    // Outputs are always fresh arrays read back from the GPU, whatever `outputs` asks for.
    async runAsync(inputs: Record<string, Tensor> = {}, _options: RunOptions = {}): Promise<Record<string, Tensor>> {
      if (inFlight) throw new CompileError([diag("TNS0607", "a run of this program is in progress", "await the earlier runAsync() first")]);
      if (missing.length > 0) {
        throw new CompileError(missing.map((w) => diag("TNS0603", `weight '${w}' has no data`, "pass it with --weights FILE.npz or the `weights` option")));
      }
      checkInputs(specs, inputs);
      inFlight = true;
      try {
        runner ??= start();
        const ready = await runner;
        const data: Record<string, WgslData> = {};
        for (const s of specs) {
          const t = inputs[s.name]!;
          data[s.name] = s.dtype === "i32"
            ? (t.data instanceof Int32Array ? t.data : Int32Array.from(t.data))
            : (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
        }
        const { outputs, gpuNanoseconds, gatherError } = await ready.run(data);
        if (gatherError !== null) throw gatherRangeError(plan.gather!.sites[gatherError.site]!, gatherError.index);
        gpuTime = gpuNanoseconds;
        measured = ready.storageBytes;
        const out: Record<string, Tensor> = {};
        for (const name of plan.outputs) {
          const b = plan.buffers.find((x) => x.name === name)!;
          out[name] = new Tensor(b.dtype, b.shape, outputs[name]!);
        }
        return out;
      } finally {
        inFlight = false;
        if (disposeAfterRun) release();
      }
    },
    inputBuffer: keptInputBuffers(specs),
    lastGpuNanoseconds: () => gpuTime,
    // What a run holds on the device: the storage buffers the runner created (sizes as the device reports them), kept across runs.
    measuredPeakBytes: () => measured,
    dispose() {
      if (inFlight) disposeAfterRun = true;
      else release();
    },
  };
}
